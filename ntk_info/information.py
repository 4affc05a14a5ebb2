"""Information quantities of an infinite ensemble over the training-time grid.

One small pure function per quantity (spec `information_ntk.md` §3, C.1-C.7), each vectorised
over an array of T times, float64, and `information_plane`, which evaluates the ensemble once
and derives every quantity from that single prediction into a tidy table.

Conventions (DESIGN.md). `t` is neural-tangents' time, tau = learning_rate * t / (n k) the
dimensionless time; t = 0 is the prior, t = np.inf the converged ensemble. The predictive
distribution of the output on a point x is N(mu(x), s(x) I_k) (the k outputs share one
variance), and across points N(mu_c, Sigma_tau(X*, X*)) for each output column c.

Prediction-level functions (`mse`, `accuracy`, `loss_gibbs`, `loss_bayes`, `loss_bayes_joint`,
`kl_prior`, `kl_prior_joint`, `izx_bounds`, `izy_lower`, ...) take a `Prediction` (from
`InfiniteEnsemble.predict`) and targets y (m, k); they also accept an `InfiniteEnsemble` with
`x=` and `t=`, and then predict first. Ensemble-level functions (`fisher_trace`,
`parameter_energy`, `weight_information`, `weight_information_rate`) take the ensemble and t:
they only need the training kernels and the eigendecomposition of Theta (mode 'ntk').

Losses are negative log-likelihoods per point in nats (lower is better); the paper's Bayes and
Gibbs "losses" are the corresponding log-likelihoods (spec C.1, with its sign fix).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ntk_info._checks import as_float_array, as_times
from ntk_info.discrete import entropy
from ntk_info.ensemble import InfiniteEnsemble, Prediction, gain

__all__ = [
    "LABEL_KINDS",
    "label_kind",
    "discrete_entropy",
    "mse",
    "accuracy",
    "loss_gibbs",
    "loss_bayes",
    "loss_bayes_joint",
    "kl_prior",
    "kl_prior_joint",
    "izx_bounds",
    "izx_lower",
    "izx_upper",
    "izx_mc",
    "fit_decoder_variance",
    "expected_log_decoder",
    "izy_lower",
    "izy_lower_paper",
    "fisher_trace",
    "parameter_energy",
    "kernel_scale_derivative",
    "weight_information",
    "weight_information_rate",
    "information_plane",
    "information_plane_from_dataset",
]

LABEL_KINDS = ("onehot", "parity", "regression")
LOG_2PI = math.log(2.0 * math.pi)

#: Default bounded range of the decoder variance sigma^2 fitted on the training points.
SIGMA2_RANGE = (1e-2, 1e2)

#: Relative jitter added to the diagonal of covariance matrices before a Cholesky factorisation.
JITTER = 1e-10


# ----------------------------------------------------------------------------------------------
# Validation at the boundary.
# ----------------------------------------------------------------------------------------------


def _as_prediction(
    source: Any, x: Any = None, t: Any = None, *, full_cov: bool = False
) -> Prediction:
    """A validated `Prediction` from a Prediction, or from an ensemble with x and t."""
    if isinstance(source, InfiniteEnsemble):
        if x is None or t is None:
            raise ValueError(
                "With an InfiniteEnsemble as first argument pass the inputs `x=` and times `t=` "
                "(or pass a Prediction from ensemble.predict(x, t))."
            )
        return source.predict(x, t, full_cov=full_cov)
    if not isinstance(source, Prediction):
        raise TypeError(
            "Expected an ntk_info Prediction (ensemble.predict(x, t)) or an InfiniteEnsemble, "
            f"got {type(source).__name__}."
        )
    if x is not None or t is not None:
        raise ValueError(
            "`x` and `t` are only used with an InfiniteEnsemble; a Prediction has them."
        )
    mean, var = np.asarray(source.mean), np.asarray(source.var)
    if mean.ndim != 3 or var.shape != mean.shape[:2]:
        raise ValueError(
            f"Prediction has mean {mean.shape} and var {var.shape}; expected (T, m, k) and (T, m)."
        )
    if np.any(var < 0):
        raise ValueError(
            f"Prediction has negative variances (min {var.min():.3g}); variances must be >= 0 "
            "(clamp round-off with np.maximum(var, 0))."
        )
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(var))):
        raise ValueError("Prediction has NaN or infinite means/variances.")
    if full_cov and source.cov is None:
        raise ValueError(
            "This quantity needs the covariance across points: predict with full_cov=True."
        )
    return source


def _targets(y: Any, prediction: Prediction) -> np.ndarray:
    """y as (m, k) float64 matching the prediction's (T, m, k) mean."""
    y = as_float_array("y", y, ndim=(1, 2))
    if y.ndim == 1:
        y = y[:, None]
    m, k = prediction.mean.shape[1:]
    if y.shape != (m, k):
        raise ValueError(
            f"`y` has shape {y.shape} but the prediction is for {m} points with {k} outputs; "
            "pass the targets of the predicted points, shape (m, k)."
        )
    return y


def label_kind(y: Any) -> str:
    """'onehot' (rows of the identity, k >= 2), 'parity' (+-1, k = 1) or 'regression'."""
    y = np.asarray(y, dtype=np.float64)
    if y.ndim == 1:
        y = y[:, None]
    if y.shape[1] == 1 and np.all(np.abs(y) == 1.0):
        return "parity"
    if y.shape[1] >= 2 and np.all((y == 0.0) | (y == 1.0)) and np.all(y.sum(axis=1) == 1.0):
        return "onehot"
    return "regression"


def _resolve_labels(labels: str, y: np.ndarray) -> str:
    if labels == "auto":
        return label_kind(y)
    if labels not in LABEL_KINDS:
        raise ValueError(f"`labels` must be 'auto' or one of {LABEL_KINDS}, got {labels!r}.")
    if labels != "regression" and label_kind(y) != labels:
        raise ValueError(
            f"labels={labels!r} but `y` is not of that form (one-hot rows for 'onehot', "
            "+-1 with k = 1 for 'parity'); pass labels='regression' or fix `y`."
        )
    return labels


def discrete_entropy(y: Any) -> float:
    """Empirical Shannon entropy H(Y) = -sum_c p_c log p_c of the distinct rows of y, in nats."""
    y = np.asarray(y, dtype=np.float64)
    _, counts = np.unique(y.reshape(len(y), -1), axis=0, return_counts=True)
    return float(entropy(counts / counts.sum()))


# ----------------------------------------------------------------------------------------------
# Losses (C.1).
# ----------------------------------------------------------------------------------------------


def mse(source: Any, y: Any, *, x: Any = None, t: Any = None) -> np.ndarray:
    """Mean squared error of the ensemble mean, mean over points and outputs of (y - mu)^2.

    Args:
      source: `Prediction` (T, m, k), or an `InfiniteEnsemble` with `x` (m, ...) and `t` (T,).
      y: (m, k) targets.

    Returns:
      (T,) float64.
    """
    pred = _as_prediction(source, x, t)
    y = _targets(y, pred)
    return np.mean((y[None] - pred.mean) ** 2, axis=(1, 2))


