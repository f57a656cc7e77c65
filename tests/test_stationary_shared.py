"""The shared stationary-state pieces every engine uses: the residual definition
(:func:`stationary_residual`), the direct solve with a normalization row
(:func:`stationary_direct`, :func:`null_vector`) and the GKSL superoperator builder
(:mod:`dnpsim.dynamics.gksl`), against hand-made generators with known stationary
states."""

import numpy as np
import pytest
import scipy.sparse as sp

from dnpsim.dynamics.gksl import gksl_superoperator, stationary_density_matrix, trace_functional, unvec, vec
from dnpsim.errors import ConvergenceError
from dnpsim.solvers.block_tridiagonal import BlockTridiagonal
from dnpsim.solvers.null_vector import bordered_system, null_vector
from dnpsim.solvers.residual import stationary_residual
from dnpsim.solvers.steady_state import generator_residual, stationary_direct

LOWERING = np.array([[0.0, 1.0], [0.0, 0.0]], dtype=complex)  # |0><1|: |1> decays to |0>


def detailed_balance_generator(seed: int, n: int = 7):
    """(Q, p): a dense rate matrix whose stationary state is p exactly, built from a
    symmetric S by Q[m, n] = S[m, n] sqrt(p_m / p_n) (so Q_mn p_n = Q_nm p_m), with
    rates and populations over several decades."""
    rng = np.random.default_rng(seed)
    p = 10.0 ** rng.uniform(-3, 0, n)
    p /= p.sum()
    s = rng.random((n, n)) * 10.0 ** rng.uniform(-2, 2, (n, n))
    s = s + s.T
    q = s * np.sqrt(p[:, None] / p[None, :])
    np.fill_diagonal(q, 0.0)
    np.fill_diagonal(q, -q.sum(axis=0))
    return q, p


# ------------------------------------------------------------------- residual
@pytest.mark.parametrize("seed", range(4))
def test_residual_of_the_exact_stationary_state_is_round_off(seed):
    q, p = detailed_balance_generator(seed)
    assert stationary_residual(q, p) < 1e-14


@pytest.mark.parametrize("seed", range(4))
def test_residual_is_invariant_under_scaling_the_generator_and_the_vector(seed):
    q, p = detailed_balance_generator(seed)
    x = p * (1.0 + 0.1 * np.random.default_rng(seed).standard_normal(p.size))
    reference = stationary_residual(q, x)
    assert reference > 1e-3
    for scaled_q, scaled_x in ((3.7e5 * q, x), (q, 2.5e-7 * x), (1e-3 * q, -4.0 * x)):
        assert stationary_residual(scaled_q, scaled_x) == pytest.approx(reference, rel=1e-12)


def test_residual_of_a_perturbed_state_is_the_flux_left_over():
    """Two states, rate a for 0 -> 1 and b for 1 -> 0: the stationary state is
    (b, a) / (a + b).  For x = (1, 0) the flux left over is ||(-a, a)||_1 = 2a and the
    flux out is a: residual exactly 2."""
    a, b = 3.0, 5.0
    q = np.array([[-a, b], [a, -b]])
    assert stationary_residual(q, np.array([b, a]) / (a + b)) < 1e-15
    assert stationary_residual(q, np.array([1.0, 0.0])) == pytest.approx(2.0, rel=1e-15)
    # 1 % of the probability moved: residual ~ 2 * 0.01 (a + b) / (2 a b / (a + b))
    x = np.array([b, a]) / (a + b) + np.array([0.01, -0.01])
    expected = 2 * 0.01 * (a + b) / (a * x[0] + b * x[1])
    assert stationary_residual(q, x) == pytest.approx(expected, rel=1e-12)


