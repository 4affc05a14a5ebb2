"""Estimators of ntk_info.estimators against closed forms, brute force and the mixture engine.

Closed-form case: x ~ N(0, I_d), z = rho x + sqrt(1 - rho^2) eps, I = -(d/2) log(1 - rho^2).
Each k-NN tolerance is the estimator's known bias at this sample size plus four standard errors
of a mean over five seeds (measured over ten seeds at n = 1000, rho = 0.6: standard deviation
0.02-0.05 nats per run; bias < 0.03 for d <= 2; at d = 3, KSG and KL underestimate by ~0.08 and
WKL overestimates by ~0.05, the growth of the k-NN bias with dimension reported by Kraskov et
al. 2004, fig. 4).
"""

from __future__ import annotations

import collections
import math

import numpy as np
import pytest
from scipy import integrate
from scipy.special import digamma
from scipy.stats import norm

from ntk_info import estimators, mixture
from ntk_info.estimators import knn

SEEDS = range(5)


def gaussian_pair(d: int, rho: float, n: int, seed: int):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d))
    z = rho * x + np.sqrt(1 - rho**2) * rng.standard_normal((n, d))
    return x, z, -0.5 * d * np.log(1 - rho**2)


@pytest.mark.parametrize(
    ("name", "d", "tol"),
    [
        ("ksg", 1, 0.05),
        ("ksg", 2, 0.05),
        ("ksg", 3, 0.13),
        ("ksg_euclidean", 3, 0.13),
        ("kozachenko_leonenko", 1, 0.06),
        ("kozachenko_leonenko", 2, 0.06),
        ("kozachenko_leonenko", 3, 0.13),
        ("weighted_kl", 2, 0.06),
        ("weighted_kl", 3, 0.12),
    ],
)
def test_knn_estimators_recover_gaussian_mi(name, d, tol):
    """Mean over five seeds (n = 1000) within the known bias + 4 standard errors of the truth."""
    fn = {
        "ksg": estimators.ksg,
        "ksg_euclidean": lambda x, z: estimators.ksg(x, z, metric="euclidean"),
        "kozachenko_leonenko": estimators.kozachenko_leonenko,
        "weighted_kl": estimators.weighted_kl,
    }[name]
    errors = []
    for seed in SEEDS:
        x, z, truth = gaussian_pair(d, 0.6, 1000, seed)
        errors.append(fn(x, z) - truth)
    assert abs(np.mean(errors)) < tol


def brute_force_ksg(x, z, k, metric):
    """Kraskov algorithm 1 by the definition: all pairwise distances, O(n^2), no trees."""
    n = len(x)
    ord_ = np.inf if metric == "chebyshev" else 2
    psi = []
    for i in range(n):
        dx = np.array([np.linalg.norm(x[i] - x[j], ord=ord_) for j in range(n)])
        dz = np.array([np.linalg.norm(z[i] - z[j], ord=ord_) for j in range(n)])
        joint = np.maximum(dx, dz)
        joint[i] = np.inf
        eps = np.sort(joint)[k - 1]
        n_x = np.sum(dx < eps) - 1
        n_z = np.sum(dz < eps) - 1
        psi.append(digamma(n_x + 1) + digamma(n_z + 1))
    return digamma(k) + digamma(n) - np.mean(psi)


@pytest.mark.parametrize("metric", ["chebyshev", "euclidean"])
@pytest.mark.parametrize("path", ["tree", "brute"])
def test_ksg_equals_brute_force_definition(metric, path):
    """KD-tree and chunked scans give the O(n^2) definition's value exactly (same counts)."""
    x, z, _ = gaussian_pair(2, 0.7, 150, seed=3)
    z = np.hstack([z, np.random.default_rng(4).standard_normal((150, 1))])
    expected = brute_force_ksg(x, z, 4, metric)
    got = estimators.ksg(x, z, k=4, standardize=False, metric=metric, path=path)
    assert got == pytest.approx(expected, rel=0, abs=1e-13)


