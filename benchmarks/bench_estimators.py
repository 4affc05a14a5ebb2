"""Speed of every MI estimator of `ntk_info.estimators` against a baseline, in the same run.

Baselines: scikit-learn's `mutual_info_regression` (its KSG, k-NN) for 1-D KSG; otherwise a
plain reference implementation written here from the paper's formula (NPEET-style KD-tree
KSG, a cKDTree Kozachenko-Leonenko, dictionary counting for binning and quantization, full
distance matrices for the pairwise KDE bounds, scikit-learn `KernelDensity` Monte Carlo for SP
as in Goldfeld et al.'s code, full score matrices for the known-conditional InfoNCE). The
trained critics have no baseline installed here (benchmark-mi needs jax <= 0.4.33): time only.
Data: x ~ N(0, I_d), z = 0.6 x + 0.8 eps (I = -(d/2) log 0.64), or a tanh layer of x for the
layer estimators. Each row: value of candidate and baseline, seconds, ratio baseline / candidate
(> 1: the candidate is faster). The mixture-engine estimators (KDE, SP, known-conditional)
are called once before timing; the times of the jitted k-NN scan and of the critics include
their compilation (each new shape compiles once).

Usage: python benchmarks/bench_estimators.py [--quick]
"""

from __future__ import annotations

import argparse
import collections
import math
import os
import platform
import time

import numpy as np
from scipy.spatial import cKDTree
from scipy.special import digamma, gammaln
from sklearn.feature_selection import mutual_info_regression
from sklearn.neighbors import KernelDensity

from ntk_info import estimators


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def gaussian(n: int, d: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d))
    return x, 0.6 * x + 0.8 * rng.standard_normal((n, d))


def reference_ksg(x, z, k=5):
    """NPEET-style KSG: joint max-norm tree query, marginal ball counts at eps - 1e-15."""
    x = (x - x.mean(0)) / x.std(0)
    z = (z - z.mean(0)) / z.std(0)
    eps = cKDTree(np.hstack([x, z])).query(np.hstack([x, z]), k + 1, p=np.inf)[0][:, -1]
    n_x = cKDTree(x).query_ball_point(x, eps - 1e-15, p=np.inf, return_length=True) - 1
    n_z = cKDTree(z).query_ball_point(z, eps - 1e-15, p=np.inf, return_length=True) - 1
    return digamma(k) + digamma(len(x)) - np.mean(digamma(n_x + 1) + digamma(n_z + 1))


def reference_kl_entropy(x, k=5):
    n, d = x.shape
    rho = cKDTree(x).query(x, k + 1)[0][:, -1]
    return (
        digamma(n)
        - digamma(k)
        + d / 2 * np.log(np.pi)
        - gammaln(d / 2 + 1)
        + d * np.mean(np.log(rho))
    )


def reference_kl_mi(x, z, k=5):
    x = (x - x.mean(0)) / x.std(0)
    z = (z - z.mean(0)) / z.std(0)
    return (
        reference_kl_entropy(x, k)
        + reference_kl_entropy(z, k)
        - reference_kl_entropy(np.hstack([x, z]), k)
    )


def count_mi(a_rows, b_rows):
    n = len(a_rows)
    pa, pb = collections.Counter(a_rows), collections.Counter(b_rows)
    pab = collections.Counter(zip(a_rows, b_rows, strict=True))
    return sum(c / n * math.log(c * n / (pa[a] * pb[b])) for (a, b), c in pab.items())


def reference_binning(x, t, n_bins=30):
    lo, hi = t.min(0), t.max(0)
    codes = [
        tuple(min(int((v - lo[j]) / (hi[j] - lo[j]) * n_bins), n_bins - 1) for j, v in enumerate(r))
        for r in t
    ]
    return count_mi([tuple(r) for r in x], codes)


def reference_quantized(x, t, bits=8):
    lo, hi = t.min(), t.max()
    codes = [tuple(round((v - lo) * (2**bits - 1) / (hi - lo)) for v in r) for r in t]
    return count_mi([tuple(r) for r in x], codes)


def reference_kde(h, s, div):
    sq = np.sum(h**2, 1)
    dist = sq[:, None] + sq[None, :] - 2 * h @ h.T
    logs = -dist / (div * s)
    m = logs.max(1, keepdims=True)
    return -np.mean(m[:, 0] + np.log(np.mean(np.exp(logs - m), 1)))


def reference_sp(h, beta, per_centre, seed=0):
    """Goldfeld et al.'s code path: sklearn Gaussian KDE, noisy copies, -mean log density."""
    rng = np.random.default_rng(seed)
    kde = KernelDensity(bandwidth=beta).fit(h)
    t = np.repeat(h, per_centre, 0) + beta * rng.standard_normal((len(h) * per_centre, h.shape[1]))
    return -np.mean(kde.score_samples(t)) - h.shape[1] / 2 * np.log(2 * np.pi * np.e * beta**2)


def reference_known_infonce(f, s, seed=0):
    rng = np.random.default_rng(seed)
    t = f + s * rng.standard_normal(f.shape)
    scores = -np.sum((t[:, None, :] - f[None, :, :]) ** 2, -1) / (2 * s**2)
    m = scores.max(1)
    lse = m + np.log(np.sum(np.exp(scores - m[:, None]), 1))
    return np.log(len(f)) + np.mean(np.diag(scores) - lse)


