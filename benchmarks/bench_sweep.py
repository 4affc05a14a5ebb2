"""Speed of a sigma_w x depth x t sweep: the toolkit's sweep against the loop a user would write.

Grid: 4 sigma_w x 3 depths x 50 log-spaced tau in [1e-3, 1e3] on MNIST-1D (one-hot labels),
n_train = 2000, n_test = 500, fc ReLU networks; quantities: test mse and Bayes loss.

Candidate: `sweep.sweep(grid, experiment.evaluate_point, store=...)`, serially: one point per
(sigma_w, depth), the 50 times in one vectorised prediction (kernels + one eigendecomposition per
point, numpy backend).
Baseline: the loop a user writes with neural-tangents alone: for every (sigma_w, depth, t),
`nt.predict.gradient_descent_mse_ensemble(kernel_fn, x_train, y_train)` and
`predict_fn(t=t, x_test=..., get='ntk', compute_cov=True)` (float64), then the two losses with
numpy: the kernels and the eigendecomposition are rebuilt at every point. Each of its 600 points
costs the same, so it is timed on `--baseline-times` times per (sigma_w, depth) (all 12
architectures) and extrapolated linearly to the 50 times; `--baseline-times 50` runs it all.
Then: points per second of the same sweep on a dask LocalCluster of 1 and 2 worker processes
(wall time of `sweep`, worker start-up and imports included, the cluster's start excluded).

Usage: python benchmarks/bench_sweep.py [--n-train 2000] [--n-test 500] [--times 50]
       [--baseline-times 2] [--workers 1 2]
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from ntk_info import data, experiment
from ntk_info._jax import float64
from ntk_info.architectures import fc
from ntk_info.sweep import sweep

W_STDS = [1.0, 1.2, 2.0**0.5, 1.6]
DEPTHS = [2, 3, 4]


def grid(n_train: int, n_test: int, tau: np.ndarray) -> dict[str, list]:
    return {
        "W_std": W_STDS,
        "depth": DEPTHS,
        "dataset": ["mnist1d"],
        "n_train": [n_train],
        "n_test": [n_test],
        "tau_grid": [tuple(float(v) for v in tau)],
        "quantities": [("mse", "loss_bayes")],
    }


def user_point(ds: data.Dataset, W_std: float, depth: int, t: float) -> tuple[float, float]:
    """One (sigma_w, depth, t) point as a user writes it with neural-tangents alone."""
    import jax.numpy as jnp

    from ntk_info._nt import load

    nt = load()
    kernel_fn = fc(depth, W_std=W_std, out_dim=ds.n_outputs)[2]
    with float64():
        predict_fn = nt.predict.gradient_descent_mse_ensemble(
            kernel_fn, jnp.asarray(ds.x_train), jnp.asarray(ds.y_train)
        )
        mean, cov = predict_fn(t=t, x_test=jnp.asarray(ds.x_test), get="ntk", compute_cov=True)
    mean, var = np.asarray(mean), np.diag(np.asarray(cov))
    sq = np.sum((ds.y_test - mean) ** 2, axis=1)
    k = ds.n_outputs
    bayes = np.mean(sq / (2 * (1 + var)) + 0.5 * k * np.log(2 * np.pi * (1 + var)))
    return float(np.mean(sq) / k), float(bayes)


def run_baseline(ds, tau: np.ndarray, per_arch: int) -> tuple[float, int, list]:
    """Seconds for `per_arch` times of every architecture, points run, and their values."""
    n, k = ds.n_train, ds.n_outputs
    picks = tau[np.linspace(0, len(tau) - 1, per_arch).round().astype(int)]
    values = []
    start = time.perf_counter()
    for W_std in W_STDS:
        for depth in DEPTHS:
            for tau_value in picks:
                values.append(
                    ((W_std, depth, tau_value), user_point(ds, W_std, depth, tau_value * n * k))
                )
    return time.perf_counter() - start, len(values), values


def run_dask(points_grid, workers: int, root: Path) -> float:
    """Wall seconds of the sweep on a LocalCluster of `workers` processes (start excluded)."""
    import distributed

    cluster = distributed.LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
    )
    with cluster, distributed.Client(cluster) as client:
        start = time.perf_counter()
        sweep(
            points_grid,
            experiment.evaluate_point,
            store=root / f"dask{workers}",
            executor=client,
            progress=False,
        )
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-train", type=int, default=2000)
    parser.add_argument("--n-test", type=int, default=500)
    parser.add_argument("--times", type=int, default=50)
    parser.add_argument("--baseline-times", type=int, default=2)
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2])
    args = parser.parse_args()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"load {load:.1f}, Python {platform.python_version()}"
    )
    tau = np.logspace(-3, 3, args.times)
    points_grid = grid(args.n_train, args.n_test, tau)
    n_arch = len(W_STDS) * len(DEPTHS)
    n_points = n_arch * args.times
    ds = data.mnist1d(args.n_train, args.n_test)

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        # Warm-up of both paths (imports, dataset generation, JAX start-up) on 20 points.
        user_point(data.mnist1d(20, 10), 1.0, 2, 1.0)
        experiment.evaluate_point(n_train=20, n_test=10, depth=2, t_grid=(1.0,))
        start = time.perf_counter()
        table = sweep(points_grid, experiment.evaluate_point, store=root / "serial", progress=False)
        toolkit = time.perf_counter() - start
        base_seconds, base_points, values = run_baseline(ds, tau, args.baseline_times)
        per_point = base_seconds / base_points
        baseline = per_point * n_points
        # The same numbers both ways (a benchmark of two different computations means nothing).
        worst = 0.0
        for (W_std, depth, tau_value), (mse, bayes) in values:
            row = table[
                (table["W_std"] == W_std)
                & (table["depth"] == depth)
                & np.isclose(table["tau"], tau_value, rtol=1e-12)
            ]
            worst = max(worst, abs(row["mse"].iloc[0] - mse) / mse)
            worst = max(worst, abs(row["loss_bayes"].iloc[0] - bayes) / abs(bayes))
        print(
            f"grid: {len(W_STDS)} sigma_w x {len(DEPTHS)} depths x {args.times} t = {n_points} "
            f"(sigma_w, depth, t) points; mnist1d n_train = {args.n_train}, n_test = "
            f"{args.n_test}; baseline and toolkit agree to {worst:.1e} (relative)"
        )
        print(f"{'run':<44} {'seconds':>9} {'points/s':>9} {'ratio':>7}")
        print(
            f"{'baseline: NT loop, rebuilt per point':<44} {baseline:>9.1f} "
            f"{n_points / baseline:>9.2f} {1:>7.1f}"
            f"   (measured {base_points} points, {per_point:.2f} s each, extrapolated)"
        )
        print(
            f"{'toolkit: sweep(evaluate_point), serial':<44} {toolkit:>9.1f} "
            f"{n_points / toolkit:>9.2f} {baseline / toolkit:>7.1f}"
            f"   ({n_arch} sweep points, {toolkit / n_arch:.2f} s each)"
        )
        for workers in args.workers:
            seconds = run_dask(points_grid, workers, root)
            print(
                f"{f'toolkit: sweep on dask, {workers} worker(s)':<44} {seconds:>9.1f} "
                f"{n_points / seconds:>9.2f} {baseline / seconds:>7.1f}"
                f"   ({n_arch / seconds:.3f} sweep points/s)"
            )


if __name__ == "__main__":
    main()
