"""ETH / many-body-localization diagnostics of the electron spins (Fig. 4 of De Luca
et al., PRB 94, 014203 (2016), Sec. V).

The system is the electron part of Eq. (9) of the 2016 paper, without the nucleus::

    H = sum_i Delta_i S_z^i + sum_{i<j} U_ij (S_+^i S_-^j + S_-^i S_+^j)

(the constant omega_e M of a sector is left out, :mod:`dnpsim.models.electrons`),
with Delta_i equally spaced in [-Delta omega_e, Delta omega_e] (footnote 37) and
U_ij Gaussian with zero mean and variance U^2 / N (Sec. II B).

Fig. 4 looks at one spin, "S^1", in every eigenstate |n> of the sector of vanishing
total magnetization (n_up = N/2):

* Fig. 4(a): the diagonal matrix elements <n|S_z^1|n>, ordered by energy.  In the
  thermal (ETH) phase they all lie close to the microcanonical value 0; in the
  many-body-localized phase they scatter over [-1/2, 1/2].
* Fig. 4(b): delta M_n^1 = <n+1|S_z^1|n+1> - <n|S_z^1|n> between consecutive
  eigenstates, averaged over the eigenstates of the sector and over disorder
  realizations, vs N.  The paper does not say how the signed difference is averaged
  (its plain mean telescopes to (last - first)/(d - 1) ~ 0); here it is the **mean
  of the absolute value**, |delta M_n^1|.  Exponential decay with N means ETH,
  saturation means MBL.

Which spin is "spin 1"
----------------------
The paper does not say.  With equally spaced offsets, site 0 has the most negative
offset (Delta_0 = -Delta omega_e (N - 1)/N) and the last site the most positive: edge
spins are far from resonance with the others and look more localized than a typical
spin.  The default here is a **middle spin, site N // 2** (offset +Delta omega_e / N,
next to the centre of the line); every function takes the site as a parameter
(``site=0`` gives the lowest-offset spin).

Units: public arguments in Hz (cyclic, ``*_hz``) at the boundary, model energies in
rad/s inside (docs/conventions.md).

Public API
----------
sector_spin_z(model, site, n_up=None) -> (energies, values)
consecutive_spin_z_difference(values) -> float
eth_model(n_electrons, coupling_hz, seed, half_width_hz=54e6, ...) -> DipolarElectrons
realization_delta_m(n_electrons, couplings_hz, seed, ...) -> (n_couplings,) array
eth_scaling(sizes, couplings_hz, realizations, half_width_hz=54e6, seed=0, site=None,
            progress=False, *, executor=None, ...) -> xarray.Dataset
default_site(n_electrons) -> int
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from math import comb

import numpy as np

from dnpsim.dynamics.eigenbasis import diagonalize_sector
from dnpsim.models import disorder
from dnpsim.models.electrons import DipolarElectrons

__all__ = [
    "DEFAULT_HALF_WIDTH_HZ",
    "DEFAULT_ELECTRON_LARMOR_HZ",
    "default_site",
    "sector_spin_z",
    "consecutive_spin_z_difference",
    "eth_model",
    "realization_delta_m",
    "eth_scaling",
    "estimate_eth_memory",
]

#: Delta omega_e / 2pi of Table I and Fig. 4 of the 2016 paper, Hz.
DEFAULT_HALF_WIDTH_HZ = 54e6
#: omega_e / 2pi of Table I, Hz.  It only fixes the constant omega_e M of a sector,
#: which is zero for M = 0 and never enters these diagnostics.
DEFAULT_ELECTRON_LARMOR_HZ = 93.9e9


def default_site(n_electrons: int) -> int:
    """The spin used as "S^1" of Fig. 4 by default: site N // 2, a middle spin
    (see the module docstring for why not site 0)."""
    return int(n_electrons) // 2


def _check_site(site, n_electrons: int, name: str = "site") -> int:
    if isinstance(site, bool) or not isinstance(site, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {site!r}")
    if not 0 <= int(site) < n_electrons:
        raise ValueError(f"{name}={site} outside 0..{n_electrons - 1} for N = {n_electrons} electrons")
    return int(site)


def sector_spin_z(model: DipolarElectrons, site: int, n_up: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Eigen-energies and <n|S_z^site|n> for every eigenstate of one magnetization
    sector (the data of Fig. 4(a) of the 2016 paper).

    Parameters
    ----------
    model : DipolarElectrons
        Usually without nucleus, as in Fig. 4.  With a nucleus the block also carries
        the nuclear state (dimension 2 C(N, n_up)) and the values are those of the
        joint eigenstates.
    site : int
        The spin ("S^1" of the paper), 0 <= site < N.  :func:`default_site` gives the
        middle spin N // 2 used by default elsewhere in this module.
    n_up : int, optional
        Number of up spins of the sector; default N // 2, i.e. vanishing total
        magnetization M = n_up - N/2 for even N (M = -1/2 for odd N).

    Returns
    -------
    energies : (d,) float
        Block energies in rad/s, ascending (the constant omega_e M is not included;
        it is zero for M = 0).  d = C(N, n_up) without nucleus.
    values : (d,) float
        <n|S_z^site|n> in the same order, each in [-1/2, 1/2].
    """
    n = model.n_electrons
    site = _check_site(site, n)
    if n_up is None:
        n_up = n // 2
    if not 0 <= int(n_up) <= n:
        raise ValueError(f"n_up={n_up} outside 0..{n}")
    system = diagonalize_sector(model, int(n_up), keep_vectors=False)
    return system.energies, np.ascontiguousarray(system.spin_z[:, site])


