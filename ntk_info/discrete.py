"""Information quantities of discrete distributions, in nats, float64, vectorised along axes.

Every function takes probability arrays with the distribution along `axis` (any other axes
are batch axes) and uses the conventions 0 log 0 = 0 and p log(p/0) = inf for p > 0
(`scipy.special.xlogy`, `rel_entr`). They trust their inputs: validate at the public
boundary (`ntk_info._checks`) before calling them in a loop.

The `*_from_logs` variants take log-probabilities and also accept an array module `xp`
(`numpy` or `jax.numpy`), so that jitted solvers reuse the same formulas.

Reference: T. M. Cover and J. A. Thomas, Elements of Information Theory, 2nd ed., ch. 2.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

import numpy as np
from scipy.special import rel_entr, xlogy

__all__ = [
    "normalize",
    "entropy",
    "cross_entropy",
    "kl_divergence",
    "js_divergence",
    "js_divergence_from_logs",
    "log_normalize",
    "logsumexp",
    "marginal",
    "conditional",
    "mutual_information",
    "conditional_entropy",
    "mutual_information_from_conditional",
]

Axis = int


def _quiet(xp: Any):
    """Silences NumPy's log(0) / 0*inf warnings where -inf log-probabilities are intended."""
    return np.errstate(divide="ignore", invalid="ignore") if xp is np else nullcontext()


def normalize(p: Any, axis: Axis = -1) -> np.ndarray:
    """Rescales `p` to sum to 1 along `axis`: p / sum_axis p.

    Args:
      p: non-negative array with a positive sum along `axis`.
      axis: the axis holding the distribution.

    Returns:
      float64 array of the same shape.
    """
    p = np.asarray(p, dtype=np.float64)
    return p / np.sum(p, axis=axis, keepdims=True)


def log_normalize(log_p: Any, axis: Axis = -1, xp: Any = np) -> Any:
    """Normalises log-weights along `axis`: log p - logsumexp_axis log p (log-softmax).

    Args:
      log_p: log of unnormalised weights; -inf entries are zero weights.
      axis: the axis holding the distribution.
      xp: the array module (numpy or jax.numpy).

    Returns:
      log-probabilities of the same shape.
    """
    return log_p - logsumexp(log_p, axis=axis, keepdims=True, xp=xp)


def logsumexp(log_p: Any, axis: Axis = -1, keepdims: bool = False, xp: Any = np) -> Any:
    """log sum_i exp(log_p_i) along `axis`, shifted by the maximum; -inf if all entries are.

    Args:
      log_p: log-weights; -inf entries are zero weights.
      axis: the axis to reduce.
      keepdims: keep the reduced axis with length 1.
      xp: the array module (numpy or jax.numpy).

    Returns:
      the reduced array.
    """
    top = xp.max(log_p, axis=axis, keepdims=True)
    top = xp.where(xp.isfinite(top), top, 0.0)
    with _quiet(xp):
        out = xp.log(xp.sum(xp.exp(log_p - top), axis=axis, keepdims=True)) + top
    return out if keepdims else xp.squeeze(out, axis=axis)


def entropy(p: Any, axis: Axis = -1) -> np.ndarray:
    """Shannon entropy H(p) = -sum_i p_i log p_i in nats.

    Args:
      p: probabilities, shape (..., n, ...) with the distribution along `axis`.
      axis: the axis holding the distribution.

    Returns:
      array with `axis` removed.

    Reference: Cover & Thomas, eq. (2.1).
    """
    p = np.asarray(p, dtype=np.float64)
    return -np.sum(xlogy(p, p), axis=axis)


def cross_entropy(p: Any, q: Any, axis: Axis = -1) -> np.ndarray:
    """Cross-entropy H(p, q) = -sum_i p_i log q_i in nats (inf if q_i = 0 < p_i).

    Args:
      p, q: probabilities, broadcastable, distribution along `axis`.
      axis: the axis holding the distribution.

    Returns:
      array with `axis` removed.
    """
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    return -np.sum(xlogy(p, q), axis=axis)


def kl_divergence(p: Any, q: Any, axis: Axis = -1) -> np.ndarray:
    """Kullback-Leibler divergence D[p || q] = sum_i p_i log(p_i / q_i) in nats.

    Args:
      p, q: probabilities, broadcastable, distribution along `axis`.
      axis: the axis holding the distribution.

    Returns:
      array with `axis` removed; inf where q_i = 0 < p_i.

    Reference: Cover & Thomas, eq. (2.26).
    """
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    return np.sum(rel_entr(p, q), axis=axis)


def js_divergence(p: Any, q: Any, axis: Axis = -1) -> np.ndarray:
    """Jensen-Shannon divergence JS(p, q) = (D[p || m] + D[q || m]) / 2, m = (p + q) / 2.

    Args:
      p, q: probabilities, broadcastable, distribution along `axis`.
      axis: the axis holding the distribution.

    Returns:
      array with `axis` removed, in [0, log 2].

    Reference: J. Lin, IEEE Trans. Inf. Theory 37 (1991), eq. (4.1).
    """
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    m = 0.5 * (p + q)
    return 0.5 * (kl_divergence(p, m, axis=axis) + kl_divergence(q, m, axis=axis))


