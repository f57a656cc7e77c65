"""QuTiP export (optional dependency): the exported Liouvillian equals ours and
QuTiP's steady state equals the Krylov one."""

from __future__ import annotations

import numpy as np
import pytest

from dnpsim.dynamics.lindblad import EigenbasisLiouvillian
from dnpsim.dynamics.lindblad_dense import dense_liouvillian
from dnpsim.dynamics.lindblad_steady_state import nonsecular_steady_state

from tests.open_system_helpers import BATH_MIXED, environment, random_model

qutip = pytest.importorskip("qutip")


def test_qutip_export_matches_dense_and_steady_state():
    from dnpsim.io_qutip import to_qutip

    model = random_model(3, seed=41)
    env = environment(4.0, BATH_MIXED)
    h, c_ops, liou = to_qutip(model, env)
    ours = dense_liouvillian(model, env, "nonsecular")
    theirs = liou.full()
    # both column-stacking superoperators on the same basis
    assert np.abs(theirs - ours).max() <= 1e-12 * np.abs(ours).max()
    rho_q = qutip.steadystate(h, c_ops).full()
    lv = EigenbasisLiouvillian(model, env)
    rho = lv.to_full(nonsecular_steady_state(lv, tol=1e-12).rho)
    assert np.abs(rho - rho_q).max() < 1e-9
