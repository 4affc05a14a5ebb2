"""Speed of the mixture MI bounds at the information-plane size, against a named baseline.

Candidates: `ntk_info.mixture.infonce_and_loo` on its two code paths, path='fused' (CPU: ~2 MB
chunks, unrolled multiply-adds and a vectorised float64 exponential fused into one loop) and
path='matmul' (GPU/TPU: ~256 MB chunks, XLA's GEMM and exp); both bounds from one pass.
The row 'auto' is what the default device gets ('matmul' on a GPU, 'fused' on a CPU).
Baseline: the straightforward JAX implementation, `naive_infonce_and_loo` below: the full
(n_draws * N, N) score matrix per time from direct differences, `jax.nn.logsumexp` (XLA's
float64 `exp`), InfoNCE and LOO as two logsumexps, `lax.map` over time. Same float64, same draws.
Context: the information-plane pipeline is dominated by T matrix products
(1000 x 4000)(4000 x 4000); one is timed here and scaled by T to give the mixture's share.

Usage: python benchmarks/bench_mixture.py [--times 100] [--points 1000] [--outputs 10]
       python benchmarks/bench_mixture.py --devices   (default device vs CPU: numbers, times)
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from ntk_info import mixture
from ntk_info._jax import float64


@jax.jit
def naive_infonce_and_loo(means, variances, keys):
    """Per-time (InfoNCE, LOO) per draw, (T, D) each; keys (T,) as in `mixture` (D = 8)."""

    def one(args):
        mu, s, key = args
        n, k = mu.shape
        eps = jax.random.normal(key, (8, n, k), dtype=mu.dtype)
        z = (mu + jnp.sqrt(s)[:, None] * eps).reshape(8 * n, k)
        sq = jnp.sum((z[:, None, :] - mu[None, :, :]) ** 2, axis=-1)
        scores = -0.5 * k * jnp.log(2 * jnp.pi * s)[None, :] - 0.5 * sq / s[None, :]
        own = jnp.tile(jnp.arange(n), 8)
        diag = scores[jnp.arange(8 * n), own]
        off = jnp.where(own[:, None] == jnp.arange(n)[None, :], -jnp.inf, scores)
        nce = jnp.log(n) + (diag - jax.nn.logsumexp(scores, axis=1)).reshape(8, n).mean(1)
        loo = jnp.log(n - 1.0) + (diag - jax.nn.logsumexp(off, axis=1)).reshape(8, n).mean(1)
        return nce, loo

    return lax.map(one, (means, variances, keys))


def _best_of(fn, repeats: int) -> float:
    fn()  # compile
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def compare_devices(t: int, n: int, k: int, repeats: int) -> None:
    """Default device ('auto' path) vs the host CPU (path='fused'): the same numbers (same draws,
    max |diff| of every estimator, isotropic with `times` and full covariances) and the time of
    infonce_and_loo on a (t, n, k) problem on both, and of path='fused' on the default device."""
    cpu = jax.devices("cpu")[0]
    rng = np.random.default_rng(0)

    def estimates(means, variances, **options):
        nce, loo = mixture.infonce_and_loo(means, variances, seed=1, **options)
        mc = mixture.mc_estimate(means, variances, seed=2, **options)
        kl = mixture.pairwise_kl_upper(means, variances)
        bd = mixture.pairwise_bhattacharyya_lower(means, variances)
        return np.stack([e.value for e in (nce, loo, mc, kl, bd)])

    cov = rng.normal(size=(2, 500, 3, 3))
    cases = {
        "isotropic, times": (
            rng.normal(size=(4, 2000, 10)) * 2,
            rng.uniform(0.1, 1, (4, 2000)),
            {"times": np.array([0.0, 1.0, 10.0, np.inf])},
        ),
        "full covariances": (
            rng.normal(size=(2, 500, 3)),
            cov @ np.swapaxes(cov, -1, -2) / 3 + 0.2 * np.eye(3),
            {},
        ),
    }
    print(f"default device {jax.devices()[0]}, auto path {mixture.resolve_path('auto')!r}")
    for name, (means, variances, options) in cases.items():
        here = estimates(means, variances, **options)
        with jax.default_device(cpu):
            host = estimates(means, variances, **options)
        print(f"{name}: max |default - cpu| over 5 estimators = {np.max(np.abs(here - host)):.2e}")
    means = rng.normal(size=(t, n, k))
    variances = rng.uniform(0.1, 2.0, size=(t, n))
    for device, path in ((None, "auto"), (None, "fused"), (cpu, "fused")):
        with jax.default_device(device or jax.devices()[0]):
            seconds = _best_of(
                lambda p=path: mixture.infonce_and_loo(means, variances, seed=0, path=p), repeats
            )
        where = "cpu" if device else "default device"
        print(f"T={t} N={n} k={k}: infonce_and_loo path={path!r} on {where}: {seconds:.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--times", type=int, default=100)
    parser.add_argument("--points", type=int, default=1000)
    parser.add_argument("--outputs", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--devices", action="store_true", help="compare the default device with the CPU only"
    )
    args = parser.parse_args()
    t, n, k = args.times, args.points, args.outputs
    if args.devices:
        compare_devices(t, n, k, args.repeats)
        return
    rng = np.random.default_rng(0)
    means = rng.normal(size=(t, n, k))
    variances = rng.uniform(0.1, 2.0, size=(t, n))
    key = jax.random.PRNGKey(0)

    def candidate(path="auto"):
        mixture.infonce_and_loo(means, variances, key=key, n_draws=8, path=path)

    def baseline():
        with float64():
            keys = jax.random.split(key, t)
            jax.block_until_ready(naive_infonce_and_loo(means, variances, keys))

    def pairwise():
        mixture.pairwise_kl_upper(means, variances)
        mixture.pairwise_bhattacharyya_lower(means, variances)

    with float64():
        a = jnp.asarray(rng.normal(size=(1000, 4000)))
        b = jnp.asarray(rng.normal(size=(4000, 4000)))
        product = jax.jit(lambda a, b: a @ b)
    with float64():
        one_product = _best_of(lambda: product(a, b).block_until_ready(), args.repeats)

    # Same numbers from both implementations (same keys, same float64 draws).
    with float64():
        keys = jax.random.split(key, t)
        nce, loo = naive_infonce_and_loo(means, variances, keys)
    lower, upper = mixture.infonce_and_loo(means, variances, key=key, n_draws=8)
    np.testing.assert_allclose(lower.value, np.asarray(nce).mean(1), rtol=1e-9)
    np.testing.assert_allclose(upper.value, np.minimum(np.asarray(loo).mean(1), np.log(n)), 1e-9)

    base = _best_of(baseline, args.repeats)
    cand = _best_of(candidate, args.repeats)
    by_path = {p: _best_of(lambda p=p: candidate(p), args.repeats) for p in ("fused", "matmul")}
    pair = _best_of(pairwise, args.repeats)
    pipeline = t * one_product
    cpu = platform.processor() or platform.machine()
    load = os.getloadavg()[0]
    print(f"machine: {cpu}, {os.cpu_count()} cores, jax {jax.__version__}, load {load:.1f}")
    print(f"default device: {jax.devices()[0]} (auto path: {mixture.resolve_path('auto')})")
    print(f"T={t} N={n} k={k} n_draws=8, best of {args.repeats}")
    print(f"{'what':44s} {'seconds':>8s}")
    print(f"{'baseline: naive JAX InfoNCE + LOO':44s} {base:8.2f}")
    print(f"{'candidate: mixture.infonce_and_loo':44s} {cand:8.2f}")
    print(f"{'ratio baseline / candidate':44s} {base / cand:8.2f}")
    for p, seconds in by_path.items():
        print(f"{'  path=' + repr(p):44s} {seconds:8.2f}  (baseline / it {base / seconds:.2f})")
    print(f"{'pairwise KL + Bhattacharyya bounds':44s} {pair:8.2f}")
    print(f"{'pipeline: T x (1000x4000)(4000x4000) float64':44s} {pipeline:8.2f}")
    print(f"{'InfoNCE + LOO share of that pipeline':44s} {cand / (pipeline + cand):8.1%}")


if __name__ == "__main__":
    main()
