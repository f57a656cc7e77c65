"""Kernel polynomial method (Chebyshev expansion with the Jackson kernel) for local
densities of states of a sparse Hermitian matrix.  Pure linear algebra, no physics.

rho_j(E) = sum_alpha |<j|alpha>|^2 delta(E - E_alpha) is expanded in Chebyshev
polynomials of the rescaled matrix H~ = (H - b)/a (spectrum inside (-1, 1)):
mu_n = <j|T_n(H~)|j>, computed for a block of sites at once with the recursion
T_{n+1} = 2 H~ T_n - T_{n-1} and the doubling identities
mu_{2n} = 2 <a_n|a_n> - mu_0, mu_{2n+1} = 2 <a_{n+1}|a_n> - mu_1 (M moments from
M/2 sparse products).  The Jackson kernel g_n damps Gibbs oscillations; the result is
rho convolved with a nearly Gaussian kernel of width sigma ~ pi a / M at the band
centre (:func:`jackson_resolution`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Safety margin of the rescaling (spectrum mapped into [-1 + EPS, 1 - EPS]).
EPS = 0.01


@dataclass(frozen=True)
class Rescaling:
    """x = (E - b) / a maps [lo, hi] into [-1 + EPS, 1 - EPS]."""

    a: float
    b: float

    @classmethod
    def from_bounds(cls, lo: float, hi: float) -> Rescaling:
        if not hi > lo:
            raise ValueError(f"spectral bounds must satisfy hi > lo, got [{lo}, {hi}]")
        return cls((hi - lo) / (2.0 - 2 * EPS), (hi + lo) / 2.0)

    def x(self, energies):
        """Rescaled energies (dimensionless)."""
        return (np.asarray(energies, dtype=float) - self.b) / self.a


def jackson_kernel(n_moments: int) -> np.ndarray:
    """g_n, n = 0..M-1, of the Jackson kernel (Weisse et al., Rev. Mod. Phys. 78, 275)."""
    m = n_moments
    n = np.arange(m)
    q = np.pi / (m + 1)
    return ((m - n + 1) * np.cos(q * n) + np.sin(q * n) / np.tan(q)) / (m + 1)


def jackson_resolution(n_moments: int, scale: Rescaling) -> float:
    """Energy resolution (Gaussian sigma, same units as the energies) of the Jackson
    kernel at the band centre: sigma = pi a / M."""
    return float(np.pi * scale.a / n_moments)


def local_moments(h, sites: np.ndarray, n_moments: int, scale: Rescaling, chunk: int = 64) -> np.ndarray:
    """Chebyshev moments mu_n^j = <j|T_n(H~)|j>, shape (len(sites), n_moments).

    h: sparse (N, N) real symmetric; sites: indices j; n_moments even or odd (>= 2)."""
    import scipy.sparse as sp

    if n_moments < 2:
        raise ValueError("n_moments must be >= 2")
    n = h.shape[0]
    ht = (sp.csr_matrix(h) - scale.b * sp.identity(n, format="csr")) / scale.a
    ht = sp.csr_matrix(ht)
    sites = np.asarray(sites)
    out = np.empty((sites.size, n_moments))
    half = (n_moments + 1) // 2
    for start in range(0, sites.size, chunk):
        block = sites[start:start + chunk]
        b = block.size
        a0 = np.zeros((n, b))
        a0[block, np.arange(b)] = 1.0
        a1 = ht @ a0
        mu = np.empty((b, 2 * half + 2))
        mu[:, 0] = 1.0
        mu[:, 1] = a1[block, np.arange(b)]
        # after step k: prev = a_{k-1}, cur = a_k
        prev, cur = a0, a1
        for k in range(1, half + 1):
            mu[:, 2 * k] = 2.0 * np.einsum("ij,ij->j", cur, cur) - mu[:, 0]
            if 2 * k + 1 >= n_moments:
                break
            nxt = 2.0 * (ht @ cur) - prev
            mu[:, 2 * k + 1] = 2.0 * np.einsum("ij,ij->j", nxt, cur) - mu[:, 1]
            prev, cur = cur, nxt
        out[start:start + b] = mu[:, :n_moments]
    return out


def density_from_moments(moments: np.ndarray, energies: np.ndarray, scale: Rescaling, kernel: str = "jackson",
                         chunk: int = 256) -> np.ndarray:
    """rho(E) = [g_0 mu_0 + 2 sum_n g_n mu_n T_n(x)] / (pi a sqrt(1 - x^2)) on ``energies``
    (inside the rescaled interval), for every row of ``moments``; units 1/energy."""
    mu = np.atleast_2d(moments)
    m = mu.shape[1]
    g = jackson_kernel(m) if kernel == "jackson" else np.ones(m)
    x = scale.x(energies)
    if np.any(np.abs(x) >= 1):
        raise ValueError("energies outside the rescaled spectrum")
    t = np.cos(np.outer(np.arange(m), np.arccos(x)))  # (M, E)
    coef = mu * g
    coef[:, 1:] *= 2.0
    out = np.empty((mu.shape[0], x.size))
    for start in range(0, mu.shape[0], chunk):
        out[start:start + chunk] = coef[start:start + chunk] @ t
    return out / (np.pi * scale.a * np.sqrt(1.0 - x ** 2))


def exact_moments(weights: np.ndarray, eigenvalues: np.ndarray, n_moments: int, scale: Rescaling) -> np.ndarray:
    """mu_n^j = sum_alpha |phi_alpha j|^2 T_n(x_alpha) from a full diagonalization
    (reference for tests), shape (N_sites, n_moments)."""
    x = scale.x(eigenvalues)
    t = np.cos(np.outer(np.arccos(x), np.arange(n_moments)))  # (modes, M)
    return weights @ t
