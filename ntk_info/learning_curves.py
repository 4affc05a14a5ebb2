"""Learning curves: information quantities and generalization bounds vs n_train and label noise.

For each training-set size n and each fraction f of shuffled training labels (the random-label
control of Zhang et al. 2017), the dataset's training split is subsampled (`data.subsample`,
nested subsets), a fraction f of its labels shuffled (`data.shuffle_labels`), an
`InfiniteEnsemble` built, and `bounds.generalization_table` evaluated on the test split at the
times given, together with information-plane quantities. The points run through
`sweep.sweep`, so a learning curve with a `store` is resumable.

Reference: spec/information_ntk.md §8.1 (learning curves, label noise), §8.5 (bounds).
"""

from __future__ import annotations

import functools
import hashlib
import os
import tempfile
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ntk_info import data, information
from ntk_info._checks import as_times
from ntk_info.bounds import generalization_table
from ntk_info.ensemble import InfiniteEnsemble

__all__ = ["learning_curve", "noisy_label_error"]


def _check_sizes(dataset: data.Dataset, n_train: Sequence[int]) -> list[int]:
    sizes = list(np.atleast_1d(n_train))
    if not sizes:
        raise ValueError("`n_train` is empty; pass at least one training-set size.")
    for n in sizes:
        if isinstance(n, bool | np.bool_) or int(n) != n or n < 2:
            raise ValueError(f"`n_train` values must be integers >= 2, got {n}.")
        if n > dataset.n_train:
            raise ValueError(
                f"`n_train` value {int(n)} is larger than the {dataset.n_train} training points "
                "of the dataset; load a larger training split or drop that size."
            )
    return [int(n) for n in sizes]


def _check_fractions(label_noise: Sequence[float]) -> list[float]:
    fractions = [float(f) for f in np.atleast_1d(label_noise)]
    if not fractions:
        raise ValueError("`label_noise` is empty; pass at least one fraction, e.g. [0.0].")
    for f in fractions:
        if not 0.0 <= f <= 1.0:
            raise ValueError(f"`label_noise` fractions must lie in [0, 1], got {f}.")
    return fractions


def _architecture_probe(architecture: Any, x: np.ndarray) -> np.ndarray:
    """The NNGP and NTK kernels of `architecture` on (up to) 4 inputs: what identifies it.

    Two architectures that agree there (to the last bit) give the same ensembles on this data
    for every practical purpose; any change of depth, activation, weight or bias scale shows.
    """
    from ntk_info.architectures import as_kernel_fn

    probe = np.asarray(x[:4], dtype=np.float64)
    kernels = as_kernel_fn(architecture)(probe, None, ("nngp", "ntk"))
    return np.concatenate([np.ravel(np.asarray(k, dtype=np.float64)) for k in kernels])


def _fingerprint(
    dataset: data.Dataset, times: np.ndarray, settings: dict[str, Any], architecture: Any
) -> str:
    """SHA-256 prefix of the data, the times, the settings and the architecture's kernels on a
    few inputs: the store's configuration key."""
    digest = hashlib.sha256()
    probe = _architecture_probe(architecture, dataset.x_train)
    for array in (dataset.x_train, dataset.y_train, dataset.x_test, dataset.y_test, times, probe):
        digest.update(np.ascontiguousarray(array, dtype=np.float64).tobytes())
    digest.update(repr(sorted(settings.items())).encode())
    return digest.hexdigest()[:16]


def noisy_label_error(
    mean: np.ndarray, y_test: np.ndarray, y_train: np.ndarray, fraction: float
) -> np.ndarray:
    """Expected 0-1 error of the mean classifier on test labels corrupted like the training ones.

    The shuffled training labels are draws of the noisy law P(y~ = c | x) = (1 - f) 1[c = y(x)]
    + f p_c (p_c the frequency of class c among the training labels, which a shuffle keeps), so
    a classifier h has the expected error on that law
        E[err] = (1 - f) 1[h(x) != y(x)] + f (1 - p_{h(x)}),
    averaged over the test points; h = sign(mu) for +-1 labels (mu = 0 splits evenly between
    the classes) and argmax(mu) for one-hot rows. This is the test error that the bounds bound
    when the training labels are noisy (0.5 for balanced binary labels at f = 1).

    Args:
      mean: (T, m, k) predictive means on the test points.
      y_test: (m, k) clean test labels (+-1 with k = 1, or one-hot).
      y_train: (n, k) training labels (for p_c).
      fraction: f in [0, 1].

    Returns:
      (T,) float64.
    """
    if y_test.shape[1] == 1:
        p_plus = float(np.mean(y_train[:, 0] > 0))
        mu = mean[..., 0]
        wrong = np.where(mu * y_test[None, :, 0] < 0, 1.0, np.where(mu == 0, 0.5, 0.0))
        off = np.where(mu > 0, 1.0 - p_plus, np.where(mu < 0, p_plus, 0.5))
    else:
        p = np.mean(y_train, axis=0)
        guess = np.argmax(mean, axis=-1)
        wrong = (guess != np.argmax(y_test, axis=1)[None]).astype(np.float64)
        off = 1.0 - p[guess]
    return np.mean((1.0 - fraction) * wrong + fraction * off, axis=1)


