"""Every MI estimator on every ground-truth task: bias, standard deviation and time.

A grid of (task, dimension, true MI, number of samples, seed, estimator) runs through
`ntk_info.sweep` (resumable, any executor). Each point draws n samples of the task with the
seed, runs the estimator and records its estimate, its own se (where it has one), its time and
the task's true MI with that truth's Monte Carlo se. `summarize` turns the raw rows into one row
per (task, dimension, MI, n, estimator): bias = mean(estimate) - truth, std over seeds, RMSE,
mean time; `plot` draws estimate against truth per estimator.

Tasks (`ntk_info.tasks`), `dim` their size and `mi` the targeted true MI in nats:
  gaussian         correlated Gaussians, dim_x = dim_z = dim, exact MI = mi;
  images           Butakov et al.'s rasterised Gaussian blobs, dim x dim pixels, exact MI = mi;
  noisy_network    T = f(X) + N(0, beta^2 I), f a random tanh net 10-16-dim, X uniform over
                   N Gaussian points, beta set so that the MI is ~mi (pairwise bounds);
  ensemble_output  an infinite ensemble's (fc(3), relu, NTK, N mnist1d points, parity labels)
                   output at tau = 1, read out `dim` times, plus noise;
  hidden_layer     its first hidden layer read out through `dim` units (NNGP kernel), plus noise.
The channel tasks' truth is the mixture engine's MC with se `mi_se` (default 2e-3 nats).

Estimators: sample estimators (`SAMPLE_ESTIMATORS`) see the samples (x, z) only (the
entropy-based KL, WKL and compressed estimators get x as integer labels when its rows repeat,
as on the channel tasks: I = h(Z) - sum_x p(x) h(Z|X=x), which needs > k samples per input, so
n >= a few times k * N); known-noise
estimators (`KNOWN_NOISE_ESTIMATORS`: pairwise KDE bounds, SP, known-conditional critics) see
the sampled inputs, their clean outputs f(x) and beta, and run on the tasks with a common noise
variance (noisy_network).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ntk_info import tasks as _tasks_module

__all__ = [
    "TASKS",
    "SAMPLE_ESTIMATORS",
    "KNOWN_NOISE_ESTIMATORS",
    "available_estimators",
    "build_task",
    "grid",
    "run_point",
    "run",
    "summarize",
    "plot",
    "QUICK",
    "FULL",
]

TASKS = ("gaussian", "images", "noisy_network", "ensemble_output", "hidden_layer")
CHANNEL_POINTS = 128

#: name -> hyperparameters (full scale); quick runs shorten the neural critics' training.
SAMPLE_ESTIMATORS: dict[str, dict[str, Any]] = {
    "ksg": {},
    "kozachenko_leonenko": {},
    "weighted_kl": {},
    "binning": dict(n_bins=30, bounds="neuron", bin_x=True),
    "compressed": {},
    "mine": dict(steps=2000),
    "nwj": dict(steps=2000),
    "infonce": dict(steps=2000),
}
KNOWN_NOISE_ESTIMATORS: dict[str, dict[str, Any]] = {
    "kde_upper": {},
    "kde_lower": {},
    "sample_propagation": {},
    "infonce_known_conditional": {},
    "loo_known_conditional": {},
    "mine_known_conditional": dict(steps=1000),
}
NEURAL = ("mine", "nwj", "infonce", "mine_known_conditional")
#: Sample estimators that take integer labels for a discrete x (see `_as_labels_if_discrete`).
LABEL_ESTIMATORS = ("kozachenko_leonenko", "weighted_kl", "compressed")

#: The grids: `run(scale="quick")` takes seconds (no trained critics: their jit compilation
#: alone takes tens of seconds on 2 cores), "full" hours on 2 cores.
QUICK = dict(
    tasks=("gaussian", "noisy_network"),
    dims=(2,),
    mis=(1.0,),
    n_samples=(200,),
    seeds=(0, 1),
    steps=50,
    estimators=(
        "ksg",
        "kozachenko_leonenko",
        "weighted_kl",
        "binning",
        "compressed",
        "kde_upper",
        "kde_lower",
        "sample_propagation",
        "infonce_known_conditional",
        "loo_known_conditional",
    ),
)
FULL = dict(
    tasks=TASKS,
    dims=(1, 4, 16),
    mis=(0.5, 1.0, 2.0, 4.0),
    n_samples=(300, 1000, 3000),
    seeds=tuple(range(5)),
    steps=2000,
)


def available_estimators() -> list[str]:
    """The benchmark's estimators that `ntk_info.estimators` provides in this checkout."""
    from ntk_info import estimators

    names = []
    for name in [*SAMPLE_ESTIMATORS, *KNOWN_NOISE_ESTIMATORS]:
        try:
            getattr(estimators, name)
        except (AttributeError, ImportError):
            continue
        names.append(name)
    return names


