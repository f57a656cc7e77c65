"""The ETH / many-body-localization scaling of Fig. 4 of De Luca et al., PRB 94, 014203
(2016), Sec. V, as sweeps (:func:`dnpsim.experiments.sweep.run_sweep`).

The system is the electron part of Eq. (9) of the 2016 paper, without the nucleus::

    H = sum_i Delta_i S_z^i + sum_{i<j} U_ij (S_+^i S_-^j + S_-^i S_+^j)

with Delta_i equally spaced in [-Delta omega_e, Delta omega_e] (footnote 37) and U_ij
Gaussian with zero mean and variance U^2 / N (Sec. II B).  The observables (the
diagonal elements <n|S_z^1|n> of the M = 0 eigenstates and the mean |delta M_n^1|
between consecutive ones) are :mod:`dnpsim.observables.localization`; this module
builds the disorder realizations and runs the grid N x U x realizations.

Seeding: the sweep's one scheme.  Realization r gets the integer seed
``realization_seeds(seed, R)[r]`` (child r of ``numpy.random.SeedSequence(seed)``) at
every N and every U; :func:`eth_model` draws a unit coupling pattern from it and
rescales it by U, so at fixed N the same pattern is seen at every U (common random
numbers).  Spawned children do not depend on R, so sizes with different numbers of
realizations share their first realizations' seeds.

Units: public arguments in Hz (cyclic, ``*_hz``), models in rad/s inside.

Public API
----------
eth_model(n_electrons, coupling_hz, seed, half_width_hz=54e6, ...) -> DipolarElectrons
realization_delta_m(n_electrons, couplings_hz, seed, site=None, ...) -> (n_couplings,) array
eth_spec(sizes, couplings_hz, realizations, *, seed=0, site=None, ...) -> spec dict
delta_m_task(spec, variants, seed), spin_z_task(spec, variants, seed)   # sweep computes
eth_scaling(sizes, couplings_hz, realizations, half_width_hz=54e6, seed=0, site=None,
            progress=False, *, executor="serial", workers=None, output_dir=None, ...)
            -> xarray.Dataset                                            # Fig. 4(b)
eigenstate_spin_z(n_electrons, couplings_hz, seed=0, site=None, ...) -> xarray.Dataset  # Fig. 4(a)
estimate_eth_memory(n_electrons) -> int
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from math import comb
from pathlib import Path

import numpy as np

from dnpsim.errors import SpecError
from dnpsim.models import disorder
from dnpsim.models.electrons import DipolarElectrons
from dnpsim.observables.localization import (check_site, consecutive_spin_z_difference, default_site,
                                             sector_spin_z)
from dnpsim.units import TWO_PI

__all__ = [
    "DEFAULT_HALF_WIDTH_HZ",
    "DEFAULT_ELECTRON_LARMOR_HZ",
    "eth_model",
    "realization_delta_m",
    "eth_spec",
    "validate_eth_point",
    "delta_m_task",
    "spin_z_task",
    "eth_scaling",
    "eigenstate_spin_z",
    "estimate_eth_memory",
]

#: Delta omega_e / 2pi of Table I and Fig. 4 of the 2016 paper, Hz.
DEFAULT_HALF_WIDTH_HZ = 54e6
#: omega_e / 2pi of Table I, Hz.  It only fixes the constant omega_e M of a sector,
#: which is zero for M = 0 and never enters these diagnostics.
DEFAULT_ELECTRON_LARMOR_HZ = 93.9e9
#: ``method.kind`` of the sweep specs of this module: diagonalize the M = 0 block.
METHOD_KIND = "m0_sector"


# ------------------------------------------------------------------------ models


def eth_model(n_electrons: int, coupling_hz: float, seed, half_width_hz: float = DEFAULT_HALF_WIDTH_HZ,
              electron_larmor_hz: float = DEFAULT_ELECTRON_LARMOR_HZ) -> DipolarElectrons:
    """One disorder realization of the electron system of Fig. 4 (2016 paper).

    Delta_i equally spaced in [-half_width, half_width] (footnote 37,
    :func:`dnpsim.models.disorder.equally_spaced_offsets`), U_ij ~ N(0, U^2 / N)
    (Sec. II B, :func:`dnpsim.models.disorder.gaussian_couplings`), no nucleus.

    ``coupling_hz`` (U / 2pi), ``half_width_hz`` (Delta omega_e / 2pi) and
    ``electron_larmor_hz`` are cyclic, in Hz; the model is in rad/s.  ``seed`` is
    anything :func:`numpy.random.default_rng` takes (in a sweep: the realization's
    integer seed); the same seed gives the same coupling pattern for every U, only
    rescaled (common random numbers across U).
    """
    n = int(n_electrons)
    if n < 2:
        raise SpecError("n_electrons", f"must be >= 2, got {n_electrons}")
    # a unit pattern (U = 1) times U: the same pattern at every coupling scale
    pattern = disorder.gaussian_couplings(n, 1.0, np.random.default_rng(seed))
    offsets = disorder.equally_spaced_offsets(n, float(half_width_hz))
    return DipolarElectrons(float(electron_larmor_hz), offsets, pattern * float(coupling_hz))


def _site(site, n_electrons: int, field: str) -> int:
    """``site`` (None: :func:`default_site`) checked against 0..N-1."""
    if site is None:
        return default_site(n_electrons)
    try:
        return check_site(site, n_electrons)
    except (TypeError, ValueError) as exc:
        raise SpecError(field, str(exc)) from None


def _check_sizes(sizes: Sequence[int], field: str) -> None:
    odd = [n for n in sizes if n < 2 or n % 2]
    if odd:
        raise SpecError(field, f"the M = 0 sector needs an even N >= 2, got {odd}")


def _sector_spin_z(model: DipolarElectrons, site) -> tuple[np.ndarray, np.ndarray]:
    return sector_spin_z(model, _site(site, model.n_electrons, "site"))


def realization_delta_m(n_electrons: int, couplings_hz: Sequence[float], seed, site: int | None = None,
                        half_width_hz: float = DEFAULT_HALF_WIDTH_HZ,
                        electron_larmor_hz: float = DEFAULT_ELECTRON_LARMOR_HZ) -> np.ndarray:
    """Mean |delta M_n^site| over the M = 0 eigenstates of one realization, for every
    coupling scale in ``couplings_hz`` (Hz; one disorder pattern, rescaled).

    Returns shape (len(couplings_hz),), dimensionless.  ``site`` defaults to
    :func:`~dnpsim.observables.localization.default_site`.  With the seed of
    realization r of a sweep (``realization_seeds(seed, R)[r]``) it reproduces that
    realization of :func:`eth_scaling`.
    """
    out = np.empty(len(couplings_hz))
    for k, u in enumerate(couplings_hz):
        _, values = _sector_spin_z(eth_model(n_electrons, u, seed, half_width_hz, electron_larmor_hz), site)
        out[k] = consecutive_spin_z_difference(values)
    return out


def estimate_eth_memory(n_electrons: int) -> int:
    """Peak bytes of one M = 0 diagonalization with eigenvectors (rough upper bound):
    the block, the eigenvectors, their squares and the divide-and-conquer workspace,
    about 5 d^2 doubles with d = C(N, N/2)."""
    d = comb(int(n_electrons), int(n_electrons) // 2)
    return 5 * 8 * d * d


# ------------------------------------------------------------------- sweep specs


def eth_spec(sizes: Sequence[int], couplings_hz: Sequence[float], realizations: int, *, seed: int = 0,
             site: int | None = None, half_width_hz: float = DEFAULT_HALF_WIDTH_HZ,
             electron_larmor_hz: float = DEFAULT_ELECTRON_LARMOR_HZ) -> dict:
    """The sweep spec of the grid N x U x realizations (boundary units, Hz).

    The ``[model]`` table uses the keys of a ``dipolar_electrons`` spec (equally
    spaced offsets, Gaussian couplings, no nucleus; the model itself is built by
    :func:`eth_model`, which the spec parser's memory check for the full rate-equation
    engine would refuse at N = 16).  ``method = {kind = "m0_sector", site}`` names the
    observable: the M = 0 block, spin ``site`` (null: N // 2).  Swept:
    ``model.n_electrons`` (dimension ``n_electrons``) and ``model.couplings.scale``
    (dimension ``coupling``); validated by :func:`validate_eth_point`.
    """
    return {
        "model": {
            "kind": "dipolar_electrons",
            "electron_larmor": float(electron_larmor_hz),
            "n_electrons": int(sizes[0]),
            "offsets": {"distribution": "equally_spaced", "half_width": float(half_width_hz)},
            "couplings": {"distribution": "gaussian", "scale": float(couplings_hz[0])},
        },
        "method": {"kind": METHOD_KIND, "site": None if site is None else int(site)},
        "sweep": {
            "model.n_electrons": [int(n) for n in sizes],
            "model.couplings.scale": [float(u) for u in couplings_hz],
            "dims": {"model.couplings.scale": "coupling"},
            "realizations": int(realizations),
            "seed": int(seed),
        },
    }


def _spec_model(spec: Mapping, seed) -> tuple[DipolarElectrons, int]:
    """The realization ``seed`` of a point of an :func:`eth_spec` and its spin S^1."""
    model = spec["model"]
    n = int(model["n_electrons"])
    built = eth_model(n, model["couplings"]["scale"], seed, model["offsets"]["half_width"], model["electron_larmor"])
    return built, _site(spec["method"]["site"], n, "method.site")


def validate_eth_point(spec: Mapping) -> None:
    """The sweep's ``validate`` for :func:`eth_spec` points: an even N >= 2, finite
    frequencies, a site inside the chain (:class:`~dnpsim.errors.SpecError`)."""
    if spec.get("method", {}).get("kind") != METHOD_KIND:
        raise SpecError("method.kind", f"must be {METHOD_KIND!r} for the ETH sweep, got {spec.get('method')!r}")
    n = spec["model"]["n_electrons"]
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise SpecError("model.n_electrons", f"must be an integer, got {n!r}")
    _check_sizes([int(n)], "model.n_electrons")
    _spec_model(spec, 0)  # builds the (small) model: checks the frequencies and the site


def _variants_unsupported(variants) -> None:
    # every swept key of an ETH spec changes the model: one point per task
    if any(variants):
        raise SpecError("sweep", f"the ETH sweep computes one model per task, got variants {list(variants)}")


def delta_m_task(spec: dict, variants: list[dict], seed: int) -> list[dict]:
    """Sweep compute (one N, one U, one realization): ``delta_m``, the mean over the
    M = 0 eigenstates (ordered by energy) of |<n+1|S_z^1|n+1> - <n|S_z^1|n>|
    (Fig. 4(b); :func:`~dnpsim.observables.localization.consecutive_spin_z_difference`)."""
    _variants_unsupported(variants)
    model, site = _spec_model(spec, seed)
    return [{"delta_m": consecutive_spin_z_difference(sector_spin_z(model, site)[1])}]


def spin_z_task(spec: dict, variants: list[dict], seed: int) -> list[dict]:
    """Sweep compute (one N, one U, one realization): the M = 0 eigen-energies
    ``energy`` (Hz, cyclic, ascending; omega_e M = 0) and ``spin_z`` = <n|S_z^1|n>,
    both over dimension ``eigenstate`` (Fig. 4(a))."""
    _variants_unsupported(variants)
    model, site = _spec_model(spec, seed)
    energies, values = sector_spin_z(model, site)
    return [{"energy": energies / TWO_PI, "spin_z": values,
             "dims": {"energy": ("eigenstate",), "spin_z": ("eigenstate",)}}]


# ------------------------------------------------------------------------ sweeps


def _realization_counts(sizes: Sequence[int], realizations) -> dict[int, int]:
    if isinstance(realizations, Mapping):
        missing = [n for n in sizes if n not in realizations]
        if missing:
            raise SpecError("realizations", f"no count given for N = {missing}")
        counts = {n: realizations[n] for n in sizes}
    else:
        counts = {n: realizations for n in sizes}
    bad = {n: r for n, r in counts.items()
           if isinstance(r, bool) or not isinstance(r, (int, np.integer)) or r < 1}
    if bad:
        raise SpecError("realizations", f"must be integers >= 1 (an int or a mapping N -> int), got {bad}")
    return {n: int(r) for n, r in counts.items()}


def _worker_count(executor, workers: int | None) -> int:
    if not isinstance(executor, str):
        return int(getattr(executor, "workers", 1))
    if executor == "serial":
        return 1
    from dnpsim.experiments.executors import available_cores

    return int(workers) if workers is not None else available_cores()


def _check_memory(sizes: Sequence[int], workers: int) -> None:
    try:
        import psutil

        available = psutil.virtual_memory().available
    except Exception:  # psutil missing or unsupported platform: skip the check
        return
    need = estimate_eth_memory(max(sizes)) * max(1, workers)
    if need > available:
        raise SpecError("sizes", f"N = {max(sizes)} needs about {need / 2**30:.1f} GiB "
                        f"({max(1, workers)} worker(s)), only {available / 2**30:.1f} GiB available")


def _output(output_dir, name: str) -> Path | None:
    if output_dir is None:
        return None
    directory = Path(output_dir)
    directory.mkdir(parents=True, exist_ok=True)
    return directory / name


def eth_scaling(sizes: Sequence[int], couplings_hz: Sequence[float], realizations,
                half_width_hz: float = DEFAULT_HALF_WIDTH_HZ, seed: int = 0, site: int | None = None,
                progress: bool = False, *, executor="serial", workers: int | None = None,
                output_dir: str | os.PathLike | None = None,
                electron_larmor_hz: float = DEFAULT_ELECTRON_LARMOR_HZ):
    """Disorder-averaged |delta M_n^1| vs system size: the data of Fig. 4(b) of the
    2016 paper.

    For every N in ``sizes``, U in ``couplings_hz`` and realization r, the M = 0 sector
    (n_up = N/2, dimension C(N, N/2)) of :func:`eth_model` is diagonalized and
    mean_n |<n+1|S_z^1|n+1> - <n|S_z^1|n>| is taken over its eigenstates ordered by
    energy: one sweep task (:func:`delta_m_task`).  Sizes with the same number of
    realizations form one sweep (:func:`eth_spec`), largest N first (load balance).

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
    seed : int
        Root seed of the sweeps (>= 0): realization r uses ``realization_seeds(seed,
        R)[r]`` at every N and U (module docstring).  The result does not depend on the
        order of ``sizes``, on the executor or on the number of workers.
    site : int, optional
        The spin S^1, the same site for every N; default N // 2 for each N.
    progress : bool
        A progress bar over the tasks of each sweep.
    executor, workers :
        As in :func:`~dnpsim.experiments.sweep.run_sweep`: ``"serial"``,
        ``"processes"`` (``workers`` local processes; mind ~5 GiB each at N = 16),
        ``"dask"``, or an executor instance (not closed here).
    output_dir : path, optional
        Write each sweep to ``eth-scaling-N<sizes>-R<R>.nc`` there: an interrupted run
        resumes, a finished one of the same spec is reused.  Default: in memory.

    Returns
    -------
    xarray.Dataset with coordinates ``n_electrons`` (N, in the order of ``sizes``),
    ``coupling`` (U / 2pi, Hz), ``realization`` (and ``realization_seed``), variables

    * ``delta_m`` (n_electrons, coupling): mean over realizations of the per-realization
      mean |delta M_n^1| (all realizations of one N have the same number of
      eigenstates, so this is also the mean over realizations and eigenstates);
    * ``delta_m_error`` (n_electrons, coupling): standard error of that mean over
      realizations, std(ddof=1) / sqrt(R); NaN when R = 1;
    * ``delta_m_samples`` (n_electrons, coupling, realization): per-realization values,
      NaN beyond the R of that N;
    * ``realizations``, ``site``, ``sector_dim`` (n_electrons);

    and the sweeps' specs, seeding, package version and git revision in its attributes.

    Raises
    ------
    SpecError
        Odd or repeated sizes, a site outside a chain, bad realization counts, or more
        memory than available (before any work).
    """
    import xarray as xr

    import dnpsim
    from dnpsim.experiments.figures.common import figure_sweep
    from dnpsim.experiments.sweep import realization_seeds
    from dnpsim.provenance import git_revision

    sizes = [int(n) for n in sizes]
    if not sizes:
        raise SpecError("sizes", "must not be empty")
    if len(set(sizes)) != len(sizes):
        raise SpecError("sizes", f"has duplicates: {sizes}")
    _check_sizes(sizes, "sizes")
    couplings = [float(u) for u in couplings_hz]
    if not couplings:
        raise SpecError("couplings_hz", "must not be empty")
    sites = {n: _site(site, n, "site") for n in sizes}
    counts = _realization_counts(sizes, realizations)
    _check_memory(sizes, _worker_count(executor, workers))

    by_count: dict[int, list[int]] = {}
    for n in sorted(sizes, reverse=True):
        by_count.setdefault(counts[n], []).append(n)
    r_max = max(counts.values())
    samples = np.full((len(sizes), len(couplings), r_max), np.nan)
    position = {n: i for i, n in enumerate(sizes)}
    specs, seeding = [], None
    for count, group in by_count.items():
        spec = eth_spec(group, couplings, count, seed=seed, site=site, half_width_hz=half_width_hz,
                        electron_larmor_hz=electron_larmor_hz)
        name = f"eth-scaling-N{'-'.join(map(str, group))}-R{count}.nc"
        data = figure_sweep(spec, _output(output_dir, name), delta_m_task, validate=validate_eth_point,
                            workers=workers, executor=executor, progress=progress)
        for n in group:
            samples[position[n], :, :count] = data["delta_m"].sel(n_electrons=n).transpose("coupling", "realization")
        specs.append(spec)
        seeding = data.attrs["seeding"]

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
        "realization_seed": ("realization", np.asarray(realization_seeds(seed, r_max), dtype=np.uint64),
                             {"description": "seed of this realization, at every N and U"}),
    }
    statistic = ("mean over eigenstates n of the M = 0 sector (ordered by energy) of "
                 "|<n+1|S_z^site|n+1> - <n|S_z^site|n>|")
    return xr.Dataset(
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
            "seed": int(seed),
            "seeding": seeding,
            "site_rule": "N // 2 (middle spin)" if site is None else f"site {site} for every N",
            "offsets": "equally spaced in [-half_width, half_width] (footnote 37)",
            "couplings": "Gaussian U_ij ~ N(0, U^2/N), one pattern per realization rescaled across U",
            "specs": json.dumps(specs),
            "dnpsim_version": dnpsim.__version__,
            "git_revision": git_revision(),
        },
    )


def eigenstate_spin_z(n_electrons: int, couplings_hz: Sequence[float], seed: int = 0, site: int | None = None,
                      half_width_hz: float = DEFAULT_HALF_WIDTH_HZ,
                      electron_larmor_hz: float = DEFAULT_ELECTRON_LARMOR_HZ, *, progress: bool = False,
                      executor="serial", workers: int | None = None):
    """Energies and <n|S_z^site|n> of the M = 0 eigenstates of one realization, for
    every U in ``couplings_hz`` (Fig. 4(a)): a one-realization sweep (:func:`spin_z_task`).

    The realization is realization 0 of :func:`eth_scaling` with the same ``seed``.
    Returns an xarray Dataset with dims (coupling, eigenstate): ``energy`` (Hz, cyclic,
    ascending) and ``spin_z``; scalar coordinate ``realization_seed``.
    """
    from dnpsim.experiments.figures.common import figure_sweep, single_realization

    _check_sizes([int(n_electrons)], "n_electrons")
    spec = eth_spec([n_electrons], couplings_hz, 1, seed=seed, site=site, half_width_hz=half_width_hz,
                    electron_larmor_hz=electron_larmor_hz)
    data = figure_sweep(spec, None, spin_z_task, validate=validate_eth_point, workers=workers, executor=executor,
                        progress=progress)
    return single_realization(data.isel(n_electrons=0, drop=True))
