"""Sample inputs at a radical concentration (issue 17): random positions in a periodic
box, Eq. (4) dipolar couplings from them, the bulk (Gaussian) mapping U(c), the
hyperfine couplings of Eq. (5), and their spec keys."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest
from scipy import stats

import dnpsim
from dnpsim.cli import main
from dnpsim.sample.dipolar import (BULK_COUPLING_HZ_PER_MM, MEDIAN_ABS_NORMAL, bulk_coupling_scale,
                                   local_field_halfwidth, nuclear_hyperfine)
from dnpsim.sample.positions import (box_side, nearest_neighbour_distances, poisson_nearest_neighbour_cdf,
                                     random_positions)
from dnpsim.spec import complete_spec, resolve_spec

# independent constants (CODATA 2018), not the package's
MU0 = 1.25663706212e-6
HBAR = 1.054571817e-34
MU_B = 9.2740100783e-24
G_E = 2.00231930436256
GAMMA_E = G_E * MU_B / HBAR
AVOGADRO = 6.02214076e23

SPEC = {"model": {"kind": "dipolar_electrons", "electron_larmor": "93.9 GHz", "n_electrons": 4, "seed": 3,
                  "offsets": {"distribution": "equally_spaced", "half_width": "5 MHz"},
                  "couplings": {"distribution": "dipolar", "concentration": "40 mM"},
                  "nuclei": {"larmor": "20 MHz", "hyperfine": {"distribution": "gaussian", "scale": "1 MHz"}}},
        "environment": {"temperature": "1.2 K", "mw_frequency": "93.895 GHz", "mw_amplitude": "25 kHz"}}


def eq4(positions_nm, box_nm):
    """U_ij / 2 pi (Hz) = mu0 gamma_e^2 hbar (1 - 3 cos^2 theta) / (16 pi r^3) / 2 pi, minimum image."""
    p = np.asarray(positions_nm) * 1e-9
    box = box_nm * 1e-9
    n = len(p)
    out = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            if i != j:
                d = p[j] - p[i]
                d -= box * np.round(d / box)
                r = math.sqrt(d @ d)
                out[i, j] = MU0 * GAMMA_E**2 * HBAR * (1 - 3 * (d[2] / r) ** 2) / (16 * math.pi * r**3) / (2 * math.pi)
    return out


def test_nearest_neighbours_follow_the_poisson_law():
    c = 40.0  # mM = mol/m^3
    pos, side = random_positions(20000, c, np.random.default_rng(1))
    assert side == pytest.approx((20000 / (c * AVOGADRO)) ** (1 / 3), rel=1e-12)
    r = nearest_neighbour_distances(pos, side)
    n = c * AVOGADRO
    assert stats.kstest(r, lambda x: 1 - np.exp(-4 * np.pi * n * x**3 / 3)).pvalue > 0.01
    # the mean nearest-neighbour distance Gamma(4/3) (3 / (4 pi n))^(1/3), within 4 standard errors
    mean = math.gamma(4 / 3) * (3 / (4 * math.pi * n)) ** (1 / 3)
    assert abs(r.mean() - mean) < 4 * r.std() / math.sqrt(r.size)
    # a denser sample is the same law scaled by c^(-1/3)
    pos2, side2 = random_positions(20000, 8 * c, np.random.default_rng(1))
    assert side2 == pytest.approx(side / 2, rel=1e-12)
    assert stats.kstest(nearest_neighbour_distances(pos2, side2),
                        lambda x: poisson_nearest_neighbour_cdf(x, 8 * c)).pvalue > 0.01


def test_resolved_couplings_are_eq4_of_the_resolved_positions():
    spec = copy.deepcopy(SPEC)
    spec["model"]["n_electrons"] = 6
    spec["model"]["ising"] = "dipolar"
    resolved = resolve_spec(spec).resolved_spec()["model"]
    positions, box = np.array(resolved["positions"]), resolved["box"]
    assert positions.shape == (6, 3) and np.all((positions >= 0) & (positions < box))
    assert box == pytest.approx((6 / (40 * AVOGADRO)) ** (1 / 3) * 1e9, rel=1e-6)  # nm
    u = eq4(positions, box)
    # the engine's flip-flop coefficient is -U_ij, its Ising term 4 U_ij: Eq. (4) exactly
    np.testing.assert_allclose(resolved["couplings"], -u, rtol=1e-8)
    np.testing.assert_allclose(resolved["ising"], 4 * u, rtol=1e-8)
    # the same couplings from the written-out positions (no draw)
    again = copy.deepcopy(spec)
    again["model"].update(positions=resolved["positions"], box=box)
    again["model"]["seed"] = 99  # only the hyperfine is drawn now
    rerun = resolve_spec(again).resolved_spec()["model"]
    assert rerun["couplings"] == resolved["couplings"] and rerun["positions"] == resolved["positions"]


def test_bulk_mapping_is_linear_in_concentration():
    a = MU0 * GAMMA_E**2 * HBAR / (16 * math.pi)
    gamma_per_mm = 8 * math.pi**2 / (9 * math.sqrt(3)) * AVOGADRO * a / (2 * math.pi)
    assert local_field_halfwidth(1.0) == pytest.approx(gamma_per_mm, rel=1e-8)
    assert BULK_COUPLING_HZ_PER_MM == pytest.approx(gamma_per_mm / stats.norm.ppf(0.75), rel=1e-8)
    assert BULK_COUPLING_HZ_PER_MM == pytest.approx(58.84e3, rel=1e-3)  # the docs' number
    for c in (1.0, 15.0, 40.0, 200.0):
        assert bulk_coupling_scale(c) == pytest.approx(c * BULK_COUPLING_HZ_PER_MM, rel=1e-12)


def test_bulk_mapping_matches_a_direct_sum_over_a_large_random_sample():
    """The local field F_i = sum_j U_ij eps_j (eps_j = +-1) of a large periodic random
    sample is Cauchy with median |F| = Gamma; the Gaussian model's median |F| is z U."""
    c, n_spins, n_targets = 40.0, 40000, 2000
    rng = np.random.default_rng(7)
    pos, side = random_positions(n_spins, c, rng)
    eps = rng.choice([-1.0, 1.0], size=n_spins)
    a = MU0 * GAMMA_E**2 * HBAR / (16 * math.pi) / (2 * math.pi)
    fields = np.empty(n_targets)
    for start in range(0, n_targets, 25):
        idx = np.arange(start, start + 25)
        d = pos[None, :, :] - pos[idx, None, :]
        d -= side * np.round(d / side)
        r2 = np.einsum("ijk,ijk->ij", d, d)
        r2[np.arange(25), idx] = np.inf
        fields[idx] = (a * (1 - 3 * d[..., 2] ** 2 / r2) / r2**1.5) @ eps
    median = np.median(np.abs(fields))
    # standard error of the median of |Cauchy|: 1 / (2 f(Gamma) sqrt(M)), f(Gamma) = 1 / (pi Gamma)
    rel_error = math.pi / (2 * math.sqrt(n_targets))
    assert abs(median / local_field_halfwidth(c) - 1) < 4 * rel_error
    assert abs(median / (MEDIAN_ABS_NORMAL * bulk_coupling_scale(c)) - 1) < 4 * rel_error
    # and it is a Cauchy law, not a Gaussian one: the quartiles of F are -+ Gamma
    q1, q3 = np.quantile(fields, [0.25, 0.75])
    assert abs((q3 - q1) / 2 / local_field_halfwidth(c) - 1) < 5 * rel_error