def consecutive_spin_z_difference(values) -> float:
    """Mean over n of |delta M_n| = |values[n+1] - values[n]| (Fig. 4(b) of the 2016
    paper, averaged over the eigenstates of one sector).

    ``values`` is a 1D array of <n|S_z^1|n> **ordered by increasing energy** (as
    returned by :func:`sector_spin_z`), length d >= 2.  The absolute value is taken
    before averaging: the plain mean of the signed differences telescopes to
    (values[-1] - values[0]) / (d - 1) and carries no information.  Dimensionless,
    in [0, 1].
    """
    v = np.asarray(values, dtype=float)
    if v.ndim != 1:
        raise ValueError(f"values must be one-dimensional, got shape {v.shape}")
    if v.size < 2:
        raise ValueError("values needs at least two eigenstates to form a difference")
    return float(np.mean(np.abs(np.diff(v))))


def _seed_sequence(seed) -> np.random.SeedSequence:
    if isinstance(seed, np.random.SeedSequence):
        return seed
    return np.random.SeedSequence(seed)


def _unit_couplings(n_electrons: int, seed) -> np.ndarray:
    """Standard-normal coupling pattern of one realization (U = 1): the couplings of
    any scale U are this matrix times U (common random numbers across U)."""
    rng = np.random.default_rng(_seed_sequence(seed))
    return disorder.gaussian_couplings(n_electrons, 1.0, rng)


def eth_model(n_electrons: int, coupling_hz: float, seed, half_width_hz: float = DEFAULT_HALF_WIDTH_HZ,
              electron_larmor_hz: float = DEFAULT_ELECTRON_LARMOR_HZ) -> DipolarElectrons:
    """One disorder realization of the electron system of Fig. 4 (2016 paper).

    Delta_i equally spaced in [-half_width, half_width] (footnote 37,
    :func:`dnpsim.models.disorder.equally_spaced_offsets`), U_ij ~ N(0, U^2 / N)
    (Sec. II B, :func:`dnpsim.models.disorder.gaussian_couplings`), no nucleus.

    ``coupling_hz`` (U / 2pi), ``half_width_hz`` (Delta omega_e / 2pi) and
    ``electron_larmor_hz`` are cyclic, in Hz; the model is in rad/s.  ``seed`` is an
    int or a :class:`numpy.random.SeedSequence`; the same seed gives the same coupling
    pattern for every U (only rescaled).
    """
    n = int(n_electrons)
    if n < 2:
        raise ValueError(f"n_electrons must be >= 2, got {n_electrons}")
    couplings = _unit_couplings(n, seed) * float(coupling_hz)
    offsets = disorder.equally_spaced_offsets(n, float(half_width_hz))
    return DipolarElectrons(float(electron_larmor_hz), offsets, couplings)


def realization_delta_m(n_electrons: int, couplings_hz: Sequence[float], seed, site: int | None = None,
                        half_width_hz: float = DEFAULT_HALF_WIDTH_HZ,
                        electron_larmor_hz: float = DEFAULT_ELECTRON_LARMOR_HZ) -> np.ndarray:
    """Mean |delta M_n^site| over the M = 0 eigenstates of one realization, for every
    coupling scale (one disorder pattern, rescaled).

    Returns an array of shape (len(couplings_hz),), dimensionless.  ``site`` defaults
    to :func:`default_site`.  Module-level and picklable, so it can run in worker
    processes (it is the task of :func:`eth_scaling`).
    """
    n = int(n_electrons)
    site = default_site(n) if site is None else _check_site(site, n)
    out = np.empty(len(couplings_hz))
    for k, u in enumerate(couplings_hz):
        model = eth_model(n, u, seed, half_width_hz, electron_larmor_hz)
        _, values = sector_spin_z(model, site)
        out[k] = consecutive_spin_z_difference(values)
    return out