def row(name, size, cand, t_cand, base=None, t_base=None, base_name=""):
    value = float(getattr(cand, "value", cand))
    if base is None:
        print(
            f"{name:<26} {size:>14} {value:>9.4f} {'-':>9} {t_cand:>8.3f} {'-':>8} {'-':>7}"
            "  (no baseline)"
        )
        return
    print(
        f"{name:<26} {size:>14} {value:>9.4f} {float(base):>9.4f} {t_cand:>8.3f} {t_base:>8.3f} "
        f"{t_base / t_cand:>7.2f}  {base_name}"
    )


def run(quick: bool) -> None:
    big = 2000 if quick else 10_000
    print(
        f"{'estimator':<26} {'n x dims':>14} {'value':>9} {'baseline':>9} {'cand s':>8} "
        f"{'base s':>8} {'ratio':>7}  baseline"
    )
    for n in (1000, big):
        x, z = gaussian(n, 1)
        est, t = timed(estimators.ksg, x, z)
        base, tb = timed(mutual_info_regression, x, z[:, 0], n_neighbors=5, random_state=0)
        row("ksg 1-D", f"{n}x(1+1)", est, t, base[0], tb, "sklearn mutual_info_regression")
    for n, d in ((2000, 10), (big, 10)):
        x, z = gaussian(n, d)
        est, t = timed(estimators.ksg, x, z)
        base, tb = timed(reference_ksg, x, z)
        row("ksg chebyshev", f"{n}x({d}+{d})", est, t, base, tb, "NPEET-style cKDTree KSG")
        est, t = timed(estimators.ksg, x, z, metric="euclidean")
        row("ksg euclidean", f"{n}x({d}+{d})", est, t)
    x, z = gaussian(big, 2)
    est, t = timed(estimators.ksg, x, z)
    base, tb = timed(reference_ksg, x, z)
    row("ksg chebyshev", f"{big}x(2+2)", est, t, base, tb, "NPEET-style cKDTree KSG")
    est, t = timed(estimators.kozachenko_leonenko, x, z)
    base, tb = timed(reference_kl_mi, x, z)
    row("kozachenko_leonenko", f"{big}x(2+2)", est, t, base, tb, "plain cKDTree KL")
    est, t = timed(estimators.weighted_kl, x, z)
    row("weighted_kl", f"{big}x(2+2)", est, t)

    rng = np.random.default_rng(1)
    xs = rng.standard_normal((4096, 12))
    layer = np.tanh(xs @ rng.standard_normal((12, 5)))
    est, t = timed(estimators.binning, xs, layer)
    base, tb = timed(reference_binning, xs, layer)
    row("binning (30 bins/neuron)", "4096x5", est, t, base, tb, "dict counting")
    est, t = timed(estimators.quantized_exact, xs, layer, bits=8)
    base, tb = timed(reference_quantized, xs, layer, 8)
    row("quantized_exact 8 bits", "4096x5", est, t, base, tb, "dict counting")
    h = layer[:2000]
    for name, fn, div in (
        ("kde_upper", estimators.kde_upper, 2),
        ("kde_lower", estimators.kde_lower, 8),
    ):
        fn(xs[:2000], h, noise_variance=0.1)
        est, t = timed(fn, xs[:2000], h, noise_variance=0.1)
        base, tb = timed(reference_kde, h, 0.1, div)
        row(name, "2000x5", est, t, base, tb, "full distance matrix")
    h = layer[:1000]
    per = 16
    estimators.sample_propagation(xs[:1000], h, beta=0.1, n_samples=per * 1000)
    est, t = timed(
        estimators.sample_propagation, xs[:1000], h, beta=0.1, n_samples=per * 1000, seed=1
    )
    base, tb = timed(reference_sp, h, 0.1, per)
    row("sample_propagation", "1000x5 (16/c)", est, t, base, tb, "sklearn KernelDensity MC")
    estimators.infonce_known_conditional(xs[:1000], h, noise_std=0.1, n_draws=2)
    est, t = timed(estimators.infonce_known_conditional, xs[:1000], h, noise_std=0.1, n_draws=2)
    base, tb = timed(reference_known_infonce, h, 0.1)
    row(
        "infonce_known_conditional", "1000x5 (2 dr)", est, t, base, tb, "full score matrix (1 draw)"
    )

    x, z = gaussian(2000, 2)
    bigx = x @ rng.standard_normal((2, 50))
    bigz = z @ rng.standard_normal((2, 50))
    est, t = timed(estimators.compressed, bigx, bigz, dim=2)
    row("compressed pca + kl", "2000x(50+50)", est, t)
    steps = 200 if quick else 2000
    for name in ("mine", "nwj", "infonce"):
        fn = getattr(estimators, name)
        est, t = timed(fn, x, z, steps=steps)
        row(f"{name} ({steps} steps)", "2000x(2+2)", est, t)
    print(f"truth: I = {-0.5 * np.log(0.64):.4f} nats per dimension pair")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="n = 2000 instead of 10 000")
    args = parser.parse_args()
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}"
    )
    run(args.quick)


if __name__ == "__main__":
    main()
