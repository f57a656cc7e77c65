"""Fig. 4 of De Luca et al., PRB 94, 014203 (2016): ETH vs many-body localization of
the electron spins (no nucleus), Delta omega_e / 2pi = 54 MHz.

(a) <n|S_z^1|n> for every eigenstate n of the M = 0 sector of one disorder
    realization, ordered by energy, for U / 2pi = 2, 15, 45 MHz.
(b) mean |delta M_n^1| = |<n+1|S_z^1|n+1> - <n|S_z^1|n>| over the eigenstates of the
    M = 0 sector and over disorder realizations, vs N, on a log axis.  Exponential
    decay with N means ETH, saturation means MBL.  The paper does not say how the
    signed difference is averaged; here it is the mean of the absolute value.

"Spin 1" is the middle spin, site N // 2 (the paper does not say which spin; with
equally spaced offsets site 0 is the lowest-offset edge spin, see
:mod:`dnpsim.observables.localization`).

Modes
-----
quick : (a) N = 10 (252 eigenstates); (b) N = 6, 8, 10 with 5 realizations.  A few
        seconds.
full  : (a) N = 12 (924 eigenstates, as in the paper); (b) N = 8, 10, 12 with 20
        realizations and N = 14, 16 with 3 realizations (N = 16 is one block of
        C(16, 8) = 12870 states, ~5 GiB and 5-12 min per diagonalization on one
        core of the 2-core development machine (the tridiagonal reduction is memory
        bound); the whole full mode took 40 min with two workers on 2026-12-01,
        nearly all of it the 9 N = 16 diagonalizations).  ``max_size=14`` drops
        N = 16.

Both panels are sweeps (:mod:`dnpsim.experiments.eth`): realization r has the seed
``realization_seeds(seed, R)[r]`` at every N and U, panel (a) is realization 0.

Output: ``spin-temperature-fig4.nc`` (xarray Dataset, h5netcdf) and
``spin-temperature-fig4.png`` in ``output_dir``, nothing else.  The sweeps of panel (b)
(one per realization count) run in ``spin-temperature-fig4.nc.parts/``, where an
interrupted run resumes; a finished figure of the same parameters is reused (only the
plot is drawn again).

Run as a script::

    python -m dnpsim.experiments.figures.fig4_eth [--full] [--output DIR] [--workers K]
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from dnpsim.experiments.eth import (
    DEFAULT_ELECTRON_LARMOR_HZ,
    DEFAULT_HALF_WIDTH_HZ,
    eigenstate_spin_z,
    eth_scaling,
)
from dnpsim.experiments.figures.common import load_finished, save_figure, work_directory
from dnpsim.observables.localization import default_site

NETCDF_NAME = "spin-temperature-fig4.nc"
PNG_NAME = "spin-temperature-fig4.png"

#: U / 2pi of Fig. 4, Hz.
COUPLINGS_HZ = (2e6, 15e6, 45e6)
#: Colours of the three couplings (the caption says blue, red, blue; the third is
#: drawn green here so the curves can be told apart).
COLORS = ("tab:blue", "tab:red", "tab:green")

QUICK = {"panel_a_size": 10, "sizes": (6, 8, 10), "realizations": {6: 5, 8: 5, 10: 5}}
FULL = {"panel_a_size": 12, "sizes": (8, 10, 12, 14, 16),
        "realizations": {8: 20, 10: 20, 12: 20, 14: 3, 16: 3}}
#: Sizes from which the full mode uses at most this many realizations.
LARGE_SIZE, LARGE_REALIZATIONS = 14, 3

#: Units and long names of the figure's variables and coordinates.
QUANTITIES = {
    "n_electrons": ("1", "number of electron spins N"),
    "coupling": ("Hz", "dipolar scale U / 2pi"),
    "realization": ("1", "index of the disorder realization"),
    "realization_seed": ("1", "seed of this realization, at every N and U"),
    "delta_m": ("1", "mean |delta M_n^1| over the M = 0 eigenstates and the realizations"),
    "delta_m_error": ("1", "standard error of delta_m over the realizations (std ddof=1 / sqrt(R))"),
    "delta_m_samples": ("1", "mean |delta M_n^1| over the M = 0 eigenstates, per realization"),
    "realizations": ("1", "number of disorder realizations R of this N"),
    "site": ("1", "the spin S^1 (0-based site N // 2)"),
    "sector_dim": ("1", "dimension C(N, N/2) of the M = 0 sector"),
    "spin_z_a": ("1", "<n|S_z^1|n> of each M = 0 eigenstate of one realization (panel a)"),
    "energy_a": ("Hz", "eigen-energy / 2pi of each M = 0 eigenstate of one realization (panel a)"),
}


def _plan(quick: bool, realizations: int | None, max_size: int | None) -> dict:
    base = QUICK if quick else FULL
    sizes = [n for n in base["sizes"] if max_size is None or n <= max_size]
    if not sizes:
        raise ValueError(f"max_size={max_size} leaves no system size (smallest is {base['sizes'][0]})")
    counts = dict(base["realizations"])
    if realizations is not None:
        if realizations < 1:
            raise ValueError(f"realizations must be >= 1, got {realizations}")
        counts = {n: (int(realizations) if quick or n < LARGE_SIZE else min(int(realizations), LARGE_REALIZATIONS))
                  for n in base["sizes"]}
    panel_a = min(base["panel_a_size"], max(sizes))
    return {"panel_a_size": panel_a, "sizes": sizes, "realizations": {n: counts[n] for n in sizes}}


def panel_a_data(n_electrons: int, couplings_hz=COUPLINGS_HZ, seed: int = 0, site: int | None = None,
                 half_width_hz: float = DEFAULT_HALF_WIDTH_HZ, *, executor="serial", progress: bool = False):
    """Fig. 4(a): energies (Hz, cyclic, ascending) and <n|S_z^site|n> of the M = 0
    eigenstates of one realization, for each coupling.

    The realization is realization 0 of :func:`dnpsim.experiments.eth.eth_scaling` with
    the same ``seed`` (a one-realization sweep, :func:`dnpsim.experiments.eth.eigenstate_spin_z`).
    Returns an xarray Dataset with dims (coupling, eigenstate): ``spin_z_a`` and ``energy_a``.
    """
    site = default_site(n_electrons) if site is None else site
    data = eigenstate_spin_z(n_electrons, couplings_hz, seed, site, half_width_hz, executor=executor,
                             progress=progress)
    data = data.rename({"spin_z": "spin_z_a", "energy": "energy_a"}).drop_vars("realization_seed")
    data["spin_z_a"].attrs = {"long_name": f"<n|S_z^1|n>, N = {n_electrons}, site {site}, one realization"}
    data["energy_a"].attrs = {"units": "Hz", "long_name": "eigen-energy / 2pi (M = 0 block, omega_e M = 0)"}
    data["coupling"].attrs = {"units": "Hz", "long_name": "dipolar scale U / 2pi"}
    data.attrs = {"panel_a_n_electrons": int(n_electrons), "panel_a_site": int(site)}
    return data


def plot(ds, path: Path) -> Path:
    """Draw the two panels of Fig. 4 from the Dataset written by :func:`make_figure`."""
    from dnpsim.plots import pyplot

    plt = pyplot()
    fig, (ax_a, ax_b) = plt.subplots(1, 2, figsize=(10, 4.3), dpi=120)
    couplings = np.asarray(ds["coupling"])
    n_a = int(ds.attrs["panel_a_n_electrons"])
    for k, u in enumerate(couplings):
        color = COLORS[k % len(COLORS)]
        values = np.asarray(ds["spin_z_a"][k])
        ax_a.plot(np.arange(values.size), values, ".", ms=2.5, color=color, alpha=0.7,
                  label=rf"$U/2\pi$ = {u / 1e6:g} MHz", rasterized=True)
    ax_a.axhline(0.0, color="0.5", lw=0.7)
    # headroom above +1/2 keeps the legend off the data
    ax_a.set_ylim(-0.58, 0.82)
    ax_a.set_yticks([-0.5, -0.25, 0.0, 0.25, 0.5])
    ax_a.set_xlabel(r"eigenstate $n$ (increasing energy)")
    ax_a.set_ylabel(r"$\langle n|\hat S_z^1|n\rangle$")
    ax_a.set_title(f"(a) $N$ = {n_a}, $M$ = 0, one realization, site {ds.attrs['panel_a_site']}", fontsize=9)
    ax_a.legend(fontsize=8, markerscale=4, loc="upper center", ncol=3)

    sizes = np.asarray(ds["n_electrons"])
    for k, u in enumerate(couplings):
        color = COLORS[k % len(COLORS)]
        mean = np.asarray(ds["delta_m"][:, k])
        err = np.nan_to_num(np.asarray(ds["delta_m_error"][:, k]))
        ax_b.errorbar(sizes, mean, yerr=err, fmt="o-", ms=4, capsize=2, color=color,
                      label=rf"$U/2\pi$ = {u / 1e6:g} MHz")
    ax_b.set_yscale("log")
    ax_b.set_xticks(sizes)
    ax_b.set_xlabel(r"$N$")
    ax_b.set_ylabel(r"$\overline{|\delta M_n^1|}$")
    counts = ", ".join(f"{int(n)}: {int(r)}" for n, r in zip(sizes, np.asarray(ds["realizations"])))
    ax_b.set_title("(b) mean over $M$ = 0 eigenstates and realizations\n"
                   f"site $N$ // 2; realizations per $N$:  {counts}", fontsize=9)
    ax_b.legend(fontsize=8, loc="lower left")
    fig.suptitle(r"ETH test, $\Delta\omega_e/2\pi$ = " + f"{ds.attrs['half_width_hz'] / 1e6:g} MHz "
                 "(De Luca et al. 2016, Fig. 4)", fontsize=10)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path)
        plt.close(fig)
    return fig


def caption(ds) -> str:
    """The text under the plot: what is drawn, and what the error bars are."""
    counts = ", ".join(f"{int(r)}" for r in np.asarray(ds["realizations"]))
    return (r"De Luca et al. 2016, Fig. 4. (a) $\langle n|\hat S_z^1|n\rangle$ of every eigenstate of the $M$ = 0 "
            r"sector of one realization, by increasing energy; blue, red, green: $U/2\pi$ = 2, 15, 45 MHz (the "
            r"paper's third colour is blue again). (b) $|\delta M_n^1|$ averaged over the $M$ = 0 eigenstates and "
            f"the realizations ({counts} realizations for $N$ = "
            + ", ".join(str(int(n)) for n in np.asarray(ds["n_electrons"]))
            + r"); error bars: standard error of the mean over the $R$ realizations ($\sigma/\sqrt{R}$). "
            r"$\Delta\omega_e/2\pi$ = 54 MHz, equally spaced offsets.")


def make_figure(quick: bool, output_dir: Path, progress: bool = True, realizations: int | None = None,
                workers: int = 1, *, max_size: int | None = None, seed: int = 0,
                n_electrons: int | None = None) -> tuple[Path, Path]:
    """Compute and draw Fig. 4 of the 2016 paper; return (NetCDF path, PNG path).

    Parameters
    ----------
    quick : bool
        Quick mode (N <= 10, 5 realizations, seconds) or full mode (N = 12 in (a),
        N = 8..16 in (b); 20 realizations for N <= 12, 3 for N = 14, 16).
    output_dir : Path
        Created if needed; receives ``spin-temperature-fig4.nc`` and ``.png``.
    progress : bool
        tqdm progress bars over the sweeps' tasks (one diagonalization each).
    realizations : int, optional
        Override the number of realizations: for every N in quick mode, for N <= 12 in
        full mode (N >= 14 use at most 3).
    workers : int
        > 1 runs the sweeps' tasks in that many local processes
        (:class:`dnpsim.experiments.executors.ProcessExecutor`; mind the memory at N = 16,
        ~5 GiB per worker).  Results do not depend on it.
    max_size : int, optional
        Largest N of panel (b) (e.g. 14 to skip the expensive N = 16).
    seed : int
        Root seed of the sweeps (:func:`dnpsim.experiments.eth.eth_scaling`).
    n_electrons : int, optional
        The command line's ``--electrons``: caps the sizes like ``max_size``.
    """
    if n_electrons is not None:
        max_size = n_electrons if max_size is None else min(max_size, n_electrons)
    from dnpsim.experiments.executors import make_executor

    name = NETCDF_NAME[: -len(".nc")]
    output_dir = Path(output_dir)
    plan = _plan(quick, realizations, max_size)
    parameters = {
        "mode": "quick" if quick else "full",
        "couplings_hz": list(COUPLINGS_HZ),
        "half_width_hz": DEFAULT_HALF_WIDTH_HZ,
        "electron_larmor_hz": DEFAULT_ELECTRON_LARMOR_HZ,
        "panel_a_n_electrons": plan["panel_a_size"],
        "sizes": plan["sizes"],
        "realizations": {str(n): r for n, r in plan["realizations"].items()},
        "seed": seed,
        "site": "N // 2",
    }
    ds = load_finished(output_dir, name, parameters)
    reused = ds is not None
    if not reused:
        start = time.perf_counter()
        # one pool for the sweeps of both panels; every realization's seed comes from the sweep
        with make_executor("processes" if workers > 1 else "serial", workers if workers > 1 else None) as executor:
            panel_a = panel_a_data(plan["panel_a_size"], COUPLINGS_HZ, seed=seed, executor=executor,
                                   progress=progress)
            scaling = eth_scaling(plan["sizes"], COUPLINGS_HZ, plan["realizations"], DEFAULT_HALF_WIDTH_HZ,
                                  seed=seed, site=None, progress=progress, executor=executor,
                                  output_dir=work_directory(output_dir, name))
        ds = scaling.merge(panel_a, combine_attrs="no_conflicts")
        ds.attrs.update({
            "title": "ETH test of the electron spins: Fig. 4 of De Luca et al., PRB 94, 014203 (2016)",
            "mode": parameters["mode"],
            "parameters": json.dumps(dict(parameters, workers=workers)),
            "wall_time_s": time.perf_counter() - start,
        })
    specs = json.loads(ds.attrs.pop("specs", "[]"))
    fig = plot(ds, None)
    return save_figure(ds, fig, output_dir, name, parameters=parameters, caption=caption(ds), spec=specs,
                       quantities=QUANTITIES, reused=reused)


def main(argv=None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="full mode (N up to 16; minutes to an hour)")
    parser.add_argument("--output", type=Path, default=Path("."), help="output directory")
    parser.add_argument("--realizations", type=int, default=None)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--max-size", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    paths = make_figure(not args.full, args.output, progress=not args.no_progress, realizations=args.realizations,
                        workers=args.workers, max_size=args.max_size, seed=args.seed)
    for path in paths:
        print(path)


if __name__ == "__main__":
    main()