def test_residual_forms_agree_dense_sparse_matrix_free_and_blockwise():
    q, p = detailed_balance_generator(11, n=6)
    x = p + 1e-3 * np.arange(6)
    dense = stationary_residual(q, x)
    assert stationary_residual(sp.csr_matrix(q), x) == pytest.approx(dense, rel=1e-14)
    assert stationary_residual(lambda v: q @ v, x, diagonal=np.diag(q)) == pytest.approx(dense, rel=1e-14)
    # the same matrix cut into blocks of sizes 2, 3, 1 (entries outside the
    # tridiagonal band of blocks dropped, so compare against the banded dense matrix)
    cuts = [0, 2, 5, 6]
    blocks = [q[cuts[k]:cuts[k + 1], cuts[k]:cuts[k + 1]] for k in range(3)]
    lower = [q[cuts[k + 1]:cuts[k + 2], cuts[k]:cuts[k + 1]] for k in range(2)]
    upper = [q[cuts[k]:cuts[k + 1], cuts[k + 1]:cuts[k + 2]] for k in range(2)]
    banded = BlockTridiagonal(blocks, lower, upper)
    assert generator_residual(banded, x) == pytest.approx(stationary_residual(banded.to_dense(), x), rel=1e-14)
    # a batch of two: one residual per generator
    batch = BlockTridiagonal([np.stack([b, 2 * b]) for b in blocks], [np.stack([b, 2 * b]) for b in lower],
                             [np.stack([b, 2 * b]) for b in upper])
    np.testing.assert_allclose(generator_residual(batch, np.stack([x, x])), generator_residual(banded, x), rtol=1e-14)


def test_residual_without_any_flux():
    q = np.zeros((2, 2))
    assert stationary_residual(q, np.array([0.5, 0.5])) == 0.0
    assert stationary_residual(lambda v: np.array([1.0, 0.0]), np.array([0.5, 0.5]), diagonal=np.zeros(2)) == np.inf
    with pytest.raises(ValueError, match="diagonal"):
        stationary_residual(lambda v: v, np.ones(2))


# ------------------------------------------------------------------ direct solve
@pytest.mark.parametrize("seed", range(4))
def test_direct_solve_finds_the_known_stationary_state(seed):
    q, p = detailed_balance_generator(seed)
    for matrix in (q, sp.csr_matrix(q)):
        x, residual = stationary_direct(matrix)
        np.testing.assert_allclose(x, p, rtol=1e-10, atol=0)
        assert residual == pytest.approx(stationary_residual(q, x), rel=1e-12)
        assert residual < 1e-14


def test_direct_solve_with_another_normalization():
    """u^T x = 1 with u = (2, 2, ..., 2): the stationary vector halved."""
    q, p = detailed_balance_generator(5)
    x, _ = stationary_direct(q, np.full(p.size, 2.0))
    np.testing.assert_allclose(x, p / 2, rtol=1e-10, atol=0)


def test_batched_null_vector_equals_single_solves():
    pairs = [detailed_balance_generator(seed, n=5) for seed in range(3)]
    batch = null_vector(np.stack([q for q, _ in pairs]))
    for (q, p), x in zip(pairs, batch):
        np.testing.assert_array_equal(x, null_vector(q))
        np.testing.assert_allclose(x, p, rtol=1e-10, atol=0)


def test_replaced_equation_is_one_the_normalization_weighs():
    """With a trace normalization only population equations are implied by the
    others: a coherence row must not be replaced even where its diagonal is larger."""
    liouvillian = gksl_superoperator(np.diag([0.0, 1e6]).astype(complex), [LOWERING], [1.0])
    bordered, row = bordered_system(liouvillian, trace_functional(2))
    assert int(row) in (0, 3)  # vec index of rho_00 or rho_11
    np.testing.assert_array_equal(bordered[row], trace_functional(2))


def test_direct_solve_refuses_a_reducible_generator_and_a_missed_tolerance():
    q = np.zeros((4, 4))
    q[0, 1], q[1, 0], q[2, 3], q[3, 2] = 1.0, 2.0, 1.0, 3.0  # two closed classes
    q -= np.diag(q.sum(axis=0))
    for matrix in (q, sp.csr_matrix(q)):
        with pytest.raises(ConvergenceError, match="singular"):
            stationary_direct(matrix)
    irreducible, _ = detailed_balance_generator(1)
    with pytest.raises(ConvergenceError, match="did not reach") as error:
        stationary_direct(irreducible, tol=1e-30)
    assert 0 < error.value.residual < 1e-14


