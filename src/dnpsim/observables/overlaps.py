"""Eigenfunction-overlap observables of the free-fermion model (2018 paper, Sec. V).

Notation: ``weights`` W[j, alpha] = |phi_{alpha j}|^2, shape (N_sites, N_modes), columns
normalized (sum_j W = 1) and rows complete (sum_alpha W = 1); ``energies`` eps_alpha
(rad/s; any common shift).  The overlap matrix is O = W^T W,
O_ab = sum_j |phi_aj|^2 |phi_bj|^2, so that the correlator of Eq. (21) is
K(eps, eps') = N^-1 sum_ab O_ab delta(eps_a - eps) delta(eps_b - eps').

Every pair sum here is evaluated in row blocks of O (memory O(block x N), never the
full N x N matrix); ``weights=None`` means the GOE surrogate of Eq. (23),
O_ab = 1/N (K = rho(eps) rho(eps')).
"""

from __future__ import annotations

import numpy as np

#: Bytes a row block of O may use.
BLOCK_BYTES = 64 * 2**20


def eigen_weights(vectors: np.ndarray) -> np.ndarray:
    """|phi_{alpha j}|^2 from eigenvectors as columns (N_sites, N_modes)."""
    return np.abs(vectors) ** 2


def inverse_participation_ratio(weights: np.ndarray) -> float:
    """I_2 = N^-1 sum_{alpha, j} |phi_{alpha j}|^4 (Eq. (27)).  1/N for plane waves
    (|phi|^2 = 1/N), 1 for site-localized states (t = 0)."""
    return float(np.sum(weights ** 2) / weights.shape[1])


def ipr_per_state(weights: np.ndarray) -> np.ndarray:
    """sum_j |phi_{alpha j}|^4 for every mode alpha, shape (N_modes,)."""
    return np.sum(weights ** 2, axis=0)


