"""Tests of ntk_info.mixture against independent computations.

Independent references used here:
  - a NumPy / SciPy Monte Carlo of I(X;Z) written from the definition (`_reference_mi`),
  - scipy.integrate.quad of -int p log p for a 1-D mixture,
  - an O(N^2) double loop of the Kolchinsky-Tracey formula with divergences from matrix
    formulas (or from a brute-force grid integral of scipy.stats.multivariate_normal densities),
  - closed forms in the limits (identical components, separated components, zero variance).
Statistical comparisons use fixed seeds and 4-5 combined standard errors, so they are
deterministic and a correct implementation fails them with probability < 1e-4 per seed.
"""

from __future__ import annotations

import struct

import jax
import numpy as np
import pytest
from scipy import integrate, stats
from scipy.special import logsumexp

from ntk_info import _mixture_kernels as kernels
from ntk_info import mixture
from ntk_info._jax import float64

# ----------------------------------------------------------------------------------------------
# Independent references.
# ----------------------------------------------------------------------------------------------


def _random_mixture(rng, n, k, spread=1.0):
    means = rng.normal(size=(n, k)) * spread
    variances = rng.uniform(0.3, 1.5, size=n)
    return means, variances


def _random_covariances(rng, n, k):
    a = rng.normal(size=(n, k, k))
    return a @ np.swapaxes(a, -1, -2) / k + 0.2 * np.eye(k)


def _log_density_matrix(z, means, variances):
    """(M, N) log N(z_m; mu_j, Sigma_j) with scipy.stats (full) or the textbook formula."""
    if variances.ndim == 1:
        k = means.shape[1]
        sq = ((z[:, None, :] - means[None, :, :]) ** 2).sum(-1)
        return -0.5 * k * np.log(2 * np.pi * variances)[None] - 0.5 * sq / variances[None]
    return np.stack(
        [stats.multivariate_normal(m, c).logpdf(z) for m, c in zip(means, variances, strict=True)],
        axis=1,
    ).reshape(len(z), len(means))


def _reference_mi(means, variances, rng, n_samples):
    """Monte Carlo of I(X;Z) = E[log p(z|x) - log p(z)], x uniform, z ~ p(.|x); (value, se)."""
    n, k = means.shape
    comp = rng.integers(n, size=n_samples)
    eps = rng.normal(size=(n_samples, k))
    if variances.ndim == 1:
        z = means[comp] + np.sqrt(variances[comp])[:, None] * eps
    else:
        chol = np.linalg.cholesky(variances)
        z = means[comp] + np.einsum("mab,mb->ma", chol[comp], eps)
    logp = _log_density_matrix(z, means, variances)
    pmi = logp[np.arange(n_samples), comp] - (logsumexp(logp, axis=1) - np.log(n))
    return pmi.mean(), pmi.std(ddof=1) / np.sqrt(n_samples)


def _gaussian_kl(m0, c0, m1, c1):
    """KL(N(m0, c0) || N(m1, c1)) from the matrix formula."""
    k = len(m0)
    p1 = np.linalg.inv(c1)
    d = m1 - m0
    return 0.5 * (
        np.trace(p1 @ c0) + d @ p1 @ d - k + np.linalg.slogdet(c1)[1] - np.linalg.slogdet(c0)[1]
    )


def _gaussian_bhattacharyya(m0, c0, m1, c1):
    c = 0.5 * (c0 + c1)
    d = m1 - m0
    return 0.125 * d @ np.linalg.solve(c, d) + 0.5 * (
        np.linalg.slogdet(c)[1] - 0.5 * np.linalg.slogdet(c0)[1] - 0.5 * np.linalg.slogdet(c1)[1]
    )


def _kolchinsky_tracey_mi(divergence):
    """I = H_D - H(Z|X) = -sum_i c_i ln sum_j c_j exp(-D_ij), written as an explicit double loop."""
    n = divergence.shape[0]
    total = 0.0
    for i in range(n):
        inner = 0.0
        for j in range(n):
            inner += np.exp(-divergence[i, j]) / n
        total -= np.log(inner) / n
    return total


def _as_full(variances, k):
    return variances[:, None, None] * np.eye(k)[None]


# ----------------------------------------------------------------------------------------------
# Numerical helpers.
# ----------------------------------------------------------------------------------------------


def test_vectorised_exponential_matches_numpy_exp():
    """exp_nonpositive vs np.exp on [-750, 5]: relative error < 1e-13 (degree-11 Taylor on
    |r| <= ln2/2 has remainder < 1e-14); exactly 0 below -708 and at -inf."""
    x = np.concatenate([np.linspace(-708, 5, 200_001), [0.0, -1e-300, 1e-12]])
    with float64():
        got = np.asarray(kernels.exp_nonpositive(x))
        below = np.asarray(kernels.exp_nonpositive(np.array([-708.5, -1e4, -np.inf])))
    np.testing.assert_allclose(got, np.exp(x), rtol=1e-13, atol=0)
    np.testing.assert_array_equal(below, 0.0)


