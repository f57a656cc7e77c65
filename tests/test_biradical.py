"""Biradicals in the cross-effect engine (issue 17): ``model.biradical = "AMUPol"``
draws an orientation, gives each electron its offset from its own g and 14N tensors,
and D from the e-e distance and angle.  The D mapping is checked against the secular
part of a brute-force two-spin point-dipole Hamiltonian."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest
from scipy import stats

import dnpsim
from dnpsim.cli import main
from dnpsim.errors import SpecError
from dnpsim.models.cross_effect import biradical_couplings, euler_zyz
from dnpsim.sample.radicals import dipolar_coupling_hz, radical
from dnpsim.spec import complete_spec, resolve_spec
from dnpsim.units import H_PLANCK, MU_B

SPEC = {
    "model": {"kind": "cross_effect", "field": 9.4, "seed": 31, "biradical": "AMUPol",
              "nuclei": {"species": "1H", "hyperfine_pseudo_secular": [[5e5], [0.0]]}},
    "environment": {"mw_frequency": 263.7162e9, "mw_amplitude": 5e5, "temperature": 100.0, "t1e": 1e-3,
                    "t2e": 1e-6, "t1n": 10.0, "t2n": 1e-3},
    "method": {"kind": "lindblad"},
}


def spec(**changes) -> dict:
    out = copy.deepcopy(SPEC)
    for dotted, value in changes.items():
        node = out
        *parents, last = dotted.split("__")
        for p in parents:
            node = node[p]
        if value is None:
            node.pop(last, None)
        else:
            node[last] = value
    return out


# ---------------------------------------------------------------- the D mapping

def _spin_half():
    sx = np.array([[0, 1], [1, 0]], complex) / 2
    sy = np.array([[0, -1j], [1j, 0]], complex) / 2
    sz = np.array([[1, 0], [0, -1]], complex) / 2
    one = np.eye(2)
    s1 = [np.kron(s, one) for s in (sx, sy, sz)]
    s2 = [np.kron(one, s) for s in (sx, sy, sz)]
    return s1, s2


def _secular_brute_force(d: float, u: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The point-dipole Hamiltonian d [S1.S2 - 3 (S1.u)(S2.u)] of two spins 1/2 (u the
    e-e direction), truncated to the matrix elements between states of equal total
    projection on the field direction b; written in the eigenbasis of (S1 + S2).b
    ordered like the product basis along b."""
    s1, s2 = _spin_half()
    dot = lambda a, v: sum(x * c for x, c in zip(a, v))  # noqa: E731
    h = d * (sum(a @ c for a, c in zip(s1, s2)) - 3 * dot(s1, u) @ dot(s2, u))
    # the product basis quantized along b: rotate z -> b
    z = np.array([0.0, 0.0, 1.0])
    axis = np.cross(z, b)
    if np.linalg.norm(axis) < 1e-12:
        rot = np.eye(4)
    else:
        angle = math.acos(float(np.clip(b @ z, -1, 1)))
        n = axis / np.linalg.norm(axis)
        gen = sum(c * (a + e) for c, a, e in zip(n, s1, s2))
        w, v = np.linalg.eigh(gen)
        rot = v @ np.diag(np.exp(-1j * angle * w)) @ v.conj().T  # exp(-i angle n.S)
    h_b = rot.conj().T @ h @ rot  # in the basis quantized along b
    m = np.array([1, 0, 0, -1])  # total projection of |uu>, |ud>, |du>, |dd>
    return np.where(m[:, None] == m[None, :], h_b, 0.0)


def _engine_form(D: float) -> np.ndarray:
    s1, s2 = _spin_half()
    return D * (3 * s1[2] @ s2[2] - sum(a @ c for a, c in zip(s1, s2)))


@pytest.mark.parametrize("theta, phi", [(0.0, 0.0), (90.0, 0.0), (54.7356, 10.0), (30.0, 200.0), (123.0, 77.0)])
def test_D_matches_the_secular_point_dipole_hamiltonian(theta, phi):
    """biradical_couplings' D, in H_SS = D (3 S1z S2z - S1.S2), equals the secular part
    of the full point-dipole Hamiltonian for B0 at (theta, phi) in moiety 1's frame."""
    entry = radical("AMUPol")
    d = dipolar_coupling_hz(entry.distance, entry.g_iso)
    u = np.array([1.0, 0.0, 0.0])
    _, D = biradical_couplings(entry, 9.4, 263e9, (theta, phi), [[0.0], [0.0]], u)
    t, p = math.radians(theta), math.radians(phi)
    b = np.array([math.sin(t) * math.cos(p), math.sin(t) * math.sin(p), math.cos(t)])
    brute = _secular_brute_force(d, u, b)
    assert np.allclose(_engine_form(D), brute, atol=1e-9 * d)
    cos = b @ u
    assert D == pytest.approx(d * (1 - 3 * cos**2) / 2, rel=1e-12)


