"""Figures 2, 3, 4, 5 and 7 of Rodriguez-Arias et al., PRB 98, 224202 (2018).

* Fig. 2: DOS for t = 1, 5, 8, 14 MHz at L = 8, w = 108 MHz.
* Fig. 3: P_n (Eq. (22)) vs t for the Anderson model and the GOE surrogate (Eq. (23)),
  the transition t_c = w / 16.5 marked.
* Fig. 4: P_n vs t for omega_MW = 93.86 ... 93.89 GHz (omega_n = 20 MHz) and for
  several omega_n (omega_MW = 93.86 GHz).
* Fig. 5: the two ISS rate sums of Eq. (22) (numerator and ISS part of the
  denominator, per electron) against the leakage term.
* Fig. 7: C(omega_n) (Eq. (30)) vs t for omega_n = 1..5 MHz.

Parameters: Table I (:data:`dnpsim.experiments.anderson.TABLE_I`), w = 108 MHz,
t_c = w/16.5, N_n/N_e = 1e4 (not in Table I; Sec. II quotes this ratio).  P_n uses the
corrected Eq. (22) (prefactor and resonance sign, see dnpsim.theory.free_fermion).
Every figure's data is one sweep (:func:`dnpsim.experiments.sweep.run_sweep`) of an
``anderson`` spec over ``model.hopping``: realization r has the seed
``realization_seeds(2018, R)[r]`` at every t, i.e. the same disorder shape at every t
(common random numbers: smoother curves, independent realizations across r);
``workers`` processes, progress bar, resume and provenance come with the sweep.

Quick mode: L = 8 (Fig. 2-5, 7), 4 realizations.  Full mode: the paper's sizes,
L = 18 x 60 realizations (Fig. 3-5), L = 20 x 10 (Fig. 7): hours on 2 cores.
Raw data are cached in ``anderson-L{L}-R{R}.nc`` (Fig. 2: ``anderson-dos-L{L}-R{R}.nc``)
and reused by the other figures.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dnpsim.experiments.anderson import TABLE_I
from dnpsim.experiments.figures.common import (FIGURE_TABLE, engine_spec, figure_sweep, point_spec,
                                               validate_engine_spec)
from dnpsim.models.anderson import critical_hopping
from dnpsim.io import write_netcdf
from dnpsim.plots import pyplot

HOPPINGS = (1e6, 2e6, 3e6, 4e6, 5e6, 6e6, 6.6e6, 7.5e6, 9e6, 11e6, 14e6, 18e6, 24e6, 32e6)
MW_FREQUENCIES = (93.86e9, 93.87e9, 93.88e9, 93.89e9)
NUCLEAR_LARMORS = (5e6, 10e6, 20e6, 30e6)
C_OMEGAS = (1e6, 2e6, 3e6, 4e6, 5e6)
C_WINDOW = 0.5e6
DOS_EDGES = np.linspace(-150e6, 150e6, 121)
FIG2_HOPPINGS = (1e6, 5e6, 8e6, 14e6)
ROOT_SEED = 2018


#: The compute's own dimensions (the sweep adds hopping and realization in front).
DIMS = {"pn_mw": ("mw_frequency",), "pn_goe_mw": ("mw_frequency",), "pn_wn": ("nuclear_larmor",),
        "pn_goe_wn": ("nuclear_larmor",), "c_omega": ("omega",), "dos": ("energy",)}


def figure_spec(L: int, hoppings, realizations: int, params: dict = TABLE_I) -> dict:
    """The sweep behind the figures: an ``anderson`` spec at the Table I point ``params``
    (Hz, s, K; box disorder of width w), ``model.hopping`` swept over ``hoppings`` (Hz),
    ``realizations`` disorder draws from root seed :data:`ROOT_SEED`; the figures' extra
    grids (omega_MW, omega_n, C(omega) and DOS bins, Hz) in its ``figure`` table."""
    p = params
    return {
        "model": {"kind": "anderson", "L": int(L), "boundary": "periodic", "hopping": float(hoppings[0]),
                  "electron_larmor": p["electron_larmor"], "onsite": {"distribution": "uniform", "width": p["width"]},
                  "seed": ROOT_SEED,
                  "nuclei": {"larmor": p["nuclear_larmor"], "hyperfine": p["hyperfine"], "t1n": p["t1n"],
                             "t2n": p["t2n"], "per_electron": p["per_electron"]}},
        "environment": {key: p[key] for key in ("temperature", "t1e", "t2e", "mw_frequency", "mw_amplitude")},
        "method": {"kind": "free_fermion"},
        FIGURE_TABLE: {"mw_frequencies": list(MW_FREQUENCIES), "nuclear_larmors": list(NUCLEAR_LARMORS),
                       "c_omegas": list(C_OMEGAS), "c_window": C_WINDOW, "dos_edges": DOS_EDGES.tolist()},
        "sweep": {"model.hopping": [float(t) for t in hoppings], "realizations": int(realizations), "seed": ROOT_SEED},
    }


def hopping_task(spec: dict, variants: list[dict], seed: int) -> list[dict]:
    """Sweep compute: one diagonalization of the realization ``seed`` of the group's
    lattice, then :func:`dnpsim.experiments.anderson.engine_observables` at each
    variant's environment and nuclei (dims :data:`DIMS`)."""
    from dnpsim.experiments.anderson import ExactAnderson, engine_observables
    from dnpsim.spec import resolve_spec

    grids = spec[FIGURE_TABLE]
    engine = ExactAnderson(resolve_spec(engine_spec(spec), seed=seed).lattice())
    out = []
    for variant in variants:
        point = resolve_spec(engine_spec(point_spec(spec, variant)), seed=seed)
        result = engine_observables(engine, point.environment(), point.nuclei(),
                                    mw_frequencies_hz=grids["mw_frequencies"],
                                    nuclear_larmors_hz=grids["nuclear_larmors"], c_omegas_hz=grids["c_omegas"],
                                    c_window_hz=grids["c_window"], dos_edges_hz=grids["dos_edges"])
        out.append(result | {"dims": DIMS})
    return out


