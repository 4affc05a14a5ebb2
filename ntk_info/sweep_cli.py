"""`ntk-info sweep CONFIG.toml`: a resumable sweep of `experiment.evaluate_point` with its plots.

Reads and validates the configuration (`sweep_config.load_config`) before any work, runs
`sweep.sweep` over its grid (serially, on a dask `LocalCluster` of N workers, or on a dask
scheduler), and writes to `--out`:

    sweep.csv            the tidy table: the grid's columns, then one row per (point, time)
    vs_t.png             every quantity and bound vs the time variable (t or tau), one panel each
    vs_width.png         ... vs width at the last finite time (when width varies)
    vs_n_train.png       ... vs n_train at the last finite time (when n_train varies)

The store (`--store`, default `<out>/store`) keeps every finished point: a rerun, after an
interruption or not, computes only what is missing.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ntk_info.executors import executor_for
from ntk_info.experiment import evaluate_point
from ntk_info.sweep import sweep
from ntk_info.sweep_config import SweepConfig, load_config

__all__ = ["run_sweep", "plot_sweep", "result_columns"]

#: Grid arguments that hold tuples (recorded in the store's manifest, left out of the CSV).
_TUPLE_ARGS = ("t_grid", "tau_grid", "quantities", "bounds")


def result_columns(config: SweepConfig) -> list[list[str]]:
    """The plotted panels: one per quantity, one per bound (beside the quantity it bounds)."""
    from ntk_info.bounds import BOUNDED_QUANTITY

    (quantities,), (bounds,) = config.grid["quantities"], config.grid["bounds"]
    if "all" in bounds:
        bounds = tuple(BOUNDED_QUANTITY)
    panels = [[q] for q in quantities]
    panels += [[b, BOUNDED_QUANTITY[b]] for b in bounds]
    return panels


def _label(table: pd.DataFrame, axes: list[str]) -> pd.Series | None:
    if not axes:
        return None
    parts = [
        table[a].map(lambda v, a=a: f"{a}={v:g}" if isinstance(v, float) else f"{a}={v}")
        for a in axes
    ]
    label = parts[0]
    for part in parts[1:]:
        label = label + ", " + part
    return label


def _panels(table, panels, x, by_axes, title) -> Any:
    import matplotlib.pyplot as plt

    from ntk_info import plotting

    frame = table.copy()
    label = _label(frame, by_axes)
    by = None
    if label is not None:
        frame["config"] = label
        by = "config"
    panels = [[c for c in p if c in frame.columns] for p in panels]
    panels = [p for p in panels if p and frame[p].notna().to_numpy().any()]
    n = len(panels)
    if n == 0:
        raise ValueError(f"nothing to plot: the table has none of the columns {panels}.")
    ncols = min(3, n)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.5 * ncols, 4.0 * nrows), squeeze=False)
    for ax, columns in zip(axes.flat, panels, strict=False):
        plotting.plot_quantities(frame, columns, x=x, by=by, ax=ax)
        if x not in ("t", "tau"):
            ax.set_xlabel(f"{x} (dashed: {x} = inf)")
        ax.set_title(" vs ".join(columns), fontsize=9)
        if ax.get_legend() is not None and by is not None and frame[by].nunique() > 8:
            ax.get_legend().remove()
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_sweep(table: pd.DataFrame, config: SweepConfig, out: Path) -> list[Path]:
    """Writes vs_t.png, and vs_width.png / vs_n_train.png when those vary; returns the paths."""
    import matplotlib.pyplot as plt

    columns = result_columns(config)
    x = config.time_column
    written = []
    fig = _panels(table, columns, x, list(config.varying), f"{config.path.name}: vs {x}")
    written.append(out / "vs_t.png")
    fig.savefig(written[-1], dpi=100, bbox_inches="tight")
    plt.close(fig)
    times = table[x].to_numpy(dtype=np.float64)
    last = np.max(times[np.isfinite(times)]) if np.isfinite(times).any() else None
    for axis in ("width", "n_train"):
        if axis not in config.varying or last is None:
            continue
        at = table[np.isclose(times, last, rtol=1e-12, atol=0)]
        others = [a for a in config.varying if a != axis]
        title = f"{config.path.name}: vs {axis} at {x} = {last:.3g}"
        fig = _panels(at, columns, axis, others, title)
        written.append(out / f"vs_{axis}.png")
        fig.savefig(written[-1], dpi=100, bbox_inches="tight")
        plt.close(fig)
    return written


def run_sweep(
    config: str | os.PathLike | SweepConfig,
    *,
    store: str | os.PathLike | None = None,
    out: str | os.PathLike | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = True,
    plots: bool = True,
    processes: bool = True,
) -> pd.DataFrame:
    """Runs (or resumes) the sweep of a configuration; writes sweep.csv and the plots.

    Args:
      config: a TOML path or a `SweepConfig`.
      store: the sweep store directory (default `<out>/store`).
      out: output directory (default `sweeps/<config file stem>`).
      workers: run on a dask LocalCluster of this many worker processes (a spawned process
        pool if dask is not installed); None runs serially in this process.
      scheduler: address of a running dask scheduler (e.g. 'tcp://host:8786').
      progress: the sweep's progress bar (with ETA).
      plots: write the PNGs.
      processes: the LocalCluster's workers are processes (default; each has its own ensemble
        cache) or threads of this process (sharing one cache).

    Returns:
      The table written to sweep.csv.
    """
    if not isinstance(config, SweepConfig):
        config = load_config(config)
    out = Path("sweeps") / config.path.stem if out is None else Path(out)
    store = out / "store" if store is None else Path(store)
    out.mkdir(parents=True, exist_ok=True)
    with executor_for(workers, scheduler, processes) as executor:
        table = sweep(
            config.grid, evaluate_point, store=store, executor=executor, progress=progress
        )
    table = table.drop(columns=[c for c in _TUPLE_ARGS if c in table.columns])
    table.to_csv(out / "sweep.csv", index=False)
    if plots:
        plot_sweep(table, config, out)
    return table


def main(args: Any) -> int:
    """`ntk-info sweep` (argparse namespace from `ntk_info.cli`): 0 on success, 2 on bad input."""
    import sys
    import time

    start = time.perf_counter()
    try:
        config = load_config(args.config)
        out = Path("sweeps") / config.path.stem if args.out is None else args.out
        table = run_sweep(
            config,
            store=args.store,
            out=out,
            workers=args.workers,
            scheduler=args.scheduler,
            progress=not args.no_progress,
        )
    except (ValueError, FileNotFoundError) as error:
        print(f"ntk-info sweep: error: {error}", file=sys.stderr)
        return 2
    print(
        f"{config.n_points} points ({', '.join(config.varying) or 'one configuration'}), "
        f"{len(table)} rows: wrote {out / 'sweep.csv'} and the plots in "
        f"{time.perf_counter() - start:.1f} s."
    )
    return 0
