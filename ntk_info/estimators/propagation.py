"""Goldfeld et al.'s sample-propagation (SP) estimator of I(X;T) for noisy networks.

T = S + N(0, beta^2 I) with S = f(X) the clean output of the layer (Goldfeld et al., ICML 2019):
with X uniform over the n inputs, h(T) and h(T|X=x) are entropies of Gaussian mixtures with
centres the samples of S, estimated by Monte Carlo (`ntk_info.mixture`, their h_MC):

    I(X;T) = h(T) - (1/n) sum_x h(T | X = x),
    h(T) = -E log g(T), g(t) = (1/(nR)) sum_{x, r} phi_beta(t - s_{x,r}).

A deterministic earlier network (z of shape (n, d)) gives h(T|X=x) = (d/2) log(2 pi e beta^2)
exactly (their layer-1 case); noisy earlier layers give R replicas s_{x,1..R} of S per input
(z of shape (n, R, d)) and h(T|X=x) is the entropy of the R-component mixture of x.
With integer labels y: I(T;Y) = h(T) - sum_y p(y) h(T | Y = y), each a pooled mixture.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ntk_info import mixture
from ntk_info._checks import as_float_array, check_count, check_positive
from ntk_info._mixture_inputs import MIEstimate
from ntk_info.estimators._validate import as_labels, is_labels, samples

__all__ = ["sample_propagation"]


def _entropy(centres: np.ndarray, variance: float, seed: int, n_samples: int) -> MIEstimate:
    """MC entropy of the uniform mixture of N(c, variance I) over `centres` (..., m, d)."""
    variances = np.full(centres.shape[:-1], variance)
    samples_total = max(n_samples, 2 * centres.shape[-2])
    return mixture.entropy(centres, variances, method="mc", seed=seed, n_samples=samples_total)


def sample_propagation(
    x: Any, z: Any, *, beta: float, n_samples: int | None = None, seed: int = 0
) -> MIEstimate:
    """SP estimate of I(X;T), T = f(X) + N(0, beta^2 I), X uniform over the n inputs; nats.

    Args:
      x: (n, d_x) inputs (row i aligned with z's row i; each row one value of X), or (n,)
        integer labels (then I(T;Y)).
      z: (n, d) clean outputs f(x_i) of the layer, or (n, R, d) with R >= 2 samples of S per
        input (noise propagated through earlier noisy layers, none added in this layer).
      beta: noise standard deviation beta > 0 (Goldfeld et al.'s sigma; their SZT runs 0.1).
      n_samples: Monte Carlo samples of T for each mixture entropy (default 16 per centre;
        their `num_MC_samples` per centre is 1000).
      seed: seed of the Monte Carlo draws.

    Returns:
      `MIEstimate(value, se)`: nats; se from the Monte Carlo replicas (terms independent).

    Reference: Goldfeld, van den Berg, Greenewald, Melnyk, Nguyen, Kingsbury & Polyanskiy,
    "Estimating Information Flow in Deep Neural Networks", ICML 2019, sec. 3-4.
    """
    variance = check_positive("beta", beta) ** 2
    check_count("seed", seed, 0, "a PRNG seed")
    z = as_float_array("z", z, ndim=(2, 3))
    replicas = z if z.ndim == 3 else z[:, None, :]
    n, r, d = replicas.shape
    per_centre = 16 if n_samples is None else check_count("n_samples", n_samples, 2, "MC draws")
    total = per_centre * n * r if n_samples is None else per_centre
    if is_labels(x):
        y = as_labels("x", x, n)
        return _label_information(y, replicas, variance, seed, total)
    samples(x, replicas[:, 0, :], allow_constant=True)
    if r == 1:
        estimate = mixture.mc_estimate(
            replicas[:, 0, :], np.full(n, variance), seed=seed, n_samples=total
        )
        return MIEstimate(float(estimate.value), float(estimate.se))
    pooled = _entropy(replicas.reshape(n * r, d), variance, seed, total)
    per_x = _entropy(replicas, variance, seed + 1, max(2 * r, total // n))
    se = np.sqrt(pooled.se**2 + np.sum(per_x.se**2) / n**2)
    return MIEstimate(float(pooled.value - np.mean(per_x.value)), float(se))


def _label_information(
    y: np.ndarray, replicas: np.ndarray, variance: float, seed: int, total: int
) -> MIEstimate:
    n, r, d = replicas.shape
    whole = _entropy(replicas.reshape(n * r, d), variance, seed, total)
    value, var = float(whole.value), float(whole.se) ** 2
    for label, count in enumerate(np.bincount(y)):
        part = _entropy(replicas[y == label].reshape(-1, d), variance, seed + 1 + label, total)
        value -= count / n * float(part.value)
        var += (count / n * float(part.se)) ** 2
    return MIEstimate(float(value), float(np.sqrt(var)))