def test_one_pass_logsumexp_falls_back_to_exact_when_terms_underflow():
    """masked_logsumexp vs scipy.special.logsumexp, with a shift 1000 above the scores (forces
    the exact two-pass branch) and a tight shift (one pass); agreement to 1e-12."""
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(5, 40)) * 30
    mask = np.zeros_like(scores, dtype=bool)
    mask[np.arange(5), np.arange(5)] = True
    expected = logsumexp(np.where(mask, -np.inf, scores), axis=1)
    with float64():
        for shift in (scores.max(), scores.max() + 1000.0):
            got = np.asarray(kernels.masked_logsumexp(scores, mask, shift))
            np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_full_covariance_scores_match_scipy_logpdf():
    """The feature-map log-densities phi(z).w_j + a_j of full covariances vs
    scipy.stats.multivariate_normal.logpdf; only rounding separates them (rtol 1e-9)."""
    rng = np.random.default_rng(1)
    means = rng.normal(size=(6, 3))
    cov = _random_covariances(rng, 6, 3)
    z = rng.normal(size=(9, 3)) * 2
    with float64():
        mu, lam, vec = kernels.prepare_full(means, cov)
        w, a, _ = kernels._full_weights(mu, lam, vec)
        centre = means.mean(axis=0)
        got = np.asarray(kernels._full_features(z - centre) @ w + a)
    np.testing.assert_allclose(got, _log_density_matrix(z, means, cov), rtol=1e-9)


# ----------------------------------------------------------------------------------------------
# Bound ordering on random mixtures.
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "k", "spread"), [(24, 1, 2.0), (40, 3, 1.0), (30, 10, 0.5)])
def test_bounds_sandwich_reference_monte_carlo_on_random_mixtures(n, k, spread):
    """Bhattacharyya <= I <= KL (deterministic bounds) and E[InfoNCE] <= I <= E[LOO] (sampled),
    all <= log N, with I from an independent NumPy Monte Carlo (`_reference_mi`, 40k samples);
    mc_estimate must agree with it. Tolerance: 4.5 combined standard errors."""
    rng = np.random.default_rng(n + k)
    means, variances = _random_mixture(rng, n, k, spread)
    truth, truth_se = _reference_mi(means, variances, rng, 40_000)
    log_n = np.log(n)
    assert 0.2 < truth < log_n - 0.2  # the mixture is in the informative middle range

    lower, upper = mixture.infonce_and_loo(means, variances, seed=3, n_draws=64)
    kl = mixture.pairwise_kl_upper(means, variances).value
    bd = mixture.pairwise_bhattacharyya_lower(means, variances).value
    mc = mixture.mc_estimate(means, variances, seed=4, n_samples=64 * n)  # same compiled kernel

    def tol(se):
        return 4.5 * np.hypot(se, truth_se)

    assert lower.value <= truth + tol(lower.se)
    assert upper.value >= truth - tol(upper.se)
    assert bd <= truth + tol(0.0)
    assert kl >= truth - tol(0.0)
    assert abs(mc.value - truth) <= tol(mc.se)
    assert lower.value <= log_n + 1e-12 and upper.value <= log_n + 1e-12
    assert bd <= kl <= log_n + 1e-12 and bd >= 0.0
    assert mc.value <= log_n + 4.5 * mc.se


def test_full_covariance_bounds_sandwich_reference_monte_carlo():
    """As above with full covariances: reference MI from scipy.stats.multivariate_normal
    log-densities (20k samples); tolerance 4.5 combined standard errors."""
    rng = np.random.default_rng(7)
    n, k = 20, 3
    means = rng.normal(size=(n, k)) * 1.2
    cov = _random_covariances(rng, n, k)
    truth, truth_se = _reference_mi(means, cov, rng, 20_000)
    assert 0.2 < truth < np.log(n) - 0.2

    lower, upper = mixture.infonce_and_loo(means, cov, seed=5, n_draws=64)
    kl = mixture.pairwise_kl_upper(means, cov).value
    bd = mixture.pairwise_bhattacharyya_lower(means, cov).value
    mc = mixture.mc_estimate(means, cov, seed=6, n_samples=64 * n)

    def tol(se):
        return 4.5 * np.hypot(se, truth_se)

    assert lower.value <= truth + tol(lower.se)
    assert upper.value >= truth - tol(upper.se)
    assert bd <= truth + tol(0.0) and kl >= truth - tol(0.0)
    assert abs(mc.value - truth) <= tol(mc.se)


