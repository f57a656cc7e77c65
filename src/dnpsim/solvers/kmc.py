"""Generic pieces of rejection-free kinetic Monte Carlo (no physics).

* :func:`xorshift_next` / :func:`uniform` — a per-trajectory xorshift64* generator
  usable inside numba-compiled loops (each trajectory owns one 64-bit state, so
  results do not depend on how trajectories are split over threads);
* :func:`trajectory_seeds` — one non-zero 64-bit state per trajectory, derived from a
  ``numpy.random.Generator`` (docs/conventions.md: randomness only via a Generator passed in);
* :func:`exponential_wait` — the waiting time -ln(u)/R of a rejection-free step;
* a binary sum tree over non-negative rates (:func:`sumtree_empty`,
  :func:`sumtree_build`, :func:`sumtree_update`, :func:`sumtree_sample`,
  :func:`sumtree_total`, :func:`sumtree_leaf`): O(log n) selection of an event with
  probability rate_i / sum(rates) and O(log n) update of one rate;
* :func:`interleaved_mean` — mean and standard error of many trajectories from their
  sums over a few interleaved groups (what parallel event loops accumulate).

The model-specific event loop lives with the rates it draws from
(:mod:`dnpsim.dynamics.cross_effect_kmc`).
"""

from __future__ import annotations

import numba
import numpy as np

from dnpsim import jit  # noqa: F401  (says so on stderr while kernels compile)


@numba.njit(cache=True, inline="always")
def xorshift_next(state: np.ndarray, i: int) -> np.uint64:
    """Advance ``state[i]`` (xorshift64*, Vigna 2016) and return the 64-bit output."""
    x = state[i]
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    state[i] = x
    return x * np.uint64(0x2545F4914F6CDD1D)


@numba.njit(cache=True, inline="always")
def uniform(state: np.ndarray, i: int) -> float:
    """A float in (0, 1) from the 53 high bits of :func:`xorshift_next`."""
    return ((xorshift_next(state, i) >> np.uint64(11)) + 0.5) * (1.0 / 9007199254740992.0)


@numba.njit(cache=True, inline="always")
def exponential_wait(state: np.ndarray, i: int, total_rate: float) -> float:
    """Waiting time of a rejection-free step, -ln(u) / total_rate (s)."""
    return -np.log(uniform(state, i)) / total_rate


# ------------------------------------------------------------------ sum tree
# Layout: a float64 array ``tree`` of length 2 M, M = the smallest power of two >= n
# (at least 1).  Leaf i (0 <= i < n) is tree[M + i]; unused leaves are zero; node j
# (1 <= j < M) holds tree[2 j] + tree[2 j + 1]; the total is tree[1]; tree[0] is unused.
# Updates recompute every ancestor from its two children (instead of adding the change),
# so an updated tree is bit-for-bit the tree a fresh build of the same leaves gives:
# round-off does not accumulate over any number of updates, and no periodic rebuild is
# needed (tests/test_sumtree.py checks this).  Values must be finite and >= 0; the
# functions do not check (they run inside compiled event loops).


def sumtree_capacity(n: int) -> int:
    """Number of leaves M (a power of two, >= 1) of a tree holding ``n`` values."""
    m = 1
    while m < n:
        m *= 2
    return m


@numba.njit(cache=True)
def sumtree_empty(n: int) -> np.ndarray:
    """A zero sum tree for ``n`` >= 0 rates: float64 array (2 M,), M = capacity."""
    m = 1
    while m < n:
        m *= 2
    return np.zeros(2 * m)


@numba.njit(cache=True)
def sumtree_build(tree: np.ndarray, values: np.ndarray) -> None:
    """Fill ``tree`` (2 M,) from ``values`` (n,), n <= M, rates >= 0 (any unit, e.g.
    s^-1): leaves, zero padding, then every internal node bottom-up.  O(M)."""
    m = tree.size // 2
    n = values.size
    for i in range(n):
        tree[m + i] = values[i]
    for i in range(m + n, 2 * m):
        tree[i] = 0.0
    for j in range(m - 1, 0, -1):
        tree[j] = tree[2 * j] + tree[2 * j + 1]


@numba.njit(cache=True, inline="always")
def sumtree_update(tree: np.ndarray, i: int, value: float) -> None:
    """Set leaf ``i`` to ``value`` (>= 0) and recompute its ancestors from their
    children (drift-free, see the layout note).  O(log M); a no-op when unchanged."""
    m = tree.size // 2
    j = m + i
    if tree[j] == value:
        return
    tree[j] = value
    j >>= 1
    while j >= 1:
        tree[j] = tree[2 * j] + tree[2 * j + 1]
        j >>= 1


@numba.njit(cache=True, inline="always")
def sumtree_total(tree: np.ndarray) -> float:
    """Sum of all leaves (the root)."""
    return tree[1]


@numba.njit(cache=True, inline="always")
def sumtree_leaf(tree: np.ndarray, i: int) -> float:
    """Value of leaf ``i``."""
    return tree[tree.size // 2 + i]


@numba.njit(cache=True, inline="always")
def sumtree_sample(tree: np.ndarray, x: float) -> int:
    """Index i of the leaf whose cumulative interval [sum_{j<i} v_j, sum_{j<=i} v_j)
    contains ``x`` (0 <= x < total): with x = u * total, u uniform in [0, 1), leaf i
    is drawn with probability v_i / total.  O(log M).

    Round-off guard: the descent never enters a zero subtree, so the returned leaf has
    a positive value whenever total > 0 (x slightly above the total lands on the last
    positive leaf)."""
    m = tree.size // 2
    j = 1
    while j < m:
        left = tree[2 * j]
        if x < left or tree[2 * j + 1] <= 0.0:
            j = 2 * j
        else:
            x -= left
            j = 2 * j + 1
    return j - m


def trajectory_seeds(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` non-zero uint64 generator states drawn from ``rng``."""
    seeds = rng.integers(1, np.iinfo(np.uint64).max, size=n, dtype=np.uint64, endpoint=True)
    return seeds


def interleaved_mean(sums: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard error of ``n`` samples given their sums over G interleaved
    groups: ``sums`` (G, ...) with sums[c] the sum of samples c, c + G, c + 2 G, ...
    (1 <= G <= n).  The standard error is the spread of the group means m_c (sizes n_c)
    about the mean m, sqrt(sum_c n_c (m_c - m)^2 / (n (G - 1))) (zero for G = 1), so
    (m - exact) / stderr is t-distributed with G - 1 degrees of freedom.  Both (...)."""
    n_groups = sums.shape[0]
    counts = np.array([len(range(c, n, n_groups)) for c in range(n_groups)], float)
    counts = counts.reshape((n_groups,) + (1,) * (sums.ndim - 1))
    mean = sums.sum(axis=0) / n
    group = sums / counts
    stderr = np.sqrt(np.sum(counts * (group - mean) ** 2, axis=0) / (n * (n_groups - 1))) \
        if n_groups > 1 else np.zeros_like(mean)
    return mean, stderr