def density_of_states(energies: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """rho(eps) = N^-1 sum_alpha delta(eps - eps_alpha) (Sec. III B, Fig. 2) as a
    histogram density on ``edges`` (rad/s): integrates to the fraction inside."""
    counts, _ = np.histogram(energies, bins=edges)
    return counts / (energies.size * np.diff(edges))


def _blocks(n: int, width: int):
    step = max(1, int(BLOCK_BYTES // (8 * max(width, 1))))
    for start in range(0, n, step):
        yield slice(start, min(n, start + step))


def overlap_rows(weights: np.ndarray | None, rows: slice, n: int) -> np.ndarray:
    """Rows ``rows`` of O = W^T W (or of the GOE O = 1/N when weights is None)."""
    if weights is None:
        return np.full((rows.stop - rows.start, n), 1.0 / n)
    return weights[:, rows].T @ weights


def lorentzian_pair_products(weights, energies, shift, t2: float, vectors):
    """Y = M V with M_ab = O_ab / (1 + t2^2 (eps_a - eps_b - shift)^2), blocked.

    ``vectors`` (N_modes, k).  This is the kernel of Eq. (22): with V = [1, P_B],
    sum_ab M_ab (P_a - P_b) = P.Y_0 - 1.Y_1 and sum_ab M_ab (1 - P_a P_b) = 1.Y_0 - P.Y_1.
    ``shift`` may be a sequence (then ``vectors`` is a matching sequence and a list of
    Y is returned): each row block of O is formed once for all shifts.
    Cost O(N^2 (N_sites + sum k)), memory O(block N)."""
    e = np.asarray(energies, dtype=float)
    n = e.size
    many = np.ndim(shift) > 0
    shifts = list(np.atleast_1d(shift))
    vs = [np.asarray(v, dtype=float) for v in (vectors if many else [vectors])]
    if len(vs) != len(shifts):
        raise ValueError("one vector block per shift")
    outs = [np.empty((n, v.shape[1])) for v in vs]
    for rows in _blocks(n, n):
        o = overlap_rows(weights, rows, n)
        diff = e[rows, None] - e[None, :]
        for sh, v, out in zip(shifts, vs, outs):
            out[rows] = (o / (1.0 + (t2 * (diff - sh)) ** 2)) @ v
    return outs if many else outs[0]


def overlap_difference_histogram(weights, energies, edges: np.ndarray) -> np.ndarray:
    """K(omega) of Eq. (25) as a histogram density on ``edges`` (rad/s):
    K(omega) = N^-1 sum_ab O_ab delta(eps_b - eps_a - omega), blocked.

    With edges covering every pair difference the bins sum (times widths) to
    N^-1 sum_ab O_ab = 1 exactly (sum rule, Eq. (26)).  ``weights=None`` gives the
    GOE/DOS convolution int rho(eps) rho(eps + omega) (denominator of Eq. (30))."""
    e = np.asarray(energies, dtype=float)
    n = e.size
    edges = np.asarray(edges, dtype=float)
    total = np.zeros(edges.size - 1)
    uniform = np.all(np.isclose(np.diff(edges), edges[1] - edges[0], rtol=1e-9, atol=0))
    # Pairs whose difference lies outside the edges never count.  With energies in
    # ascending order (as eigh returns them) a row block only meets the contiguous
    # column range [first, last) of energies within its window, so only that part of
    # O is formed: exact, and far cheaper when the edges span a fraction of the band.
    ascending = bool(np.all(np.diff(e) >= 0))
    for rows in _blocks(n, n):
        if ascending:
            first = int(np.searchsorted(e, e[rows.start] + edges[0], side="left"))
            last = int(np.searchsorted(e, e[rows.stop - 1] + edges[-1], side="right"))
        else:
            first, last = 0, n
        if last <= first:
            continue
        cols = slice(first, last)
        o = np.full((rows.stop - rows.start, last - first), 1.0 / n) if weights is None \
            else weights[:, rows].T @ weights[:, cols]
        d = e[None, cols] - e[rows, None]
        if uniform:
            idx = np.floor((d - edges[0]) / (edges[1] - edges[0])).astype(np.int64)
            # pairs exactly on the last edge belong to the last bin, as in np.histogram
            idx[d == edges[-1]] = edges.size - 2
        else:
            idx = np.searchsorted(edges, d, side="right") - 1
            idx[d == edges[-1]] = edges.size - 2
        ok = (idx >= 0) & (idx < edges.size - 1)
        total += np.bincount(idx[ok], weights=o[ok], minlength=edges.size - 1)
    return total / (n * np.diff(edges))


def overlap_correlator(weights, energies, edges: np.ndarray) -> np.ndarray:
    """K(eps, eps') of Eq. (21) on an energy grid (density, (rad/s)^-2), shape (M, M).

    K = N^-1 G^T G / (d eps d eps') with the binned local densities of states
    G[j, m] = sum_{alpha in bin m} |phi_{alpha j}|^2: K is the site average of products
    of local DOS (the same structure the kernel polynomial path estimates)."""
    e = np.asarray(energies, dtype=float)
    idx = np.searchsorted(edges, e, side="right") - 1
    idx[e == edges[-1]] = edges.size - 2
    m = edges.size - 1
    ok = (idx >= 0) & (idx < m)
    if weights is None:
        counts = np.bincount(idx[ok], minlength=m) / e.size
        k = np.outer(counts, counts)
    else:
        g = np.zeros((weights.shape[0], m))
        np.add.at(g.T, idx[ok], weights[:, ok].T)
        k = g.T @ g / e.size
    w = np.diff(edges)
    return k / np.outer(w, w)


def eigenfunction_correlation(weights, energies, omegas, window: float) -> np.ndarray:
    """C(omega) of Eq. (30): K(omega) / int rho(eps) rho(eps + omega) d eps, both
    averaged over |omega' - omega| < window/2 (and over +-omega; K is even).

    omegas (rad/s, > window/2 to exclude the alpha = beta delta peak), window in rad/s."""
    omegas = np.atleast_1d(np.asarray(omegas, dtype=float))
    edges = np.sort(np.concatenate([omegas - window / 2, omegas + window / 2]))
    if np.any(np.diff(edges) < 0) or np.any(omegas - window / 2 <= 0):
        raise ValueError("omegas must be > window/2 and windows must not overlap")
    k = overlap_difference_histogram(weights, energies, edges)[::2]
    d = overlap_difference_histogram(None, energies, edges)[::2]
    with np.errstate(invalid="ignore", divide="ignore"):
        return k / d
