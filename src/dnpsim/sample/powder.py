"""Powder (frozen-solution) electron offsets: every electron a radical in a random
orientation.

Approximation: first order, high field.  The electron Zeeman interaction
mu_B B0 . g . S and the hyperfine couplings S . A . I are kept to first order in the
electron quantization axis; the g and A tensors of a radical are coaxial (one
principal frame, so ``g = (g_x, g_y, g_z)`` and ``A = (A_x, A_y, A_z)`` are diagonal
in it); the nuclear Zeeman, quadrupole and second-order (pseudo-secular) hyperfine
terms are left out.  For an electron whose principal frame makes direction cosines
l = (sin theta cos phi, sin theta sin phi, cos theta) with B0,

    g_eff(theta, phi)  = sqrt(sum_i g_i^2 l_i^2)
    A_eff(theta, phi)  = sqrt(sum_i g_i^2 A_i^2 l_i^2) / g_eff
    nu(theta, phi, m)  = g_eff mu_B B0 / h + sum_k m_k A_eff,k

(m_k in {-I, ..., I} for each coupled nucleus k, equally likely at the temperatures
and fields of DNP, where the nuclei are nearly unpolarized).  The offset of the
electron is nu - omega_e / 2 pi, with omega_e / 2 pi the frame of the offsets
(``model.electron_larmor``, by default g_iso mu_B B0 / h with g_iso the mean of the
principal g values).

Orientations are uniform on the sphere: cos theta uniform in [-1, 1], phi uniform in
[0, 2 pi), drawn from a seeded :class:`numpy.random.Generator`.

Axial powder line shape
-----------------------
For an axial tensor g_x = g_y = g_perp, g_z = g_par, g_eff depends on theta only:
g^2 = g_perp^2 + (g_par^2 - g_perp^2) u^2 with u = |cos theta|, uniform in [0, 1]
(the solid-angle element is d(cos theta) d phi).  Inverting,
u(g) = sqrt((g^2 - g_perp^2) / (g_par^2 - g_perp^2)), so for g between g_perp and
g_par

    p(g) = |du/dg| = g / sqrt((g_par^2 - g_perp^2) (g^2 - g_perp^2)),

(absolute values under the root when g_par < g_perp): an integrable divergence at
g_perp (the many orientations near theta = 90 deg) and the finite value
g_par / (g_par^2 - g_perp^2) at g_par.  Its cumulative distribution is u(g) (or
1 - u(g) when g_par < g_perp).  The offsets nu = g mu_B B0 / h - omega_e / 2 pi are
linear in g, so they fill exactly the span [g_perp, g_par] mu_B B0 / h - omega_e / 2pi
with the same shape (:func:`axial_offset_density`, :func:`axial_offset_cdf`).
"""

from __future__ import annotations

import numpy as np

from dnpsim.units import H_PLANCK, MU_B

TWO_PI = 2.0 * np.pi


def random_orientations(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` orientations uniform on the sphere: (theta, phi) in rad, theta in [0, pi]."""
    cos_theta = rng.uniform(-1.0, 1.0, n)
    phi = rng.uniform(0.0, TWO_PI, n)
    return np.arccos(cos_theta), phi


def direction_cosines(theta: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """(n, 3) direction cosines of B0 in the principal frames."""
    theta = np.asarray(theta, dtype=float)
    phi = np.asarray(phi, dtype=float)
    s = np.sin(theta)
    return np.stack([s * np.cos(phi), s * np.sin(phi), np.cos(theta)], axis=-1)


def effective_g(g, theta, phi) -> np.ndarray:
    """g_eff = sqrt(sum_i g_i^2 l_i^2) per orientation."""
    l2 = direction_cosines(theta, phi) ** 2
    return np.sqrt(l2 @ (np.asarray(g, dtype=float) ** 2))


def effective_hyperfine(g, principal, theta, phi) -> np.ndarray:
    """A_eff = sqrt(sum_i g_i^2 A_i^2 l_i^2) / g_eff (Hz) per orientation (coaxial g, A)."""
    g = np.asarray(g, dtype=float)
    l2 = direction_cosines(theta, phi) ** 2
    return np.sqrt(l2 @ (g * np.asarray(principal, dtype=float)) ** 2) / np.sqrt(l2 @ g**2)


def nuclear_projections(spin: float, size, rng: np.random.Generator) -> np.ndarray:
    """m_I drawn uniformly from {-I, -I + 1, ..., I}."""
    levels = int(round(2 * spin)) + 1
    return rng.integers(0, levels, size) - spin


def powder_offsets(n: int, g, hyperfine, b0: float, electron_larmor: float,
                   rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(offsets in Hz, theta, phi) of ``n`` electrons of one radical in random
    orientations.  ``g``: principal values; ``hyperfine``: groups with ``species``,
    ``spin``, ``principal`` (Hz) and ``count`` (:class:`dnpsim.sample.radicals.Hyperfine`);
    ``b0`` in T; ``electron_larmor`` (Hz) the frame.  Draw order: cos theta, phi, then
    m_I of each group (count x n)."""
    theta, phi = random_orientations(n, rng)
    nu = effective_g(g, theta, phi) * (MU_B * b0 / H_PLANCK)
    for group in hyperfine:
        a_eff = effective_hyperfine(g, group.principal, theta, phi)
        m = nuclear_projections(group.spin, (group.count, n), rng).sum(axis=0)
        nu = nu + m * a_eff
    return nu - electron_larmor, theta, phi


def axial_offset_span(g_perp: float, g_par: float, b0: float, electron_larmor: float) -> tuple[float, float]:
    """The span (low, high) in Hz of the offsets of an axial g tensor (no hyperfine)."""
    a, b = sorted((g_perp, g_par))
    scale = MU_B * b0 / H_PLANCK
    return a * scale - electron_larmor, b * scale - electron_larmor


def _g_of(offset, b0, electron_larmor):
    return (np.asarray(offset, dtype=float) + electron_larmor) * H_PLANCK / (MU_B * b0)


def axial_offset_cdf(offset, g_perp: float, g_par: float, b0: float, electron_larmor: float) -> np.ndarray:
    """The analytic cumulative distribution of axial powder offsets (Hz), see the
    module docstring: u(g) = sqrt((g^2 - g_perp^2) / (g_par^2 - g_perp^2))."""
    g = _g_of(offset, b0, electron_larmor)
    lo, hi = sorted((g_perp, g_par))
    g = np.clip(g, lo, hi)
    u = np.sqrt(np.clip((g**2 - g_perp**2) / (g_par**2 - g_perp**2), 0.0, 1.0))
    return u if g_par > g_perp else 1.0 - u


def axial_offset_density(offset, g_perp: float, g_par: float, b0: float, electron_larmor: float) -> np.ndarray:
    """The analytic powder line shape of an axial g tensor, as a density in offset (1/Hz):
    p(g) dg/d(offset) with p(g) = g / sqrt(|g_par^2 - g_perp^2| |g^2 - g_perp^2|),
    zero outside the span."""
    g = _g_of(offset, b0, electron_larmor)
    lo, hi = sorted((g_perp, g_par))
    inside = (g > lo) & (g < hi)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = g / np.sqrt(abs(g_par**2 - g_perp**2) * abs(g**2 - g_perp**2))
    return np.where(inside, p, 0.0) * H_PLANCK / (MU_B * b0)