def accuracy(
    source: Any, y: Any, *, labels: str = "auto", x: Any = None, t: Any = None
) -> np.ndarray:
    """Classification accuracy of the ensemble mean: argmax for one-hot, sign for +-1 labels.

    A +-1 prediction of exactly 0 (the prior mean at t = 0) counts as half correct (chance);
    one-hot ties go to the first class (np.argmax).

    Args:
      source, y, x, t: as in `mse`; y one-hot (m, k >= 2) or +-1 (m, 1).
      labels: 'auto', 'onehot' or 'parity'.

    Returns:
      (T,) float64 in [0, 1].
    """
    pred = _as_prediction(source, x, t)
    y = _targets(y, pred)
    kind = _resolve_labels(labels, y)
    if kind == "onehot":
        return np.mean(np.argmax(pred.mean, axis=-1) == np.argmax(y, axis=-1)[None], axis=1)
    if kind == "parity":
        margin = pred.mean[..., 0] * y[None, :, 0]
        return np.mean((margin > 0) + 0.5 * (margin == 0), axis=1)
    raise ValueError("`accuracy` needs one-hot or +-1 labels; `y` looks like regression targets.")


def loss_gibbs(source: Any, y: Any, *, x: Any = None, t: Any = None) -> np.ndarray:
    """Gibbs loss: expected NLL of one ensemble member, mean over points of E_z[-log N(y; z, I_k)].

    L_Gibbs = (1/m) sum_i [ 1/2 |y_i - mu_i|^2 + (k/2) s_i + (k/2) log 2 pi ]  (nats).

    Args:
      source, y, x, t: as in `mse`.

    Returns:
      (T,) float64.

    Reference: Shwartz-Ziv & Alemi (2019), eq. (10) with the sign fixed (spec C.1).
    """
    pred = _as_prediction(source, x, t)
    y = _targets(y, pred)
    k = y.shape[1]
    sq = np.sum((y[None] - pred.mean) ** 2, axis=-1)
    return np.mean(0.5 * sq + 0.5 * k * pred.var + 0.5 * k * LOG_2PI, axis=1)


def loss_bayes(source: Any, y: Any, *, x: Any = None, t: Any = None) -> np.ndarray:
    """Bayes loss: NLL of the ensemble predictive, mean over points of -log N(y; mu, (1 + s) I_k).

    L_Bayes = (1/m) sum_i [ |y_i - mu_i|^2 / (2 (1 + s_i)) + (k/2) log(2 pi (1 + s_i)) ] <= L_Gibbs.

    Args:
      source, y, x, t: as in `mse`.

    Returns:
      (T,) float64.

    Reference: Shwartz-Ziv & Alemi (2019), eq. (9), per point (spec C.1).
    """
    pred = _as_prediction(source, x, t)
    y = _targets(y, pred)
    k = y.shape[1]
    sq = np.sum((y[None] - pred.mean) ** 2, axis=-1)
    v = 1.0 + pred.var
    return np.mean(0.5 * sq / v + 0.5 * k * np.log(2 * np.pi * v), axis=1)


def loss_bayes_joint(source: Any, y: Any, *, x: Any = None, t: Any = None) -> np.ndarray:
    """Joint Bayes loss per point: (1/m) sum_c -log N(Y_c; mu_c, Sigma_tau(X*, X*) + I_m).

    Evaluated with one Cholesky factor of Sigma + I per time (always positive definite).

    Args:
      source: `Prediction` with `cov` (T, m, m) (predict(..., full_cov=True)), or an ensemble
        with `x`, `t`.
      y: (m, k) targets.

    Returns:
      (T,) float64, nats per point.

    Reference: Shwartz-Ziv & Alemi (2019), eq. (9) as evaluated by their code (spec C.1).
    """
    pred = _as_prediction(source, x, t, full_cov=True)
    y = _targets(y, pred)
    m, k = y.shape
    cov = np.asarray(pred.cov, dtype=np.float64)
    chol = np.linalg.cholesky(0.5 * (cov + np.swapaxes(cov, 1, 2)) + np.eye(m)[None])
    resid = y[None] - pred.mean  # (T, m, k)
    white = _solve_lower(chol, resid)
    logdet = 2.0 * np.sum(np.log(np.diagonal(chol, axis1=1, axis2=2)), axis=1)
    nll = 0.5 * np.sum(white**2, axis=(1, 2)) + 0.5 * k * (logdet + m * LOG_2PI)
    return nll / m


