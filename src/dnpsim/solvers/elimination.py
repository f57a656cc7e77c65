"""Stationary vector of a block-tridiagonal Markov generator by exact block Gaussian
elimination in float64, stabilized after Grassmann, Taksar and Heyman (no physics).

Layout of the generator: :mod:`dnpsim.solvers.block_tridiagonal`.  Cost
~ sum_k d_k^3 instead of (sum_k d_k)^3 for the dense solve; a batch of generators
with the same block sizes is eliminated together, one LAPACK call per block.  The
float32 version with refinement is :mod:`dnpsim.solvers.mixed_precision`; the
drivers that check and report the result are in :mod:`dnpsim.solvers.steady_state`.
"""

from __future__ import annotations

import numpy as np

from dnpsim.solvers.block_tridiagonal import BlockTridiagonal, diagonal_view
from dnpsim.solvers.null_vector import null_vector


def reset_diagonal(block: np.ndarray, leak: np.ndarray | None) -> None:
    """Recompute the diagonal of a censored generator from its off-diagonal entries
    (in place; batches too): its columns must sum to minus the rates leaking to the
    next block (``leak`` is that block of rates, or already its column sums: a vector
    of the block's size).

    This is the block analogue of the Grassmann-Taksar-Heyman trick: the off-diagonal
    Schur-complement entries are sums of non-negative terms, the diagonal would be a
    difference of large numbers, so taking it from the column sums removes the
    cancellation that otherwise costs ~cond(Q) eps in the stationary vector.
    """
    diagonal_view(block)[...] = 0.0
    # entries that should be >= 0 but came out slightly negative are round-off
    np.maximum(block, 0.0, out=block)
    total = block.sum(axis=-2)
    if leak is not None:
        total += leak if leak.ndim == block.ndim - 1 else leak.sum(axis=-2)
    diagonal_view(block)[...] = -total


def stationary_block_elimination(generator: BlockTridiagonal, *, from_last: bool = True) -> np.ndarray:
    """Exact stationary vector of a block-tridiagonal generator by block Gaussian
    elimination.

    Eliminating blocks one after the other leaves Schur complements
    S = D - L S_prev^{-1} U, the generators of the chain watched only on the remaining
    blocks (censored chains); the last one's null vector starts the back substitution
    p_k = -S_k^{-1} U_k p_{next}.  Following the Grassmann-Taksar-Heyman idea, the
    diagonals are recomputed from the column sums (no cancellation) and the blocks
    that leak strongly are eliminated first: ``from_last`` (default) starts at the
    last block, which for spin sectors ordered by magnetization is the least
    populated one, whose downward (energy-releasing) rates are large.  The other
    order fails at low temperature, where the upward leak ~ e^{-beta omega_e} drops
    below round-off and the censored chain becomes numerically closed.
    Cost ~ sum_k (d_k^3 + d_k d_{k+1} (d_k + d_{k+1})) flops.  A batch of
    generators is eliminated together (one LAPACK call per block for the whole batch).
    """
    if from_last:
        flipped = BlockTridiagonal(generator.diag[::-1], generator.upper[::-1], generator.lower[::-1])
        return np.concatenate(flipped.split(stationary_block_elimination(flipped, from_last=False))[::-1], axis=-1)
    n = len(generator.diag)
    schur = generator.diag[0].copy()
    reset_diagonal(schur, generator.lower[0] if n > 1 else None)
    solved_upper: list[np.ndarray] = []
    for k in range(n - 1):
        # one LU per block (per batch member); gesv through numpy broadcasts batches
        y = np.linalg.solve(schur, generator.upper[k])
        solved_upper.append(y)
        schur = generator.diag[k + 1] - generator.lower[k] @ y
        reset_diagonal(schur, generator.lower[k + 1] if k + 1 < n - 1 else None)
    last = null_vector(schur)
    pieces = [last]
    for k in range(n - 2, -1, -1):
        pieces.append(-(solved_upper[k] @ pieces[-1][..., None])[..., 0])
    p = np.concatenate(pieces[::-1], axis=-1)
    return p / p.sum(axis=-1, keepdims=True)