def estimate_eth_memory(n_electrons: int) -> int:
    """Peak bytes of one M = 0 diagonalization with eigenvectors (rough upper bound):
    the block, the eigenvectors, their squares and the divide-and-conquer workspace,
    about 5 d^2 doubles with d = C(N, N/2)."""
    d = comb(int(n_electrons), int(n_electrons) // 2)
    return 5 * 8 * d * d


def _realization_counts(sizes: Sequence[int], realizations) -> dict[int, int]:
    if isinstance(realizations, Mapping):
        missing = [n for n in sizes if n not in realizations]
        if missing:
            raise ValueError(f"realizations: no count given for N = {missing}")
        counts = {n: int(realizations[n]) for n in sizes}
    else:
        if isinstance(realizations, bool) or not isinstance(realizations, (int, np.integer)):
            raise TypeError(f"realizations must be an int or a mapping N -> int, got {realizations!r}")
        counts = {n: int(realizations) for n in sizes}
    bad = {n: r for n, r in counts.items() if r < 1}
    if bad:
        raise ValueError(f"realizations must be >= 1, got {bad}")
    return counts


def _check_memory(sizes: Sequence[int], workers: int) -> None:
    try:
        import psutil

        available = psutil.virtual_memory().available
    except Exception:  # psutil missing or unsupported platform: skip the check
        return
    need = estimate_eth_memory(max(sizes)) * max(1, workers)
    if need > available:
        raise MemoryError(
            f"sizes: N = {max(sizes)} needs about {need / 2**30:.1f} GiB "
            f"({max(1, workers)} worker(s)), only {available / 2**30:.1f} GiB available")


def eth_scaling(sizes: Sequence[int], couplings_hz: Sequence[float], realizations, half_width_hz: float = DEFAULT_HALF_WIDTH_HZ,
                seed=0, site: int | None = None, progress: bool = False, *, executor=None,
                electron_larmor_hz: float = DEFAULT_ELECTRON_LARMOR_HZ):
    """Disorder-averaged |delta M_n^1| vs system size: the data of Fig. 4(b) of the
    2016 paper.

    For every N in ``sizes``, every realization r and every U in ``couplings_hz``,
    the M = 0 sector (n_up = N/2, dimension C(N, N/2)) of the model of
    :func:`eth_model` is diagonalized and mean_n |<n+1|S_z^1|n+1> - <n|S_z^1|n>| is
    taken over its eigenstates ordered by energy (:func:`consecutive_spin_z_difference`).

    Parameters
    ----------
    sizes : sequence of int
        Numbers of electrons N (even, >= 2).  N = 16 needs ~5 GiB and minutes per
        diagonalization (:func:`estimate_eth_memory`).
    couplings_hz : sequence of float
        Dipolar scales U / 2pi in Hz (Fig. 4: 2, 15, 45 MHz).
    realizations : int or mapping {N: int}
        Disorder realizations per size.
    half_width_hz : float
        Delta omega_e / 2pi in Hz (Fig. 4: 54 MHz).
    seed : int or SeedSequence
        Root seed.  ``SeedSequence(seed).spawn(max realizations)`` gives one child per
        realization; realization r uses child r at every N and every U (at fixed N the
        coupling pattern is the same for all U, only rescaled: common random numbers).
        The result does not depend on the order of ``sizes``, on the executor or on
        the number of workers.
    site : int, optional
        The spin S^1, the same site for every N; default N // 2 for each N
        (:func:`default_site`).
    progress : bool
        Show a tqdm bar over the (N, realization) tasks.
    executor : optional
        A :mod:`dnpsim.experiments.executors` executor (``submit``/``as_completed``);
        default: run in this process.

    Returns
    -------
    xarray.Dataset with coordinates ``n_electrons`` (N), ``coupling`` (U / 2pi, Hz),
    ``realization`` and variables

    * ``delta_m`` (n_electrons, coupling): mean over realizations of the per-realization
      mean |delta M_n^1| (all realizations of one N have the same number of
      eigenstates, so this is also the mean over realizations and eigenstates);
    * ``delta_m_error`` (n_electrons, coupling): standard error of that mean over
      realizations, std(ddof=1) / sqrt(R); NaN when R = 1;
    * ``delta_m_samples`` (n_electrons, coupling, realization): per-realization values,
      NaN beyond the R of that N;
    * ``realizations``, ``site``, ``sector_dim`` (n_electrons).
    """
    import xarray as xr

    sizes = [int(n) for n in sizes]
    if not sizes:
        raise ValueError("sizes must not be empty")
    if len(set(sizes)) != len(sizes):
        raise ValueError(f"sizes has duplicates: {sizes}")
    odd = [n for n in sizes if n < 2 or n % 2]
    if odd:
        raise ValueError(f"sizes: the M = 0 sector needs an even N >= 2, got {odd}")
    couplings = [float(u) for u in couplings_hz]
    if not couplings:
        raise ValueError("couplings_hz must not be empty")
    sites = {n: default_site(n) if site is None else _check_site(site, n) for n in sizes}
    counts = _realization_counts(sizes, realizations)
    _check_memory(sizes, getattr(executor, "workers", 1))

    r_max = max(counts.values())
    children = _seed_sequence(seed).spawn(r_max)
    tasks = [(n, r) for n in sizes for r in range(counts[n])]
    samples = np.full((len(sizes), len(couplings), r_max), np.nan)
    position = {n: i for i, n in enumerate(sizes)}

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(tasks), desc="Fig. 4(b) |delta M|", unit="diag")
    try:
        if executor is None:
            for n, r in tasks:
                if bar is not None:
                    bar.set_postfix_str(f"N={n} r={r}")
                samples[position[n], :, r] = realization_delta_m(n, couplings, children[r], sites[n],
                                                                 half_width_hz, electron_larmor_hz)
                if bar is not None:
                    bar.update(1)
        else:
            # largest blocks first: better load balance over workers
            order = sorted(tasks, key=lambda t: -t[0])
            futures = {executor.submit(realization_delta_m, n, couplings, children[r], sites[n], half_width_hz,
                                       electron_larmor_hz): (n, r) for n, r in order}
            for future in executor.as_completed(list(futures)):
                n, r = futures[future]
                samples[position[n], :, r] = future.result()
                if bar is not None:
                    bar.set_postfix_str(f"N={n} r={r}")
                    bar.update(1)
    finally:
        if bar is not None:
            bar.close()

    count = np.array([counts[n] for n in sizes])
    mean = np.empty(samples.shape[:2])
    error = np.full(samples.shape[:2], np.nan)
    for i, n in enumerate(sizes):
        block = samples[i, :, : counts[n]]
        mean[i] = block.mean(axis=1)
        if counts[n] > 1:
            error[i] = block.std(axis=1, ddof=1) / np.sqrt(counts[n])

    coords = {
        "n_electrons": ("n_electrons", np.array(sizes), {"long_name": "number of electron spins N"}),
        "coupling": ("coupling", np.array(couplings), {"units": "Hz", "long_name": "dipolar scale U / 2pi"}),
        "realization": ("realization", np.arange(r_max)),
    }
    statistic = ("mean over eigenstates n of the M = 0 sector (ordered by energy) of "
                 "|<n+1|S_z^site|n+1> - <n|S_z^site|n>|")
    ds = xr.Dataset(
        {
            "delta_m": (("n_electrons", "coupling"), mean,
                        {"long_name": "mean |delta M_n^1| over realizations and eigenstates", "description": statistic}),
            "delta_m_error": (("n_electrons", "coupling"), error,
                              {"long_name": "standard error of delta_m over realizations (std ddof=1 / sqrt(R))"}),
            "delta_m_samples": (("n_electrons", "coupling", "realization"), samples,
                                {"long_name": "per-realization mean |delta M_n^1|", "description": statistic}),
            "realizations": ("n_electrons", count, {"long_name": "disorder realizations R"}),
            "site": ("n_electrons", np.array([sites[n] for n in sizes]), {"long_name": "spin S^1 (0-based site)"}),
            "sector_dim": ("n_electrons", np.array([comb(n, n // 2) for n in sizes]),
                           {"long_name": "dimension C(N, N/2) of the M = 0 sector"}),
        },
        coords=coords,
        attrs={
            "reference": "De Luca et al., PRB 94, 014203 (2016), Fig. 4(b)",
            "statistic": statistic,
            "half_width_hz": float(half_width_hz),
            "electron_larmor_hz": float(electron_larmor_hz),
            "seed": str(seed.entropy if isinstance(seed, np.random.SeedSequence) else seed),
            "site_rule": "N // 2 (middle spin)" if site is None else f"site {site} for every N",
            "offsets": "equally spaced in [-half_width, half_width] (footnote 37)",
            "couplings": "Gaussian U_ij ~ N(0, U^2/N), one pattern per realization rescaled across U",
        },
    )
    return ds
