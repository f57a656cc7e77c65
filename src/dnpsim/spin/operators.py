"""Spin-1/2 operators on the full 2^N space, for brute-force references only.

The engines never use these (they work sector by sector, :mod:`dnpsim.spin.sectors`);
tests and the naive baseline of the benchmarks do.  The basis index of the full space
is the same integer as in the sectors: bit ``i`` set means spin ``i`` up.
"""

from __future__ import annotations

import numpy as np

_SINGLE = {
    "x": np.array([[0.0, 0.5], [0.5, 0.0]], dtype=complex),
    "y": np.array([[0.0, 0.5j], [-0.5j, 0.0]], dtype=complex),
    "z": np.array([[-0.5, 0.0], [0.0, 0.5]], dtype=complex),
    "+": np.array([[0.0, 0.0], [1.0, 0.0]], dtype=complex),
    "-": np.array([[0.0, 1.0], [0.0, 0.0]], dtype=complex),
}
"""Single-spin matrices in the basis (|down> = 0, |up> = 1)."""

MAX_FULL_SPINS = 14


def full_operator(n_spins: int, site: int, component: str) -> np.ndarray:
    """Dense (2^N, 2^N) matrix of S_component^site on N spins (component in x,y,z,+,-).

    Complex for "y", real otherwise.  Spin ``site`` is bit ``site`` of the index, so
    the Kronecker product runs from the highest site to the lowest.
    """
    if n_spins > MAX_FULL_SPINS:
        raise ValueError(f"full-space operators are for N <= {MAX_FULL_SPINS} (got {n_spins})")
    op = np.ones((1, 1), dtype=complex)
    for s in reversed(range(n_spins)):
        op = np.kron(op, _SINGLE[component] if s == site else np.eye(2))
    return op if component == "y" else op.real.copy()
