"""Closed-form limits of the 3D Anderson lattice (2018 paper, Eqs. (6)-(7), (25)-(27))."""

import numpy as np
import pytest

from dnpsim.experiments.anderson import ExactAnderson
from dnpsim.models.anderson import AndersonLattice, box_offsets, clean_spectrum
from dnpsim.observables import overlaps

TP = 2 * np.pi


@pytest.mark.parametrize("L,boundary", [(2, "periodic"), (4, "periodic"), (5, "open"), (6, "periodic")])
def test_clean_spectrum(L, boundary):
    t = TP * 6.6e6  # rad/s
    lat = AndersonLattice(L, 6.6e6, np.zeros((L, L, L)), 93.9e9, boundary)
    vals = np.linalg.eigvalsh(lat.dense())
    assert np.max(np.abs(vals - clean_spectrum(L, t, boundary))) < 1e-12 * t * 12


def test_plane_waves_have_ipr_one_over_n():
    # periodic L = 5: plane waves e^{ik.r}; real combinations cos/sin have IPR != 1/N,
    # so build the complex plane waves explicitly and check they diagonalize M
    L, t = 5, 1.0
    lat = AndersonLattice(L, t / TP, np.zeros((L, L, L)), 1.0)  # hopping 1 rad/s
    m = lat.dense()
    x = np.array(np.meshgrid(*(np.arange(L),) * 3, indexing="ij")).reshape(3, -1)
    ks = 2 * np.pi * np.array(np.meshgrid(*(np.arange(L),) * 3, indexing="ij")).reshape(3, -1) / L
    phi = np.exp(1j * ks.T @ x).T / np.sqrt(L ** 3)  # columns = plane waves
    energies = -2 * t * np.cos(ks).sum(axis=0)
    assert np.allclose(m @ phi, phi * energies[None, :], atol=1e-12)
    assert lat.t == pytest.approx(t, rel=1e-15)
    assert np.allclose(phi.conj().T @ phi, np.eye(L ** 3), atol=1e-12)
    assert overlaps.inverse_participation_ratio(overlaps.eigen_weights(phi)) == pytest.approx(1 / L ** 3, rel=1e-12)


def test_zero_hopping_is_fully_localized():
    rng = np.random.default_rng(0)
    L = 4
    lat = AndersonLattice(L, 0.0, box_offsets(L, 108e6, rng), 93.9e9)
    ex = ExactAnderson(lat)
    assert ex.ipr() == 1.0
    assert np.allclose(np.sort(ex.energies), np.sort(TP * lat.offsets.reshape(-1)))
    # K(omega) = delta(omega): all weight in the bin containing 0
    edges = np.linspace(-TP * 120e6, TP * 120e6, 241)
    k = ex.k_omega(edges)
    w = np.diff(edges)
    zero_bin = np.searchsorted(edges, 0.0, side="right") - 1
    assert k[zero_bin] * w[zero_bin] == pytest.approx(1.0, abs=1e-14)
    assert np.sum(np.delete(k * w, zero_bin)) == pytest.approx(0.0, abs=1e-14)


@pytest.mark.parametrize("t_mhz", [1.0, 6.6, 20.0])
def test_k_sum_rule(t_mhz):
    rng = np.random.default_rng(5)
    L = 6
    lat = AndersonLattice(L, t_mhz * 1e6, box_offsets(L, 108e6, rng), 93.9e9)
    ex = ExactAnderson(lat)
    span = ex.energies[-1] - ex.energies[0]
    edges = np.linspace(-span * 1.001, span * 1.001, 2000)  # odd bin count: 0 at a bin centre
    k = ex.k_omega(edges)
    assert abs(np.sum(k * np.diff(edges)) - 1.0) < 1e-12  # Eq. (26)
    # the GOE surrogate (Eq. (23)) obeys the same rule, and K is even
    kg = overlaps.overlap_difference_histogram(None, ex.energies, edges)
    assert abs(np.sum(kg * np.diff(edges)) - 1.0) < 1e-12
    assert np.allclose(k, k[::-1], rtol=1e-9, atol=1e-9 * k.max())


def test_correlator_marginals_are_dos():
    rng = np.random.default_rng(2)
    L = 5
    lat = AndersonLattice(L, 5e6, box_offsets(L, 108e6, rng), 93.9e9)
    ex = ExactAnderson(lat)
    edges = np.linspace(ex.energies[0] - 1, ex.energies[-1] + 1, 41)
    kk = overlaps.overlap_correlator(ex.weights, ex.energies, edges)
    # int K(eps, eps') d eps' = rho(eps) by completeness (Eq. (21))
    assert np.allclose(kk @ np.diff(edges), ex.dos(edges), rtol=1e-10)
    # GOE: K = rho rho (Eq. (23))
    kg = overlaps.overlap_correlator(None, ex.energies, edges)
    assert np.allclose(kg, np.outer(ex.dos(edges), ex.dos(edges)), rtol=1e-12)


def test_site_index_convention():
    # offsets[x][y][z] sits at site (x L + y) L + z; neighbours along z differ by 1
    L = 3
    off = np.arange(27.0).reshape(3, 3, 3)
    lat = AndersonLattice(L, 1.0, off, 1.0, "open")  # Hz; M is in rad/s
    m = lat.dense()
    assert m[(1 * 3 + 2) * 3 + 0, (1 * 3 + 2) * 3 + 0] == TP * off[1][2][0]
    assert m[0, 1] == -TP and m[0, 3] == -TP and m[0, 9] == -TP and m[0, 2] == 0.0


@pytest.mark.parametrize("field,kwargs", [
    ("model.L", {"L": 0}),
    ("model.hopping", {"hopping": -1.0}),
    ("model.boundary", {"boundary": "twisted"}),
    ("model.onsite", {"offsets": np.zeros((2, 2, 3))}),
])
def test_bad_parameters_name_the_field(field, kwargs):
    from dnpsim.errors import ModelError

    args = {"L": 2, "hopping": 1.0, "offsets": np.zeros((2, 2, 2)), "electron_larmor": 1.0}
    args.update(kwargs)
    with pytest.raises(ModelError) as err:
        AndersonLattice(**args)
    assert err.value.field == field
