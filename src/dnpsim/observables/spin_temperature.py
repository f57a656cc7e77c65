"""Spin-temperature ansatz, its fit and its Kullback-Leibler distance.

Eq. (17) of De Luca et al. 2016: p_n^Ans = exp(-beta_s (eps_n + h s_{z,n})) / Z, with
lab-frame energies eps_n and total electron S_z eigenvalue s_{z,n}.  The fitting
method (Eq. (18)) fixes beta_s and h by matching <H> and <S_z> of the stationary
state, per realization or summed over realizations (the overline of Eq. (18)).

Numerics: with block energies E_n = eps_n - omega_e s_n, the ansatz is
exp(-a E_n - b s_n) with natural parameters a = beta_s and b = beta_s (omega_e + h).
Matching the two averages is the stationarity condition of the strictly convex
function sum_r [log Z_r(a, b) + a <E>_r + b <s>_r], so Newton's method with a
backtracking line search converges from the thermal starting point; its Jacobian is
the (summed) covariance matrix of (E, s).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from dnpsim.errors import ConvergenceError


@dataclass(frozen=True)
class SpinTemperatureFit:
    """Result of the fitting method (Eq. (18)).

    beta_s : inverse spin temperature, s/rad
    h : effective field conjugate to S_z, rad/s (lab frame; h = 0 is thermal)
    electron_larmor : omega_e used for the lab energies, rad/s
    residual : max relative mismatch of the matched averages
    iterations : Newton steps
    """

    beta_s: float
    h: float
    electron_larmor: float
    residual: float
    iterations: int

    @property
    def temperature(self) -> float:
        """The spin temperature T_s = hbar / (k_B beta_s) in K (inf for beta_s = 0,
        negative for an inverted ansatz)."""
        from dnpsim.units import HBAR, K_B

        return HBAR / (K_B * self.beta_s) if self.beta_s != 0 else float("inf")

    def nuclear_polarization(self, omega_n: float) -> float:
        """Eq. (1): P_n = tanh(beta_s omega_n / 2) (omega_n in rad/s)."""
        return float(np.tanh(0.5 * self.beta_s * omega_n))

    def electron_polarization(self, omega) -> np.ndarray:
        """Ansatz polarization -tanh(beta_s (omega + h) / 2) of a spin with Zeeman omega."""
        return -np.tanh(0.5 * self.beta_s * (np.asarray(omega, dtype=float) + self.h))

    def populations(self, block_energies: np.ndarray, magnetizations: np.ndarray) -> np.ndarray:
        """p_n^Ans of Eq. (17) on one realization's eigenstates."""
        return ansatz_populations(block_energies, magnetizations, self.beta_s,
                                  self.beta_s * (self.electron_larmor + self.h))


def ansatz_populations(block_energies: np.ndarray, magnetizations: np.ndarray, a: float, b: float) -> np.ndarray:
    """exp(-a E_n - b s_n) / Z, computed in log space (no overflow)."""
    log_w = -a * block_energies - b * magnetizations
    return np.exp(log_w - logsumexp(log_w))


def fit_spin_temperature(block_energies, magnetizations, populations, electron_larmor: float,
                         *, tol: float = 1e-8, max_iterations: int = 200) -> SpinTemperatureFit:
    """Fitting method of Eq. (18) of the 2016 paper.

    Parameters
    ----------
    block_energies : array (n_states,) or list of arrays, one per realization
        E_n = eps_n - omega_e s_n, rad/s.
    magnetizations : same layout, s_{z,n}.
    populations : same layout, stationary p_n.
    electron_larmor : omega_e, rad/s.

    With lists, the averages summed over realizations are matched with one
    realization-independent (beta_s, h), as in Eq. (18).
    """
    if isinstance(block_energies, np.ndarray) and block_energies.ndim == 1:
        block_energies, magnetizations, populations = [block_energies], [magnetizations], [populations]
    pops = [np.asarray(p, float) / np.sum(p) for p in populations]
    mean_energy = sum(p @ np.asarray(e, float) for p, e in zip(pops, block_energies))
    mean_magnetization = sum(p @ np.asarray(m, float) for p, m in zip(pops, magnetizations))
    return fit_spin_temperature_to_averages(block_energies, magnetizations, mean_energy, mean_magnetization,
                                            electron_larmor, tol=tol, max_iterations=max_iterations)


