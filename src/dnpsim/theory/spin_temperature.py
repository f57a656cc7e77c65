"""Perturbative (N -> infinity, weak interaction) spin-temperature theory.

Implements Sec. III B and Appendices A-C of De Luca, Rodriguez Arias, Mueller, Rosso,
"Thermalization and many-body localization in systems under dynamic nuclear
polarization", PRB 94, 014203 (2016) ("the spin-temperature paper"): the inverse
spin temperature ``beta_s`` and the effective field ``h`` of the ansatz Eq. (17) are
fixed by requiring that the microwaves and the lattice exchange, on average, neither
energy nor electron magnetization with the electron spins (Eqs. (A7)):

* finite N, U = 0: Eqs. (C2)-(C3);  finite N, order U^2: Eqs. (C4)-(C5);
* N -> infinity (uniform distribution of Zeeman energies): Eqs. (20) and (23)-(25);
* Borghini's delta-function absorption, Eq. (22), in the N -> infinity limit.

Units (docs/conventions.md): every frequency is angular, in rad/s (hbar = 1),
times are in s, and the temperature enters as ``beta = hbar / (k_B T)`` in s/rad
(:func:`dnpsim.units.inverse_temperature`).

Signs.  A spin with Zeeman energy ``omega`` has thermal polarization
``P0(omega) = -tanh(beta omega / 2)`` (electrons polarize down).  The ansatz Eq. (17),
``p_n ~ exp(-beta_s (eps_n + h s_n))``, gives for a spin of Zeeman energy ``omega``

    P_e(omega) = -tanh(beta_s (omega + h) / 2) = -tanh(beta_s (omega - omega_c) / 2),

with ``omega_c = -h`` (close to omega_e under DNP conditions), and the nuclear
"thermometer" (Zeeman term -omega_n I_z) acquires ``P_n = tanh(beta_s omega_n / 2)``
(Eq. (1)).

Interpretation of the printed equations (all checked numerically in
``tests/test_theory_spin_temperature.py``):

1. Eq. (21) is printed with ``T2e omega^2 P_e`` in the microwave term; the
   ``omega^2`` is the microwave amplitude squared ``omega_1^2`` (the other text
   extraction of the paper reads ``omega_1^2``).  Derivation: for one spin the bath
   rates of Eq. (12) sum to ``1/T1e`` (sum_alpha |<up|S_alpha|down>|^2 = 1/2 and
   h_beta(x) + h_beta(-x) = 1), and the microwave rate Eq. (16) is, in both
   directions, ``W = 4 omega_1^2 T2e |<up|S_x|down>|^2 / (1 + T2e^2 delta^2)``
   with ``|<up|S_x|down>|^2 = 1/4``, ``delta = omega - omega_MW``.  Hence

       dP/dt = -(P - P0)/T1e - 2 omega_1^2 T2e P / (1 + T2e^2 delta^2),

   and Eq. (21) is ``kappa = (1/2) dP/dt = d<S_z>/dt`` (the paper calls kappa
   "dP_e/dt", but its own relaxation term (P0 - P_e)/(2 T1e) fixes the factor 1/2;
   with it, Sum_j kappa_j is exactly the magnetization flow of Eq. (A7)).  Setting
   kappa = 0 gives the Bloch saturation law, see :func:`bloch_polarization`.
2. Eq. (22) (Borghini) likewise reads ``pi omega_1^2 P_e delta(omega - omega_MW)``:
   it is the T2e -> infinity limit ``T2e / (1 + T2e^2 x^2) -> pi delta(x)`` of the
   Lorentzian of Eq. (21).
3. Eqs. (23) are printed with a prefactor ``U^2 / 2``, whereas Eqs. (C4)-(C5), of
   which they are claimed to be the N -> infinity limit, carry ``U^2 / N`` in front
   of ``Sum_{l != j}``; turning both sums into integrals over f gives ``U^2``, not
   ``U^2 / 2``.  We follow (C4)-(C5): the coefficient ``U^2/N = <U_ij^2>`` per pair was
   verified against the exact two-spin (N = 2) master equation (Eqs. (11), (12),
   (16) with the ansatz populations): the O(U_12^2) parts of its magnetization and
   energy flows agree with (C4)-(C5).  The printed Eqs. (23) correspond to our
   results with U replaced by U / sqrt(2).
4. In (C4)-(C5) and (24)-(25) the derivative acts on the first argument only
   (Delta_j, resp. omega), the other Zeeman energy held fixed, as in (B10).
5. Eq. (20b)/(23b) with the weight ``omega`` is replaced by the equivalent
   combination (23b) - omega_ref (23a), i.e. the weight ``omega - omega_ref``: this
   is exact (the U^2 terms are linear in the weighted function) and avoids the
   cancellation of terms of size omega_e ~ 6e11 rad/s.
6. Following Appendix A, the bath is taken to flip spins only through S_x, S_y
   ("rotational symmetry around z"); the S_z channel of Eq. (12), which at order U^2
   exchanges energy (but no magnetization) inside a magnetization sector, is not
   part of (C5).

Range of validity.  The U^2 terms are a second-order expansion.  Integrated by parts
against the Lorentzian peak of kappa, the U^2 term of (23a) multiplies the microwave
absorption at x_MW = (omega_MW - omega_e)/Delta omega_e (inside the band) by
``1 - U^2 / (Delta omega_e^2 (1 - x_MW^2))``: once this is not small the expansion is
meaningless, and in practice the solution branch ends in a fold (e.g. at
omega_MW = omega_e - 2 pi 30 MHz for U = 2 pi 44.9 MHz with the Table I parameters).
The solvers warn (RuntimeWarning) when the factor is <= 0 and raise RuntimeError when
no solution is found.  For finite N the U^2/N terms act as second-order shifts of the
individual Zeeman energies, so the expansion also needs the Lorentzian of width
1/T2e to be resolved by the spacing of the omega_j (large enough N).

Numerical parameterization.  Under DNP ``h ~ -omega_e`` and ``beta_s omega_e`` is of
order 10^3-10^4, so the unknowns are not (beta_s, h) but the well-scaled pair

    A     = beta_s * scale                           (scale = half-width of the band)
    theta = beta_s * (omega_ref - omega_c) = beta_s * (omega_ref + h)

(omega_ref = centre of the band), so that ``P_e = -tanh((A x + theta)/2)`` with
``x = (omega - omega_ref)/scale`` in [-1, 1].  Unlike ``(omega_c - omega_e)/scale``,
this pair stays finite where the DNP profile changes sign: there beta_s -> 0 while
``theta`` stays finite, i.e. ``omega_c`` diverges.  Both equations are multiplied by
``2 T1e`` and divided by N, so they are dimensionless and O(1).
"""

