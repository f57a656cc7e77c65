"""The fast paths of the 2016 rate equation against their references.

* the float32 block elimination refined in float64 (``method="mixed"``) against the
  float64 GTH elimination, in every regime of the model (ergodic, localized, weak
  thermometer, cold and hot bath, on and off the EPR line) and on random generators
  whose rates span many decades;
* the compiled rate kernels against the plain-numpy Eqs. (12) and (16);
* the threaded sector diagonalization against the serial one.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dnpsim.dynamics.eigenbasis import Eigenbasis
from dnpsim.dynamics.rates import Environment
from dnpsim.experiments.spin_temperature import SpinTemperatureEngine
from dnpsim.solvers import double_double, steady_state
from dnpsim.solvers.block_tridiagonal import BlockTridiagonal, complete_generator
from dnpsim.solvers.elimination import stationary_block_elimination
from dnpsim.solvers.mixed_precision import AssembledGenerator, Float32Workspace, stationary_mixed_precision
from dnpsim.solvers.steady_state import MIXED_MIN_BLOCK, stationary_state, stationary_state_split
from dnpsim.units import TWO_PI

from .brute_force import sector_bath_rates, sector_microwave_rates
from .conftest import make_model


def _environment(ghz, temperature=1.2):
    return Environment(temperature, ghz * 1e9, 25e3, 1.0, 1e-6)


REGIMES = [
    (15.0, 1.0, 1.2, 93.88),    # ergodic, Table I
    (2.0, 1.0, 1.2, 93.88),     # localized
    (15.0, 0.03, 1.2, 93.88),   # weak thermometer: nuclear rates ~1e-6 of the electron ones
    (15.0, 1.0, 0.1, 93.90),    # cold bath: upper sectors ~e^{-45 k}
    (15.0, 1.0, 20.0, 93.92),   # hot bath
    (45.0, 1.0, 1.2, 94.10),    # far outside the EPR line
]


@pytest.mark.parametrize("coupling_mhz, hyperfine_mhz, temperature, ghz", REGIMES)
def test_mixed_precision_equals_float64_elimination(coupling_mhz, hyperfine_mhz, temperature, ghz):
    engine = SpinTemperatureEngine(make_model(8, coupling_mhz=coupling_mhz, hyperfine_mhz=hyperfine_mhz, seed=5))
    generator = engine.generator(_environment(ghz, temperature))
    exact = stationary_block_elimination(generator)
    mixed = stationary_state(generator, method="mixed")
    assert mixed.method == "mixed"  # converged, no fallback
    assert np.abs(mixed.populations - exact).sum() < 1e-12
    assert mixed.residual < 1e-12
    nuclear_z = engine.basis.nuclear_z()
    assert abs(2 * mixed.populations @ nuclear_z - 2 * exact @ nuclear_z) < 1e-12


@pytest.mark.parametrize("coupling_mhz, hyperfine_mhz, temperature, ghz", [
    (15.0, 1.0, 1.2, 93.88),    # ergodic, Table I
    (2.0, 1.0, 1.2, 93.88),     # localized
    (15.0, 0.03, 1.2, 93.88),   # weak thermometer
    (15.0, 1.0, 0.1, 93.90),    # cold bath
    (45.0, 1.0, 1.2, 94.10),    # far outside the EPR line
])
def test_split_generator_equals_assembled_generator(coupling_mhz, hyperfine_mhz, temperature, ghz):
    """The microwave generator computed on the fly (float32 blocks, float64 and
    double-double products, escape rates) is the assembled one, and its stationary
    state is the float64 elimination's."""
    engine = SpinTemperatureEngine(make_model(7, coupling_mhz=coupling_mhz, hyperfine_mhz=hyperfine_mhz, seed=3))
    environment = _environment(ghz, temperature)
    rates = engine.rates(environment)
    split = rates.split_generator(environment.omega_mw, environment.omega_1, environment.t2e)
    assembled = AssembledGenerator(engine.generator(environment))
    g = assembled.generator
    dims = g.dims
    for k in range(len(dims) - 1):
        want = [np.empty((dims[k + 1], dims[k]), np.float32), np.empty((dims[k], dims[k + 1]), np.float32)]
        got = [np.empty_like(want[0]), np.empty_like(want[1])]
        leak_want = assembled.coupling_blocks32(k, *want)
        leak_got = split.coupling_blocks32(k, *got)
        for a, b in zip(got, want):
            np.testing.assert_allclose(a, b, rtol=2e-7, atol=0)
        np.testing.assert_allclose(leak_got, leak_want, rtol=1e-13, atol=0)
        off = ~np.eye(dims[k], dtype=bool)
        np.testing.assert_array_equal(split.diagonal_block32(k)[off], assembled.diagonal_block32(k)[off])
    scale = np.abs(assembled.escape_rates()).max()
    np.testing.assert_allclose(split.escape_rates(), assembled.escape_rates(), rtol=1e-13, atol=0)
    p = np.random.default_rng(1).random(g.size)
    np.testing.assert_allclose(split.product(p), assembled.product(p), rtol=0, atol=1e-13 * scale)
    np.testing.assert_allclose(split.accurate_product(p), assembled.accurate_product(p), rtol=0, atol=1e-13 * scale)
    exact = stationary_block_elimination(g)
    result = stationary_state_split(split, workspace=Float32Workspace(dims))
    assert result.method == "mixed"
    assert np.abs(result.populations - exact).sum() < 1e-12
    assert result.residual < 1e-12


