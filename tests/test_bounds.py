"""`ntk_info.bounds` against independent computations.

References, none of which goes through `ntk_info.bounds`:
  * Gaussian orthant probabilities: closed forms (independent: 2^-n; equicorrelated with
    rho = 1/2: 1/(n+1), because g_i = (h_i - h_0)/sqrt(2) with h_0..h_n iid standard normal,
    and P[all g_i > 0] = P[h_0 is the smallest of n + 1 iid normals]); Genz's quasi-Monte
    Carlo `scipy.stats.multivariate_normal.cdf`;
  * the Bernoulli kl inverted by a plain 200-step bisection written here;
  * hand evaluation of the closed-form bounds with `math`;
  * the NTK from `ntk_info.kernels.kernel_matrices` solved with `numpy.linalg.solve`.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from ntk_info import InfiniteEnsemble, bounds
from ntk_info.architectures import fc
from ntk_info.kernels import kernel_matrices


def scipy_log_inverse_orthant(kernel, labels, seed=1):
    """ln 1/P[sign f = c] by Genz's algorithm (scipy), absolute error far below p."""
    n = kernel.shape[0]
    sigma = labels[:, None] * kernel * labels[None, :]
    # P[g > 0] = P[g < 0] for a centred Gaussian.
    mvn = multivariate_normal(np.zeros(n), sigma, abseps=1e-13, releps=1e-5, maxpts=10**6)
    return -math.log(mvn.cdf(np.zeros(n), rng=seed))


def random_kernel(n, seed):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, 2 * n))
    kernel = a @ a.T / (2 * n) + 0.1 * np.eye(n)
    labels = rng.choice([-1.0, 1.0], size=n)
    return kernel, labels


def relu3_nngp(n=12, spread=0.01, seed=0):
    """Depth-3 ReLU NNGP kernel on n nearly collinear unit inputs (condition number ~ 5e7)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((1, 10)) + spread * rng.standard_normal((n, 10))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    kernel = kernel_matrices(fc(3)[2], x, get=("nngp",))["nngp"]
    labels = np.where(x[:, 0] > np.median(x[:, 0]), 1.0, -1.0)
    return kernel, labels


# ----------------------------------------------------------------------------------------------
# Orthant information.
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 3, 10])
def test_orthant_information_exact_independent_and_equicorrelated(n):
    """Independent: ln 1/p = n ln 2; equicorrelated rho = 1/2: ln(n + 1); within 4 SE + 1e-3."""
    labels = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)
    rng = np.random.default_rng(n)
    scales = rng.uniform(0.5, 2.0, size=n)
    independent = np.diag(scales**2)
    est = bounds.orthant_information(independent, labels)
    assert abs(est.value - n * math.log(2.0)) <= 4 * est.se + 1e-9
    # With rho = 1/2 among the c_i f_i (so K = D R D with R equicorrelated), p = 1/(n + 1).
    corr = np.full((n, n), 0.5) + 0.5 * np.eye(n)
    kernel = labels[:, None] * corr * labels[None, :]
    est = bounds.orthant_information(kernel, labels, n_samples=20_000, seed=3)
    assert abs(est.value - math.log(n + 1)) <= 4 * est.se + 1e-3
    assert est.se < 0.01


@pytest.mark.parametrize("n, seed", [(2, 0), (6, 1), (10, 2)])
def test_orthant_information_matches_scipy_genz(n, seed):
    """Tilting agrees with scipy's Genz QMC to 4 SE + 0.01 and within 1% relative in ln 1/p."""
    kernel, labels = random_kernel(n, seed)
    truth = scipy_log_inverse_orthant(kernel, labels)
    est = bounds.orthant_information(kernel, labels, seed=seed)
    assert abs(est.value - truth) <= 4 * est.se + 0.01
    assert abs(est.value - truth) <= 0.01 * truth


@pytest.mark.parametrize("n, seed", [(3, 0), (8, 1), (12, 2)])
def test_orthant_jensen_upper_above_truth(n, seed):
    """Jensen's bound is above ln 1/p from scipy (a deterministic inequality, no tolerance)."""
    kernel, labels = random_kernel(n, seed)
    truth = scipy_log_inverse_orthant(kernel, labels)
    assert bounds.orthant_jensen_upper(kernel, labels) >= truth
    kernel, labels = relu3_nngp(n, spread=0.3, seed=seed)
    truth = scipy_log_inverse_orthant(kernel, labels)
    assert bounds.orthant_jensen_upper(kernel, labels) >= truth