from __future__ import annotations

import itertools
import math
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import integrate, optimize
from scipy.special import expit

__all__ = [
    "PerturbativeSpinTemperature",
    "bloch_polarization",
    "kappa",
    "discrete_flows",
    "spin_temperature_discrete",
    "spin_temperature_continuum",
]

#: Acceptance threshold on max |scaled residual| for the finite-N equations.
_TOL_DISCRETE = 1e-10
#: Acceptance threshold for the quadrature-based N -> infinity equations.
_TOL_CONTINUUM = 1e-8
#: Largest number of matrix entries held at once when summing 1/(x_j - x_l).
_CHUNK_ENTRIES = 4_000_000


# --------------------------------------------------------------------------------------
# result
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PerturbativeSpinTemperature:
    """Solution (beta_s, h) of the perturbative spin-temperature equations.

    Attributes
    ----------
    beta_s : float
        Inverse spin temperature, s/rad (``beta_s * omega`` is dimensionless).
        Positive when the electrons are polarized down more strongly at higher Zeeman
        energy (microwaves below omega_e), negative above.
    h : float
        Effective field of the ansatz Eq. (17), rad/s; ``h = -omega_c``.  Infinite
        (with the sign of ``theta``) if ``beta_s == 0`` exactly.
    omega_c : float
        Centre of the ansatz, ``omega_c = -h`` (rad/s), the Zeeman energy at which
        ``P_e`` vanishes.  ``omega_c = 0`` in thermal equilibrium.
    residual : float
        Max |left-hand side| of the two stationarity equations at the solution, in
        the scaled (dimensionless) form used by the solver (equations multiplied by
        2 T1e and divided by N).
    omega_ref : float
        Reference frequency (rad/s) about which the ansatz is parameterized (centre of
        the Zeeman band).
    theta : float
        ``beta_s * (omega_ref - omega_c)`` (dimensionless); finite even when beta_s = 0.
    """

    beta_s: float
    h: float
    omega_c: float
    residual: float
    omega_ref: float
    theta: float

    def electron_polarization(self, omega):
        """Ansatz polarization ``P_e(omega) = -tanh(beta_s (omega - omega_c) / 2)``.

        Evaluated as ``-tanh((beta_s (omega - omega_ref) + theta) / 2)``, which is the
        same function but stays accurate when omega_c is huge (beta_s -> 0).
        ``omega`` in rad/s, scalar or array; returns the same shape.
        """
        omega = np.asarray(omega, dtype=float)
        return -np.tanh(0.5 * (self.beta_s * (omega - self.omega_ref) + self.theta))

    def nuclear_polarization(self, omega_n):
        """Nuclear polarization ``P_n = tanh(beta_s omega_n / 2)`` (Eq. (1));
        ``omega_n`` (rad/s, > 0 for 13C with Zeeman term -omega_n I_z), scalar or array."""
        return np.tanh(0.5 * self.beta_s * np.asarray(omega_n, dtype=float))


def _result(A, theta, scale, omega_ref, residual):
    beta_s = float(A) / scale
    theta = float(theta)
    if beta_s != 0.0:
        omega_c = omega_ref - theta / beta_s
    else:
        omega_c = math.copysign(math.inf, -theta) if theta != 0.0 else omega_ref
    return PerturbativeSpinTemperature(
        beta_s=beta_s,
        h=-omega_c,
        omega_c=omega_c,
        residual=float(residual),
        omega_ref=float(omega_ref),
        theta=theta,
    )


