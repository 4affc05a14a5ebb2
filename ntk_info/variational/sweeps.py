"""beta sweeps of VIB / VdualIB trainings through `ntk_info.sweep` (resumable, any executor)."""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ntk_info._checks import check_nonnegative, check_option
from ntk_info.variational.checkpoint import fingerprint
from ntk_info.variational.training import OBJECTIVES, train

__all__ = ["beta_sweep"]


def _final_row(dataset: Any, objective: str, beta: float, config: str, **train_kwargs) -> dict:
    """Trains one model (progress off) and returns its final-epoch history row.

    The history's `beta` (the schedule's value) is returned as `final_beta`.
    """
    del config  # in the grid only, so that a store of other arguments is refused
    result = train(dataset, objective=objective, beta=beta, progress=False, **train_kwargs)
    row = result.history.iloc[-1].to_dict()
    row["final_beta"] = row.pop("beta")
    row["epoch"] = int(row["epoch"])
    return row


def beta_sweep(
    dataset: Any,
    betas: Sequence[float],
    *,
    objective: str,
    store: str | os.PathLike,
    executor: Any = None,
    progress: bool = True,
    **train_kwargs: Any,
) -> pd.DataFrame:
    """Trains one model per beta through `ntk_info.sweep.sweep`; one row per beta.

    Each point runs `train(dataset, objective=objective, beta=beta, **train_kwargs)` and keeps
    its final-epoch history row (epoch, beta, loss, rate, izy_lower, ..., test_accuracy).
    Finished betas are stored atomically and skipped on a restart; the grid holds a hash of the
    data and the training arguments, so a store made with other arguments raises ValueError.

    Args:
      dataset: `ntk_info.data.Dataset` with one-hot labels.
      betas: target betas >= 0 (distinct).
      objective: 'vib' or 'vdualib'.
      store: the sweep's result directory.
      executor: None (serial), a concurrent.futures Executor (a process pool needs a picklable
        dataset and noise model) or a dask.distributed Client.
      progress: tqdm bar over the betas.
      **train_kwargs: the other arguments of `train` (epochs, latent_dim, noise, seed, ...).

    Returns:
      DataFrame with columns objective, beta (the target), config, then the final history row
      (epoch, final_beta: the schedule's beta at the end, loss, rate, izy_lower, ...).
    """
    objective = check_option("objective", objective, OBJECTIVES)
    betas = [check_nonnegative("betas", b) for b in np.atleast_1d(np.asarray(betas, float))]
    if not betas:
        raise ValueError("`betas` is empty; give at least one beta >= 0.")
    for name in ("beta", "progress", "checkpoint_dir"):
        if name in train_kwargs:
            raise ValueError(f"`{name}` is set by beta_sweep; do not pass it in train_kwargs.")
    from ntk_info.sweep import sweep

    fn = functools.partial(_final_row, dataset, **train_kwargs)
    grid = {
        "objective": [objective],
        "beta": betas,
        "config": [fingerprint(dataset, train_kwargs)[:16]],
    }
    return sweep(grid, fn, store=store, executor=executor, progress=progress)
