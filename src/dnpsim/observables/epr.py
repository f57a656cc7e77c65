"""EPR spectrum after a pi/2 pulse (Maimbourg et al. 2021, SM Sec. II).

Binned spectrum f~(omega) on bins I_j = [omega_j, omega_j + delta omega) (Eq. (S60)):

* general formula with coherences, Eq. (S63):
  f~(omega) = 1/(N delta omega) sum_{n in k+1, k' in k} Re{[1(omega_nk' in I) - (i/pi)
  ln|(omega + delta omega - omega_nk') / (omega - omega_nk')|] C_nk'},
  C_nk' = sum_i [ (rho_{k+1}^T A_i)_{nk'} - (A_i rho_k^T)_{nk'} ] A_i[n, k'],
  A_i[n, k'] = <n|S^+_i|k'>, rho_k the diagonal (same-magnetization) block of the
  stationary state in the eigenbasis (only those blocks contribute, see the text
  after Eq. (S62));
* diagonal formula, Eq. (S64): C_nk' = (rho_nn - rho_k'k') sum_i |<n|S^+_i|k'>|^2.

omega_nk' = eps_n - eps_k' are lab-frame gaps (rad/s, ~ omega_e).  Since
sum_{n,k'} C_nk' = sum_i Tr rho [S^+_i, S^-_i] = 2 <S^z>, the indicator part
integrates to the total polarization P^z (Eq. (S66)).
"""

from __future__ import annotations

import numpy as np

from dnpsim.dynamics.eigenbasis import SectorEigensystem
from dnpsim.dynamics.jumps import lowering_amplitudes
from dnpsim.models.electrons import DipolarElectrons


def _check_edges(edges) -> np.ndarray:
    edges = np.asarray(edges, dtype=float)
    if edges.ndim != 1 or edges.size < 2 or not np.all(np.diff(edges) > 0):
        raise ValueError("edges must be an increasing 1-d array of at least two bin edges (rad/s)")
    return edges


def transition_weights(model: DipolarElectrons, sectors: list[SectorEigensystem], blocks: list[np.ndarray],
                       coherent: bool = True) -> list[tuple[np.ndarray, np.ndarray]]:
    """(gaps, C) per sector pair k -> k+1: lab gaps eps_n - eps_k' and the weights
    C_nk' of Eq. (S63) (``coherent``) or Eq. (S64) (only the diagonals of ``blocks``
    are used); both (d_{k+1}, d_k).  ``blocks[k]`` is the (d_k, d_k) block rho_kk in the
    eigenbasis of sector k (needs eigenvectors for the coherent formula)."""
    out = []
    for k in range(len(sectors) - 1):
        low, high = sectors[k], sectors[k + 1]
        gaps = high.lab_energies[:, None] - low.lab_energies[None, :]
        if coherent:
            amps = np.transpose(lowering_amplitudes(model, low, high), (0, 2, 1))  # (N, d_{k+1}, d_k) <n|S+_i|k'>
            rho_hi, rho_lo = blocks[k + 1], blocks[k]
            c = np.zeros(gaps.shape, dtype=complex)
            for a in amps:
                c += a * (rho_hi.T @ a - a @ rho_lo.T)
        else:
            from dnpsim.dynamics.eigenbasis import raising_strengths

            if low.vectors is None or high.vectors is None:
                raise ValueError("sectors need eigenvectors (keep_vectors=True)")
            strength, _ = raising_strengths(model, low, high)
            p_hi = np.real(np.diagonal(blocks[k + 1]))
            p_lo = np.real(np.diagonal(blocks[k]))
            c = (p_hi[:, None] - p_lo[None, :]) * strength
        out.append((gaps, c))
    return out


def epr_spectrum(model: DipolarElectrons, sectors: list[SectorEigensystem], blocks: list[np.ndarray], edges,
                 coherent: bool = True, principal_value: bool = True) -> np.ndarray:
    """Binned EPR spectrum f~ on the bins of ``edges`` (rad/s, lab frame), Eq. (S63)
    (``coherent``) or (S64).  Returns (len(edges) - 1,) values in 1/(rad/s); the sum of
    f~ * bin width over bins covering every gap is P^z (Eq. (S66)) for the indicator
    part; ``principal_value`` adds the logarithmic term of Eq. (S63), which vanishes
    for a density matrix diagonal in the eigenbasis."""
    edges = _check_edges(edges)
    n = model.n_electrons
    widths = np.diff(edges)
    total = np.zeros(edges.size - 1)
    for gaps, c in transition_weights(model, sectors, blocks, coherent):
        g = gaps.ravel()
        w = c.ravel()
        total += np.histogram(g, bins=edges, weights=w.real)[0]
        if coherent and principal_value and np.any(w.imag != 0):
            lo = edges[:-1, None]
            hi = edges[1:, None]
            with np.errstate(divide="ignore"):
                logs = np.log(np.abs(hi - g[None, :])) - np.log(np.abs(lo - g[None, :]))
            logs[~np.isfinite(logs)] = 0.0
            total += (logs @ w.imag) / np.pi
    return total / (n * widths)


def diagonal_blocks_from_populations(sectors: list[SectorEigensystem], populations: np.ndarray) -> list[np.ndarray]:
    """Diagonal density-matrix blocks (eigenbasis) from populations in sector order."""
    out, start = [], 0
    for s in sectors:
        out.append(np.diag(populations[start : start + s.dim]).astype(complex))
        start += s.dim
    return out
