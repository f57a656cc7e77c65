"""Powder offsets and the radical library (issue 17).

* an axial g tensor's powder offsets fill exactly the analytic span
  [g_perp, g_par] mu_B B0 / h - omega_e / 2 pi and their distribution over 10^5 draws
  matches the analytic powder line shape (Kolmogorov-Smirnov and chi-square, fixed seed);
* orientations are uniform on the sphere; a 14N hyperfine coupling splits the line into
  three manifolds;
* every library entry loads, with a DOI for each number; ``dnpsim radicals`` lists them;
* a TEMPO spec with powder offsets runs through ``dnpsim run`` and its resolved spec
  (offsets and orientations written out) reruns bit-identically;
* bad inputs exit 2 naming the field.
"""

from __future__ import annotations

import copy
import json
import re

import numpy as np
import pytest
from scipy import stats

import dnpsim
from dnpsim.cli import main
from dnpsim.errors import SpecError
from dnpsim.sample.powder import (axial_offset_cdf, axial_offset_density, axial_offset_span, effective_g,
                                  powder_offsets, random_orientations)
from dnpsim.sample.radicals import Hyperfine, dipolar_coupling_hz, load_radicals, radical
from dnpsim.spec import complete_spec, resolve_spec
from dnpsim.units import H_PLANCK, MU_B

B0 = 3.35
LARMOR = 2.0045 * MU_B * B0 / H_PLANCK
DOI = re.compile(r"^10\.\d{4,9}/\S+$")


def _axial_draws(g_perp, g_par, n=100_000, seed=7):
    return powder_offsets(n, (g_perp, g_perp, g_par), (), B0, LARMOR, np.random.default_rng(seed))[0]


@pytest.mark.parametrize("g_perp, g_par", [(2.0061, 2.0021), (2.0021, 2.0061)], ids=["g_par<g_perp", "g_par>g_perp"])
def test_axial_powder_offsets_fill_exactly_the_analytic_span(g_perp, g_par):
    offsets = _axial_draws(g_perp, g_par)
    low, high = axial_offset_span(g_perp, g_par, B0, LARMOR)
    span = high - low
    assert span == pytest.approx(abs(g_par - g_perp) * MU_B * B0 / H_PLANCK)
    tol = 1e-9 * span  # rounding of g_eff mu_B B0 / h - omega_e
    assert offsets.min() >= low - tol and offsets.max() <= high + tol
    # filled: both edges are reached (the g_par edge within 2 (1 - max |cos theta|) of the span)
    assert offsets.min() - low < 1e-3 * span and high - offsets.max() < 1e-3 * span


@pytest.mark.parametrize("g_perp, g_par", [(2.0061, 2.0021), (2.0021, 2.0061)], ids=["g_par<g_perp", "g_par>g_perp"])
def test_axial_powder_histogram_matches_the_analytic_line_shape(g_perp, g_par):
    offsets = _axial_draws(g_perp, g_par)
    cdf = lambda x: axial_offset_cdf(x, g_perp, g_par, B0, LARMOR)  # noqa: E731
    ks = stats.kstest(offsets, cdf)
    assert ks.pvalue > 1e-3, ks
    # chi-square over 40 bins of the span: expected counts from the analytic cdf
    low, high = axial_offset_span(g_perp, g_par, B0, LARMOR)
    edges = np.linspace(low, high, 41)
    observed, _ = np.histogram(offsets, edges)
    expected = offsets.size * np.diff(cdf(edges))
    chi2 = float(((observed - expected) ** 2 / expected).sum())
    assert stats.chi2.sf(chi2, df=edges.size - 2) > 1e-3, chi2
    # the density integrates to one and agrees with the histogram away from the divergence
    grid = np.linspace(low, high, 200_001)
    mids = 0.5 * (grid[1:] + grid[:-1])
    density = axial_offset_density(mids, g_perp, g_par, B0, LARMOR)
    assert float(np.sum(density * np.diff(grid))) == pytest.approx(1.0, abs=0.01)  # integrable divergence
    centers = 0.5 * (edges[1:] + edges[:-1])
    middle = slice(5, -5)
    predicted = axial_offset_density(centers, g_perp, g_par, B0, LARMOR) * offsets.size * np.diff(edges)
    assert np.allclose(observed[middle], predicted[middle], rtol=0.1)


