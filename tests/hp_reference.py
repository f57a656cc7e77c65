"""High-precision reference for the time evolution of the cross-effect master equation
(Eq. (1) of Karabanov et al. 2018), independent of dnpsim's Liouville-space code.

The density matrix is expanded in Pauli strings, rho = sum_a c_a P_a / d (P_a a
product of 1, sigma_x, sigma_y, sigma_z over the n spins, d = 2^n), so that
c_a = Tr(P_a rho), c_0 = Tr rho and 2<S_jz> = c_{z_j}.  Eq. (1) becomes the real
linear system dc/dt = M c with M_ab = Tr(P_a L(P_b)) / d.  Every term of Eq. (1) is a
model parameter times an operator whose Pauli-basis matrix is a dyadic rational
(exact in float64), so M is assembled exactly from the parameters (the float64 numbers
of the model, read as exact rationals) and rounded once to fixed point with
:data:`BITS` fractional bits.  exp(M t) is then formed in integer fixed-point
arithmetic (Python integers): Taylor series of M t / 2^s with ||M t / 2^s|| <~ 2^-12,
squared s times, and powers for later times.  The rounding error is ~2^-BITS times
the growth of the squarings (<= 2^60 here), i.e. far below 1e-30.

Cost: a fixed-point product of two (4^n, 4^n) matrices; about 0.05 s for 3 spins
(64 x 64) and 3 s for 4 spins (256 x 256), ~50 products for the first time point
and 4 per factor of 10 in time.
"""

from __future__ import annotations

from fractions import Fraction
from functools import reduce

import numpy as np

#: Fractional bits of the fixed-point numbers.
BITS = 320

_PAULI = [np.eye(2, dtype=complex), np.array([[0, 1], [1, 0]], complex), np.array([[0, -1j], [1j, 0]], complex),
          np.array([[-1, 0], [0, 1]], complex)]
"""1, 2 S_x, 2 S_y, 2 S_z in the Zeeman basis (down = 0, up = 1)."""


def _spin(n: int, site: int, c: str) -> np.ndarray:
    """S_c of spin ``site`` (bit ``site`` of the Zeeman index, bit set = up) on n spins."""
    s = {"x": np.array([[0, .5], [.5, 0]], complex), "y": np.array([[0, .5j], [-.5j, 0]], complex),
         "z": np.array([[-.5, 0], [0, .5]], complex), "+": np.array([[0, 0], [1, 0]], complex),
         "-": np.array([[0, 1], [0, 0]], complex)}[c]
    return reduce(np.kron, [s if k == site else np.eye(2) for k in reversed(range(n))])


def _pauli_strings(n: int) -> np.ndarray:
    """(4^n, d, d) Pauli strings; index a has base-4 digit a_k (0: 1, 1: x, 2: y,
    3: z; sigma_c = 2 S_c) for spin k."""
    out = []
    for a in range(4**n):
        digits = [(a >> (2 * k)) & 3 for k in range(n)]
        out.append(reduce(np.kron, [_PAULI[digits[k]] for k in reversed(range(n))]))
    return np.array(out)


def z_index(site: int) -> int:
    """Pauli-string index of sigma_z on ``site``."""
    return 3 << (2 * site)


def _terms(model):
    """(parameter as an exact Fraction, superoperator acting on d x d matrices) of Eq. (1)."""
    n, N = model.n_spins, model.n_nuclei
    S = lambda i, c: _spin(n, i, c)
    out = []

    def ham(value, op):
        out.append((Fraction(float(value)), lambda X, op=op: -1j * (op @ X - X @ op)))

    def diss(rate, op):
        ada = op.conj().T @ op
        out.append((rate, lambda X, op=op, ada=ada: op @ X @ op.conj().T - 0.5 * (ada @ X + X @ ada)))

    for j in range(2):
        ham(model.offsets[j], S(j, "z"))
        ham(model.omega1, S(j, "x"))
    for k in range(N):
        ham(model.omega_I, S(2 + k, "z"))
    dip = lambda a, b: 3 * S(a, "z") @ S(b, "z") - sum(S(a, c) @ S(b, c) for c in "xyz")
    ham(model.D, dip(0, 1))
    for k in range(N):
        for l in range(k + 1, N):
            ham(model.d[k, l], dip(2 + k, 2 + l))
        for j in range(2):
            ham(model.A[j, k], S(j, "z") @ S(2 + k, "z"))
            ham(np.real(model.B[j, k]), S(j, "z") @ S(2 + k, "x"))   # (B I+ + B* I-)/2 = Re B I_x - Im B I_y
            ham(-np.imag(model.B[j, k]), S(j, "z") @ S(2 + k, "y"))
    p, R1, R2, r1, r2 = (Fraction(float(v)) for v in (model.p, model.R1, model.R2, model.r1, model.r2))
    for j in range(2):
        diss((1 - p) * R1 / 2, S(j, "+"))
        diss((1 + p) * R1 / 2, S(j, "-"))
        diss(2 * R2, S(j, "z"))
    for k in range(N):
        diss(r1 / 2, S(2 + k, "+"))
        diss(r1 / 2, S(2 + k, "-"))
        diss(2 * r2, S(2 + k, "z"))
    return [(v, f) for v, f in out if v != 0]