def test_full_covariance_option_with_isotropic_matrices_matches_shared_variance_model():
    """Passing s_i I_k as full covariances gives the same deterministic bounds (rtol 1e-9, only
    rounding differs) and sampled values within 4.5 combined SE (draws differ)."""
    rng = np.random.default_rng(8)
    means, variances = _random_mixture(rng, 15, 4)
    full = _as_full(variances, 4)
    for fn in (mixture.pairwise_kl_upper, mixture.pairwise_bhattacharyya_lower):
        np.testing.assert_allclose(fn(means, full).value, fn(means, variances).value, rtol=1e-9)
    a = mixture.infonce_and_loo(means, variances, seed=0, n_draws=32)
    b = mixture.infonce_and_loo(means, full, seed=1, n_draws=32)
    for x, y in zip(a, b, strict=True):
        assert abs(x.value - y.value) <= 4.5 * np.hypot(x.se, y.se)


# ----------------------------------------------------------------------------------------------
# One dimension: brute-force quadrature.
# ----------------------------------------------------------------------------------------------


def test_one_dimensional_mixture_matches_quadrature():
    """H(Z) = -int p log p by scipy.integrate.quad (abs. error ~1e-10) for a 1-D mixture of 5
    unequal Gaussians; I = H(Z) - H(Z|X). mc_estimate (both forms) and entropy() agree within
    4.5 SE; Bhattacharyya <= I <= KL exactly; InfoNCE/LOO bracket I within 4.5 SE."""
    means = np.array([[-3.0], [-1.0], [0.2], [1.0], [4.0]])
    variances = np.array([0.5, 0.3, 1.2, 0.2, 2.0])
    sd = np.sqrt(variances)

    def density(z):
        return np.mean(stats.norm.pdf(z, means[:, 0], sd))

    def integrand(z):
        p = density(z)
        return -p * np.log(p) if p > 0 else 0.0

    h_z, _ = integrate.quad(integrand, -25, 30, points=means[:, 0], limit=400, epsabs=1e-12)
    h_cond = np.mean(0.5 * np.log(2 * np.pi * np.e * variances))
    truth = h_z - h_cond
    np.testing.assert_allclose(mixture.conditional_entropy(means, variances), h_cond, rtol=1e-14)

    for cv in (False, True):
        mc = mixture.mc_estimate(means, variances, seed=11, n_samples=200_000, control_variate=cv)
        assert abs(mc.value - truth) <= 4.5 * mc.se
    ent = mixture.entropy(means, variances, method="mc", seed=12, n_samples=200_000)
    assert abs(ent.value - h_z) <= 4.5 * ent.se

    assert mixture.pairwise_bhattacharyya_lower(means, variances).value <= truth
    assert mixture.pairwise_kl_upper(means, variances).value >= truth
    lower, upper = mixture.infonce_and_loo(means, variances, seed=13, n_draws=2000)
    assert lower.value <= truth + 4.5 * lower.se
    assert upper.value >= truth - 4.5 * upper.se
    assert upper.value - truth > 4.5 * upper.se  # LOO is strictly loose with N = 5


# ----------------------------------------------------------------------------------------------
# Pairwise bounds against a hand-written O(N^2) implementation.
# ----------------------------------------------------------------------------------------------


def test_pairwise_bounds_match_numpy_double_loop():
    """Pairwise KL / Bhattacharyya bounds vs an explicit double loop over matrix-formula
    divergences (np.linalg on s_i I_k, and on random full covariances); rtol 1e-9 (rounding of
    the expanded squared distances, ~1e-12 here)."""
    rng = np.random.default_rng(2)
    n, k = 7, 3
    means, variances = _random_mixture(rng, n, k, 0.8)
    full = _random_covariances(rng, n, k)
    cases = [(_as_full(variances, k), (variances, _as_full(variances, k))), (full, (full,))]
    for cov, arguments in cases:
        kl = np.array([[_gaussian_kl(means[i], cov[i], means[j], cov[j]) for j in range(n)]
                       for i in range(n)])  # fmt: skip
        bd = np.array([[_gaussian_bhattacharyya(means[i], cov[i], means[j], cov[j])
                        for j in range(n)] for i in range(n)])  # fmt: skip
        for arg in arguments:
            np.testing.assert_allclose(
                mixture.pairwise_kl_upper(means, arg).value, _kolchinsky_tracey_mi(kl), rtol=1e-9
            )
            np.testing.assert_allclose(
                mixture.pairwise_bhattacharyya_lower(means, arg).value,
                _kolchinsky_tracey_mi(bd),
                rtol=1e-9,
            )


