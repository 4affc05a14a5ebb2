"""Finite width against the infinite-width limit: information quantities and their convergence.

Two kinds of width-w ensembles stand beside the infinite ensemble (information_ntk.md §6
"Monte-Carlo agreement", §8.6):

  - Monte Carlo kernels: `finite.monte_carlo_kernel_fn(fc(depth, width=w), n_samples=S)` is a
    `kernel_fn`; the `InfiniteEnsemble` built on it and `information_plane` give every quantity
    of the Gaussian process with the width-w networks' (Monte Carlo) kernels;
  - trained ensembles: M networks of width w trained by full-batch gradient descent
    (`finite.train_ensemble`); `trained_information` matches a Gaussian to their outputs on each
    point (empirical mean and variance over the networks) and feeds it to the same column
    builders as `information_plane`, and computes the Gibbs loss directly from the networks.

`width_tables` computes the infinite-width reference table and one table per width,
`width_convergence` the distance of each quantity from its infinite-width value against w with
the ordinary-least-squares slope of log distance on log w (`loglog_slope`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import numpy as np
import pandas as pd

from ntk_info._checks import as_float_array, as_times, check_option, check_positive
from ntk_info.ensemble import InfiniteEnsemble, Prediction
from ntk_info.finite import TrainedEnsemble, empirical_moments, monte_carlo_kernel_fn
from ntk_info.information import izx, izy, kl, losses
from ntk_info.information._inputs import resolve_entropy_y, resolve_labels, targets
from ntk_info.information.plane import PlaneOptions, information_plane

__all__ = [
    "DEFAULT_QUANTITIES",
    "SOURCES",
    "Source",
    "Distance",
    "SlopeFit",
    "WidthTables",
    "moment_matched_prediction",
    "trained_information",
    "width_tables",
    "width_convergence",
    "loglog_slope",
]

#: Quantities compared by default (those present in both tables are used).
DEFAULT_QUANTITIES = (
    "izx_lower",
    "izx_upper",
    "izy_lower",
    "loss_bayes",
    "loss_gibbs",
    "mse",
    "kl_prior",
    "mean_var",
)
#: Finite-width ensembles: Monte Carlo kernels or trained networks.
Source = Literal["mc", "trained"]
SOURCES = ("mc", "trained")
#: How the distance over the time grid is reduced: root mean square or maximum of |q_w - q_inf|.
Distance = Literal["rms", "max"]


class SlopeFit(NamedTuple):
    """OLS fit log d = intercept + slope log w: slope, its standard error, intercept."""

    slope: float
    se: float
    intercept: float


@dataclass(frozen=True)
class WidthTables:
    """The infinite-width reference and one table per width, as `width_tables` computes them.

    Attributes:
      reference: `information_plane` table of the analytic-kernel ensemble.
      by_width: width -> table of the width-w ensemble (same columns where they apply).
      source: 'mc' or 'trained'.
    """

    reference: pd.DataFrame
    by_width: dict[int, pd.DataFrame]
    source: str


def moment_matched_prediction(trained: TrainedEnsemble, *, on: str = "test") -> Prediction:
    """The Gaussian matched to a trained ensemble's outputs: empirical mean and variance.

    mean[s, i] = 1/M sum_j f_j(x_i) after s steps; var[s, i] = the unbiased variance over the
    M networks, pooled over the k outputs (`finite.empirical_moments`); t = eta s and
    tau = eta s / (n k), the infinite ensemble's times (learning_rate = 1).

    Args:
      trained: `TrainedEnsemble` with M >= 2 networks.
      on: 'test' (its test outputs) or 'train' (its training outputs).

    Returns:
      `Prediction` with mean (S, m, k), var (S, m).
    """
    if not isinstance(trained, TrainedEnsemble):
        raise TypeError(
            f"`trained` must be a finite.TrainedEnsemble (train_ensemble(...)), got "
            f"{type(trained).__name__}."
        )
    check_option("on", on, ("test", "train"))
    if trained.n_networks < 2:
        raise ValueError(
            "Moment matching needs a variance over networks: train n_networks >= 2 networks."
        )
    outputs = trained.test_outputs if on == "test" else trained.train_outputs
    mean, var = empirical_moments(outputs)
    n, k = trained.train_outputs.shape[2:]
    return Prediction(t=trained.t, tau=trained.t / (n * k), mean=mean, var=var)


def trained_information(
    trained: TrainedEnsemble,
    y: Any,
    options: PlaneOptions | None = None,
    *,
    entropy_y: float | None = None,
    **kwargs: Any,
) -> pd.DataFrame:
    """Information quantities of a trained finite-width ensemble, one row per recorded time.

    The per-point Gaussian N(mean_i, var_i I_k) of `moment_matched_prediction` goes through the
    information plane's own column builders: I(Z;X) bounds (`izx.izx_columns`), I(Z;Y)
    (`izy.izy_columns`, decoder fitted on the evaluation points), losses
    (`losses.loss_columns`) and the KL to the prior (`kl.kl_columns`, prior = the recorded
    step-0 variances). Directly from the M networks, where a quantity is an average over them:

      loss_gibbs_samples = 1/(M m) sum_j sum_i [ 1/2 |y_i - f_j(x_i)|^2 + (k/2) log 2 pi ],

    with `loss_gibbs_samples_se` (standard error over networks); it equals the moment-matched
    `loss_gibbs` up to the factor (M - 1)/M on the variance term.

    Args:
      trained: `TrainedEnsemble` (M >= 2 networks; step 0 recorded, for the KL).
      y: (m, k) targets of the evaluated points (test targets, or y_train with on='train').
      options: `PlaneOptions` (on, n_points, n_draws, seed, labels, sigma2, n_fit,
        sigma2_range, mc), or its fields as keywords; fit_on='train' and joint=True do not
        apply (no training-set kernel, no joint covariance) and are refused.
      entropy_y: H(Y) in nats (required for continuous y).

    Returns:
      DataFrame with the `information_plane` columns that apply (t, tau, izx_*, izy_lower,
      izy_lower_se, izy_lower_paper, entropy_y, decoder_sigma2, loss_bayes, loss_gibbs, mse,
      [accuracy], mean_var, kl_prior, the configuration columns), plus steps,
      loss_gibbs_samples, loss_gibbs_samples_se, n_networks and mode = 'trained'.
    """
    opts = _plane_options(options, kwargs)
    pred = moment_matched_prediction(trained, on=opts.on)
    if trained.steps[0] != 0:
        raise ValueError(
            "The KL to the prior needs the step-0 outputs: train with record_steps "
            "including 0 (the default records 0 and `steps`)."
        )
    y = targets(y, pred)
    kind = resolve_labels(opts.labels, y)
    n_points = izx.resolve_n_points(opts.n_points, y.shape[0])
    decoder = izy.check_decoder(
        opts.sigma2, opts.fit_on, None, pred, kind, opts.n_fit, opts.sigma2_range
    )
    h_y = resolve_entropy_y(entropy_y, y, kind)
    columns: dict[str, Any] = dict(t=pred.t, tau=pred.tau, steps=trained.steps)
    columns.update(izx.izx_columns(pred, n_points, opts.n_draws, opts.seed, mc=opts.mc))
    columns.update(izy.izy_columns(pred, y, kind, h_y, decoder, None, opts.n_draws, opts.seed))
    columns.update(losses.loss_columns(pred, y, kind, joint=False))
    columns.update(kl.kl_columns(pred, pred.var[0], None))
    outputs = trained.test_outputs if opts.on == "test" else trained.train_outputs
    columns.update(_gibbs_samples(outputs, y))
    frame = pd.DataFrame(columns)
    config = opts.columns(kind, n_points)
    config.update(n_eval=int(y.shape[0]), mode="trained", n_networks=trained.n_networks)
    for name, value in config.items():
        frame[name] = value
    return frame


def _plane_options(options: PlaneOptions | None, kwargs: dict[str, Any]) -> PlaneOptions:
    import dataclasses

    names = {field.name for field in dataclasses.fields(PlaneOptions)}
    unknown = sorted(set(kwargs) - names)
    if unknown:
        raise TypeError(f"unexpected keyword(s) {unknown}; the options are {sorted(names)}.")
    if options is not None and not isinstance(options, PlaneOptions):
        raise TypeError(f"`options` must be a PlaneOptions, got {type(options).__name__}.")
    opts = dataclasses.replace(options or PlaneOptions(), **kwargs)
    if opts.fit_on == "train" and (opts.sigma2 is None or isinstance(opts.sigma2, str)):
        raise ValueError(
            "A trained ensemble has no training-set kernel to fit the decoder on: pass "
            "fit_on='eval' (default) or a fixed `sigma2=`."
        )
    if opts.joint:
        raise ValueError("joint=True needs the covariance across points; pass joint=False.")
    return opts


def _gibbs_samples(outputs: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """Gibbs loss averaged over the networks (M, S, m, k) and its standard error over them."""
    k = y.shape[1]
    per_network = np.mean(
        0.5 * np.sum((outputs - y[None, None]) ** 2, axis=-1) + 0.5 * k * losses.LOG_2PI, axis=-1
    )  # (M, S)
    n_networks = per_network.shape[0]
    return dict(
        loss_gibbs_samples=per_network.mean(axis=0),
        loss_gibbs_samples_se=per_network.std(axis=0, ddof=1) / math.sqrt(n_networks),
    )


# ----------------------------------------------------------------------------------------------
# Tables over widths and their convergence.
# ----------------------------------------------------------------------------------------------


def check_widths(widths: Any, minimum: int = 1) -> list[int]:
    """`widths` as a list of distinct integers >= 1, at least `minimum` of them, else an error."""
    values = list(np.atleast_1d(np.asarray(widths, dtype=object)))
    if any(isinstance(w, bool) or not isinstance(w, int | np.integer) for w in values):
        raise TypeError(f"`widths` must be integers, got {widths!r}.")
    if any(w < 1 for w in values):
        raise ValueError(f"`widths` must be integers >= 1 (a layer has >= 1 unit), got {widths}.")
    if len(set(values)) != len(values):
        raise ValueError(f"`widths` must be distinct, got {widths}.")
    if len(values) < minimum:
        raise ValueError(
            f"A log-log slope needs at least {minimum} widths, got {len(values)}: pass more."
        )
    return [int(w) for w in values]


def width_tables(
    architecture: Callable[[int], Any],
    widths: Sequence[int],
    x_train: Any,
    y_train: Any,
    x_test: Any,
    y_test: Any,
    t: Any,
    *,
    source: Source = "mc",
    n_samples: int = 64,
    n_networks: int = 64,
    learning_rate: float = 1.0,
    seed: int = 0,
    mode: str = "ntk",
    network_block: int = 8,
    **plane_kwargs: Any,
) -> WidthTables:
    """The infinite-width reference table and the width-w tables, for every w in `widths`.

    Reference: `information_plane(InfiniteEnsemble(kernel_fn), x_test, y_test, t)` with the
    architecture's analytic kernel_fn. Width w, source 'mc': the same with
    `monte_carlo_kernel_fn(architecture(w), n_samples=S, seed=seed)`. Source 'trained':
    `trained_information` of M = `n_networks` networks `architecture(w)` trained by full-batch
    GD with step eta = `learning_rate`, recorded at the steps t / eta (which must be integers;
    step 0 is added for the KL and dropped from the table unless asked for).

    Args:
      architecture: w -> stax triple (init_fn, apply_fn, kernel_fn), e.g.
        `lambda w: fc(3, width=w)`.
      widths: distinct integers >= 1.
      x_train, y_train, x_test, y_test: (n, ...), (n, k), (m, ...), (m, k).
      t: (T,) neural-tangents times (finite, multiples of eta for 'trained').
      source: 'mc' or 'trained'.
      n_samples: S, networks of each Monte Carlo kernel ('mc').
      n_networks: M, trained networks per width ('trained').
      learning_rate: GD step eta ('trained').
      seed: seed of the networks and of the plane's draws (as `PlaneOptions.seed`).
      mode: 'ntk' or 'nngp' dynamics of the kernel ensembles ('trained' needs 'ntk').
      network_block: networks vmapped at once.
      **plane_kwargs: `PlaneOptions` fields (n_points, n_draws, sigma2, ...) and entropy_y.

    Returns:
      `WidthTables(reference, by_width, source)`; each table has a `width` column (reference:
      np.inf) and a `source` column ('infinite', 'mc' or 'trained').
    """
    check_option("source", source, SOURCES)
    widths = check_widths(widths)
    if not callable(architecture):
        raise TypeError("`architecture` must be a function width -> stax triple.")
    if source == "trained" and mode != "ntk":
        raise ValueError("Trained networks follow the NTK dynamics: pass mode='ntk'.")
    times = as_times(t)
    plane_kwargs.setdefault("seed", seed)
    reference = information_plane(
        InfiniteEnsemble(architecture(max(widths)), x_train, y_train, mode=mode),
        x_test,
        y_test,
        times,
        **plane_kwargs,
    ).assign(width=np.inf, source="infinite")
    by_width = {}
    for width in widths:
        if source == "mc":
            kernel_fn = monte_carlo_kernel_fn(
                architecture(width), n_samples=n_samples, seed=seed, network_block=network_block
            )
            ensemble = InfiniteEnsemble(kernel_fn, x_train, y_train, mode=mode)
            frame = information_plane(ensemble, x_test, y_test, times, **plane_kwargs)
        else:
            frame = _trained_frame(
                architecture(width), x_train, y_train, x_test, y_test, times,
                n_networks, learning_rate, seed, network_block, plane_kwargs,
            )  # fmt: skip
        by_width[width] = frame.assign(width=width, source=source)
    return WidthTables(reference=reference, by_width=by_width, source=source)


def _trained_frame(triple, x_train, y_train, x_test, y_test, times, n_networks, eta, seed,
                   block, plane_kwargs) -> pd.DataFrame:  # fmt: skip
    """`trained_information` of networks trained to the steps t / eta (step 0 added, dropped)."""
    from ntk_info.finite import train_ensemble

    eta = check_positive("learning_rate", eta)
    steps = times / eta
    if not np.all(np.isfinite(steps)) or np.any(np.abs(steps - np.round(steps)) > 1e-9 * steps):
        raise ValueError(
            f"With source='trained' every t must be a finite multiple of learning_rate = {eta} "
            f"(t = eta * steps); got t = {times.tolist()}."
        )
    steps = np.round(steps).astype(np.int64)
    record = np.unique(np.concatenate([[0], steps]))
    trained = train_ensemble(
        triple[0], triple[1], x_train, y_train, x_test,
        n_networks=n_networks, learning_rate=eta, steps=int(record[-1]),
        record_steps=record.tolist(), seed=seed, network_block=block,
    )  # fmt: skip
    frame = trained_information(trained, y_test, **plane_kwargs)
    rows = [int(np.flatnonzero(trained.steps == s)[0]) for s in steps]
    return frame.iloc[rows].reset_index(drop=True)


def loglog_slope(widths: Any, distances: Any) -> SlopeFit:
    """Ordinary least squares of log d on log w: slope, its standard error, intercept.

    With u = log w, v = log d over W >= 2 widths:
      slope = sum (u - u_bar)(v - v_bar) / sum (u - u_bar)^2,
      intercept = v_bar - slope u_bar,
      se = sqrt( sum r^2 / (W - 2) / sum (u - u_bar)^2 ),   r = v - intercept - slope u,
    the textbook OLS standard error from the residuals (W = 2: no residual degree of freedom,
    se = nan). d ~ w^slope: slope -1/2 for a Monte Carlo error of O(w^{-1/2}), -1 for an
    O(1/w) bias.

    Args:
      widths: (W,) distinct widths > 0.
      distances: (W,) distances > 0.

    Returns:
      `SlopeFit(slope, se, intercept)`.
    """
    w = as_float_array("widths", widths, ndim=1)
    d = as_float_array("distances", distances, ndim=1)
    if w.shape != d.shape or w.size < 2:
        raise ValueError(
            f"A slope needs at least 2 widths and as many distances; got {w.size} widths and "
            f"{d.size} distances."
        )
    if np.any(w <= 0) or np.unique(w).size != w.size:
        raise ValueError(f"`widths` must be distinct and > 0, got {w.tolist()}.")
    if np.any(d <= 0):
        raise ValueError(
            f"`distances` must be > 0 to take logarithms, got {d.tolist()}; a quantity equal to "
            "its infinite-width value at some width has no log-log slope."
        )
    u, v = np.log(w), np.log(d)
    du = u - u.mean()
    slope = float(du @ (v - v.mean()) / (du @ du))
    intercept = float(v.mean() - slope * u.mean())
    if w.size == 2:
        return SlopeFit(slope, float("nan"), intercept)
    residuals = v - intercept - slope * u
    se = math.sqrt(float(residuals @ residuals) / (w.size - 2) / float(du @ du))
    return SlopeFit(slope, se, intercept)


def width_convergence(
    tables: WidthTables | Mapping[int, pd.DataFrame],
    reference: pd.DataFrame | None = None,
    quantities: Sequence[str] | None = None,
    *,
    distance: Distance = "rms",
) -> pd.DataFrame:
    """Distance of each quantity from its infinite-width value against w, and its log-log slope.

    d_q(w) = sqrt(mean_t (q_w(t) - q_inf(t))^2) (distance='rms') or max_t |q_w(t) - q_inf(t)|
    ('max') over the times of the width-w table, each matched to the reference's row with the
    same t; then `loglog_slope` of d_q(w) over the widths (d ~ w^slope).

    Args:
      tables: a `WidthTables` (from `width_tables`), or a mapping width -> table.
      reference: the infinite-width table (with a mapping; taken from a `WidthTables`).
      quantities: columns to compare; default those of `DEFAULT_QUANTITIES` in every table.
      distance: 'rms' or 'max'.

    Returns:
      DataFrame, one row per (quantity, width): quantity, width, distance, slope, slope_se,
      intercept, n_widths, n_times, distance_kind, and source when the tables carry one.
    """
    check_option("distance", distance, ("rms", "max"))
    source = None
    if isinstance(tables, WidthTables):
        if reference is not None:
            raise ValueError("A WidthTables carries its reference: pass reference=None.")
        by_width, reference, source = tables.by_width, tables.reference, tables.source
    elif isinstance(tables, Mapping):
        by_width = dict(tables)
    else:
        raise TypeError(
            "`tables` must be a WidthTables or a mapping width -> DataFrame, got "
            f"{type(tables).__name__}."
        )
    if not isinstance(reference, pd.DataFrame):
        raise TypeError("`reference` must be the infinite-width DataFrame (information_plane).")
    widths = check_widths(sorted(by_width), minimum=2)
    names = _quantities(quantities, [reference, *by_width.values()])
    rows = []
    for name in names:
        d = np.array([_distance(by_width[w], reference, name, distance) for w in widths])
        fit = loglog_slope(widths, d)
        for width, value in zip(widths, d, strict=True):
            rows.append(
                dict(quantity=name, width=width, distance=value, slope=fit.slope,
                     slope_se=fit.se, intercept=fit.intercept, n_widths=len(widths),
                     n_times=len(by_width[width]), distance_kind=distance)
            )  # fmt: skip
    frame = pd.DataFrame(rows)
    if source is not None:
        frame["source"] = source
    return frame


def _quantities(quantities: Sequence[str] | None, frames: list[pd.DataFrame]) -> list[str]:
    if quantities is None:
        names = [q for q in DEFAULT_QUANTITIES if all(q in f.columns for f in frames)]
        if not names:
            raise ValueError(f"No column of {DEFAULT_QUANTITIES} is in every table.")
        return names
    if isinstance(quantities, str):
        quantities = [quantities]
    names = list(quantities)
    if not names:
        raise ValueError("`quantities` is empty; name at least one column.")
    missing = sorted({q for q in names for f in frames if q not in f.columns})
    if missing:
        raise ValueError(f"Quantities {missing} are not columns of every table.")
    return names


def _distance(frame: pd.DataFrame, reference: pd.DataFrame, name: str, kind: str) -> float:
    """d_q over the times of `frame`, matched on t to the reference."""
    ref = reference.drop_duplicates("t").set_index("t")[name]
    missing = sorted(set(frame["t"]) - set(ref.index))
    if missing:
        raise ValueError(
            f"Times {missing} of a width table are not in the reference; compute both on the "
            "same t grid."
        )
    diff = frame[name].to_numpy(dtype=np.float64) - ref.loc[frame["t"]].to_numpy(np.float64)
    if not np.all(np.isfinite(diff)):
        raise ValueError(
            f"`{name}` is not finite in some table (e.g. kl_prior on training points at t = "
            "inf); leave it out of `quantities` or drop those times."
        )
    if kind == "max":
        return float(np.max(np.abs(diff)))
    return float(np.sqrt(np.mean(diff**2)))
