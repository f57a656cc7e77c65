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

Quick mode: L = 8 (Fig. 2-5, 7), 4 realizations (Fig. 2: 2).  Full mode: the paper's
sizes, L = 18 x 60 realizations (Fig. 3-5), L = 20 x 10 (Fig. 7): hours on 2 cores.
Each command writes ``<figure>.nc`` (the observables its plot draws, per realization)
and ``<figure>.png``; the sweep runs in ``<figure>.nc.parts/`` meanwhile (resumable).
Figs. 3-5 draw different observables of the same sweep, which each computes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dnpsim.experiments.anderson import TABLE_I
from dnpsim.experiments.figures.common import (
    FIGURE_TABLE,
    engine_spec,
    figure_sweep,
    load_finished,
    point_spec,
    save_figure,
    validate_engine_spec,
    work_directory,
)
from dnpsim.models.anderson import critical_hopping
from dnpsim.plots import pyplot

HOPPINGS = (1e6, 2e6, 3e6, 4e6, 5e6, 6e6, 6.6e6, 7.5e6, 9e6, 11e6, 14e6, 18e6, 24e6, 32e6)
MW_FREQUENCIES = (93.86e9, 93.87e9, 93.88e9, 93.89e9)
NUCLEAR_LARMORS = (5e6, 10e6, 20e6, 30e6)
C_OMEGAS = (1e6, 2e6, 3e6, 4e6, 5e6)
C_WINDOW = 0.5e6
DOS_EDGES = np.linspace(-150e6, 150e6, 121)
FIG2_HOPPINGS = (1e6, 5e6, 8e6, 14e6)
ROOT_SEED = 2018


PAPER = "Rodriguez-Arias et al., PRB 98, 224202 (2018)"

#: Units and long names of the figures' variables and coordinates.
QUANTITIES = {
    "hopping": ("Hz", "hopping t / 2pi of the Anderson lattice"),
    "mw_frequency": ("Hz", "microwave frequency omega_MW / 2pi"),
    "nuclear_larmor": ("Hz", "nuclear Larmor frequency omega_n / 2pi"),
    "omega": ("Hz", "frequency omega_n / 2pi at which C is evaluated"),
    "energy": ("Hz", "single-electron energy (epsilon - omega_e) / 2pi, bin centre"),
    "pn_mw": ("1", "nuclear polarization P_n, Eq. (22) with the exact overlaps of Eq. (21), vs omega_MW"),
    "pn_goe_mw": ("1", "nuclear polarization P_n, Eq. (22) with the GOE overlaps of Eq. (23), vs omega_MW"),
    "pn_wn": ("1", "nuclear polarization P_n, Eq. (22) with the exact overlaps, vs omega_n"),
    "numerator": ("1", "numerator of Eq. (22) per electron: emission minus absorption ISS pair sum"),
    "iss_denominator": ("1", "ISS part of the denominator of Eq. (22) per electron: emission plus absorption"),
    "leakage": ("1", "leakage term of Eq. (22), 8 N_n / (N_e A_0^2 T_1n T_2n)"),
    "c_omega": ("1", "eigenfunction correlation C(omega_n), Eq. (30), averaged over 0.5 MHz windows"),
    "dos": ("1/Hz", "density of states rho per electron, per Hz of (epsilon - omega_e) / 2pi"),
}

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
                  "nuclei": {"larmor": p["nuclear_larmor"], "hyperfine": p["hyperfine"],
                             "per_electron": p["per_electron"]}},
        "environment": {key: p[key] for key in ("temperature", "t1e", "t2e", "t1n", "t2n", "mw_frequency",
                                                "mw_amplitude")},
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
        data.attrs.update({"L": L, "paper": PAPER, "critical_hopping_hz": critical_hopping(TABLE_I["width"]),
                           "description": "P_n from the corrected Eq. (22); C(omega) averaged over 0.5 MHz windows"})
        return data

    return finish