# ----------------------------------------------------------------------------------------------
# Tasks.
# ----------------------------------------------------------------------------------------------


def _noise_for_mi(means: np.ndarray, variances: np.ndarray, mi: float) -> float:
    """Added variance b with I(X; Z) ~ mi for Z | x_i ~ N(mu_i, (s_i + b) I): bisection in log b
    on the midpoint of the Kolchinsky-Tracey bounds (monotone in b), 40 steps."""
    from ntk_info.mixture import pairwise_bhattacharyya_lower, pairwise_kl_upper

    def approx(b: float) -> float:
        v = variances + b
        return 0.5 * float(pairwise_kl_upper(means, v).value) + 0.5 * float(
            pairwise_bhattacharyya_lower(means, v).value
        )

    scale = float(np.mean(np.sum((means - means.mean(0)) ** 2, axis=1))) + 1e-12
    lo, hi = np.log(1e-8 * scale), np.log(1e4 * scale)
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if approx(np.exp(mid)) > mi else (lo, mid)
    return float(np.exp(0.5 * (lo + hi)))


@functools.lru_cache(maxsize=64)
def _channel_inputs(kind: str, dim: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(points, clean means, base variances) of a channel task, before the added noise."""
    from ntk_info import data
    from ntk_info.architectures import fc

    if kind == "noisy_network":
        # A finite tanh net 10 -> 16 -> dim with N(0, 1/fan_in) weights on Gaussian inputs.
        rng = np.random.default_rng(0)
        points = rng.standard_normal((CHANNEL_POINTS, 10))
        w1 = rng.standard_normal((10, 16)) / np.sqrt(10)
        w2 = rng.standard_normal((16, dim)) / np.sqrt(16)
        means = np.tanh(np.tanh(points @ w1) @ w2)
        return points, means, np.zeros(CHANNEL_POINTS)
    ds = data.mnist1d(CHANNEL_POINTS, CHANNEL_POINTS, labels="parity", seed=0)
    points = ds.x_test
    from ntk_info.ensemble import InfiniteEnsemble

    layer = 2 if kind == "ensemble_output" else 1
    ens = InfiniteEnsemble(fc(layer + 1), ds.x_train, ds.y_train, mode="ntk")
    pred = ens.predict(points, ens.time_from_tau(1.0))
    return points, np.tile(pred.mean[0], (1, dim)), pred.var[0]


@functools.lru_cache(maxsize=64)
def build_task(task: str, dim: int, mi: float, mi_se: float = 2e-3) -> Any:
    """The ground-truth task `task` of size `dim` with true MI ~ `mi` nats (see module doc)."""
    from ntk_info._checks import check_count, check_option

    check_option("task", task, TASKS)
    check_count("dim", dim, 1, "the task's dimension")
    if task == "gaussian":
        return _tasks_module.correlated_gaussian(dim, mi, seed=0)
    if task == "images":
        return _tasks_module.image_task(mi, kind="gaussians", size=max(4, dim))
    points, means, variances = _channel_inputs(task, dim)
    if not 0 < mi < np.log(points.shape[0]):
        raise ValueError(f"`mi` must be in (0, log {points.shape[0]}) for task {task!r}.")
    noise = _noise_for_mi(means, variances, mi)
    return _tasks_module.GaussianChannelTask(
        points,
        means,
        variances + noise,
        mi_se=mi_se,
        name=task,
        params=dict(dim=dim, target_mi=mi, noise=noise),
    )


# ----------------------------------------------------------------------------------------------
# One point of the grid, the grid, the sweep.
# ----------------------------------------------------------------------------------------------


def _call(estimator: str, x: np.ndarray, z: np.ndarray, clean, beta, steps: int | None) -> Any:
    from ntk_info import estimators

    fn = getattr(estimators, estimator)
    options = dict(SAMPLE_ESTIMATORS.get(estimator, KNOWN_NOISE_ESTIMATORS.get(estimator, {})))
    if estimator in NEURAL and steps is not None:
        options["steps"] = steps
    if estimator in SAMPLE_ESTIMATORS:
        if estimator in LABEL_ESTIMATORS:
            x = _as_labels_if_discrete(x)
        return fn(x, z, **options)
    if estimator in ("kde_upper", "kde_lower"):
        return fn(x, clean, noise_variance=beta**2, **options)
    if estimator == "sample_propagation":
        return fn(x, clean, beta=beta, **options)
    return fn(x, clean, noise_std=beta, **options)


def _as_labels_if_discrete(x: np.ndarray) -> np.ndarray:
    """x's rows as integer labels when they repeat (X uniform over a finite set), else x.

    Entropy-based k-NN estimators cannot estimate h(X) of a discrete X (zero neighbour
    distances), but they take labels: I(X;Z) = h(Z) - sum_x p(x) h(Z | X = x), which is what a
    user with a discrete X would call.
    """
    values, labels = np.unique(x, axis=0, return_inverse=True)
    return labels.reshape(-1) if len(values) < len(x) else x


def run_point(
    task: str,
    dim: int,
    mi: float,
    n: int,
    seed: int,
    estimator: str,
    steps: int | None = None,
) -> dict[str, Any]:
    """One estimate: n samples of `build_task(task, dim, mi)` with `seed`, then `estimator`.

    Returns:
      dict with estimate, estimate_se (NaN without its own error bar), time_s, true_mi,
      true_mi_se, dim_x, dim_y and error ('' or the ValueError the estimator raised, e.g.
      too few samples; the estimate is then NaN and the row says why).
    """
    spec = build_task(task, int(dim), float(mi))
    row: dict[str, Any] = dict(
        true_mi=float(spec.mutual_information),
        true_mi_se=float(spec.mutual_information_se),
        dim_x=spec.dim_x,
        dim_y=spec.dim_y,
    )
    clean = beta = None
    if estimator in KNOWN_NOISE_ESTIMATORS:
        x, z, idx = spec.sample_indexed(int(n), int(seed))
        clean, beta = spec.means[idx], spec.noise_std
    else:
        x, z = spec.sample(int(n), int(seed))
    start = time.perf_counter()
    try:
        out = _call(estimator, x, z, clean, beta, steps)
        error = ""
    except ValueError as exc:
        out, error = float("nan"), str(exc).splitlines()[0]
    row["time_s"] = time.perf_counter() - start
    value, se = (out.value, out.se) if hasattr(out, "se") else (out, np.nan)
    row.update(estimate=float(value), estimate_se=float(se), error=error)
    return row


def grid(
    *,
    tasks: Sequence[str],
    dims: Sequence[int],
    mis: Sequence[float],
    n_samples: Sequence[int],
    seeds: Sequence[int],
    steps: int | None = None,
    estimators: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """The ragged grid of applicable points: known-noise estimators only on tasks with one
    common noise variance (noisy_network)."""
    present = available_estimators()
    known = [*SAMPLE_ESTIMATORS, *KNOWN_NOISE_ESTIMATORS]
    unknown = [e for e in estimators or () if e not in known]
    if unknown or not set(tasks) <= set(TASKS):
        raise ValueError(
            f"Unknown estimators {unknown} or tasks {sorted(set(tasks) - set(TASKS))}; "
            f"estimators: {known}; tasks: {list(TASKS)}."
        )
    names = [e for e in estimators if e in present] if estimators is not None else present
    points = []
    for task in tasks:
        for dim in dims:
            for mi in mis:
                for n in n_samples:
                    for seed in seeds:
                        for name in names:
                            if name in KNOWN_NOISE_ESTIMATORS and task != "noisy_network":
                                continue
                            points.append(
                                dict(
                                    task=task,
                                    dim=int(dim),
                                    mi=float(mi),
                                    n=int(n),
                                    seed=int(seed),
                                    estimator=name,
                                    steps=steps,
                                )
                            )
    return points


def run(
    scale: str = "quick",
    *,
    store: str | Path,
    executor: Any = None,
    progress: bool = True,
    **overrides: Any,
) -> pd.DataFrame:
    """The raw table of `run_point` rows over the `QUICK` or `FULL` grid (entries overridable),
    resumable in `store` (see `ntk_info.sweep.sweep`)."""
    from ntk_info._checks import check_option
    from ntk_info.sweep import sweep

    check_option("scale", scale, ("quick", "full"))
    settings = dict(QUICK if scale == "quick" else FULL)
    settings.update(overrides)
    return sweep(grid(**settings), run_point, store=store, executor=executor, progress=progress)


# ----------------------------------------------------------------------------------------------
# Summary and figure.
# ----------------------------------------------------------------------------------------------


def summarize(raw: pd.DataFrame) -> pd.DataFrame:
    """One row per (task, dim, mi, n, estimator): truth, mean estimate, bias, std, RMSE, time.

    bias = mean over seeds of (estimate - true_mi); std = standard deviation over seeds (ddof 1);
    rmse = sqrt(mean (estimate - true_mi)^2); `truth_se_ratio` = |bias| / true_mi_se (>= 20
    means the truth is precise enough to measure that bias); failures counts rows with an error.
    """
    frame = raw.assign(err=raw["estimate"] - raw["true_mi"])
    keys = ["task", "dim", "mi", "n", "estimator"]
    grouped = frame.groupby(keys, sort=False)
    table = grouped.agg(
        dim_x=("dim_x", "first"),
        dim_y=("dim_y", "first"),
        true_mi=("true_mi", "first"),
        true_mi_se=("true_mi_se", "first"),
        estimate=("estimate", "mean"),
        bias=("err", "mean"),
        std=("estimate", "std"),
        rmse=("err", lambda e: float(np.sqrt(np.nanmean(e**2))) if e.notna().any() else np.nan),
        time_s=("time_s", "mean"),
        seeds=("seed", "nunique"),
        failures=("error", lambda e: int((e.fillna("") != "").sum())),
    ).reset_index()
    with np.errstate(divide="ignore"):
        table["truth_se_ratio"] = np.abs(table["bias"]) / table["true_mi_se"]
    return table


def plot(summary: pd.DataFrame, *, columns: int = 4):
    """Estimate (mean +- std over seeds) against the true MI, one panel per estimator, one
    colour per task; the diagonal is a perfect estimator. Returns the Figure."""
    import matplotlib.pyplot as plt

    names = list(dict.fromkeys(summary["estimator"]))
    rows = max(1, -(-len(names) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 3.0 * rows), squeeze=False)
    colours = {t: f"C{i}" for i, t in enumerate(dict.fromkeys(summary["task"]))}
    truth = float(np.nanmax(summary["true_mi"].to_numpy()))
    low, top = -0.25 * truth - 0.5, 2.5 * truth + 1.0  # binning's log n stays in view
    for ax, name in zip(axes.flat, names, strict=False):
        part = summary[summary["estimator"] == name]
        for task, sub in part.groupby("task", sort=False):
            ax.errorbar(
                sub["true_mi"],
                sub["estimate"].clip(low, top),
                yerr=sub["std"].fillna(0.0),
                fmt="o",
                ms=3,
                color=colours[task],
                label=task,
            )
        ax.plot([0, truth], [0, truth], "k--", lw=0.8)
        ax.set_ylim(low, top)
        outside = int(((part["estimate"] < low) | (part["estimate"] > top)).sum())
        failed = int(part["estimate"].isna().sum())
        note = ", ".join(
            text
            for count, text in (
                (outside, f"{outside} off scale (at the edge)"),
                (failed, f"{failed} failed"),
            )
            if count
        )
        ax.set_title(name + (f"\n{note}" if note else ""), fontsize=9)
        ax.set_xlabel("true I(X;Z) (nats)")
        ax.set_ylabel("estimate (nats)")
    for ax in list(axes.flat)[len(names) :]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.tight_layout()
    return fig
