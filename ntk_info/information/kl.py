"""KL divergence of the trained ensemble to its prior, an upper bound on I(Z;D|X) (spec C.4).

The prior is the t = 0 ensemble, p_0(z|x) = N(0, K(x, x) I_k). Two forms: per point
(`kl_prior`, marginals only) and joint across the evaluation points (`kl_prior_joint`, the
form of the paper's code). Both return (T,) float64 per point, np.inf (never NaN) where the
posterior is deterministic (training points at t = inf). `kl_columns` is the information
plane's builder for this family.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ntk_info._checks import as_float_array
from ntk_info.ensemble import InfiniteEnsemble, Prediction
from ntk_info.information._inputs import as_prediction

__all__ = ["kl_prior", "kl_prior_joint", "kl_columns", "JITTER"]

#: Relative jitter added to the diagonal of covariance matrices before a Cholesky factorisation.
JITTER = 1e-10


def kl_prior(source: Any, prior_var: Any = None, *, x: Any = None, t: Any = None) -> np.ndarray:
    """Per-point KL to the prior, mean over points of KL(N(mu, s I_k) || N(0, s0 I_k)).

    KL_i = 1/2 [ k (s/s0 - 1 - log(s/s0)) + |mu|^2 / s0 ],  s0 = K(x, x) (the t = 0 variance).
    An upper bound on I(Z;D|X) (spec C.4). Infinite (np.inf, not NaN) when some s = 0, i.e. on
    training points at t = inf.

    Args:
      source: `Prediction` (T, m, k), or an `InfiniteEnsemble` with `x`, `t`.
      prior_var: (m,) prior variances K(x_i, x_i); required with a Prediction (e.g. the var of
        predict(x, 0)); computed from the ensemble otherwise.

    Returns:
      (T,) float64 (inf where some s = 0).

    Reference: Shwartz-Ziv & Alemi (2019), eq. (14).
    """
    if isinstance(source, InfiniteEnsemble) and prior_var is None and x is not None:
        prior_var = source.predict(x, 0.0).var[0]
    pred = as_prediction(source, x, t)
    if prior_var is None:
        raise ValueError(
            "`prior_var` (m,) is required with a Prediction: the t = 0 variances K(x, x), "
            "e.g. ensemble.predict(x, 0).var[0]."
        )
    s0 = as_float_array("prior_var", prior_var, ndim=1)
    if s0.shape[0] != pred.var.shape[1] or np.any(s0 <= 0):
        raise ValueError(
            f"`prior_var` must be (m,) = ({pred.var.shape[1]},) positive prior variances, got "
            f"shape {s0.shape} with min {s0.min() if s0.size else 'n/a'}."
        )
    return _per_point(pred, s0)


def kl_prior_joint(
    source: Any, prior_cov: Any = None, *, x: Any = None, t: Any = None, jitter: float = JITTER
) -> np.ndarray:
    """Joint KL to the prior per point: (1/m) sum_c KL(N(mu_c, Sigma_tau) || N(0, K**)).

    KL_c = 1/2 [ Tr(K**^{-1} Sigma) + mu_c^T K**^{-1} mu_c - m + log det K** - log det Sigma ].
    Cholesky factors of K** + eps I and Sigma + eps I with eps = `jitter` * mean diag(K**);
    the jitter only guards round-off. If some marginal variance of Sigma is exactly 0 (training
    points at t = inf) the KL is returned as np.inf.

    Args:
      source: `Prediction` with `cov` (T, m, m), or an ensemble with `x`, `t`.
      prior_cov: (m, m) prior covariance K(X*, X*) (the t = 0 covariance); computed from the
        ensemble when `source` is one.
      jitter: relative diagonal jitter.

    Returns:
      (T,) float64.

    Reference: Shwartz-Ziv & Alemi (2019), eq. (14), joint form of their code (spec C.4).
    """
    if isinstance(source, InfiniteEnsemble) and prior_cov is None and x is not None:
        prior_cov = source.predict(x, 0.0, full_cov=True).cov[0]
    pred = as_prediction(source, x, t, full_cov=True)
    if prior_cov is None:
        raise ValueError(
            "`prior_cov` (m, m) is required with a Prediction: "
            "ensemble.predict(x, 0, full_cov=True).cov[0]."
        )
    m = pred.mean.shape[1]
    prior = as_float_array("prior_cov", prior_cov, ndim=2)
    if prior.shape != (m, m):
        raise ValueError(f"`prior_cov` must have shape ({m}, {m}), got {prior.shape}.")
    jitter = float(jitter)
    if not 0 <= jitter < 1:
        raise ValueError(f"`jitter` must be in [0, 1), got {jitter}.")
    return _joint(pred, prior, jitter)


def kl_columns(
    pred: Prediction, prior_var: np.ndarray, prior_cov: np.ndarray | None
) -> dict[str, Any]:
    """The information plane's KL columns: kl_prior, and kl_prior_joint when `prior_cov` is given
    (the prediction then carries `cov`); each (T,)."""
    columns: dict[str, Any] = {"kl_prior": _per_point(pred, prior_var)}
    if prior_cov is not None:
        columns["kl_prior_joint"] = _joint(pred, prior_cov, JITTER)
    return columns


# ----------------------------------------------------------------------------------------------
# Cores: validated prediction and prior in, (T,) out.
# ----------------------------------------------------------------------------------------------


def _per_point(pred: Prediction, s0: np.ndarray) -> np.ndarray:
    k = pred.mean.shape[2]
    ratio = pred.var / s0[None]
    with np.errstate(divide="ignore"):
        log_ratio = np.where(ratio > 0, np.log(np.where(ratio > 0, ratio, 1.0)), -np.inf)
    per_point = 0.5 * (k * (ratio - 1.0 - log_ratio) + np.sum(pred.mean**2, axis=-1) / s0[None])
    return np.mean(per_point, axis=1)


def _joint(pred: Prediction, prior: np.ndarray, jitter: float) -> np.ndarray:
    from scipy.linalg import cho_solve

    m, k = pred.mean.shape[1:]
    eps = jitter * float(np.mean(np.diag(prior)))
    chol_prior = np.linalg.cholesky(0.5 * (prior + prior.T) + eps * np.eye(m))
    logdet_prior = 2.0 * np.sum(np.log(np.diag(chol_prior)))
    out = np.empty(pred.mean.shape[0])
    for i, (cov, mu) in enumerate(zip(pred.cov, pred.mean, strict=True)):
        if np.any(np.diag(cov) <= 0):
            out[i] = np.inf
            continue
        chol = np.linalg.cholesky(0.5 * (cov + cov.T) + eps * np.eye(m))
        logdet = 2.0 * np.sum(np.log(np.diag(chol)))
        trace = np.trace(cho_solve((chol_prior, True), cov))
        quad = np.sum(mu * cho_solve((chol_prior, True), mu))
        out[i] = 0.5 * (k * (trace - m + logdet_prior - logdet) + quad) / m
    return np.maximum(out, 0.0)  # KL >= 0: clears round-off of order jitter at t = 0