def test_orthant_jensen_upper_hand_formula():
    """n = 1: ln 2 - 1/2 + s ((1/2 - 1/pi)/s + 1/(pi s)) = ln 2 exactly (p = 1/2 is exact)."""
    assert bounds.orthant_jensen_upper([[3.0]], [-1]) == pytest.approx(math.log(2.0), abs=1e-14)


def test_importance_biased_on_ill_conditioned_relu_nngp_tilting_not():
    """Depth-3 ReLU NNGP, 12 nearly collinear points (cond ~ 5e7).

    Bernstein & Yue's N(0, sI) proposal has heavy-tailed weights here: over five seeds its
    ln 1/p is above the scipy value by > 0.4 nats on average (the log of a mean under-estimated
    by rare large weights), while tilting stays within 4 SE + 0.03 (scipy's own error ~0.02).
    """
    kernel, labels = relu3_nngp()
    assert np.linalg.cond(kernel) > 1e6
    truth = scipy_log_inverse_orthant(kernel, labels)
    tilt = bounds.orthant_information(kernel, labels)
    assert abs(tilt.value - truth) <= 4 * tilt.se + 0.03
    assert abs(tilt.value - truth) <= 0.01 * truth
    importance = [
        bounds.orthant_information(kernel, labels, method="importance", seed=s).value
        for s in range(5)
    ]
    assert np.mean(importance) - truth > 0.4
    assert np.mean(importance) - truth > 10 * tilt.se


def test_orthant_information_seeded_and_large_n_finite():
    """Same seed, same number; n = 200 runs and the estimate lies below the Jensen bound."""
    kernel, labels = relu3_nngp(8, spread=0.3)
    a = bounds.orthant_information(kernel, labels, seed=5)
    b = bounds.orthant_information(kernel, labels, seed=5)
    assert a == b
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 5))
    kernel = np.exp(-0.5 * ((x[:, None] - x[None]) ** 2).sum(-1) / 4.0) + 1e-3 * np.eye(200)
    labels = np.sign(x[:, 0] + 1e-12)
    est = bounds.orthant_information(kernel, labels, n_samples=2000)
    assert np.isfinite(est.value) and np.isfinite(est.se)
    assert 0 < est.value < bounds.orthant_jensen_upper(kernel, labels)


# ----------------------------------------------------------------------------------------------
# PAC-Bayes, ICB, Xu-Raginsky.
# ----------------------------------------------------------------------------------------------


def bernoulli_kl(q, p):
    out = 0.0
    if q > 0:
        out += q * math.log(q / p)
    if q < 1:
        out += (1 - q) * math.log((1 - q) / (1 - p))
    return out


def plain_bisection(q, budget):
    lo, hi = q, 1.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mid >= 1.0 or bernoulli_kl(q, mid) > budget:
            hi = mid
        else:
            lo = mid
    return lo


@pytest.mark.parametrize(
    "q, kl, n, delta", [(0.0, 5.0, 100, 0.05), (0.1, 20.0, 1000, 0.01), (0.4, 0.0, 50, 0.1)]
)
def test_pac_bayes_kl_inverse_matches_bisection_and_solves_kl(q, kl, n, delta):
    """Against a 200-step bisection written here; kl(q || p*) equals the budget to 1e-10."""
    budget = (kl + math.log(2 * math.sqrt(n) / delta)) / n
    value = bounds.pac_bayes_kl_inverse(q, kl, n, delta)
    assert value == pytest.approx(plain_bisection(q, budget), abs=1e-12)
    assert bernoulli_kl(q, value) == pytest.approx(budget, abs=1e-10)
    mcallester = bounds.pac_bayes_mcallester(q, kl, n, delta)
    assert mcallester == pytest.approx(q + math.sqrt(budget / 2), abs=1e-15)
    assert mcallester >= value


def test_pac_bayes_kl_inverse_vacuous_and_full_error():
    assert bounds.pac_bayes_kl_inverse(1.0, 1.0, 10, 0.05) == 1.0
    assert bounds.pac_bayes_kl_inverse(0.5, 1e6, 10, 0.05) == pytest.approx(1.0, abs=1e-12)