def _solve_lower(chol: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """L^{-1} rhs for a batch of lower-triangular factors (T, m, m) and rhs (T, m, k)."""
    from scipy.linalg import solve_triangular

    return np.stack([solve_triangular(c, r, lower=True) for c, r in zip(chol, rhs, strict=True)])


# ----------------------------------------------------------------------------------------------
# KL to the prior (C.4).
# ----------------------------------------------------------------------------------------------


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
    if isinstance(source, InfiniteEnsemble) and prior_var is None:
        if x is None:
            raise ValueError("Pass `x=` with an InfiniteEnsemble.")
        prior_var = source.predict(x, 0.0).var[0]
    pred = _as_prediction(source, x, t)
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
    k = pred.mean.shape[2]
    ratio = pred.var / s0[None]
    with np.errstate(divide="ignore"):
        log_ratio = np.where(ratio > 0, np.log(np.where(ratio > 0, ratio, 1.0)), -np.inf)
    per_point = 0.5 * (k * (ratio - 1.0 - log_ratio) + np.sum(pred.mean**2, axis=-1) / s0[None])
    return np.mean(per_point, axis=1)


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
    if isinstance(source, InfiniteEnsemble) and prior_cov is None:
        if x is None:
            raise ValueError("Pass `x=` with an InfiniteEnsemble.")
        prior_cov = source.predict(x, 0.0, full_cov=True).cov[0]
    pred = _as_prediction(source, x, t, full_cov=True)
    if prior_cov is None:
        raise ValueError(
            "`prior_cov` (m, m) is required with a Prediction: "
            "ensemble.predict(x, 0, full_cov=True).cov[0]."
        )
    m, k = pred.mean.shape[1:]
    prior = as_float_array("prior_cov", prior_cov, ndim=2)
    if prior.shape != (m, m):
        raise ValueError(f"`prior_cov` must have shape ({m}, {m}), got {prior.shape}.")
    eps = jitter * float(np.mean(np.diag(prior)))
    chol_prior = np.linalg.cholesky(0.5 * (prior + prior.T) + eps * np.eye(m))
    logdet_prior = 2.0 * np.sum(np.log(np.diag(chol_prior)))
    from scipy.linalg import cho_solve

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


# ----------------------------------------------------------------------------------------------
# I(Z;X) (C.3): Poole et al. minibatch bounds through ntk_info.mixture.
# ----------------------------------------------------------------------------------------------


def _batch(pred: Prediction, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    m = pred.mean.shape[1]
    if isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer):
        raise TypeError(f"`batch_size` must be an int, got {type(batch_size).__name__}.")
    if batch_size < 2:
        raise ValueError(
            f"`batch_size` must be >= 2 (I(Z;X) over N = 1 point is 0), got {batch_size}."
        )
    if batch_size > m:
        raise ValueError(
            f"`batch_size` = {batch_size} exceeds the {m} points given; pass batch_size <= {m} "
            "or more points."
        )
    return pred.mean[:, :batch_size], pred.var[:, :batch_size]


def izx_bounds(
    source: Any,
    *,
    batch_size: int = 1000,
    n_draws: int = 8,
    seed: int = 0,
    x: Any = None,
    t: Any = None,
) -> tuple[Any, Any]:
    """InfoNCE lower and leave-one-out upper bounds on I(Z;X|D) over the first N points.

    With X uniform over x_1..x_N, Z|x_i ~ N(mu_i, s_i I_k), z_i drawn once per draw and
    S_ij = log N(z_i; mu_j, s_j I_k):
        I_L = log N + (1/N) sum_i [S_ii - logsumexp_j S_ij] <= log N,
        I_U = log(N-1) + (1/N) sum_i [S_ii - logsumexp_{j != i} S_ij]  (capped at log N),
    averaged over `n_draws` draws; one shared pass of `mixture.infonce_and_loo` for all times.

    Args:
      source: `Prediction` (T, m, k) or an ensemble with `x`, `t`.
      batch_size: N, 2 <= N <= m; the first N points are used.
      n_draws: draws of z (>= 2, for the standard error).
      seed: PRNG seed (time slice i uses jax.random.split(PRNGKey(seed), T)[i]).

    Returns:
      (lower, upper): `mixture.MIEstimate`s with (T,) value and se, nats.

    Reference: Poole et al., ICML 2019; Shwartz-Ziv & Alemi (2019), eq. (12-13).
    """
    from ntk_info import mixture

    pred = _as_prediction(source, x, t)
    means, variances = _batch(pred, batch_size)
    return mixture.infonce_and_loo(means, variances, seed=seed, n_draws=n_draws)


def izx_lower(source: Any, **kwargs: Any) -> Any:
    """InfoNCE lower bound on I(Z;X|D), `MIEstimate` (T,); arguments as in `izx_bounds`."""
    return izx_bounds(source, **kwargs)[0]


def izx_upper(source: Any, **kwargs: Any) -> Any:
    """Leave-one-out upper bound on I(Z;X|D), `MIEstimate` (T,); arguments as in `izx_bounds`."""
    return izx_bounds(source, **kwargs)[1]


def izx_mc(
    source: Any,
    *,
    batch_size: int = 1000,
    n_samples: int | None = None,
    seed: int = 0,
    x: Any = None,
    t: Any = None,
) -> Any:
    """Monte Carlo estimate of I(Z;X|D), X uniform over the first N points (`mixture.mc_estimate`).

    I = H(Z) - H(Z|X), H(Z|X) exact, H(Z) by Monte Carlo (pointwise control-variate form).

    Returns:
      `MIEstimate` (T,), nats.

    Reference: Goldfeld et al., ICML 2019 (sample propagation with known components).
    """
    from ntk_info import mixture

    pred = _as_prediction(source, x, t)
    means, variances = _batch(pred, batch_size)
    return mixture.mc_estimate(
        means, variances, seed=seed, n_samples=n_samples, control_variate=True
    )


# ----------------------------------------------------------------------------------------------
# I(Z;Y) (C.2): Barber-Agakov lower bound with a proper decoder.
# ----------------------------------------------------------------------------------------------


def _codebook(kind: str, k: int) -> np.ndarray:
    """Class codes e_c (C, k): the one-hot rows, or -1 and +1 for parity."""
    if kind == "onehot":
        return np.eye(k)
    return np.array([[-1.0], [1.0]])


def _class_index(y: np.ndarray, kind: str) -> np.ndarray:
    return np.argmax(y, axis=1) if kind == "onehot" else (y[:, 0] > 0).astype(np.int64)


def _nodes(k: int, m: int, n_draws: int, seed: int) -> tuple[np.ndarray, np.ndarray, bool]:
    """Standard-normal nodes (D, m, k) and weights (D,): Gauss-Hermite for k = 1, else MC."""
    if k == 1:
        x, w = np.polynomial.hermite_e.hermegauss(24)
        return np.broadcast_to(x[:, None, None], (24, m, 1)), w / w.sum(), False
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n_draws, m, k)), np.full(n_draws, 1.0 / n_draws), True


def _log_decoder_draws(mean, var, target, codebook, nodes, log_s2):
    """Per-node mean over points of log q(c_i|z), q(c|z) = softmax_c((z.e_c - |e_c|^2/2)/sigma^2).

    mean (T, m, k), var (T, m), target (m,), codebook (C, k), nodes (D, m, k), log_s2 (T, G).
    Returns (T, G, D).
    """
    import jax
    import jax.numpy as jnp

    half_norm = 0.5 * jnp.sum(codebook**2, axis=1)

    def one_time(args):
        mu, s, ls2 = args
        z = mu[None] + jnp.sqrt(s)[None, :, None] * nodes  # (D, m, k)
        raw = z @ codebook.T - half_norm  # (D, m, C)
        scaled = raw[None] / jnp.exp(ls2)[:, None, None, None]  # (G, D, m, C)
        own = jnp.take_along_axis(scaled, target[None, None, :, None], axis=-1)[..., 0]
        logq = own - jax.scipy.special.logsumexp(scaled, axis=-1)
        return jnp.mean(logq, axis=-1)  # (G, D)

    return jax.lax.map(one_time, (mean, var, log_s2))


_JITTED: dict[str, Callable] = {}


def _jitted_log_decoder() -> Callable:
    if "log_decoder" not in _JITTED:
        import jax

        _JITTED["log_decoder"] = jax.jit(_log_decoder_draws)
    return _JITTED["log_decoder"]


def _log_decoder(mean, var, target, codebook, nodes, log_s2) -> np.ndarray:
    from ntk_info._jax import float64

    with float64():
        out = _jitted_log_decoder()(mean, var, target, codebook, nodes, log_s2)
    return np.asarray(out, dtype=np.float64)


