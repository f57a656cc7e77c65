"""Paper figures as commands: ``dnpsim figure NAME [--quick]``.

Each entry is ``make(quick, output_dir, progress=True, realizations=None, workers=1)
-> (netcdf_path, png_path)``; modules are imported only when their figure runs.
"""

from __future__ import annotations

import importlib


def _lazy(module: str, function: str):
    def target():
        return getattr(importlib.import_module(f"dnpsim.experiments.figures.{module}"), function)

    def run(*args, **kwargs):
        return target()(*args, **kwargs)

    run.__doc__ = f"{module}.{function}"
    run.target = target  # the real function (its signature tells which options it takes)
    return run


FIGURES = {
    "spin-temperature-fig2": _lazy("spin_temperature_figs", "make_fig2"),
    "spin-temperature-fig3": _lazy("spin_temperature_figs", "make_fig3"),
    "spin-temperature-fig4": _lazy("fig4_eth", "make_figure"),
    "spin-temperature-fig5": _lazy("spin_temperature_figs", "make_fig5"),
    "cross-effect-fig1c": _lazy("cross_effect_figs", "make_fig1c"),
    "cross-effect-fig2ab": _lazy("cross_effect_figs", "make_fig2ab"),
    "cross-effect-fig2c": _lazy("cross_effect_figs", "make_fig2c"),
    "cross-effect-fig2de": _lazy("cross_effect_figs", "make_fig2de"),
    "anderson-fig2": _lazy("anderson_figs", "make_fig2"),
    "anderson-fig3": _lazy("anderson_figs", "make_fig3"),
    "anderson-fig4": _lazy("anderson_figs", "make_fig4"),
    "anderson-fig5": _lazy("anderson_figs", "make_fig5"),
    "anderson-fig7": _lazy("anderson_figs", "make_fig7"),
    **{f"zeno-{name}": _lazy("zeno_figs", f"make_{name}") for name in ("fig2", "fig3", "figS5", "figS6", "figS7", "figS8", "figS11")},
}