def test_full_covariance_pairwise_bounds_match_grid_integrals_of_scipy_densities():
    """Full-covariance pairwise bounds in 2-D vs divergences integrated on an 801^2 grid over
    [-20, 20]^2 of scipy.stats.multivariate_normal densities: KL = int p_i log(p_i/p_j),
    BD = -log int sqrt(p_i p_j). The trapezoid rule on Gaussians is spectrally accurate and the
    box holds > 8 standard deviations; rtol 1e-6."""
    rng = np.random.default_rng(3)
    n = 3
    means = rng.normal(size=(n, 2)) * 0.7
    cov = _random_covariances(rng, n, 2)
    grid = np.linspace(-20, 20, 801)
    xx, yy = np.meshgrid(grid, grid, indexing="ij")
    points = np.stack([xx.ravel(), yy.ravel()], axis=1)
    cell = (grid[1] - grid[0]) ** 2
    logp = [stats.multivariate_normal(m, c).logpdf(points) for m, c in zip(means, cov, strict=True)]
    kl = np.array([[np.sum(np.exp(li) * (li - lj)) * cell for lj in logp] for li in logp])
    bd = np.array([[-np.log(np.sum(np.exp(0.5 * (li + lj))) * cell) for lj in logp] for li in logp])
    np.testing.assert_allclose(
        mixture.pairwise_kl_upper(means, cov).value, _kolchinsky_tracey_mi(kl), rtol=1e-6
    )
    np.testing.assert_allclose(
        mixture.pairwise_bhattacharyya_lower(means, cov).value,
        _kolchinsky_tracey_mi(bd),
        rtol=1e-6,
    )


# ----------------------------------------------------------------------------------------------
# Closed-form limits.
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("full", [False, True])
def test_identical_components_give_zero_information(full):
    """N identical components: I(X;Z) = 0. Scores S_ij are equal for all j, so InfoNCE, LOO and
    the pairwise bounds are 0 up to rounding (1e-9); the entropy-form MC is 0 within 4.5 SE."""
    n, k = 12, 3
    means = np.tile(np.array([[0.5, -1.0, 2.0]]), (n, 1))
    variances = np.full(n, 0.7)
    arg = _as_full(variances, k) if full else variances
    for method in ("infonce", "loo", "pairwise_kl", "pairwise_bhattacharyya"):
        assert abs(mixture.mutual_information(means, arg, method=method).value) < 1e-9
    mc = mixture.mc_estimate(means, arg, seed=1, n_samples=8 * n)
    assert abs(mc.value) <= 4.5 * mc.se
    cv = mixture.mc_estimate(means, arg, seed=1, n_samples=8 * n, control_variate=True)
    assert abs(cv.value) < 1e-9


@pytest.mark.parametrize("full", [False, True])
def test_well_separated_components_give_log_n(full):
    """Means 1e3 standard deviations apart: p(x|z) is a point mass, I(X;Z) = log N exactly;
    bounds equal log N to 1e-9 (off-diagonal terms are e^-(1e5)), LOO is capped with se = 0."""
    rng = np.random.default_rng(4)
    n, k = 12, 3
    means = rng.permutation(n)[:, None] * np.array([[1e3, -2e3, 5e2]])
    variances = rng.uniform(0.5, 1.0, n)
    arg = _as_full(variances, k) if full else variances
    for method in ("infonce", "loo", "pairwise_kl", "pairwise_bhattacharyya"):
        result = mixture.mutual_information(means, arg, method=method)
        np.testing.assert_allclose(result.value, np.log(n), atol=1e-9)
    assert mixture.loo_upper(means, arg).se == 0.0
    mc = mixture.mc_estimate(means, arg, seed=2, n_samples=8 * n)
    assert abs(mc.value - np.log(n)) <= 4.5 * mc.se


@pytest.mark.parametrize("full", [False, True])
def test_zero_variances_give_entropy_of_the_partition_of_means(full):
    """Deterministic outputs (s = 0): I(X;Z) = H(partition of identical means) = log N -
    (1/N) sum_i log m_i, m_i the multiplicity of mu_i. InfoNCE and pairwise bounds give it to
    1e-6 (floor 1e-10 * scale, expansion error ~1e-5 per score averaged out); LOO is capped at
    log N; MC is finite and within 4.5 SE; nothing is NaN."""
    rng = np.random.default_rng(5)
    k = 3
    distinct = rng.normal(size=(6, k))
    counts = np.array([1, 1, 2, 3, 1, 4])
    means = np.repeat(distinct, counts, axis=0)
    n = len(means)
    exact = np.log(n) - np.sum(counts * np.log(counts)) / n
    variances = np.zeros(n)
    arg = np.zeros((n, k, k)) if full else variances
    for method in ("infonce", "pairwise_kl", "pairwise_bhattacharyya"):
        result = mixture.mutual_information(means, arg, method=method, **_seed(method))
        np.testing.assert_allclose(result.value, exact, atol=1e-6)
    upper = mixture.loo_upper(means, arg)
    assert upper.value == np.log(n) and upper.se == 0.0
    mc = mixture.mc_estimate(means, arg, seed=3, n_samples=8 * n)
    assert np.isfinite(mc.value) and abs(mc.value - exact) <= 4.5 * mc.se