def _maximise_log_s2(objective: Callable, low: float, high: float, n_times: int) -> np.ndarray:
    """argmax over log sigma^2 in [low, high] of a (T, G) -> (T, G) objective, per time.

    A 17-point grid brackets the maximum to one grid step either side; 24 golden-section steps
    (one evaluation each) shrink the bracket by 0.618^24 ~ 1e-5.
    """
    grid = np.linspace(low, high, 17)
    values = objective(np.broadcast_to(grid, (n_times, grid.size)))
    best = np.argmax(values, axis=1)
    step = grid[1] - grid[0]
    a = np.clip(grid[best] - step, low, high)
    b = np.clip(grid[best] + step, low, high)
    ratio = (math.sqrt(5.0) - 1.0) / 2.0
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = objective(np.stack([c, d], axis=1)).T
    for _ in range(24):
        left = fc >= fd  # the maximum lies in [a, d]
        a, b = np.where(left, a, c), np.where(left, d, b)
        new = np.where(left, b - ratio * (b - a), a + ratio * (b - a))
        f_new = objective(new[:, None])[:, 0]
        c, d, fc, fd = (
            np.where(left, new, d),
            np.where(left, c, new),
            np.where(left, f_new, fd),
            np.where(left, fc, f_new),
        )
    return 0.5 * (a + b)


def _train_prediction(ensemble: InfiniteEnsemble, t: Any, n_points: int | None) -> Prediction:
    """Predictive marginals on the first `n_points` training points (all when None).

    Same formulas as `InfiniteEnsemble.predict_train` (mean = (I - e^{-tau Theta}) Y,
    Sigma = e^{-tau Theta} K e^{-tau Theta}), restricted to a subset of rows: O(s n^2) per time.
    """
    n = ensemble.n_train
    if n_points is None or n_points >= n:
        return ensemble.predict_train(t)
    from ntk_info.ensemble import _decay

    times = as_times(t)
    tau = ensemble.tau(times)
    lam = ensemble.eigenvalues
    s = int(n_points)
    evecs = np.asarray(ensemble._evecs)
    quantities: dict[str, Any] = {"proj": evecs[:s], "kdiag": np.zeros(s), "ktt": None}
    gm = -np.expm1(-np.outer(tau, lam))
    gm = np.where(np.isnan(gm), 1.0, gm)
    if ensemble.mode == "ntk":
        quantities["q"] = np.zeros((s, n))
        gv = _decay(tau, lam)
    else:
        gv = lam[None, :] * _decay(2 * tau, lam)
    return ensemble._evaluate(times, tau, gm, gv, quantities, False)


def _check_range(sigma2_range: tuple[float, float]) -> tuple[float, float]:
    low, high = (float(v) for v in sigma2_range)
    if not (0 < low < high < np.inf):
        raise ValueError(
            f"`sigma2_range` must be (low, high) with 0 < low < high, got {sigma2_range}."
        )
    return low, high


def fit_decoder_variance(
    train: Prediction,
    y_train: Any,
    *,
    labels: str = "auto",
    n_draws: int = 8,
    seed: int = 0,
    sigma2_range: tuple[float, float] = SIGMA2_RANGE,
) -> np.ndarray:
    """Decoder variance sigma^2 per time maximising the mean train E_z log q(y|z).

    Decoders: labels, q(c|z) = exp(-|z - e_c|^2 / 2 sigma^2) / sum_c' (...), i.e.
    softmax(z / sigma^2) for one-hot and sigmoid(2 y z / sigma^2) for +-1 labels (1-D bounded
    maximisation in log sigma^2: grid then golden section; E_z by Gauss-Hermite for k = 1, by
    Monte Carlo with `n_draws` common draws otherwise); regression, q(y|z) = N(y; z, sigma^2 I),
    with the closed form sigma^2 = mean_i (|y_i - mu_i|^2 + k s_i) / k. Clipped to
    `sigma2_range`. Any sigma^2 chosen without the evaluation points gives a valid bound.

    Args:
      train: `Prediction` on training points (T, n, k).
      y_train: (n, k) their targets.
      labels: 'auto', 'onehot', 'parity' or 'regression'.
      n_draws, seed: Monte Carlo draws of z for k > 1.
      sigma2_range: bounded range (low, high) of sigma^2.

    Returns:
      (T,) float64 sigma^2.
    """
    pred = _as_prediction(train)
    y = _targets(y_train, pred)
    kind = _resolve_labels(labels, y)
    low, high = _check_range(sigma2_range)
    if kind == "regression":
        k = y.shape[1]
        sq = np.sum((y[None] - pred.mean) ** 2, axis=-1) + k * pred.var
        return np.clip(np.mean(sq, axis=1) / k, low, high)
    m, k = y.shape
    nodes, weights, _ = _nodes(k, m, n_draws, seed)
    codebook = _codebook(kind, k)
    target = _class_index(y, kind)

    def objective(log_s2: np.ndarray) -> np.ndarray:
        draws = _log_decoder(pred.mean, pred.var, target, codebook, nodes, log_s2)
        return draws @ weights

    return np.exp(_maximise_log_s2(objective, math.log(low), math.log(high), pred.mean.shape[0]))


