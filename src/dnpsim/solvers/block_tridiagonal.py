"""Block-tridiagonal matrices: the storage of Markov generators over magnetization
sectors (no physics).

A generator Q acts on populations as dp/dt = Q p: ``Q[m, n]`` (m != n) is the rate
n -> m and every column sums to zero.  Magnetization-conserving spin systems flipped
one spin at a time give a block-tridiagonal Q over sectors, stored as dense blocks:

    diag[k]  = Q[k, k]     (..., d_k, d_k)
    lower[k] = Q[k+1, k]   (..., d_{k+1}, d_k)   rates from block k to block k+1
    upper[k] = Q[k, k+1]   (..., d_k, d_{k+1})   rates from block k+1 to block k

The optional leading axes ``...`` hold a batch of generators with the same block
structure (e.g. one per microwave frequency): small systems are solved a whole batch
per LAPACK call instead of one Python-level elimination per generator.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp


@dataclass
class BlockTridiagonal:
    """Block-tridiagonal square matrix, or a batch of them with the same block sizes
    (see the module docstring for the layout)."""

    diag: list[np.ndarray]
    lower: list[np.ndarray]
    upper: list[np.ndarray]

    def __post_init__(self):
        k = len(self.diag)
        if len(self.lower) != k - 1 or len(self.upper) != k - 1:
            raise ValueError("need len(lower) == len(upper) == len(diag) - 1")

    @property
    def dims(self) -> list[int]:
        return [b.shape[-1] for b in self.diag]

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """Leading batch axes (``()`` for a single matrix)."""
        return self.diag[0].shape[:-2]

    @property
    def offsets(self) -> np.ndarray:
        """Start index of every block in the concatenated vector, length n_blocks + 1."""
        return np.concatenate([[0], np.cumsum(self.dims)])

    @property
    def size(self) -> int:
        return int(sum(self.dims))

    def split(self, vector: np.ndarray) -> list[np.ndarray]:
        """Cut concatenated vectors (last axis) into per-block views."""
        o = self.offsets
        return [vector[..., o[k] : o[k + 1]] for k in range(len(self.diag))]

    def matvec(self, vector: np.ndarray) -> np.ndarray:
        """Q @ vector, blockwise; ``vector`` has shape (..., size) matching the batch."""
        x = [part[..., None] for part in self.split(np.asarray(vector))]
        out = [self.diag[k] @ x[k] for k in range(len(x))]
        for k in range(len(x) - 1):
            out[k + 1] += self.lower[k] @ x[k]
            out[k] += self.upper[k] @ x[k + 1]
        return np.concatenate(out, axis=-2)[..., 0]

    def item(self, index) -> "BlockTridiagonal":
        """One generator of a batch (views, no copy)."""
        return BlockTridiagonal([b[index] for b in self.diag], [b[index] for b in self.lower],
                                [b[index] for b in self.upper])

    def _single(self) -> None:
        if self.batch_shape:
            raise ValueError("assemble one generator of the batch at a time (use .item(i))")

    def to_sparse(self) -> sp.csr_matrix:
        """Assemble as a CSR matrix (for time evolution and direct sparse checks)."""
        self._single()
        n = len(self.diag)
        grid = [[None] * n for _ in range(n)]
        for k in range(n):
            grid[k][k] = sp.csr_matrix(self.diag[k])
        for k in range(n - 1):
            grid[k + 1][k] = sp.csr_matrix(self.lower[k])
            grid[k][k + 1] = sp.csr_matrix(self.upper[k])
        return sp.bmat(grid, format="csr")

    def to_dense(self) -> np.ndarray:
        return self.to_sparse().toarray()

    def diagonal(self) -> np.ndarray:
        """Diagonal entries Q[n, n] of the concatenated matrix, shape (..., size)."""
        return np.concatenate([diagonal_view(d) for d in self.diag], axis=-1)

    def nbytes(self) -> int:
        return sum(b.nbytes for b in (*self.diag, *self.lower, *self.upper))


def diagonal_view(block: np.ndarray) -> np.ndarray:
    """Writable view of the diagonal of a square block (or of each in a batch),
    shape (..., d)."""
    return np.einsum("...ii->...i", block)


def complete_generator(matrix: BlockTridiagonal) -> BlockTridiagonal:
    """Set every diagonal entry to minus the sum of the other rates in its column, in
    place, so columns sum to zero (conservation of probability).  The diagonal entries
    given on input are ignored.  Works on batches."""
    for k, d in enumerate(matrix.diag):
        diagonal_view(d)[...] = 0.0
        out = d.sum(axis=-2)
        if k < len(matrix.lower):
            out += matrix.lower[k].sum(axis=-2)
        if k > 0:
            out += matrix.upper[k - 1].sum(axis=-2)
        diagonal_view(d)[...] = -out
    return matrix
