"""The information plane: every quantity of the ensemble over a time grid, in one tidy table.

`information_plane` validates its inputs once, evaluates the ensemble once (one `predict` on
the evaluation points for all times, t = 0 appended for the prior), and fills the table with
one builder per family of columns: I(Z;X) (`izx`), I(Z;Y) (`izy`), losses (`losses`), KL to
the prior (`kl`) and weight space (`weights`, mode 'ntk'). Its options live in the frozen
dataclass `PlaneOptions`; they are recorded as the table's configuration columns.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from ntk_info._checks import as_times
from ntk_info.ensemble import InfiniteEnsemble, Prediction
from ntk_info.information import izx, izy, kl, losses, weights
from ntk_info.information._inputs import (
    LABEL_KINDS,
    FitOn,
    Form,
    Labels,
    On,
    as_ensemble,
    check_count,
    check_option,
    resolve_entropy_y,
    resolve_labels,
    targets,
)

__all__ = ["PlaneOptions", "information_plane", "information_plane_from_dataset"]


@dataclass(frozen=True)
class PlaneOptions:
    """Options of `information_plane`, validated on construction; each is a column of the table.

    Attributes:
      on: 'test' (the x, y given) or 'train' (the ensemble's training points).
      n_points: N points in the I(Z;X) batch, a seeded random subset (`izx.izx_rows`);
        2 <= N <= m, default min(1000, m).
      n_draws: draws of z for the sampled bounds (>= 2).
      seed: seed of the batch and of every draw.
      labels: 'auto', 'onehot', 'parity' or 'regression' (recorded as the kind inferred).
      sigma2: decoder variance of I(Z;Y): a number, a (T,) array, 'fit', or None (1 for
        regression, 'fit' for labels); recorded as `decoder_fit` ('eval', 'train' or 'fixed')
        and, per time, as `decoder_sigma2`.
      fit_on: where 'fit' fits the decoder variance ('eval' or 'train', see `izy.izy_lower`).
      n_fit: points used for the fit (None: all).
      sigma2_range: bounded range (low, high) of the fitted sigma^2 (columns sigma2_low,
        sigma2_high).
      mc: also the Monte Carlo estimate of I(Z;X) (izx_mc, izx_mc_se).
      joint: also the joint (across points) Bayes loss and KL; the prediction then carries the
        full (T, m, m) covariance (memory T m^2 8 bytes).
      form: form of `weight_information`, 'paper' or 'corrected' (column
        weight_information_form; 'corrected' needs `dk_dscale`).
    """

    on: On = "test"
    n_points: int | None = None
    n_draws: int = 8
    seed: int = 0
    labels: Labels = "auto"
    sigma2: float | np.ndarray | Literal["fit"] | None = None
    fit_on: FitOn = "eval"
    n_fit: int | None = 512
    sigma2_range: tuple[float, float] = izy.SIGMA2_RANGE
    mc: bool = False
    joint: bool = False
    form: Form = "paper"

    def __post_init__(self) -> None:
        check_option("on", self.on, On)
        check_option("labels", self.labels, Labels)
        check_option("fit_on", self.fit_on, FitOn)
        check_option("form", self.form, Form)
        if self.n_points is not None:
            check_count("n_points", self.n_points, 2, "I(Z;X) over N = 1 point is 0")
        check_count("n_draws", self.n_draws, 2, "the standard error needs two draws of z")
        check_count("seed", self.seed, 0, "a PRNG seed")
        for name in ("mc", "joint"):
            if not isinstance(getattr(self, name), bool | np.bool_):
                raise TypeError(f"`{name}` must be a bool, got {getattr(self, name)!r}.")

    def columns(self, kind: str, n_points: int) -> dict[str, Any]:
        """The configuration columns: every option, resolved for the data (label `kind`, N)."""
        low, high = (float(v) for v in self.sigma2_range)
        return dict(
            on=self.on,
            n_points=int(n_points),
            n_draws=int(self.n_draws),
            seed=int(self.seed),
            labels=kind,
            decoder_fit=izy.decoder_fit(self.sigma2, self.fit_on, kind),
            n_fit=-1 if self.n_fit is None else int(self.n_fit),
            sigma2_low=low,
            sigma2_high=high,
            mc=bool(self.mc),
            joint=bool(self.joint),
            weight_information_form=self.form,
        )


def information_plane(
    ensemble: InfiniteEnsemble,
    x: Any,
    y: Any,
    t: Any,
    options: PlaneOptions | None = None,
    *,
    entropy_y: float | None = None,
    dk_dscale: Any = None,
    progress: bool = False,
    **kwargs: Any,
) -> pd.DataFrame:
    """Every information quantity of the ensemble over the time grid, one row per t.

    Columns (nats unless stated; `_se` = Monte Carlo standard error over draws of z):
      t, tau; izx_lower, izx_lower_se, izx_upper, izx_upper_se (I(Z;X|D) on N points),
      izx_cap (= log N); [izx_mc, izx_mc_se if mc]; izy_lower, izy_lower_se (Barber-Agakov,
      proper decoder), izy_lower_paper (H(Y) + E log N(y; z, I)), entropy_y, decoder_sigma2;
      loss_bayes, loss_gibbs (NLL per point), mse; [accuracy for labels]; [loss_bayes_joint if
      joint]; mean_var (mean predictive variance); kl_prior (per point); [kl_prior_joint if
      joint]; for mode 'ntk': fisher_trace, parameter_energy, weight_information,
      weight_information_rate_per_tau; the configuration (`PlaneOptions.columns`): on,
      n_points, n_draws, seed, labels, decoder_fit, n_fit, sigma2_low, sigma2_high, mc, joint,
      weight_information_form; and n_eval (m, the points evaluated) and mode.

    Every column for a time depends on (t, seed) only: the same rows come out of any grid.

    Args:
      ensemble: `InfiniteEnsemble`.
      x: (m, ...features) evaluation inputs (None with on='train').
      y: (m, k) their targets (None with on='train').
      t: (T,) times (0 and np.inf allowed).
      options: a `PlaneOptions`; or pass its fields as keywords (n_points=..., seed=...).
      entropy_y: H(Y); inferred (discrete empirical) for one-hot/+-1 labels, required for
        continuous y (see `information_plane_from_dataset`).
      dk_dscale: (n, n) dK_s/ds for form='corrected' (`weights.kernel_scale_derivative`).
      progress: show a tqdm bar over the stages.

    Returns:
      pandas.DataFrame, one row per t in the given order.

    Reference: Shwartz-Ziv & Alemi (2019), Fig. 2-4 and App. C; spec information_ntk.md §3.
    """
    from tqdm.auto import tqdm

    opts = _options(options, kwargs)
    ev = _prepare(ensemble, x, y, t, opts, entropy_y, dk_dscale)
    pred, seed, draws = ev.pred, opts.seed, opts.n_draws
    builders = {
        "I(Z;X)": lambda: izx.izx_columns(pred, ev.n_points, draws, seed, mc=opts.mc),
        "I(Z;Y)": lambda: izy.izy_columns(
            pred, ev.y, ev.kind, ev.h_y, ev.decoder, ensemble, draws, seed
        ),
        "losses": lambda: losses.loss_columns(pred, ev.y, ev.kind, joint=opts.joint),
        "KL": lambda: kl.kl_columns(pred, ev.prior_var, ev.prior_cov),
        "weights": lambda: (
            weights.weight_columns(ensemble, pred.tau, ev.dk_diag) if ensemble.mode == "ntk" else {}
        ),
    }
    columns: dict[str, Any] = dict(t=pred.t, tau=pred.tau)
    with tqdm(total=len(builders), desc="information_plane", disable=not progress) as bar:
        for stage, build in builders.items():
            bar.set_postfix_str(stage)
            columns.update(build())
            bar.update(1)
    frame = pd.DataFrame(columns)
    config = opts.columns(ev.kind, ev.n_points)
    config.update(n_eval=int(ev.y.shape[0]), mode=ensemble.mode)
    for name, value in config.items():
        frame[name] = value
    return frame


def information_plane_from_dataset(
    ensemble: InfiniteEnsemble, dataset: Any, t: Any, *, on: On = "test", **kwargs: Any
) -> pd.DataFrame:
    """`information_plane` on a `Dataset`'s test (or training) split, with its H(Y).

    H(Y) comes from `dataset.entropy_y()` (exact differential entropy for Gaussian data, the
    discrete empirical entropy for labels) unless `entropy_y=` is passed; the label kind from
    `dataset.labels`. Other keywords go to `information_plane` (`PlaneOptions` fields included).

    Returns:
      the `information_plane` DataFrame with a `dataset` column.
    """
    from ntk_info.data import Dataset

    if not isinstance(dataset, Dataset):
        raise TypeError(
            f"`dataset` must be an ntk_info.data.Dataset, got {type(dataset).__name__}."
        )
    check_option("on", on, On)
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


# ----------------------------------------------------------------------------------------------
# Validation and the one prediction.
# ----------------------------------------------------------------------------------------------


def _options(options: PlaneOptions | None, kwargs: dict[str, Any]) -> PlaneOptions:
    """`options` updated with the keyword fields; unknown keywords raise TypeError."""
    names = {field.name for field in dataclasses.fields(PlaneOptions)}
    unknown = sorted(set(kwargs) - names)
    if unknown:
        hint = " (`batch_size` is now `n_points`)" if "batch_size" in unknown else ""
        raise TypeError(
            f"information_plane() got unexpected keyword(s) {unknown}{hint}; the options are "
            f"{sorted(names)} (PlaneOptions) and entropy_y, dk_dscale, progress."
        )
    if options is None:
        return PlaneOptions(**kwargs)
    if not isinstance(options, PlaneOptions):
        raise TypeError(f"`options` must be a PlaneOptions, got {type(options).__name__}.")
    return dataclasses.replace(options, **kwargs)


@dataclass(frozen=True)
class _Evaluation:
    """The validated inputs and the one prediction every builder reads."""

    pred: Prediction  # (T, m, k), the times asked for
    prior_var: np.ndarray  # (m,) t = 0 variances
    prior_cov: np.ndarray | None  # (m, m) t = 0 covariance when joint
    y: np.ndarray  # (m, k)
    kind: str
    h_y: float
    n_points: int
    decoder: dict[str, Any]
    dk_diag: np.ndarray | None


def _prepare(ensemble, x, y, t, opts: PlaneOptions, entropy_y, dk_dscale) -> _Evaluation:
    """Validates everything once and predicts once (prior at t = 0 appended, then split off)."""
    as_ensemble(ensemble)
    times = as_times(t)
    dk_diag = None
    if ensemble.mode == "ntk":
        dk_diag = weights.check_dk_dscale(ensemble, opts.form, dk_dscale)
    with_prior = np.concatenate([times, [0.0]])
    if opts.on == "train":
        if x is not None and np.shape(x)[0] != ensemble.n_train:
            raise ValueError("With on='train' pass x=None (the training inputs are used).")
        y = ensemble.y_train if y is None else y
        full = ensemble.predict_train(with_prior, full_cov=opts.joint)
    else:
        if x is None or y is None:
            raise ValueError("With on='test' pass the evaluation inputs `x` and targets `y`.")
        full = ensemble.predict(x, with_prior, full_cov=opts.joint)
    y = targets(y, full)
    kind = resolve_labels(opts.labels, y)
    cov = None if full.cov is None else full.cov[:-1]
    pred = Prediction(t=times, tau=full.tau[:-1], mean=full.mean[:-1], var=full.var[:-1], cov=cov)
    return _Evaluation(
        pred=pred,
        prior_var=full.var[-1],
        prior_cov=None if full.cov is None else full.cov[-1],
        y=y,
        kind=kind,
        h_y=resolve_entropy_y(entropy_y, y, kind),
        n_points=izx.resolve_n_points(opts.n_points, y.shape[0]),
        decoder=izy.check_decoder(
            opts.sigma2, opts.fit_on, ensemble, pred, kind, opts.n_fit, opts.sigma2_range
        ),
        dk_diag=dk_diag,
    )
