"""Kolchinsky-Tracey pairwise-distance bounds on I(X;T) for T = h(X) + N(0, s I) (Saxe et al.).

X uniform over the n sample rows and additive Gaussian noise of variance s make T a uniform
Gaussian mixture with centres h(x_i); the bounds are those of `ntk_info.mixture`:

    I_up  = -(1/n) sum_i log (1/n) sum_j exp(-|h_i - h_j|^2 / (2 s))   (KL, upper bound),
    I_low = -(1/n) sum_i log (1/n) sum_j exp(-|h_i - h_j|^2 / (8 s))   (Bhattacharyya, lower).

With integer labels y, Saxe et al.'s I(T;Y) = H(T) - sum_y p(y) H(T|Y=y), each entropy from
the same pairwise bound (`mixture.entropy`); that difference is an estimate, not a bound.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ntk_info import mixture
from ntk_info._checks import check_positive
from ntk_info.estimators._validate import as_labels, is_labels, samples

__all__ = ["kde_upper", "kde_lower"]


def _bound(x: Any, z: Any, noise_variance: float, method: str) -> float:
    s = check_positive("noise_variance", noise_variance)
    if is_labels(x):
        z = samples(np.zeros(np.shape(z)[:1]), z, allow_constant=True)[1]
        y = as_labels("x", x, z.shape[0])
        return _label_information(y, z, s, method)
    _, z = samples(x, z, allow_constant=True)
    variances = np.full(z.shape[0], s)
    return float(mixture.mutual_information(z, variances, method=method).value)


def _label_information(y: np.ndarray, z: np.ndarray, s: float, method: str) -> float:
    def entropy(rows: np.ndarray) -> float:
        return float(mixture.entropy(rows, np.full(rows.shape[0], s), method=method).value)

    p_y = np.bincount(y) / y.size
    conditional = sum(p * entropy(z[y == label]) for label, p in enumerate(p_y))
    return max(entropy(z) - conditional, 0.0)


def kde_upper(x: Any, z: Any, *, noise_variance: float = 0.1) -> float:
    """Pairwise-KL upper bound on I(X;T), T = h(X) + N(0, s I), X uniform over the n rows; nats.

    I_up = log n - (1/n) sum_i logsumexp_j [-|h_i - h_j|^2 / (2 s)] >= I(X;T)
    (`mixture.pairwise_kl_upper`, exact KL between equal-variance Gaussians).

    Args:
      x: (n, d_x) inputs (only aligned with z; each row one value of X) or (n,) integer labels
        (then Saxe et al.'s estimate of I(T;Y)).
      z: (n, d) clean activations h(x_i) (no noise added).
      noise_variance: s > 0, variance of the added noise per unit (Saxe et al.'s paper: 0.1,
        "chosen to give results qualitatively similar to binning"; their notebooks 1e-3).

    Returns:
      float, nats, in [0, log n].

    Reference: Kolchinsky & Tracey, Entropy 19:361 (2017), Theorem 2; Saxe et al., ICLR 2018.
    """
    return _bound(x, z, noise_variance, "pairwise_kl")


def kde_lower(x: Any, z: Any, *, noise_variance: float = 0.1) -> float:
    """Pairwise-Bhattacharyya lower bound on I(X;T), T = h(X) + N(0, s I); nats.

    I_low = log n - (1/n) sum_i logsumexp_j [-|h_i - h_j|^2 / (8 s)] <= I(X;T)
    (`mixture.pairwise_bhattacharyya_lower`). Arguments as in `kde_upper`.

    Returns:
      float, nats, in [0, log n].

    Reference: Kolchinsky & Tracey, Entropy 19:361 (2017), Theorem 3 and Corollary.
    """
    return _bound(x, z, noise_variance, "pairwise_bhattacharyya")