def dataset(L: int, realizations: int, work: Path | None, *, hoppings=HOPPINGS, workers: int = 1, progress=True):
    """Observables over (hopping, realization) for linear size L: the sweep of
    :func:`figure_spec` (compute :func:`hopping_task`), run in the directory ``work``
    (``sweep.nc`` there: an interrupted run resumes, a finished one of the same spec is
    reused), or in memory when ``work`` is None."""
    output = None if work is None else Path(work) / "sweep.nc"
    return figure_sweep(figure_spec(L, hoppings, realizations), output, hopping_task, validate=validate_engine_spec,
                        workers=workers, progress=progress, finish=_finish(L))


def _cube_root(n_electrons):
    """``dnpsim figure --electrons N``: N = L^3 electrons (sites)."""
    if n_electrons is None:
        return None
    L = round(n_electrons ** (1 / 3))
    if L ** 3 != n_electrons:
        raise ValueError(f"--electrons {n_electrons}: the Anderson figures need N = L^3 (e.g. {L ** 3})")
    return L


def _figure_data(name: str, quick: bool, L: int, r: int, hoppings, variables, output_dir, workers, progress,
                 select=None):
    """(data, parameters, reused) of figure ``name``: its finished file of the same
    parameters, or the sweep's ``variables`` (``select``: a ``.sel`` applied to them)."""
    parameters = {"mode": "quick" if quick else "full", "L": int(L), "realizations": int(r),
                  "hoppings_hz": [float(t) for t in hoppings], "seed": ROOT_SEED}
    data = load_finished(output_dir, name, parameters)
    if data is not None:
        return data, parameters, True
    full = dataset(L, r, work_directory(output_dir, name), hoppings=hoppings, workers=workers, progress=progress)
    data = full[list(variables)]
    if select:
        data = data.sel(select)
    data.attrs = dict(full.attrs)
    return data, parameters, False


def _hopping_scan(name, quick, realizations, L, n_electrons, output_dir, workers, progress, variables, select=None):
    """(L, realizations, data, parameters, reused) of the t scan behind Figs. 3-5: quick
    L = 8 x 4, full L = 18 x 60 (``L`` or ``n_electrons`` = L^3 override the size)."""
    L = L or _cube_root(n_electrons) or (8 if quick else 18)
    r = realizations or (4 if quick else 60)
    data, parameters, reused = _figure_data(name, quick, L, r, HOPPINGS, variables, output_dir, workers, progress,
                                            select)
    return L, r, data, parameters, reused


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


def _std(r: int) -> str:
    return f"error bars: one standard deviation over the {r} realizations"


def make_fig2(quick: bool, output_dir: Path, progress: bool = True, realizations: int | None = None,
              workers: int = 1, L: int | None = None, n_electrons: int | None = None):
    """``dnpsim figure anderson-fig2``: DOS at L = 8 (both modes; quick 2, full 20 realizations)."""
    name = "anderson-fig2"
    L = L or _cube_root(n_electrons) or 8
    r = realizations or (2 if quick else 20)
    data, parameters, reused = _figure_data(name, quick, L, r, FIG2_HOPPINGS, ["dos"], output_dir, workers,
                                            progress)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 4), dpi=120)
    for t, marker in zip(FIG2_HOPPINGS, ("v", "^", "s", "o")):
        rho = data["dos"].sel(hopping=t).mean("realization")
        ax.plot(data["energy"] / 1e6, rho * 1e6, marker=marker, ms=3, lw=0.8, label=rf"$t/2\pi$ = {t / 1e6:g} MHz")
    ax.set_xlabel(r"$(\epsilon - \omega_e)/2\pi$ (MHz)")
    ax.set_ylabel(r"$\rho(\epsilon)$ (1/MHz)")
    ax.set_title(f"DOS, $L$ = {L}, $w/2\\pi$ = 108 MHz, {r} realizations", fontsize=9)
    ax.legend(fontsize=8)
    caption = (r"Rodriguez-Arias et al. 2018, Fig. 2. Density of states of the 3D Anderson model, $L$ = " f"{L}, "
               r"box disorder $w/2\pi$ = 108 MHz, for $t/2\pi$ = 1, 5, 8, 14 MHz (inverted and regular triangles, "
               f"squares, dots), mean over {r} realizations; no error bars.")
    return _save(fig, data, output_dir, name, parameters, caption, reused)


