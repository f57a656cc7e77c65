"""Parameter recovery of ``dnpsim fit`` (the acceptance test of issue 18).

Synthetic data are made by dnpsim itself at known parameters (the *truth*): the
noise-free curve is :func:`dnpsim.data.compare.simulate_measurement` at the truth, with
the same ``[sweep]`` realizations and seed the fit uses (common random numbers: the
model at the truth *is* the noise-free curve), plus Gaussian noise of a fixed standard
deviation sigma (given to the fit as the data's uncertainty) drawn with
``numpy.random.default_rng(noise_seed)``.  Each case is then fitted from a start away
from the truth (the spec's own values), within bounds that contain the truth but are
not centred on it, for noise seeds 0..9.  The criteria of the issue:

* every fitted value within 2 reported standard errors of the truth in >= 9 of 10 seeds;
* for every parameter, the mean reported standard error within a factor 2 of the
  standard deviation of the fitted values over the seeds.

Cases (:data:`CASES`): ``profile`` (2016 engine, frequency profile: couplings scale and
T1e), ``field`` (TEMPO powder field profile: radical concentration), ``buildup``
(cross-effect e1-e2-n build-up curve, Lindblad: T1n and the e-e coupling D), and
``profile_fast`` (a 1-parameter, 3-electron profile for the default test suite).

Run (from the repository root; prints the markdown table of
``benchmarks/results/fit_recovery.md``)::

    PYTHONPATH=src python benchmarks/fit_recovery.py [CASE ...] [--seeds 10]
"""

from __future__ import annotations

import argparse
import copy
import math
import sys
import time
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


@dataclass(frozen=True)
class Case:
    """One recovery case: the truth spec, where it is measured, what is fitted.

    ``truth`` maps each fitted key to its true value (SI), ``start`` to the starting
    value written into the fit's spec; ``vary`` are the ``--vary`` strings (bounds);
    ``sigma`` is the standard deviation of the noise (the data uncertainty)."""

    name: str
    description: str
    spec: dict
    axis: str
    axis_values: tuple[float, ...]
    observable: str
    truth: dict[str, float]
    start: dict[str, float]
    vary: tuple[str, ...]
    sigma: float
    scale: bool = False
    start_grid: int | None = None
    units: dict[str, str] = field(default_factory=dict)


def _load(name: str) -> dict:
    return tomllib.loads((EXAMPLES / name).read_text())


def _with(spec: dict, values: dict[str, float]) -> dict:
    from dnpsim.spec import set_dotted

    out = copy.deepcopy(spec)
    for key, value in values.items():
        out = set_dotted(out, key, float(value))
    return out


def _profile_case(fast: bool) -> Case:
    spec = _load("dnp_profile.toml")
    spec["model"]["n_electrons"] = 3 if fast else 6
    spec["environment"]["mw_amplitude"] = 25e3
    spec["sweep"] = {"realizations": 4 if fast else 32, "seed": 1}
    if fast:
        return Case(
            name="profile_fast",
            description="2016 engine, frequency profile, N = 3, R = 4, 9 frequencies; fit T1e",
            spec=spec, axis="mw_frequency", axis_values=tuple(np.linspace(93.84e9, 93.96e9, 9)),
            observable="nuclear_enhancement",
            truth={"environment.t1e": 3e-3}, start={"environment.t1e": 3e-2},
            vary=("environment.t1e=3e-4:1e-1:log",), sigma=20.0, start_grid=0,
            units={"environment.t1e": "s"})
    return Case(
        name="profile",
        description="2016 engine (dipolar_electrons, rate equation), frequency profile, N = 6, R = 32, "
                    "13 frequencies 93.84-93.96 GHz, omega_1 = 25 kHz; fit couplings scale and T1e (log)",
        spec=spec, axis="mw_frequency", axis_values=tuple(np.linspace(93.84e9, 93.96e9, 13)),
        observable="nuclear_enhancement",
        truth={"model.couplings.scale": 15e6, "environment.t1e": 3e-3},
        start={"model.couplings.scale": 11e6, "environment.t1e": 3e-2},
        vary=("model.couplings.scale=9e6:21e6", "environment.t1e=3e-4:1e-1:log"), sigma=20.0, start_grid=3,
        units={"model.couplings.scale": "Hz", "environment.t1e": "s"})


def _field_case() -> Case:
    spec = _load("tempo_field_profile.toml")
    spec["model"]["n_electrons"] = 4
    spec["sweep"] = {"realizations": 16, "seed": 1}
    return Case(
        name="field",
        description="TEMPO powder (dipolar_electrons), field profile 3.335-3.365 T (13 fields) at 94.05 GHz, "
                    "N = 4, R = 16; fit the concentration (bulk gaussian couplings, log)",
        spec=spec, axis="field", axis_values=tuple(np.linspace(3.335, 3.365, 13)),
        observable="nuclear_polarization",
        truth={"model.couplings.concentration": 40.0}, start={"model.couplings.concentration": 20.0},
        vary=("model.couplings.concentration=10:100:log",), sigma=0.02, start_grid=5,
        units={"model.couplings.concentration": "mol/m^3"})