def pauli_generator(model) -> list[list[Fraction]]:
    """M_ab = Tr(P_a L(P_b)) / d of Eq. (1), exact rationals, (4^n, 4^n) nested lists."""
    n = model.n_spins
    d = 2**n
    P = _pauli_strings(n)
    m = 4**n
    M = [[Fraction(0)] * m for _ in range(m)]
    for value, sup in _terms(model):
        image = np.array([sup(Pb) for Pb in P])                    # (m, d, d): L_term(P_b)
        block = np.einsum("aij,bji->ab", P, image) / d             # Tr(P_a L(P_b)) / d, dyadic: exact
        if np.abs(block.imag).max() != 0:
            raise AssertionError("Pauli-basis generator must be real")
        rows, cols = np.nonzero(block.real)
        for a, b in zip(rows, cols):
            M[a][b] += value * Fraction(float(block.real[a, b]))
    return M


def _fixed(x: Fraction) -> int:
    return round(x * (1 << BITS))


def _mul(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    return (A.dot(B) + (1 << (BITS - 1))) >> BITS


def _expm(M: list[list[Fraction]], t: Fraction) -> np.ndarray:
    """exp(M t) in fixed point (object array of ints)."""
    m = len(M)
    norm = max(sum(abs(M[a][b]) for a in range(m)) for b in range(m)) * abs(t)
    s = 0
    while norm / 2**s > Fraction(1, 2**12):
        s += 1
    h = t / 2**s
    A = np.array([[_fixed(M[a][b] * h) for b in range(m)] for a in range(m)], dtype=object)
    one = 1 << BITS
    E = np.array([[one if a == b else 0 for b in range(m)] for a in range(m)], dtype=object)
    term = E.copy()
    k = 1
    while True:
        term = _mul(term, A)
        term = np.array([[(v + k // 2) // k for v in row] for row in term], dtype=object) if k > 1 else term
        if max(abs(v) for v in term.flat) == 0:
            break
        E = E + term
        k += 1
    for _ in range(s):
        E = _mul(E, E)
    return E


def _power(E: np.ndarray, k: int) -> np.ndarray:
    result, base = None, E
    while k:
        if k & 1:
            result = base if result is None else _mul(result, base)
        k >>= 1
        if k:
            base = _mul(base, base)
    return result


def thermal_coefficients(model) -> np.ndarray:
    """Pauli coefficients (Fractions) of rho_th = prod_j (1 - 2 p S_jz)/2 x 1/2^N:
    c_0 = 1, c_{z_j} = -p, c_{z_1 z_2} = p^2."""
    p = Fraction(float(model.p))
    c = np.array([Fraction(0)] * 4**model.n_spins, dtype=object)
    c[0] = Fraction(1)
    c[z_index(0)] = c[z_index(1)] = -p
    c[z_index(0) | z_index(1)] = p * p
    return c


def reference_evolution(model, t0: float, decades: int) -> dict[float, np.ndarray]:
    """Pauli coefficients c(t) (float64 rounded from the fixed-point values, (4^n,)) of
    the evolution from the thermal state at t = t0 * 10^k, k = 0 .. decades - 1
    (t0 read as a decimal: 1e-3 means exactly 1/1000)."""
    t = Fraction(str(t0))
    E = _expm(pauli_generator(model), t)
    c0 = np.array([_fixed(v) for v in thermal_coefficients(model)], dtype=object)
    out = {}
    for k in range(decades):
        if k:
            E = _power(E, 10)
        c = (E.dot(c0) + (1 << (BITS - 1))) >> BITS
        out[float(t * 10**k)] = np.array([float(Fraction(int(v), 1 << BITS)) for v in c])
    return out


def nuclear_polarizations(model, c: np.ndarray) -> np.ndarray:
    """Package convention P_I,k = -2<I_kz> = -c_{z_(2+k)} (trace is c_0)."""
    return np.array([-c[z_index(2 + k)] for k in range(model.n_nuclei)])


def electron_polarizations(model, c: np.ndarray) -> np.ndarray:
    return np.array([c[z_index(j)] for j in range(2)])


def reference_grid(model, dt: float, steps: int) -> np.ndarray:
    """Pauli coefficients (float64, (steps + 1, 4^n)) of the evolution from the thermal
    state on the uniform grid t = k dt, k = 0 .. steps (dt read as a decimal)."""
    E = _expm(pauli_generator(model), Fraction(str(dt)))
    c = np.array([_fixed(v) for v in thermal_coefficients(model)], dtype=object)
    out = []
    for k in range(steps + 1):
        if k:
            c = (E.dot(c) + (1 << (BITS - 1))) >> BITS
        out.append([float(Fraction(int(v), 1 << BITS)) for v in c])
    return np.array(out)


def matrix_evolution(matrix: np.ndarray, x0: np.ndarray, t0: float, decades: int) -> dict[float, np.ndarray]:
    """exp(M t) x0 (float64 rounded) at t = t0 * 10^k, k = 0 .. decades - 1, for a real
    float64 matrix M and vector x0 read as exact rationals (a rate-equation generator:
    the reference for the population propagators)."""
    M = [[Fraction(float(v)) for v in row] for row in np.asarray(matrix, float)]
    E = _expm(M, Fraction(str(t0)))
    c0 = np.array([_fixed(Fraction(float(v))) for v in x0], dtype=object)
    out = {}
    t = Fraction(str(t0))
    for k in range(decades):
        if k:
            E = _power(E, 10)
        c = (E.dot(c0) + (1 << (BITS - 1))) >> BITS
        out[float(t * 10**k)] = np.array([float(Fraction(int(v), 1 << BITS)) for v in c])
    return out