def test_mixed_zero_and_positive_variances_stay_finite_and_ordered():
    """Half the components deterministic, half noisy: every estimate is finite and the bounds
    keep their order against the control-variate MC (which is exact for the point masses)."""
    rng = np.random.default_rng(6)
    n, k = 12, 3
    means = rng.normal(size=(n, k)) * 1.5
    variances = np.where(np.arange(n) % 2 == 0, 0.0, rng.uniform(0.2, 1.0, n))
    lower, upper = mixture.infonce_and_loo(means, variances, seed=0, n_draws=64)
    bd = mixture.pairwise_bhattacharyya_lower(means, variances).value
    kl = mixture.pairwise_kl_upper(means, variances).value
    mc = mixture.mc_estimate(means, variances, seed=1, n_samples=64 * n, control_variate=True)
    values = [lower.value, lower.se, upper.value, upper.se, bd, kl, mc.value, mc.se]
    assert np.all(np.isfinite(values))
    assert bd <= mc.value + 4.5 * mc.se and kl >= mc.value - 4.5 * mc.se
    assert upper.value >= mc.value - 4.5 * np.hypot(mc.se, upper.se)


def test_near_deterministic_outputs_cap_the_upper_bound_at_log_n():
    """s = 1e-12 with distinct means: I_U diverges (S_ii - logsumexp_{j!=i} ~ 1e11), the
    reported upper bound is log N with se = 0 and InfoNCE is log N to 1e-9."""
    rng = np.random.default_rng(7)
    means = rng.normal(size=(12, 3))
    lower, upper = mixture.infonce_and_loo(means, np.full(12, 1e-12))
    assert upper.value == np.log(12) and upper.se == 0.0
    np.testing.assert_allclose(lower.value, np.log(12), atol=1e-9)


def _seed(method):
    return {"seed": 0} if method in ("infonce", "loo", "mc") else {}


# ----------------------------------------------------------------------------------------------
# Chunking, the time axis, determinism, return types.
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["fused", "matmul"])
@pytest.mark.parametrize("full", [False, True])
def test_chunked_equals_unchunked(full, path):
    """chunk_size = 7 (with padding), the default, and one chunk for everything give the same
    numbers from the same seed, on both code paths: the draws are made before chunking, so only
    summation order may differ (rtol 1e-12)."""
    rng = np.random.default_rng(8)
    n, k = 12, 3
    means, variances = _random_mixture(rng, n, k)
    arg = _random_covariances(rng, n, k) if full else variances
    results = []
    for chunk in (7, None, 10_000):
        options = {"chunk_size": chunk, "path": path}
        nce, loo = mixture.infonce_and_loo(means, arg, seed=1, n_draws=4, **options)
        mc = mixture.mc_estimate(means, arg, seed=2, n_samples=4 * n, **options)
        kl = mixture.pairwise_kl_upper(means, arg, **options)
        bd = mixture.pairwise_bhattacharyya_lower(means, arg, **options)
        results.append([nce.value, nce.se, loo.value, mc.value, mc.se, kl.value, bd.value])
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12)
    np.testing.assert_allclose(results[0], results[2], rtol=1e-12)


@pytest.mark.parametrize("full", [False, True])
def test_time_axis_matches_per_time_loop(full):
    """(T, N, k) inputs give the per-slice results of a Python loop in which slice t uses
    jax.random.split(key, T)[t] (the documented key rule); identical up to rounding (1e-12)."""
    rng = np.random.default_rng(9)
    t, n, k = 3, 12, 3
    means = rng.normal(size=(t, n, k))
    variances = rng.uniform(0.2, 1.0, size=(t, n))
    if full:
        variances = np.stack([_random_covariances(rng, n, k) for _ in range(t)])
    key = jax.random.PRNGKey(42)
    nce, loo = mixture.infonce_and_loo(means, variances, key=key, n_draws=3)
    kl = mixture.pairwise_kl_upper(means, variances)
    bd = mixture.pairwise_bhattacharyya_lower(means, variances)
    assert nce.value.shape == nce.se.shape == kl.value.shape == (t,)
    keys = jax.random.split(key, t)
    for i in range(t):
        nce_i, loo_i = mixture.infonce_and_loo(means[i], variances[i], key=keys[i], n_draws=3)
        np.testing.assert_allclose(
            [nce.value[i], nce.se[i], loo.value[i], loo.se[i]],
            [nce_i.value, nce_i.se, loo_i.value, loo_i.se],
            rtol=1e-12,
        )
        np.testing.assert_allclose(
            kl.value[i], mixture.pairwise_kl_upper(means[i], variances[i]).value, rtol=1e-12
        )
        np.testing.assert_allclose(
            bd.value[i],
            mixture.pairwise_bhattacharyya_lower(means[i], variances[i]).value,
            rtol=1e-12,
        )


# ----------------------------------------------------------------------------------------------
# Code paths (CPU fused loop vs accelerator GEMM), per-time keys, one statistic per call.
# ----------------------------------------------------------------------------------------------


