"""Parameter recovery by ``dnpsim fit`` (the acceptance test of issue 18) and unit tests
of :mod:`dnpsim.data.fit`.

The cases and the synthetic data live in ``benchmarks/fit_recovery.py`` (which also
prints the table of ``benchmarks/results/fit_recovery.md``).  The three 10-seed cases
of the issue are marked ``slow``; ``profile_fast`` (one parameter, three electrons)
runs the same two criteria in the default suite.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import dnpsim
from dnpsim.data.compare import compare
from dnpsim.data.fit import FitParameter, fit, parse_fit_vary
from dnpsim.errors import SpecError

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import fit_recovery  # noqa: E402

SEEDS = range(10)


def _above_first_order(case, seeds, recovery, deviations, errors, label: str) -> list[str]:
    """The seeds whose fit's chi-square is more than 0.1 above the chi-square at the
    seed's first-order estimate (``fit_recovery.first_order``: what an ideal
    least-squares fit returns to first order; a fit stuck in a local minimum is
    typically 1 or more above it), as problem lines starting with ``label``."""
    clean = fit_recovery.clean_curve(case)
    problems = []
    for seed, row in zip(seeds, deviations):
        estimate = {key: truth + d * e for (key, truth), d, e in zip(case.truth.items(), row, errors)}
        reference = fit_recovery.chi_square_at(case, seed, estimate, clean)
        if recovery.chi_square[seed] > reference + 0.1:
            problems.append(f"{label} seed {seed}: fit chi-square {recovery.chi_square[seed]:.4g} > {reference:.4g} "
                            f"at the first-order estimate {estimate}")
    return problems


def _check_recovery(name: str) -> None:
    """The two criteria of issue 18 over 10 noise seeds, (i) every fitted value within 2
    standard errors of the truth in >= 9 seeds and (ii) mean standard error / spread
    over the seeds in [0.5, 2], and a third that separates the fitter from the luck of
    the noise draws: (iii) in every seed the fit's chi-square is at most 0.1 above the
    chi-square at the first-order estimate from that seed's noise
    (:func:`_above_first_order`).  All three are evaluated and reported together."""
    case = fit_recovery.cases()[name]
    recovery = fit_recovery.recover(case, SEEDS)
    problems = []
    within = recovery.within(2.0)
    if sum(within) < 9:
        problems.append(f"(i) all parameters within 2 stderr in only {sum(within)}/10 seeds: {within}")
    for key in case.truth:
        ratio = recovery.stderr_ratio(key)
        if not 0.5 <= ratio <= 2.0:
            problems.append(f"(ii) {key}: mean stderr / std over seeds = {ratio:.3g}")
    deviations, errors = fit_recovery.first_order(case, SEEDS)
    problems += _above_first_order(case, SEEDS, recovery, deviations, errors, "(iii)")
    assert not problems, "\n".join([name, *problems, fit_recovery.table([recovery]),
                                    f"(fit - truth) / stderr: {np.round(recovery.deviations(), 2).tolist()}",
                                    f"first-order prediction: {np.round(deviations, 2).tolist()}"])


def test_recovery_fast_profile_t1e():
    """1-parameter profile (T1e), N = 3: both criteria over 10 seeds (~15 s)."""
    _check_recovery("profile_fast")


_BUILDUP_KNOWN = pytest.mark.xfail(
    strict=False,
    reason="issue 18 criterion (i) over seeds 0-9: 8/10 for buildup; seeds 0 and 8 are 2.2-2.6 sigma noise draws "
           "(the ideal first-order fit lands within 0.26 stderr of dnpsim's); over 50 seeds 42/50; "
           "benchmarks/results/fit_recovery.md. Left failing visibly rather than re-seeded.")


@pytest.mark.slow
@pytest.mark.parametrize("name", ["profile", "field", pytest.param("buildup", marks=_BUILDUP_KNOWN)])
def test_recovery_issue18(name):
    """Frequency profile (couplings scale, T1e), field profile (concentration), cross-
    effect build-up (T1n, D): both criteria over 10 noise seeds."""
    _check_recovery(name)


def _both_within_probability(correlation: float, k: float = 2.0) -> float:
    """P(|z1| <= k and |z2| <= k) for a standard bivariate normal of this correlation."""
    from scipy.stats import multivariate_normal

    law = multivariate_normal([0.0, 0.0], [[1.0, correlation], [correlation, 1.0]])
    return float(law.cdf([k, k]) - law.cdf([-k, k]) - law.cdf([k, -k]) + law.cdf([-k, -k]))


@pytest.mark.slow
def test_buildup_fit_is_calibrated_over_50_seeds():
    """What criterion (i) of issue 18 is after, measured with the statistics to tell a
    calibrated fitter from an unlucky one (~2 min): over 50 noise seeds of the build-up
    case, (a) the mean reported standard error of each parameter is within 5 % of the
    exact first-order one at the truth, sqrt(diag (J^T J)^-1); (b) no fit's chi-square
    is more than 0.1 above the chi-square at its seed's first-order estimate (the
    optimizer found the minimum; the estimates themselves differ by up to ~0.4 standard
    errors at 2.5-sigma draws, the second order of the model); (c) the
    number of seeds with both parameters within 2 standard errors is no lower than 3
    binomial standard deviations below what a calibrated estimator gets, p from the
    parameters' correlation (~0.93 here).  A fitter whose errors are too small by 25 %
    fails (a) and, in expectation, (c)."""
    case = fit_recovery.cases()["buildup"]
    seeds = range(50)
    recovery = fit_recovery.recover(case, seeds)
    predicted, exact = fit_recovery.first_order(case, seeds)
    problems = []
    for index, key in enumerate(case.truth):
        mean_error = float(np.mean(recovery.stderr[key]))
        if abs(mean_error / exact[index] - 1.0) > 0.05:
            problems.append(f"(a) {key}: mean reported stderr {mean_error:.4g}, first order at the truth {exact[index]:.4g}")
    problems += _above_first_order(case, seeds, recovery, predicted, exact, "(b)")
    correlation = float(fit_recovery.first_order(case, return_correlation=True)[0, 1])
    p = _both_within_probability(correlation)
    inside = sum(recovery.within(2.0))
    floor = len(seeds) * p - 3.0 * math.sqrt(len(seeds) * p * (1.0 - p))
    if inside < floor:
        problems.append(f"(c) {inside}/{len(seeds)} seeds with both within 2 stderr, below {floor:.1f} "
                        f"(calibrated: {len(seeds) * p:.1f})")
    assert not problems, "\n".join(problems)


@given(low=st.floats(1e-6, 1e6), width=st.floats(1e-3, 1e3), u=st.floats(0.0, 1.0), log=st.booleans())
def test_fit_parameter_round_trip(low, width, u, log):
    """to_internal inverts to_value, and u in [0, 1] maps into the bounds."""
    high = low * (1.0 + width) if log else low + width
    parameter = FitParameter("environment.t1e", low, high, log=log)
    # the round trip loses the rounding of the value relative to the range: its condition
    # number is high / (high - low) (linear) or 1 / log(high / low) (log)
    condition = 1.0 / math.log(high / low) if log else high / (high - low)
    tolerance = 1e-12 + 8 * np.finfo(float).eps * condition
    value = parameter.to_value(u)
    assert low * (1 - 1e-12) <= value <= high * (1 + 1e-12)
    assert parameter.to_internal(value) == pytest.approx(u, abs=tolerance)
    assert parameter.to_internal(low) == pytest.approx(0.0, abs=tolerance)
    assert parameter.to_internal(high) == pytest.approx(1.0, abs=tolerance)


@pytest.mark.parametrize("text", [
    "environment.t1e=1:1",            # LO >= HI
    "environment.t1e=2:1",
    "environment.t1e=0:1:log",        # log with LO <= 0
    "environment.t1e=-1:1:log",
    "environment.t1e",                # no bounds
    "environment.t1e=1",              # one bound
    "environment.t1e=1:2:3",          # three bounds
    "=1:2",                           # no key
    "foo.bar=1:2",                    # not under model/environment/method
    "model.seed=0:10",                # not fittable (the disorder, not a parameter)
    "method.seed=0:10",
])
def test_parse_fit_vary_errors(text):
    """Every malformed --vary is one SpecError on the field --vary."""
    with pytest.raises(SpecError) as info:
        parse_fit_vary(text)
    assert info.value.field == "--vary"


def test_parse_fit_vary_quantities():
    """Bounds as quantities are converted to SI; ``log`` is recognised."""
    parameter = parse_fit_vary("environment.t1e=1ms:100ms:log")
    assert (parameter.low, parameter.high, parameter.log) == (pytest.approx(1e-3), pytest.approx(0.1), True)


def test_compare_at_truth_chi_square_is_the_noise():
    """At the truth the model is the noise-free curve (common random numbers), so the
    chi-square is exactly sum(noise^2 / sigma^2)."""
    case = fit_recovery.cases()["profile_fast"]
    measurement = fit_recovery.synthetic_measurement(case, 3)
    noise = fit_recovery.noise(case, 3)
    expected = float(np.sum(noise ** 2 / case.sigma ** 2))
    result = compare(fit_recovery.truth_spec(case), measurement)
    assert math.isclose(result.attrs["chi_square"], expected, rel_tol=1e-9)


def test_written_fitted_spec_reproduces_the_model(tmp_path):
    """FitResult.write's spec runs with dnpsim.sweep and gives comparison.model_mean."""
    import tomllib

    case = fit_recovery.cases()["profile_fast"]
    measurement = fit_recovery.synthetic_measurement(case, 0)
    result = fit(fit_recovery.start_spec(case), measurement, list(case.vary), start_grid=0,
                                 max_evaluations=8, progress=False)
    paths = result.write(tmp_path / "fitted")
    assert all(p.exists() for p in paths)
    spec = tomllib.loads(paths[1].read_text())
    assert spec["environment"]["t1e"] == result.values["environment.t1e"]
    swept = dnpsim.sweep(spec, progress=False)
    mean = swept["nuclear_enhancement"].mean("realization").values
    np.testing.assert_array_equal(mean, result.comparison["model_mean"].values)