# --------------------------------------------------------------------------------------
# numerically stable pieces (|P| -> 1 when beta omega_e / 2 >~ 18, e.g. T < 0.15 K at 94 GHz)
# --------------------------------------------------------------------------------------
def _tanh_diff(u, v):
    """tanh(u) - tanh(v) without cancellation when both are close to +-1 (arrays).

    tanh(u) = 2 expit(2u) - 1 and expit(x) - expit(y) = expit(-y) - expit(-x): the
    tails are evaluated where expit is accurate."""
    u = np.asarray(u, dtype=float)
    v = np.asarray(v, dtype=float)
    out = np.tanh(u) - np.tanh(v)
    pos = (u > 0.0) & (v > 0.0)
    neg = (u < 0.0) & (v < 0.0)
    out = np.where(pos, 2.0 * (expit(-2.0 * v) - expit(-2.0 * u)), out)
    return np.where(neg, 2.0 * (expit(2.0 * u) - expit(2.0 * v)), out)


def _tanh_diff_scalar(u, v):
    """Scalar (math) version of :func:`_tanh_diff`, for the quadrature integrands."""
    if u > 0.0 and v > 0.0:
        return 2.0 * (1.0 / (1.0 + math.exp(2.0 * v)) - 1.0 / (1.0 + math.exp(2.0 * u)))
    if u < 0.0 and v < 0.0:
        return 2.0 * (1.0 / (1.0 + math.exp(-2.0 * u)) - 1.0 / (1.0 + math.exp(-2.0 * v)))
    return math.tanh(u) - math.tanh(v)


def _sech2(u):
    """1 - tanh(u)^2 = sech(u)^2, accurate in the tails (arrays)."""
    e = np.exp(-2.0 * np.abs(np.asarray(u, dtype=float)))
    return 4.0 * e / (1.0 + e) ** 2


def _sech2_scalar(u):
    e = math.exp(-2.0 * abs(u))
    return 4.0 * e / (1.0 + e) ** 2


# --------------------------------------------------------------------------------------
# kappa, Eq. (21), and the single-spin Bloch limit
# --------------------------------------------------------------------------------------
def kappa(omega, *, beta, beta_s, omega_c, omega_mw, omega_1, t1e, t2e):
    """Rate of change kappa(omega) of <S_z> of the spins with Zeeman energy omega, Eq. (21).

    ``kappa = (P0 - P_e)/(2 T1e) - omega_1^2 T2e P_e / (1 + T2e^2 (omega - omega_MW)^2)``

    with ``P0 = -tanh(beta omega/2)`` and the ansatz ``P_e = -tanh(beta_s (omega -
    omega_c)/2)`` (Eq. (17), omega_c = -h).  The printed ``omega^2`` of Eq. (21) is the
    microwave amplitude ``omega_1^2`` (module docstring, item 1); kappa = (1/2) dP/dt.

    Parameters
    ----------
    omega : float or array, rad/s
        Electron Zeeman energies (vectorized; output has the same shape).
    beta : float, s/rad
        Lattice inverse temperature hbar/(k_B T).
    beta_s : float, s/rad
        Inverse spin temperature.
    omega_c : float, rad/s
        Ansatz centre, = -h.
    omega_mw, omega_1 : float, rad/s
        Microwave frequency and amplitude (Eq. (8)).
    t1e, t2e : float, s
        Electron longitudinal and transverse relaxation times.

    Returns
    -------
    kappa : float or array, 1/s
    """
    omega = np.asarray(omega, dtype=float)
    u0, u = 0.5 * beta * omega, 0.5 * beta_s * (omega - omega_c)
    pe = -np.tanh(u)
    lor = 1.0 / (1.0 + (t2e * (omega - omega_mw)) ** 2)
    out = _tanh_diff(u, u0) / (2.0 * t1e) - omega_1**2 * t2e * pe * lor  # P0 - P_e = tanh(u) - tanh(u0)
    return out if out.ndim else float(out)


def _kappa_and_slope(omega, *, beta, beta_s, omega_c, omega_mw, omega_1, t1e, t2e):
    """kappa(omega) (Eq. (21)) and its closed-form derivative d kappa / d omega (1/s and
    s^-1 (rad/s)^-1); arrays of the shape of ``omega``."""
    omega = np.asarray(omega, dtype=float)
    u0, u = 0.5 * beta * omega, 0.5 * beta_s * (omega - omega_c)
    pe = -np.tanh(u)
    d = omega - omega_mw
    lor = 1.0 / (1.0 + (t2e * d) ** 2)
    p0_w = -0.5 * beta * _sech2(u0)
    pe_w = -0.5 * beta_s * _sech2(u)
    lor_w = -2.0 * t2e**2 * d * lor**2
    w1t2 = omega_1**2 * t2e
    k = _tanh_diff(u, u0) / (2.0 * t1e) - w1t2 * pe * lor
    k_w = (p0_w - pe_w) / (2.0 * t1e) - w1t2 * (pe_w * lor + pe * lor_w)
    return k, k_w


def bloch_polarization(omega, *, beta, omega_mw, omega_1, t1e, t2e):
    """Stationary polarization of an isolated spin (the root of kappa(omega) = 0 of Eq. (21)
    with P_e a free number): the Bloch saturation law

    ``P = P0 (1 + T2e^2 d^2) / (1 + T2e^2 d^2 + 2 omega_1^2 T1e T2e)``,
    ``d = omega - omega_MW``, ``P0 = -tanh(beta omega / 2)``.

    ``omega`` in rad/s (scalar or array), beta in s/rad, times in s.
    """
    from dnpsim.theory.bloch import bloch_saturation

    omega = np.asarray(omega, dtype=float)
    out = -np.tanh(0.5 * beta * omega) * bloch_saturation(omega - omega_mw, omega_1, t1e, t2e)
    return out if out.ndim else float(out)