def test_gaussian_concentration_draws_the_bulk_scale():
    spec = copy.deepcopy(SPEC)
    spec["model"]["couplings"] = {"distribution": "gaussian", "concentration": "40 mM"}
    by_c = resolve_spec(spec).resolved_spec()["model"]["couplings"]
    spec["model"]["couplings"] = {"distribution": "gaussian", "scale": bulk_coupling_scale(40.0)}
    np.testing.assert_allclose(by_c, resolve_spec(spec).resolved_spec()["model"]["couplings"], rtol=1e-12)
    assert complete_spec(spec)["model"]["couplings"]["distribution"] == "gaussian"


def test_dipolar_hyperfine_is_eq5():
    spec = copy.deepcopy(SPEC)
    spec["model"]["nuclei"] = {"larmor": "35.8 MHz", "hyperfine": {"distribution": "dipolar"}}
    model = resolve_spec(spec).resolved_spec()["model"]
    positions, box, nucleus = np.array(model["positions"]), model["box"], np.array(model["nuclei"]["position"])
    assert np.all((nucleus >= 0) & (nucleus < box))
    b0 = 93.9e9 * 2 * math.pi / GAMMA_E
    gamma_n = 2 * math.pi * 35.8e6 / b0
    expected = []
    for p in positions:
        d = (nucleus - p) * 1e-9
        d -= box * 1e-9 * np.round(d / (box * 1e-9))
        r = math.sqrt(d @ d)
        expected.append(MU0 * GAMMA_E * gamma_n * HBAR / (4 * math.pi * r**3) * (-3 * d[2] * d[0] / r**2) / (2 * math.pi))
    np.testing.assert_allclose(model["nuclei"]["hyperfine"], expected, rtol=1e-6)
    # 13C-like gamma_n at 1 nm, theta = 45 deg, phi = 0: |D| = 3/2 mu0 gamma_e gamma_n hbar / (4 pi r^3)
    d = nuclear_hyperfine(np.zeros((1, 3)), np.array([1e-9, 0, 1e-9]) / math.sqrt(2), 10.705e6)
    assert abs(d[0]) == pytest.approx(1.5 * MU0 * GAMMA_E * 2 * math.pi * 10.705e6 * HBAR / (4 * math.pi * 1e-27)
                                      / (2 * math.pi), rel=1e-6)


