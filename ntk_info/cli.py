"""The `ntk-info` command.

ntk-info demo     information plane of an infinite ensemble on an embedded dataset
ntk-info dualib   IB vs dual IB on the built-in exponential-family problem
ntk-info figures  the scripts in paper_figures/ (--list, --quick, --out DIR)
ntk-info estimators-benchmark  every MI estimator on every ground-truth task (--quick)
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = ["main", "demo"]

DATASETS = ("mnist1d", "gaussian", "digits")


def _load(name: str, n_train: int, n_test: int, seed: int):
    from ntk_info import data

    if name == "mnist1d":
        return data.mnist1d(n_train, n_test, seed=seed)
    if name == "gaussian":
        return data.gaussian(n_train, n_test, seed=seed)
    if name == "digits":
        return data.digits(n_train, min(n_test, 1797 - n_train), seed=seed)
    raise ValueError(f"`dataset` must be one of {DATASETS}, got {name!r}.")


def demo(
    *,
    dataset: str = "mnist1d",
    n_train: int = 1000,
    n_test: int = 1000,
    n_times: int = 100,
    depth: int = 3,
    activation: str = "relu",
    W_std: float | Sequence[float] = 2.0**0.5,
    b_std: float = 0.1,
    n_points: int | None = None,
    n_draws: int = 8,
    seed: int = 0,
    out: Path = Path("out"),
    progress: bool = True,
):
    """Information plane of infinite ensembles of `fc(depth)` networks on `dataset`.

    One trajectory per value of `W_std`. The I(Z;X) bounds use `n_points` test points (a seeded
    random subset; default min(1000, n_test)). Times: 0, `n_times` log-spaced values of the
    dimensionless time tau in [1e-3, 1e3] (converted to neural-tangents t) and inf. For
    continuous targets the Barber-Agakov decoder's variance is fitted (a tighter valid bound
    than the paper's unit variance, which is kept as `izy_lower_paper`). Prints the table,
    writes `<out>/information_plane.png`, `<out>/quantities.png` and
    `<out>/information_plane.csv`, and returns the DataFrame.
    """
    from tqdm.auto import tqdm

    w_stds = [float(W_std)] if np.ndim(W_std) == 0 else [float(w) for w in W_std]
    steps = tqdm(total=2 * len(w_stds) + 1, desc="demo", disable=not progress, file=sys.stderr)
    start = time.perf_counter()
    ds = _load(dataset, n_train, n_test, seed)
    tau = np.concatenate([[0.0], np.logspace(-3, 3, n_times), [np.inf]])
    from ntk_info.architectures import fc

    architecture = functools.partial(
        fc, depth, activation=activation, b_std=b_std, out_dim=ds.n_outputs
    )
    plane = dict(n_points=n_points, n_draws=n_draws, seed=seed)
    frame = _demo_planes(ds, w_stds, tau, architecture, plane, steps)
    steps.set_postfix_str("plots")
    out = Path(out)
    paths = _write_demo_outputs(frame, ds, out, by="W_std" if len(w_stds) > 1 else None)
    steps.update()
    steps.close()
    header = (
        f"Infinite ensembles of fc({depth}, {activation}, b_std={b_std:.3g}, "
        f"W_std in {', '.join(f'{w:.3g}' for w in w_stds)}) "
        f"on {dataset}: n_train={ds.n_train}, n_test={ds.n_test}, k={ds.n_outputs}"
    )
    _print_demo_table(frame, header, runs=len(w_stds), per_run=len(tau))
    print(f"Wrote {', '.join(map(str, paths))} in {time.perf_counter() - start:.1f} s.")
    return frame


def _demo_planes(ds, w_stds, tau, architecture, plane: dict, steps):
    """One information plane per W_std (kernels + eigendecomposition, then the plane);
    `architecture(W_std=w)` gives the stax triple."""
    import pandas as pd

    from ntk_info import information
    from ntk_info.ensemble import InfiniteEnsemble

    frames = []
    for w in w_stds:
        steps.set_postfix_str(f"W_std={w:.3g}: kernels + eigendecomposition")
        ensemble = InfiniteEnsemble(architecture(W_std=w), ds.x_train, ds.y_train)
        steps.update()
        steps.set_postfix_str(f"W_std={w:.3g}: information plane")
        frame = information.information_plane_from_dataset(
            ensemble,
            ds,
            ensemble.time_from_tau(tau),
            sigma2="fit" if ds.labels == "regression" else None,
            **plane,
        )
        frame.insert(0, "W_std", w)
        frames.append(frame)
        steps.update()
    return pd.concat(frames, ignore_index=True)


def _write_demo_outputs(frame, ds, out: Path, by: str | None) -> list[Path]:
    """information_plane.png (with the Gaussian-IB optimum where known), quantities.png and
    information_plane.csv in `out`; returns their paths."""
    from ntk_info import plotting
    from ntk_info.gib import gib_curve_from_dataset

    out.mkdir(parents=True, exist_ok=True)
    gib = None
    if ds.gaussian is not None:
        gib = lambda ix: gib_curve_from_dataset(ds, ix)  # noqa: E731
    paths = [out / "information_plane.png", out / "quantities.png", out / "information_plane.csv"]
    fig = plotting.plot_information_plane(frame, gib=gib, by=by)
    fig.savefig(paths[0], dpi=120, bbox_inches="tight")
    columns = [c for c in ("loss_gibbs", "loss_bayes", "mse", "mean_var") if c in frame]
    fig = plotting.plot_quantities(frame, columns, x="tau", by=by)
    fig.savefig(paths[1], dpi=120, bbox_inches="tight")
    frame.to_csv(paths[2], index=False)
    return paths


_DEMO_COLUMNS = (
    "W_std",
    "t",
    "tau",
    "mse",
    "accuracy",
    "mean_var",
    "loss_gibbs",
    "izx_lower",
    "izx_upper",
    "izy_lower",
)


def _print_demo_table(frame, header: str, runs: int, per_run: int) -> None:
    """The header and 15 evenly spaced times of every run."""
    import pandas as pd

    n_batch = int(frame["n_points"].iloc[0])
    shown = [c for c in _DEMO_COLUMNS if c in frame]
    picks = np.unique(np.linspace(0, per_run - 1, 15).round().astype(int))
    rows = np.concatenate([picks + i * per_run for i in range(runs)])
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(
            f"{header}; I(Z;X) bounds on N={n_batch} test points (cap log N = "
            f"{np.log(n_batch):.3f} nats)."
        )
        print(frame.iloc[rows][shown].to_string(index=False, float_format=lambda v: f"{v:.4g}"))


def _dualib(out: Path, n_betas: int, tol: float) -> None:
    from ntk_info.ib import demo as ib_demo

    ib_demo.run(Path(out), n_betas=n_betas, tol=tol)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ntk-info", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("demo", help="information plane of an infinite ensemble")
    p.add_argument("--dataset", choices=DATASETS, default="mnist1d")
    p.add_argument("--n-train", type=int, default=1000)
    p.add_argument("--n-test", type=int, default=1000)
    p.add_argument("--times", type=int, default=100, help="number of finite log-spaced times")
    p.add_argument("--depth", type=int, default=3)
    p.add_argument("--activation", default="relu", choices=("relu", "erf", "gelu", "tanh"))
    p.add_argument(
        "--w-std", type=float, nargs="+", default=[2.0**0.5], help="one trajectory per value"
    )
    p.add_argument("--b-std", type=float, default=0.1)
    p.add_argument(
        "--n-points",
        type=int,
        default=None,
        help="N test points in the I(Z;X) bounds (default min(1000, n_test))",
    )
    p.add_argument("--draws", type=int, default=8)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path("out"))
    p.add_argument("--no-progress", action="store_true")
    d = sub.add_parser("dualib", help="IB vs dual IB on the built-in binary problem")
    d.add_argument("--betas", type=int, default=1000)
    d.add_argument("--tol", type=float, default=1e-12)
    d.add_argument("--out", type=Path, default=Path("out"))
    w = sub.add_parser("sweep", help="resumable sweep of a TOML configuration (see configs/)")
    w.add_argument("config", type=Path, help="the sweep's TOML file")
    w.add_argument("--store", type=Path, default=None, help="result store (default OUT/store)")
    _executor_arguments(w)
    w.add_argument("--out", type=Path, default=None, help="output directory (default sweeps/NAME)")
    w.add_argument("--no-progress", action="store_true")
    f = sub.add_parser("figures", help="run the paper_figures/ scripts (all when none is named)")
    f.add_argument("names", nargs="*", help="figure names (see --list)")
    f.add_argument("--list", action="store_true", help="list the figures and exit")
    f.add_argument("--quick", action="store_true", help="small settings (seconds to a minute)")
    f.add_argument("--out", type=Path, default=Path("figures"))
    e = sub.add_parser("estimators-benchmark", help="MI estimators on ground-truth tasks")
    e.add_argument("--quick", action="store_true", help="small grid (seconds to a minute)")
    e.add_argument("--store", type=Path, default=None, help="resumable store (default OUT/store-*)")
    e.add_argument("--out", type=Path, default=Path("estimators_benchmark"))
    e.add_argument("--no-progress", action="store_true")
    _executor_arguments(e)
    _benchmark_grid_arguments(e)
    return parser


def _executor_arguments(command: argparse.ArgumentParser) -> None:
    where = command.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=None, help="dask LocalCluster workers")
    where.add_argument("--scheduler", default=None, help="address of a dask scheduler")


def _benchmark_grid_arguments(command: argparse.ArgumentParser) -> None:
    """Overrides of the benchmark grid's entries (default: the --quick or full grid's)."""
    grid = command.add_argument_group("grid (each replaces the chosen scale's entry)")
    grid.add_argument("--tasks", nargs="+", default=None, help="ground-truth tasks")
    grid.add_argument("--estimators", nargs="+", default=None, help="estimator names")
    grid.add_argument("--dims", type=int, nargs="+", default=None, help="task dimensions")
    grid.add_argument("--mis", type=float, nargs="+", default=None, help="true MIs, nats")
    grid.add_argument("--n-samples", type=int, nargs="+", default=None, help="sample sizes")
    grid.add_argument("--seeds", type=int, default=None, help="repetitions (seeds 0..S-1)")
    grid.add_argument("--steps", type=int, default=None, help="neural critics' training steps")


def _estimators_benchmark(args: argparse.Namespace) -> int:
    from ntk_info import estimators_benchmark as bench
    from ntk_info.executors import executor_for

    scale = "quick" if args.quick else "full"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    store = args.store if args.store is not None else out / f"store-{scale}"
    overrides = {
        key: getattr(args, key)
        for key in ("tasks", "estimators", "dims", "mis", "n_samples", "steps")
        if getattr(args, key) is not None
    }
    if args.seeds is not None:
        overrides["seeds"] = tuple(range(args.seeds))
    with executor_for(args.workers, args.scheduler) as executor:
        raw = bench.run(
            scale, store=store, executor=executor, progress=not args.no_progress, **overrides
        )
    summary = bench.summarize(raw)
    raw.to_csv(out / "raw.csv", index=False)
    summary.to_csv(out / "summary.csv", index=False)
    bench.plot(summary).savefig(out / "estimate_vs_truth.png", dpi=120, bbox_inches="tight")
    columns = ["task", "dim", "n", "estimator", "true_mi", "bias", "std", "time_s", "failures"]
    print(summary[columns].to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    print(f"wrote {out / 'raw.csv'}, {out / 'summary.csv'}, {out / 'estimate_vs_truth.png'}")
    return 0


def _figures(args: argparse.Namespace) -> int:
    from ntk_info import figures

    available = figures.list_figures()
    if args.list:
        for name, script in available.items():
            print(f"{name:32s} {figures.describe(script)}")
        return 0
    results = figures.run_figures(args.names, quick=args.quick, out=args.out)
    for name, code, seconds in results:
        print(f"{name:32s} {'ok' if code == 0 else f'FAILED ({code})':12s} {seconds:7.1f} s")
    return int(any(code != 0 for _, code, _ in results))


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    import matplotlib

    matplotlib.use("Agg")
    if args.command == "demo":
        demo(
            dataset=args.dataset,
            n_train=args.n_train,
            n_test=args.n_test,
            n_times=args.times,
            depth=args.depth,
            activation=args.activation,
            W_std=args.w_std,
            b_std=args.b_std,
            n_points=args.n_points,
            n_draws=args.draws,
            seed=args.seed,
            out=args.out,
            progress=not args.no_progress,
        )
    elif args.command == "dualib":
        _dualib(args.out, args.betas, args.tol)
    elif args.command == "figures":
        return _figures(args)
    elif args.command == "estimators-benchmark":
        return _estimators_benchmark(args)
    elif args.command == "sweep":
        from ntk_info.sweep_cli import main as sweep_main

        return sweep_main(args)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
