"""Speed and memory of `InfiniteEnsemble.predict` against neural-tangents and the arithmetic floor.

Task: MNIST-1D, n training points (one-hot labels, k = 10), m test points, T log-spaced times
(tau = t / (n k) from 1e-3 to 1e3), 3-layer ReLU FC (`fc(3)`); mean (T, m, k) and marginal
variance (T, m) at every time, float64.

  (a) candidate: `InfiniteEnsemble(kernel_fn, x, y)` + `.predict(x_test, t)`.
  (b) baseline, what a user writes with neural-tangents alone: `predict_fn =
      nt.predict.gradient_descent_mse_ensemble(kernel_fn, x, y)`, then a Python loop of
      `predict_fn(t, x_test, 'ntk', compute_cov=True)` over the times (float64). It is slow, so it
      runs on `--nt-times` of the times; its cost for all T times is extrapolated as
      first call (kernels + eigh + one time) + (T - 1) x mean cost of the later calls.
      Its numbers are checked equal to (a) on those times.
  (c) floor: the kernels (same engine as (a)), one `eigh` of Theta, and T products
      (m x n)(n x n) (numpy or jax, whichever is faster on this machine): the arithmetic any
      method needs for the variance at T times.

Every measurement runs in a fresh subprocess (cold start, JIT compilation included, as a user
meets it). Peak memory is the subprocess's `ru_maxrss`; the RSS after imports and data loading is
reported as its baseline. Targets: (a) >= 5x faster than (b); (a) <= 1.5x (c); peak RSS of (a)
<= 4 n^2 8 bytes + 1 GiB.

Usage: python benchmarks/bench_predict.py [--n 4000] [--m 1000] [--times 100] [--nt-times 5]
       [--large-n 10000 | --large-n 0] [--skip-nt] [--blas-threads 1]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

GiB = 2**30


# ------------------------------------------------------------------------ measured workloads
def _load(path: str) -> dict[str, np.ndarray]:
    with np.load(path) as data:
        return {name: data[name] for name in data.files}


def _times(n: int, k: int, count: int) -> np.ndarray:
    """`count` times with tau = t / (n k) log-spaced in [1e-3, 1e3]."""
    return np.logspace(-3, 3, count) * n * k


def _rss_bytes() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def run_candidate(data_path: str, n_times: int, out: str) -> dict:
    """(a) InfiniteEnsemble construction + predict at all times."""
    from ntk_info import InfiniteEnsemble
    from ntk_info.architectures import fc

    data = _load(data_path)
    kernel_fn = fc(3)[2]
    t = _times(*data["y_train"].shape, n_times)
    baseline = _rss_bytes()
    start = time.perf_counter()
    ensemble = InfiniteEnsemble(kernel_fn, data["x_train"], data["y_train"])
    built = time.perf_counter()
    prediction = ensemble.predict(data["x_test"], t)
    done = time.perf_counter()
    np.savez(out, mean=prediction.mean, var=prediction.var, t=t)
    return dict(
        seconds=done - start,
        setup_seconds=built - start,
        predict_seconds=done - built,
        rss_after_imports=baseline,
        rss_peak=_rss_bytes(),
    )


def run_neural_tangents(data_path: str, n_times: int, nt_times: int, out: str) -> dict:
    """(b) neural-tangents' gradient_descent_mse_ensemble, one predict_fn call per time."""
    import jax.numpy as jnp

    from ntk_info._nt import load as load_neural_tangents

    nt = load_neural_tangents()

    from ntk_info._jax import float64
    from ntk_info.architectures import fc

    data = _load(data_path)
    kernel_fn = fc(3)[2]
    all_t = _times(*data["y_train"].shape, n_times)
    subset = np.unique(np.linspace(0, n_times - 1, nt_times).round().astype(int))
    baseline = _rss_bytes()
    seconds, means, variances = [], [], []
    with float64():
        x_train, y_train = jnp.asarray(data["x_train"]), jnp.asarray(data["y_train"])
        x_test = jnp.asarray(data["x_test"])
        start = time.perf_counter()
        predict_fn = nt.predict.gradient_descent_mse_ensemble(kernel_fn, x_train, y_train)
        for index in subset:
            mean, cov = predict_fn(t=all_t[index], x_test=x_test, get="ntk", compute_cov=True)
            means.append(np.asarray(mean))
            variances.append(np.asarray(jnp.diagonal(cov)))
            seconds.append(time.perf_counter() - start)
            start = time.perf_counter()
    np.savez(out, mean=np.stack(means), var=np.stack(variances), index=subset)
    later = float(np.mean(seconds[1:])) if len(seconds) > 1 else seconds[0]
    return dict(
        seconds=seconds[0] + (n_times - 1) * later,
        first_call_seconds=seconds[0],
        per_time_seconds=later,
        measured_times=len(subset),
        rss_after_imports=baseline,
        rss_peak=_rss_bytes(),
    )


