"""Binary sum tree of :mod:`dnpsim.solvers.kmc` (O(log n) event selection of the kMC):
exact cumulative-interval selection, sampled frequencies vs rates, drift-free updates."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from dnpsim.solvers.kmc import (
    sumtree_build,
    sumtree_capacity,
    sumtree_empty,
    sumtree_leaf,
    sumtree_sample,
    sumtree_total,
    sumtree_update,
)

rates_strategy = st.lists(st.one_of(st.just(0.0), st.floats(1e-3, 1e3)), min_size=1, max_size=70) \
    .filter(lambda v: sum(v) > 0)


def built(values):
    values = np.asarray(values, float)
    tree = sumtree_empty(values.size)
    sumtree_build(tree, values)
    return tree


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 5, 8, 9, 1000])
def test_layout(n):
    tree = sumtree_empty(n)
    assert tree.size == 2 * sumtree_capacity(n) and sumtree_capacity(n) >= max(n, 1)
    values = np.arange(1.0, n + 1)
    sumtree_build(tree, values)
    assert sumtree_total(tree) == pytest.approx(values.sum(), rel=1e-15)
    for i in range(n):
        assert sumtree_leaf(tree, i) == values[i]


@settings(derandomize=True, max_examples=60, deadline=None)
@given(rates_strategy)
def test_selection_is_the_cumulative_interval(rates):
    """x in the middle of leaf i's cumulative interval selects i (zero-rate leaves never)."""
    v = np.asarray(rates)
    tree = built(v)
    hi = np.cumsum(v)
    lo = hi - v
    for i in np.nonzero(v > 1e-9 * v.sum())[0]:
        assert sumtree_sample(tree, 0.5 * (lo[i] + hi[i])) == i
    # the edges: x = 0 and x at (or, by round-off, above) the total land on positive leaves
    for x in (0.0, sumtree_total(tree), sumtree_total(tree) * (1 + 1e-15)):
        assert v[sumtree_sample(tree, x)] > 0


@settings(derandomize=True, max_examples=15, deadline=None)
@given(rates_strategy, st.integers(0, 2**32 - 1))
def test_sampled_frequencies_match_rates(rates, seed):
    """Counts of 20000 draws with x = u * total are multinomial(rates / total): a
    chi-square test over the positive leaves.  Threshold: 15 examples at family-wise
    false-alarm rate 1e-4 -> p > 1e-4 / 15 per example (Bonferroni)."""
    v = np.asarray(rates)
    tree = built(v)
    rng = np.random.default_rng(seed)
    n = 20000
    counts = np.zeros(v.size)
    total = sumtree_total(tree)
    for u in rng.random(n):
        counts[sumtree_sample(tree, u * total)] += 1
    assert np.all(counts[v == 0] == 0)
    pos = v > 0
    expected = n * v[pos] / v.sum()
    if pos.sum() == 1:
        assert counts[pos][0] == n
        return
    # merge leaves with small expectations so that the chi-square approximation holds
    order = np.argsort(expected)
    e, c = expected[order], counts[pos][order]
    groups_e, groups_c, acc_e, acc_c = [], [], 0.0, 0.0
    for ei, ci in zip(e, c):
        acc_e += ei
        acc_c += ci
        if acc_e >= 10:
            groups_e.append(acc_e)
            groups_c.append(acc_c)
            acc_e = acc_c = 0.0
    if acc_e > 0:
        if groups_e:
            groups_e[-1] += acc_e
            groups_c[-1] += acc_c
        else:
            groups_e.append(acc_e)
            groups_c.append(acc_c)
    if len(groups_e) < 2:
        return
    p = stats.chisquare(groups_c, groups_e).pvalue
    assert p > 1e-4 / 15, (p, groups_c, groups_e)


@settings(derandomize=True, max_examples=30, deadline=None)
@given(st.integers(1, 300), st.integers(0, 2**32 - 1))
def test_updates_are_drift_free(n, seed):
    """After 20 n random updates spanning 24 orders of magnitude (zeros included), the
    tree is bit-for-bit a fresh build of its leaves and the total equals an exactly
    rounded sum to 1e-12 relative: no periodic rebuild is needed."""
    rng = np.random.default_rng(seed)
    values = rng.random(n) * 10.0 ** rng.integers(-12, 12, n)
    tree = built(values)
    for _ in range(20 * n):
        i = int(rng.integers(n))
        values[i] = 0.0 if rng.random() < 0.1 else rng.random() * 10.0 ** rng.integers(-12, 12)
        sumtree_update(tree, i, values[i])
    fresh = built(values)
    assert np.array_equal(tree, fresh)
    exact = math.fsum(values)
    assert abs(sumtree_total(tree) - exact) <= 1e-12 * exact
    # a large value that comes and goes leaves no trace (additive updates would)
    sumtree_update(tree, 0, 1e30)
    sumtree_update(tree, 0, values[0])
    assert np.array_equal(tree, fresh)