def test_D_with_another_ee_direction_and_its_limits():
    entry = radical("TOTAPOL")
    d = dipolar_coupling_hz(entry.distance, entry.g_iso)
    assert d == pytest.approx(entry.dipolar_coupling)
    u = np.array([0.3, -0.5, 0.8])
    for theta, phi in [(20.0, 40.0), (100.0, 300.0)]:
        _, D = biradical_couplings(entry, 9.4, 263e9, (theta, phi), [[1.0], [-1.0]], u)
        t, p = math.radians(theta), math.radians(phi)
        b = np.array([math.sin(t) * math.cos(p), math.sin(t) * math.sin(p), math.cos(t)])
        assert np.allclose(_engine_form(D), _secular_brute_force(d, u / np.linalg.norm(u), b), atol=1e-9 * d)
    # B0 along the e-e vector: D = -d; perpendicular: D = d / 2
    assert biradical_couplings(entry, 9.4, 263e9, (90.0, 0.0), [[0.0], [0.0]])[1] == pytest.approx(-d)
    assert biradical_couplings(entry, 9.4, 263e9, (0.0, 0.0), [[0.0], [0.0]])[1] == pytest.approx(d / 2)


# ---------------------------------------------------------------- offsets

def test_offsets_follow_each_moietys_tensor():
    """With the library's 90 deg (z-y-z 0, 90, 0) relative orientation, B0 along z of
    moiety 1 is along -x of moiety 2 (R^T z = (-1, 0, 0)): electron 1 sees g_z and A_z,
    electron 2 g_x and A_x."""
    entry = radical("AMUPol")
    assert np.allclose(euler_zyz(0, math.pi / 2, 0).T @ [0, 0, 1], [-1, 0, 0])
    scale = MU_B * 9.4 / H_PLANCK
    gx, _, gz = entry.g
    ax, _, az = entry.hyperfine[0].principal
    offsets, _ = biradical_couplings(entry, 9.4, 263e9, (0.0, 0.0), [[1.0], [-1.0]])
    assert offsets[0] == pytest.approx(gz * scale + az - 263e9, abs=1.0)
    assert offsets[1] == pytest.approx(gx * scale - ax - 263e9, abs=1.0)


def test_orientation_draw_is_uniform_on_the_sphere():
    """cos theta and phi of the drawn B0 direction (moiety 1's frame) are uniform; the
    14N m_I take -1, 0, 1 equally often."""
    cos, phi, m = [], [], []
    for seed in range(300):
        table = resolve_spec(spec(model__seed=seed)).resolved_spec()["model"]["biradical"]
        cos.append(math.cos(math.radians(table["orientation"][0])))
        phi.append(table["orientation"][1])
        m.extend(x for row in table["nuclear_projections"] for x in row)
    assert stats.kstest(cos, "uniform", args=(-1, 2)).pvalue > 1e-3
    assert stats.kstest(phi, "uniform", args=(0, 360)).pvalue > 1e-3
    counts = [m.count(v) for v in (-1.0, 0.0, 1.0)]
    assert sum(counts) == 600 and stats.chisquare(counts).pvalue > 1e-3


# ---------------------------------------------------------------- specs