def _point(
    *,
    n_train: int,
    label_noise: float,
    config: str,
    dataset: data.Dataset,
    architecture: Any,
    times: np.ndarray,
    settings: dict[str, Any],
    table_options: dict[str, Any],
) -> pd.DataFrame:
    """One (n_train, label_noise) point: the generalization table plus information columns."""
    seed = settings["seed"]
    subset = data.shuffle_labels(
        data.subsample(dataset, n_train, seed=seed), label_noise, seed=seed
    )
    ensemble = InfiniteEnsemble(
        architecture,
        subset.x_train,
        subset.y_train,
        mode=settings["mode"],
        diag_reg=settings["diag_reg"],
        backend=settings["backend"],
    )
    table = generalization_table(
        ensemble, subset.x_test, subset.y_test, times, seed=seed, **table_options
    )
    table["label_noise_changed"] = subset.meta["label_noise_changed"]
    if "error_test" in table:
        pred = ensemble.predict(subset.x_test, times)
        noisy = noisy_label_error(pred.mean, subset.y_test, subset.y_train, label_noise)
        table["error_test_noisy"] = noisy
        table["error_gap_noisy"] = noisy - table["error_train"].to_numpy()
    if not settings["information_columns"]:
        return table
    train = ensemble.predict_train(times)
    lower = information.izx_lower(train, n_points=table_options.get("n_points"), seed=seed)
    table["izx_lower"] = np.asarray(lower.value, dtype=np.float64)
    table["izx_lower_se"] = np.asarray(lower.se, dtype=np.float64)
    table["kl_prior_test"] = information.kl_prior(ensemble, x=subset.x_test, t=times)
    return table


def learning_curve(
    dataset: data.Dataset,
    architecture: Any,
    n_train: Sequence[int],
    label_noise: Sequence[float] = (0.0,),
    t: Any = np.inf,
    *,
    mode: str = "ntk",
    diag_reg: float = 0.0,
    backend: str = "auto",
    seed: int = 0,
    information_columns: bool = True,
    store: str | os.PathLike | None = None,
    executor: Any = None,
    progress: bool = False,
    **table_options: Any,
) -> pd.DataFrame:
    """Losses, errors, gaps, bounds and information quantities vs n_train and label noise.

    For every n in `n_train` and f in `label_noise`: D_n = the first n points of a seeded
    permutation of the training split, a fraction f of its labels shuffled (same seed), the
    infinite ensemble of `architecture` trained on it, evaluated at the times `t`:
      every column of `bounds.generalization_table` on the dataset's test split (losses,
        errors, gaps, bounds with `_vacuous` flags, izx_upper, weight_information,
        orthant_information, as they apply to the labels and the mode);
      [if information_columns] izx_lower(_se): InfoNCE lower bound on I(Z;X) over the
        training inputs (with izx_upper, the band of the information plane's compression axis);
      kl_prior_test: per-point KL of the test predictive to the prior (an upper bound on
        I(Z;D|X), spec C.4);
      label_noise_changed: the fraction of training labels the shuffle actually changed;
      [labels] error_test_noisy, error_gap_noisy: the expected test error (and gap) against
        test labels corrupted like the training labels (`noisy_label_error`): with label noise
        the data distribution the bounds speak of is the noisy one, while error_test and
        error_gap use the clean test labels (Zhang et al.'s measurement).
    The points run through `sweep.sweep`: with a `store` a killed run resumes where it
    stopped. The store is keyed by a fingerprint of the data, the times, the settings and the
    architecture (its kernels on a few inputs) (column `config`): a store written for another
    configuration is refused, not mixed.

    Args:
      dataset: a `data.Dataset`; its training split must hold max(n_train) points.
      architecture: stax triple or kernel_fn (e.g. `architectures.fc(3)`).
      n_train: training-set sizes (integers >= 2, non-empty).
      label_noise: fractions of shuffled training labels in [0, 1] (non-empty).
      t: scalar or (T,) times (np.inf: the converged ensemble).
      mode, diag_reg, backend: options of `InfiniteEnsemble`.
      seed: seed of the subsets, the shuffles and the Monte Carlo estimates.
      information_columns: add izx_lower(_se) and kl_prior_test (False: the table's only).
      store: directory of the resumable sweep store; None: a temporary one.
      executor, progress: as in `sweep.sweep` (an executor needs a picklable architecture).
      **table_options: keywords of `generalization_table` (delta, bounds, sigma, ...).

    Returns:
      A tidy DataFrame, one row per (n_train, label_noise, t), with columns n_train,
      label_noise, config first.
    """
    from ntk_info.sweep import sweep

    if not isinstance(dataset, data.Dataset):
        raise TypeError(
            f"`dataset` must be an ntk_info.data.Dataset, got {type(dataset).__name__}."
        )
    sizes, fractions, times = (
        _check_sizes(dataset, n_train),
        _check_fractions(label_noise),
        as_times(t),
    )
    if "seed" in table_options:
        raise TypeError("Pass `seed` once, to learning_curve (it seeds every step).")
    settings = dict(
        mode=mode,
        diag_reg=float(diag_reg),
        backend=backend,
        seed=int(seed),
        information_columns=bool(information_columns),
    )
    config = _fingerprint(dataset, times, {**settings, **table_options}, architecture)
    fn = functools.partial(
        _point,
        dataset=dataset,
        architecture=architecture,
        times=times,
        settings=settings,
        table_options=table_options,
    )
    grid = {"n_train": sizes, "label_noise": fractions, "config": [config]}
    if store is not None:
        return sweep(grid, fn, store=store, executor=executor, progress=progress)
    with tempfile.TemporaryDirectory(prefix="ntk_info-learning-curve-") as tmp:
        return sweep(grid, fn, store=tmp, executor=executor, progress=progress)
