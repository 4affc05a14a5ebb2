"""Critical points: stability matrices vs closed forms vs where annealing sees the first split."""

from __future__ import annotations

import numpy as np
import pytest

from ntk_info import ib


@pytest.fixture(scope="module")
def problem():
    return ib.binary_exponential_problem()


def test_ib_critical_beta_is_inverse_second_eigenvalue_of_c(problem):
    """IB: beta_c = 1/lambda_2(C), C(x,x') = sum_y p(y|x) p(x'|y), built entry by entry and
    diagonalised with the non-symmetric eigensolver (independent of the symmetric form used)."""
    for pxy in (problem.pxy, ib.random_joint(7, 4, seed=3)):
        px, py = pxy.sum(1), pxy.sum(0)
        n_x, n_y = pxy.shape
        c = np.array(
            [
                [sum(pxy[x, y] / px[x] * pxy[z, y] / py[y] for y in range(n_y)) for z in range(n_x)]
                for x in range(n_x)
            ]
        )
        eigenvalues = np.sort(np.linalg.eigvals(c).real)[::-1]
        np.testing.assert_allclose(eigenvalues[0], 1.0, atol=1e-12)
        np.testing.assert_allclose(ib.critical_beta(pxy, "ib"), 1 / eigenvalues[1], rtol=1e-10)


def test_dual_critical_beta_binary_closed_form(problem):
    """dualIB on §3: beta_c = 1/(sech^2(A_bar) Var_p(A)), from the generic stability matrix and
    from the exponential-family closed form (spec §3); both exact, so rtol 1e-10."""
    x = np.linspace(-1, 0.6, 5)
    expected = 1.0 / (np.cosh(x.mean()) ** -2 * x.var())
    np.testing.assert_allclose(ib.critical_beta(problem.pxy, "dualib"), expected, rtol=1e-10)
    np.testing.assert_allclose(ib.critical_beta(problem, "dualib"), expected, rtol=1e-10)
    assert ib.critical_betas(problem.pxy, "dualib") == ib.critical_beta(problem.pxy, "dualib")


def test_dual_stability_matrix_brute_force():
    """C^dual(x,x') = p(x'|t) Cov_q[l_x, l_x'] written out with loops, then its largest
    eigenvalue, equals `instability` (which uses the projected symmetric form)."""
    pxy = ib.random_joint(6, 3, seed=7)
    px = pxy.sum(1)
    py_x = pxy / px[:, None]
    log_p = np.log(py_x)
    q = np.exp(px @ log_p)
    q /= q.sum()
    l_tilde = log_p - px @ log_p
    n_x = len(px)
    c = np.zeros((n_x, n_x))
    for x in range(n_x):
        for z in range(n_x):
            mean_x, mean_z = q @ l_tilde[x], q @ l_tilde[z]
            c[x, z] = px[z] * (q @ (l_tilde[x] * l_tilde[z]) - mean_x * mean_z)
    np.testing.assert_allclose(ib.stability_matrix(px, py_x, "dualib"), c, atol=1e-14)
    top = np.max(np.linalg.eigvals(c).real)
    np.testing.assert_allclose(ib.instability(px, py_x, "dualib"), top, rtol=1e-10)


@pytest.mark.parametrize("seed", range(4))
def test_generic_dual_stability_equals_closed_form_on_random_families(seed):
    """Random exponential families (d = 2, |Y| = 3, |X| = 8): the |X| x |X| log-likelihood
    covariance matrix and the d x d closed form Cov_q0[lambda] Cov_p[A] give the same beta_c."""
    family = ib.random_exponential_family(8, 3, 2, seed=seed)
    np.testing.assert_allclose(
        ib.critical_beta(family.pxy, "dualib"),
        ib.critical_beta_exponential_family(family),
        rtol=1e-10,
    )


def _first_split(result):
    """Smallest beta at which the annealing path has more than one distinct cluster."""
    return result.beta[result.n_clusters > 1].min()


@pytest.mark.parametrize("method", ["ib", "dualib"])
def test_critical_beta_matches_reverse_annealing_on_binary_problem(problem, method):
    """Reverse annealing on the fine §3 grid (1000 betas, spacing 0.35%, tol 1e-12): the last
    merge, and the zero of the fitted order parameter, are within 1e-2 of the stability beta_c.

    The dualIB's two-cluster branch survives ~0.8% below beta_c (its smaller cluster dies rather
    than merging; the trivial solution is already stable), hence 1e-2 and not the grid spacing.
    """
    betas = 2.0 ** np.linspace(6, 1, 1000)
    result = ib.solve(problem.pxy, betas, method=method)
    beta_c = ib.critical_beta(problem.pxy, method)
    np.testing.assert_allclose(_first_split(result), beta_c, rtol=1e-2)
    found = ib.transitions(result)
    assert len(found) == 4
    np.testing.assert_allclose(found.beta_estimate.iloc[-1], beta_c, rtol=1e-2)


def test_dual_transitions_occur_at_lower_beta_and_third_is_a_death(problem):
    """Spec §3: the dualIB transitions come at lower beta than the IB's, and at the third dual
    transition the middle cluster dies (p(t) -> 0) instead of merging."""
    betas = 2.0 ** np.linspace(6, 1, 1000)
    found = {m: ib.transitions(ib.solve(problem.pxy, betas, method=m)) for m in ("ib", "dualib")}
    assert np.all(found["dualib"].beta_estimate.values < found["ib"].beta_estimate.values)
    assert found["dualib"].kind.iloc[2] == "death"
    assert list(found["ib"].n_clusters_high) == [5, 4, 3, 2]


@pytest.mark.parametrize("method", ["ib", "dualib"])
def test_critical_beta_matches_forward_annealing_first_split(problem, method):
    """Forward annealing (one cluster, duplication, tol 1e-14) on a 0.1%-spaced grid around
    beta_c splits within 1e-2 of the stability beta_c, on §3 and on random exponential families.

    The JS stopping rule delays the split by about sqrt(8 tol)/eps ~ 0.3% (eps = 1e-3, the
    duplication noise), hence tol 1e-14 and the 1e-2 tolerance.
    """
    instances = [problem.pxy] + [ib.random_exponential_family(8, 3, 2, seed=s).pxy for s in (0, 1)]
    for pxy in instances:
        beta_c = ib.critical_beta(pxy, method)
        betas = beta_c * np.geomspace(0.95, 1.05, 100)
        result = ib.solve(
            pxy, betas, method=method, anneal="forward", tol=1e-14, max_iter=1_000_000
        )
        assert result.n_clusters[0] == 1
        np.testing.assert_allclose(_first_split(result), beta_c, rtol=1e-2)


def test_cluster_stability_below_one_on_stable_branches(problem):
    """beta lambda_max(C_t) <= 1 for the single cluster below beta_c, and > 1 for the trivial
    solution just above it (the stability criterion that defines beta_c)."""
    beta_c = ib.critical_beta(problem.pxy, "ib")
    result = ib.solve(problem.pxy, [0.9 * beta_c, 0.5 * beta_c], method="ib")
    values = ib.cluster_stability(result)
    live = np.isfinite(values)
    assert np.all(values[live] <= 1.0 + 1e-9)
    px = problem.px
    above = 1.01 * beta_c * ib.instability(px, problem.py_x, "ib")
    assert above > 1.0