@pytest.mark.parametrize("couplings", [{"distribution": "dipolar", "concentration": "40 mM"},
                                       {"distribution": "gaussian", "concentration": "40 mM"}])
def test_each_mapping_runs_through_the_cli_and_reruns_bit_for_bit(tmp_path, couplings):
    spec = copy.deepcopy(SPEC)
    spec["model"]["couplings"] = couplings
    if couplings["distribution"] == "dipolar":
        spec["model"]["ising"] = "dipolar"
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    out = tmp_path / "result.json"
    assert main(["run", str(path), "--output", str(out), "-q"]) == 0
    first = json.loads(out.read_text())
    again = dnpsim.run(first["spec"]).to_dict()
    assert again["nuclear_polarization"] == first["nuclear_polarization"]
    assert again["electron_polarization"] == first["electron_polarization"]
    assert again["spec"]["model"] == first["spec"]["model"]
    if couplings["distribution"] == "dipolar":
        assert len(first["spec"]["model"]["positions"]) == 4 and first["spec"]["model"]["box"] > 0


@pytest.mark.parametrize("couplings, field", [
    ({"distribution": "dipolar", "concentration": "-40 mM"}, "model.couplings.concentration"),
    ({"distribution": "gaussian", "concentration": -1.0}, "model.couplings.concentration"),
    ({"distribution": "gaussian", "scale": "1 MHz", "concentration": "40 mM"}, "model.couplings.concentration"),
    ({"distribution": "dipolar", "concentration": "40 MHz"}, "model.couplings.concentration"),
    ({"distribution": "dipolar"}, "model.couplings.concentration"),
    ({"distribution": "dipolar", "concentration": "40 mM", "scale": 1.0}, "model.couplings.scale"),
])
def test_bad_inputs_exit_2_naming_the_field(tmp_path, capsys, couplings, field):
    spec = copy.deepcopy(SPEC)
    spec["model"]["couplings"] = couplings
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    out = tmp_path / "result.json"
    assert main(["run", str(path), "--output", str(out)]) == 2
    assert field in capsys.readouterr().err
    assert not out.exists()


def test_dipolar_hyperfine_needs_positions(tmp_path, capsys):
    spec = copy.deepcopy(SPEC)
    spec["model"]["couplings"] = {"distribution": "gaussian", "scale": "1 MHz"}
    spec["model"]["nuclei"]["hyperfine"] = {"distribution": "dipolar"}
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    assert main(["run", str(path), "--output", str(tmp_path / "r.json")]) == 2
    assert "model.nuclei.hyperfine" in capsys.readouterr().err
    assert box_side(8, 1.0) == pytest.approx((8 / AVOGADRO) ** (1 / 3))