def test_resolved_spec_reruns_bit_for_bit_and_writes_what_was_drawn(tmp_path):
    first = dnpsim.run(spec())
    resolved = json.loads(json.dumps(first.parameters))
    model = resolved["model"]
    assert set(model["biradical"]) == {"radical", "orientation", "nuclear_projections", "ee_direction"}
    assert len(model["offsets"]) == 2 and isinstance(model["electron_coupling"], float)
    assert resolved["environment"]["mw_frequency"] == 263.7162e9
    again = dnpsim.run(resolved)
    assert np.array_equal(again.nuclear_polarization, first.nuclear_polarization)
    assert np.array_equal(again.electron_polarization, first.electron_polarization)
    # without the seed: the written orientation and projections are enough
    del resolved["model"]["seed"]
    assert np.array_equal(dnpsim.run(resolved).nuclear_polarization, first.nuclear_polarization)
    # the complete spec keeps the biradical as given (drawn per realization)
    complete = complete_spec(spec())
    assert complete["model"]["biradical"] == {"radical": "AMUPol", "ee_direction": [1.0, 0.0, 0.0]}
    assert "offsets" not in complete["model"] and "electron_coupling" not in complete["model"]


def test_amupol_and_totapol_specs_run():
    for name in ("AMUPol", "totapol"):
        r = dnpsim.run(spec(model__biradical={"radical": name}, model__seed=4))
        assert np.all(np.isfinite(r.nuclear_polarization)) and r.residual < 1e-10
    # the shipped seed is near the matching condition: a large positive enhancement
    r = dnpsim.run(spec())
    assert r.nuclear_polarization[0] > 0.02


def test_given_orientation_keeps_the_drawn_projections():
    drawn = resolve_spec(spec()).resolved_spec()["model"]["biradical"]
    given = resolve_spec(spec(model__biradical={"radical": "AMUPol", "orientation": [10.0, 20.0]}))
    table = given.resolved_spec()["model"]["biradical"]
    assert table["orientation"] == [10.0, 20.0]
    assert table["nuclear_projections"] == drawn["nuclear_projections"]


def test_sweep_stores_offsets_and_D_per_realization():
    setup = resolve_spec(spec())
    arrays = setup.drawn_arrays()
    assert arrays["offsets"][0] == ("electron",) and arrays["offsets"][1].shape == (2,)
    assert float(arrays["electron_coupling"][1]) == setup.model_values["D"]


BAD = [
    ({"model__biradical": "TEMPO"}, "model.biradical.radical"),
    ({"model__biradical": "nonesuch"}, "model.biradical.radical"),
    ({"model__biradical": 3}, "model.biradical"),
    ({"model__biradical": {"radical": "AMUPol", "tilt": 1}}, "model.biradical.tilt"),
    ({"model__biradical": {"orientation": [1.0, 2.0]}}, "model.biradical.radical"),
    ({"model__biradical": {"radical": "AMUPol", "orientation": [200.0, 0.0]}}, "model.biradical.orientation[0]"),
    ({"model__biradical": {"radical": "AMUPol", "orientation": [1.0]}}, "model.biradical.orientation"),
    ({"model__biradical": {"radical": "AMUPol", "nuclear_projections": [[2.0], [0.0]]}},
     "model.biradical.nuclear_projections[0][0]"),
    ({"model__biradical": {"radical": "AMUPol", "nuclear_projections": [[0.5], [0.0]]}},
     "model.biradical.nuclear_projections[0][0]"),
    ({"model__biradical": {"radical": "AMUPol", "ee_direction": [0, 0, 0]}}, "model.biradical.ee_direction"),
    ({"environment__mw_frequency": None}, "environment.mw_frequency"),
    ({"environment__mw_frequency": "3 K"}, "environment.mw_frequency"),
    ({"model__field": None}, "model.field"),
    ({"model__seed": None}, "model.seed"),
    ({"model__offsets": [0.0, 4e8]}, "model.offsets"),
    ({"model__electron_coupling": 1e6}, "model.electron_coupling"),
    ({"model__geometry": {"electron_positions": [[0, 0, 0], [1e-9, 0, 0]], "nuclear_positions": [[0, 0, 5e-10]]}},
     "model.geometry"),
    ({"model__biradical": None, "model__offsets": [0.0, 4e8], "model__electron_coupling": 1e5},
     "environment.mw_frequency"),
]


@pytest.mark.parametrize("changes, field", BAD, ids=[f for _, f in BAD])
def test_bad_biradical_specs_exit_2_naming_the_field(changes, field, tmp_path, capsys):
    with pytest.raises(SpecError) as info:
        resolve_spec(spec(**changes))
    assert info.value.field == field, info.value
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec(**changes)))
    assert main(["run", str(path), "--output", str(tmp_path / "r.json")]) == 2
    assert f"error: {field}:" in capsys.readouterr().err
    assert not (tmp_path / "r.json").exists()
