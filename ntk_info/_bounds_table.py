"""`bounds.generalization_table`: the ensemble's losses, errors, gaps and every bound beside them.

Kept apart from `bounds.py` (the bound functions themselves) to hold each module to one screenful
of concepts; `bounds` re-exports `generalization_table`, `gibbs_error` and `BOUNDED_QUANTITY`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from scipy import special

from ntk_info import information
from ntk_info._checks import as_float_array, as_times, check_option, check_positive
from ntk_info.bounds import (
    input_compression,
    ntk_norm,
    orthant_information,
    pac_bayes_kl_inverse,
    pac_bayes_mcallester,
    pac_bayes_realizable,
)
from ntk_info.ensemble import InfiniteEnsemble, Prediction

__all__ = ["BOUNDED_QUANTITY", "BINARY_ONLY", "VacuousAt", "gibbs_error", "generalization_table"]

#: Each bound of `generalization_table` and the measured column it bounds.
BOUNDED_QUANTITY: dict[str, str] = {
    "xu_raginsky_loss": "loss_gap",
    "ntk_norm": "error_test",
    "pac_bayes_realizable": "error_test",
    "input_compression": "error_gap",
    "pac_bayes_kl_inverse": "gibbs_error_test",
    "pac_bayes_mcallester": "gibbs_error_test",
    "xu_raginsky": "gibbs_error_gap",
}
#: Bounds that need binary labels (+-1, one output): the orthant information is defined for them.
BINARY_ONLY = ("pac_bayes_realizable",)
_NTK_ONLY = ("ntk_norm", "pac_bayes_kl_inverse", "pac_bayes_mcallester", "xu_raginsky")
#: Level at which an error bound is called vacuous: chance (1 - 1/K) or 1.
VacuousAt = Literal["chance", "one"]
_GAUSS_HERMITE = np.polynomial.hermite.hermgauss(64)


# ----------------------------------------------------------------------------------------------
# Errors of the ensemble mean and of one member (Gibbs).
# ----------------------------------------------------------------------------------------------


def _mean_error(pred: Prediction, y: np.ndarray, kind: str) -> np.ndarray:
    return 1.0 - information.accuracy(pred, y, labels=kind)


def gibbs_error(pred: Prediction, y: Any) -> np.ndarray:
    """Expected 0-1 error of one member of the ensemble, z ~ N(mu(x), s(x) I_k) on each point.

    Binary (+-1, k = 1): P[y z < 0] = Phi(-y mu / sqrt(s)). One-hot (k >= 2), class c of y:
    P[argmax z = c] = E_u[prod_{j != c} Phi((mu_c - mu_j) / sqrt(s) + u)], u ~ N(0, 1), by
    64-point Gauss-Hermite quadrature (the integrand varies on the unit scale of u whatever s;
    tested against Monte Carlo over members). Where s = 0 the member is the mean: the error of
    sign(mu) (a tie counts 1/2) or argmax(mu).

    Args:
      pred: `Prediction` with mean (T, m, k) and var (T, m).
      y: (m, 1) +-1 labels or (m, k) one-hot rows.

    Returns:
      (T,) float64 in [0, 1], the mean over the m points.
    """
    y = np.asarray(y, dtype=np.float64)
    kind = information.label_kind(y)
    mean, var = np.asarray(pred.mean), np.asarray(pred.var)
    if y.ndim != 2 or y.shape != mean.shape[1:]:
        raise ValueError(
            f"`y` has shape {y.shape}; the prediction needs ({mean.shape[1]}, {mean.shape[2]})."
        )
    sd = np.sqrt(np.maximum(var, 0.0))
    if kind == "parity":
        margin = mean[..., 0] * y[None, :, 0]
        with np.errstate(divide="ignore", invalid="ignore"):
            per_point = special.ndtr(-margin / sd)
        per_point = np.where(sd > 0, per_point, (margin < 0) + 0.5 * (margin == 0))
        return per_point.mean(axis=1)
    if kind != "onehot":
        raise ValueError("`gibbs_error` needs +-1 labels (k = 1) or one-hot rows (k >= 2).")
    nodes, weights = _GAUSS_HERMITE
    u, w = math.sqrt(2.0) * nodes, weights / math.sqrt(math.pi)
    true = np.argmax(y, axis=1)
    index = np.broadcast_to(true[None, :, None], mean.shape[:2] + (1,))
    gaps = np.take_along_axis(mean, index, axis=2) - mean  # (T, m, k), 0 at the true class
    safe = np.where(sd > 0, sd, 1.0)[..., None, None]
    cdf = special.ndtr(gaps[..., None] / safe + u)  # (T, m, k, Q)
    own = np.arange(mean.shape[2])[None, None, :, None] == true[None, :, None, None]
    correct = np.prod(np.where(own, 1.0, cdf), axis=2) @ w  # (T, m)
    wrong = (np.argmax(mean, axis=-1) != true[None]).astype(np.float64)
    return np.where(sd > 0, 1.0 - correct, wrong).mean(axis=1)


# ----------------------------------------------------------------------------------------------
# Which bounds apply.
# ----------------------------------------------------------------------------------------------


def _select_bounds(requested: Sequence[str] | None, kind: str, mode: str, sigma, n: int):
    """The bounds to compute: all that apply by default; a requested one that cannot, an error."""
    reasons: dict[str, str] = {}
    for name in BOUNDED_QUANTITY:
        if kind == "regression" and name != "xu_raginsky_loss":
            reasons[name] = "it bounds a 0-1 error: pass +-1 or one-hot labels"
        elif name in BINARY_ONLY and kind != "parity":
            reasons[name] = (
                "it needs binary labels (+-1, one output: the orthant information of the labels)"
                f", got {kind!r} labels; leave it out or pass +-1 labels"
            )
        elif name in BINARY_ONLY and n < 2:
            reasons[name] = "it needs n >= 2 training points"
        elif name in _NTK_ONLY and mode != "ntk":
            reasons[name] = "it needs an ensemble in mode 'ntk' (the NTK / the weights' flow)"
        elif name == "xu_raginsky_loss" and sigma is None:
            reasons[name] = "pass `sigma`, the sub-Gaussian parameter of the squared loss"
    if requested is None:
        return [name for name in BOUNDED_QUANTITY if name not in reasons]
    if isinstance(requested, str):
        requested = [requested]
    chosen = []
    for name in requested:
        if name not in BOUNDED_QUANTITY:
            raise ValueError(
                f"`bounds` contains {name!r}; the bounds are {sorted(BOUNDED_QUANTITY)}."
            )
        if name in reasons:
            raise ValueError(f"bound {name!r} does not apply here: {reasons[name]}.")
        if name not in chosen:
            chosen.append(name)
    return chosen


# ----------------------------------------------------------------------------------------------
# The table.
# ----------------------------------------------------------------------------------------------


def _check_targets(y_test: Any, test: Prediction) -> np.ndarray:
    y = as_float_array("y_test", y_test, ndim=(1, 2))
    y = y[:, None] if y.ndim == 1 else y
    if y.shape != test.mean.shape[1:]:
        raise ValueError(
            f"`y_test` has shape {y.shape} but `x_test` gives {test.mean.shape[1]} points with "
            f"{test.mean.shape[2]} outputs; pass the (m, k) targets of the test inputs."
        )
    return y


def _measured(train: Prediction, test: Prediction, y_train, y_test, kind: str) -> dict:
    """Losses (MSE of the mean), errors (mean classifier and Gibbs) and their gaps, each (T,)."""
    out = {
        "loss_train": information.mse(train, y_train),
        "loss_test": information.mse(test, y_test),
    }
    out["loss_gap"] = out["loss_test"] - out["loss_train"]
    if kind == "regression":
        return out
    out["error_train"] = _mean_error(train, y_train, kind)
    out["error_test"] = _mean_error(test, y_test, kind)
    out["error_gap"] = out["error_test"] - out["error_train"]
    out["gibbs_error_train"] = gibbs_error(train, y_train)
    out["gibbs_error_test"] = gibbs_error(test, y_test)
    out["gibbs_error_gap"] = out["gibbs_error_test"] - out["gibbs_error_train"]
    return out


def _bound_values(name: str, ctx: dict, delta: float, sigma: float | None) -> np.ndarray:
    n, size = ctx["n"], ctx["times"].shape
    if name == "ntk_norm":
        return np.full(size, ntk_norm(ctx["ensemble"]))
    if name == "pac_bayes_realizable":
        return np.full(size, pac_bayes_realizable(ctx["orthant"], n, delta))
    if name == "input_compression":
        return np.array([input_compression(max(v, 0.0), n, delta) for v in ctx["izx"]])
    info, q = ctx["weights"], ctx["measured"].get("gibbs_error_train")
    if name == "pac_bayes_kl_inverse":
        kl = [
            pac_bayes_kl_inverse(qi, ki, n, delta) if np.isfinite(ki) else 1.0
            for qi, ki in zip(q, info, strict=True)
        ]
        return np.array(kl)
    if name == "pac_bayes_mcallester":
        mc = [
            pac_bayes_mcallester(qi, ki, n, delta) if np.isfinite(ki) else math.inf
            for qi, ki in zip(q, info, strict=True)
        ]
        return np.array(mc)
    scale = 0.5 if name == "xu_raginsky" else sigma  # a 0-1 loss is 1/2-sub-Gaussian
    return np.sqrt(2.0 * scale**2 * np.maximum(info, 0.0) / n)


def _vacuous(name: str, value: np.ndarray, ctx: dict) -> np.ndarray:
    """value >= the level: for a gap bound, train quantity + value >= the level."""
    quantity = BOUNDED_QUANTITY[name]
    measured = ctx["measured"]
    if quantity == "loss_gap":
        return measured["loss_train"] + value >= ctx["zero_loss"]
    if quantity.endswith("_gap"):
        value = measured[quantity.replace("_gap", "_train")] + value
    return value >= ctx["level"]


def _support(ctx: dict, chosen: list[str], options: dict) -> dict:
    """The information each chosen bound is fed by, computed once: izx, weights, orthant."""
    out: dict[str, Any] = {}
    ensemble, times, train = ctx["ensemble"], ctx["times"], ctx["train"]
    if "input_compression" in chosen:
        upper = information.izx_upper(
            train, n_points=options["n_points"], n_draws=options["n_draws"], seed=options["seed"]
        )
        ctx["izx"] = np.asarray(upper.value, dtype=np.float64)
        out["izx_upper"], out["izx_upper_se"] = ctx["izx"], np.asarray(upper.se, dtype=np.float64)
    if any(name in chosen for name in _NTK_ONLY[1:]) or "xu_raginsky_loss" in chosen:
        ctx["weights"] = np.asarray(
            information.weight_information(
                ensemble, times, form=options["weight_form"], dk_dscale=options["dk_dscale"]
            ),
            dtype=np.float64,
        )
        out["weight_information"] = ctx["weights"]
    if "pac_bayes_realizable" in chosen:
        prior = ensemble.predict_train(0.0, full_cov=True).cov[0]
        labels = np.asarray(ensemble.y_train, dtype=np.float64)[:, 0]
        est = orthant_information(
            prior, labels, n_samples=options["orthant_samples"], seed=options["seed"]
        )
        ctx["orthant"] = float(est.value)
        out["orthant_information"] = np.full(times.shape, float(est.value))
        out["orthant_information_se"] = np.full(times.shape, float(est.se))
    return out


def generalization_table(
    ensemble: InfiniteEnsemble,
    x_test: Any,
    y_test: Any,
    t: Any,
    *,
    delta: float = 0.05,
    bounds: Sequence[str] | None = None,
    sigma: float | None = None,
    vacuous_at: VacuousAt = "chance",
    weight_form: information.Form = "paper",
    dk_dscale: Any = None,
    n_points: int | None = None,
    n_draws: int = 8,
    orthant_samples: int = 10_000,
    seed: int = 0,
) -> Any:
    """Losses, errors, generalization gaps and every bound that applies, one row per time t.

    Measured (ensemble predictive N(mu, s I_k) at t, training and test points):
      loss_train, loss_test, loss_gap = loss_test - loss_train: squared loss of the mean,
        mean over points and outputs of (y - mu)^2 (`information.mse`);
      error_train, error_test, error_gap: 0-1 error of the mean classifier: sign(mu) for +-1
        labels with one output (mu = 0 counts 1/2), argmax(mu) for one-hot rows (k >= 2);
      gibbs_error_train, gibbs_error_test, gibbs_error_gap: 0-1 error of one random member
        z ~ N(mu, s I_k) (`gibbs_error`): what the PAC-Bayes and Xu-Raginsky bounds bound.
    Bounds, each followed by `<bound>_vacuous`, placed after the quantity they bound
    (`BOUNDED_QUANTITY`):
      ntk_norm -> error_test: sqrt(2 sum_k y_k^T Theta^{-1} y_k / n), Arora et al.'s complexity
        (without its O(sqrt(log(n/delta)/n)) term; mode 'ntk');
      pac_bayes_realizable -> error_test: 1 - exp(-(I + ln(2n/delta))/(n - 1)), I the orthant
        information of the training labels under the prior N(0, K) (binary labels only). It
        bounds the Gibbs error of the prior restricted to the functions that fit the labels;
        Bernstein & Yue compare it with trained networks' test error, as here;
      input_compression -> error_gap: sqrt((exp(I_U) + ln(1/delta))/(2n)), I_U the
        leave-one-out upper bound on I(Z;X) over the training inputs at t;
      pac_bayes_kl_inverse, pac_bayes_mcallester -> gibbs_error_test: PAC-Bayes with posterior
        the law of the weights at t and prior their law at t = 0, KL <= weight_information
        (`information.weight_information`, form `weight_form`; mode 'ntk'; 1 and inf at
        t = inf, where the KL is infinite);
      xu_raginsky -> gibbs_error_gap: sqrt(2 sigma^2 I(theta;D)/n) with sigma = 1/2 (a 0-1 loss
        is 1/2-sub-Gaussian), I(theta;D) <= weight_information; a bound in expectation;
      xu_raginsky_loss -> loss_gap: the same with the `sigma` given for the squared loss (an
        assumption: that loss is unbounded), only when `sigma` is passed.
    Vacuity. An error bound is vacuous when it is >= `vacuous_level` (chance, 1 - 1/K with K = 2
    for +-1 labels and K = k for one-hot, or 1 with vacuous_at='one'); a bound on an error gap
    when train error + bound >= that level; the squared-loss gap bound when loss_train + bound
    >= the loss of the zero predictor (the prior mean) on the test points, mean(y_test^2).
    Supporting columns: izx_upper(_se), weight_information, orthant_information(_se), and
    t, n, m, delta, labels, vacuous_level.

    Labels. +-1 labels with one output ('parity') get every bound; one-hot multi-class labels
    every bound but pac_bayes_realizable (the orthant information needs binary labels: asking
    for it raises ValueError); other targets ('regression') only the loss columns and
    xu_raginsky_loss. Mode 'nngp' has no NTK and no weight flow: ntk_norm, the PAC-Bayes-KL
    bounds and Xu-Raginsky are left out (asked for, ValueError).

    Args:
      ensemble: `InfiniteEnsemble` with n training points and targets (n, k).
      x_test: (m, ...) test inputs; y_test: (m, k) test targets of the same kind.
      t: scalar or (T,) times (0 the prior, np.inf the converged ensemble).
      delta: failure probability of the high-probability bounds, in (0, 1).
      bounds: names from `BOUNDED_QUANTITY` to compute; None: all that apply.
      sigma: sub-Gaussian parameter (> 0) of the squared loss for xu_raginsky_loss.
      vacuous_at: 'chance' (default, as Galloway et al.'s "< 50%") or 'one'.
      weight_form, dk_dscale: options of `information.weight_information`.
      n_points, n_draws: options of `information.izx_upper` (training inputs).
      orthant_samples: Monte Carlo samples of `bounds.orthant_information`.
      seed: seed of the I(Z;X) batch and draws and of the orthant sampler.

    Returns:
      A tidy `pandas.DataFrame`, one row per time.

    Reference: spec/information_ntk.md §5, §8.5; spec/estimators.md C, D; the bound functions.
    """
    import pandas as pd

    if not isinstance(ensemble, InfiniteEnsemble):
        raise TypeError(f"`ensemble` must be an InfiniteEnsemble, got {type(ensemble).__name__}.")
    times = as_times(t)
    delta = float(delta)
    if not 0.0 < delta < 1.0:
        raise ValueError(f"`delta` (the failure probability) must lie in (0, 1), got {delta}.")
    check_option("vacuous_at", vacuous_at, VacuousAt)
    sigma = None if sigma is None else check_positive("sigma", sigma)
    train, test = ensemble.predict_train(times), ensemble.predict(x_test, times)
    y_train = np.asarray(ensemble.y_train, dtype=np.float64)
    y_test = _check_targets(y_test, test)
    kind = information.label_kind(y_train)
    if kind != "regression" and information.label_kind(y_test) != kind:
        raise ValueError(
            f"`y_test` must be {kind} labels like the ensemble's training targets "
            f"(+-1 with one output, or one-hot rows)."
        )
    n = ensemble.n_train
    chosen = _select_bounds(bounds, kind, ensemble.mode, sigma, n)
    n_classes = 2 if kind == "parity" else y_train.shape[1]
    ctx: dict[str, Any] = dict(ensemble=ensemble, times=times, train=train, n=n)
    ctx["measured"] = _measured(train, test, y_train, y_test, kind)
    ctx["level"] = 1.0 - 1.0 / n_classes if vacuous_at == "chance" else 1.0
    ctx["zero_loss"] = float(np.mean(np.asarray(y_test, dtype=np.float64) ** 2))
    options = dict(
        n_points=n_points,
        n_draws=n_draws,
        seed=seed,
        weight_form=weight_form,
        dk_dscale=dk_dscale,
        orthant_samples=orthant_samples,
    )
    support = _support(ctx, chosen, options)
    columns: dict[str, Any] = dict(t=times, n=n, m=test.mean.shape[1], delta=delta, labels=kind)
    columns["vacuous_level"] = ctx["level"] if kind != "regression" else ctx["zero_loss"]
    for quantity, values in ctx["measured"].items():
        columns[quantity] = values
        for name in (b for b in chosen if BOUNDED_QUANTITY[b] == quantity):
            columns[name] = _bound_values(name, ctx, delta, sigma)
            columns[f"{name}_vacuous"] = _vacuous(name, columns[name], ctx)
    columns.update(support)
    return pd.DataFrame(columns)