def test_orientations_are_uniform_on_the_sphere():
    theta, phi = random_orientations(200_000, np.random.default_rng(3))
    cos = np.cos(theta)
    assert abs(cos.mean()) < 0.005 and cos.var() == pytest.approx(1 / 3, abs=0.005)
    assert phi.min() >= 0 and phi.max() < 2 * np.pi and phi.mean() == pytest.approx(np.pi, abs=0.02)
    assert stats.kstest(cos, stats.uniform(-1, 2).cdf).pvalue > 1e-3


def test_effective_g_along_the_principal_axes():
    g = (2.0094, 2.0061, 2.0021)
    theta = np.array([np.pi / 2, np.pi / 2, 0.0])
    phi = np.array([0.0, np.pi / 2, 0.0])
    assert np.allclose(effective_g(g, theta, phi), g)


def test_14n_hyperfine_gives_three_manifolds():
    # isotropic g, isotropic A: the line is exactly three lines at m_I A, m_I = -1, 0, 1
    a = 50e6
    nitrogen = Hyperfine("14N", (a, a, a))
    g = (2.0045,) * 3
    offsets = powder_offsets(3000, g, (nitrogen,), B0, LARMOR, np.random.default_rng(1))[0]
    lines = np.round(offsets / a, 6)
    values, counts = np.unique(lines, return_counts=True)
    assert np.allclose(values, [-1, 0, 1], atol=1e-6)
    assert np.all(np.abs(counts / 3000 - 1 / 3) < 0.04)
    # anisotropic TEMPO: three manifolds centred on -A_eff, 0, +A_eff; the m_I = 0 one spans the g powder only
    tempo = radical("TEMPO")
    rng = np.random.default_rng(2)
    offsets, theta, phi = powder_offsets(30_000, tempo.g, tempo.hyperfine, B0, LARMOR, rng)
    g_only = effective_g(tempo.g, theta, phi) * MU_B * B0 / H_PLANCK - LARMOR
    m = np.round((offsets - g_only) / 1e6, 6)
    shift = offsets - g_only
    assert np.all(np.abs(shift) <= 101e6 + 1) and np.sum(np.abs(shift) < 1e-3) == pytest.approx(10_000, rel=0.05)
    assert np.sum(shift > 17e6) == pytest.approx(10_000, rel=0.05) and np.sum(shift < -17e6) == pytest.approx(10_000, rel=0.05)
    assert m.size == 30_000


def test_library_entries_load_with_a_source_for_every_number():
    library = load_radicals()
    assert {"TEMPO", "TEMPOL", "4-oxo-TEMPO", "trityl OX063", "BDPA", "AMUPol", "TOTAPOL"} <= set(library)
    for name, entry in library.items():
        assert len(entry.g) == 3 and all(1.99 < g < 2.02 for g in entry.g), name
        assert DOI.match(entry.sources["g"]), name
        assert len(entry.sources["hyperfine"]) == len(entry.hyperfine)
        for source in entry.sources["hyperfine"]:
            assert DOI.match(source), name
        if entry.is_biradical:
            assert DOI.match(entry.sources["distance"]) and 1e-9 < entry.distance < 2e-9, name
            assert 10e6 < entry.dipolar_coupling < 60e6, name
            assert DOI.match(entry.sources["relative_orientation"]), name
    # D = 52.04 MHz nm^3 / r^3 for two free electrons
    assert dipolar_coupling_hz(1e-9, 2.00231930436) == pytest.approx(52.04e6, rel=1e-3)


@pytest.mark.parametrize("name, expected", [("tempo", "TEMPO"), ("TEMPONE", "4-oxo-TEMPO"), ("4-oxo-tempo", "4-oxo-TEMPO"),
                                            ("OX063", "trityl OX063"), ("amupol", "AMUPol"), ("4-hydroxy-TEMPO", "TEMPOL")])
def test_radical_names_and_aliases_are_case_insensitive(name, expected):
    assert radical(name).name == expected


