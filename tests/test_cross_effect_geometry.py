"""Point-dipole couplings, random positions and the powder grid of the cross-effect model."""

import numpy as np
import pytest

from dnpsim.experiments.cross_effect import geometry_model, powder_average
from dnpsim.errors import ModelError
from dnpsim.models.cross_effect import (GAMMA_ELECTRON, GAMMA_PROTON, point_dipole_couplings,
                                        random_nuclear_positions, zcw_orientations)

HBAR = 1.054571817e-34


def b_hz(g1, g2, r):
    return 1e-7 * g1 * g2 * HBAR / r**3 / (2 * np.pi)


def test_point_dipole_closed_forms():
    re = np.array([[0, 0, 0], [0, 0, 2e-9]])                    # e-e axis along the field
    rn = np.array([[1e-9 / np.sqrt(2), 0, 1e-9 / np.sqrt(2)],   # 45 degrees from electron 1
                   [0, 3e-9, 2e-9]])                            # perpendicular to the field from electron 2
    D, A, B, d = point_dipole_couplings(re, rn)
    assert D == pytest.approx(-b_hz(GAMMA_ELECTRON, GAMMA_ELECTRON, 2e-9))   # (1 - 3)/2 = -1
    ben = b_hz(GAMMA_ELECTRON, GAMMA_PROTON, 1e-9)
    assert A[0, 0] == pytest.approx(ben * (1 - 3 * 0.5))
    assert abs(B[0, 0]) == pytest.approx(1.5 * ben)             # 3 sin cos = 3/2
    assert A[1, 1] == pytest.approx(b_hz(GAMMA_ELECTRON, GAMMA_PROTON, 3e-9))
    assert B[1, 1] == pytest.approx(0.0, abs=1e-9)
    assert d[0, 1] == d[1, 0] and d[0, 0] == 0
    with pytest.raises(ModelError):
        point_dipole_couplings(re, re[:1])                      # nucleus on an electron
    # perpendicular e-e axis: D = +b/2
    D90, *_ = point_dipole_couplings(re, rn, field_direction=[1.0, 0, 0])
    assert D90 == pytest.approx(b_hz(GAMMA_ELECTRON, GAMMA_ELECTRON, 2e-9) / 2)


def test_random_positions_respect_constraints():
    re = np.array([[-1e-9, 0, 0], [1e-9, 0, 0]])
    rn = random_nuclear_positions(40, 3e-9, 0.4e-9, re, np.random.default_rng(0))
    assert np.all(np.linalg.norm(rn, axis=1) <= 3e-9)
    dist = np.linalg.norm(rn[:, None] - rn[None], axis=-1) + np.eye(40)
    assert dist.min() >= 0.4e-9
    assert np.linalg.norm(rn[:, None] - re[None], axis=-1).min() >= 0.4e-9
    with pytest.raises(ModelError):
        random_nuclear_positions(1000, 1e-9, 0.5e-9, re, np.random.default_rng(0), max_tries=2000)


@pytest.mark.parametrize("m", [6, 8, 10])
def test_zcw_grid_averages_second_legendre_to_zero(m):
    v, w = zcw_orientations(m)
    assert w.sum() == pytest.approx(1.0)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0)
    p2 = (3 * v[:, 2] ** 2 - 1) / 2
    assert abs(w @ p2) < 2.0 / len(w)     # exact average 0; ZCW error ~ 1/M
    assert w @ v[:, 2] ** 2 == pytest.approx(1 / 3, abs=2.0 / len(w))


def test_powder_average_of_D_vanishes():
    re = np.array([[0, 0, -3.2e-9], [0, 0, 3.2e-9]])
    rn = np.array([[1e-9, 0, -3.2e-9]])
    mean, values = powder_average(
        lambda v: geometry_model(re, rn, v, omega1=10e3, omega_I=145e6, R1=1.0, R2=1e5, t1n=100.0, t2n=1e-3,
                                 p=0.9),
        lambda model: np.array([model.D]), m=10)
    assert values.shape == (233, 1)
    assert abs(mean[0]) < 0.02 * np.abs(values).max()
