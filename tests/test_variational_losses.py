"""ntk_info.variational: loss identities, rate vs closed forms, noise models, validation.

Pure-function tests (no training): each compares against an independent NumPy/SciPy
computation (closed-form Gaussian KL with full covariances, Monte Carlo, brute-force counts).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from ntk_info._jax import float64
from ntk_info.variational import (
    ConfusionNoise,
    GaussianNoise,
    LabelSmoothing,
    TeacherNoise,
    batch_metrics,
    categorical_kl,
    confusion_matrix,
    cross_entropy,
    gaussian_kl,
    general_loss,
    rate,
    vdualib_loss,
    vib_loss,
)

# FashionMNIST confusion counts (spec dualib.md §4): rows do not sum to the same number.
FMNIST = np.array(
    [
        [783, 0, 15, 12, 2, 1, 73, 0, 6, 0],
        [0, 876, 2, 8, 1, 0, 3, 0, 0, 0],
        [12, 1, 811, 8, 35, 0, 38, 0, 0, 0],
        [20, 4, 10, 836, 21, 0, 24, 0, 1, 0],
        [0, 0, 65, 20, 776, 0, 52, 0, 0, 0],
        [0, 0, 0, 0, 0, 884, 0, 10, 0, 6],
        [88, 1, 44, 19, 50, 0, 683, 0, 4, 0],
        [0, 0, 0, 0, 0, 5, 0, 888, 0, 17],
        [4, 1, 1, 1, 4, 2, 3, 1, 868, 1],
        [0, 0, 0, 0, 0, 4, 0, 18, 1, 876],
    ],
    dtype=float,
)


def _log_probs(rng, n, k):
    logits = rng.normal(size=(n, k)) * 2
    return logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))


def _kl_full(m1, c1, m2, c2):
    """KL[N(m1, C1) || N(m2, C2)] with full covariances (textbook formula, NumPy)."""
    inv = np.linalg.inv(c2)
    diff = m2 - m1
    d = len(m1)
    _, logdet1 = np.linalg.slogdet(c1)
    _, logdet2 = np.linalg.slogdet(c2)
    return 0.5 * (np.trace(inv @ c1) + diff @ inv @ diff - d + logdet2 - logdet1)


def test_dual_distortion_zero_iff_decoder_equals_noise_model():
    """KL(q || p~) = 0 at q = p~ and > 0 otherwise (Gibbs); compared with scipy's rel_entr."""
    from scipy.special import rel_entr

    rng = np.random.default_rng(0)
    log_p = _log_probs(rng, 50, 10)
    log_q = _log_probs(rng, 50, 10)
    with float64():
        same = np.asarray(categorical_kl(log_p, log_p))
        other = np.asarray(categorical_kl(log_q, log_p))
        zero_rate = np.zeros(50)
        assert float(vdualib_loss(zero_rate, log_p, log_p, 7.0)) == pytest.approx(0, abs=1e-14)
    np.testing.assert_allclose(same, 0.0, atol=1e-14)
    assert np.all(other > 1e-6)
    np.testing.assert_allclose(other, rel_entr(np.exp(log_q), np.exp(log_p)).sum(1), rtol=1e-12)


def test_general_loss_reduces_to_vib_and_vdualib():
    """gamma = 0 gives rate + beta CE, beta = 0 gives rate + gamma KL (NumPy formulas)."""
    rng = np.random.default_rng(1)
    n, k = 40, 5
    rates = rng.uniform(0, 3, size=n)
    log_q, log_p = _log_probs(rng, n, k), _log_probs(rng, n, k)
    targets = np.eye(k)[rng.integers(0, k, n)]
    ce = -(targets * log_q).sum(1)
    kl = (np.exp(log_q) * (log_q - log_p)).sum(1)
    with float64():
        g_vib = float(general_loss(rates, log_q, targets, log_p, 3.0, 0.0))
        g_dual = float(general_loss(rates, log_q, targets, log_p, 0.0, 3.0))
        both = float(general_loss(rates, log_q, targets, log_p, 2.0, 5.0))
        assert g_vib == pytest.approx(float(vib_loss(rates, log_q, targets, 3.0)), rel=1e-14)
        assert g_dual == pytest.approx(float(vdualib_loss(rates, log_q, log_p, 3.0)), rel=1e-14)
        np.testing.assert_allclose(np.asarray(cross_entropy(log_q, targets)), ce, rtol=1e-13)
    assert g_vib == pytest.approx(np.mean(rates + 3 * ce), rel=1e-13)
    assert g_dual == pytest.approx(np.mean(rates + 3 * kl), rel=1e-13)
    assert both == pytest.approx(np.mean(rates + 2 * ce + 5 * kl), rel=1e-13)


