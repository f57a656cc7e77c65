"""Figures of Maimbourg et al., PRL 126, 120603 (2021): ``dnpsim figure zeno-...``.

Every figure compares the nonsecular GKSL steady state (Eqs. (7)-(8), matrix-free
Krylov solve) with the Hilbert rate equation (S52) on the same disorder draws:
uniform offsets of width Delta omega_e, Gaussian U_ij of variance U^2/N with the
-4 U_ij S^z S^z term of Eq. (2), Table I bath and drive.  Quick modes use N = 6 and a
few realizations; full modes N = 10 (the paper's size; the paper averages 1000
realizations, the default here is 20, pass ``realizations`` for more).

Every figure with disorder is a sweep (:func:`dnpsim.experiments.sweep.run_sweep`) of
:func:`figure_spec` over ``environment.temperature``: realization r has the seed
``realization_seeds(2021, R)[r]`` at every temperature (Fig. 3 is realization 0),
``workers`` processes run realizations, an interrupted run resumes from
``<figure>.nc.parts/`` and a finished figure of the same parameters is reused.  Fig. S11
(the closed-form toy model in the three limits of its caption: no disorder, no seed) is
computed directly.

Each ``make_*`` writes ``<figure>.nc`` and ``<figure>.png`` to ``output_dir`` (nothing
else) and returns their paths.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dnpsim.errors import SpecError
from dnpsim.experiments.figures.common import (
    FIGURE_TABLE,
    engine_spec,
    figure_sweep,
    load_finished,
    point_spec,
    save_figure,
    single_realization,
    work_directory,
)
from dnpsim.observables.polarization import polarization
from dnpsim.plots import pyplot
from dnpsim.spec import resolve_spec, validate_spec
from dnpsim.units import TWO_PI

OMEGA_E_HZ = 93.9e9
MW_HZ = 93.8988e9
OMEGA1_HZ = 0.628e6
#: Table I: temperature (K) -> (T_1, T*, T(0)) in s.
TABLE_I = {1.2: (160e-6, 80e-6, 1.6e-6), 12.0: (1.6e-6, 0.16e-6, 0.16e-6)}
WIDTH_HZ = 5e6
U_ETH_HZ = 0.75e6
U_MBL_HZ = 0.1e6
#: Root seed of the figures' sweeps.
ROOT_SEED = 2021
#: Krylov settings of the nonsecular steady state in :func:`realization` (also the
#: ``[method]`` table of the figures' specs).
NONSECULAR = {"solver": "gmres", "tol": 1e-8, "maxiter": 300, "restart": 40}
PAPER = "Maimbourg et al., PRL 126, 120603 (2021)"

_DYNAMICS = {"nonsecular": "nonsecular GKSL steady state", "hilbert": "Hilbert (secular) rate-equation steady state"}
#: Units and long names of the figures' variables and coordinates.
QUANTITIES = {
    "temperature": ("K", "bath temperature 1 / beta"),
    "frequency": ("Hz", "EPR frequency omega / 2pi, bin centre"),
    "dynamics": ("1", "steady state: nonsecular (GKSL) or hilbert (secular rate equation)"),
    "offset": ("Hz", "electron Zeeman offset Delta_i / 2pi"),
    "beta_s": ("s/rad", "inverse spin temperature beta_s of the ansatz (S78) fitted to each steady state"),
    "residual_nonsecular": ("1", "stationary residual of the nonsecular steady state"),
    "krylov_residual_nonsecular": ("1", "relative residual at which the Krylov solver stopped"),
    "detuning": ("Hz", "microwave detuning (omega_MW - omega_e) / 2pi"),
    "regime": ("1", "limit of the three-level toy model"),
    "rho11": ("1", "population of level 1 (driven), Eq. (S101)"),
    "rho22": ("1", "population of level 2, Eq. (S101)"),
    "level_splitting": ("Hz", "Delta / 2pi: levels 1 and 2 at omega_e -+ Delta"),
    "level_coupling": ("Hz", "J / 2pi: coupling of levels 1 and 2"),
    "decay_rate": ("Hz", "gamma / 2pi: bath decay rate of levels 1 and 2 (2 gamma)"),
    **{name: quantity for d, what in _DYNAMICS.items() for name, quantity in {
        f"polarization_{d}": ("1", f"polarization 2<S_i^z> of each electron, {what}"),
        f"ansatz_polarization_{d}": ("1", f"2<S_i^z> of the spin-temperature ansatz (S78) fitted to the {what}"),
        f"epr_{d}": ("s/rad", f"EPR spectrum f(omega) per rad/s, Eq. (S63) / (S64), {what}"),
        f"ansatz_epr_{d}": ("s/rad", f"EPR spectrum f(omega) per rad/s of the ansatz fitted to the {what}"),
        f"eigenvalues_{d}": ("1", f"eigenvalues of rho_stat, {what}"),
        f"entropy_{d}": ("1", f"entanglement entropy (nats, half chain) of each eigenvector of rho_stat, {what}"),
        f"magnetization_{d}": ("1", f"<S^z> of each eigenvector of rho_stat, {what}"),
        f"local_z_{d}": ("1", f"<S^z_i> of each eigenvector of rho_stat, {what}"),
    }.items()},
}


def _sizes(quick: bool, realizations: int | None, n_electrons: int | None = None) -> tuple[int, int]:
    n, r = (6, 4) if quick else (10, 20)
    return n_electrons or n, realizations or r


def draw_model(n: int, seed: int, width_hz: float = WIDTH_HZ, coupling_hz: float = U_ETH_HZ):
    """One disorder realization (Hz): uniform offsets in [-w/2, w/2],
    U_ij ~ N(0, U^2/N), J_ij = -4 U_ij (Eq. (2)): the ``model`` table of
    :func:`figure_spec` drawn with ``seed`` (what the figures' sweeps compute with)."""
    spec = figure_spec(n, 1, [12.0], [TABLE_I[12.0]], width_hz=width_hz, coupling_hz=coupling_hz)
    return resolve_spec(_with_bath(spec), seed=seed).model()


def realization(model, temperature: float, bath, *, mw_hz: float = MW_HZ, omega1_hz: float = OMEGA1_HZ,
                irradiated: int | None = None, edges=None, spectrum: bool = False) -> dict:
    """Nonsecular and Hilbert steady states of one realization: per-spin polarization,
    EPR spectra (S63 for nonsecular, S64 for Hilbert) on ``edges`` (rad/s), and the
    spin-temperature ansatz (S78-S80, fitted to each state's <H_S> and <S^z>) with its
    profile and EPR spectrum.  With ``spectrum`` also the Fig. 3 diagnostics."""
    from dnpsim.dynamics.eigenbasis import Eigenbasis
    from dnpsim.dynamics.hilbert import hilbert_steady_state
    from dnpsim.dynamics.jumps import BathTimescales, OpenEnvironment
    from dnpsim.dynamics.lindblad import EigenbasisLiouvillian
    from dnpsim.dynamics.lindblad_steady_state import nonsecular_steady_state
    from dnpsim.observables.epr import diagonal_blocks_from_populations, epr_spectrum
    from dnpsim.observables.spin_temperature import fit_spin_temperature

    env = OpenEnvironment(temperature, mw_hz, omega1_hz, BathTimescales(*bath), irradiated)
    basis = Eigenbasis.build(model, keep_vectors=True)
    liou = EigenbasisLiouvillian(model, env, basis.sectors)
    ns = nonsecular_steady_state(liou, method=NONSECULAR["solver"], tol=NONSECULAR["tol"],
                                 maxiter=NONSECULAR["maxiter"], restart=NONSECULAR["restart"])
    hil = hilbert_steady_state(basis, env, tol=1e-10)
    n = model.n_electrons
    energies = np.concatenate([s.energies for s in basis.sectors])
    mags = basis.magnetizations()
    spin_z = basis.spin_z()
    out = {"residual_nonsecular": ns.residual, "krylov_residual_nonsecular": ns.krylov_residual,
           "iterations": ns.iterations}
    pops_ns = np.concatenate([np.real(np.diagonal(liou.block(ns.rho, k, k))) for k in range(n + 1)])
    states = {"nonsecular": (pops_ns, [liou.block(ns.rho, k, k) for k in range(n + 1)], ns.electron_polarization()),
              "hilbert": (hil.populations, diagonal_blocks_from_populations(basis.sectors, hil.populations),
                          hil.electron_polarization())}
    for name, (pops, blocks, pol) in states.items():
        fit = fit_spin_temperature(energies, mags, np.clip(pops, 0, None), model.omega_e)
        p_ans = fit.populations(energies, mags)
        out[f"polarization_{name}"] = pol
        out[f"ansatz_polarization_{name}"] = polarization(p_ans, spin_z)
        out[f"beta_s_{name}"] = fit.beta_s
        if edges is not None:
            out[f"epr_{name}"] = epr_spectrum(model, basis.sectors, blocks, edges, coherent=(name == "nonsecular"))
            out[f"ansatz_epr_{name}"] = epr_spectrum(model, basis.sectors,
                                                     diagonal_blocks_from_populations(basis.sectors, p_ans), edges,
                                                     coherent=False)
    if spectrum:
        from dnpsim.observables.entanglement import stationary_spectrum

        out["spectrum_nonsecular"] = stationary_spectrum(liou.to_full(ns.rho), n)
        # the Hilbert state is diagonal in the eigenbasis of H_S: rho = sum_n p_n |n><n|
        full_h = np.zeros((2**n, 2**n), dtype=complex)
        start = 0
        for k, s in enumerate(basis.sectors):
            st = model.sector(k).states
            p = hil.populations[start : start + s.dim]
            full_h[np.ix_(st, st)] = (s.vectors * p) @ s.vectors.T
            start += s.dim
        out["spectrum_hilbert"] = stationary_spectrum(full_h, n)
    return out


def _edges(quick: bool) -> np.ndarray:
    step = 0.25e6 if quick else 0.1e6
    return TWO_PI * np.arange(OMEGA_E_HZ - 6e6, OMEGA_E_HZ + 6e6 + step / 2, step)


def figure_spec(n: int, realizations: int, temperatures, baths, *, coupling_hz=U_ETH_HZ, width_hz=WIDTH_HZ,
                seed: int = ROOT_SEED, irradiated=None, mw_hz=MW_HZ, omega1_hz=OMEGA1_HZ, epr_edges_hz=None) -> dict:
    """The sweep of a 2021 figure: a ``dipolar_electrons`` spec with method
    ``nonsecular`` (:data:`NONSECULAR`) of the model of :func:`draw_model` (Hz, s, K),
    ``environment.temperature`` swept over ``temperatures`` (K), ``realizations``
    disorder draws from root ``seed``.

    Its ``figure`` table holds the bath timescales (T_1, T*, T(0)) in s of each
    temperature (``baths``, one per temperature: Table I ties them to the temperature,
    so they follow it rather than form a grid of their own) and the EPR bin edges (Hz,
    or None)."""
    environment = {"temperature": float(temperatures[0]), "mw_frequency": float(mw_hz),
                   "mw_amplitude": float(omega1_hz)}
    if irradiated is not None:
        environment["irradiated"] = int(irradiated)
    return {
        "model": {"kind": "dipolar_electrons", "electron_larmor": OMEGA_E_HZ, "n_electrons": int(n),
                  "offsets": {"distribution": "uniform", "width": float(width_hz)},
                  "couplings": {"distribution": "gaussian", "scale": float(coupling_hz)}, "ising": "dipolar",
                  "seed": int(seed)},
        "environment": environment,
        "method": {"kind": "nonsecular", **NONSECULAR},
        FIGURE_TABLE: {
            "baths": [{"temperature": float(t), "t1": float(b[0]), "t_star": float(b[1]), "t_zero": float(b[2])}
                      for t, b in zip(temperatures, baths, strict=True)],
            "epr_edges": None if epr_edges_hz is None else [float(f) for f in epr_edges_hz],
        },
        "sweep": {"environment.temperature": [float(t) for t in temperatures], "realizations": int(realizations),
                  "seed": int(seed)},
    }


def _with_bath(spec: dict) -> dict:
    """The engine spec of a point: the bath timescales of its temperature set."""
    temperature = spec["environment"]["temperature"]
    bath = next((b for b in spec[FIGURE_TABLE]["baths"] if b["temperature"] == temperature), None)
    if bath is None:
        raise SpecError("environment.temperature", f"{temperature} K has no bath timescales in the figure's table")
    out = engine_spec(spec)
    out["environment"] = dict(out["environment"], **{k: bath[k] for k in ("t1", "t_star", "t_zero")})
    return out


def validate_point(spec: dict) -> None:
    """The sweep's ``validate``: the engine spec of the point, with its bath, parses."""
    validate_spec(_with_bath(spec))


def _points(spec: dict, variants: list[dict], seed: int):
    """The model of one task (realization ``seed``) and each variant's environment values."""
    model = resolve_spec(_with_bath(spec), seed=seed).model()
    return model, [resolve_spec(_with_bath(point_spec(spec, v)), seed=seed).environment_values for v in variants]


def _solve(model, v: dict, edges=None, spectrum: bool = False) -> dict:
    return realization(model, v["temperature"], (v["t1"], v["t_star"], v["t_zero"]), mw_hz=v["mw_frequency"],
                       omega1_hz=v["mw_amplitude"], irradiated=v.get("irradiated"), edges=edges, spectrum=spectrum)


#: Per-spin and per-EPR-bin results of :func:`profile_task` and their dimension.
PROFILE_DIMS = {f"{a}_{d}": ("electron",) if a.endswith("polarization") else ("frequency",)
                for a in ("polarization", "ansatz_polarization", "epr", "ansatz_epr")
                for d in ("nonsecular", "hilbert")}


def profile_task(spec: dict, variants: list[dict], seed: int) -> list[dict]:
    """Sweep compute (one realization, every temperature of the group): nonsecular and
    Hilbert steady states with :func:`realization`: per-spin polarizations and EPR
    spectra (PROFILE_DIMS), ``beta_s`` (dynamics,), ``offset`` (electron,) in Hz,
    ``residual_nonsecular`` (the package's stationary residual),
    ``krylov_residual_nonsecular`` (the Krylov stopping criterion) and ``iterations``."""
    model, envs = _points(spec, variants, seed)
    edges = TWO_PI * np.asarray(spec[FIGURE_TABLE]["epr_edges"])
    out = []
    for v in envs:
        result = _solve(model, v, edges=edges)
        record = {key: result[key] for key in (*PROFILE_DIMS, "residual_nonsecular", "krylov_residual_nonsecular",
                                               "iterations")}
        record.update(beta_s=np.array([result["beta_s_nonsecular"], result["beta_s_hilbert"]]), offset=model.offsets,
                      dims={**PROFILE_DIMS, "beta_s": ("dynamics",), "offset": ("electron",)})
        out.append(record)
    return out


def spectrum_task(spec: dict, variants: list[dict], seed: int) -> list[dict]:
    """Sweep compute of Fig. 3 (one realization, every temperature of the group): the
    eigenvalues of both stationary states and the entanglement entropy, S^z and local
    S^z_i of their eigenvectors (dims ``state``, ``electron``)."""
    model, envs = _points(spec, variants, seed)
    out = []
    for v in envs:
        result = _solve(model, v, spectrum=True)
        record, dims = {}, {}
        for name in ("nonsecular", "hilbert"):
            spectrum = result[f"spectrum_{name}"]
            record.update({f"eigenvalues_{name}": spectrum.eigenvalues, f"entropy_{name}": spectrum.entropies,
                           f"magnetization_{name}": spectrum.magnetization, f"local_z_{name}": spectrum.local_z})
            dims.update({f"eigenvalues_{name}": ("state",), f"entropy_{name}": ("state",),
                         f"magnetization_{name}": ("state",), f"local_z_{name}": ("state", "electron")})
        out.append(record | {"dims": dims})
    return out


def profile_dataset(n: int, realizations: int, temperatures, baths, *, coupling_hz=U_ETH_HZ, width_hz=WIDTH_HZ,
                    quick=True, progress=True, seed0: int = ROOT_SEED, irradiated=None, mw_hz=MW_HZ,
                    omega1_hz=OMEGA1_HZ, workers: int = 1, output=None):
    """Polarization profiles and EPR spectra for each temperature (list, K; ``baths``
    the (T_1, T*, T(0)) in s of each) x realization: the sweep of :func:`figure_spec`
    with root seed ``seed0`` (compute :func:`profile_task`; realization r has the seed
    ``realization_seeds(seed0, R)[r]`` at every temperature).

    ``workers`` > 1 runs realizations in local processes; ``output`` (a ``.nc`` path)
    makes the run resumable and reuses a finished one of the same spec.  Returns a
    Dataset with dims (temperature, realization, electron | frequency), ``offset``
    (realization, electron) in Hz, ``beta_s`` (temperature, realization, dynamics)."""
    edges = _edges(quick)
    spec = figure_spec(n, realizations, temperatures, baths, coupling_hz=coupling_hz, width_hz=width_hz, seed=seed0,
                       irradiated=irradiated, mw_hz=mw_hz, omega1_hz=omega1_hz, epr_edges_hz=edges / TWO_PI)

    def finish(data):
        data = data.assign_coords(frequency=0.5 * (edges[1:] + edges[:-1]) / TWO_PI,
                                  dynamics=["nonsecular", "hilbert"])
        # one model per realization at every temperature
        return data.assign(offset=data["offset"].isel(temperature=0, drop=True))

    return figure_sweep(spec, output, profile_task, validate=validate_point, workers=workers, progress=progress,
                        finish=finish)


def _profile_figure(ds, title: str, what: str = "both"):
    """Panels per temperature: EPR spectra (top) and polarization profiles (bottom); a
    single temperature with both: EPR left, profile right.  Returns the figure."""
    plt = pyplot()
    temps = ds["temperature"].values
    kinds = {"both": ["epr", "profile"], "epr": ["epr"], "profile": ["profile"],
             "profile_by_spin": ["profile_by_spin"]}[what]
    if len(temps) == 1:
        fig, axes = plt.subplots(1, len(kinds), figsize=(5 * len(kinds), 3.6), dpi=110, squeeze=False)
        cells = {(kind, temps[0]): axes[0, i] for i, kind in enumerate(kinds)}
    else:
        fig, axes = plt.subplots(len(kinds), len(temps), figsize=(5 * len(temps), 3.6 * len(kinds)), dpi=110,
                                 squeeze=False)
        cells = {(kind, temp): axes[i, j] for i, kind in enumerate(kinds) for j, temp in enumerate(temps)}
    from dnpsim.units import inverse_temperature

    for (kind, temp), ax in cells.items():
        sub = ds.sel(temperature=temp)
        if kind == "epr":
            f = ds["frequency"].values / 1e9
            for name, color in (("nonsecular", "k"), ("hilbert", "tab:red")):
                ax.plot(f, sub[f"epr_{name}"].mean("realization") * TWO_PI * 1e9, "o", ms=3, color=color, label=name)
                ax.plot(f, sub[f"ansatz_epr_{name}"].mean("realization") * TWO_PI * 1e9, "--", color=color, lw=1)
            ax.axvline(MW_HZ / 1e9, color="0.5", ls="--", lw=0.8)
            ax.set_xlabel(r"$\omega/2\pi$ (GHz)")
            ax.set_ylabel(r"$f(\omega)$ (1/(2$\pi$ GHz))")
            ax.set_title(rf"$\beta^{{-1}}$ = {temp:g} K: EPR spectrum", fontsize=9)
        else:
            x = (OMEGA_E_HZ + sub["offset"].values.ravel()) / 1e9
            if kind == "profile_by_spin":  # homogeneous spins (Fig. S8): plot against the spin index
                x = np.tile(np.arange(1, sub.sizes["electron"] + 1), sub.sizes["realization"])
            for name, color in (("nonsecular", "k"), ("hilbert", "tab:red")):
                ax.plot(x, sub[f"polarization_{name}"].values.ravel(), "o", ms=3, color=color, label=name)
                ax.plot(x, sub[f"ansatz_polarization_{name}"].values.ravel(), "o", ms=4, mfc="none", color=color)
            ax.axhline(-np.tanh(0.5 * inverse_temperature(temp) * TWO_PI * OMEGA_E_HZ), color="tab:blue", lw=1)
            if kind == "profile_by_spin":
                ax.set_xlabel(r"spin $i$")
            else:
                ax.axvline(MW_HZ / 1e9, color="0.5", ls="--", lw=0.8)
                ax.set_xlabel(r"$(\omega_e + \Delta_i)/2\pi$ (GHz)")
                ax.ticklabel_format(axis="x", useOffset=False)  # 93.898 GHz, not 0.002 + 9.39e1
            ax.set_ylabel(r"$P_i$")
            ax.set_title(rf"$\beta^{{-1}}$ = {temp:g} K: polarization profile", fontsize=9)
        ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def _profile_caption(figure: str, what: str, n: int, r: int, coupling_hz: float, width_hz: float) -> str:
    parts = [(f"Maimbourg et al. 2021, {figure}. Red: Hilbert, black: nonsecular steady state; $N$ = {n}, "
              rf"$\Delta\omega_e/2\pi$ = {width_hz / 1e6:g} MHz, $U/2\pi$ = {coupling_hz / 1e6:g} MHz.")]
    if what in ("both", "epr"):
        parts.append(f"EPR spectra: dots are the mean over {r} realization(s), dashed lines the spin-temperature "
                     "ansatz (S78-S80) fitted to each state.")
    if what != "epr":
        parts.append(f"Polarization profiles: full dots are every spin of {r} realization(s), hollow circles the "
                     "spin-temperature ansatz; horizontal blue line: the Boltzmann prediction.")
    if what != "profile_by_spin":
        parts.append(r"Vertical dashed line: the microwave frequency $\omega_{MW}$.")
    parts.append("No error bars (every realization's value is drawn, or the mean only).")
    return " ".join(parts)


def _make_profiles(tag: str, figure: str, quick: bool, output_dir: Path, progress: bool, realizations, temperatures,
                   baths, what="both", n_electrons=None, workers: int = 1, **kwargs):
    output_dir = Path(output_dir)
    n, r = _sizes(quick, realizations, n_electrons)
    parameters = {"mode": "quick" if quick else "full", "n_electrons": n, "realizations": r,
                  "temperatures_k": [float(t) for t in temperatures], "baths_s": [list(map(float, b)) for b in baths],
                  "seed": ROOT_SEED, **{k: v for k, v in kwargs.items()}}
    ds = load_finished(output_dir, tag, parameters)
    reused = ds is not None
    if not reused:
        ds = profile_dataset(n, r, temperatures, baths, quick=quick, progress=progress, workers=workers,
                             output=work_directory(output_dir, tag) / "sweep.nc", **kwargs)
    fig = _profile_figure(ds, f"{figure} ($N$ = {n}, {r} realization{'s' if r > 1 else ''})", what)
    caption = _profile_caption(figure, what, n, r, kwargs.get("coupling_hz", U_ETH_HZ),
                               kwargs.get("width_hz", WIDTH_HZ))
    return save_figure(ds, fig, output_dir, tag, parameters=parameters, caption=caption, quantities=QUANTITIES,
                       attrs={"paper": PAPER, "n_electrons": n, "mode": parameters["mode"]}, reused=reused)


def make_fig2(quick: bool, output_dir: Path, progress: bool = True, realizations: int | None = None, workers: int = 1,
              n_electrons: int | None = None):
    """``dnpsim figure zeno-fig2``: EPR spectra at 1.2 K and 12 K (Table I), nonsecular
    vs Hilbert, with the spin-temperature ansatz (dashed)."""
    return _make_profiles("zeno-fig2", "Fig. 2", quick, output_dir, progress, realizations,
                          [1.2, 12.0], [TABLE_I[1.2], TABLE_I[12.0]], what="epr",
                          n_electrons=n_electrons, workers=workers)


def make_figS5(quick: bool, output_dir: Path, progress: bool = True, realizations: int | None = None, workers: int = 1,
              n_electrons: int | None = None):
    """``dnpsim figure zeno-figS5``: polarization profiles (ETH, U = 0.75 MHz) at 1.2 K (left) and 12 K (right)."""
    return _make_profiles("zeno-figS5", "Fig. S5", quick, output_dir, progress, realizations,
                          [1.2, 12.0], [TABLE_I[1.2], TABLE_I[12.0]], what="profile",
                          n_electrons=n_electrons, workers=workers)


def make_figS6(quick: bool, output_dir: Path, progress: bool = True, realizations: int | None = None, workers: int = 1,
              n_electrons: int | None = None):
    """``dnpsim figure zeno-figS6``: MBL case U = 0.1 MHz, EPR spectra (top) and
    polarization profiles (bottom) at both temperatures."""
    return _make_profiles("zeno-figS6", "Fig. S6 (MBL)", quick, output_dir, progress,
                          realizations, [1.2, 12.0], [TABLE_I[1.2], TABLE_I[12.0]], coupling_hz=U_MBL_HZ,
                          n_electrons=n_electrons, workers=workers)


def make_figS7(quick: bool, output_dir: Path, progress: bool = True, realizations: int | None = None, workers: int = 1,
              n_electrons: int | None = None):
    """``dnpsim figure zeno-figS7``: 12 K with T_1 = 1.6 us << T* = 80 us, T(0) = 3.2 us:
    EPR spectrum (left) and polarization profile (right)."""
    return _make_profiles("zeno-figS7", r"Fig. S7 ($T_1 \ll T^*$)", quick, output_dir, progress,
                          realizations, [12.0], [(1.6e-6, 80e-6, 3.2e-6)], n_electrons=n_electrons,
                          workers=workers)


def make_figS8(quick: bool, output_dir: Path, progress: bool = True, realizations: int | None = None, workers: int = 1,
              n_electrons: int | None = None):
    """``dnpsim figure zeno-figS8``: homogeneous spins (width 1e-4 MHz), U = 1 MHz, only
    spin 3 irradiated at omega_MW = omega_e with omega_1 = 0.1 GHz, T* = T(0) = 1e-10/2pi s,
    T_1 = 1e-4/2pi s, 12 K.  The paper uses N = 12 and one sample; here N = 6 (quick) or
    10 (full), one sample."""
    bath = (1e-4 / TWO_PI, 1e-10 / TWO_PI, 1e-10 / TWO_PI)
    return _make_profiles("zeno-figS8", "Fig. S8 (spin 3 irradiated)", quick, output_dir,
                          progress, realizations or 1, [12.0], [bath], what="profile_by_spin", width_hz=1e-4 * 1e6,
                          coupling_hz=1e6, irradiated=2, mw_hz=OMEGA_E_HZ, omega1_hz=0.1e9,
                          n_electrons=n_electrons, workers=workers)


def make_fig3(quick: bool, output_dir: Path, progress: bool = True, realizations: int | None = None, workers: int = 1,
              n_electrons: int | None = None):
    """``dnpsim figure zeno-fig3``: eigenvalues of rho_stat and entanglement entropy of
    its eigenvectors (half chain kept), Hilbert vs nonsecular, 12 K; inset data:
    S^z_i of the eigenvectors in the middle of the s^z = 0 sector."""
    name = "zeno-fig3"
    output_dir = Path(output_dir)
    n = n_electrons or (6 if quick else 10)
    parameters = {"mode": "quick" if quick else "full", "n_electrons": n, "temperature_k": 12.0, "seed": ROOT_SEED}
    ds = load_finished(output_dir, name, parameters)
    reused = ds is not None
    if not reused:
        # one realization: realization 0 of the profile figures' sweeps at the same N
        spec = figure_spec(n, 1, [12.0], [TABLE_I[12.0]])
        ds = figure_sweep(spec, work_directory(output_dir, name) / "sweep.nc", spectrum_task,
                          validate=validate_point, workers=workers, progress=progress,
                          finish=lambda data: single_realization(data.isel(temperature=0)))
    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.8), dpi=110)
    for name_, color in (("hilbert", "tab:red"), ("nonsecular", "k")):
        eigenvalues, entropies = ds[f"eigenvalues_{name_}"].values, ds[f"entropy_{name_}"].values
        magnetization, local_z = ds[f"magnetization_{name_}"].values, ds[f"local_z_{name_}"].values
        order = np.argsort(magnetization, kind="stable")
        axes[0].semilogy(np.sort(eigenvalues)[::-1], ".", color=color, label=name_)
        axes[1].plot(magnetization[order], entropies[order], ".", color=color, ms=3, label=name_)
        middle = np.abs(magnetization) < 0.25
        axes[2].hist(local_z[middle].ravel(), bins=40, histtype="step", density=True, color=color, label=name_)
    axes[0].set_ylabel(r"eigenvalue of $\rho_{stat}$")
    axes[0].set_xlabel("rank")
    axes[1].set_xlabel(r"$\langle S^z \rangle$ of the eigenvector")
    axes[1].set_ylabel(r"entanglement entropy $S$ (half chain)")
    axes[2].set_xlabel(r"$\langle S^z_i \rangle$ (eigenvectors with $s^z \approx 0$)")
    axes[2].set_ylabel("probability density")
    for ax in axes:
        ax.legend(fontsize=7)
    fig.suptitle(rf"Fig. 3 ($N$ = {n}, $\beta^{{-1}}$ = 12 K, one realization)", fontsize=10)
    fig.tight_layout()
    caption = (r"Maimbourg et al. 2021, Fig. 3, parameters of Fig. 2 (bottom). Red: Hilbert, black: nonsecular "
               r"stationary state $\rho_{stat}$. Left: its eigenvalues by rank; middle: entanglement entropy of its "
               r"eigenvectors (partial trace over half the chain) against their $\langle S^z\rangle$; right: "
               r"histogram of $\langle S^z_i\rangle$, $i = 1 \ldots N$, of the eigenvectors with $s^z \approx 0$ "
               "(the paper's inset). One realization: no error bars.")
    return save_figure(ds, fig, output_dir, name, parameters=parameters, caption=caption, quantities=QUANTITIES,
                       attrs={"paper": PAPER, "n_electrons": n, "mode": parameters["mode"]}, reused=reused)