def _finish(L: int):
    def finish(data):
        edges = np.asarray(DOS_EDGES)
        data = data.assign_coords(mw_frequency=list(MW_FREQUENCIES), nuclear_larmor=list(NUCLEAR_LARMORS),
                                  omega=list(C_OMEGAS), energy=0.5 * (edges[1:] + edges[:-1]))
        for c in ("hopping", "mw_frequency", "nuclear_larmor", "omega", "energy"):
            data[c].attrs["units"] = "Hz"
        data.attrs.update({"L": L, "paper": "Rodriguez-Arias et al., PRB 98, 224202 (2018)",
                           "critical_hopping_hz": critical_hopping(TABLE_I["width"]),
                           "description": "P_n from the corrected Eq. (22); C(omega) averaged over 0.5 MHz windows"})
        return data

    return finish


def dataset(L: int, realizations: int, output_dir: Path, *, hoppings=HOPPINGS, name: str = "anderson",
            workers: int = 1, progress=True):
    """Observables over (hopping, realization) for linear size L: the sweep of
    :func:`figure_spec` (compute :func:`hopping_task`), written to
    ``<name>-L{L}-R{R}.nc`` in ``output_dir`` (an interrupted run resumes, a finished
    one of the same spec is reused by the other figures)."""
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    return figure_sweep(figure_spec(L, hoppings, realizations), output_dir / f"{name}-L{L}-R{realizations}.nc",
                        hopping_task, validate=validate_engine_spec, workers=workers, progress=progress,
                        finish=_finish(L))


def _cube_root(n_electrons):
    """``dnpsim figure --electrons N``: N = L^3 electrons (sites)."""
    if n_electrons is None:
        return None
    L = round(n_electrons ** (1 / 3))
    if L ** 3 != n_electrons:
        raise ValueError(f"--electrons {n_electrons}: the Anderson figures need N = L^3 (e.g. {L ** 3})")
    return L