# --------------------------------------------------------------------------------------
# finite-N sums
# --------------------------------------------------------------------------------------
def _pair_sums(x):
    """a_j = (1/N) Sum_{l != j} 1 / (x_j - x_l) for a 1-D array x (chunked, O(N^2)).

    Why this is all the U^2 terms need: with Q(w, w') = (g(w) - g(w'))/(w - w'),

        d/dw_j Q(w_j, w_l) = g'(w_j)/(w_j - w_l) - (g(w_j) - g(w_l))/(w_j - w_l)^2 ,

    and the second piece is antisymmetric under j <-> l, so it cancels exactly in the
    double sum over ordered pairs of (C4)-(C5):

        Sum_j Sum_{l != j} d/dDelta_j Q(w_j, w_l) = Sum_j g'(w_j) Sum_{l != j} 1/(w_j - w_l).

    This is exact (no finite differences, no cancellation between nearly equal w_j,
    w_l), needs only the closed-form derivative g', and the pair sums depend only on
    the Zeeman energies, so they are computed once.
    """
    x = np.asarray(x, dtype=float)
    n = x.size
    out = np.empty(n)
    rows = max(1, _CHUNK_ENTRIES // max(n, 1))
    for start in range(0, n, rows):
        stop = min(n, start + rows)
        diff = x[start:stop, None] - x[None, :]
        idx = np.arange(start, stop)
        diff[idx - start, idx] = np.inf  # drop l == j
        if np.any(diff == 0.0):
            raise ValueError("coupling > 0 needs pairwise distinct Zeeman energies (1/(Delta_j - Delta_l) diverges)")
        out[start:stop] = np.sum(1.0 / diff, axis=1)
    return out / n


def discrete_flows(electron_zeeman, *, beta, beta_s, omega_c, omega_mw, omega_1, t1e, t2e, coupling=0.0):
    """Left-hand sides of Eqs. (C4) and (C5) ((C2), (C3) for coupling = 0).

    ``M = Sum_j [kappa_j + (U^2/N) Sum_{l!=j} d/dDelta_j (kappa_j - kappa_l)/(Delta_j - Delta_l)]``
    ``E = Sum_j [w_j kappa_j + (U^2/N) Sum_{l!=j} d/dDelta_j (w_j kappa_j - w_l kappa_l)/(Delta_j - Delta_l)]``

    with ``w_j = omega_e + Delta_j`` and kappa of Eq. (21).  M is the stationary
    magnetization flow d<S_z>/dt (1/s) and E the energy flow d<H>/dt (rad/s^2) into the
    electron spins for the ansatz state, to order U^2, averaged over the Gaussian
    couplings of variance U^2/N (Eq. (B2)).  The double sums are reduced exactly to
    ``Sum_j g'(w_j) Sum_{l!=j} 1/(w_j - w_l)`` (see :func:`_pair_sums`).

    Parameters
    ----------
    electron_zeeman : array (N,), rad/s
        Electron Zeeman energies omega_e + Delta_j.
    beta, beta_s : float, s/rad
    omega_c : float, rad/s (= -h)
    omega_mw, omega_1 : float, rad/s
    t1e, t2e : float, s
    coupling : float, rad/s
        U >= 0 (the couplings U_ij have variance U^2/N).

    Returns
    -------
    (M, E) : tuple of floats, in 1/s and rad/s^2.
    """
    w = np.atleast_1d(np.asarray(electron_zeeman, dtype=float))
    if w.ndim != 1:
        raise ValueError("electron_zeeman must be a 1-D array")
    k, k_w = _kappa_and_slope(
        w, beta=beta, beta_s=beta_s, omega_c=omega_c, omega_mw=omega_mw, omega_1=omega_1, t1e=t1e, t2e=t2e
    )
    m_flow = float(np.sum(k))
    e_flow = float(np.sum(w * k))
    if coupling:
        n = w.size
        ref = 0.5 * (w.max() + w.min())
        a = _pair_sums(w - ref) * n  # Sum_{l != j} 1/(w_j - w_l)
        u2n = coupling**2 / n
        m_flow += u2n * float(np.sum(k_w * a))
        e_flow += u2n * float(np.sum((k + w * k_w) * a))
    return m_flow, e_flow


# --------------------------------------------------------------------------------------
# scaled model shared by the solvers
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Scaled:
    """Dimensionless form: x = (omega - omega_ref)/scale, equations times 2 T1e."""

    beta: float
    omega_ref: float
    scale: float
    xm: float  # (omega_mw - omega_ref) / scale
    sat: float  # 2 T1e omega_1^2 T2e  (on-resonance Bloch saturation parameter)
    tw: float  # T2e * scale
    borghini: float  # 2 T1e pi omega_1^2 f(omega_mw) for Eq. (22), continuum only

    def u0(self, x):
        """Half the thermal Zeeman factor, beta omega / 2 (P0 = -tanh(u0))."""
        return 0.5 * self.beta * (self.omega_ref + self.scale * x)


def _scaled(*, beta, omega_ref, scale, omega_mw, omega_1, t1e, t2e, borghini=0.0):
    return _Scaled(
        beta=float(beta),
        omega_ref=float(omega_ref),
        scale=float(scale),
        xm=(float(omega_mw) - float(omega_ref)) / float(scale),
        sat=2.0 * t1e * omega_1**2 * t2e,
        tw=t2e * scale,
        borghini=borghini,
    )


def _grid_residual_factory(m: _Scaled, x, q, a=None, *, lorentzian=True):
    """Vectorized scaled residuals on nodes x with weights q (sum q = 1).

    ``F1 = Sum_i q_i k_i + usc Sum_i q_i k'_i a_i``,
    ``F2 = Sum_i q_i x_i k_i + usc Sum_i q_i (x k)'_i a_i``, with k = 2 T1e kappa,
    ' = d/dx and usc = (U/scale)^2.

    * finite N (Eqs. (C4)-(C5)): q_i = 1/N, a_i = (1/N) Sum_{l != i} 1/(x_i - x_l);
    * quadrature of the N -> infinity equations (initial guess of the continuum
      solver): Gauss-Legendre nodes, q_i = w_i/2 (f dx = dx/2), and a_i = the
      continuum limit of the pair sums, the Hilbert transform of the box
      PV int_{-1}^{1} (dx'/2)/(x - x') = (1/2) ln((1 + x)/(1 - x)).

    Returns fun(z, usc) with z = (A, theta).
    """
    x = np.asarray(x, dtype=float)
    q = np.asarray(q, dtype=float)
    u0 = m.u0(x)
    p0x = -0.5 * m.beta * m.scale * _sech2(u0)  # dP0/dx
    lor = 1.0 / (1.0 + (m.tw * (x - m.xm)) ** 2)
    lor_x = -2.0 * m.tw**2 * (x - m.xm) * lor**2
    inside = abs(m.xm) <= 1.0

    def fun(z, usc=0.0):
        A, th = float(z[0]), float(z[1])
        u = 0.5 * (A * x + th)
        p = -np.tanh(u)
        k = _tanh_diff(u, u0)  # P0 - P_e
        if lorentzian:
            k = k - m.sat * p * lor
        # else Borghini, Eq. (22): the delta absorption is added below
        f1 = np.dot(q, k)
        f2 = np.dot(q, x * k)
        if not lorentzian and inside:
            pm = -math.tanh(0.5 * (A * m.xm + th))
            f1 -= m.borghini * pm
            f2 -= m.borghini * m.xm * pm
        if usc:
            px = -0.5 * A * _sech2(u)
            kx = (p0x - px) - m.sat * (px * lor + p * lor_x)
            f1 += usc * np.dot(q, kx * a)
            f2 += usc * np.dot(q, (k + x * kx) * a)
        return np.array([f1, f2])

    return fun


def _breakpoints(m: _Scaled):
    """Points of [-1, 1] (x units) at which the Lorentzian of Eq. (21) changes scale:
    x_MW and x_MW +- 4^k / (T2e hw), k = 0, 1, ...  (centred on the nearest band point
    when omega_MW lies outside the band).  Telling the quadrature about all of them
    makes it robust from T2e hw ~ 1 up to T2e hw >> 10^5."""
    pts = set()
    if -1.0 < m.xm < 1.0:
        pts.add(m.xm)
    c = min(max(m.xm, -1.0), 1.0)
    step = 1.0 / m.tw
    while step < 2.0:
        for p in (c - step, c + step):
            if -1.0 < p < 1.0:
                pts.add(p)
        step *= 4.0
    return sorted(pts)


def _gauss_panels(m: _Scaled, order=12, max_width=0.02):
    """Composite Gauss-Legendre nodes/weights on [-1, 1]: panels split at the
    Lorentzian breakpoints, graded towards the band edges (log singularity of the
    Hilbert kernel), and no wider than max_width."""
    edges = {-1.0, 1.0, *_breakpoints(m)}
    for k in range(1, 12):
        edges.update((-1.0 + 4.0**-k, 1.0 - 4.0**-k))
    edges = np.array(sorted(edges))
    t, wt = np.polynomial.legendre.leggauss(order)
    xs, ws = [], []
    for lo, hi in zip(edges[:-1], edges[1:]):
        n_sub = max(1, int(math.ceil((hi - lo) / max_width)))
        sub = np.linspace(lo, hi, n_sub + 1)
        for a, b in zip(sub[:-1], sub[1:]):
            xs.append(0.5 * (a + b) + 0.5 * (b - a) * t)
            ws.append(0.5 * (b - a) * wt)
    return np.concatenate(xs), np.concatenate(ws)


# --------------------------------------------------------------------------------------
# root finding
# --------------------------------------------------------------------------------------
def _hybr(fun, z0):
    """Newton-type solve (MINPACK hybrd); returns (z, max |fun(z)|)."""
    with np.errstate(over="ignore", invalid="ignore"):
        sol = optimize.root(fun, np.asarray(z0, dtype=float), method="hybr", options={"xtol": 1e-13, "maxfev": 400})
        z = sol.x
        res = float(np.max(np.abs(fun(z))))
    if not np.isfinite(res):
        res = math.inf
    return z, res


def _scan_u0(fun0):
    """Fallback for the U = 0 equations: reduce to one dimension.

    At U = 0 the first (magnetization) equation is strictly increasing in theta (P_e
    decreases with theta and multiplies positive weights), so theta(A) is unique and
    bracketed by |theta| = |A| + 50.  Scan A, bracket the sign changes of the second
    (energy) equation along theta(A), and refine with brentq.  Returns candidates."""

    def theta_of(A):
        lim = abs(A) + 50.0
        return optimize.brentq(lambda t: fun0((A, t))[0], -lim, lim, xtol=1e-15, rtol=1e-15, maxiter=200)

    def f2(A):
        return fun0((A, theta_of(A)))[1]

    pos = np.geomspace(1e-5, 200.0, 48)
    grid = np.concatenate([-pos[::-1], [0.0], pos])
    try:
        vals = np.array([f2(A) for A in grid])
    except ValueError:  # no sign change of the first equation (degenerate input)
        return []
    out = []
    for i in range(grid.size - 1):
        if vals[i] == 0.0:
            out.append((grid[i], theta_of(grid[i])))
        elif vals[i] * vals[i + 1] < 0.0:
            A = optimize.brentq(f2, grid[i], grid[i + 1], xtol=1e-15, rtol=1e-15, maxiter=200)
            out.append((A, theta_of(A)))
    return out


def _solve_family(fun, usc, guesses, tol, what):
    """Solve fun(z, 0) = 0 from the guesses (fallback: 1-D scan), then follow the
    solution to fun(z, usc) = 0 (directly, else by continuation in U^2).

    Returns (z, residual); raises RuntimeError with the residual if nothing converges."""
    best = (None, math.inf)
    z0 = None
    # the given guesses first; the 1-D scan (lazy) only when they all fail
    def scanned():
        yield from _scan_u0(lambda z: fun(z, 0.0))

    for g in itertools.chain(guesses, scanned()):
        z, res = _hybr(lambda z: fun(z, 0.0), g)
        if res < best[1]:
            best = (z, res)
        if res < tol:
            z0 = z
            break
    if z0 is None:
        raise RuntimeError(
            f"{what}: the U = 0 spin-temperature equations did not converge "
            f"(best max|residual| = {best[1]:.3e} at A, theta = {best[0]})"
        )
    if not usc:
        return z0, float(np.max(np.abs(fun(z0, 0.0))))
    z, res = _hybr(lambda z: fun(z, usc), z0)
    if res < tol:
        return z, res
    best = (z, res)
    for steps in (4, 16, 64):
        zc = z0
        for i in range(1, steps + 1):
            frac = i / steps
            zc, res = _hybr(lambda z, u=usc * frac: fun(z, u), zc)
            if res >= tol:
                break
        if res < best[1]:
            best = (zc, res)
        if res < tol:
            return zc, res
    raise RuntimeError(
        f"{what}: the order-U^2 spin-temperature equations did not converge "
        f"(best max|residual| = {best[1]:.3e} at A, theta = {best[0]}; U^2/scale^2 = {usc:.3g}); "
        "the order-U^2 solution branch typically ends in a fold once the U^2 term is not small "
        "(the perturbative theory is then outside its range of validity)"
    )


def _warn_if_beyond_validity(m: _Scaled, usc, what):
    """Warn when the order-U^2 correction is not small at the microwave frequency.

    Integrating the U^2 term of (23a) by parts against the Lorentzian peak of kappa
    shows that, to this order, the microwave absorption at x_MW = (omega_MW -
    omega_ref)/hw inside the band is multiplied by ``1 - (U/hw)^2 / (1 - x_MW^2)``
    (the box distribution f is replaced by f + U^2 d/dw [f Hf], Hf its Hilbert
    transform).  When this factor is <= 0 the expansion has no meaning; the
    equations then typically have no solution (RuntimeError), or an unphysical one.
    """
    if usc and abs(m.xm) < 1.0 and usc >= 1.0 - m.xm**2:
        warnings.warn(
            f"{what}: (U/half_width)^2 = {usc:.3g} >= 1 - x_MW^2 = {1.0 - m.xm**2:.3g}: the order-U^2 "
            "correction outweighs the leading microwave absorption at omega_MW; the perturbative "
            "spin temperature (Eqs. (23)/(C4)-(C5)) is outside its range of validity",
            RuntimeWarning,
            stacklevel=3,
        )


def _check_common(beta, omega_1, t1e, t2e):
    if not beta > 0.0:
        raise ValueError(f"beta must be positive (s/rad), got {beta}")
    if not t1e > 0.0 or not t2e > 0.0:
        raise ValueError(f"t1e and t2e must be positive (s), got {t1e}, {t2e}")
    if omega_1 < 0.0:
        raise ValueError(f"omega_1 must be >= 0 (rad/s), got {omega_1}")


# --------------------------------------------------------------------------------------
# public solvers
# --------------------------------------------------------------------------------------
def spin_temperature_discrete(electron_zeeman, *, beta, omega_mw, omega_1, t1e, t2e, coupling=0.0):
    """(beta_s, h) of N electron spins: Eqs. (C2)-(C3) (U = 0) or (C4)-(C5) (order U^2).

    Parameters
    ----------
    electron_zeeman : array (N,), rad/s
        Zeeman energies omega_e + Delta_j (at least two distinct values; pairwise
        distinct if coupling > 0).  The paper's choice is equally spaced Delta_j in
        [-Delta omega_e, Delta omega_e].
    beta : float, s/rad
        Lattice inverse temperature (``dnpsim.units.inverse_temperature``).
    omega_mw, omega_1 : float, rad/s
        Microwave frequency and amplitude.
    t1e, t2e : float, s
    coupling : float, rad/s
        U >= 0; U_ij Gaussian with variance U^2/N (Eq. (B2)).  The U^2/N corrections
        of (C4)-(C5) are perturbative (U << Delta omega_e).

    Returns
    -------
    PerturbativeSpinTemperature

    Notes
    -----
    Unknowns A = beta_s * scale, theta = beta_s (omega_ref + h), with omega_ref the
    band centre and scale its half-width; equations (C2)/(C4) and (C3)/(C5) -
    omega_ref (C2)/(C4), times 2 T1e / N.  Solved with MINPACK hybrd from the thermal
    state, a 1-D-reduction scan as fallback, and continuation in U^2 for coupling > 0.
    Raises RuntimeError (with the residual) if no solution with max|residual| < 1e-10
    is found.
    """
    w = np.atleast_1d(np.asarray(electron_zeeman, dtype=float))
    if w.ndim != 1:
        raise ValueError("electron_zeeman must be a 1-D array")
    _check_common(beta, omega_1, t1e, t2e)
    if coupling < 0.0:
        raise ValueError(f"coupling must be >= 0 (rad/s), got {coupling}")
    lo, hi = float(w.min()), float(w.max())
    if not hi > lo:
        raise ValueError(
            "need at least two distinct Zeeman energies: for a single frequency (C2) and (C3) coincide "
            "and do not fix both beta_s and h (use bloch_polarization for an isolated spin)"
        )
    ref, scale = 0.5 * (lo + hi), 0.5 * (hi - lo)
    m = _scaled(beta=beta, omega_ref=ref, scale=scale, omega_mw=omega_mw, omega_1=omega_1, t1e=t1e, t2e=t2e)
    x = (w - ref) / scale
    a = _pair_sums(x) if coupling else None
    fun = _grid_residual_factory(m, x, np.full(x.size, 1.0 / x.size), a)
    usc = (coupling / scale) ** 2
    _warn_if_beyond_validity(m, usc, "spin_temperature_discrete")
    thermal = (beta * scale, beta * ref)
    z, res = _solve_family(fun, usc, [thermal], _TOL_DISCRETE, "spin_temperature_discrete")
    return _result(z[0], z[1], scale, ref, res)


def spin_temperature_continuum(
    *, electron_larmor, half_width, beta, omega_mw, omega_1, t1e, t2e, coupling=0.0, kind="lorentzian"
):
    """(beta_s, h) for N -> infinity, f(omega) uniform on [omega_e - hw, omega_e + hw].

    ``kind="lorentzian"``: Eqs. (20) (coupling = 0) or (23)-(25) (order U^2) with
    kappa of Eq. (21).  ``kind="borghini"``: Eqs. (20) with Borghini's delta-function
    absorption, Eq. (22): the microwave term contributes
    ``-pi omega_1^2 f(omega_MW) P_e(omega_MW)`` (times 1 or omega_MW), with
    f(omega_MW) = 1/(2 hw) inside the closed band and 0 outside.  Only U = 0 is
    defined for Borghini (ValueError otherwise).

    The U^2 terms carry the prefactor U^2 (the N -> infinity limit of (C4)-(C5)),
    not the U^2/2 printed in Eq. (23); see the module docstring, item 3.

    Parameters
    ----------
    electron_larmor : float, rad/s
        Centre omega_e of the electron Zeeman band.
    half_width : float, rad/s
        Delta omega_e (> 0).
    beta : float, s/rad
    omega_mw, omega_1 : float, rad/s
    t1e, t2e : float, s
    coupling : float, rad/s
        U >= 0.
    kind : {"lorentzian", "borghini"}

    Returns
    -------
    PerturbativeSpinTemperature (residual: scaled, max over the two equations)

    Notes
    -----
    Integrals over x = (omega - omega_e)/hw in [-1, 1] with f dx = dx/2, by adaptive
    Gauss-Kronrod quadrature (``scipy.integrate.quad``) told where the Lorentzian
    peak (width 1/(T2e hw) ~ 3e-3 in x) sits and where it changes scale
    (``points`` = x_MW, x_MW +- 4^k/(T2e hw)).  The solver starts from the solution of
    a composite Gauss-Legendre discretization of the same equations (solved like
    :func:`spin_temperature_discrete`, U^2 term in the equivalent Hilbert-kernel
    form), then polishes with hybrd on the adaptive-quadrature equations.  Raises
    RuntimeError (with the residual) if max|residual| < 1e-8 is not reached.
    """
    if kind not in ("lorentzian", "borghini"):
        raise ValueError(f"kind must be 'lorentzian' or 'borghini', got {kind!r}")
    _check_common(beta, omega_1, t1e, t2e)
    if coupling < 0.0:
        raise ValueError(f"coupling must be >= 0 (rad/s), got {coupling}")
    if kind == "borghini" and coupling > 0.0:
        raise ValueError("kind='borghini' (delta absorption, Eq. (22)) is only defined for coupling = 0 (Eqs. (20))")
    if not half_width > 0.0:
        raise ValueError(f"half_width must be positive (rad/s), got {half_width}")
    ref, scale = float(electron_larmor), float(half_width)
    borg = math.pi * t1e * omega_1**2 / scale if kind == "borghini" else 0.0  # 2 T1e pi w1^2 / (2 hw)
    m = _scaled(
        beta=beta, omega_ref=ref, scale=scale, omega_mw=omega_mw, omega_1=omega_1, t1e=t1e, t2e=t2e, borghini=borg
    )
    usc = (coupling / scale) ** 2
    _warn_if_beyond_validity(m, usc, "spin_temperature_continuum")
    lorentzian = kind == "lorentzian"

    # -- initial guess: the same equations by composite Gauss-Legendre quadrature
    #    (vectorized, solved like the finite-N equations), U^2 term in the
    #    equivalent Hilbert-kernel form (see _grid_residual_factory).
    xg, wg = _gauss_panels(m)
    ag = 0.5 * np.log((1.0 + xg) / (1.0 - xg)) if usc else None
    proxy = _grid_residual_factory(m, xg, 0.5 * wg, ag, lorentzian=lorentzian)
    thermal = (beta * scale, beta * ref)
    z0, _ = _solve_family(proxy, usc, [thermal], _TOL_DISCRETE, "spin_temperature_continuum (initial guess)")

    # -- the N -> infinity equations by adaptive quadrature.
    fun = _continuum_residual_factory(m, usc, lorentzian)
    z, res = _hybr(fun, z0)
    if not res < _TOL_CONTINUUM:
        raise RuntimeError(
            f"spin_temperature_continuum did not converge: max|residual| = {res:.3e} at A, theta = {z} "
            f"(started from the discretized solution {z0})"
        )
    return _result(z[0], z[1], scale, ref, res)


def _continuum_residual_factory(m: _Scaled, usc, lorentzian):
    """Scaled N -> infinity equations F(z), z = (A, theta), by scipy.integrate.quad.

    Order U^0 (Eqs. (20)):  F1 = (1/2) int_{-1}^{1} k dx,  F2 = (1/2) int x k dx,
    with k = 2 T1e kappa.  Order U^2 (Eqs. (23)-(25)): with f = 1/(2 hw) on the band
    and g = k or x k,

        U^2 int dw f(w) int dw' f(w') d/dw [(g(w) - g(w'))/(w - w')]
          = U^2 f^2 int dw' [Q(b, w') - Q(a, w')]

    (integration by parts in w: the w-integral of a total derivative against the box
    reduces to the boundary terms w = a, b; Q is the divided difference, smooth and
    bounded, so the integrand is regular), i.e. in x units

        (U/hw)^2 / 4 * int_{-1}^{1} [(g(1) - g(x'))/(1 - x') + (g(-1) - g(x'))/(1 + x')] dx'.
    """
    beta, ref, sc = m.beta, m.omega_ref, m.scale
    xm, sat, tw2, borg = m.xm, m.sat, m.tw**2, m.borghini
    tanh, tdiff, sech2 = math.tanh, _tanh_diff_scalar, _sech2_scalar
    points = _breakpoints(m) if lorentzian else []
    opts = {"limit": 500 + 2 * len(points), "epsabs": 1e-13, "epsrel": 1e-12}
    if points:
        opts["points"] = points

    def quad(f):
        val, _err = integrate.quad(f, -1.0, 1.0, **opts)
        return val

    def fun(z):
        A, th = float(z[0]), float(z[1])

        if lorentzian:

            def k(x):
                u = 0.5 * (A * x + th)
                d = x - xm
                return tdiff(u, 0.5 * beta * (ref + sc * x)) + sat * tanh(u) / (1.0 + tw2 * d * d)

            def k_x(x):
                u0 = 0.5 * beta * (ref + sc * x)
                u = 0.5 * (A * x + th)
                p = -tanh(u)
                d = x - xm
                lor = 1.0 / (1.0 + tw2 * d * d)
                px = -0.5 * A * sech2(u)
                return (-0.5 * beta * sc * sech2(u0) - px) - sat * (px * lor - 2.0 * tw2 * d * lor * lor * p)

        else:

            def k(x):
                return tdiff(0.5 * (A * x + th), 0.5 * beta * (ref + sc * x))

        f1 = 0.5 * quad(k)
        f2 = 0.5 * quad(lambda x: x * k(x))
        if not lorentzian and abs(xm) <= 1.0:
            pm = -tanh(0.5 * (A * xm + th))
            f1 -= borg * pm
            f2 -= borg * xm * pm
        if usc:
            k_hi, k_lo = k(1.0), k(-1.0)

            def bt1(x):  # g = k
                kx = k(x)
                up = (k_hi - kx) / (1.0 - x) if 1.0 - x > 1e-7 else k_x(0.5 * (1.0 + x))
                dn = (k_lo - kx) / (1.0 + x) if 1.0 + x > 1e-7 else -k_x(0.5 * (x - 1.0))
                return up + dn

            def bt2(x):  # g = x k;  g(1) = k(1), g(-1) = -k(-1)
                gx = x * k(x)
                if 1.0 - x > 1e-7:
                    up = (k_hi - gx) / (1.0 - x)
                else:
                    xx = 0.5 * (1.0 + x)
                    up = k(xx) + xx * k_x(xx)
                if 1.0 + x > 1e-7:
                    dn = (-k_lo - gx) / (1.0 + x)
                else:
                    xx = 0.5 * (x - 1.0)
                    dn = -(k(xx) + xx * k_x(xx))
                return up + dn

            f1 += 0.25 * usc * quad(bt1)
            f2 += 0.25 * usc * quad(bt2)
        return np.array([f1, f2])

    return fun