#: The three limits of Fig. S11: (Delta, J, gamma) / 2pi in MHz (text after Eq. (S101)).
S11_LIMITS = {"good mixing": (0.1, 1.0, 0.05), "Anderson": (2.0, 0.3, 0.05), "Zeno": (0.2, 1.0, 5.0)}
S11_DRIVE_MHZ = 0.01


def make_figS11(quick: bool, output_dir: Path, progress: bool = True, realizations: int | None = None, workers: int = 1,
                n_electrons: int | None = None):
    """``dnpsim figure zeno-figS11``: toy-model populations rho_11, rho_22 vs
    omega_MW - omega_e (Eq. (S101)) in the three limits of Fig. S11: good mixing
    (gamma, Delta << J), Anderson (gamma << J << Delta) and Zeno (Delta < J << gamma)."""
    import xarray as xr

    from dnpsim.theory.zeno_three_level import linear_response_populations

    name = "zeno-figS11"
    x = np.linspace(-4, 4, 201 if quick else 801)  # MHz
    r11 = np.zeros((len(S11_LIMITS), x.size))
    r22 = np.zeros_like(r11)
    for i, (d, j, g) in enumerate(S11_LIMITS.values()):
        a, b = linear_response_populations(-TWO_PI * 1e6 * x, TWO_PI * 1e6 * d, TWO_PI * 1e6 * j, TWO_PI * 1e6 * g,
                                           TWO_PI * 1e6 * S11_DRIVE_MHZ)
        r11[i], r22[i] = a, b
    limits = np.array(list(S11_LIMITS.values())) * 1e6
    ds = xr.Dataset({"rho11": (("regime", "detuning"), r11), "rho22": (("regime", "detuning"), r22),
                     "level_splitting": ("regime", limits[:, 0]), "level_coupling": ("regime", limits[:, 1]),
                     "decay_rate": ("regime", limits[:, 2])},
                    coords={"detuning": x * 1e6, "regime": list(S11_LIMITS)})
    parameters = {"mode": "quick" if quick else "full", "detunings": x.size, "limits_mhz": S11_LIMITS,
                  "drive_mhz": S11_DRIVE_MHZ}
    plt = pyplot()
    fig, axes = plt.subplots(1, len(S11_LIMITS), figsize=(12, 3.4), dpi=110)
    for ax, limit, a, b in zip(axes, S11_LIMITS, r11, r22):
        exponent = int(np.floor(np.log10(max(a.max(), b.max()))))
        ax.plot(x, a / 10.0 ** exponent, label=r"$\rho_{11}$")
        ax.plot(x, b / 10.0 ** exponent, label=r"$\rho_{22}$")
        d, j, g = S11_LIMITS[limit]
        ax.set_title(f"{limit}: " rf"$\Delta$ = {d:g}, $J$ = {j:g}, $\gamma$ = {g:g}", fontsize=9)
        ax.set_xlabel(r"$(\omega_{MW}-\omega_e)/2\pi$ (MHz)")
        ax.set_ylabel(rf"$\rho_{{ii}}$ ($\times 10^{{{exponent}}}$)")
        ax.ticklabel_format(axis="y", useOffset=False, style="plain")
        ax.legend(fontsize=7)
    fig.suptitle("Fig. S11: three-level toy model, Eq. (S101)", fontsize=10)
    fig.tight_layout()
    caption = (r"Maimbourg et al. 2021, Fig. S11 (right). Level populations $\rho_{11}$, $\rho_{22}$ of the "
               r"three-level model (Eq. (S101), linear response, drive $V/2\pi$ = 0.01 MHz) vs the microwave "
               r"detuning, in three limits: good mixing ($\gamma, \Delta \ll J$), Anderson ($\gamma \ll J \ll "
               r"\Delta$), Zeno ($\Delta < J \ll \gamma$); $\Delta$, $J$, $\gamma$ in units of $2\pi$ MHz. "
               "Closed form: no error bars.")
    return save_figure(ds, fig, output_dir, name, parameters=parameters, caption=caption, quantities=QUANTITIES,
                       attrs={"paper": PAPER, "mode": parameters["mode"], "drive_hz": S11_DRIVE_MHZ * 1e6})
