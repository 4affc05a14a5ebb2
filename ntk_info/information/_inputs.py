"""Validation at the boundary of `ntk_info.information`: predictions, targets, labels, options.

Every public function of the package calls these once on its way in; the numerical cores behind
them (and `information_plane`, which validates once for every column) trust their inputs.
"""

from __future__ import annotations

import typing
from typing import Any, Literal

import numpy as np

from ntk_info._checks import as_float_array, check_count, check_option
from ntk_info.discrete import entropy
from ntk_info.ensemble import InfiniteEnsemble, Prediction

__all__ = [
    "LABEL_KINDS",
    "Labels",
    "LabelKind",
    "FitOn",
    "Form",
    "On",
    "check_option",
    "check_count",
    "as_prediction",
    "as_ensemble",
    "targets",
    "label_kind",
    "resolve_labels",
    "discrete_entropy",
    "resolve_entropy_y",
]

#: How targets are read: one-hot rows (k >= 2), +-1 labels (k = 1), or continuous values.
LabelKind = Literal["onehot", "parity", "regression"]
#: A label kind, or 'auto' to infer it from y with `label_kind`.
Labels = Literal["auto", "onehot", "parity", "regression"]
#: Where the decoder variance of I(Z;Y) is fitted: evaluation points or training points.
FitOn = Literal["eval", "train"]
#: Form of the weight information: the paper's closed form or the corrected KL.
Form = Literal["paper", "corrected"]
#: Which points the information plane is evaluated on.
On = Literal["test", "train"]

LABEL_KINDS: tuple[str, ...] = typing.get_args(LabelKind)


def as_ensemble(ensemble: Any, *, ntk: bool = False) -> InfiniteEnsemble:
    """`ensemble` if it is an `InfiniteEnsemble` (in mode 'ntk' when `ntk`), else an error."""
    if not isinstance(ensemble, InfiniteEnsemble):
        raise TypeError(f"Expected an InfiniteEnsemble, got {type(ensemble).__name__}.")
    if ntk and ensemble.mode != "ntk":
        raise ValueError(
            "Parameter-space quantities (Fisher trace, parameter energy, I(theta;D)) follow the "
            "NTK gradient flow of all layers: build the ensemble with mode='ntk'."
        )
    return ensemble


def as_prediction(
    source: Any, x: Any = None, t: Any = None, *, full_cov: bool = False
) -> Prediction:
    """A validated `Prediction`: `source` itself, or `source.predict(x, t)` for an ensemble.

    Args:
      source: a `Prediction` (T, m, k), or an `InfiniteEnsemble` together with `x` and `t`.
      x: (m, ...features) inputs, only with an ensemble.
      t: (T,) times, only with an ensemble.
      full_cov: the quantity needs the (T, m, m) covariance across points.

    Returns:
      `Prediction` with finite moments and variances >= 0.
    """
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
    _check_moments(source)
    if full_cov and source.cov is None:
        raise ValueError(
            "This quantity needs the covariance across points: predict with full_cov=True."
        )
    return source


def _check_moments(pred: Prediction) -> None:
    mean, var = np.asarray(pred.mean), np.asarray(pred.var)
    if mean.ndim != 3 or var.shape != mean.shape[:2] or np.shape(pred.t) != mean.shape[:1]:
        raise ValueError(
            f"Prediction has t {np.shape(pred.t)}, mean {mean.shape} and var {var.shape}; "
            "expected (T,), (T, m, k) and (T, m)."
        )
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(var))):
        raise ValueError("Prediction has NaN or infinite means/variances.")
    if np.any(var < 0):
        raise ValueError(
            f"Prediction has negative variances (min {var.min():.3g}); variances must be >= 0 "
            "(clamp round-off with np.maximum(var, 0))."
        )
    if np.any(np.isnan(np.asarray(pred.t, dtype=np.float64))):
        raise ValueError("Prediction has NaN times `t`.")


def targets(y: Any, prediction: Prediction) -> np.ndarray:
    """y as finite (m, k) float64 matching the prediction's (T, m, k) mean ((m,) becomes (m, 1))."""
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
    y = as_float_array("y", y, ndim=(1, 2))
    if y.ndim == 1:
        y = y[:, None]
    if y.shape[1] == 1 and np.all(np.abs(y) == 1.0):
        return "parity"
    if y.shape[1] >= 2 and np.all((y == 0.0) | (y == 1.0)) and np.all(y.sum(axis=1) == 1.0):
        return "onehot"
    return "regression"


def resolve_labels(labels: Any, y: np.ndarray) -> str:
    """The label kind of `y`: inferred for 'auto', else checked against the form of `y`."""
    labels = check_option("labels", labels, Labels)
    if labels == "auto":
        return label_kind(y)
    if labels != "regression" and label_kind(y) != labels:
        raise ValueError(
            f"labels={labels!r} but `y` is not of that form (one-hot rows for 'onehot', "
            "+-1 with k = 1 for 'parity'); pass labels='regression' or fix `y`."
        )
    return labels


def discrete_entropy(y: Any) -> float:
    """Empirical Shannon entropy H(Y) = -sum_c p_c log p_c of the distinct rows of y, in nats."""
    y = as_float_array("y", y, min_ndim=1)
    _, counts = np.unique(y.reshape(len(y), -1), axis=0, return_counts=True)
    return float(entropy(counts / counts.sum()))


def resolve_entropy_y(given: Any, y: np.ndarray, kind: str) -> float:
    """H(Y) in nats: `given` if not None (finite), else the discrete entropy of label targets."""
    if given is not None:
        value = float(given)
        if not np.isfinite(value):
            raise ValueError(f"`entropy_y` must be finite, got {given}.")
        return value
    if kind == "regression":
        raise ValueError(
            "Continuous targets need their differential entropy H(Y): pass `entropy_y=` "
            "(e.g. dataset.entropy_y(), or data.gaussian(...).gaussian.entropy_y) or use "
            "information_plane_from_dataset."
        )
    return discrete_entropy(y)
