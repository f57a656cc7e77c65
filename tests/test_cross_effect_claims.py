"""Paper claims of Karabanov et al. (2018), Figs. 2(a, b) and 2(e).  Slow variants are
marked ``slow``; each has a fast variant in the default suite."""

import numpy as np
import pytest

from dnpsim.experiments.figures.cross_effect_figs import fig2ab_point


def test_cross_effect_beats_solid_effect_fast():
    """Fig. 2(a, b) at omega_1 = 3 kHz: CE (D = 100 kHz) vs SE (D = 0): enhancement
    about an order of magnitude higher (here x40), build-up several times faster."""
    eps_se, tau_se = fig2ab_point(3e3, 0.0)
    eps_ce, tau_ce = fig2ab_point(3e3, 100e3)
    assert eps_ce > 10 * eps_se
    assert tau_se > 4 * tau_ce


@pytest.mark.slow
def test_cross_effect_advantage_shrinks_with_omega1():
    """Fig. 2(a, b): the CE/SE ratios decrease with increasing omega_1, and at D = 300
    kHz the build-up is more than an order of magnitude faster than SE at weak drive."""
    ratios = []
    for w1 in (1e3, 3e3, 10e3, 30e3):
        eps_se, tau_se = fig2ab_point(w1, 0.0)
        eps_ce, tau_ce = fig2ab_point(w1, 100e3)
        ratios.append(eps_ce / eps_se)
    assert all(a > b for a, b in zip(ratios, ratios[1:]))
    assert ratios[0] > 10
    _, tau_se = fig2ab_point(3e3, 0.0)
    _, tau_ce = fig2ab_point(3e3, 300e3)
    assert tau_se > 10 * tau_ce


def test_spin_diffusion_speeds_up_bulk_build_up_fast():
    """Fig. 2(e), reduced to the pentagon of Fig. 2(c) run by kMC: the "bulk" nucleus 3
    (no hyperfine coupling) polarizes only through nuclear flip-flops (d_13 = d_23 =
    10 Hz); with d = 0 it stays at zero."""
    from dnpsim.dynamics.cross_effect_kmc import kmc
    from dnpsim.experiments.cross_effect import paper_model

    times = np.linspace(0, 100.0, 3)
    model = paper_model("pentagon", omega1=10e3, D=100e3)
    with_d = kmc(model, times, 300, np.random.default_rng(2))
    without = kmc(model.replace(d=np.zeros((3, 3))), times, 300, np.random.default_rng(3))
    gap = with_d.nuclear_polarization[-1, 2] - without.nuclear_polarization[-1, 2]
    assert gap > 5 * (with_d.nuclear_stderr[-1, 2] + without.nuclear_stderr[-1, 2])
    assert abs(without.nuclear_polarization[-1, 2]) < 4 * without.nuclear_stderr[-1, 2] + 0.01


@pytest.mark.slow
def test_spin_diffusion_speeds_up_bulk_build_up():
    """Fig. 2(e) on the pentagon by kMC, 2000 trajectories: at every time the total
    nuclear polarization with nuclear dipolar couplings exceeds the one without (the
    bulk nucleus is fed by flip-flops), by more than 5 standard errors at t > 0."""
    from dnpsim.dynamics.cross_effect_kmc import kmc
    from dnpsim.experiments.cross_effect import paper_model

    times = np.linspace(0, 200.0, 5)
    model = paper_model("pentagon", omega1=10e3, D=100e3)
    with_d = kmc(model, times, 2000, np.random.default_rng(5))
    without = kmc(model.replace(d=np.zeros((3, 3))), times, 2000, np.random.default_rng(6))
    total_d = with_d.nuclear_polarization.sum(axis=1)
    total_0 = without.nuclear_polarization.sum(axis=1)
    err = np.sqrt((with_d.nuclear_stderr**2).sum(axis=1) + (without.nuclear_stderr**2).sum(axis=1))
    assert np.all(total_d[1:] - total_0[1:] > 5 * err[1:])


@pytest.mark.slow
def test_spin_diffusion_polarizes_the_118_proton_bulk():
    """Fig. 2(d, e) on our 118-proton geometry (docs/reproduction/cross_effect.md), 100
    trajectories over 220 s: with nuclear dipolar couplings the protons farther than
    2 nm from both electrons (the bulk, no CE source among them) build up a
    polarization above 0.1 p; without them they stay below 0.05 p and the total is
    lower by more than 5 standard errors from 110 s on."""
    from dnpsim.dynamics.cross_effect_kmc import kmc
    from dnpsim.experiments.figures.cross_effect_figs import (FIG2DE_ELECTRONS, FIG2DE_MIN_PAIR_HZ,
                                                              fig2de_model)

    times = np.linspace(0, 220.0, 5)
    runs = {}
    for dipolar, seed in ((True, 12), (False, 13)):
        model = fig2de_model(dipolar)
        runs[dipolar] = kmc(model, times, 100, np.random.default_rng(seed),
                            min_pair_coupling=2 * np.pi * FIG2DE_MIN_PAIR_HZ)
    p = model.p
    distance = np.linalg.norm(model.positions[:, None, :] - FIG2DE_ELECTRONS[None], axis=-1).min(axis=1)
    bulk = distance > 2e-9
    assert bulk.sum() > 60
    with_d, without = runs[True], runs[False]
    assert with_d.nuclear_polarization[-1, bulk].mean() > 0.1 * p
    assert without.nuclear_polarization[-1, bulk].mean() < 0.05 * p
    total = {k: r.nuclear_polarization.sum(axis=1) for k, r in runs.items()}
    err = np.sqrt((with_d.nuclear_stderr**2).sum(axis=1) + (without.nuclear_stderr**2).sum(axis=1))
    assert np.all(total[True][2:] - total[False][2:] > 5 * err[2:])
