"""Paper figures as commands: ``dnpsim figure NAME [--quick]``.

Each entry is ``make(quick, output_dir, progress=True, realizations=None, workers=1)
-> (netcdf_path, png_path)``; modules are imported only when their figure runs.  Every
entry also carries ``description`` (what the figure shows, one line), ``quick_cost``
(measured: one ``--quick`` run on the 2-core development machine) and ``full_cost``
(from the reproduction notes, or "est." from the quick run); :func:`figure_table`
lists them for ``dnpsim figure --help``.
"""

from __future__ import annotations

import importlib
import textwrap


def _lazy(module: str, function: str, description: str, quick_cost: str, full_cost: str):
    def target():
        return getattr(importlib.import_module(f"dnpsim.experiments.figures.{module}"), function)

    def run(*args, **kwargs):
        return target()(*args, **kwargs)

    run.__doc__ = f"{module}.{function}: {description}"
    run.target = target  # the real function (its signature tells which options it takes)
    run.description = description
    run.quick_cost = quick_cost
    run.full_cost = full_cost
    return run


_ZENO = {
    "fig2": ("Maimbourg 2021 Fig. 2: EPR spectra at 1.2 K and 12 K, nonsecular vs Hilbert, with the ansatz",
             "4 s", "46 min (one core)"),
    "fig3": ("Maimbourg 2021 Fig. 3: eigenvalues and entanglement entropy of rho_stat's eigenvectors, 12 K",
             "2 s", "est. 2 min"),
    "figS5": ("Maimbourg 2021 Fig. S5: polarization profiles (ETH, U = 0.75 MHz) at 1.2 K and 12 K",
              "4 s", "est. 45 min (one core)"),
    "figS6": ("Maimbourg 2021 Fig. S6: EPR spectra and polarization profiles, MBL case U = 0.1 MHz",
              "6 s", "est. 45 min (one core)"),
    "figS7": ("Maimbourg 2021 Fig. S7: EPR spectrum and polarization profile at 12 K with T_1 << T*",
              "4 s", "est. 25 min (one core)"),
    "figS8": ("Maimbourg 2021 Fig. S8: homogeneous spins, only spin 3 irradiated (localized drive)",
              "3 s", "est. 1 min"),
    "figS11": (("Maimbourg 2021 Fig. S11: three-level toy model populations in the good-mixing, Anderson "
                "and Zeno limits"), "2 s", "3 s"),
}

