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


# ----------------------------------------------------------------------------------------------
# Every split point: critical_betas.
# ----------------------------------------------------------------------------------------------

_FINE = 2.0 ** np.linspace(1, 6, 1000)  # spec §3 grid, spacing 0.35%


def _observed_splits(pxy, method, betas):
    """(beta_low, beta_high) of every cluster-count change of a fine forward anneal (tol 1e-13),
    increasing in beta: the split lies between the two."""
    result = ib.solve(pxy, betas, method=method, anneal="forward", tol=1e-13, max_iter=10**6)
    found = ib.transitions(result).sort_values("beta_low")
    return found.beta_low.to_numpy(), found.beta_high.to_numpy()


@pytest.mark.parametrize("method", ["ib", "dualib"])
def test_critical_betas_match_forward_annealing_splits(problem, method):
    """Forward (deterministic) annealing, which knows nothing of C_t (it duplicates clusters
    with random 1e-3 perturbations and watches them diverge), splits at every point that
    critical_betas finds from the stability matrices: on §3 (IB ~4.37, 13.4, 28.0, 44.6;
    dualIB ~3.25, 13.7, 27.9, 43.7) and on a random 6 x 3 joint (5 splits). The observed split
    comes late (the JS stopping rule and the finite perturbation delay it, see
    test_critical_beta_matches_forward_annealing_first_split), never early: each point is
    below the first beta with the extra cluster and within 1e-2 of the last beta without it."""
    cases = [(problem.pxy, _FINE), (ib.random_joint(6, 3, seed=1), np.geomspace(2.5, 400, 1500))]
    for pxy, betas in cases:
        found = ib.critical_betas(pxy, method)
        low, high = _observed_splits(pxy, method, betas)
        assert found.size == low.size == pxy.shape[0] - 1
        assert np.all(found <= high)
        np.testing.assert_allclose(found, low, rtol=1e-2)


@pytest.mark.parametrize("method", ["ib", "dualib"])
def test_reverse_annealing_merges_at_or_below_the_split_points(problem, method):
    """Reverse annealing (spec §3 grid, tol 1e-12) loses a cluster at or below each split point
    (never above: the many-cluster branch is stable down to at least the split), within 1e-2
    where the transition is continuous (IB: the 1st, 3rd and 4th) and up to 25% below where it
    is first order (IB 2nd: the small cluster dies at ~12.5; dualIB 2nd-4th: deaths at ~10.85,
    26.5, 42.1): hysteresis, which the stability matrices of the few-cluster branch cannot see."""
    found = ib.critical_betas(problem.pxy, method)
    reverse = ib.transitions(ib.solve(problem.pxy, _FINE, method=method))
    merged = np.sort(reverse.beta_estimate.to_numpy())
    assert merged.size == found.size == 4
    assert np.all(merged <= found * (1 + 1e-3))
    assert np.all(merged >= 0.75 * found)
    continuous = [0, 2, 3] if method == "ib" else [0]
    np.testing.assert_allclose(merged[continuous], found[continuous], rtol=1e-2)


def test_critical_betas_are_increasing_start_at_critical_beta_and_count_distinct_rows(problem):
    """The first entry is critical_beta exactly (also for the exponential-family closed form);
    the points increase; a joint whose p(y|x) has r distinct rows splits r - 1 times (x with
    equal rows never separate); independent X, Y give no split at all."""
    pxy = ib.random_joint(5, 3, seed=2)
    doubled = np.concatenate([pxy, pxy[:2]]) / (1.0 + pxy[:2].sum())  # 7 rows, 5 distinct
    for joint, method in ((pxy, "ib"), (doubled, "ib"), (doubled, "dualib")):
        found = ib.critical_betas(joint, method)
        assert found[0] == ib.critical_beta(joint, method)
        assert found.size == 4 and np.all(np.diff(found) > 0)
    assert ib.critical_betas(problem, "dualib")[0] == ib.critical_beta(problem, "dualib")
    independent = np.outer([0.2, 0.3, 0.5], [0.6, 0.4])
    assert ib.critical_betas(independent, "ib").size == 0