def run_floor(data_path: str, n_times: int, out: str) -> dict:
    """(c) kernels + one eigh + T (m x n)(n x n) products, the faster of numpy and jax."""
    import jax
    import jax.numpy as jnp

    from ntk_info._jax import float64
    from ntk_info.architectures import fc
    from ntk_info.kernels import kernel_diagonal, kernel_matrices

    data = _load(data_path)
    kernel_fn = fc(3)[2]
    x, xt = data["x_train"], data["x_test"]
    baseline = _rss_bytes()
    start = time.perf_counter()
    train = kernel_matrices(kernel_fn, x, None)
    cross = kernel_matrices(kernel_fn, xt, x)
    kernel_diagonal(kernel_fn, xt)
    kernels_done = time.perf_counter()
    _, evecs = np.linalg.eigh(train["ntk"])
    eigh_done = time.perf_counter()
    left = cross["ntk"] @ evecs
    square = train["nngp"]

    def numpy_products(count: int) -> None:
        for _ in range(count):
            left @ square

    with float64():
        left_j, square_j = jnp.asarray(left), jnp.asarray(square)
        product = jax.jit(lambda a, b: a @ b)
        product(left_j, square_j).block_until_ready()

        def jax_products(count: int) -> None:
            for _ in range(count):
                product(left_j, square_j).block_until_ready()

        per_product = {}
        for name, fn in (("numpy", numpy_products), ("jax", jax_products)):
            tick = time.perf_counter()
            fn(2)
            per_product[name] = (time.perf_counter() - tick) / 2
        best = min(per_product, key=per_product.get)
        tick = time.perf_counter()
        (numpy_products if best == "numpy" else jax_products)(n_times)
        products = time.perf_counter() - tick
    return dict(
        seconds=(eigh_done - start) + products,
        kernels_seconds=kernels_done - start,
        eigh_seconds=eigh_done - kernels_done,
        products_seconds=products,
        product_engine=best,
        per_product_seconds=per_product,
        rss_after_imports=baseline,
        rss_peak=_rss_bytes(),
    )


# --------------------------------------------------------------------------------- driver
BLAS_THREADS: int | None = None