def _every_estimate(means, variances, path, **sampled):
    """Every estimator's (value, se) on one path, flattened (pairwise bounds have se = 0)."""
    nce, loo = mixture.infonce_and_loo(means, variances, n_draws=4, path=path, **sampled)
    mc = mixture.mc_estimate(means, variances, n_samples=4 * means.shape[-2], path=path, **sampled)
    kl = mixture.pairwise_kl_upper(means, variances, path=path)
    bd = mixture.pairwise_bhattacharyya_lower(means, variances, path=path)
    return np.stack([np.asarray(e, dtype=np.float64) for r in (nce, loo, mc, kl, bd) for e in r])


@pytest.mark.parametrize("time_axis", [False, True])
@pytest.mark.parametrize("full", [False, True])
def test_matmul_path_matches_fused_path(full, time_axis):
    """path='matmul' (GEMM + XLA exp, one large chunk) forced on CPU vs path='fused' (unrolled
    multiply-adds + the Taylor exponential, small chunks): same draws, so only rounding of the
    score products and of two exponentials accurate to 1e-14 separates them (atol 1e-10).
    Means spread 3x the noise so that the scores span ~50 nats (the exponentials matter)."""
    rng = np.random.default_rng(21)
    t, n, k = 3, 40, 3
    means = rng.normal(size=(t, n, k)) * 3.0
    variances = rng.uniform(0.2, 1.0, size=(t, n))
    if full:
        variances = np.stack([_random_covariances(rng, n, k) for _ in range(t)])
    if not time_axis:
        means, variances = means[0], variances[0]
    fused = _every_estimate(means, variances, "fused", seed=3, chunk_size=16)
    matmul = _every_estimate(means, variances, "matmul", seed=3)
    assert np.all(np.isfinite(fused))
    np.testing.assert_allclose(matmul, fused, rtol=0, atol=1e-10)


def test_auto_path_is_fused_on_cpu_and_matmul_on_accelerators(monkeypatch):
    """'auto' resolves from the device JAX computes on: 'fused' on CPU (same numbers as
    path='fused', bit for bit), 'matmul' when the default backend is a GPU or a TPU, and
    'fused' again inside jax.default_device(cpu) on such a machine."""
    rng = np.random.default_rng(22)
    means, variances = _random_mixture(rng, 12, 3)
    if jax.default_backend() == "cpu":
        assert mixture.resolve_path("auto") == "fused"
        auto = mixture.infonce_lower(means, variances, seed=1)
        assert auto == mixture.infonce_lower(means, variances, seed=1, path="fused")
    for backend in ("gpu", "tpu"):
        monkeypatch.setattr(jax, "default_backend", lambda backend=backend: backend)
        assert mixture.resolve_path("auto") == "matmul"
        with jax.default_device(jax.devices("cpu")[0]):
            assert mixture.resolve_path("auto") == "fused"
    assert mixture.resolve_path("matmul") == "matmul"


def _reference_time_key(seed, t):
    """fold_in(fold_in(PRNGKey(seed), hi), lo) with (hi, lo) from struct's big-endian float64."""
    high, low = struct.unpack(">II", struct.pack(">d", float(t)))
    key = jax.random.PRNGKey(seed)
    return np.asarray(jax.random.fold_in(jax.random.fold_in(key, high), low))


def test_time_keys_fold_in_the_bit_pattern_of_each_time():
    """time_keys(seed, times)[i] equals fold_in of the two 32-bit halves of times[i]'s IEEE-754
    pattern taken with `struct` (independent of NumPy's view); inf works, -0.0 is 0.0, a typed
    key gives the same key data, and distinct times give distinct keys."""
    times = np.array([0.0, 1.0, 1e-3, 12.5, np.inf, 0.1 + 0.2])
    keys = np.asarray(mixture.time_keys(7, times))
    assert keys.shape == (times.size, 2)
    for key, t in zip(keys, times, strict=True):
        np.testing.assert_array_equal(key, _reference_time_key(7, t))
    np.testing.assert_array_equal(np.asarray(mixture.time_keys(7, -0.0)), keys[:1])
    typed = mixture.time_keys(jax.random.key(7), times)
    np.testing.assert_array_equal(np.asarray(jax.random.key_data(typed)), keys)
    assert len({tuple(k) for k in keys}) == times.size


