"""Speed and accuracy of the orthant information ln 1/p, against named baselines.

Candidate: `bounds.orthant_information(method='tilting')` (Botev's minimax tilting).
Baselines: Bernstein & Yue's importance sampler (`method='importance'`, same number of samples)
and, for n <= 20, Genz's quasi-Monte Carlo `scipy.stats.multivariate_normal.cdf`.
Kernel: depth-3 ReLU arc-cosine NNGP (entropix's recursion) on unit-norm Gaussian inputs in
d = 20, labels the sign of a noisy first coordinate. Each row: ln 1/p and its standard error,
seconds, and the time ratio candidate / baseline.

Usage: python benchmarks/bench_bounds.py [--sizes 12 200 500 1000] [--samples 10000]
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import time

import numpy as np
from scipy.stats import multivariate_normal

from ntk_info import bounds


def relu_nngp(n: int, depth: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 20))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    kernel = x @ x.T
    for _ in range(depth - 1):
        kernel = np.clip(kernel, -1.0, 1.0)
        kernel = (np.sqrt(1 - kernel**2) + kernel * (np.pi - np.arccos(kernel))) / np.pi
    labels = np.where(x[:, 0] + 0.3 * rng.standard_normal(n) > 0, 1.0, -1.0)
    return kernel, labels


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[12, 200, 500, 1000])
    parser.add_argument("--samples", type=int, default=10_000)
    args = parser.parse_args()
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}"
    )
    print(f"{'n':>5} {'method':>11} {'ln 1/p':>10} {'se':>8} {'seconds':>8} {'ratio':>7}")
    for n in args.sizes:
        kernel, labels = relu_nngp(n)
        tilt, t_tilt = timed(bounds.orthant_information, kernel, labels, n_samples=args.samples)
        print(
            f"{n:>5} {'tilting':>11} {tilt.value:>10.4f} {tilt.se:>8.4f} {t_tilt:>8.2f} {1:>7.2f}"
        )
        imp, t_imp = timed(
            bounds.orthant_information, kernel, labels, method="importance", n_samples=args.samples
        )
        print(
            f"{n:>5} {'importance':>11} {imp.value:>10.4f} {imp.se:>8.4f} {t_imp:>8.2f} "
            f"{t_tilt / t_imp:>7.2f}"
        )
        if n <= 20:
            sigma = labels[:, None] * kernel * labels[None, :]
            mvn = multivariate_normal(np.zeros(n), sigma, abseps=1e-13, releps=1e-5, maxpts=10**6)
            p, t_genz = timed(mvn.cdf, np.zeros(n), rng=1)
            print(
                f"{n:>5} {'scipy genz':>11} {-math.log(p):>10.4f} {'':>8} {t_genz:>8.2f} "
                f"{t_tilt / t_genz:>7.2f}"
            )
        jensen = bounds.orthant_jensen_upper(kernel, labels)
        print(f"{n:>5} {'jensen':>11} {jensen:>10.4f} {'(upper)':>8}")


if __name__ == "__main__":
    main()