@pytest.mark.parametrize("d", [1, 3, 5])
def test_entropies_match_gaussian_closed_form(d):
    """KL and WKL h(N(0, A A^T)) = 1/2 log det(2 pi e A A^T): mean over 5 seeds within 0.1.

    Measured bias at n = 1000: -0.01 (d = 1) to -0.04 (KL, d = 5) and -0.08 (WKL, d = 5, k = 20),
    standard deviation 0.03 per run.
    """
    a = np.eye(d) + 0.3 * np.ones((d, d))
    truth = 0.5 * np.linalg.slogdet(2 * np.pi * np.e * a.T @ a)[1]
    kl, wkl = [], []
    for seed in SEEDS:
        x = np.random.default_rng(seed).standard_normal((1000, d)) @ a
        kl.append(knn.kozachenko_leonenko_entropy(x))
        wkl.append(knn.weighted_kl_entropy(x))
    assert np.mean(kl) == pytest.approx(truth, abs=0.1)
    assert np.mean(wkl) == pytest.approx(truth, abs=0.12)


def test_wkl_weights_satisfy_constraints():
    """sum w = 1 and sum_j w_j Gamma(j + 2l/d)/Gamma(j) = 0, l = 1..floor(d/4) (Berrett et al.)."""
    w = knn.wkl_weights(9, 20)
    j = np.arange(1, 21)
    assert w.sum() == pytest.approx(1.0, abs=1e-10)
    for ell in (1, 2):
        ratio = np.array([math.gamma(i + 2 * ell / 9) / math.gamma(i) for i in j])
        assert w @ ratio == pytest.approx(0.0, abs=1e-8)
    assert np.array_equal(knn.wkl_weights(3, 5), np.eye(5)[-1])


def label_mixture_truth(shift: float) -> float:
    """I(Z;Y), Y uniform on {0, 1}, Z|y ~ N(y shift, 1): quadrature of h(Z) - h(Z|Y)."""

    def integrand(t):
        p = 0.5 * (norm.pdf(t) + norm.pdf(t - shift))
        return -p * np.log(p)

    h_z = integrate.quad(integrand, -12, 12 + shift, limit=200)[0]
    return h_z - 0.5 * np.log(2 * np.pi * np.e)


def test_knn_label_variants_match_quadrature():
    """h(Z) - sum_y p(y) h(Z|y) with KL / WKL entropies vs quadrature; n = 2000 per seed."""
    truth = label_mixture_truth(2.0)
    values = {"kl": [], "wkl": [], "compressed": []}
    for seed in range(3):
        rng = np.random.default_rng(seed)
        y = rng.integers(0, 2, 2000)
        z = 2.0 * y[:, None] + rng.standard_normal((2000, 1))
        values["kl"].append(estimators.kozachenko_leonenko(y, z))
        values["wkl"].append(estimators.weighted_kl(y, z))
        values["compressed"].append(
            estimators.compressed(y, np.hstack([z, z]) @ [[1, 1], [1, 2]], dim=1)
        )
    for name, v in values.items():
        assert np.mean(v) == pytest.approx(truth, abs=0.05), name


def brute_mi(a_rows, b_rows) -> float:
    """Plug-in MI by counting tuples with collections.Counter."""
    n = len(a_rows)
    pa, pb = collections.Counter(a_rows), collections.Counter(b_rows)
    pab = collections.Counter(zip(a_rows, b_rows, strict=True))
    return sum(c / n * math.log(c * n / (pa[a] * pb[b])) for (a, b), c in pab.items())