def _buildup_case() -> Case:
    spec = _load("cross_effect_e1e2n.toml")
    spec.pop("title", None)
    return Case(
        name="buildup",
        description="cross effect e1-e2-n (Lindblad), build-up P_n(t) at 17 times 0-80 s; "
                    "fit T1n (log) and the electron-electron coupling D",
        spec=spec, axis="time", axis_values=tuple(np.linspace(0.0, 80.0, 17)),
        observable="nuclear_polarization",
        truth={"environment.t1n": 100.0, "model.electron_coupling": 100e3},
        start={"environment.t1n": 300.0, "model.electron_coupling": 70e3},
        vary=("environment.t1n=20:1000:log", "model.electron_coupling=50e3:200e3"), sigma=0.01,
        units={"environment.t1n": "s", "model.electron_coupling": "Hz"})


def cases() -> dict[str, Case]:
    """The recovery cases by name."""
    return {c.name: c for c in (_profile_case(False), _field_case(), _buildup_case(), _profile_case(True))}


def layout(case: Case, values=None, sigma=None):
    """The measurement Dataset of a case (values default to zeros: a layout to simulate on)."""
    import xarray as xr

    from dnpsim.data.measured import AXES, load_measurement

    x = np.asarray(case.axis_values, dtype=float)
    y = np.zeros_like(x) if values is None else np.asarray(values, dtype=float)
    variables = {case.observable: (case.axis, y)}
    if sigma is not None:
        variables[f"{case.observable}_uncertainty"] = (case.axis, np.full_like(x, sigma))
    return load_measurement(xr.Dataset(variables, coords={case.axis: (case.axis, x, {"units": AXES[case.axis].unit})}))


def truth_spec(case: Case) -> dict:
    """The case's spec at the true parameters."""
    return _with(case.spec, case.truth)


def start_spec(case: Case) -> dict:
    """The spec the fit starts from (the fitted keys at ``case.start``)."""
    return _with(case.spec, case.start)


def clean_curve(case: Case, executor="serial") -> np.ndarray:
    """The noise-free data: the model at the truth on the measured axis."""
    from dnpsim.data.compare import simulate_measurement

    return np.asarray(simulate_measurement(truth_spec(case), layout(case), executor=executor)["model_mean"].values)


def noise(case: Case, noise_seed: int) -> np.ndarray:
    """The Gaussian noise of one seed (standard deviation ``case.sigma``)."""
    return np.random.default_rng(noise_seed).normal(0.0, case.sigma, len(case.axis_values))


def synthetic_measurement(case: Case, noise_seed: int, clean: np.ndarray | None = None, executor="serial"):
    """Noise-free curve + noise of ``noise_seed``, with sigma as its uncertainty, in the
    measurement layout."""
    if clean is None:
        clean = clean_curve(case, executor)
    return layout(case, clean + noise(case, noise_seed), case.sigma)


def fit_seed(case: Case, noise_seed: int, clean: np.ndarray, executor="serial"):
    """Fit one noise seed's data from the case's start; returns the FitResult."""
    from dnpsim.data.fit import fit

    measurement = synthetic_measurement(case, noise_seed, clean)
    return fit(start_spec(case), measurement, list(case.vary), scale=case.scale, start_grid=case.start_grid,
               executor=executor, progress=False)


@dataclass
class Recovery:
    """Fitted values, reported standard errors, wall times and evaluations over the seeds."""

    case: Case
    values: dict[str, list[float]]
    stderr: dict[str, list[float]]
    wall: list[float]
    evaluations: list[int]
    chi_square: list[float] = field(default_factory=list)

    def within(self, k: float = 2.0) -> list[bool]:
        """Per seed: every fitted value within k standard errors of the truth."""
        out = []
        for i in range(len(self.wall)):
            out.append(all(abs(self.values[key][i] - truth) <= k * self.stderr[key][i]
                           for key, truth in self.case.truth.items()))
        return out

    def deviations(self) -> np.ndarray:
        """(fit - truth) / reported standard error, per seed and parameter."""
        return np.array([[(self.values[key][i] - truth) / self.stderr[key][i] for key, truth in self.case.truth.items()]
                         for i in range(len(self.wall))])

    def stderr_ratio(self, key: str) -> float:
        """Mean reported standard error / standard deviation of the fitted values."""
        spread = float(np.std(self.values[key], ddof=1))
        return float(np.mean(self.stderr[key])) / spread if spread > 0 else math.inf