def _sizes(quick: bool, realizations, L, full_L):
    return (L or (8 if quick else full_L)), (realizations or (4 if quick else 60))


def _hopping_scan(quick, realizations, L, n_electrons, output_dir, workers, progress):
    """(L, realizations, dataset) of the t scan behind Figs. 3-5: quick L = 8 x 4,
    full L = 18 x 60 (``L`` or ``n_electrons`` = L^3 override the size)."""
    L, r = _sizes(quick, realizations, L or _cube_root(n_electrons), 18)
    return L, r, dataset(L, r, output_dir, workers=workers, progress=progress)


def _hopping_axis(ax, ylabel: str):
    """Log t axis with t_c marked (Figs. 3-5, 7)."""
    _mark_tc(ax)
    ax.set_xscale("log")
    ax.set_xlabel(r"$t/2\pi$ (MHz)")
    ax.set_ylabel(ylabel)


def _mark_tc(ax):
    ax.axvline(critical_hopping(TABLE_I["width"]) / 1e6, color="0.5", ls="--", lw=1, label=r"$t_c = w/16.5$")


def _errorbar(ax, t, values, **kw):
    mean = values.mean("realization")
    std = values.std("realization")
    return ax.errorbar(t, mean, yerr=std, capsize=2, ms=4, **kw)


def make_fig2(quick: bool, output_dir: Path, progress: bool = True, realizations: int | None = None,
              workers: int = 1, L: int | None = None, n_electrons: int | None = None):
    """``dnpsim figure anderson-fig2``: DOS at L = 8 (both modes; quick 2, full 20 realizations)."""
    L = L or _cube_root(n_electrons)
    L = L or 8
    r = realizations or (2 if quick else 20)
    data = dataset(L, r, output_dir, hoppings=FIG2_HOPPINGS, name="anderson-dos", workers=workers, progress=progress)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 4), dpi=120)
    for t, marker in zip(FIG2_HOPPINGS, ("v", "^", "s", "o")):
        rho = data["dos"].sel(hopping=t).mean("realization")
        ax.plot(data["energy"] / 1e6, rho * 1e6, marker=marker, ms=3, lw=0.8, label=f"t = {t / 1e6:g} MHz")
    ax.set_xlabel(r"$(\epsilon - \omega_e)/2\pi$ (MHz)")
    ax.set_ylabel(r"$\rho(\epsilon)$ (1/MHz)")
    ax.set_title(f"DOS, L = {L}, w = 108 MHz, {r} realizations", fontsize=9)
    ax.legend(fontsize=8)
    return _save(fig, plt, data, output_dir, "anderson-fig2")


def make_fig3(quick: bool, output_dir: Path, progress: bool = True, realizations: int | None = None,
              workers: int = 1, L: int | None = None, n_electrons: int | None = None):
    """``dnpsim figure anderson-fig3``: P_n vs t, Anderson vs GOE surrogate."""
    L, r, data = _hopping_scan(quick, realizations, L, n_electrons, output_dir, workers, progress)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 4), dpi=120)
    t = data["hopping"] / 1e6
    sel = {"mw_frequency": TABLE_I["mw_frequency"]}
    _errorbar(ax, t, data["pn_mw"].sel(sel), fmt="s", color="tab:cyan", label="Anderson (Eq. 21)")
    _errorbar(ax, t, data["pn_goe_mw"].sel(sel), fmt="^", color="tab:blue", label="GOE (Eq. 23)")
    _hopping_axis(ax, r"$P_n$")
    ax.set_title(f"Fig. 3: L = {L}, {r} realizations", fontsize=9)
    ax.legend(fontsize=8)
    return _save(fig, plt, data, output_dir, "anderson-fig3")