@pytest.mark.parametrize("full", [False, True])
def test_same_time_and_seed_give_identical_numbers_in_any_grid(full):
    """With `times`, a slice's draws depend on (seed, t) alone: a shuffled sub-grid with extra
    times, and the slice alone without a time axis, give bit-identical values and standard
    errors for every sampled estimator; another seed changes every value."""
    rng = np.random.default_rng(23)
    grid = np.array([0.0, 0.5, 2.0, np.inf])
    n, k = 10, 2
    means = rng.normal(size=(grid.size, n, k))
    variances = rng.uniform(0.3, 1.0, size=(grid.size, n))
    if full:
        variances = np.stack([_random_covariances(rng, n, k) for _ in grid])
    other = np.array([3, 0, 2])  # shuffled, plus two times (7.0, 1e-4) not in the first grid
    extra_means = rng.normal(size=(2, n, k))
    extra_vars = variances[:2]
    means_b = np.concatenate([means[other[:1]], extra_means[:1], means[other[1:]], extra_means[1:]])
    vars_b = np.concatenate(
        [variances[other[:1]], extra_vars[:1], variances[other[1:]], extra_vars[1:]]
    )
    times_b = np.array([grid[3], 7.0, grid[0], grid[2], 1e-4])
    where_b = {3: 0, 0: 2, 2: 3}

    def run(m, v, times, seed):
        nce, loo = mixture.infonce_and_loo(m, v, seed=seed, times=times, n_draws=3)
        return {
            "pair": (nce, loo),
            "nce": mixture.infonce_lower(m, v, seed=seed, times=times, n_draws=3),
            "loo": mixture.loo_upper(m, v, seed=seed, times=times, n_draws=3),
            "mc": mixture.mc_estimate(m, v, seed=seed, times=times, n_samples=3 * n),
            "mi": mixture.mutual_information(m, v, method="infonce", seed=seed, times=times),
        }

    def flat(result, i=None):
        ests = [*result["pair"], result["nce"], result["loo"], result["mc"], result["mi"]]
        return np.array(
            [e.value if i is None else e.value[i] for e in ests]
            + [e.se if i is None else e.se[i] for e in ests]
        )

    first = run(means, variances, grid, 5)
    second = run(means_b, vars_b, times_b, 5)
    for i, j in where_b.items():
        np.testing.assert_array_equal(flat(first, i), flat(second, j))
    alone = run(means[2], variances[2], grid[2], 5)
    np.testing.assert_array_equal(flat(first, 2), flat(alone))
    reseeded = run(means, variances, grid, 6)
    assert np.all(flat(reseeded)[:6] != flat(first)[:6])


@pytest.mark.parametrize("full", [False, True])
def test_single_bound_calls_equal_the_halves_of_the_shared_pass(full):
    """infonce_lower and loo_upper (each reducing only its own statistic) return exactly the
    two halves of infonce_and_loo, and mc_estimate(control_variate=True) with R draws exactly
    the full-batch InfoNCE of R draws (the same formula from the same seed): bit for bit."""
    rng = np.random.default_rng(24)
    t, n, k = 3, 15, 3
    means = rng.normal(size=(t, n, k))
    variances = rng.uniform(0.2, 1.0, size=(t, n))
    if full:
        variances = np.stack([_random_covariances(rng, n, k) for _ in range(t)])
    for path in ("fused", "matmul"):
        nce, loo = mixture.infonce_and_loo(means, variances, seed=4, n_draws=5, path=path)
        lower = mixture.infonce_lower(means, variances, seed=4, n_draws=5, path=path)
        upper = mixture.loo_upper(means, variances, seed=4, n_draws=5, path=path)
        mc_cv = mixture.mc_estimate(
            means, variances, seed=4, n_samples=5 * n, control_variate=True, path=path
        )
        for got, expected in ((lower, nce), (upper, loo), (mc_cv, nce)):
            np.testing.assert_array_equal(got.value, expected.value)
            np.testing.assert_array_equal(got.se, expected.se)


def test_bounds_are_invariant_to_translation_and_joint_rescaling():
    """I(X;Z) is invariant under z -> c z + b. Shifting all means by 1e6 (tests the centring
    that keeps the expanded squared distances exact) and scaling means by 1e-3 and variances by
    1e-6 (tests that the variance floor is relative) give the same numbers from the same seed;
    rtol 1e-8 (rounding of the shifted means, ~1e-16 * 1e6 / s)."""
    rng = np.random.default_rng(11)
    means, variances = _random_mixture(rng, 12, 3)
    reference = _all_estimates(means, variances)
    np.testing.assert_allclose(_all_estimates(means + 1e6, variances), reference, rtol=1e-8)
    np.testing.assert_allclose(_all_estimates(1e-3 * means, 1e-6 * variances), reference, rtol=1e-8)


def test_results_are_float64_whatever_the_global_jax_setting():
    """With jax_enable_x64 on or off globally, the numbers are the same float64 values
    (the module computes inside float64()); rtol 1e-13. A float32 path would differ by ~1e-7."""
    rng = np.random.default_rng(12)
    means, variances = _random_mixture(rng, 12, 3)
    before = jax.config.read("jax_enable_x64")
    try:
        jax.config.update("jax_enable_x64", False)
        off = _all_estimates(means, variances)
        jax.config.update("jax_enable_x64", True)
        on = _all_estimates(means, variances)
    finally:
        jax.config.update("jax_enable_x64", before)
    np.testing.assert_allclose(off, on, rtol=1e-13)