def _child(kind: str, args: list[str]) -> dict:
    """Runs one workload in a fresh interpreter and returns its JSON result."""
    command = [sys.executable, __file__, "--child", kind, *args]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    if BLAS_THREADS:
        for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[name] = str(BLAS_THREADS)
    completed = subprocess.run(command, capture_output=True, text=True, env=env)
    if completed.returncode != 0:
        raise RuntimeError(f"{kind} failed:\n{completed.stderr[-4000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def _make_data(n: int, m: int, folder: Path) -> str:
    from ntk_info.data import mnist1d

    data = mnist1d(n, m, labels="onehot", seed=0)
    path = folder / f"mnist1d_{n}_{m}.npz"
    np.savez(path, x_train=data.x_train, y_train=data.y_train, x_test=data.x_test)
    return str(path)


def _machine() -> str:
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GiB
    return f"{os.cpu_count()} CPUs, {model}, {memory:.0f} GiB RAM, {platform.platform()}"


def _compare(candidate_path: str, nt_path: str) -> float:
    """Largest relative difference of mean and var between (a) and (b) on (b)'s times."""
    a, b = np.load(candidate_path), np.load(nt_path)
    index = b["index"]
    worst = 0.0
    for name in ("mean", "var"):
        ref = b[name]
        diff = np.abs(a[name][index] - ref).max() / np.abs(ref).max()
        worst = max(worst, float(diff))
    return worst


def _row(label: str, baseline: str, candidate: str, ratio: str, target: str) -> str:
    return f"| {label:<38} | {baseline:>22} | {candidate:>14} | {ratio:>8} | {target:<22} |"


def _report(n: int, m: int, n_times: int, nt_times: int, folder: Path, with_nt: bool) -> None:
    data_path = _make_data(n, m, folder)
    common = [data_path, str(n_times)]
    candidate_out, nt_out = str(folder / f"a_{n}.npz"), str(folder / f"b_{n}.npz")
    a = _child("candidate", [*common, candidate_out])
    c = _child("floor", [*common, str(folder / f"c_{n}.npz")])
    b = _child("nt", [*common, str(nt_times), nt_out]) if with_nt else None
    budget = 4 * n * n * 8 + GiB
    print(f"\nn = {n}, m = {m}, k = 10, T = {n_times} times, fc(3) ReLU, float64")
    print(_row("measurement", "baseline", "candidate (a)", "ratio", "target"))
    print(_row("-" * 38, "-" * 22, "-" * 14, "-" * 8, "-" * 22))
    if b is not None:
        print(
            _row(
                "(b) NT loop vs (a), seconds",
                f"{b['seconds']:.1f} (extrap.)",
                f"{a['seconds']:.1f}",
                f"{b['seconds'] / a['seconds']:.1f}x",
                "(b)/(a) >= 5",
            )
        )
    print(
        _row(
            "(c) floor vs (a), seconds",
            f"{c['seconds']:.1f}",
            f"{a['seconds']:.1f}",
            f"{a['seconds'] / c['seconds']:.2f}",
            "(a)/(c) <= 1.5",
        )
    )
    print(
        _row(
            "peak RSS (a), GiB",
            f"budget {budget / GiB:.2f}",
            f"{a['rss_peak'] / GiB:.2f}",
            f"{a['rss_peak'] / budget:.2f}",
            "peak <= 4 n^2 8 B + 1 GiB",
        )
    )
    print(
        _row(
            "RSS after imports + data (a), GiB",
            "",
            f"{a['rss_after_imports'] / GiB:.2f}",
            "",
            "",
        )
    )
    print(
        f"  (a) set-up (kernels, eigh) {a['setup_seconds']:.1f} s + predict "
        f"{a['predict_seconds']:.1f} s"
    )
    print(
        f"  (c) kernels {c['kernels_seconds']:.1f} s + eigh {c['eigh_seconds']:.1f} s + "
        f"{n_times} products {c['products_seconds']:.1f} s with {c['product_engine']} "
        f"(per product: "
        + ", ".join(f"{k} {v:.3f} s" for k, v in c["per_product_seconds"].items())
        + ")"
    )
    if b is not None:
        worst = _compare(candidate_out, nt_out)
        print(
            f"  (b) measured on {b['measured_times']} of the {n_times} times: first call "
            f"(kernels + eigh + 1 time) {b['first_call_seconds']:.1f} s, then "
            f"{b['per_time_seconds']:.2f} s per time; total extrapolated to {n_times} times. "
            f"Peak RSS {b['rss_peak'] / GiB:.2f} GiB."
        )
        print(f"  (a) vs (b) on those times: max relative difference of mean and var {worst:.1e}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4000, help="training points")
    parser.add_argument("--m", type=int, default=1000, help="test points")
    parser.add_argument("--times", type=int, default=100, help="number of times T")
    parser.add_argument("--nt-times", type=int, default=5, help="times run by the NT loop")
    parser.add_argument(
        "--large-n", type=int, default=10000, help="second n, candidate and floor only; 0: skip"
    )
    parser.add_argument("--skip-nt", action="store_true", help="omit (b), the neural-tangents loop")
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=None,
        help="OPENBLAS/OMP/MKL_NUM_THREADS for every measurement (default: the library's)",
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    global BLAS_THREADS
    BLAS_THREADS = args.blas_threads
    if args.child:
        kind, *rest = args.child
        if kind == "candidate":
            result = run_candidate(rest[0], int(rest[1]), rest[2])
        elif kind == "nt":
            result = run_neural_tangents(rest[0], int(rest[1]), int(rest[2]), rest[3])
        else:
            result = run_floor(rest[0], int(rest[1]), rest[2])
        print(json.dumps(result))
        return
    print(f"machine: {_machine()}; load average {os.getloadavg()[0]:.1f}")
    print(f"BLAS threads: {args.blas_threads or 'library default'}")
    with tempfile.TemporaryDirectory(prefix="bench_predict_") as folder:
        _report(args.n, args.m, args.times, args.nt_times, Path(folder), with_nt=not args.skip_nt)
        if args.large_n:
            _report(args.large_n, args.m, args.times, 0, Path(folder), with_nt=False)


if __name__ == "__main__":
    main()
