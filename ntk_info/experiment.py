"""One sweep point: an infinite (or Monte Carlo finite-width) ensemble on a dataset, evaluated
over a whole time grid, with the ensemble cached across points that share it.

`evaluate_point(**point)` is the function `ntk-info sweep` maps over its grid
(`ntk_info.sweep.sweep`). A point names a dataset (and its size, labels, label noise), an `fc`
architecture (sigma_w, sigma_b, depth, activation, width), the training regime (mode,
diag_reg), a time grid (t or tau, vectorised: one prediction for all times), the information
quantities (`information.information_plane` columns) and the bounds
(`bounds.generalization_table` columns) to report.

Caching. Building an `InfiniteEnsemble` (the n x n kernels and one eigendecomposition, O(n^3))
dominates a point's cost; every prediction after it is a few matrix products per time. Points
that differ only in the time grid, the quantities, the bounds or delta share one ensemble: it is
kept in `ENSEMBLES`, a small LRU cache keyed by `EnsembleKey` (the canonical configuration of
dataset + architecture + mode + diag_reg) and bounded in entries and in bytes (3 n^2 float64
numbers per ensemble). The cache lives in each process: each dask worker or pool process has
its own. A new n_train, label-noise fraction, seed or architecture builds a new ensemble.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ntk_info._checks import check_positive

__all__ = [
    "DATASETS",
    "DIRECT_QUANTITIES",
    "ENSEMBLES",
    "EnsembleCache",
    "EnsembleKey",
    "QUANTITIES",
    "available_train",
    "evaluate_point",
    "load_dataset",
]

#: Built-in datasets (any other `dataset` is the path of an .npz file, see `data.load_npz`).
DATASETS = ("mnist1d", "gaussian", "digits")
_N_DIGITS = 1797

#: Quantities computed straight from one prediction (`information.<name>(pred, y)`).
DIRECT_QUANTITIES = ("mse", "accuracy", "loss_gibbs", "loss_bayes")
#: Every quantity `evaluate_point` reports: `information_plane` columns (their `_se` columns come
#: along). Asking only for DIRECT_QUANTITIES skips the plane's Monte Carlo bounds.
QUANTITIES = (
    *DIRECT_QUANTITIES,
    "izx_lower",
    "izx_upper",
    "izx_mc",
    "izy_lower",
    "izy_lower_paper",
    "loss_bayes_joint",
    "mean_var",
    "kl_prior",
    "kl_prior_joint",
    "fisher_trace",
    "parameter_energy",
    "weight_information",
    "weight_information_rate_per_tau",
)
_NEEDS_MC = ("izx_mc",)
_NEEDS_JOINT = ("loss_bayes_joint", "kl_prior_joint")


# ------------------------------------------------------------------------------------ data


def available_train(dataset: str, n_test: int) -> int | None:
    """How many training points `dataset` can give with `n_test` held out (None: unlimited).

    mnist1d and gaussian are generated (unlimited); digits has 1797 images; an .npz file has
    its x_train rows (or its x rows minus n_test).
    """
    if dataset in ("mnist1d", "gaussian"):
        return None
    if dataset == "digits":
        return _N_DIGITS - int(n_test)
    path = Path(dataset)
    if not path.is_file():
        raise ValueError(
            f"`dataset` must be one of {DATASETS} or the path of an .npz file; {dataset!r} is "
            "neither (no such file)."
        )
    with np.load(path, allow_pickle=False) as archive:
        if "x_train" in archive.files:
            return int(archive["x_train"].shape[0])
        if "x" in archive.files:
            return int(archive["x"].shape[0]) - int(n_test)
    raise ValueError(f"{dataset!r} has neither x_train/y_train nor x/y arrays (see data.load_npz).")


def load_dataset(
    dataset: str, n_train: int, n_test: int, *, labels: str = "onehot", seed: int = 0
) -> Any:
    """The `Dataset` of a sweep point: a built-in loader or an .npz file, n_train points.

    For an .npz file, `n_train` training points (`data.subsample` with `seed`, after
    `data.load_npz`, which holds out a seeded `n_test` when the file has only x, y) and all its
    test points.
    """
    from ntk_info import data

    if dataset == "mnist1d":
        return data.mnist1d(n_train, n_test, labels=labels, seed=seed)
    if dataset == "gaussian":
        return data.gaussian(n_train, n_test, seed=seed)
    if dataset == "digits":
        return data.digits(n_train, n_test, labels=labels, seed=seed)
    limit = available_train(dataset, n_test)
    if limit is not None and n_train > limit:
        raise ValueError(f"n_train={n_train} exceeds the {limit} training points of {dataset}.")
    with np.load(dataset, allow_pickle=False) as archive:
        held_out = {} if "x_train" in archive.files else {"n_test": n_test}
    kind = labels if labels in data.LABELS else "auto"
    full = data.load_npz(dataset, labels=kind, seed=seed, **held_out)
    return full if n_train == full.n_train else data.subsample(full, n_train, seed=seed)


# ----------------------------------------------------------------------------------- cache


@dataclass(frozen=True)
class EnsembleKey:
    """The canonical configuration that determines an ensemble (and nothing else).

    Dataset: name or .npz path, n_train (a nested `data.subsample` of a pool of n_pool
    training points, so that learning curves share one test set), n_test, labels, data_seed,
    label_noise (fraction of training labels shuffled, `data.shuffle_labels`), noise_seed.
    Architecture: `architectures.fc(depth, activation, W_std, b_std)`, width (math.inf: the
    analytic infinite-width kernels; finite: Monte Carlo kernels of n_samples networks drawn
    with mc_seed, `finite.monte_carlo_kernel_fn`). Dynamics: mode, diag_reg.
    """

    dataset: str
    n_train: int
    n_pool: int
    n_test: int
    labels: str
    data_seed: int
    label_noise: float
    noise_seed: int
    W_std: float
    b_std: float
    depth: int
    activation: str
    width: float
    n_samples: int
    mc_seed: int
    mode: str
    diag_reg: float

    def nbytes(self) -> int:
        """Memory held by the cached ensemble: V and V^T K V (n x n each), kernels of m inputs."""
        n, m = self.n_train, self.n_test
        return 8 * (3 * n * n + 3 * m * n + 64 * (n + m))


class EnsembleCache:
    """A least-recently-used cache of (Dataset, InfiniteEnsemble) pairs keyed by `EnsembleKey`.

    Bounded by `max_entries` and by `max_bytes` (the `EnsembleKey.nbytes` estimate; the newest
    entry is always kept). Thread-safe for lookups; two threads missing the same key at once
    may both build it. `builds` and `hits` count what happened since the last `clear`.
    """

    def __init__(self, max_entries: int = 4, max_bytes: float = 2e9) -> None:
        if int(max_entries) != max_entries or max_entries < 1:
            raise ValueError(f"`max_entries` must be an integer >= 1, got {max_entries!r}.")
        self.max_entries = int(max_entries)
        self.max_bytes = check_positive("max_bytes", max_bytes)
        self._entries: OrderedDict[EnsembleKey, tuple[Any, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.builds = 0
        self.hits = 0

    def __len__(self) -> int:
        return len(self._entries)

    def entries(self) -> list[tuple[EnsembleKey, tuple[Any, Any]]]:
        """The cached (key, (Dataset, InfiniteEnsemble)) pairs, least recently used first."""
        with self._lock:
            return list(self._entries.items())

    def clear(self) -> None:
        """Drops every entry and resets the counters."""
        with self._lock:
            self._entries.clear()
            self.builds = self.hits = 0

    def get(self, key: EnsembleKey) -> tuple[Any, Any]:
        """(Dataset, InfiniteEnsemble) of `key`, built (and cached) if missing."""
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                self.hits += 1
                return self._entries[key]
        value = _build(key)
        with self._lock:
            self.builds += 1
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > 1 and (
                len(self._entries) > self.max_entries
                or sum(k.nbytes() for k in self._entries) > self.max_bytes
            ):
                self._entries.popitem(last=False)
        return value


#: The per-process cache `evaluate_point` uses.
ENSEMBLES = EnsembleCache()


def _build(key: EnsembleKey) -> tuple[Any, Any]:
    """Loads the data, shuffles labels, builds the kernel_fn and the ensemble of `key`."""
    from ntk_info import data
    from ntk_info.architectures import fc
    from ntk_info.ensemble import InfiniteEnsemble

    ds = load_dataset(key.dataset, key.n_pool, key.n_test, labels=key.labels, seed=key.data_seed)
    if key.n_train < key.n_pool:
        ds = data.subsample(ds, key.n_train, seed=key.data_seed)
    if key.label_noise > 0:
        ds = data.shuffle_labels(ds, key.label_noise, seed=key.noise_seed)
    finite = math.isfinite(key.width)
    arch = fc(
        key.depth,
        width=int(key.width) if finite else 512,
        activation=key.activation,
        W_std=key.W_std,
        b_std=key.b_std,
        out_dim=ds.n_outputs,
    )
    if finite:
        from ntk_info.finite import monte_carlo_kernel_fn

        arch = monte_carlo_kernel_fn(arch, n_samples=key.n_samples, seed=key.mc_seed)
    ensemble = InfiniteEnsemble(arch, ds.x_train, ds.y_train, mode=key.mode, diag_reg=key.diag_reg)
    return ds, ensemble


# ------------------------------------------------------------------------------- the point


def _times(ensemble: Any, t_grid: Any, tau_grid: Any) -> np.ndarray:
    if (t_grid is None) == (tau_grid is None):
        raise ValueError("Pass exactly one of `t_grid` (neural-tangents t) and `tau_grid` (tau).")
    if t_grid is not None:
        from ntk_info._checks import as_times

        return as_times(t_grid)
    return ensemble.time_from_tau(tau_grid)


def _check_names(name: str, values: Sequence[str], known: Sequence[str]) -> tuple[str, ...]:
    values = (values,) if isinstance(values, str) else tuple(values)
    unknown = [v for v in values if v not in known]
    if unknown:
        raise ValueError(f"`{name}` has unknown name(s) {unknown}; choose from {list(known)}.")
    return values


def _quantity_columns(ensemble, ds, times, quantities, n_points, n_draws, seed) -> pd.DataFrame:
    """The requested quantities over the time grid: one row per time (t, tau first)."""
    from ntk_info import information

    if all(q in DIRECT_QUANTITIES for q in quantities):
        pred = ensemble.predict(ds.x_test, times)
        columns: dict[str, Any] = {"t": pred.t, "tau": pred.tau}
        for name in quantities:
            kwargs = {"labels": ds.labels} if name == "accuracy" else {}
            columns[name] = getattr(information, name)(pred, ds.y_test, **kwargs)
        return pd.DataFrame(columns)
    plane = information.information_plane_from_dataset(
        ensemble,
        ds,
        times,
        n_points=n_points,
        n_draws=n_draws,
        seed=seed,
        mc=any(q in _NEEDS_MC for q in quantities),
        joint=any(q in _NEEDS_JOINT for q in quantities),
    )
    keep = ["t", "tau"] + [c for q in quantities for c in (q, f"{q}_se") if c in plane.columns]
    return plane[keep].reset_index(drop=True)


def _bound_columns(ensemble, ds, times, bounds, delta, n_points, n_draws, seed) -> pd.DataFrame:
    """`generalization_table` with the requested bounds (all that apply for ("all",)), no t."""
    from ntk_info.bounds import generalization_table

    table = generalization_table(
        ensemble,
        ds.x_test,
        ds.y_test,
        times,
        delta=delta,
        bounds=None if bounds == ("all",) else list(bounds),
        n_points=n_points,
        n_draws=n_draws,
        seed=seed,
    )
    table = table.rename(columns={"labels": "label_kind"})  # `labels` is a point argument
    return table.drop(columns=["t", "delta"]).reset_index(drop=True)


def evaluate_point(
    *,
    dataset: str = "mnist1d",
    n_train: int = 200,
    n_test: int = 200,
    n_pool: int | None = None,
    labels: str = "onehot",
    data_seed: int = 0,
    label_noise: float = 0.0,
    noise_seed: int = 0,
    W_std: float = 2.0**0.5,
    b_std: float = 0.1,
    depth: int = 3,
    activation: str = "relu",
    width: float = math.inf,
    n_samples: int = 64,
    mc_seed: int = 0,
    mode: str = "ntk",
    diag_reg: float = 0.0,
    t_grid: Sequence[float] | None = None,
    tau_grid: Sequence[float] | None = None,
    quantities: Sequence[str] = ("mse", "loss_bayes"),
    bounds: Sequence[str] = (),
    delta: float = 0.05,
    n_points: int | None = None,
    n_draws: int = 8,
    seed: int = 0,
) -> pd.DataFrame:
    """Quantities and bounds of one configuration over its whole time grid, one row per time.

    The ensemble of (dataset, architecture, mode, diag_reg) comes from `ENSEMBLES` (built once
    per process); the time grid is evaluated in one vectorised prediction. Quantities named in
    `DIRECT_QUANTITIES` only are computed from `ensemble.predict(x_test, t)` by the
    `information` functions of the same name; any other quantity runs
    `information.information_plane_from_dataset` (n_points, n_draws, seed) and keeps the
    requested columns with their `_se`. Bounds: `bounds.generalization_table(ensemble, x_test,
    y_test, t, delta=..., bounds=...)` with the named bounds (`bounds.BOUNDED_QUANTITY`;
    `("all",)`: every bound that applies), whose columns (measured losses, errors and gaps, the
    bounds with their `_vacuous` flags, supporting columns) follow the quantities; one whose
    name is also a quantity column is prefixed `gt_` (e.g. `gt_izx_upper`, on the training
    inputs).

    Args:
      dataset: 'mnist1d', 'gaussian', 'digits' or the path of an .npz file.
      n_train: training points: a nested `data.subsample` (seed data_seed) of a pool of
        `n_pool` (default n_train) loaded with `n_test` test points, so every n_train of a
        learning curve shares one test set.
      labels: 'onehot' or 'parity' ('regression' for 'gaussian'). data_seed: the loader's seed.
      label_noise: fraction of training labels shuffled (`data.shuffle_labels`, noise_seed).
      W_std, b_std, depth, activation: `architectures.fc`; width: math.inf for the analytic
        kernels, a finite width w >= 1 for Monte Carlo kernels of `n_samples` networks
        (`finite.monte_carlo_kernel_fn`, mc_seed).
      mode, diag_reg: of `InfiniteEnsemble`.
      t_grid / tau_grid: exactly one, a (T,) tuple of times (neural-tangents t, or tau).
      quantities: names from `QUANTITIES`. bounds: names from `bounds.BOUNDED_QUANTITY`, or
        ("all",). delta: the bounds' failure probability in (0, 1).
      n_points, n_draws, seed: Monte Carlo options of the I(Z;X) bounds.

    Returns:
      DataFrame with T rows: t, tau, the quantities (and _se), the bounds.
    """
    from ntk_info.bounds import BOUNDED_QUANTITY

    quantities = _check_names("quantities", quantities, QUANTITIES)
    bounds = _check_names("bounds", bounds, (*BOUNDED_QUANTITY, "all"))
    if "all" in bounds and len(bounds) > 1:
        raise ValueError("`bounds`: give ('all',) alone or a tuple of bound names.")
    if not quantities and not bounds:
        raise ValueError("Ask for at least one of `quantities` and `bounds`.")
    if not 0.0 <= label_noise <= 1.0:
        raise ValueError(f"`label_noise` must be a fraction in [0, 1], got {label_noise}.")
    if not width >= 1:
        raise ValueError(f"`width` must be >= 1 (or math.inf for infinite width), got {width}.")
    key = EnsembleKey(
        dataset=str(dataset),
        n_train=int(n_train),
        n_pool=int(n_train if n_pool is None else n_pool),
        n_test=int(n_test),
        labels=str(labels),
        data_seed=int(data_seed),
        label_noise=float(label_noise),
        noise_seed=int(noise_seed),
        W_std=float(W_std),
        b_std=float(b_std),
        depth=int(depth),
        activation=str(activation),
        width=float(width),
        n_samples=int(n_samples) if math.isfinite(width) else 0,
        mc_seed=int(mc_seed) if math.isfinite(width) else 0,
        mode=str(mode),
        diag_reg=float(diag_reg),
    )
    if key.n_pool < key.n_train:
        raise ValueError(f"`n_pool` ({key.n_pool}) must be >= `n_train` ({key.n_train}).")
    ds, ensemble = ENSEMBLES.get(key)
    times = _times(ensemble, t_grid, tau_grid)
    options = dict(n_points=n_points, n_draws=n_draws, seed=seed)
    if quantities:
        frame = _quantity_columns(ensemble, ds, times, quantities, **options)
    else:
        tau = ensemble.tau(times)
        frame = pd.DataFrame({"t": times, "tau": tau})
    if bounds:
        extra = _bound_columns(ensemble, ds, times, bounds, delta, **options)
        extra = extra.rename(columns={c: f"gt_{c}" for c in extra.columns if c in frame.columns})
        frame = pd.concat([frame, extra], axis=1)
    return frame
