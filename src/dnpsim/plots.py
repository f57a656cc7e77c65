"""Plots that look like the papers' figures (matplotlib, Agg backend, PNG files)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def pyplot():
    """matplotlib.pyplot on the non-interactive Agg backend (files only, no display)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_dnp_profile(data, path: Path, *, title: str | None = None, label: str | None = None, ax=None):
    """DNP profile as in Fig. 2 of the 2016 paper: mean nuclear polarization (symbols,
    error bars = standard deviation over realizations, as the default legend label says)
    vs omega_MW / 2pi in GHz, with
    the spin-temperature prediction of Eq. (1) from each realization's own fit,
    averaged (dashed), when present.

    ``data`` is an xarray Dataset with dims (mw_frequency, realization).
    """
    plt = pyplot()
    own = ax is None
    if own:
        fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    f = np.asarray(data["mw_frequency"]) / 1e9
    pn = data["nuclear_polarization"]
    mean, std = pn.mean("realization"), pn.std("realization")
    r = data.sizes["realization"]
    label = label or rf"$P_n$ (rate equation), mean over {r} realizations;" "\n" rf"error bars: standard deviation"
    line = ax.errorbar(f, mean, yerr=std, fmt="o", ms=4, capsize=2, label=label)
    if "nuclear_polarization_ansatz" in data:
        ax.plot(f, data["nuclear_polarization_ansatz"].mean("realization"), "--", color=line[0].get_color(),
                label="Eq. (1), per-realization fit (mean)")
    ax.axhline(0.0, color="0.6", lw=0.8)
    ax.set_xlabel(r"$\omega_{MW}/2\pi$ (GHz)")
    ax.set_ylabel(r"$P_n$")
    if title:
        ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="best")
    if own:
        fig.tight_layout()
        fig.savefig(path)
        plt.close(fig)
    return ax