def make_fig3(quick: bool, output_dir: Path, progress: bool = True, realizations: int | None = None,
              workers: int = 1, L: int | None = None, n_electrons: int | None = None):
    """``dnpsim figure anderson-fig3``: P_n vs t, Anderson vs GOE surrogate."""
    L, r, data, parameters, reused = _hopping_scan(
        "anderson-fig3", quick, realizations, L, n_electrons, output_dir, workers, progress,
        ["pn_mw", "pn_goe_mw"], {"mw_frequency": TABLE_I["mw_frequency"]})
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 4), dpi=120)
    t = data["hopping"] / 1e6
    _errorbar(ax, t, data["pn_mw"], fmt="s", color="tab:cyan", label="Anderson (Eq. (21))")
    _errorbar(ax, t, data["pn_goe_mw"], fmt="^", color="tab:blue", label="GOE (Eq. (23))")
    _hopping_axis(ax, r"$P_n$")
    ax.set_title(f"$L$ = {L}, {r} realizations", fontsize=9)
    ax.legend(fontsize=8)
    caption = (r"Rodriguez-Arias et al. 2018, Fig. 3. Average nuclear polarization $P_n$ (Eq. (22)) for the Anderson "
               r"model (light blue squares, exact overlaps Eq. (21)) and for GOE-like wave functions with the same "
               r"density of states (blue triangles, Eq. (23)); dashed: the Anderson transition $t_c = w/16.5$. "
               f"$L$ = {L}, mean over {r} realizations; {_std(r)}.")
    return _save(fig, data, output_dir, "anderson-fig3", parameters, caption, reused)


def make_fig4(quick: bool, output_dir: Path, progress: bool = True, realizations: int | None = None,
              workers: int = 1, L: int | None = None, n_electrons: int | None = None):
    """``dnpsim figure anderson-fig4``: P_n vs t for several omega_MW and omega_n."""
    L, r, data, parameters, reused = _hopping_scan(
        "anderson-fig4", quick, realizations, L, n_electrons, output_dir, workers, progress, ["pn_mw", "pn_wn"])
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), dpi=120)
    t = data["hopping"] / 1e6
    for f in MW_FREQUENCIES:
        _errorbar(axes[0], t, data["pn_mw"].sel(mw_frequency=f), fmt="o-", lw=0.8,
                  label=rf"$\omega_{{MW}}/2\pi$ = {f / 1e9:.2f} GHz")
    for wn in NUCLEAR_LARMORS:
        _errorbar(axes[1], t, data["pn_wn"].sel(nuclear_larmor=wn), fmt="o-", lw=0.8,
                  label=rf"$\omega_n/2\pi$ = {wn / 1e6:g} MHz")
    for ax in axes:
        _hopping_axis(ax, r"$P_n$")
        ax.legend(fontsize=7)
    axes[0].set_title(r"$\omega_n/2\pi$ = 20 MHz", fontsize=9)
    axes[1].set_title(r"$\omega_{MW}/2\pi$ = 93.86 GHz", fontsize=9)
    caption = (r"Rodriguez-Arias et al. 2018, Fig. 4. Average $P_n$ (Eq. (22)) vs the hopping $t$. Left: several "
               r"$\omega_{MW}$ at $\omega_n/2\pi$ = 20 MHz; right: several $\omega_n$ at $\omega_{MW}/2\pi$ = "
               r"93.86 GHz; dashed: the Anderson transition $t_c = w/16.5$ ($w/2\pi$ = 108 MHz). "
               f"$L$ = {L}, mean over {r} realizations; {_std(r)}.")
    return _save(fig, data, output_dir, "anderson-fig4", parameters, caption, reused)


