"""Export of the 2021 open-system generator to QuTiP (optional dependency).

:func:`to_qutip` returns the rotating-frame Hamiltonian H = H_S - omega_MW S^z +
omega_1 S^x (Eq. (S46)), the nonsecular jump operators of Eqs. (7)-(8) and the
Liouvillian as QuTiP ``Qobj`` (CSR data), in the computational basis with bit i of
the index = spin i up (QuTiP dims [[2]*N, [2]*N]; qutip's tensor order is spin N-1
first, matching the Kronecker order of :func:`dnpsim.spin.operators.full_operator`).
Users can then call e.g. ``qutip.steadystate(H, c_ops)``.  N <= 11 (dense 2^N
operators are formed once, then stored sparse).
"""

from __future__ import annotations

import numpy as np

from dnpsim.dynamics.jumps import OpenEnvironment

from dnpsim.dynamics.lindblad_dense import nonsecular_jump_operators, rotating_hamiltonian
from dnpsim.models.electrons import DipolarElectrons


def _qutip():
    try:
        import qutip
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("the QuTiP export needs qutip >= 5 (pip install qutip)") from exc
    return qutip


def to_qutip(model: DipolarElectrons, env: OpenEnvironment, *, liouvillian: bool = True):
    """(H, c_ops, L) as QuTiP objects (L is None when ``liouvillian`` is False).

    The 2N jump operators A^x_i, A^y_i of Eq. (7) are exported in their equivalent
    amplitude-damping form sqrt(gamma_down) S^-_i, sqrt(gamma_up) S^+_i (identical
    dissipator, fewer terms), plus the N operators A^z_i of Eq. (8).
    """
    import scipy.sparse as sp

    qutip = _qutip()
    n = model.n_electrons
    dims = [[2] * n, [2] * n]
    h = qutip.Qobj(sp.csr_matrix(rotating_hamiltonian(model, env)), dims=dims)
    ops = nonsecular_jump_operators(model, env)
    # ops = [A^x_0, A^y_0, A^z_0, A^x_1, ...]; replace each (A^x, A^y) pair by the two
    # amplitude-damping operators with the same dissipator
    from dnpsim.spin.operators import full_operator

    down, up = env.flip_rates(model)
    c_ops = []
    for i in range(n):
        c_ops.append(qutip.Qobj(sp.csr_matrix(np.sqrt(down) * full_operator(n, i, "-")), dims=dims))
        if up > 0:
            c_ops.append(qutip.Qobj(sp.csr_matrix(np.sqrt(up) * full_operator(n, i, "+")), dims=dims))
        az = ops[3 * i + 2]
        az[np.abs(az) < 1e-14 * np.abs(az).max()] = 0.0
        c_ops.append(qutip.Qobj(sp.csr_matrix(az), dims=dims))
    liou = qutip.liouvillian(h, c_ops) if liouvillian else None
    return h, c_ops, liou
