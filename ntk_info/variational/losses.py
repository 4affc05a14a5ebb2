"""VIB and VdualIB losses and their per-batch metrics, as pure jax functions (nats).

Notation (spec dualib.md §4, IB convention: beta multiplies the distortion, Alemi's
beta_VIB = 1 / beta): encoder e(z|x) = N(mu(x), diag sigma(x)^2), decoder q(y|z), prior r(z)
(N(0, I), or a learned class-conditional backward encoder b(z|y), CEB-style), label-noise model
p~(y|x) standing in for p(y|x).

  VIB:      L = E[ rate + beta * CE(t, q) ],           CE(t, q) = -sum_y t(y) log q(y|z)
  VdualIB:  L = E[ rate + beta * KL(q(.|z) || p~(.|x)) ]
  general:  L = E[ rate + beta * CE(t, q) + gamma * KL(q || p~) ]

with rate = KL[e(z|x) || r(z)] (or KL[e(z|x) || b(z|y)]) in closed form for diagonal Gaussians.
The targets t are the one-hot labels or the soft labels p~ (the reference's `noisy_learning`).

Reference: Alemi et al., "Deep Variational Information Bottleneck", ICLR 2017, eq. (6)-(7);
Piran, Shwartz-Ziv & Tishby, "The Dual Information Bottleneck", arXiv:2006.04641, §5.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

__all__ = [
    "gaussian_kl",
    "rate",
    "cross_entropy",
    "categorical_kl",
    "general_loss",
    "vib_loss",
    "vdualib_loss",
    "batch_metrics",
]

Array = Any


def _check_same_shape(**arrays: Array) -> None:
    """ValueError naming the arrays if their (static) shapes differ: mismatched latent sizes."""
    shapes = {name: tuple(jnp.shape(a)) for name, a in arrays.items()}
    if len(set(shapes.values())) > 1:
        listed = ", ".join(f"`{k}` {v}" for k, v in shapes.items())
        raise ValueError(
            f"mismatched latent sizes: {listed}; the encoder and the prior (or backward "
            "encoder) must have the same latent dimension."
        )


def gaussian_kl(mu: Array, sigma: Array, mu_prior: Array, sigma_prior: Array) -> Array:
    """KL divergence between diagonal Gaussians, KL[N(mu, diag sigma^2) || N(m, diag s^2)].

    KL = sum_j [ log(s_j / sigma_j) + (sigma_j^2 + (mu_j - m_j)^2) / (2 s_j^2) - 1/2 ].

    Args:
      mu, sigma: (..., d) mean and standard deviation (> 0) of the first Gaussian.
      mu_prior, sigma_prior: (..., d) those of the second.

    Returns:
      (...,) KL in nats, summed over the d latent coordinates.
    """
    _check_same_shape(mu=mu, sigma=sigma, mu_prior=mu_prior, sigma_prior=sigma_prior)
    ratio = (sigma / sigma_prior) ** 2
    shift = ((mu - mu_prior) / sigma_prior) ** 2
    return 0.5 * jnp.sum(ratio + shift - 1.0 - jnp.log(ratio), axis=-1)


def rate(mu: Array, sigma: Array, mu_prior: Array | None = None, sigma_prior: Array | None = None):
    """The rate term, an upper bound on I(X;Z): KL[e(z|x) || r(z)] per example.

    r(z) = N(0, I) when `mu_prior` and `sigma_prior` are None (VIB), else the given diagonal
    Gaussian, e.g. the backward encoder b(z|y) at the true label (CEB / the reference VdualIB).
    E_x KL[e(z|x) || r(z)] = I(X;Z) + KL[e(z) || r(z)] >= I(X;Z) (Alemi et al. 2017, eq. 13).
    The reference's VIB prior is N(1, I); its mean shift is absorbed by the encoder's last bias,
    so N(0, I) is used here.

    Args:
      mu, sigma: (n, d) encoder means and standard deviations.
      mu_prior, sigma_prior: (n, d) or (d,) prior parameters, or None for N(0, I).

    Returns:
      (n,) rate per example, nats.
    """
    if (mu_prior is None) != (sigma_prior is None):
        raise ValueError("give both `mu_prior` and `sigma_prior`, or neither (for N(0, I)).")
    if mu_prior is None:
        mu_prior, sigma_prior = jnp.zeros_like(mu), jnp.ones_like(sigma)
    else:
        for name, prior, ours in (("mu_prior", mu_prior, mu), ("sigma_prior", sigma_prior, sigma)):
            if jnp.shape(prior)[-1:] != jnp.shape(ours)[-1:]:
                raise ValueError(
                    f"mismatched latent sizes: `{name}` has shape {jnp.shape(prior)}, the encoder "
                    f"{jnp.shape(ours)}; the prior must have the encoder's latent dimension."
                )
        mu_prior = jnp.broadcast_to(mu_prior, jnp.shape(mu))
        sigma_prior = jnp.broadcast_to(sigma_prior, jnp.shape(sigma))
    return gaussian_kl(mu, sigma, mu_prior, sigma_prior)


def cross_entropy(log_q: Array, targets: Array) -> Array:
    """Cross-entropy CE(t, q) = -sum_y t(y) log q(y|z) per example.

    Args:
      log_q: (n, K) decoder log-probabilities (log_softmax of the logits).
      targets: (n, K) one-hot or soft labels (rows summing to 1).

    Returns:
      (n,) nats.
    """
    _check_same_shape(log_q=log_q, targets=targets)
    return -jnp.sum(targets * log_q, axis=-1)


def categorical_kl(log_q: Array, log_p: Array) -> Array:
    """KL[q || p] = sum_y q(y) (log q(y) - log p(y)) per example (the dual distortion).

    Exact over the K classes; 0 iff q = p, > 0 otherwise (Gibbs' inequality).

    Args:
      log_q: (n, K) decoder log-probabilities q(y|z).
      log_p: (n, K) log p~(y|x) of the label-noise model (finite: p~ > 0).

    Returns:
      (n,) nats.
    """
    _check_same_shape(log_q=log_q, log_p=log_p)
    return jnp.sum(jnp.exp(log_q) * (log_q - log_p), axis=-1)


def general_loss(
    rates: Array,
    log_q: Array,
    targets: Array,
    log_noise: Array,
    beta: Array,
    gamma: Array,
) -> Array:
    """The reference's general loss, batch mean of rate + beta CE(t, q) + gamma KL(q || p~).

    gamma = 0 gives the VIB loss, beta = 0 the VdualIB loss with gamma in the role of beta
    (spec dualib.md §4, `loss_func_inner`).

    Args:
      rates: (n,) rate per example (see `rate`).
      log_q: (n, K) decoder log-probabilities at one sampled z per example.
      targets: (n, K) labels for the cross-entropy (one-hot, or p~ for noisy learning).
      log_noise: (n, K) log p~(y|x).
      beta, gamma: scalars >= 0.

    Returns:
      scalar loss, nats.
    """
    distortion = beta * cross_entropy(log_q, targets) + gamma * categorical_kl(log_q, log_noise)
    return jnp.mean(rates + distortion)


def vib_loss(rates: Array, log_q: Array, targets: Array, beta: Array) -> Array:
    """VIB loss, batch mean of rate + beta CE(t, q) (Alemi et al. 2017, with beta -> 1/beta).

    Args: as `general_loss`. Returns: scalar, nats.
    """
    return jnp.mean(rates + beta * cross_entropy(log_q, targets))


def vdualib_loss(rates: Array, log_q: Array, log_noise: Array, beta: Array) -> Array:
    """VdualIB loss, batch mean of rate + beta KL[q(.|z) || p~(.|x)] (dualIB paper, §5).

    Args: as `general_loss`. Returns: scalar, nats.
    """
    return jnp.mean(rates + beta * categorical_kl(log_q, log_noise))


def batch_metrics(
    rates: Array, log_q: Array, labels: Array, log_noise: Array, weights: Array | None = None
) -> dict:
    """Per-batch information metrics and accuracy, as (weighted) batch means.

    rate: E KL[e(z|x) || r(z)], an upper bound on I(X;Z);
    izy_lower: ln K - CE(one-hot, q), a lower bound on I(Z;Y) = H(Y) - H(Y|Z) for balanced
      classes (H(Y) = ln K, and CE >= H(Y|Z));
    izy_noise_lower: ln K - KL(q || p~) (the reference's `izyhat`);
    accuracy: fraction of argmax_y q(y|z) equal to the label.

    Args:
      rates: (n,) rates; log_q: (n, K) decoder log-probabilities; labels: (n, K) one-hot;
      log_noise: (n, K) log p~(y|x); weights: (n,) non-negative example weights (e.g. a 0/1
        padding mask), or None for equal weights.

    Returns:
      dict of scalars: rate, izy_lower, izy_noise_lower, accuracy.
    """
    weights = jnp.ones_like(rates) if weights is None else weights
    total = jnp.sum(weights)

    def mean(values: Array) -> Array:
        return jnp.sum(weights * values) / total

    log_k = jnp.log(jnp.asarray(jnp.shape(log_q)[-1], dtype=log_q.dtype))
    hit = jnp.argmax(log_q, axis=-1) == jnp.argmax(labels, axis=-1)
    return {
        "rate": mean(rates),
        "izy_lower": log_k - mean(cross_entropy(log_q, labels)),
        "izy_noise_lower": log_k - mean(categorical_kl(log_q, log_noise)),
        "accuracy": mean(hit.astype(log_q.dtype)),
    }


def log_softmax(logits: Array) -> Array:
    """log q(y|z) from decoder logits (jax.nn.log_softmax)."""
    return jax.nn.log_softmax(logits, axis=-1)
