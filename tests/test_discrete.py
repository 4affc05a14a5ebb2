"""ntk_info.discrete against scipy.stats.entropy and brute-force sums over the alphabet."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.stats
from scipy.special import logsumexp as scipy_logsumexp

from ntk_info import discrete


def _random_simplex(rng, shape, zeros=True):
    p = rng.dirichlet(np.ones(shape[-1]), size=shape[:-1])
    if zeros:
        p[..., 0] = 0.0
        p /= p.sum(axis=-1, keepdims=True)
    return p


def test_entropy_matches_scipy_along_any_axis():
    """H(p) per row and per column equals scipy.stats.entropy (nats), up to rounding."""
    rng = np.random.default_rng(0)
    p = _random_simplex(rng, (4, 7))
    np.testing.assert_allclose(discrete.entropy(p, axis=-1), scipy.stats.entropy(p, axis=-1))
    q = p.T.copy()
    np.testing.assert_allclose(discrete.entropy(q, axis=0), scipy.stats.entropy(q, axis=0))


def test_kl_and_cross_entropy_match_scipy():
    """D[p||q] equals scipy.stats.entropy(p, q); H(p, q) = H(p) + D[p||q]; inf off-support."""
    rng = np.random.default_rng(1)
    p = _random_simplex(rng, (5, 6))
    q = _random_simplex(rng, (5, 6), zeros=False)
    np.testing.assert_allclose(discrete.kl_divergence(p, q), scipy.stats.entropy(p, q, axis=-1))
    np.testing.assert_allclose(
        discrete.cross_entropy(p, q), discrete.entropy(p) + discrete.kl_divergence(p, q)
    )
    assert np.isinf(discrete.kl_divergence(q[0], p[0]))


def test_js_divergence_brute_force_and_log_form():
    """JS from the definition with explicit loops; the log-space form agrees to 1e-15."""
    rng = np.random.default_rng(2)
    p = _random_simplex(rng, (3, 5))
    q = _random_simplex(rng, (3, 5), zeros=False)
    expected = []
    for a, b in zip(p, q, strict=True):
        m = (a + b) / 2
        value = 0.0
        for ai, bi, mi in zip(a, b, m, strict=True):
            value += 0.5 * (ai * np.log(ai / mi) if ai > 0 else 0.0) + 0.5 * bi * np.log(bi / mi)
        expected.append(value)
    np.testing.assert_allclose(discrete.js_divergence(p, q), expected, rtol=1e-13)
    with np.errstate(divide="ignore"):
        from_logs = discrete.js_divergence_from_logs(np.log(p), np.log(q))
    np.testing.assert_allclose(from_logs, expected, rtol=1e-12, atol=1e-16)
    assert np.all(discrete.js_divergence(p, q) <= np.log(2))
    np.testing.assert_allclose(discrete.js_divergence(p, q), discrete.js_divergence(q, p))


def test_mutual_information_brute_force_and_entropy_identity():
    """I(A;B) from a double loop over the alphabet, and = H(A) + H(B) - H(A,B)."""
    rng = np.random.default_rng(3)
    joint = rng.random((4, 3))
    joint[1, 2] = 0.0
    joint /= joint.sum()
    pa, pb = joint.sum(1), joint.sum(0)
    brute = sum(
        joint[a, b] * np.log(joint[a, b] / (pa[a] * pb[b]))
        for a, b in itertools.product(range(4), range(3))
        if joint[a, b] > 0
    )
    np.testing.assert_allclose(discrete.mutual_information(joint), brute, rtol=1e-13)
    h = scipy.stats.entropy
    np.testing.assert_allclose(
        discrete.mutual_information(joint), h(pa) + h(pb) - h(joint.ravel()), rtol=1e-12
    )
    batch = np.stack([joint, joint.T.copy().T])
    np.testing.assert_allclose(discrete.mutual_information(batch), [brute, brute], rtol=1e-13)
    np.testing.assert_allclose(discrete.mutual_information(joint.T, axes=(1, 0)), brute, rtol=1e-13)


def test_conditionals_marginals_and_conditional_entropy():
    """p(b|a) rows sum to 1, I from p(a), p(b|a) equals I of the joint, H(B|A) = H(A,B) - H(A)."""
    rng = np.random.default_rng(4)
    joint = rng.random((5, 4))
    joint[2] = 0.0
    joint /= joint.sum()
    cond = discrete.conditional(joint, given_axis=0)
    np.testing.assert_allclose(cond.sum(axis=1), [1, 1, 0, 1, 1])
    np.testing.assert_allclose(discrete.marginal(joint, 0), joint.sum(1))
    np.testing.assert_allclose(discrete.marginal(joint, 1), joint.sum(0))
    np.testing.assert_allclose(
        discrete.mutual_information_from_conditional(joint.sum(1), cond),
        discrete.mutual_information(joint),
        rtol=1e-13,
    )
    h = scipy.stats.entropy
    np.testing.assert_allclose(
        discrete.conditional_entropy(joint), h(joint.ravel()) - h(joint.sum(1)), rtol=1e-12
    )
    col = discrete.conditional(joint, given_axis=1)
    np.testing.assert_allclose(col.sum(axis=0), 1.0)


@pytest.mark.parametrize("axis", [0, 1])
def test_logsumexp_and_log_normalize_match_scipy(axis):
    """logsumexp equals scipy's, including rows of -inf (-> -inf, no NaN)."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(4, 6)) * 300
    x[0, :] = -np.inf
    x[:, 0] = -np.inf
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = scipy_logsumexp(x, axis=axis)
    got = discrete.logsumexp(x, axis=axis)
    np.testing.assert_array_equal(np.isneginf(got), np.isneginf(expected))
    finite = np.isfinite(expected)
    np.testing.assert_allclose(got[finite], expected[finite], rtol=1e-14)
    norm = np.exp(discrete.log_normalize(x[1:, 1:], axis=axis))
    np.testing.assert_allclose(norm.sum(axis=axis), 1.0)