def recover(case: Case, seeds=range(10), executor="serial", verbose: bool = False) -> Recovery:
    """Fit every noise seed of a case (``verbose``: one line per seed on stderr)."""
    clean = clean_curve(case, executor)
    values = {k: [] for k in case.truth}
    stderr = {k: [] for k in case.truth}
    wall, evaluations, chi_square = [], [], []
    for seed in seeds:
        result = fit_seed(case, seed, clean, executor)
        for key in case.truth:
            values[key].append(result.values[key])
            stderr[key].append(result.stderr[key])
        wall.append(result.wall_time)
        evaluations.append(result.evaluations)
        chi_square.append(result.chi_square)
        if verbose:
            print(f"  {case.name} seed {seed}: " + ", ".join(
                f"{k} = {result.values[k]:.5g} +- {result.stderr[k]:.2g}" for k in case.truth)
                + f", {result.evaluations} evaluations, {result.wall_time:.1f} s", file=sys.stderr, flush=True)
    return Recovery(case, values, stderr, wall, evaluations, chi_square)


def linear_deviations(case: Case, seeds=range(10), executor="serial", step: float = 1e-3) -> np.ndarray:
    """The deviations of :func:`first_order` (seeds x parameters)."""
    return first_order(case, seeds, executor, step)[0]


def first_order(case: Case, seeds=range(10), executor="serial", step: float = 1e-3, *,
                return_correlation: bool = False):
    """(deviations, standard errors at the truth): deviations (fit - truth) / standard error that the noise alone predicts to first
    order, per seed and parameter: dx = (J^T J)^-1 J^T e with J the Jacobian of
    model / sigma at the truth (central differences, relative step ``step``) and e the
    seed's noise / sigma.  A fitter that works reproduces these numbers; seeds whose
    prediction is beyond 2 already fail criterion (i) by the draw of the noise.
    ``return_correlation=True`` returns the correlation matrix of (J^T J)^-1 instead."""
    keys = list(case.truth)
    columns = []
    for key in keys:
        h = abs(case.truth[key]) * step
        up = replace(case, truth={**case.truth, key: case.truth[key] + h})
        down = replace(case, truth={**case.truth, key: case.truth[key] - h})
        columns.append((clean_curve(up, executor) - clean_curve(down, executor)) / (2 * h) / case.sigma)
    jacobian = np.array(columns).T
    covariance = np.linalg.inv(jacobian.T @ jacobian)
    errors = np.sqrt(np.diag(covariance))
    if return_correlation:
        return covariance / np.outer(errors, errors)
    return np.array([covariance @ jacobian.T @ (noise(case, s) / case.sigma) / errors for s in seeds]), errors


def chi_square_at(case: Case, noise_seed: int, values: dict[str, float], clean: np.ndarray,
                  executor="serial") -> float:
    """Chi-square of the model at ``values`` (the fitted keys; others as the truth)
    against the data of ``noise_seed``."""
    model = clean_curve(replace(case, truth={**case.truth, **values}), executor)
    return float(np.sum((model - clean - noise(case, noise_seed)) ** 2) / case.sigma ** 2)


def table(recoveries: list[Recovery]) -> str:
    """The markdown recovery table."""
    lines = ["| case | parameter | truth | start | mean fit | mean stderr | std over seeds | stderr / std "
             "| seeds all within 2 stderr | wall per fit mean / max (s) | evaluations mean / max |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in recoveries:
        n = len(r.wall)
        for key, truth in r.case.truth.items():
            unit = r.case.units.get(key, "")
            lines.append(
                f"| {r.case.name} | `{key}` ({unit}) | {truth:.4g} | {r.case.start[key]:.4g} "
                f"| {np.mean(r.values[key]):.4g} | {np.mean(r.stderr[key]):.3g} "
                f"| {np.std(r.values[key], ddof=1):.3g} | {r.stderr_ratio(key):.2f} "
                f"| {sum(r.within())}/{n} | {np.mean(r.wall):.1f} / {np.max(r.wall):.1f} "
                f"| {np.mean(r.evaluations):.0f} / {np.max(r.evaluations)} |")
    return "\n".join(lines)


def main(argv=None) -> None:
    """Run the named cases (default: profile, field, buildup) and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="*", default=["profile", "field", "buildup"])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--linear", action="store_true",
                        help="only print the first-order deviations / stderr predicted from each seed's noise")
    args = parser.parse_args(argv)
    all_cases = cases()
    if args.linear:
        for name in args.cases:
            deviations = linear_deviations(all_cases[name], range(args.seeds))
            inside = int(np.sum(np.all(np.abs(deviations) <= 2.0, axis=1)))
            print(f"{name}: first-order (fit - truth) / stderr from the noise alone, per seed "
                  f"({', '.join(all_cases[name].truth)}); all within 2 in {inside}/{args.seeds} seeds")
            for seed, row in enumerate(deviations):
                print(f"  seed {seed}: " + ", ".join(f"{x:+.2f}" for x in row))
        return
    recoveries = []
    for name in args.cases:
        started = time.perf_counter()
        recoveries.append(recover(all_cases[name], range(args.seeds), verbose=True))
        print(f"{name}: {all_cases[name].description}; {time.perf_counter() - started:.0f} s in all",
              file=sys.stderr, flush=True)
    print(table(recoveries))


if __name__ == "__main__":
    main()