FIGURES = {
    "spin-temperature-fig2": _lazy(
        "spin_temperature_figs", "make_fig2",
        "De Luca 2016 Fig. 2: DNP profile P_n(omega_MW) for U = 2 and 15 MHz vs the spin-temperature Eq. (1)",
        "5 s", "82 min (N = 12 x 100, --workers 2)"),
    "spin-temperature-fig3": _lazy(
        "spin_temperature_figs", "make_fig3",
        "De Luca 2016 Fig. 3: stationary P_n vs U and vs B, against Eq. (1) with fitted and perturbative beta_s",
        "4 s", "1 h 42 min (--workers 2)"),
    "spin-temperature-fig4": _lazy(
        "fig4_eth", "make_figure",
        "De Luca 2016 Fig. 4: ETH test, <n|S_z^1|n> of each eigenstate and |delta M_n^1| vs N",
        "3 s", "40 min (N up to 16, --workers 2)"),
    "spin-temperature-fig5": _lazy(
        "spin_temperature_figs", "make_fig5",
        "De Luca 2016 Fig. 5: KL divergence from the ansatz and sample-to-sample std of P_n vs U",
        "4 s", "3 s after spin-temperature-fig3; alone est. 1 h (--workers 2)"),
    "cross-effect-fig1c": _lazy(
        "cross_effect_figs", "make_fig1c",
        "Karabanov 2018 Fig. 1(c): fast and slow stages of n-e1-e2, coherent and incoherent saturation",
        "3 s", "3 s"),
    "cross-effect-fig2ab": _lazy(
        "cross_effect_figs", "make_fig2ab",
        "Karabanov 2018 Fig. 2(a, b): enhancement p_I/p and build-up time vs D for several omega_1 (e1-e2-n)",
        "7 s", "26 s"),
    "cross-effect-fig2c": _lazy(
        "cross_effect_figs", "make_fig2c",
        "Karabanov 2018 Fig. 2(c): error of the Zeeman projection against the full master equation, pentagon",
        "40 s", "est. 3 min"),
    "cross-effect-fig2de": _lazy(
        "cross_effect_figs", "make_fig2de",
        "Karabanov 2018 Fig. 2(d, e): kMC build-up of 118 protons around two electrons, with / without diffusion",
        "10 s (95 s on a first run: it compiles the kMC kernels)", "~30 min (2000 trajectories, --workers 2)"),
    "anderson-fig2": _lazy(
        "anderson_figs", "make_fig2",
        "Rodriguez-Arias 2018 Fig. 2: density of states of the 3D Anderson model, L = 8, t = 1, 5, 8, 14 MHz",
        "6 s", "est. 15 s"),
    "anderson-fig3": _lazy(
        "anderson_figs", "make_fig3",
        "Rodriguez-Arias 2018 Fig. 3: P_n vs hopping t, Anderson overlaps vs the GOE surrogate",
        "45 s", "est. 7 h (L = 18 x 60, --workers 2)"),
    "anderson-fig4": _lazy(
        "anderson_figs", "make_fig4",
        "Rodriguez-Arias 2018 Fig. 4: P_n vs t for several omega_MW and for several omega_n",
        "30 s", "est. 7 h (L = 18 x 60, --workers 2)"),
    "anderson-fig5": _lazy(
        "anderson_figs", "make_fig5",
        "Rodriguez-Arias 2018 Fig. 5: the emission and absorption rate sums of Eq. (22) vs t, against the leakage",
        "30 s", "est. 7 h (L = 18 x 60, --workers 2)"),
    "anderson-fig7": _lazy(
        "anderson_figs", "make_fig7",
        "Rodriguez-Arias 2018 Fig. 7: eigenfunction correlation C(omega_n) vs t, omega_n = 1 ... 5 MHz",
        "50 s", "est. 3 h (L = 20 x 10, --workers 2)"),
    "sample-profiles": _lazy(
        "sample_figs", "make_profiles",
        "From a sample to a profile: P_n and enhancement vs microwave frequency, TEMPO 40 mM and trityl 15 mM, "
        "3.35 T, 1H",
        "6 s", "20 s (N = 8, R = 8, --workers 2)"),
    "sample-field-profiles": _lazy(
        "sample_figs", "make_field_profiles",
        "From a sample to a profile: P_n and enhancement vs static field at 94.05 GHz, TEMPO and trityl, 1H",
        "7 s", "22 s (N = 8, R = 4, --workers 2)"),
    "sample-build-up": _lazy(
        "sample_figs", "make_build_up",
        "From a sample to a profile: build-up P_n(t) from thermal with the fitted build-up time, TEMPO and trityl",
        "8 s", "1-3 min (N = 8, R = 4; 180 s with one worker on the shared machine)"),
    **{f"zeno-{name}": _lazy("zeno_figs", f"make_{name}", *_ZENO[name])
       for name in ("fig2", "fig3", "figS5", "figS6", "figS7", "figS8", "figS11")},
}


def figure_table(width: int = 79) -> str:
    """Every figure with what it shows and what it costs: two lines per figure (the
    text of ``dnpsim figure --help`` and of its error for an unknown name)."""
    name_width = max(map(len, FIGURES)) + 2
    lines = ["figures (cost: --quick measured on the 2-core development machine; full mode):"]
    indent = " " * (2 + name_width)
    for name, make in FIGURES.items():
        text = textwrap.wrap(make.description, max(40, width - len(indent)), break_on_hyphens=False)
        lines.append(f"  {name:<{name_width}}{text[0]}")
        lines.extend(indent + more for more in text[1:])
        lines.extend(textwrap.wrap(f"cost: quick {make.quick_cost}; full {make.full_cost}", width,
                                   initial_indent=indent, subsequent_indent=indent + "  ", break_on_hyphens=False))
    return "\n".join(lines)
