"""Polarization build-up of the cross-effect paper (Karabanov et al. 2018): the
mono-exponential law p_I(t) = eps (1 - exp(-t/tau)) of the caption of its Fig. 2,
fitted to a build-up curve of any engine (full master equation, projected rate
equation, kinetic Monte Carlo) to read off the enhancement eps and the build-up time
tau (s).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dnpsim.errors import SpecError


@dataclass(frozen=True)
class BuildUpFit:
    """p(t) = eps (1 - exp(-t / tau)) fitted by least squares: ``eps`` in the unit of
    the fitted values (a polarization, or p_I / p), ``tau`` in s, ``rms`` the root mean
    square residual (unit of the values)."""

    eps: float
    tau: float
    rms: float


def fit_build_up(times, values) -> BuildUpFit:
    """Fit the mono-exponential build-up p_I(t) = eps (1 - exp(-t/tau)) (caption of
    Fig. 2 of Karabanov et al.) to ``values`` (T,) at ``times`` (T,) in s, T >= 3.  Starts from the last
    value and the 63% crossing time; scipy ``curve_fit``."""
    from scipy.optimize import curve_fit

    t = np.asarray(times, float)
    y = np.asarray(values, float)
    if t.shape != y.shape or t.size < 3:
        raise SpecError("values", "need at least three (time, value) pairs of equal length")
    eps0 = y[-1] if y[-1] != 0 else (y.max() or 1e-12)
    crossing = np.nonzero(np.abs(y) >= 0.63 * abs(eps0))[0]
    tau0 = t[crossing[0]] if crossing.size and t[crossing[0]] > 0 else max(t[-1] / 3, 1e-12)

    def model(tt, eps, tau):
        return eps * -np.expm1(-tt / tau)

    (eps, tau), _ = curve_fit(model, t, y, p0=(eps0, tau0), bounds=([-np.inf, 1e-15 * max(t[-1], 1)],
                                                                    [np.inf, np.inf]), maxfev=20000)
    rms = float(np.sqrt(np.mean((model(t, eps, tau) - y) ** 2)))
    return BuildUpFit(float(eps), float(tau), rms)


def build_up_extras(times, curve, *, start: float = 0.0, rises=None) -> dict[str, float]:
    """The build-up extras of a time-resolved result: ``{"build_up_enhancement": P_inf,
    "build_up_time": tau}`` from the fit curve(t) - start = eps (1 - exp(-t/tau))
    (:func:`fit_build_up`), P_inf = start + eps the fitted plateau (the polarization
    the curve builds up to; eps itself when the curve starts from zero, as the
    cross-effect's does).  ``start`` is the value at t = 0 (the thermal state; it need
    not be among ``times``).

    Both are NaN when there are fewer than three times, when the curve does not move
    (|curve[-1] - start| <= 1e-6 max|curve| + 1e-15: no microwaves, no polarization
    transfer -- a fit would return a meaningless tau), when ``rises(curve)`` (an
    optional extra check, called only for a moving curve, e.g. kMC's "above the
    statistical noise") is False, or when the fit does not converge.  Every engine
    with ``method.times`` reports its build-up through this one function."""
    out = {"build_up_enhancement": float("nan"), "build_up_time": float("nan")}
    t = np.asarray(times, float)
    y = np.asarray(curve, float) - start
    if t.size < 3 or y.shape != t.shape:
        return out
    moves = abs(y[-1]) > 1e-6 * np.max(np.abs(np.asarray(curve, float))) + 1e-15
    if moves and rises is not None:
        moves = bool(rises(np.asarray(curve, float)))
    if moves:
        try:
            fit = fit_build_up(t, y)
        except RuntimeError:  # curve_fit did not converge: report no fit
            return out
        out["build_up_enhancement"], out["build_up_time"] = start + fit.eps, fit.tau
    return out