def test_quantized_exact_equals_brute_force_counting():
    """q = round((t - lo)(2^b - 1)/(hi - lo)) per layer, tuples counted one by one."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((400, 3))
    t = np.tanh(x @ rng.standard_normal((3, 3)))
    y = (x[:, 0] > 0).astype(int)
    for bits in (1, 2, 4):
        lo, hi = t.min(), t.max()
        q = [tuple(round((v - lo) * (2**bits - 1) / (hi - lo)) for v in row) for row in t]
        xs = [tuple(row) for row in x]
        assert estimators.quantized_exact(x, t, bits=bits) == pytest.approx(
            brute_mi(xs, q), abs=1e-12
        )
        assert estimators.quantized_exact(y, t, bits=bits) == pytest.approx(
            brute_mi(list(y), q), abs=1e-12
        )


def test_binning_equals_brute_force_counting():
    """SZT uniform bins on (-1, 1), per-neuron bins, Saxe's floor(t / 0.07), adaptive quantiles."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((300, 2))
    t = np.tanh(x @ rng.standard_normal((2, 3)))
    xs = [tuple(row) for row in x]
    fixed = [tuple(min(int(math.floor((v + 1) / 2 * 30)), 29) for v in row) for row in t]
    assert estimators.binning(x, t, bounds=(-1, 1)) == pytest.approx(brute_mi(xs, fixed), abs=1e-12)
    lo, hi = t.min(axis=0), t.max(axis=0)
    per = [
        tuple(min(int((v - lo[j]) / (hi[j] - lo[j]) * 8), 7) for j, v in enumerate(row))
        for row in t
    ]
    assert estimators.binning(x, t, n_bins=8) == pytest.approx(brute_mi(xs, per), abs=1e-12)
    saxe = [tuple(math.floor(v / 0.07) for v in row) for row in t]
    assert estimators.binning(x, t, bin_size=0.07) == pytest.approx(brute_mi(xs, saxe), abs=1e-12)
    y = (x[:, 1] > 0).astype(int)
    edges = [np.quantile(t[:, j], [0.25, 0.5, 0.75]) for j in range(3)]
    adapt = [tuple(int(np.sum(v >= edges[j])) for j, v in enumerate(row)) for row in t]
    assert estimators.binning(y, t, n_bins=4, strategy="adaptive") == pytest.approx(
        brute_mi(list(y), adapt), abs=1e-12
    )


def test_kde_bounds_equal_saxe_formulas_and_sandwich_the_mixture_mi():
    """I_up / I_low = -(1/n) sum_i log (1/n) sum_j exp(-D_ij / (2 s) or (8 s)) (ibsgd/kde.py),
    and I_low <= I(X;T) <= I_up with I(X;T) from 1-D quadrature of the mixture density."""
    rng = np.random.default_rng(2)
    h = rng.uniform(-1, 1, (40, 1))
    x = rng.standard_normal((40, 2))
    s = 0.05
    dist = (h - h.T) ** 2

    def saxe(div):
        return -np.mean(np.log(np.mean(np.exp(-dist / (div * s)), axis=1)))

    upper = estimators.kde_upper(x, h, noise_variance=s)
    lower = estimators.kde_lower(x, h, noise_variance=s)
    assert upper == pytest.approx(saxe(2), abs=1e-10)
    assert lower == pytest.approx(saxe(8), abs=1e-10)

    def density(t):
        return np.mean(np.exp(-((t - h[:, 0]) ** 2) / (2 * s))) / np.sqrt(2 * np.pi * s)

    h_t = integrate.quad(lambda t: -density(t) * np.log(density(t)), -3, 3, limit=400)[0]
    truth = h_t - 0.5 * np.log(2 * np.pi * np.e * s)
    assert lower < truth < upper


def test_sample_propagation_matches_quadrature_and_mixture_bounds():
    """SP on T = f(X) + N(0, beta^2): the exact I from 1-D quadrature within 4 se, and
    between the mixture engine's pairwise bounds; with replicas (n, R, 1), h(T) - mean h(T|x)
    each by quadrature."""
    rng = np.random.default_rng(5)
    f = rng.uniform(-1, 1, (12, 1))
    beta = 0.2

    def entropy(centres):
        def p(t):
            return (
                np.mean(np.exp(-((t - centres) ** 2) / (2 * beta**2))) / np.sqrt(2 * np.pi) / beta
            )

        return integrate.quad(lambda t: -p(t) * np.log(p(t)), -3, 3, limit=400)[0]

    truth = entropy(f[:, 0]) - 0.5 * np.log(2 * np.pi * np.e * beta**2)
    sp = estimators.sample_propagation(np.arange(12.0), f, beta=beta, n_samples=20000, seed=1)
    assert abs(sp.value - truth) < 4 * sp.se
    variances = np.full(12, beta**2)
    assert mixture.pairwise_bhattacharyya_lower(f, variances).value < sp.value
    assert sp.value < mixture.pairwise_kl_upper(f, variances).value

    replicas = f[:, None, :] + 0.1 * rng.standard_normal((12, 5, 1))
    truth_r = entropy(replicas.ravel()) - np.mean([entropy(r[:, 0]) for r in replicas])
    sp_r = estimators.sample_propagation(np.arange(12.0), replicas, beta=beta, n_samples=20000)
    assert abs(sp_r.value - truth_r) < 4 * sp_r.se