def expected_log_decoder(
    source: Any,
    y: Any,
    sigma2: Any,
    *,
    labels: str = "auto",
    n_draws: int = 8,
    seed: int = 0,
    x: Any = None,
    t: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Mean over points of E_{z ~ N(mu_i, s_i I)} log q(y_i | z), with its standard error.

    q as in `fit_decoder_variance` with the given sigma^2 (T,) (or a scalar). Regression is
    exact: -(|y - mu|^2 + k s) / (2 sigma^2) - (k/2) log(2 pi sigma^2), se = 0. Labels with
    k = 1: 24-node Gauss-Hermite, se = 0; k > 1: Monte Carlo over `n_draws` draws of z,
    se = std over draws / sqrt(n_draws).

    Returns:
      (value, se), each (T,) float64, nats.
    """
    pred = _as_prediction(source, x, t)
    y = _targets(y, pred)
    kind = _resolve_labels(labels, y)
    n_times = pred.mean.shape[0]
    s2 = np.broadcast_to(np.asarray(sigma2, dtype=np.float64), (n_times,))
    if np.any(~np.isfinite(s2)) or np.any(s2 <= 0):
        raise ValueError("`sigma2` must be finite and > 0.")
    m, k = y.shape
    if kind == "regression":
        sq = np.sum((y[None] - pred.mean) ** 2, axis=-1) + k * pred.var
        value = -np.mean(sq, axis=1) / (2 * s2) - 0.5 * k * np.log(2 * np.pi * s2)
        return value, np.zeros(n_times)
    nodes, weights, sampled = _nodes(k, m, n_draws, seed)
    draws = _log_decoder(
        pred.mean, pred.var, _class_index(y, kind), _codebook(kind, k), nodes, np.log(s2)[:, None]
    )[:, 0, :]
    value = draws @ weights
    if not sampled:
        return value, np.zeros(n_times)
    return value, draws.std(axis=1, ddof=1) / math.sqrt(draws.shape[1])


def izy_lower(
    source: Any,
    y: Any,
    *,
    entropy_y: float | None = None,
    labels: str = "auto",
    sigma2: Any = None,
    fit_on: str = "eval",
    ensemble: InfiniteEnsemble | None = None,
    n_fit: int | None = 512,
    n_draws: int = 8,
    seed: int = 0,
    sigma2_range: tuple[float, float] = SIGMA2_RANGE,
    x: Any = None,
    t: Any = None,
) -> Any:
    """Barber-Agakov lower bound on I(Z;Y): H(Y) + E_{x,y} E_{z~p(z|x,D)} log q(y|z).

    Valid for any decoder q chosen without the evaluation points (Barber & Agakov 2003).
      - Continuous y: q(y|z) = N(y; z, sigma^2 I_k), sigma^2 = 1 by default (the paper's
        decoder), with the exact differential H(Y) (`entropy_y`, required).
      - One-hot / +-1 labels: the paper's Gaussian decoder is not a distribution over the
        classes (its bound is vacuous, see `izy_lower_paper`); here q(c|z) is proportional to
        exp(-|z - e_c|^2 / 2 sigma^2) over the label set (softmax(z/sigma^2), sigmoid(2yz/sigma^2)),
        sigma^2 fitted per time (`fit_decoder_variance`, see `fit_on`), and H(Y) is the
        discrete empirical entropy of y unless given.

    Args:
      source: `Prediction` on the evaluation points (T, m, k), or an ensemble with `x`, `t`.
      y: (m, k) targets of the evaluation points.
      entropy_y: H(Y) in nats (required for continuous y).
      labels: 'auto', 'onehot', 'parity' or 'regression'.
      sigma2: decoder variance, scalar or (T,), or 'fit'; default 1 for regression and 'fit'
        for labels.
      fit_on: where 'fit' maximises E log q. 'eval' (default): the evaluation points
        themselves, with draws of z independent of those of the bound; since
        I(Z;Y) >= H(Y) + E log q holds for every q, the bound is valid for the empirical joint
        over the evaluation points (X uniform over them, as for the I(Z;X) bounds), and the
        one fitted scalar biases it for the population by O(1/m) at most. 'train': the first
        `n_fit` training points at the same time, so q is independent of the evaluation
        points; but at late times the ensemble interpolates the training points
        (s -> 0, mu -> y), the fit runs to the lower end of `sigma2_range` and the
        over-confident decoder makes the bound very negative (below even the paper's form).
      ensemble: the ensemble whose training points fit sigma^2 (default `source` if it is one).
      n_fit: points used for the fit: the first n_fit evaluation points (fit_on='eval') or
        training points (fit_on='train', costing O(n_fit n^2) per time); None: all.
      n_draws, seed: Monte Carlo draws of z (k > 1 labels).
      sigma2_range: bounded range of the fitted sigma^2.

    Returns:
      `mixture.MIEstimate`(value (T,), se (T,)), nats; value <= H(Y) for labels.

    Reference: Barber & Agakov, NIPS 2003; Shwartz-Ziv & Alemi (2019), eq. (11) with the
    inequality fixed (spec C.2).
    """
    from ntk_info.mixture import MIEstimate

    if isinstance(source, InfiniteEnsemble):
        ensemble = source if ensemble is None else ensemble
        times = t
        source = _as_prediction(source, x, t)
    else:
        times = None
    pred = _as_prediction(source)
    y = _targets(y, pred)
    kind = _resolve_labels(labels, y)
    h_y = _entropy_y(entropy_y, y, kind)
    if sigma2 is None:
        sigma2 = 1.0 if kind == "regression" else "fit"
    sigma2 = _decoder_variance(
        sigma2,
        fit_on,
        pred,
        y,
        kind,
        ensemble,
        pred.t if times is None else times,
        n_fit=n_fit,
        n_draws=n_draws,
        seed=seed + 1,
        sigma2_range=sigma2_range,
    )
    value, se = expected_log_decoder(pred, y, sigma2, labels=kind, n_draws=n_draws, seed=seed)
    return MIEstimate(h_y + value, se)


def _decoder_variance(
    sigma2: Any,
    fit_on: str,
    pred: Prediction,
    y: np.ndarray,
    kind: str,
    ensemble: InfiniteEnsemble | None,
    times: Any,
    **fit: Any,
) -> Any:
    """sigma^2 as given, or fitted on the training ('train') or evaluation ('eval') points."""
    if sigma2 is None:
        sigma2 = 1.0 if kind == "regression" else "fit"
    if not isinstance(sigma2, str):
        return sigma2
    if sigma2 != "fit":
        raise ValueError(f"`sigma2` must be a number, an array or 'fit', got {sigma2!r}.")
    if fit_on not in ("train", "eval"):
        raise ValueError(f"`fit_on` must be 'train' or 'eval', got {fit_on!r}.")
    n_fit = fit.pop("n_fit")
    if fit_on == "eval":
        head = slice(None) if n_fit is None else slice(0, int(n_fit))
        subset = Prediction(t=pred.t, tau=pred.tau, mean=pred.mean[:, head], var=pred.var[:, head])
        return fit_decoder_variance(subset, y[head], labels=kind, **fit)
    if ensemble is None:
        raise ValueError(
            "Fitting the decoder variance on the training points needs `ensemble=`; or pass "
            "fit_on='eval' or a fixed `sigma2=`."
        )
    train = _train_prediction(ensemble, times, n_fit)
    return fit_decoder_variance(train, ensemble.y_train[: train.mean.shape[1]], labels=kind, **fit)


def izy_lower_paper(
    source: Any, y: Any, *, entropy_y: float | None = None, x: Any = None, t: Any = None
) -> np.ndarray:
    """The paper's I(Z;Y) bound: H(Y) + E log N(y; z, I_k) = H(Y) - loss_gibbs.

    A valid lower bound for continuous y; for discrete labels the Gaussian "decoder" does not
    sum to one over the label set and the value is vacuous (typically negative for one-hot).
    H(Y) as in `izy_lower` (discrete empirical entropy for labels unless given).

    Returns:
      (T,) float64, nats.

    Reference: Shwartz-Ziv & Alemi (2019), eq. (11).
    """
    pred = _as_prediction(source, x, t)
    y = _targets(y, pred)
    return _entropy_y(entropy_y, y, label_kind(y)) - loss_gibbs(pred, y)


def _entropy_y(entropy_y: float | None, y: np.ndarray, kind: str) -> float:
    if entropy_y is not None:
        value = float(entropy_y)
        if not np.isfinite(value):
            raise ValueError(f"`entropy_y` must be finite, got {entropy_y}.")
        return value
    if kind == "regression":
        raise ValueError(
            "Continuous targets need their differential entropy H(Y): pass `entropy_y=` "
            "(e.g. dataset.entropy_y(), or data.gaussian(...).gaussian.entropy_y) or use "
            "information_plane_from_dataset."
        )
    return discrete_entropy(y)


# ----------------------------------------------------------------------------------------------
# Fisher trace, parameter energy and information in the weights (C.5-C.7).
# ----------------------------------------------------------------------------------------------


def _spectrum(ensemble: InfiniteEnsemble) -> dict[str, np.ndarray]:
    """Theta = V diag(lam) V^T; diag(V^T K V) (n,); sum_c (V^T Y_c)^2 (n,)."""
    if not isinstance(ensemble, InfiniteEnsemble):
        raise TypeError(f"Expected an InfiniteEnsemble, got {type(ensemble).__name__}.")
    if ensemble.mode != "ntk":
        raise ValueError(
            "Parameter-space quantities (Fisher trace, parameter energy, I(theta;D)) follow the "
            "NTK gradient flow of all layers: build the ensemble with mode='ntk'."
        )
    evecs = np.asarray(ensemble._evecs, dtype=np.float64)
    return dict(
        lam=np.asarray(ensemble.eigenvalues, dtype=np.float64),
        k_diag=np.diagonal(np.asarray(ensemble._k_rot, dtype=np.float64)).copy(),
        y_sq=np.sum(np.asarray(ensemble._proj_y, dtype=np.float64) ** 2, axis=1),
        evecs=evecs,
    )


def _rotated_diagonal(evecs: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """diag(V^T M V) with one matrix product."""
    return np.sum(evecs * (matrix @ evecs), axis=0)


def fisher_trace(ensemble: InfiniteEnsemble, t: Any) -> np.ndarray:
    """Trace of the Fisher information of the linearised net, Tr F = k Tr Theta(X, X).

    Constant in t (spec C.5); the training NTK, not the test-by-train block.

    Args:
      ensemble: `InfiniteEnsemble` (mode 'ntk').
      t: (T,) times.

    Returns:
      (T,) float64, all equal to k Tr Theta.

    Reference: Shwartz-Ziv & Alemi (2019), App. C.5.
    """
    _spectrum(ensemble)
    times = as_times(t)
    return np.full(times.shape, ensemble.n_outputs * ensemble.theta_trace)


def parameter_energy(ensemble: InfiniteEnsemble, t: Any) -> np.ndarray:
    """Fisher-metric path energy E int_0^tau |J theta_dot|^2 ds of the gradient flow (per unit tau).

    E = 1/2 [ k Tr(K Theta (I - e^{-2 tau Theta})) + sum_c Y_c^T Theta (I - e^{-2 tau Theta}) Y_c ]
      = 1/2 sum_a lam_a (1 - e^{-2 tau lam_a}) [ k (V^T K V)_aa + |(V^T Y)_a|^2 ],
    finite at tau = inf. The paper calls it a squared path length; it is the energy
    (E[L]^2 <= tau E, spec C.6 [fix]).

    Args:
      ensemble: `InfiniteEnsemble` (mode 'ntk').
      t: (T,) times.

    Returns:
      (T,) float64.

    Reference: Shwartz-Ziv & Alemi (2019), eq. (15-18).
    """
    spec = _spectrum(ensemble)
    tau = ensemble.tau(t)
    lam = spec["lam"]
    decay = -np.expm1(-2.0 * np.outer(tau, lam))  # (T, n), = 1 at tau = inf
    decay = np.where(np.isnan(decay), 1.0, decay)
    weight = lam * (ensemble.n_outputs * spec["k_diag"] + spec["y_sq"])
    return 0.5 * decay @ weight


def kernel_scale_derivative(
    make_kernel_fn: Callable[[float], Any], x: Any, h: float = 1e-4
) -> np.ndarray:
    """dK_s/ds at s = 1: NNGP kernel with all W_std and b_std scaled by s, central difference.

    (K_{1+h}(x, x) - K_{1-h}(x, x)) / (2h), error O(h^2). In the NTK parameterisation
    J theta_0 = d/ds f(x; s theta_0)|_{s=1} and f(x; s theta_0) has the law of the network with
    every std scaled by s, so dK_s/ds = C + C^T with C(x, x') = E[(J theta_0)(x) f_0(x')].

    Args:
      make_kernel_fn: s -> kernel_fn (or stax triple) of the architecture with W_std, b_std
        multiplied by s, e.g. `lambda s: fc(3, W_std=1.5 * s, b_std=0.1 * s)`.
      x: (n, ...features) inputs (the training inputs for `weight_information`).
      h: step of the central difference.

    Returns:
      (n, n) float64.
    """
    from ntk_info.architectures import as_kernel_fn
    from ntk_info.kernels import kernel_matrices

    x = as_float_array("x", x, min_ndim=2)
    if not 0 < h < 0.5:
        raise ValueError(f"`h` must be in (0, 0.5), got {h}.")
    plus = kernel_matrices(as_kernel_fn(make_kernel_fn(1.0 + h)), x, get=("nngp",))["nngp"]
    minus = kernel_matrices(as_kernel_fn(make_kernel_fn(1.0 - h)), x, get=("nngp",))["nngp"]
    out = (plus - minus) / (2.0 * h)
    return 0.5 * (out + out.T)


def _check_dk(dk_dscale: Any, ensemble: InfiniteEnsemble) -> np.ndarray:
    if dk_dscale is None:
        raise ValueError(
            "form='corrected' needs `dk_dscale`, the derivative dK_s/ds at s = 1 of the training "
            "NNGP kernel when every W_std and b_std is scaled by s: compute it with "
            "kernel_scale_derivative(lambda s: <architecture with stds * s>, ensemble.x_train)."
        )
    n = ensemble.n_train
    dk = as_float_array("dk_dscale", dk_dscale, ndim=2)
    if dk.shape != (n, n):
        raise ValueError(f"`dk_dscale` must have shape ({n}, {n}), got {dk.shape}.")
    return dk


def _check_form(form: str) -> None:
    if form not in ("paper", "corrected"):
        raise ValueError(f"`form` must be 'paper' or 'corrected', got {form!r}.")


def weight_information(
    ensemble: InfiniteEnsemble, t: Any, *, form: str = "paper", dk_dscale: Any = None
) -> np.ndarray:
    """Upper bound on the information in the weights I(theta;D) <= KL(p(theta_tau|D) || p_0).

    paper:  I = k Tr(K Theta^{-1}(I - e^{-tau Theta})^2)
                + sum_c Y_c^T Theta^{-1}(I - e^{-tau Theta})^2 Y_c + k tau Tr Theta
              = E|Delta theta|^2 + k tau Tr Theta,
            in the eigenbasis, with (1 - e^{-tau lam})^2 / lam = lam g_tau(lam)^2 (stable as
            lam -> 0; g the gain of `ensemble.gain`).
    corrected: the KL itself, with the cross term the paper drops (its eq. 23-26):
            KL = E[theta_0^T Delta theta] + 1/2 E|Delta theta|^2 + k tau Tr Theta,
            E[theta_0^T Delta theta] = -(k/2) Tr(A_tau dK_s/ds|_{s=1}),
            A_tau = Theta^{-1}(I - e^{-tau Theta}).
    Derivation: Delta theta_tau = -J^T A_tau (z_0 - Y) per output column, so
      E[theta_0^T Delta theta] = -sum_c E[(J theta_0)_c^T A_tau (z_0,c - Y_c)]
      = -k Tr(A_tau C)  (E[J theta_0] = 0),  C(x, x') = E[(J theta_0)(x) f_0(x')];
    in the NTK parameterisation J theta_0 = d/ds f(x; s theta_0)|_{s=1}, so C + C^T = dK_s/ds with
    K_s the NNGP kernel with every std scaled by s, and Tr(A C) = Tr(A (C + C^T)) / 2 since A is
    symmetric. The log-density term: along the linear flow div(theta_dot) = -k Tr Theta, so
    log p_tau(theta_tau) = log p_0(theta_0) + k tau Tr Theta. Bias-free ReLU nets of depth L have
    K_s = s^{2L} K, hence a cross term -k L Tr(A_tau K).

    Args:
      ensemble: `InfiniteEnsemble` (mode 'ntk').
      t: (T,) times; t = inf gives inf (the k tau Tr Theta term).
      form: 'paper' or 'corrected'.
      dk_dscale: (n, n) dK_s/ds at s = 1 on the training inputs (`kernel_scale_derivative`);
        required for form='corrected'.

    Returns:
      (T,) float64, nats.

    Reference: Shwartz-Ziv & Alemi (2019), eq. (19-27) (spec C.7 with its fixes).
    """
    _check_form(form)
    spec = _spectrum(ensemble)
    k = ensemble.n_outputs
    tau = ensemble.tau(t)
    lam = spec["lam"]
    g = gain(tau, lam)  # (T, n)
    weight = k * spec["k_diag"] + spec["y_sq"]
    delta_sq = (lam * g**2) @ weight  # E|Delta theta|^2
    with np.errstate(invalid="ignore"):
        volume = np.where(tau > 0, k * tau * lam.sum(), 0.0)
    if form == "paper":
        return delta_sq + volume
    dk = _check_dk(dk_dscale, ensemble)
    evecs = spec["evecs"]
    dk_diag = _rotated_diagonal(evecs, dk)
    cross = -0.5 * k * (g @ dk_diag)
    return cross + 0.5 * delta_sq + volume


def weight_information_rate(
    ensemble: InfiniteEnsemble, t: Any, *, form: str = "paper", dk_dscale: Any = None
) -> np.ndarray:
    """dI(theta;D)/dtau, the rate of `weight_information` per unit of dimensionless time tau.

    paper:  2k Tr(K (I - e^{-tau Theta}) e^{-tau Theta})
            + 2 sum_c Y_c^T (I - e^{-tau Theta}) e^{-tau Theta} Y_c + k Tr Theta
            -> k Tr Theta as tau -> inf;
    corrected: -(k/2) Tr(e^{-tau Theta} dK_s/ds) + half the first two paper terms + k Tr Theta.
    Per unit t multiply by learning_rate / (n k).

    Args, Returns: as in `weight_information`; nats per unit tau.
    """
    _check_form(form)
    spec = _spectrum(ensemble)
    k = ensemble.n_outputs
    tau = ensemble.tau(t)
    lam = spec["lam"]
    with np.errstate(invalid="ignore", over="ignore"):
        decay = np.exp(-np.outer(tau, lam))
    decay = np.where(lam[None] > 0, decay, 1.0)
    growth = 2.0 * (-np.expm1(-np.outer(tau, lam)))
    growth = np.where(np.isnan(growth), 2.0, growth) * decay
    delta_rate = growth @ (k * spec["k_diag"] + spec["y_sq"])
    trace = k * lam.sum()
    if form == "paper":
        return delta_rate + trace
    dk = _check_dk(dk_dscale, ensemble)
    evecs = spec["evecs"]
    dk_diag = _rotated_diagonal(evecs, dk)
    return -0.5 * k * (decay @ dk_diag) + 0.5 * delta_rate + trace


# ----------------------------------------------------------------------------------------------
# The information plane: one prediction, every quantity.
# ----------------------------------------------------------------------------------------------


def information_plane(
    ensemble: InfiniteEnsemble,
    x: Any,
    y: Any,
    t: Any,
    *,
    batch_size: int = 1000,
    n_draws: int = 8,
    seed: int = 0,
    on: str = "test",
    entropy_y: float | None = None,
    labels: str = "auto",
    sigma2: Any = None,
    fit_on: str = "eval",
    n_fit: int | None = 512,
    sigma2_range: tuple[float, float] = SIGMA2_RANGE,
    mc: bool = False,
    joint: bool = False,
    form: str = "paper",
    dk_dscale: Any = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Every information quantity of the ensemble over the time grid, one row per t.

    The ensemble is evaluated once for all times (one `predict` call on x, with t = 0 appended
    for the prior); every column is derived from that prediction; the I(Z;X) bounds for all
    times come from one vectorised `mixture.infonce_and_loo` call on the first `batch_size`
    points. For labels, the decoder variance of I(Z;Y) is fitted per time on the evaluation
    points (fit_on='eval', default) or on the first `n_fit` training points (fit_on='train', a
    second, O(n_fit n^2)-per-time evaluation).

    Columns (nats unless stated; `_se` = Monte Carlo standard error over draws of z):
      t, tau; izx_lower, izx_lower_se, izx_upper, izx_upper_se (I(Z;X|D) on N points),
      izx_cap (= log N); [izx_mc, izx_mc_se if mc]; izy_lower, izy_lower_se (Barber-Agakov,
      proper decoder), izy_lower_paper (H(Y) + E log N(y; z, I)), entropy_y, decoder_sigma2;
      loss_bayes, loss_gibbs (NLL per point), mse; [accuracy for labels]; kl_prior (per point;
      [loss_bayes_joint, kl_prior_joint if joint]); mean_var (mean predictive variance);
      for mode 'ntk': fisher_trace, parameter_energy, weight_information,
      weight_information_rate_per_tau; and the configuration: on, batch_size, n_draws, seed,
      n_points, labels, mode, decoder_fit ('eval', 'train' or 'fixed'),
      weight_information_form.

    Args:
      ensemble: `InfiniteEnsemble`.
      x: (m, ...features) evaluation inputs (None with on='train').
      y: (m, k) their targets (None with on='train').
      t: (T,) times (0 and np.inf allowed).
      batch_size: N points for the I(Z;X) bounds, 2 <= N <= m.
      n_draws: draws of z for the sampled bounds (>= 2).
      seed: seed of every draw.
      on: 'test' (x, y given) or 'train' (the ensemble's training points; x, y may be None).
      entropy_y: H(Y); inferred (discrete empirical) for one-hot/+-1 labels, required for
        continuous y (see `information_plane_from_dataset`).
      labels, sigma2, fit_on, n_fit, sigma2_range: the I(Z;Y) decoder (see `izy_lower`).
      mc: also the Monte Carlo estimate of I(Z;X).
      joint: also the joint (across points) Bayes loss and KL; the prediction then carries the
        full (T, m, m) covariance (memory T m^2 8 bytes).
      form, dk_dscale: form of `weight_information` ('paper' or 'corrected').
      progress: show a tqdm bar over the stages.

    Returns:
      pandas.DataFrame, one row per t in the given order.

    Reference: Shwartz-Ziv & Alemi (2019), Fig. 2-4 and App. C; spec information_ntk.md §3.
    """
    from tqdm.auto import tqdm

    from ntk_info import mixture

    if not isinstance(ensemble, InfiniteEnsemble):
        raise TypeError(f"`ensemble` must be an InfiniteEnsemble, got {type(ensemble).__name__}.")
    if on not in ("test", "train"):
        raise ValueError(f"`on` must be 'test' or 'train', got {on!r}.")
    _check_form(form)
    times = as_times(t)
    if form == "corrected" and ensemble.mode == "ntk":
        _check_dk(dk_dscale, ensemble)
    stages = ["predict", "I(Z;X)", "I(Z;Y)", "losses", "weights"]
    bar = tqdm(total=len(stages), desc="information_plane", disable=not progress)

    def advance(stage: str) -> None:
        bar.set_postfix_str(stage)
        bar.update(1)

    with_prior = np.concatenate([times, [0.0]])
    if on == "train":
        if y is None:
            y = ensemble.y_train
        if x is not None and np.shape(x)[0] != ensemble.n_train:
            raise ValueError("With on='train' pass x=None (the training inputs are used).")
        full = ensemble.predict_train(with_prior, full_cov=joint)
    else:
        if x is None or y is None:
            raise ValueError("With on='test' pass the evaluation inputs `x` and targets `y`.")
        full = ensemble.predict(x, with_prior, full_cov=joint)
    y = _targets(y, full)
    kind = _resolve_labels(labels, y)
    h_y = _entropy_y(entropy_y, y, kind)
    cov = None if full.cov is None else full.cov[:-1]
    pred = Prediction(t=times, tau=full.tau[:-1], mean=full.mean[:-1], var=full.var[:-1], cov=cov)
    prior_var = full.var[-1]
    advance("predict")

    lower, upper = izx_bounds(pred, batch_size=batch_size, n_draws=n_draws, seed=seed)
    m = y.shape[0]
    columns: dict[str, Any] = dict(t=times, tau=pred.tau)
    columns.update(
        izx_lower=lower.value,
        izx_lower_se=lower.se,
        izx_upper=upper.value,
        izx_upper_se=upper.se,
        izx_cap=np.full(times.shape, math.log(batch_size)),
    )
    if mc:
        estimate = mixture.mc_estimate(
            pred.mean[:, :batch_size], pred.var[:, :batch_size], seed=seed, control_variate=True
        )
        columns.update(izx_mc=estimate.value, izx_mc_se=estimate.se)
    advance("I(Z;X)")

    fitted = (isinstance(sigma2, str) and sigma2 == "fit") or (
        sigma2 is None and kind != "regression"
    )
    sigma2 = _decoder_variance(
        sigma2,
        fit_on,
        pred,
        y,
        kind,
        ensemble,
        times,
        n_fit=n_fit,
        n_draws=n_draws,
        seed=seed + 1,
        sigma2_range=sigma2_range,
    )
    bound = izy_lower(
        pred, y, entropy_y=h_y, labels=kind, sigma2=sigma2, n_draws=n_draws, seed=seed
    )
    columns.update(
        izy_lower=bound.value,
        izy_lower_se=bound.se,
        izy_lower_paper=izy_lower_paper(pred, y, entropy_y=h_y),
        entropy_y=np.full(times.shape, h_y),
        decoder_sigma2=np.broadcast_to(np.asarray(sigma2, dtype=np.float64), times.shape),
    )
    advance("I(Z;Y)")

    columns.update(loss_bayes=loss_bayes(pred, y), loss_gibbs=loss_gibbs(pred, y), mse=mse(pred, y))
    if kind != "regression":
        columns["accuracy"] = accuracy(pred, y, labels=kind)
    columns["kl_prior"] = kl_prior(pred, prior_var)
    if joint:
        columns["loss_bayes_joint"] = loss_bayes_joint(pred, y)
        columns["kl_prior_joint"] = kl_prior_joint(pred, full.cov[-1])
    columns["mean_var"] = pred.var.mean(axis=1)
    advance("losses")

    if ensemble.mode == "ntk":
        columns.update(
            fisher_trace=fisher_trace(ensemble, times),
            parameter_energy=parameter_energy(ensemble, times),
            weight_information=weight_information(ensemble, times, form=form, dk_dscale=dk_dscale),
            weight_information_rate_per_tau=weight_information_rate(
                ensemble, times, form=form, dk_dscale=dk_dscale
            ),
        )
    advance("weights")
    bar.close()

    frame = pd.DataFrame(columns)
    frame["on"] = on
    frame["batch_size"] = int(batch_size)
    frame["n_draws"] = int(n_draws)
    frame["seed"] = int(seed)
    frame["n_points"] = int(m)
    frame["labels"] = kind
    frame["mode"] = ensemble.mode
    frame["decoder_fit"] = fit_on if fitted else "fixed"
    frame["weight_information_form"] = form
    return frame


def information_plane_from_dataset(
    ensemble: InfiniteEnsemble, dataset: Any, t: Any, *, on: str = "test", **kwargs: Any
) -> pd.DataFrame:
    """`information_plane` on a `Dataset`'s test (or training) split, with its H(Y).

    H(Y) comes from `dataset.entropy_y()` (exact differential entropy for Gaussian data, the
    discrete empirical entropy for labels) unless `entropy_y=` is passed; the label kind from
    `dataset.labels`.

    Returns:
      the `information_plane` DataFrame with a `dataset` column.
    """
    from ntk_info.data import Dataset

    if not isinstance(dataset, Dataset):
        raise TypeError(
            f"`dataset` must be an ntk_info.data.Dataset, got {type(dataset).__name__}."
        )
    if on != "train" or dataset.labels not in LABEL_KINDS[:2]:
        kwargs.setdefault("entropy_y", dataset.entropy_y())
    kwargs.setdefault("labels", dataset.labels if dataset.labels in LABEL_KINDS else "auto")
    if on == "train":
        x, y = None, dataset.y_train
    else:
        x, y = dataset.x_test, dataset.y_test
    frame = information_plane(ensemble, x, y, t, on=on, **kwargs)
    frame["dataset"] = dataset.name
    return frame
