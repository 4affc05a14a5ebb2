"""Benchmark: `information_plane` against the per-time loop a user would write, and the floor.

Workload (defaults): MNIST-1D, n = 4000 training points, m = 1000 test points (all in the
I(Z;X) batch, N = 1000), one-hot labels (k = 10), fc(3) ReLU, 100 log-spaced times, 8 draws.

  candidate  InfiniteEnsemble(...) + information_plane(...): kernels, one eigendecomposition,
             one prediction for all times, every column from it, the bounds in one mixture call.
  baseline   the per-time loop: neural-tangents `gradient_descent_mse_ensemble` (built once, it
             caches the kernels and its eigendecomposition) called per t with
             compute_cov=True, then `mixture.infonce_and_loo` per t on (mean, diag cov). Timed on
             `--loop-times` times and extrapolated to all times; its bounds are checked against
             the candidate's within standard errors on those times.
  floor      kernels (train, test x train, test diagonal) + one eigh of Theta + T x one
             (m x n)(n x n) product (numpy BLAS): what any exact method must at least do.

Targets: candidate >= 5x faster than the baseline, <= 1.5x the floor, mixture bounds < 10% of
the candidate. Everything is timed cold (compilation included), as a user running it once.

Usage: python benchmarks/bench_information_plane.py [--n 4000 --m 1000 --times 100]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np


def _machine() -> str:
    import jax

    devices = ", ".join(sorted({d.device_kind for d in jax.devices()}))
    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"jax {jax.__version__} on {devices}"
    )


def _block(x):
    import jax

    return jax.block_until_ready(x)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4000, help="training points")
    parser.add_argument("--m", type=int, default=1000, help="test points (= I(Z;X) batch)")
    parser.add_argument("--times", type=int, default=100, help="number of times")
    parser.add_argument("--draws", type=int, default=8, help="draws of z for the bounds")
    parser.add_argument("--loop-times", type=int, default=3, help="times timed in the loop")
    args = parser.parse_args()

    from ntk_info import InfiniteEnsemble, architectures, data, mixture
    from ntk_info._jax import float64
    from ntk_info._nt import load as load_neural_tangents
    from ntk_info.information import information_plane
    from ntk_info.kernels import kernel_diagonal, kernel_matrices

    nt = load_neural_tangents()  # fills the names newer JAX removed; no TensorFlow

    dataset = data.mnist1d(args.n, args.m, labels="onehot")
    arch = architectures.fc(3, activation="relu", out_dim=dataset.n_outputs)
    x_train, y_train = dataset.x_train, dataset.y_train
    x_test, y_test = dataset.x_test, dataset.y_test
    n, m, k = args.n, args.m, dataset.n_outputs
    times = np.concatenate([[0.0], np.logspace(0, 9, args.times - 2), [np.inf]])
    print(f"n = {n}, m = N = {m}, k = {k}, T = {len(times)}, draws = {args.draws}")

    # ---------------------------------------------------------------- candidate
    start = time.perf_counter()
    ensemble = InfiniteEnsemble(arch, x_train, y_train)
    setup = time.perf_counter() - start
    start = time.perf_counter()
    frame = information_plane(ensemble, x_test, y_test, times, n_points=m, n_draws=args.draws)
    plane = time.perf_counter() - start
    candidate = setup + plane
    # The share of the mixture bounds: the same call again on the same moments (compiled).
    pred = ensemble.predict(x_test, times)
    start = time.perf_counter()
    mixture.infonce_and_loo(pred.mean, pred.var, seed=0, n_draws=args.draws, times=times)
    bounds = time.perf_counter() - start
    start = time.perf_counter()
    ensemble.predict(x_test, times)
    predict_warm = time.perf_counter() - start

    # ---------------------------------------------------------------- floor
    start = time.perf_counter()
    train = kernel_matrices(arch[2], x_train, None)
    cross = kernel_matrices(arch[2], x_test, x_train)
    kernel_diagonal(arch[2], x_test)
    kernels_time = time.perf_counter() - start
    # numpy BLAS for the floor: faster than XLA's float64 matmul on CPU.
    start = time.perf_counter()
    _, evecs = np.linalg.eigh(train["ntk"])
    eigh_time = time.perf_counter() - start
    w = cross["ntk"] @ evecs
    square = np.ascontiguousarray(train["nngp"])
    out = np.empty((m, n))
    start = time.perf_counter()
    for _ in range(len(times)):
        np.matmul(w, square, out=out)
    products = time.perf_counter() - start
    floor = kernels_time + eigh_time + products

    # ---------------------------------------------------------------- baseline (per-t loop)
    loop_t = times[1 : 1 + args.loop_times] if args.loop_times < len(times) - 1 else times[1:-1]
    loop_t = np.geomspace(times[1], times[-2], args.loop_times)
    idx = [int(np.argmin(np.abs(np.log(times[1:-1]) - np.log(t)))) + 1 for t in loop_t]
    per_t, checks = [], []
    with float64():
        start = time.perf_counter()
        predict_fn = nt.predict.gradient_descent_mse_ensemble(arch[2], x_train, y_train)
        build = time.perf_counter() - start
        for i in idx:
            start = time.perf_counter()
            out = predict_fn(t=float(times[i]), x_test=x_test, get="ntk", compute_cov=True)
            mean = np.asarray(out.mean, np.float64)
            var = np.diagonal(np.asarray(out.covariance, np.float64))
            lower, upper = mixture.infonce_and_loo(mean, var, seed=i, n_draws=args.draws)
            per_t.append(time.perf_counter() - start)
            row = frame.iloc[i]
            se = np.hypot(lower.se, row["izx_lower_se"])
            checks.append(
                (
                    times[i],
                    float(lower.value),
                    row["izx_lower"],
                    abs(float(lower.value) - row["izx_lower"]) <= 4 * se + 1e-9,
                    float(np.max(np.abs(mean - pred.mean[i]))),
                )
            )
    # The first call pays for the kernels and NT's eigendecomposition; later calls do not.
    baseline = build + per_t[0] + (len(times) - 1) * float(np.mean(per_t[1:] or per_t))

    print("\nAgreement on the looped times (InfoNCE lower bound, 4 SE):")
    for t, base, cand, ok, dmean in checks:
        print(
            f"  t = {t:10.3g}: loop {base:.4f}  plane {cand:.4f}  ok={ok}  max|dmean| {dmean:.1e}"
        )
    print(f"\nmachine: {_machine()}")
    print(f"{'':34s}{'seconds':>10s}{'ratio':>10s}")
    print(f"{'baseline: per-t NT loop (extrap.)':34s}{baseline:10.2f}{baseline / candidate:10.2f}")
    print(f"{'  per later t':34s}{np.mean(per_t[1:] or per_t):10.2f}")
    print(f"{'candidate: ensemble + plane':34s}{candidate:10.2f}{1.0:10.2f}")
    print(f"{'  ensemble set-up (kernels, eigh)':34s}{setup:10.2f}")
    print(f"{'  information_plane':34s}{plane:10.2f}")
    print(f"{'  of which predict (warm rerun)':34s}{predict_warm:10.2f}")
    print(f"{'  mixture bounds (warm rerun)':34s}{bounds:10.2f}{bounds / candidate:10.2%}")
    print(f"{'floor: kernels+eigh+T products':34s}{floor:10.2f}{candidate / floor:10.2f}")
    print(
        f"{'  kernels / eigh / products':34s}{kernels_time:6.1f}/{eigh_time:4.1f}/{products:5.1f}"
    )
    print(
        f"\nspeed-up vs loop {baseline / candidate:.1f}x (target >= 5), candidate/floor "
        f"{candidate / floor:.2f} (target <= 1.5), bounds share {bounds / candidate:.1%} "
        "(target < 10%)"
    )


if __name__ == "__main__":
    main()
