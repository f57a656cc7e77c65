"""Spectral diagnostics of a stationary density matrix (Maimbourg et al. 2021,
Fig. 3, Figs. S9-S10): eigenvalues of rho_stat, the entanglement entropy of its
eigenvectors for a bipartition of the spins, and local S^z_i expectation values.

The computational basis index has bit i set when spin i is up; the subsystem kept
in the bipartition is spins 0 .. n_keep - 1 (Fig. 3 traces out spins 5-10 of 10,
i.e. keeps the first half).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class StationarySpectrum:
    """Eigen-decomposition of rho_stat, sorted by descending eigenvalue.

    eigenvalues : (2^N,) real; vectors : (2^N, 2^N) columns (computational basis);
    entropies : (2^N,) von Neumann entanglement entropy (natural log) of each vector;
    magnetization : (2^N,) <psi|S^z|psi>; local_z : (2^N, N) <psi|S^z_i|psi>.
    """

    eigenvalues: np.ndarray = field(repr=False)
    vectors: np.ndarray = field(repr=False)
    entropies: np.ndarray = field(repr=False)
    magnetization: np.ndarray = field(repr=False)
    local_z: np.ndarray = field(repr=False)


def entanglement_entropy(vector: np.ndarray, n_spins: int, n_keep: int) -> float:
    """Von Neumann entropy -sum lambda log lambda of the reduced density matrix of spins
    0..n_keep-1 for a pure state ``vector`` (length 2^N, computational basis)."""
    if not 0 < n_keep < n_spins:
        raise ValueError(f"n_keep must be in 1..{n_spins - 1}, got {n_keep}")
    psi = np.asarray(vector).reshape(2 ** (n_spins - n_keep), 2**n_keep)  # [rest, kept]
    s = np.linalg.svd(psi, compute_uv=False)
    p = s * s
    p = p[p > 1e-15]
    p = p / p.sum()
    return float(-(p * np.log(p)).sum())


def stationary_spectrum(rho: np.ndarray, n_spins: int, n_keep: int | None = None) -> StationarySpectrum:
    """Diagonalize the Hermitian part of ``rho`` (2^N, 2^N) and analyze its eigenvectors
    (Fig. 3): entanglement entropy with ``n_keep`` spins kept (default N // 2),
    total and local S^z expectation values."""
    n_keep = n_spins // 2 if n_keep is None else n_keep
    vals, vecs = np.linalg.eigh(0.5 * (rho + rho.conj().T))
    order = np.argsort(vals)[::-1]
    vals, vecs = vals[order], vecs[:, order]
    idx = np.arange(2**n_spins)
    spins = ((idx[:, None] >> np.arange(n_spins)[None, :]) & 1) - 0.5  # (2^N, N)
    weights = np.abs(vecs) ** 2
    local = weights.T @ spins
    ent = np.array([entanglement_entropy(vecs[:, j], n_spins, n_keep) for j in range(vecs.shape[1])])
    return StationarySpectrum(vals, vecs, ent, local.sum(axis=1), local)


def local_z_histogram(local_z: np.ndarray, bins) -> tuple[np.ndarray, np.ndarray]:
    """Normalized histogram (density, edges) of all S^z_i expectation values of a set
    of states (Fig. 3 inset); ``local_z`` is (n_states, N)."""
    return np.histogram(np.asarray(local_z).ravel(), bins=bins, density=True)