def test_compressed_recovers_mi_of_embedded_gaussians():
    """2-D latent Gaussians embedded linearly in 20 / 30 dims: PCA to 2 keeps all information,
    so KL on the codes sees I = -log(1 - rho^2) (tolerance as KL at d = 2, one seed n = 2000)."""
    x, z, truth = gaussian_pair(2, 0.6, 2000, seed=7)
    rng = np.random.default_rng(8)
    big_x = x @ rng.standard_normal((2, 20)) + 1e-6 * rng.standard_normal((2000, 20))
    big_z = z @ rng.standard_normal((2, 30)) + 1e-6 * rng.standard_normal((2000, 30))
    for estimator in ("ksg", "kl", "wkl"):
        value = estimators.compressed(big_x, big_z, dim=2, estimator=estimator)
        assert value == pytest.approx(truth, abs=0.1), estimator
    direct = estimators.kozachenko_leonenko(x, z)
    assert estimators.compressed(big_x, big_z, dim=2) == pytest.approx(direct, abs=0.03)


def test_whitening_is_exact_and_removes_bias_of_mixed_correlated_blocks():
    """h(X) = h(WX) - log|det W|: the whitened KL entropy of A x equals that of x plus
    log|det A| (to rounding: whitening maps both samples to the same points up to a rotation,
    and Euclidean k-NN distances are rotation-invariant only up to the Cholesky's choice, so
    compare the entropy of a lower-triangular A, which the Cholesky reproduces exactly).
    On 4 + 4 correlated Gaussians whose blocks are mixed by a random linear map, the whitened
    KL MI is closer to the truth than the standardized one (mean over five seeds, n = 1000)."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((800, 3))
    lower = np.tril(rng.standard_normal((3, 3))) + 3 * np.eye(3)
    plain = knn.whitened_entropy(knn.kozachenko_leonenko_entropy)
    assert plain(x @ lower.T) == pytest.approx(
        plain(x) + np.log(abs(np.linalg.det(lower))), abs=1e-9
    )
    white, standardized = [], []
    mix_x, mix_z = rng.standard_normal((4, 4)), rng.standard_normal((4, 4))
    for seed in SEEDS:
        x, z, truth = gaussian_pair(4, 0.8, 1000, seed)
        x, z = x @ mix_x, z @ mix_z
        white.append(estimators.kozachenko_leonenko(x, z) - truth)
        standardized.append(estimators.kozachenko_leonenko(x, z, whiten=False) - truth)
    assert abs(np.mean(white)) < 0.5 * abs(np.mean(standardized))
    assert abs(np.mean(white)) < 0.3


def test_label_mode_whitens_by_the_pooled_covariance():
    """With labels, z is whitened once (exact: the Jacobian cancels between h(Z) and h(Z|Y)),
    so classes with fewer samples than dimensions still work, and the estimate equals the
    unwhitened one on z already whitened by the same map (the same points)."""
    rng = np.random.default_rng(5)
    y = np.repeat(np.arange(40), 8)  # 8 samples per class, 10 dimensions
    z = rng.standard_normal((40, 10))[y] + 0.5 * rng.standard_normal((320, 10))
    z = z @ rng.standard_normal((10, 10))
    value = estimators.kozachenko_leonenko(y, z)
    assert np.isfinite(value) and 0 < value <= np.log(40) + 0.5
    centred = z - z.mean(axis=0)
    chol = np.linalg.cholesky(centred.T @ centred / (len(z) - 1))
    white = np.linalg.solve(chol, centred.T).T
    direct = estimators.kozachenko_leonenko(y, white, whiten=False, standardize=False)
    assert value == pytest.approx(direct, abs=1e-9)