def test_rate_equals_full_covariance_kl_for_diagonal_gaussians():
    """gaussian_kl / rate vs the full-covariance KL formula, for N(0, I) and a b(z|y) prior."""
    rng = np.random.default_rng(2)
    d = 4
    mu, sigma = rng.normal(size=(6, d)), rng.uniform(0.2, 2, size=(6, d))
    m2, s2 = rng.normal(size=(6, d)), rng.uniform(0.3, 1.5, size=(6, d))
    with float64():
        standard = np.asarray(rate(mu, sigma))
        backward = np.asarray(rate(mu, sigma, m2, s2))
        direct = np.asarray(gaussian_kl(mu, sigma, m2, s2))
    for i in range(6):
        c1 = np.diag(sigma[i] ** 2)
        assert standard[i] == pytest.approx(_kl_full(mu[i], c1, np.zeros(d), np.eye(d)), rel=1e-12)
        want = _kl_full(mu[i], c1, m2[i], np.diag(s2[i] ** 2))
        assert backward[i] == pytest.approx(want, rel=1e-12)
    np.testing.assert_array_equal(backward, direct)


def test_rate_of_linear_gaussian_encoder_bounds_exact_information():
    """Linear-Gaussian encoder z = W x + s eps, x ~ N(0, I): E_x rate = I(X;Z) + KL[e(z)||r(z)].

    Closed forms: I(X;Z) = 1/2 log det(I + W W^T / s^2), e(z) = N(0, W W^T + s^2 I).
    The expectation over x is a Monte Carlo over 200 000 inputs of the analytic per-x rate;
    its standard error is ~3e-3 here, the tolerance 5 standard errors.
    """
    rng = np.random.default_rng(3)
    d_x, d_z, s = 5, 3, 0.7
    W = rng.normal(size=(d_z, d_x)) / np.sqrt(d_x)
    x = rng.normal(size=(200_000, d_x))
    with float64():
        per_x = np.asarray(rate(x @ W.T, np.full((len(x), d_z), s)))
    cov_z = W @ W.T + s**2 * np.eye(d_z)
    info = 0.5 * np.linalg.slogdet(np.eye(d_z) + W @ W.T / s**2)[1]
    marginal_kl = _kl_full(np.zeros(d_z), cov_z, np.zeros(d_z), np.eye(d_z))
    se = per_x.std() / np.sqrt(len(x))
    assert per_x.mean() == pytest.approx(info + marginal_kl, abs=5 * se)
    assert per_x.mean() > info


def test_rate_matches_monte_carlo_log_density_ratio():
    """KL[e(z|x) || N(0, I)] vs mean of log e(z|x) - log r(z) over z ~ e(z|x) (scipy logpdf)."""
    rng = np.random.default_rng(4)
    mu, sigma = np.array([0.5, -1.0, 2.0]), np.array([0.3, 1.2, 0.8])
    z = mu + sigma * rng.normal(size=(100_000, 3))
    ratio = multivariate_normal(mu, np.diag(sigma**2)).logpdf(z) - multivariate_normal(
        np.zeros(3), np.eye(3)
    ).logpdf(z)
    with float64():
        value = float(rate(mu[None], sigma[None])[0])
    assert value == pytest.approx(ratio.mean(), abs=5 * ratio.std() / np.sqrt(len(z)))


def test_batch_metrics_against_numpy():
    """rate mean, ln K - CE, ln K - KL(q || p~) and argmax accuracy, recomputed in NumPy."""
    rng = np.random.default_rng(5)
    n, k = 30, 4
    rates = rng.uniform(size=n)
    log_q, log_p = _log_probs(rng, n, k), _log_probs(rng, n, k)
    labels = np.eye(k)[rng.integers(0, k, n)]
    with float64():
        m = {key: float(v) for key, v in batch_metrics(rates, log_q, labels, log_p).items()}
    assert m["rate"] == pytest.approx(rates.mean(), rel=1e-13)
    assert m["izy_lower"] == pytest.approx(np.log(k) + (labels * log_q).sum(1).mean(), rel=1e-13)
    kl = (np.exp(log_q) * (log_q - log_p)).sum(1).mean()
    assert m["izy_noise_lower"] == pytest.approx(np.log(k) - kl, rel=1e-13)
    assert m["accuracy"] == pytest.approx(np.mean(log_q.argmax(1) == labels.argmax(1)))