def test_workspace_reuse_gives_the_same_states():
    """Solving two frequencies in one workspace, then the first again, reproduces the
    fresh-workspace results bit for bit (no state leaks between solves)."""
    engine = SpinTemperatureEngine(make_model(7, seed=2))
    rates = engine.rates(_environment(93.88))
    workspace = Float32Workspace(engine.basis.dims)
    first, second = (rates.split_generator(TWO_PI * ghz * 1e9, TWO_PI * 25e3, 1e-6) for ghz in (93.88, 93.91))
    a = stationary_state_split(first, workspace=workspace).populations
    b = stationary_state_split(second, workspace=workspace).populations
    again = stationary_state_split(first, workspace=workspace).populations
    np.testing.assert_array_equal(again, a)
    np.testing.assert_array_equal(stationary_state_split(second).populations, b)
    assert np.abs(a - b).sum() > 1e-6  # the two frequencies do differ


def test_auto_uses_mixed_precision_for_large_blocks_only():
    small = SpinTemperatureEngine(make_model(6))
    assert max(small.basis.dims) < MIXED_MIN_BLOCK
    assert small.stationary_point(_environment(93.88)).method == "elimination"
    large = SpinTemperatureEngine(make_model(10))
    assert max(large.basis.dims) >= MIXED_MIN_BLOCK
    point = large.stationary_point(_environment(93.88))
    assert point.method == "mixed"
    exact = stationary_block_elimination(large.generator(_environment(93.88)))
    assert np.abs(point.populations - exact).sum() < 1e-12


@pytest.mark.parametrize("coupling_mhz, hyperfine_mhz, temperature, ghz", REGIMES)
def test_refinement_error_estimate_is_safe(coupling_mhz, hyperfine_mhz, temperature, ghz):
    """The refinement stops on its a-posteriori estimate c_k r / (1 - r) of the error
    left; refining on until the corrections vanish (error_tol=0) must move p by no
    more than that estimate (plus round-off)."""
    engine = SpinTemperatureEngine(make_model(8, coupling_mhz=coupling_mhz, hyperfine_mhz=hyperfine_mhz, seed=5))
    generator = engine.generator(_environment(ghz, temperature))
    p, steps, error = stationary_mixed_precision(generator)
    converged, all_steps, _ = stationary_mixed_precision(generator, error_tol=0.0)
    assert error <= 1e-12
    assert steps <= all_steps
    assert np.abs(p - converged).sum() <= error + 1e-15


def test_refinement_contracts_fast():
    """Each refinement step gains several digits (the float32 factors resolve the slow
    nuclear direction): a handful of steps, not tens."""
    generator = SpinTemperatureEngine(make_model(8)).generator(_environment(93.88))
    _, steps, error = stationary_mixed_precision(generator)
    assert steps <= 4
    assert error <= 1e-12