# ------------------------------------------------------------------------ GKSL
def test_gksl_builder_matches_hand_written_amplitude_damping():
    """Two levels, H = omega |1><1|, jump sqrt(gamma) |0><1|.  Column stacking orders
    vec(rho) as (rho_00, rho_10, rho_01, rho_11), and Eq. (1) of the cross-effect paper
    gives d rho_00 = gamma rho_11, d rho_11 = -gamma rho_11,
    d rho_10 = (-i omega - gamma / 2) rho_10, d rho_01 = (i omega - gamma / 2) rho_01."""
    omega, gamma = 2.3e6, 4.1e3
    expected = np.array([[0, 0, 0, gamma],
                         [0, -1j * omega - gamma / 2, 0, 0],
                         [0, 0, 1j * omega - gamma / 2, 0],
                         [0, 0, 0, -gamma]])
    h = np.diag([0.0, omega]).astype(complex)
    scale = 1e-15 * omega
    np.testing.assert_allclose(gksl_superoperator(h, [LOWERING], [gamma]), expected, rtol=0, atol=scale)
    np.testing.assert_allclose(gksl_superoperator(h, [np.sqrt(gamma) * LOWERING]), expected, rtol=0, atol=scale)
    sparse = gksl_superoperator(h, [LOWERING], [gamma], sparse=True)
    assert sp.issparse(sparse)
    np.testing.assert_allclose(sparse.toarray(), expected, rtol=0, atol=scale)
    rho, residual = stationary_density_matrix(sparse)
    np.testing.assert_allclose(rho, np.diag([1.0, 0.0]), rtol=0, atol=1e-15)
    assert residual < 1e-15


def test_gksl_builder_uses_column_stacking():
    rng = np.random.default_rng(7)
    a, rho, b = (rng.standard_normal((3, 3)) + 1j * rng.standard_normal((3, 3)) for _ in range(3))
    np.testing.assert_allclose(np.kron(b.T, a) @ vec(rho), vec(a @ rho @ b), rtol=1e-13)
    np.testing.assert_array_equal(unvec(vec(rho)), rho)
    assert trace_functional(3) @ vec(rho) == pytest.approx(np.trace(rho), rel=1e-14)
    # the Hamiltonian part is -i [H, rho]
    h = a + a.conj().T
    liouvillian = gksl_superoperator(h, [])
    np.testing.assert_allclose(unvec(liouvillian @ vec(rho)), -1j * (h @ rho - rho @ h), rtol=1e-13, atol=1e-13)


def test_driven_two_level_steady_state_is_resonance_fluorescence():
    """H = Delta |1><1| + (Omega / 2) sigma_x, decay gamma: rho_11 =
    (Omega^2 / 4) / (Delta^2 + gamma^2 / 4 + Omega^2 / 2)."""
    gamma, rabi, detuning = 2.0, 1.3, 0.7
    h = np.array([[0.0, rabi / 2], [rabi / 2, detuning]], dtype=complex)
    for sparse in (False, True):
        rho, residual = stationary_density_matrix(gksl_superoperator(h, [LOWERING], [gamma], sparse=sparse))
        assert rho[1, 1].real == pytest.approx((rabi**2 / 4) / (detuning**2 + gamma**2 / 4 + rabi**2 / 2), rel=1e-13)
        assert np.trace(rho) == pytest.approx(1.0, rel=1e-14)
        assert residual < 1e-14


# ---------------------------------------------------------------------- Krylov
@pytest.mark.parametrize("method", ["gmres", "bicgstab"])
def test_krylov_reports_the_uniform_residual(method):
    """stationary_krylov stops on ||A x - w|| / ||w|| but reports
    stationary_residual of its answer, in the result and in ConvergenceError."""
    from dnpsim.solvers.krylov import stationary_krylov

    q, p = detailed_balance_generator(3, n=30)
    args = (lambda v: q @ v, p.size, np.sum, np.full(p.size, np.abs(np.diag(q)).mean()))
    result = stationary_krylov(*args, diagonal=np.diag(q), method=method, tol=1e-12)
    np.testing.assert_allclose(result.x.real, p, rtol=1e-8, atol=0)
    assert result.residual == pytest.approx(stationary_residual(q, result.x), rel=1e-6)
    assert result.krylov_residual <= 1e-12
    with pytest.raises(ConvergenceError) as error:
        stationary_krylov(*args, diagonal=np.diag(q), method=method, tol=1e-14, maxiter=1, restart=2)
    assert 1e-6 < error.value.residual < np.inf
