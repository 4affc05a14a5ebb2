"""The ensemble on the default JAX device against that device's arithmetic floor, both backends.

Task: n training points, m test points, d = 40 Gaussian inputs, one-hot labels (k = 10),
3-layer ReLU FC (`fc(3)`), T log-spaced times (tau from 1e-3 to 1e3), float64.

  candidate, per backend ('jax' and 'numpy'):
    set-up    `InfiniteEnsemble(kernel_fn, x, y, backend=...)` (kernels, one eigh, V^T K V);
    predict   `.predict(x_test, t)` (test kernels, then T products);
    plane     `information_plane(ensemble, x_test, y_test, t)` on a fresh ensemble object's
              cache-free prediction (test kernels, T products, I(Z;X) bounds on
              n_points = min(1000, m), I(Z;Y), losses, weight quantities);
    total     set-up + plane: the whole information plane from scratch.
  floor, on the same device: the kernels (train-train and test-train, same engine), one jitted
    `eigh` of the n x n NTK, T products (m x n)(n x n) (jitted, timed as a loop), and the
    mixture bounds (`mixture.infonce_and_loo` on (T, N, k)): the arithmetic any method needs.

Targets (issue: core on current JAX): on a GPU, total <= 3x floor at n = 20 000, m = 2 000,
T = 100, and n = 40 000 runs; on CPU the numpy backend stays the fast one.

Usage: python benchmarks/bench_device.py [--sizes 10000,20000] [--m-ratio 0.1] [--times 100]
       [--backends jax,numpy] [--numpy-max-n 10000] [--budget-s 480] [--out results.csv]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np


def _machine() -> str:
    import jax

    devices = jax.devices()
    kinds = sorted({d.device_kind for d in devices})
    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; "
        f"JAX {jax.__version__} default backend {jax.default_backend()}: "
        f"{len(devices)} x {', '.join(kinds)}"
    )


def _data(n: int, m: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n + m, 40))
    y = np.eye(10)[rng.integers(0, 10, size=n + m)]
    return x[:n], y[:n], x[n:], y[n:]


def _peak_device_bytes() -> float:
    import jax

    stats = jax.devices()[0].memory_stats() or {}
    return float(stats.get("peak_bytes_in_use", float("nan")))


def _clock(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def floor(n: int, m: int, n_times: int) -> dict[str, float]:
    """Kernels + one eigh + T (m x n)(n x n) products + mixture bounds, on the default device."""
    import jax
    import jax.numpy as jnp

    from ntk_info import mixture
    from ntk_info._jax import float64
    from ntk_info.architectures import fc
    from ntk_info.kernels import kernel_matrices

    x, _, x_test, _ = _data(n, m)
    kernel_fn = fc(3)[2]
    with float64():
        start = time.perf_counter()
        train = kernel_matrices(kernel_fn, x, None, get=("nngp", "ntk"))
        kernel_matrices(kernel_fn, x_test, x, get=("nngp", "ntk"))
        kernels = time.perf_counter() - start
        k_train = jnp.asarray(train.pop("nngp"))
        theta = jnp.asarray(train.pop("ntk"))
        del train
        eigh = jax.jit(lambda a: jnp.linalg.eigh(a, symmetrize_input=False), donate_argnums=0)
        start = time.perf_counter()
        evals, evecs = eigh(theta)
        evecs.block_until_ready()
        eigh_s = time.perf_counter() - start
        del theta, evecs
        proj = jnp.asarray(np.random.default_rng(1).normal(size=(m, n)))
        product = jax.jit(lambda p, g, k: jnp.sum(((p * g) @ k) * (p * g), axis=1))
        gains = jnp.asarray(np.random.default_rng(2).uniform(size=(n_times, n)))
        product(proj, gains[0], k_train).block_until_ready()  # compile
        start = time.perf_counter()
        out = [product(proj, gains[i], k_train) for i in range(n_times)]
        out[-1].block_until_ready()
        products = time.perf_counter() - start
        del k_train, proj, out
        n_points = min(1000, m)
        means = np.random.default_rng(3).normal(size=(n_times, n_points, 10))
        variances = np.random.default_rng(4).uniform(0.01, 1, size=(n_times, n_points))
        _, mix = _clock(mixture.infonce_and_loo, means, variances, seed=0)
    return dict(
        floor_kernels_s=kernels,
        floor_eigh_s=eigh_s,
        floor_products_s=products,
        floor_mixture_s=mix,
        floor_s=kernels + eigh_s + products + mix,
    )


def candidate(n: int, m: int, n_times: int, backend: str) -> dict[str, float]:
    """Set-up, predict and the whole information plane with `backend`."""
    from ntk_info import InfiniteEnsemble
    from ntk_info.architectures import fc
    from ntk_info.information import information_plane

    x, y, x_test, y_test = _data(n, m)
    t = np.logspace(-3, 3, n_times) * n * 10
    kernel_fn = fc(3)[2]
    ensemble, setup = _clock(InfiniteEnsemble, kernel_fn, x, y, backend=backend)
    _, predict = _clock(ensemble.predict, x_test, t)
    ensemble.clear_cache()  # the plane starts from the test kernels, as a user's would
    plane, plane_s = _clock(information_plane, ensemble, x_test, y_test, t)
    assert np.all(np.isfinite(plane["izx_lower"])), "non-finite plane"
    return dict(setup_s=setup, predict_s=predict, plane_s=plane_s, total_s=setup + plane_s)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=None, help="n values (default 10000,20000 on GPU)")
    parser.add_argument("--m-ratio", type=float, default=0.1)
    parser.add_argument("--times", type=int, default=100)
    parser.add_argument("--backends", default="jax,numpy")
    parser.add_argument("--numpy-max-n", type=int, default=10_000)
    parser.add_argument("--budget-s", type=float, default=float("inf"))
    parser.add_argument("--out", default=None, help="CSV of the rows")
    args = parser.parse_args(argv)

    import jax
    import pandas as pd

    on_accelerator = jax.default_backend() != "cpu"
    sizes = args.sizes or ("10000,20000" if on_accelerator else "4000")
    print(f"machine: {_machine()}")
    print(f"task: fc(3) ReLU, d = 40, k = 10, T = {args.times}, m = {args.m_ratio} n, float64")
    began = time.perf_counter()
    rows = []
    for n in (int(s) for s in sizes.split(",")):
        m = max(2, int(round(args.m_ratio * n)))
        if time.perf_counter() - began > args.budget_s:
            print(f"n = {n}: skipped (over --budget-s)")
            continue
        base = floor(n, m, args.times)
        for backend in args.backends.split(","):
            if backend == "numpy" and n > args.numpy_max_n:
                continue
            if time.perf_counter() - began > args.budget_s:
                print(f"n = {n}, {backend}: skipped (over --budget-s)")
                continue
            row = dict(n=n, m=m, T=args.times, backend=backend, **base)
            row.update(candidate(n, m, args.times, backend))
            row["total_over_floor"] = row["total_s"] / row["floor_s"]
            row["peak_device_GiB"] = _peak_device_bytes() / 2**30
            rows.append(row)
            print(
                f"n = {n:6d} m = {m:5d} {backend:5s}: set-up {row['setup_s']:7.2f} s  "
                f"predict {row['predict_s']:7.2f} s  plane {row['plane_s']:7.2f} s  "
                f"total {row['total_s']:7.2f} s | floor {row['floor_s']:7.2f} s (kernels "
                f"{row['floor_kernels_s']:.2f} + eigh {row['floor_eigh_s']:.2f} + products "
                f"{row['floor_products_s']:.2f} + mixture {row['floor_mixture_s']:.2f}) | "
                f"total/floor {row['total_over_floor']:.2f} | peak device "
                f"{row['peak_device_GiB']:.1f} GiB",
                flush=True,
            )
    table = pd.DataFrame(rows)
    if args.out:
        table.to_csv(args.out, index=False)


if __name__ == "__main__":
    main()
