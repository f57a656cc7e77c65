"""Magnetization sectors of N spin-1/2 and local operators acting inside them.

This is the one sector machinery of dnpsim.  A basis state of N spins is an integer
whose bit ``i`` is 1 when spin ``i`` points up (S_z^i = +1/2).  The sector with
``n_up`` spins up is the sorted array of such integers; it has C(N, n_up) states and
total magnetization M = n_up - N/2.

Local operators are never built as dense 2^N x 2^N Kronecker products: S_z^i is a
diagonal (a vector on the sector), S_+^i maps sector ``n_up`` to ``n_up + 1`` and is
stored as a pair of index arrays (source rows, target rows), and the flip-flop term
S_+^i S_-^j + S_-^i S_+^j is assembled directly inside one sector.

An optional extra two-level "passenger" (the thermometer nucleus of the 2016 paper)
is handled by the models: a block then has the layout ``index = a + s * dim`` with
``a`` the electron index in the sector and ``s`` the passenger state.
"""

from __future__ import annotations

import functools

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np


def popcount(states: np.ndarray) -> np.ndarray:
    """Number of set bits of each integer (the number of up spins)."""
    return np.bitwise_count(np.asarray(states, dtype=np.uint64)).astype(np.int64)


def sector_states(n_spins: int, n_up: int) -> np.ndarray:
    """Sorted basis integers of the sector with ``n_up`` of ``n_spins`` spins up.

    Returns an int64 array of length C(n_spins, n_up).
    """
    if not 0 <= n_up <= n_spins:
        raise ValueError(f"n_up={n_up} outside 0..{n_spins}")
    if n_spins > 30:
        raise ValueError(f"n_spins={n_spins} is beyond exact diagonalization")
    # Gosper's hack enumerates k-subsets in increasing order without scanning 2^N.
    count = math.comb(n_spins, n_up)
    out = np.empty(count, dtype=np.int64)
    if n_up == 0:
        out[0] = 0
        return out
    x = (1 << n_up) - 1
    for i in range(count):
        out[i] = x
        c = x & -x
        r = x + c
        x = (((r ^ x) >> 2) // c) | r
    return out


@dataclass(frozen=True)
class Sector:
    """Basis of the magnetization sector with ``n_up`` of ``n_spins`` spins up.

    Attributes
    ----------
    n_spins, n_up : int
    states : (dim,) int64
        Sorted basis integers (bit i set = spin i up).
    """

    n_spins: int
    n_up: int
    states: np.ndarray = field(repr=False, compare=False)

    @classmethod
    def of(cls, n_spins: int, n_up: int) -> "Sector":
        return cls(n_spins, n_up, sector_states(n_spins, n_up))

    @property
    def dim(self) -> int:
        return int(self.states.size)

    @property
    def magnetization(self) -> float:
        """Total S_z = n_up - N/2 of every state in the sector."""
        return self.n_up - 0.5 * self.n_spins

    def index(self, states: np.ndarray) -> np.ndarray:
        """Positions of the given basis integers in this sector (they must belong to it)."""
        return np.searchsorted(self.states, states)

    @cached_property
    def spin_z(self) -> np.ndarray:
        """(dim, n_spins) array of S_z^i = +-1/2 on every basis state."""
        bits = (self.states[:, None] >> np.arange(self.n_spins)[None, :]) & 1
        return bits.astype(float) - 0.5

    def raising(self, site: int) -> tuple[np.ndarray, np.ndarray]:
        """S_+^site from this sector to the sector with one more spin up.

        Returns ``(source, target)``: positions in this sector of the states with
        spin ``site`` down, and positions in the ``n_up + 1`` sector of their images.
        All matrix elements are 1, so <target|S_+^site|source> = 1.
        """
        return raising_map(self.n_spins, self.n_up, site)

    def flip_flop(self, couplings: np.ndarray) -> np.ndarray:
        """Dense (dim, dim) matrix of sum_{i<j} U_ij (S_+^i S_-^j + S_-^i S_+^j).

        ``couplings`` is the symmetric (N, N) matrix U_ij (any unit; the result has the
        same unit).  Real symmetric.
        """
        h = np.zeros((self.dim, self.dim))
        dst, src, first, second = flip_flop_map(self.n_spins, self.n_up)
        h[dst, src] = couplings[first, second]
        return h

    def ising(self, couplings: np.ndarray) -> np.ndarray:
        """Diagonal (dim,) of sum_{i<j} J_ij S_z^i S_z^j for a symmetric (N, N) J."""
        sz = self.spin_z
        # sum_{i<j} = 1/2 sum_{i != j}; the diagonal of J is zero by validation
        return 0.5 * np.einsum("ai,ij,aj->a", sz, couplings, sz)


_STATE_CACHE: dict[tuple[int, int], np.ndarray] = {}


def sector_states_cached(n_spins: int, n_up: int) -> np.ndarray:
    """:func:`sector_states` memoized (basis integers are reused across sectors)."""
    key = (n_spins, n_up)
    if key not in _STATE_CACHE:
        _STATE_CACHE[key] = sector_states(n_spins, n_up)
    return _STATE_CACHE[key]


@functools.lru_cache(maxsize=256)
def raising_map(n_spins: int, n_up: int, site: int) -> tuple[np.ndarray, np.ndarray]:
    """``(source, target)`` positions of S_+^site from sector ``n_up`` to ``n_up + 1``
    (see :meth:`Sector.raising`); memoized, read-only arrays (they depend on the sizes
    only, so every realization of a sweep shares them)."""
    if n_up >= n_spins:
        source = target = np.empty(0, np.int64)
    else:
        states = sector_states_cached(n_spins, n_up)
        mask = np.int64(1) << site
        source = np.flatnonzero((states & mask) == 0)
        target = np.searchsorted(sector_states_cached(n_spins, n_up + 1), states[source] | mask)
    source.flags.writeable = False
    target.flags.writeable = False
    return source, target


@functools.lru_cache(maxsize=32)
def flip_flop_map(n_spins: int, n_up: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Nonzero pattern of sum_{i<j} (S_+^i S_-^j + h.c.) in sector ``n_up``:
    ``(dst, src, i, j)`` with <dst|S_+^i S_-^j + S_-^i S_+^j|src> = 1 (memoized,
    read-only).  Every (state, pair) whose two spins differ is flipped by exactly one
    term and distinct pairs give distinct images, so each (dst, src) occurs once."""
    states = sector_states_cached(n_spins, n_up)
    first, second = np.triu_indices(n_spins, k=1)
    bits = (states[:, None] >> np.arange(n_spins)[None, :]) & 1
    src, pair = np.nonzero(bits[:, first] != bits[:, second])
    masks = (np.int64(1) << first) | (np.int64(1) << second)
    dst = np.searchsorted(states, states[src] ^ masks[pair])
    # compact index types: the maps of large sectors are kept for reuse
    out = (dst.astype(np.int32), src.astype(np.int32), first[pair].astype(np.int16), second[pair].astype(np.int16))
    for a in out:
        a.flags.writeable = False
    return out


def sector(n_spins: int, n_up: int) -> Sector:
    """The :class:`Sector` with ``n_up`` of ``n_spins`` spins up (states memoized)."""
    return Sector(n_spins, n_up, sector_states_cached(n_spins, n_up))
