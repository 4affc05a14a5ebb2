"""Losses of the ensemble (spec C.1): MSE, accuracy, Gibbs and Bayes negative log-likelihoods.

Squared loss is the observation model q(y|z) = N(y; z, I_k). On a point x the ensemble output
is z ~ N(mu(x), s(x) I_k), across points N(mu_c, Sigma_tau(X*, X*)) per output column c.
Losses are negative log-likelihoods per point in nats (lower is better); the paper's Bayes and
Gibbs "losses" are the corresponding log-likelihoods (spec C.1, with its sign fix).

Every public function takes a `Prediction` (from `InfiniteEnsemble.predict`) and targets
y (m, k), or an `InfiniteEnsemble` with `x=` and `t=` (it then predicts first), and returns a
(T,) float64 array. `loss_columns` is the information plane's builder for this family.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ntk_info.ensemble import Prediction
from ntk_info.information._inputs import Labels, as_prediction, resolve_labels, targets

__all__ = ["mse", "accuracy", "loss_gibbs", "loss_bayes", "loss_bayes_joint", "loss_columns"]

LOG_2PI = math.log(2.0 * math.pi)


def mse(source: Any, y: Any, *, x: Any = None, t: Any = None) -> np.ndarray:
    """Mean squared error of the ensemble mean, mean over points and outputs of (y - mu)^2.

    Args:
      source: `Prediction` (T, m, k), or an `InfiniteEnsemble` with `x` (m, ...) and `t` (T,).
      y: (m, k) targets.

    Returns:
      (T,) float64.
    """
    pred = as_prediction(source, x, t)
    return _mse(pred, targets(y, pred))


def accuracy(
    source: Any, y: Any, *, labels: Labels = "auto", x: Any = None, t: Any = None
) -> np.ndarray:
    """Classification accuracy of the ensemble mean: argmax for one-hot, sign for +-1 labels.

    A +-1 prediction of exactly 0 (the prior mean at t = 0) counts as half correct (chance);
    one-hot ties go to the first class (np.argmax).

    Args:
      source, y, x, t: as in `mse`; y one-hot (m, k >= 2) or +-1 (m, 1).
      labels: 'auto', 'onehot' or 'parity' (`Labels`).

    Returns:
      (T,) float64 in [0, 1].
    """
    pred = as_prediction(source, x, t)
    y = targets(y, pred)
    kind = resolve_labels(labels, y)
    if kind == "regression":
        raise ValueError(
            "`accuracy` needs one-hot or +-1 labels; `y` looks like regression targets."
        )
    return _accuracy(pred, y, kind)


def loss_gibbs(source: Any, y: Any, *, x: Any = None, t: Any = None) -> np.ndarray:
    """Gibbs loss: expected NLL of one ensemble member, mean over points of E_z[-log N(y; z, I_k)].

    L_Gibbs = (1/m) sum_i [ 1/2 |y_i - mu_i|^2 + (k/2) s_i + (k/2) log 2 pi ]  (nats).

    Args:
      source, y, x, t: as in `mse`.

    Returns:
      (T,) float64.

    Reference: Shwartz-Ziv & Alemi (2019), eq. (10) with the sign fixed (spec C.1).
    """
    pred = as_prediction(source, x, t)
    return gibbs(pred, targets(y, pred))


def loss_bayes(source: Any, y: Any, *, x: Any = None, t: Any = None) -> np.ndarray:
    """Bayes loss: NLL of the ensemble predictive, mean over points of -log N(y; mu, (1 + s) I_k).

    L_Bayes = (1/m) sum_i [ |y_i - mu_i|^2 / (2 (1 + s_i)) + (k/2) log(2 pi (1 + s_i)) ] <= L_Gibbs.

    Args:
      source, y, x, t: as in `mse`.

    Returns:
      (T,) float64.

    Reference: Shwartz-Ziv & Alemi (2019), eq. (9), per point (spec C.1).
    """
    pred = as_prediction(source, x, t)
    return _bayes(pred, targets(y, pred))


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
    pred = as_prediction(source, x, t, full_cov=True)
    return _bayes_joint(pred, targets(y, pred))


def loss_columns(pred: Prediction, y: np.ndarray, kind: str, *, joint: bool) -> dict[str, Any]:
    """The information plane's loss columns from a validated prediction and targets.

    loss_bayes, loss_gibbs, mse, [accuracy for labels], [loss_bayes_joint if `joint`; the
    prediction then carries `cov`], mean_var (mean predictive variance); each (T,).
    """
    columns: dict[str, Any] = dict(loss_bayes=_bayes(pred, y), loss_gibbs=gibbs(pred, y))
    columns["mse"] = _mse(pred, y)
    if kind != "regression":
        columns["accuracy"] = _accuracy(pred, y, kind)
    if joint:
        columns["loss_bayes_joint"] = _bayes_joint(pred, y)
    columns["mean_var"] = pred.var.mean(axis=1)
    return columns


# ----------------------------------------------------------------------------------------------
# Cores: validated prediction (T, m, k) and targets (m, k) in, (T,) out.
# ----------------------------------------------------------------------------------------------


def _mse(pred: Prediction, y: np.ndarray) -> np.ndarray:
    return np.mean((y[None] - pred.mean) ** 2, axis=(1, 2))


def _accuracy(pred: Prediction, y: np.ndarray, kind: str) -> np.ndarray:
    if kind == "onehot":
        return np.mean(np.argmax(pred.mean, axis=-1) == np.argmax(y, axis=-1)[None], axis=1)
    margin = pred.mean[..., 0] * y[None, :, 0]
    return np.mean((margin > 0) + 0.5 * (margin == 0), axis=1)


def gibbs(pred: Prediction, y: np.ndarray) -> np.ndarray:
    """`loss_gibbs` of a validated prediction and targets (the I(Z;Y) module uses it too)."""
    k = y.shape[1]
    sq = np.sum((y[None] - pred.mean) ** 2, axis=-1)
    return np.mean(0.5 * sq + 0.5 * k * pred.var + 0.5 * k * LOG_2PI, axis=1)


def _bayes(pred: Prediction, y: np.ndarray) -> np.ndarray:
    k = y.shape[1]
    sq = np.sum((y[None] - pred.mean) ** 2, axis=-1)
    v = 1.0 + pred.var
    return np.mean(0.5 * sq / v + 0.5 * k * np.log(2 * np.pi * v), axis=1)


def _bayes_joint(pred: Prediction, y: np.ndarray) -> np.ndarray:
    from scipy.linalg import solve_triangular

    m, k = y.shape
    cov = np.asarray(pred.cov, dtype=np.float64)
    chol = np.linalg.cholesky(0.5 * (cov + np.swapaxes(cov, 1, 2)) + np.eye(m)[None])
    resid = y[None] - pred.mean  # (T, m, k)
    white = [solve_triangular(c, r, lower=True) for c, r in zip(chol, resid, strict=True)]
    logdet = 2.0 * np.sum(np.log(np.diagonal(chol, axis1=1, axis2=2)), axis=1)
    nll = 0.5 * np.sum(np.stack(white) ** 2, axis=(1, 2)) + 0.5 * k * (logdet + m * LOG_2PI)
    return nll / m