def test_dnpsim_radicals_lists_every_entry(capsys):
    assert main(["radicals"]) == 0
    out = capsys.readouterr().out
    for name, entry in load_radicals().items():
        assert re.search(rf"^{re.escape(name)}\b", out, flags=re.M), name
        assert f"doi:{entry.sources['g']}" in out
    assert "dipolar coupling D" in out and "MHz" in out



def test_dnpsim_radicals_prints_the_bulk_coupling_per_mM(capsys):
    """Issue 17: the bulk mapping's U is linear in c, with the coefficient printed by
    `dnpsim radicals` (and filled in Radical.coupling_per_mM)."""
    from dnpsim.sample.dipolar import BULK_COUPLING_HZ_PER_MM, bulk_coupling_scale

    assert main(["radicals"]) == 0
    out = capsys.readouterr().out
    head = re.search(r"U / 2pi = ([\d.]+) kHz per mM \(([\d.]+) MHz per mM", out)
    assert head, out[:400]
    assert float(head.group(1)) * 1e3 == pytest.approx(bulk_coupling_scale(1.0), abs=5.0)
    assert float(head.group(2)) * 1e6 == pytest.approx(bulk_coupling_scale(1.0), abs=5.0)
    assert bulk_coupling_scale(40.0) == pytest.approx(40 * float(head.group(2)) * 1e6, rel=1e-4)  # linear in c
    per_entry = [float(x) for x in re.findall(r"coupling per mM \(bulk mapping, U / 2pi / c\): ([\d.]+) kHz", out)]
    assert len(per_entry) == len(load_radicals())
    for entry in load_radicals().values():
        assert entry.coupling_per_mM == BULK_COUPLING_HZ_PER_MM
    assert all(v * 1e3 == pytest.approx(BULK_COUPLING_HZ_PER_MM, abs=5.0) for v in per_entry)

TEMPO_SPEC = {
    "model": {"kind": "dipolar_electrons", "field": "3.35 T", "n_electrons": 6, "seed": 3,
              "offsets": {"distribution": "powder", "radical": "TEMPO"},
              "couplings": {"distribution": "gaussian", "scale": "5 MHz"},
              "nuclei": {"larmor": "142.6 MHz", "hyperfine": {"distribution": "gaussian", "scale": "1 MHz"}}},
    "environment": {"temperature": "1.2 K", "mw_frequency": "94.05 GHz", "mw_amplitude": "25 kHz"},
}


def _same(a: dict, b: dict) -> None:
    for d in (a, b):
        d.pop("wall_time", None), d.pop("diag_time", None)
    assert a == b


def test_tempo_powder_spec_runs_and_its_resolved_spec_reruns_bit_identically(tmp_path):
    spec = tmp_path / "tempo.json"
    spec.write_text(json.dumps(TEMPO_SPEC))
    out = tmp_path / "r1.json"
    assert main(["run", str(spec), "-o", str(out), "-q"]) == 0
    first = json.loads(out.read_text())
    model = first["spec"]["model"]
    assert len(model["offsets"]) == 6 and len(model["orientations"]) == 6 and model["field"] == 3.35
    tempo = radical("TEMPO")
    assert model["electron_larmor"] == pytest.approx(tempo.g_iso * MU_B * 3.35 / H_PLANCK, rel=1e-12)
    # every offset within the TEMPO powder span (g and 14N manifolds)
    scale = MU_B * 3.35 / H_PLANCK
    low = min(tempo.g) * scale - model["electron_larmor"] - 101e6
    high = max(tempo.g) * scale - model["electron_larmor"] + 101e6
    assert all(low <= o <= high for o in model["offsets"])
    # the orientations reproduce the offsets up to the m_I A_eff of the nitrogen
    theta, phi = np.array(model["orientations"]).T
    g_part = effective_g(tempo.g, theta, phi) * scale - model["electron_larmor"]
    assert np.all(np.abs(np.array(model["offsets"]) - g_part) <= 101e6 + 1)
    resolved = tmp_path / "resolved.json"
    resolved.write_text(json.dumps(first["spec"]))
    out2 = tmp_path / "r2.json"
    assert main(["run", str(resolved), "-o", str(out2), "-q"]) == 0
    _same(first, json.loads(out2.read_text()))