def test_mixed_falls_back_to_float64_when_refinement_fails(monkeypatch):
    generator = SpinTemperatureEngine(make_model(5)).generator(_environment(93.88))
    monkeypatch.setattr(steady_state, "stationary_mixed_precision", lambda g, **_: (np.full(g.size, 1.0 / g.size), 12, 1e-3))
    result = stationary_state(generator, method="mixed")
    assert result.method.startswith("elimination")
    np.testing.assert_allclose(result.populations, stationary_block_elimination(generator), rtol=0, atol=1e-15)


def test_split_generator_falls_back_to_float64_when_refinement_fails(monkeypatch):
    engine = SpinTemperatureEngine(make_model(5))
    environment = _environment(93.88)
    split = engine.rates(environment).split_generator(environment.omega_mw, environment.omega_1,
                                                      environment.t2e)
    monkeypatch.setattr(steady_state, "stationary_mixed_precision", lambda g, **_: (np.full(g.size, 1.0 / g.size), 12, 1e-3))
    result = stationary_state_split(split)
    assert result.method.startswith("elimination")
    exact = stationary_block_elimination(engine.generator(environment))
    np.testing.assert_allclose(result.populations, exact, rtol=0, atol=1e-15)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), blocks=st.integers(2, 6), decades=st.floats(0.0, 8.0))
def test_mixed_precision_on_random_generators(seed, blocks, decades):
    """Random block-tridiagonal generators with rates spread over ``decades``."""
    rng = np.random.default_rng(seed)
    dims = rng.integers(1, 40, size=blocks)

    def rates(shape):
        return rng.random(shape) * 10.0 ** (-decades * rng.random(shape))

    generator = complete_generator(BlockTridiagonal([rates((d, d)) for d in dims],
                                                    [rates((b, a)) for a, b in zip(dims[:-1], dims[1:])],
                                                    [rates((a, b)) for a, b in zip(dims[:-1], dims[1:])]))
    p, _, error = stationary_mixed_precision(generator)
    exact = stationary_block_elimination(generator)
    assert error <= 1e-12
    assert np.abs(p - exact).sum() < 1e-12


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), rows=st.integers(1, 12), columns=st.integers(1, 12))
def test_double_double_products_round_the_exact_result(seed, rows, columns):
    """dot2 / column_sums2 on C-ordered and on low-major (Fortran-ordered) blocks give
    a @ x and the column sums as accurately as Dot2 promises (Ogita, Rump, Oishi:
    |result - exact| <= eps |exact| + gamma_n^2 sum |a x|), against exact rational
    arithmetic, with cancellation and magnitudes over 30 decades."""
    from fractions import Fraction

    rng = np.random.default_rng(seed)
    a = rng.standard_normal((rows, columns)) * 10.0 ** rng.uniform(-15, 15, (rows, columns))
    x = rng.standard_normal(columns) * 10.0 ** rng.uniform(-15, 15, columns)
    eps = np.finfo(float).eps / 2
    gamma2 = (columns * eps / (1 - columns * eps)) ** 2
    exact = [sum(Fraction(a[i, j]) * Fraction(x[j]) for j in range(columns)) for i in range(rows)]
    sums = [sum(Fraction(a[i, j]) for i in range(rows)) for j in range(columns)]
    for block in (np.ascontiguousarray(a), np.asfortranarray(a)):
        hi, lo = np.zeros(rows), np.zeros(rows)
        double_double.dot2(block, x, hi, lo)
        for i in range(rows):
            bound = eps * abs(exact[i]) + gamma2 * float(np.abs(a[i] * x).sum())
            assert abs(Fraction(float(hi[i] + lo[i])) - exact[i]) <= Fraction(bound)
        hi, lo = np.zeros(columns), np.zeros(columns)
        double_double.column_sums2(block, hi, lo)
        for j in range(columns):
            bound = eps * abs(sums[j]) + gamma2 * float(np.abs(a[:, j]).sum())
            assert abs(Fraction(float(hi[j] + lo[j])) - sums[j]) <= Fraction(bound)