def test_new_style_typed_keys_are_accepted():
    """jax.random.key (typed keys) and PRNGKey with the same seed give the same draws."""
    rng = np.random.default_rng(13)
    means, variances = _random_mixture(rng, 12, 3)
    typed = mixture.infonce_lower(means, variances, key=jax.random.key(3))
    raw = mixture.infonce_lower(means, variances, key=jax.random.PRNGKey(3))
    assert typed == raw


def _all_estimates(means, variances):
    nce, loo = mixture.infonce_and_loo(means, variances, seed=1)
    mc = mixture.mc_estimate(means, variances, seed=2, n_samples=8 * len(means))
    kl = mixture.pairwise_kl_upper(means, variances)
    bd = mixture.pairwise_bhattacharyya_lower(means, variances)
    return [nce.value, nce.se, loo.value, loo.se, mc.value, mc.se, kl.value, bd.value]


def test_mutual_information_dispatches_and_returns_scalars_without_time_axis():
    """mutual_information(method=m) returns exactly what the named function returns (same
    seed); without a time axis value and se are 0-d float64; the same seed repeats the numbers
    and another seed changes them."""
    rng = np.random.default_rng(10)
    means, variances = _random_mixture(rng, 12, 3)
    direct = {
        "infonce": mixture.infonce_lower(means, variances, seed=5),
        "loo": mixture.loo_upper(means, variances, seed=5),
        "pairwise_kl": mixture.pairwise_kl_upper(means, variances),
        "pairwise_bhattacharyya": mixture.pairwise_bhattacharyya_lower(means, variances),
        "mc": mixture.mc_estimate(means, variances, seed=5, n_samples=96),
    }
    for method in mixture.METHODS:
        kwargs = {"seed": 5} if method in ("infonce", "loo") else {}
        kwargs.update({"seed": 5, "n_samples": 96} if method == "mc" else {})
        result = mixture.mutual_information(means, variances, method=method, **kwargs)
        assert isinstance(result, mixture.MIEstimate)
        assert np.ndim(result.value) == 0 and np.ndim(result.se) == 0
        assert result.value.dtype == np.float64
        assert result == direct[method]
    other = mixture.infonce_lower(means, variances, seed=6)
    assert other.value != direct["infonce"].value


# ----------------------------------------------------------------------------------------------
# Bad input.
# ----------------------------------------------------------------------------------------------

_MEANS = np.zeros((4, 2))
_VARS = np.ones(4)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"means": np.zeros((1, 2)), "variances": np.ones(1)}, ValueError, "N >= 2"),
        ({"variances": np.array([1.0, -0.1, 1.0, 1.0])}, ValueError, "variances.*>= 0"),
        ({"variances": np.ones(5)}, ValueError, "variances.*shape"),
        ({"variances": np.ones((4, 2))}, ValueError, "does not fit"),
        ({"means": np.zeros(4)}, ValueError, "means.*dimensions"),
        ({"means": np.full((4, 2), np.nan)}, ValueError, "means.*NaN"),
        ({"variances": np.array([1.0, np.inf, 1.0, 1.0])}, ValueError, "variances.*infinite"),
        ({"means": [["a", "b"]] * 4}, TypeError, "means.*numeric"),
        ({"method": "kde"}, ValueError, "method.*infonce"),
        ({"n_draws": 1}, ValueError, "n_draws.*>= 2"),
        ({"n_draws": 2.5}, TypeError, "n_draws.*int"),
        ({"chunk_size": 0}, ValueError, "chunk_size"),
        ({"seed": 1, "key": jax.random.PRNGKey(0)}, ValueError, "either `key` or `seed`"),
        ({"key": 3}, TypeError, "key"),
        ({"path": "gpu"}, ValueError, "path.*'fused'"),
        ({"times": [0.0, 1.0]}, ValueError, "times.*shape"),
        ({"times": np.nan}, ValueError, "times.*NaN"),
        ({"variances": -np.ones((4, 2, 2)) * np.eye(2)}, ValueError, "semi-definite"),
        ({"variances": np.ones((4, 2, 2)) + np.array([[0, 1], [0, 0]])}, ValueError, "symmetric"),
    ],
)
def test_bad_input_raises_clear_error(kwargs, error, match):
    """Validation at the boundary: each bad argument raises the named error whose message names
    the argument."""
    args = {"means": _MEANS, "variances": _VARS, "method": "infonce"}
    args.update(kwargs)
    with pytest.raises(error, match=match):
        mixture.mutual_information(args.pop("means"), args.pop("variances"), **args)


def test_pairwise_and_mc_validate_their_inputs_too():
    """The deterministic bounds and the MC estimate share the boundary checks."""
    with pytest.raises(ValueError, match="N >= 2"):
        mixture.pairwise_kl_upper(np.zeros((1, 3)), np.ones(1))
    with pytest.raises(ValueError, match="variances.*>= 0"):
        mixture.pairwise_bhattacharyya_lower(_MEANS, -_VARS)
    with pytest.raises(ValueError, match="n_samples"):
        mixture.mc_estimate(_MEANS, _VARS, n_samples=0)