def test_every_noise_model_gives_positive_rows_summing_to_one():
    """Confusion (given and estimated), smoothing, Gaussian, teacher: rows sum to 1, p~ > 0."""
    rng = np.random.default_rng(6)
    classes = rng.integers(0, 10, size=200)
    x = rng.normal(size=(200, 7))
    teacher_w = rng.normal(size=(7, 10))
    models = [
        ConfusionNoise(FMNIST),
        ConfusionNoise.from_classifier(lambda v: v @ teacher_w, x, classes),
        LabelSmoothing(0.02),
        GaussianNoise(0.3, seed=1),
        TeacherNoise(lambda v: v @ teacher_w, temperature=2.0),
    ]
    for model in models:
        soft = model(classes, x, 10)
        assert soft.shape == (200, 10)
        np.testing.assert_allclose(soft.sum(axis=1), 1.0, atol=1e-12)
        assert np.all(soft > 0)
    np.testing.assert_array_equal(GaussianNoise(0.3, 1)(classes, x, 10), models[3](classes, x, 10))


def test_confusion_rows_normalised_by_their_own_sums():
    """FashionMNIST counts: p~(.|y) = row y / its sum (the reference divided by column sums)."""
    rows = ConfusionNoise(FMNIST, floor=1e-300).rows
    np.testing.assert_allclose(rows, FMNIST / FMNIST.sum(1, keepdims=True), rtol=1e-12, atol=1e-250)
    np.testing.assert_allclose(rows.sum(1), 1.0, rtol=1e-14)
    smooth = LabelSmoothing(0.02)(np.arange(10), None, 10)
    np.testing.assert_allclose(smooth, 0.98 * np.eye(10) + 0.002, rtol=1e-14)


def test_confusion_matrix_counts_by_brute_force():
    """confusion_matrix vs a double loop over (true, predicted) pairs."""
    rng = np.random.default_rng(7)
    true, pred = rng.integers(0, 4, 100), rng.integers(0, 4, 100)
    want = np.array([[np.sum((true == i) & (pred == j)) for j in range(4)] for i in range(4)])
    np.testing.assert_array_equal(confusion_matrix(true, pred, 4), want)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: ConfusionNoise(np.ones((3, 4))), "square"),
        (lambda: ConfusionNoise(np.vstack([np.ones((2, 3)), np.zeros((1, 3))])), "zero rows"),
        (lambda: ConfusionNoise(np.ones((3, 3)))(np.array([0, 1]), None, 4), r"\(4, 4\)"),
        (lambda: LabelSmoothing(0.1)(np.array([0, 5]), None, 3), "out of range"),
        (lambda: confusion_matrix(np.array([0, -1]), np.array([0, 0]), 3), "out of range"),
        (lambda: LabelSmoothing(0.0), "epsilon"),
        (lambda: rate(np.zeros((2, 3)), np.ones((2, 3)), np.zeros(4), np.ones(4)), "latent"),
        (lambda: gaussian_kl(np.zeros(3), np.ones(3), np.zeros(2), np.ones(2)), "latent"),
    ],
)
def test_bad_noise_and_loss_inputs_raise(make, match):
    """Wrong shapes, zero confusion rows, out-of-range labels, mismatched latents: ValueError."""
    with float64(), pytest.raises(ValueError, match=match):
        make()


def test_beta_warmup_schedule_is_the_reference_lerp():
    """beta_at: linear from 100 to the target over S steps when the target is below 100,
    constant otherwise or when S = 0 (spec dualib.md §4, `lerp`), against the formula."""
    from ntk_info.variational.steps import Hyper, beta_at

    steps = np.array([0.0, 1000.0, 2000.0, 4000.0, 9000.0])
    with float64():
        warm = np.asarray(beta_at(steps, Hyper(2.0, 1e-3, 100.0, 4000.0)))
        high = np.asarray(beta_at(steps, Hyper(300.0, 1e-3, 100.0, 4000.0)))
        const = np.asarray(beta_at(steps, Hyper(2.0, 1e-3, 100.0, 0.0)))
    np.testing.assert_allclose(warm, 100 + (2 - 100) * np.minimum(steps / 4000, 1), rtol=1e-14)
    np.testing.assert_array_equal(high, 300.0)
    np.testing.assert_array_equal(const, 2.0)