def test_spec_defined_radical_and_complete_spec():
    spec = copy.deepcopy(TEMPO_SPEC)
    spec["model"]["offsets"] = {"distribution": "powder", "g": [2.0094, 2.0061, 2.0021],
                                "hyperfine": {"species": "14N", "principal": ["18 MHz", "18 MHz", "101 MHz"]}}
    own = resolve_spec(spec)
    library = resolve_spec(TEMPO_SPEC)
    np.testing.assert_array_equal(own.offsets, library.offsets)  # same numbers, same draws
    completed = complete_spec(spec)
    assert completed["model"]["offsets"] == {"distribution": "powder", "g": [2.0094, 2.0061, 2.0021],
                                             "hyperfine": [{"species": "14N", "principal": [18e6, 18e6, 101e6],
                                                            "count": 1}]}
    assert "orientations" not in completed["model"]
    np.testing.assert_array_equal(resolve_spec(completed).offsets, own.offsets)
    assert complete_spec(TEMPO_SPEC)["model"]["offsets"] == {"distribution": "powder", "radical": "TEMPO"}
    # model.electron_larmor, when given, is the frame of the offsets
    framed = copy.deepcopy(TEMPO_SPEC)
    framed["model"]["electron_larmor"] = "94 GHz"
    shifted = resolve_spec(framed)
    np.testing.assert_allclose(shifted.offsets - library.offsets, library.electron_larmor - 94e9, rtol=0, atol=1e-3)


def _with(spec: dict, key: str, value) -> dict:
    out = copy.deepcopy(spec)
    node = out
    *path, last = key.split(".")
    for part in path:
        node = node[part]
    if value is None:
        del node[last]
    else:
        node[last] = value
    return out


@pytest.mark.parametrize("key, value, field", [
    ("model.offsets", {"distribution": "powder", "radical": "TEMPOX"}, "model.offsets.radical"),
    ("model.field", None, "model.field"),
    ("model.offsets", {"distribution": "powder", "g": [2.0, 2.0]}, "model.offsets.g"),
    ("model.offsets", {"distribution": "powder"}, "model.offsets.radical"),
    ("model.offsets", {"distribution": "powder", "radical": "TEMPO", "g": [2.0, 2.0, 2.0]}, "model.offsets.g"),
    ("model.offsets", {"distribution": "powder", "g": [2.0, 2.0, 2.0], "hyperfine": {"species": "99X",
                                                                                    "principal": [1, 1, 1]}},
     "model.offsets.hyperfine.species"),
    ("model.offsets", {"distribution": "powder", "g": [2.0, 2.0, 2.0], "hyperfine": {"species": "1H",
                                                                                    "principal": [1, 1]}},
     "model.offsets.hyperfine.principal"),
    ("model.offsets", {"distribution": "powder", "radical": "TEMPO", "width": 1}, "model.offsets.width"),
    ("model.field", "3.35 GHz", "model.field"),
    ("model.orientations", [[0.0, 0.0]] * 6, "model.orientations"),
])
def test_bad_powder_inputs_exit_2_naming_the_field(tmp_path, capsys, key, value, field):
    spec = tmp_path / "bad.json"
    spec.write_text(json.dumps(_with(TEMPO_SPEC, key, value)))
    out = tmp_path / "r.json"
    assert main(["run", str(spec), "-o", str(out), "-q"]) == 2
    assert f"{field}" in capsys.readouterr().err
    assert not out.exists()
    with pytest.raises(SpecError) as info:
        dnpsim.spec.validate_spec(_with(TEMPO_SPEC, key, value))
    assert info.value.field == field


def test_orientations_with_written_out_offsets_are_checked():
    spec = copy.deepcopy(TEMPO_SPEC)
    spec["model"]["offsets"] = [0.0] * 6
    spec["model"]["electron_larmor"] = "94 GHz"
    spec["model"]["orientations"] = [[0.0, 1.0]] * 5
    with pytest.raises(SpecError, match="6 \\[theta, phi\\] pairs") as info:
        resolve_spec(spec)
    assert info.value.field == "model.orientations"