def fit_spin_temperature_to_averages(block_energies, magnetizations, mean_energy: float, mean_magnetization: float,
                                     electron_larmor: float, *, tol: float = 1e-8,
                                     max_iterations: int = 200) -> SpinTemperatureFit:
    """Eq. (18) from the stationary averages alone: ``mean_energy`` = sum over
    realizations of <E>_stat (rad/s) and ``mean_magnetization`` = sum of <S_z>_stat,
    with each realization's spectrum (lists of ``block_energies`` and
    ``magnetizations``).  Useful when the populations are no longer at hand."""
    if isinstance(block_energies, np.ndarray) and block_energies.ndim == 1:
        block_energies, magnetizations = [block_energies], [magnetizations]
    energies = [np.asarray(e, float) for e in block_energies]
    mags = [np.asarray(m, float) for m in magnetizations]
    scale = max(float(np.sqrt(np.mean([np.var(e) for e in energies]))), 1e-300)
    e_scaled = [e / scale for e in energies]
    target = np.array([mean_energy / scale, mean_magnetization])

    def objective(theta):
        # sum_r log Z_r + theta . target; gradient = target - <(E, s)>_theta
        value, mean, cov = 0.0, np.zeros(2), np.zeros((2, 2))
        for e, m in zip(e_scaled, mags):
            log_w = -theta[0] * e - theta[1] * m
            log_z = logsumexp(log_w)
            w = np.exp(log_w - log_z)
            x = np.stack([e, m])
            mu = x @ w
            value += log_z
            mean += mu
            cov += (x * w) @ x.T - np.outer(mu, mu)
        return value + theta @ target, target - mean, cov

    theta = np.zeros(2)
    value, grad, cov = objective(theta)
    norm = np.array([max(np.sqrt(cov[0, 0]), 1e-300), max(np.sqrt(cov[1, 1]), 1e-300)])
    best = np.inf
    for iteration in range(1, max_iterations + 1):
        try:
            step = np.linalg.solve(cov, grad)  # Hessian of the objective is cov
        except np.linalg.LinAlgError:
            step = grad / np.maximum(np.diag(cov), 1e-300)
        t = 1.0
        while True:
            candidate = theta - t * step
            new_value, new_grad, new_cov = objective(candidate)
            # Armijo test with round-off slack: near the solution the objective moves
            # by ~eps |value| and a strict test would reject the final Newton steps
            if new_value <= value - 1e-4 * t * (grad @ step) + 1e-13 * (1.0 + abs(value)) or t < 1e-12:
                break
            t *= 0.5
        theta, value, grad, cov = candidate, new_value, new_grad, new_cov
        residual = float(np.max(np.abs(grad) / (np.abs(target) + norm)))
        # past the tolerance, keep polishing while Newton still gains (quadratic
        # convergence makes the extra steps nearly free); stop at the round-off floor
        if residual < tol and (residual > 0.5 * best or residual < 1e-15):
            break
        best = min(best, residual)
    else:
        if residual > tol:
            raise ConvergenceError("spin-temperature fit (Eq. 18) did not converge", residual)
    a = theta[0] / scale
    b = theta[1]
    h = (b / a - electron_larmor) if a != 0.0 else np.inf
    return SpinTemperatureFit(float(a), float(h), float(electron_larmor), residual, iteration)


def kl_divergence(p_stat: np.ndarray, p_ansatz: np.ndarray) -> float:
    """D_KL = sum_n p_n^stat ln(p_n^stat / p_n^Ans), Eq. (27); terms with p^stat = 0
    contribute zero."""
    p = np.asarray(p_stat, float)
    q = np.asarray(p_ansatz, float)
    mask = p > 0.0
    return float(np.sum(p[mask] * (np.log(p[mask]) - np.log(q[mask]))))