def test_pac_bayes_realizable_hand_computation():
    """1 - exp(-(I + ln(2n/delta))/(n-1)) at I = 30, n = 500, delta = 0.01."""
    expected = 1 - math.exp(-(30 + math.log(2 * 500 / 0.01)) / 499)
    assert bounds.pac_bayes_realizable(30.0, 500, 0.01) == pytest.approx(expected, rel=1e-14)


def test_input_compression_and_xu_raginsky_hand_computation():
    """ICB with I = 3 bits = 3 ln 2 nats: sqrt((8 + ln 20)/(2 * 1000)); Xu-Raginsky at sigma 1/2."""
    expected = math.sqrt((8 + math.log(20)) / 2000)
    assert bounds.input_compression(3 * math.log(2), 1000) == pytest.approx(expected, rel=1e-14)
    assert bounds.input_compression(1e4, 10) == math.inf
    assert bounds.xu_raginsky(2.0, 100, 0.5) == pytest.approx(math.sqrt(2 * 0.25 * 2 / 100))


# ----------------------------------------------------------------------------------------------
# NTK norm.
# ----------------------------------------------------------------------------------------------


def test_ntk_norm_matches_numpy_solve():
    """sqrt(2 sum_k y_k^T Theta^{-1} y_k / n), Theta from kernel_matrices, np.linalg.solve."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((20, 4))
    y = rng.standard_normal((20, 2))
    arch = fc(2)
    theta = kernel_matrices(arch[2], x, get=("ntk",))["ntk"]
    expected = math.sqrt(2 * np.sum(y * np.linalg.solve(theta, y)) / 20)
    ensemble = InfiniteEnsemble(arch, x, y, backend="numpy")
    assert bounds.ntk_norm(ensemble) == pytest.approx(expected, rel=1e-8)
    with pytest.raises(ValueError, match="mode 'ntk'"):
        bounds.ntk_norm(InfiniteEnsemble(arch, x, y, mode="nngp", backend="numpy"))


# ----------------------------------------------------------------------------------------------
# Bad input.
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: bounds.pac_bayes_kl_inverse(0.1, 1.0, 100, 0.0), "delta"),
        (lambda: bounds.pac_bayes_kl_inverse(0.1, 1.0, 100, 1.0), "delta"),
        (lambda: bounds.pac_bayes_kl_inverse(1.5, 1.0, 100, 0.05), "train_error"),
        (lambda: bounds.pac_bayes_kl_inverse(-0.1, 1.0, 100, 0.05), "train_error"),
        (lambda: bounds.pac_bayes_mcallester(0.1, -1.0, 100, 0.05), "kl"),
        (lambda: bounds.pac_bayes_mcallester(0.1, 1.0, 0, 0.05), "`n`"),
        (lambda: bounds.pac_bayes_realizable(1.0, 1, 0.05), "`n`"),
        (lambda: bounds.pac_bayes_realizable(-1.0, 10, 0.05), "information"),
        (lambda: bounds.input_compression(-1.0, 10), "izx"),
        (lambda: bounds.input_compression(1.0, 10, delta=2.0), "delta"),
        (lambda: bounds.xu_raginsky(1.0, 10, 0.0), "sigma"),
        (lambda: bounds.xu_raginsky(-1.0, 10, 1.0), "mutual_information"),
        (lambda: bounds.orthant_information(np.eye(3), [1, 0, 1]), "labels"),
        (lambda: bounds.orthant_information(np.eye(3), [1, -1]), "labels"),
        (lambda: bounds.orthant_information([[1.0, 0.5], [0.0, 1.0]], [1, 1]), "symmetric"),
        (lambda: bounds.orthant_information([[1.0, 2.0], [2.0, 1.0]], [1, 1]), "semi-definite"),
        (lambda: bounds.orthant_information(np.eye(2), [1, 1], method="x"), "method"),
        (lambda: bounds.orthant_jensen_upper([[1.0, 2.0], [2.0, 1.0]], [1, 1]), "positive def"),
        (lambda: bounds.orthant_jensen_upper(np.ones((2, 3)), [1, 1]), "square"),
    ],
)
def test_bad_input_raises_clear_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# generalization_table: tests/test_generalization.py.
