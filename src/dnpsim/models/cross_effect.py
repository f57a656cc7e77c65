"""Cross-effect model of Karabanov et al. (2018): two driven electrons and N nuclei.

Hamiltonian (rotating frame of the microwaves, Eq. (1) of the paper; hbar = 1, rad/s)::

    H = H_Z + H_MW + H_SS + H_II + H_SI
    H_Z  = sum_j Delta_j S_jz + omega_I sum_k I_kz
    H_MW = omega_1 sum_j S_jx
    H_SS = D (3 S_1z S_2z - S_1 . S_2)       = 2 D S_1z S_2z - (D/2)(S_1+ S_2- + S_1- S_2+)
    H_II = sum_{k<k'} d_kk' (3 I_kz I_k'z - I_k . I_k')
         = sum_{k<k'} [2 d_kk' I_kz I_k'z - (d_kk'/2)(I_k+ I_k'- + I_k- I_k'+)]
    H_SI = sum_{j,k} (A_jk I_kz + B_jk I_k+ / 2 + B_jk^* I_k- / 2) S_jz

Relaxation (Eq. (1)): Gamma_1+- = (1 -+ p) R_1 / 2 on L(S_j+-), Gamma_2 = 2 R_2 on
L(S_jz), gamma_1 = r_1 / 2 on L(I_k+) and L(I_k-), gamma_2 = 2 r_2 on L(I_kz).

Sign convention.  The paper writes the nuclear Zeeman term as ``+omega_I I_z`` with
electrons polarized *down* (thermal 2<S_jz> = -p).  The package convention
(docs/conventions.md, signs) has ``-omega_n I_z`` for nuclei; the two are related by relabelling the nuclear
states (a pi rotation about x: I_z -> -I_z, I_+ <-> I_-, i.e. A -> -A, B -> B^*).  We
implement the paper's operators literally and report the nuclear polarization in the
package convention, ``P_I = -2 <I_z>_paper``; this is also the paper's p_I (positive
when the cross effect transfers the electrons' thermal polarization).

Negative gamma.  The lab term -gamma_n B0 I_z becomes, after the same relabelling,
+sign(gamma_n) |gamma_n| B0 I_z: ``omega_I`` is signed (negative for 15N, 29Si, ...),
and the couplings from positions are proportional to gamma_n
(:func:`point_dipole_couplings` with the signed ``gamma_n``).  A pi rotation of the
nuclei about x maps (omega_I, A, B) to (-omega_I, -A, B^*) and P_I to -P_I, so a
negative-gamma nucleus behaves as the mirror image of a positive one
(tests/test_cross_effect_negative_gamma.py).  Electron
polarizations are reported as 2<S_jz> (thermal value -p), as everywhere in dnpsim.

Spin ordering: index 0, 1 are the electrons S_1, S_2; index 2 + k is nucleus I_k.  A
Zeeman product state is an integer whose bit i is set when spin i is up (the same
convention as :mod:`dnpsim.spin.operators`).

Geometry: :func:`point_dipole_couplings` gives D, A_jk, B_jk, d_kk' from positions and
the field direction with the point-dipole formulas (secular parts; see its docstring).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from dnpsim.errors import ModelError, shown
from dnpsim.units import TWO_PI

#: |gamma_e| of a free electron (g = 2.0023), rad s^-1 T^-1.
GAMMA_ELECTRON = 1.76085963e11
#: gamma of 1H, rad s^-1 T^-1.
GAMMA_PROTON = 2.6752218744e8
#: mu_0 / 4 pi, T^2 m^3 / J.
MU0_OVER_4PI = 1e-7
_HBAR = 1.054571817e-34


@dataclass(frozen=True)
class CrossEffectModel:
    """Parameters of Eq. (1) in internal units (rad/s, s^-1); validated on construction.

    Attributes
    ----------
    offsets : (2,) Delta_1, Delta_2 (rad/s), electron offsets from the microwave frequency.
    omega1 : microwave amplitude omega_1 (rad/s), >= 0.
    D : electron-electron dipolar coupling (rad/s).
    omega_I : signed nuclear Larmor frequency of the paper's +omega_I I_z (rad/s), non-zero:
        sign(gamma_n) |gamma_n| B0, negative for a negative-gamma nucleus (15N, 29Si, ...).
    A : (2, N) secular hyperfine couplings A_jk (rad/s).
    B : (2, N) complex pseudo-secular hyperfine couplings B_jk (rad/s).
    d : (N, N) symmetric nuclear dipolar couplings d_kk' (rad/s), zero diagonal.
    R1, R2, r1, r2 : electron / nuclear longitudinal and transverse rates (s^-1).
    p : thermal electron polarization p = tanh(hbar omega_S / 2 k_B T), in [0, 1).
    """

    offsets: np.ndarray
    omega1: float
    D: float
    omega_I: float
    A: np.ndarray
    B: np.ndarray
    d: np.ndarray
    R1: float
    R2: float
    r1: float
    r2: float
    p: float
    positions: np.ndarray | None = field(default=None, compare=False)

    def __post_init__(self):
        offsets = np.asarray(self.offsets, dtype=float)
        if offsets.shape != (2,) or not np.all(np.isfinite(offsets)):
            raise ModelError("offsets", f"must be two finite frequencies, got {shown(self.offsets)}")
        A = np.atleast_2d(np.asarray(self.A, dtype=float))
        if A.size == 0:
            A = np.zeros((2, 0))
        if A.ndim != 2 or A.shape[0] != 2:
            raise ModelError("A", f"must have shape (2, N), got {A.shape}")
        n = A.shape[1]
        B = np.asarray(self.B, dtype=complex)
        if B.size == 0:
            B = np.zeros((2, 0), complex)
        if B.shape != (2, n):
            raise ModelError("B", f"must have shape (2, {n}) like A, got {B.shape}")
        d = np.asarray(self.d, dtype=float)
        if d.size == 0:
            d = np.zeros((n, n))
        if d.shape != (n, n):
            raise ModelError("d", f"must have shape ({n}, {n}), got {d.shape}")
        if not _is_symmetric(d):
            raise ModelError("d", "must be symmetric")
        if np.any(np.diag(d) != 0):
            raise ModelError("d", "diagonal must be zero")
        for name in ("A", "B", "d"):
            if not np.all(np.isfinite(locals()[name])):
                raise ModelError(name, "must be finite")
        for name in ("omega1", "D", "omega_I", "R1", "R2", "r1", "r2", "p"):
            value = float(getattr(self, name))
            if not math.isfinite(value):
                raise ModelError(name, f"must be finite, got {value}")
            object.__setattr__(self, name, value)
        if self.omega1 < 0:
            raise ModelError("omega1", f"must be non-negative, got {self.omega1}")
        if self.omega_I == 0:
            # zero would make every nuclear state degenerate (no Zeeman manifolds to project on)
            raise ModelError("omega_I", f"must be non-zero, got {self.omega_I}")
        for name in ("R1", "R2", "r1", "r2"):
            if getattr(self, name) < 0:
                raise ModelError(name, f"must be non-negative, got {getattr(self, name)}")
        if self.R2 + self.R1 <= 0:
            raise ModelError("R2", "electron relaxation R1 + R2 must be positive")
        if self.r2 + self.r1 <= 0:
            raise ModelError("r2", "nuclear relaxation r1 + r2 must be positive")
        if not 0.0 <= self.p < 1.0:
            raise ModelError("p", f"thermal polarization must be in [0, 1), got {self.p}")
        object.__setattr__(self, "offsets", offsets)
        object.__setattr__(self, "A", A)
        object.__setattr__(self, "B", B)
        object.__setattr__(self, "d", d)

    # ---------------------------------------------------------------- helpers
    @property
    def n_nuclei(self) -> int:
        return int(self.A.shape[1])

    @property
    def n_spins(self) -> int:
        return 2 + self.n_nuclei

    def replace(self, **changes) -> "CrossEffectModel":
        """A copy with some fields changed (validated again)."""
        values = {k: getattr(self, k) for k in self.__dataclass_fields__}
        values.update(changes)
        return CrossEffectModel(**values)

    @classmethod
    def from_hz(cls, *, offsets, omega1, D, omega_I, A=None, B=None, d=None, n_nuclei=None,
                t1e=None, t2e=None, t1n=None, t2n=None, R1=None, R2=None, r1=None, r2=None,
                p=None, temperature=None, electron_larmor=None, positions=None) -> "CrossEffectModel":
        """Public constructor in boundary units: frequencies in cyclic Hz (multiplied by
        2 pi here), relaxation given as times (s) ``t1e = 1/R_1``, ``t2e = 1/R_2``,
        ``t1n = 1/r_1``, ``t2n = 1/r_2`` or as rates (s^-1); ``p`` directly or from
        ``temperature`` (K) and ``electron_larmor`` (Hz), p = tanh(hbar omega_S / 2 k_B T).
        """
        from dnpsim.units import inverse_temperature

        def rate(time, value, name):
            if value is not None and time is not None:
                raise ModelError(name, "give either the rate or the time, not both")
            if time is not None:
                if time <= 0:
                    raise ModelError(name, f"relaxation time must be positive, got {time}")
                return 1.0 / time
            if value is None:
                raise ModelError(name, "is required")
            return value

        if p is None:
            if temperature is None or electron_larmor is None:
                raise ModelError("p", "give p or both temperature and electron_larmor")
            if temperature <= 0:
                raise ModelError("temperature", f"must be positive, got {temperature}")
            p = math.tanh(0.5 * inverse_temperature(temperature) * TWO_PI * electron_larmor)
            if not p < 1.0:
                raise ModelError("temperature", f"at {temperature:g} K and {electron_larmor:g} Hz the thermal electron "
                                 "polarization rounds to 1 in double precision; the model needs p < 1 "
                                 "(raise the temperature)")
        n = n_nuclei if n_nuclei is not None else (np.shape(A)[1] if A is not None else
                                                   np.shape(B)[1] if B is not None else
                                                   np.shape(d)[0] if d is not None else 0)
        A = np.zeros((2, n)) if A is None else np.asarray(A, float)
        B = np.zeros((2, n), complex) if B is None else np.asarray(B, complex)
        d = np.zeros((n, n)) if d is None else np.asarray(d, float)
        return cls(offsets=TWO_PI * np.asarray(offsets, float), omega1=TWO_PI * omega1, D=TWO_PI * D,
                   omega_I=TWO_PI * omega_I, A=TWO_PI * A, B=TWO_PI * B, d=TWO_PI * d,
                   R1=rate(t1e, R1, "R1"), R2=rate(t2e, R2, "R2"), r1=rate(t1n, r1, "r1"),
                   r2=rate(t2n, r2, "r2"), p=p, positions=positions)

    # ---------------------------------------------------------- Zeeman basis
    def zeeman_energies(self, states: np.ndarray | None = None) -> np.ndarray:
        """Diagonal (secular) energies E(a) = <a|H|a> of Zeeman product states (rad/s):
        sum_j Delta_j s_j + omega_I sum_k s_k + 2 D s_1 s_2 + sum_jk A_jk s_j s_k
        + sum_{k<k'} 2 d_kk' s_k s_k' with s = +-1/2 (Eq. (1) without the flip terms).
        ``states``: integer array (default all 2^(N+2))."""
        if states is None:
            states = np.arange(2 ** self.n_spins)
        s = spin_values(states, self.n_spins)
        se, sn = s[:, :2], s[:, 2:]
        energy = se @ self.offsets + self.omega_I * sn.sum(axis=1) + 2 * self.D * se[:, 0] * se[:, 1]
        energy += np.einsum("aj,jk,ak->a", se, self.A, sn)
        energy += np.einsum("ak,kl,al->a", sn, self.d, sn)  # symmetric d: sum_{k<l} 2 d s s
        return energy


def row_blocks(n: int, entries: int = 2**20):
    """Slices of about ``entries`` / n rows of an n x n matrix: n x n work done a block
    of rows at a time needs temporaries of ``entries`` elements, not n^2."""
    rows = max(1, entries // max(n, 1))
    return [slice(a, min(n, a + rows)) for a in range(0, n, rows)]


def _is_symmetric(d: np.ndarray) -> bool:
    """|d - d^T| <= 1e-12 (1 + max |d|) entrywise, a block of rows at a time."""
    if d.size == 0:
        return True
    atol = 1e-12 * (1 + max(float(np.abs(d[rows]).max()) for rows in row_blocks(d.shape[0])))
    return all(bool(np.all(np.abs(d[rows] - d[:, rows].T) <= atol)) for rows in row_blocks(d.shape[0]))


def spin_values(states, n_spins: int) -> np.ndarray:
    """(len(states), n_spins) array of s_i = +-1/2 (bit i of the state set: +1/2)."""
    states = np.asarray(states, dtype=np.int64)
    bits = (states[:, None] >> np.arange(n_spins)[None, :]) & 1
    return bits - 0.5


def point_dipole_couplings(electron_positions, nuclear_positions, field_direction=(0.0, 0.0, 1.0),
                           gamma_e: float = GAMMA_ELECTRON, gamma_n: float = GAMMA_PROTON,
                           nuclear_dipolar: bool = True):
    """Secular point-dipole couplings (cyclic Hz) for two electrons and N nuclei.

    With b_ij = (mu_0/4pi) gamma_i gamma_j hbar / r_ij^3 (rad/s) and theta the angle
    between r_ij and the field (phi the azimuth of r_ij in a frame whose z axis is
    the field direction):

    * D = b_ee (1 - 3 cos^2 theta) / 2, so that H_SS = D (3 S_1z S_2z - S_1.S_2);
    * d_kk' = b_nn (1 - 3 cos^2 theta) / 2 likewise for H_II;
    * A_jk = b_en (1 - 3 cos^2 theta),  B_jk = -3 b_en sin theta cos theta e^{-i phi},
      the S_z I_z and S_z I_+- terms of the electron-nuclear dipolar interaction
      (H_SI of Eq. (1)).  The overall sign follows |gamma_e| > 0 and the sign of
      ``gamma_n`` (rad s^-1 T^-1, signed: a negative-gamma nucleus flips A and B, as
      its Zeeman term omega_I flips in the model).

    Positions in metres, arrays (2, 3) and (N, 3).  Returns (D, A (2, N), B (2, N)
    complex, d (N, N)) in Hz; ``nuclear_dipolar=False`` returns d = 0 without computing
    it.  d is computed a block of rows at a time (temporaries of ~1e6 pairs, not N^2).
    Two spins at the same position raise :class:`ModelError` naming
    ``electron_positions`` (the electrons) or ``nuclear_positions``.
    """
    re = np.asarray(electron_positions, float)
    rn = np.asarray(nuclear_positions, float).reshape(-1, 3)
    if re.shape != (2, 3):
        raise ModelError("electron_positions", f"must have shape (2, 3), got {re.shape}")
    z = np.asarray(field_direction, float)
    if z.shape != (3,) or not np.linalg.norm(z) > 0:
        raise ModelError("field_direction", "must be a non-zero 3-vector")
    z = z / np.linalg.norm(z)
    # a right-handed frame (x, y, z) with z along the field
    helper = np.array([1.0, 0, 0]) if abs(z[0]) < 0.9 else np.array([0, 1.0, 0])
    x = np.cross(helper, z)
    x /= np.linalg.norm(x)
    y = np.cross(z, x)

    def geometry(r, field, what):
        dist = np.linalg.norm(r, axis=-1)
        if np.any(dist == 0):
            raise ModelError(field, what)
        cos = (r @ z) / dist
        phi = np.arctan2(r @ y, r @ x)
        return dist, cos, phi

    # spins very close give infinite couplings, without warnings: callers check finiteness
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        pref = MU0_OVER_4PI * _HBAR
        dist, cos, _ = geometry(re[1] - re[0], "electron_positions", "the two electrons sit at the same position")
        D = pref * gamma_e**2 / dist**3 * (1 - 3 * cos**2) / 2
        n = rn.shape[0]
        A = np.zeros((2, n))
        B = np.zeros((2, n), complex)
        for j in range(2):
            dist, cos, phi = geometry(rn - re[j], "nuclear_positions", f"a nucleus sits on electron {j + 1}")
            b = pref * gamma_e * gamma_n / dist**3
            sin = np.sqrt(np.clip(1 - cos**2, 0, None))
            A[j] = b * (1 - 3 * cos**2)
            B[j] = -3 * b * sin * cos * np.exp(-1j * phi)
        d = np.zeros((n, n))
        if n > 1 and nuclear_dipolar:
            # the upper triangle a block of rows at a time (rows k, columns l > k), mirrored
            bn = pref * gamma_n**2 / 2
            x, y, w = rn[:, 0], rn[:, 1], rn[:, 2]
            for rows in row_blocks(n, 2**21):
                k = np.arange(rows.start, rows.stop)[:, None]
                cols = slice(rows.start, n)
                dx, dy, dw = x[None, cols] - x[rows, None], y[None, cols] - y[rows, None], w[None, cols] - w[rows, None]
                dist2 = dx * dx + dy * dy + dw * dw
                upper = np.arange(rows.start, n)[None, :] > k
                if np.any((dist2 == 0) & upper):
                    a, b = np.argwhere((dist2 == 0) & upper)[0]
                    raise ModelError("nuclear_positions", f"nuclei {rows.start + a} and {rows.start + b} sit at the "
                                     "same position")
                cos2 = (dx * z[0] + dy * z[1] + dw * z[2]) ** 2 / dist2
                block = np.where(upper, bn / (dist2 * np.sqrt(dist2)) * (1 - 3 * cos2), 0.0)
                d[rows, cols] = block
                d[cols, rows] += block.T
        return D / TWO_PI, A / TWO_PI, B / TWO_PI, d / TWO_PI


def random_nuclear_positions(n: int, radius: float, min_distance: float, electron_positions,
                             rng: np.random.Generator, max_tries: int = 200000) -> np.ndarray:
    """``n`` nuclei uniformly in a sphere of ``radius`` (m) centred between the two
    electrons, at least ``min_distance`` (m) from each other and from the electrons
    (random sequential addition).  Used for Fig. 2(d, e)."""
    re = np.asarray(electron_positions, float).reshape(2, 3)
    centre = re.mean(axis=0)
    out = np.empty((n, 3))
    placed = 0
    tries = 0
    while placed < n:
        tries += 1
        if tries > max_tries:
            raise ModelError("nuclear_positions", f"could not place {n} nuclei with min_distance {min_distance} "
                             f"in a sphere of radius {radius}")
        x = rng.uniform(-radius, radius, 3)
        if x @ x > radius**2:
            continue
        x = centre + x
        if np.min(np.linalg.norm(re - x, axis=1)) < min_distance:
            continue
        if placed and np.min(np.linalg.norm(out[:placed] - x, axis=1)) < min_distance:
            continue
        out[placed] = x
        placed += 1
    return out


def zcw_orientations(m: int) -> tuple[np.ndarray, np.ndarray]:
    """Zaremba-Conroy-Wolfsberg powder grid over the full sphere: unit vectors (M, 3)
    and equal weights (M,), M = g_{m+2} with the Fibonacci numbers g_0 = g_1 = 1
    (M = 34, 55, 89, 144, 233 for m = 6, 7, 8, 9, 10).  beta_j = arccos(2 ((j/M) mod 1)
    - 1), alpha_j = 2 pi ((j g_m / M) mod 1); the standard orientation set of
    solid-state NMR powder averages."""
    if m < 1:
        raise ModelError("m", f"must be >= 1, got {m}")
    fib = [1, 1]
    while len(fib) < m + 3:
        fib.append(fib[-1] + fib[-2])
    M, g = fib[m + 2], fib[m]
    j = np.arange(M)
    beta = np.arccos(2 * np.mod(j / M, 1.0) - 1)
    alpha = 2 * np.pi * np.mod(j * g / M, 1.0)
    vectors = np.stack([np.sin(beta) * np.cos(alpha), np.sin(beta) * np.sin(alpha), np.cos(beta)], axis=1)
    return vectors, np.full(M, 1.0 / M)


def euler_zyz(alpha: float, beta: float, gamma: float) -> np.ndarray:
    """The rotation R = R_z(alpha) R_y(beta) R_z(gamma) (angles in rad): its columns are
    the axes of the rotated frame written in the original one."""
    def rz(a):
        c, s = math.cos(a), math.sin(a)
        return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])

    c, s = math.cos(beta), math.sin(beta)
    ry = np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
    return rz(alpha) @ ry @ rz(gamma)


def biradical_couplings(radical, b0: float, mw_frequency: float, orientation_deg, projections,
                        ee_direction=(1.0, 0.0, 0.0)) -> tuple[list[float], float]:
    """(offsets [Delta_1, Delta_2] / 2 pi, D / 2 pi) in Hz of a biradical in one
    orientation (first order, high field, as :mod:`dnpsim.sample.powder`).

    * ``radical``: a :class:`dnpsim.sample.radicals.Radical` with ``distance`` and
      ``relative_orientation`` (z-y-z Euler angles, deg, of moiety 2's principal frame
      in moiety 1's); each electron carries its g and hyperfine tensors (coaxial).
    * ``orientation_deg`` = (theta, phi): B0 in moiety 1's principal frame (polar and
      azimuthal angles, deg); its direction cosines in moiety 2's frame are R^T l_1.
    * ``projections``: m_I of each hyperfine nucleus, one row per electron (the groups
      of the radical in order, ``count`` entries each).
    * nu_j = g_eff,j mu_B B0 / h + sum_k m_jk A_eff,jk and Delta_j = nu_j - nu_MW
      (``mw_frequency``, Hz): the offsets of the engine's rotating frame.
    * ``ee_direction``: the electron-electron vector in moiety 1's frame; with
      cos theta_ee = l_1 . u, D = d (1 - 3 cos^2 theta_ee) / 2, d = mu_0 g_iso^2 mu_B^2 /
      (4 pi h r^3), the secular point-dipole coupling in the engine's form
      H_SS = D (3 S_1z S_2z - S_1 . S_2) (see docs/engines/cross_effect.md).
    """
    from dnpsim.sample.powder import direction_cosines, effective_g, effective_hyperfine
    from dnpsim.sample.radicals import dipolar_coupling_hz
    from dnpsim.units import H_PLANCK, MU_B

    theta, phi = (math.radians(float(a)) for a in orientation_deg)
    l1 = direction_cosines(theta, phi)
    rotation = euler_zyz(*(math.radians(a) for a in radical.relative_orientation))
    l2 = rotation.T @ l1
    offsets = []
    for j, l in enumerate((l1, l2)):
        t, p = math.acos(max(-1.0, min(1.0, float(l[2])))), math.atan2(float(l[1]), float(l[0]))
        nu = float(effective_g(radical.g, t, p)) * (MU_B * b0 / H_PLANCK)
        k = 0
        for group in radical.hyperfine:
            a_eff = float(effective_hyperfine(radical.g, group.principal, t, p))
            for _ in range(group.count):
                nu += float(projections[j][k]) * a_eff
                k += 1
        offsets.append(nu - mw_frequency)
    u = np.asarray(ee_direction, float)
    u = u / np.linalg.norm(u)
    cos_ee = float(l1 @ u)
    D = dipolar_coupling_hz(radical.distance, radical.g_iso) * (1.0 - 3.0 * cos_ee**2) / 2.0
    return offsets, D