def make_fig5(quick: bool, output_dir: Path, progress: bool = True, realizations: int | None = None,
              workers: int = 1, L: int | None = None, n_electrons: int | None = None):
    """``dnpsim figure anderson-fig5``: the rate sums of Eq. (22) vs t."""
    L, r, data, parameters, reused = _hopping_scan(
        "anderson-fig5", quick, realizations, L, n_electrons, output_dir, workers, progress,
        ["numerator", "iss_denominator", "leakage"])
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 4), dpi=120)
    t = data["hopping"] / 1e6
    lk = float(data["leakage"].values.flat[0])
    _errorbar(ax, t, data["numerator"] / lk, fmt="v", color="tab:blue", label="numerator (emission - absorption)")
    _errorbar(ax, t, data["iss_denominator"] / lk, fmt="s", color="tab:cyan", label="ISS (emission + absorption)")
    ax.axhline(1.0, color="k", lw=0.8, label="leakage")
    _hopping_axis(ax, "rate / leakage term")
    ax.set_yscale("log")
    ax.set_title(f"Terms of Eq. (22), $L$ = {L}, {r} realizations", fontsize=9)
    ax.legend(fontsize=8)
    caption = (r"Rodriguez-Arias et al. 2018, Fig. 5. The rates of Eq. (22) per electron, normalized by the leakage "
               r"term: the difference of emission and absorption rates in the numerator (dark blue triangles) and "
               r"their sum, the ISS part of the denominator (light blue squares), vs $t$. "
               f"$L$ = {L}, mean over {r} realizations; {_std(r)}.")
    return _save(fig, data, output_dir, "anderson-fig5", parameters, caption, reused)


def make_fig7(quick: bool, output_dir: Path, progress: bool = True, realizations: int | None = None,
              workers: int = 1, L: int | None = None, n_electrons: int | None = None):
    """``dnpsim figure anderson-fig7``: C(omega_n) vs t (quick L = 8 x 4, full L = 20 x 10)."""
    name = "anderson-fig7"
    L = L or _cube_root(n_electrons) or (8 if quick else 20)
    r = realizations or (4 if quick else 10)
    data, parameters, reused = _figure_data(name, quick, L, r, HOPPINGS, ["c_omega"], output_dir, workers,
                                            progress)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 4), dpi=120)
    t = data["hopping"] / 1e6
    for w in C_OMEGAS:
        _errorbar(ax, t, data["c_omega"].sel(omega=w), fmt="o-", lw=0.8, label=rf"$\omega_n/2\pi$ = {w / 1e6:g} MHz")
    _hopping_axis(ax, r"$C(\omega_n)$")
    ax.set_title(f"$L$ = {L}, {r} realizations, 0.5 MHz windows", fontsize=9)
    ax.legend(fontsize=8)
    caption = (r"Rodriguez-Arias et al. 2018, Fig. 7. Eigenfunction correlation $C(\omega_n)$ (Eq. (30), averaged "
               r"over 0.5 MHz windows) vs $t$ for $\omega_n/2\pi$ = 1 ... 5 MHz; dashed: $t_c = w/16.5$. "
               f"$L$ = {L}, mean over {r} realizations; {_std(r)}.")
    return _save(fig, data, output_dir, name, parameters, caption, reused)


def _save(fig, data, output_dir: Path, name: str, parameters: dict, caption: str, reused: bool):
    fig.tight_layout()
    return save_figure(data, fig, output_dir, name, parameters=parameters, caption=caption, quantities=QUANTITIES,
                       attrs={"paper": PAPER}, reused=reused)