def js_divergence_from_logs(log_p: Any, log_q: Any, axis: Axis = -1, xp: Any = np) -> Any:
    """Jensen-Shannon divergence from log-probabilities, stable and jit-compatible.

    JS = 1/2 sum_i [p_i (log p_i - log m_i) + q_i (log q_i - log m_i)],
    log m = logaddexp(log p, log q) - log 2; terms with p_i = 0 (log p_i = -inf) are 0.

    Args:
      log_p, log_q: log-probabilities, broadcastable, distribution along `axis`.
      axis: the axis holding the distribution.
      xp: the array module (numpy or jax.numpy).

    Returns:
      array with `axis` removed.
    """
    with _quiet(xp):
        log_m = xp.logaddexp(log_p, log_q) - np.log(2.0)
        p = xp.exp(log_p)
        q = xp.exp(log_q)
        term_p = xp.where(p > 0, p * (log_p - log_m), 0.0)
        term_q = xp.where(q > 0, q * (log_q - log_m), 0.0)
    return 0.5 * xp.sum(term_p + term_q, axis=axis)


def marginal(joint: Any, axis: Axis) -> np.ndarray:
    """Marginal of a joint distribution: sums out every axis except `axis`.

    Args:
      joint: joint probabilities, any rank.
      axis: the axis whose marginal is returned.

    Returns:
      1-D array of length joint.shape[axis].
    """
    joint = np.asarray(joint, dtype=np.float64)
    axis = axis % joint.ndim
    other = tuple(i for i in range(joint.ndim) if i != axis)
    return np.sum(joint, axis=other)


def conditional(joint: Any, given_axis: Axis = 0) -> np.ndarray:
    """Conditional distribution of a 2-D joint: p(b|a) = p(a, b) / p(a), a along `given_axis`.

    Rows (or columns) with p(a) = 0 are returned as zeros.

    Args:
      joint: (|A|, |B|) joint if given_axis = 0, (|B|, |A|) if given_axis = 1.
      given_axis: the axis of the conditioning variable.

    Returns:
      array of the joint's shape whose slices along the other axis sum to 1 (or 0).
    """
    joint = np.asarray(joint, dtype=np.float64)
    other = 1 - given_axis % 2
    total = np.sum(joint, axis=other, keepdims=True)
    return np.divide(joint, total, out=np.zeros_like(joint), where=total > 0)


def mutual_information(joint: Any, axes: tuple[Axis, Axis] = (-2, -1)) -> np.ndarray:
    """Mutual information of a joint: I(A;B) = sum_{a,b} p(a,b) log[p(a,b) / (p(a) p(b))].

    Args:
      joint: probabilities with the two variables along `axes` (other axes are batch axes);
        each slice must sum to 1.
      axes: the axes of A and B.

    Returns:
      array with both axes removed (a float for a 2-D joint), in nats.

    Reference: Cover & Thomas, eq. (2.28).
    """
    joint = np.asarray(joint, dtype=np.float64)
    a_axis, b_axis = (ax % joint.ndim for ax in axes)
    p_a = np.sum(joint, axis=b_axis, keepdims=True)
    p_b = np.sum(joint, axis=a_axis, keepdims=True)
    return np.sum(rel_entr(joint, p_a * p_b), axis=(a_axis, b_axis))


def conditional_entropy(joint: Any) -> float:
    """Conditional entropy of a 2-D joint p(a, b): H(B|A) = -sum p(a,b) log p(b|a).

    Args:
      joint: (|A|, |B|) joint summing to 1.

    Returns:
      H(B|A) in nats.
    """
    joint = np.asarray(joint, dtype=np.float64)
    return float(-np.sum(xlogy(joint, conditional(joint, 0))))


def mutual_information_from_conditional(p_a: Any, p_b_given_a: Any) -> np.ndarray:
    """I(A;B) = sum_a p(a) D[p(b|a) || p(b)] with p(b) = sum_a p(a) p(b|a).

    Args:
      p_a: (..., |A|) marginal of A.
      p_b_given_a: (..., |A|, |B|) conditional, rows sum to 1 (rows with p(a) = 0 ignored).

    Returns:
      array of the batch shape, in nats.
    """
    p_a = np.asarray(p_a, dtype=np.float64)
    p_b_given_a = np.asarray(p_b_given_a, dtype=np.float64)
    p_b = np.einsum("...a,...ab->...b", p_a, p_b_given_a)
    kl = np.sum(rel_entr(p_b_given_a, p_b[..., None, :]), axis=-1)
    return np.sum(np.where(p_a > 0, p_a * kl, 0.0), axis=-1)