def test_cross_sector_blocks_are_low_major():
    """The strengths, the bath's lower blocks and the microwave buffers are stored
    low-major, the layout the compiled rate kernels stream through (the numbers do
    not depend on it, the speed does)."""
    engine = SpinTemperatureEngine(make_model(5, seed=9))
    rates = engine.rates(_environment(93.88))
    blocks = [*engine.basis.raising, *engine.basis.raising_total, *rates.bath.lower, *rates.microwave_buffers()]
    assert all(b.flags.f_contiguous and not b.flags.c_contiguous for b in blocks if min(b.shape) > 1)
    assert all(b.flags.c_contiguous for b in rates.bath.upper)


@pytest.mark.parametrize("batch", [False, True])
def test_fused_microwave_kernel_equals_numpy_eq16(batch):
    engine = SpinTemperatureEngine(make_model(5, seed=9))
    rates = engine.rates(_environment(93.9))
    omegas = TWO_PI * (np.array([93.86e9, 93.9e9, 93.95e9]) if batch else 93.87e9)
    generator = rates.generator(omegas, TWO_PI * 25e3, 1e-6)
    microwaves = sector_microwave_rates(engine.basis, omegas, TWO_PI * 25e3, 1e-6)
    shape = np.shape(omegas)
    reference = complete_generator(BlockTridiagonal(
        [np.array(np.broadcast_to(b, shape + b.shape)) for b in rates.bath.diag],
        [b + m for b, m in zip(rates.bath.lower, microwaves)],
        [b + np.swapaxes(m, -1, -2) for b, m in zip(rates.bath.upper, microwaves)]))
    for got, want in zip(generator.diag + generator.lower + generator.upper,
                         reference.diag + reference.lower + reference.upper):
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13 * np.abs(want).max())


def test_threaded_diagonalization_equals_serial():
    model = make_model(7, seed=4)
    serial = Eigenbasis.build(model, workers=1)
    threaded = Eigenbasis.build(model, workers=2)
    for a, b in zip(serial.sectors, threaded.sectors):
        np.testing.assert_array_equal(a.energies, b.energies)
        np.testing.assert_allclose(a.spin_z, b.spin_z, atol=1e-14)
        np.testing.assert_allclose(a.nuclear_z, b.nuclear_z, atol=1e-14)
    for name in ("raising", "raising_total", "dephasing"):
        for a, b in zip(getattr(serial, name), getattr(threaded, name)):
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-14)


def test_compiled_bath_rates_equal_numpy_eq12():
    from dnpsim.dynamics.rates import bath_rates

    basis = SpinTemperatureEngine(make_model(5, seed=9)).basis
    for temperature in (0.05, 1.2, 50.0):
        beta = _environment(93.9, temperature).beta
        got, want = bath_rates(basis, beta, 0.7), sector_bath_rates(basis, beta, 0.7)
        for a, b in zip(got.diag + got.lower + got.upper, want.diag + want.lower + want.upper):
            np.testing.assert_allclose(a, b, rtol=1e-14, atol=0)


def test_threaded_split_profile_equals_float64_elimination():
    """A profile at N = 10 (blocks of 504 rows: the split float32 path) solved two
    frequencies at a time, each thread reusing its buffers, equals the serial one bit
    for bit and the float64 elimination of the assembled generators to 1e-12."""
    engine = SpinTemperatureEngine(make_model(10, seed=6))
    assert max(engine.basis.dims) >= MIXED_MIN_BLOCK
    environments = [_environment(f / 1e9) for f in np.linspace(93.86e9, 93.92e9, 6)]
    threaded = engine.stationary_many(environments, workers=2)
    serial = engine.stationary_many(environments, workers=1)
    for a, b in zip(serial, threaded):
        assert a.method == b.method == "mixed"
        np.testing.assert_array_equal(b.populations, a.populations)
        exact = stationary_block_elimination(engine.generator(a.environment))
        assert np.abs(a.populations - exact).sum() < 1e-12