def make_fig4(quick: bool, output_dir: Path, progress: bool = True, realizations: int | None = None,
              workers: int = 1, L: int | None = None, n_electrons: int | None = None):
    """``dnpsim figure anderson-fig4``: P_n vs t for several omega_MW and omega_n."""
    L, r, data = _hopping_scan(quick, realizations, L, n_electrons, output_dir, workers, progress)
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), dpi=120)
    t = data["hopping"] / 1e6
    for f in MW_FREQUENCIES:
        _errorbar(axes[0], t, data["pn_mw"].sel(mw_frequency=f), fmt="o-", lw=0.8,
                  label=rf"$\omega_{{MW}}$ = {f / 1e9:.2f} GHz")
    for wn in NUCLEAR_LARMORS:
        _errorbar(axes[1], t, data["pn_wn"].sel(nuclear_larmor=wn), fmt="o-", lw=0.8,
                  label=rf"$\omega_n$ = {wn / 1e6:g} MHz")
    for ax in axes:
        _hopping_axis(ax, r"$P_n$")
        ax.legend(fontsize=7)
    axes[0].set_title(rf"$\omega_n$ = 20 MHz, L = {L}, {r} realizations", fontsize=9)
    axes[1].set_title(rf"$\omega_{{MW}}$ = 93.86 GHz, L = {L}, {r} realizations", fontsize=9)
    return _save(fig, plt, data, output_dir, "anderson-fig4")


def make_fig5(quick: bool, output_dir: Path, progress: bool = True, realizations: int | None = None,
              workers: int = 1, L: int | None = None, n_electrons: int | None = None):
    """``dnpsim figure anderson-fig5``: the rate sums of Eq. (22) vs t."""
    L, r, data = _hopping_scan(quick, realizations, L, n_electrons, output_dir, workers, progress)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 4), dpi=120)
    t = data["hopping"] / 1e6
    lk = float(data["leakage"].values.flat[0])
    _errorbar(ax, t, data["numerator"] / lk, fmt="v", color="tab:blue", label="numerator (emit - abs)")
    _errorbar(ax, t, data["iss_denominator"] / lk, fmt="s", color="tab:cyan", label="ISS (emit + abs)")
    ax.axhline(1.0, color="k", lw=0.8, label="leakage")
    _hopping_axis(ax, "rate / leakage term")
    ax.set_yscale("log")
    ax.set_title(f"Fig. 5: terms of Eq. (22), L = {L}, {r} realizations", fontsize=9)
    ax.legend(fontsize=8)
    return _save(fig, plt, data, output_dir, "anderson-fig5")


def make_fig7(quick: bool, output_dir: Path, progress: bool = True, realizations: int | None = None,
              workers: int = 1, L: int | None = None, n_electrons: int | None = None):
    """``dnpsim figure anderson-fig7``: C(omega_n) vs t (quick L = 8 x 4, full L = 20 x 10)."""
    L = L or _cube_root(n_electrons)
    L = L or (8 if quick else 20)
    r = realizations or (4 if quick else 10)
    data = dataset(L, r, output_dir, workers=workers, progress=progress)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 4), dpi=120)
    t = data["hopping"] / 1e6
    for w in C_OMEGAS:
        _errorbar(ax, t, data["c_omega"].sel(omega=w), fmt="o-", lw=0.8, label=rf"$\omega_n$ = {w / 1e6:g} MHz")
    _hopping_axis(ax, r"$C(\omega_n)$")
    ax.set_title(f"Fig. 7: L = {L}, {r} realizations, 0.5 MHz windows", fontsize=9)
    ax.legend(fontsize=8)
    return _save(fig, plt, data, output_dir, "anderson-fig7")


def _save(fig, plt, data, output_dir: Path, name: str):
    output_dir = Path(output_dir)
    nc, png = output_dir / f"{name}.nc", output_dir / f"{name}.png"
    fig.tight_layout()
    fig.savefig(png)
    plt.close(fig)
    write_netcdf(data, nc)
    return nc, png
