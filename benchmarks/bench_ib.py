"""Speed of the discrete IB / dualIB solvers against named baselines (a plain script).

(a) IB curve of a random 200 x 20 joint on the same 200 betas: embo (independent package,
    random restarts per beta, its own loose stopping rule) vs ntk_info.ib.solve (reverse
    annealing, duplicates merged) at tol 1e-10 and at tol 1e-8 (mean JS change of the
    encoder, still converged); also compares the curves.
(b) 1000-beta reverse annealing of the spec §3 problem, IB and dualIB: a straightforward
    implementation looping in Python over clusters and points (written below) vs ntk_info.
(c) Scaling in |X| = |T| (|Y| = 10), cost of 50 sweeps: NumPy backend vs JAX backend.

Run: .venv/bin/python benchmarks/bench_ib.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings

# Single-threaded BLAS for every contender: on a shared 2-core machine OpenBLAS threads spin
# against other jobs and slow small matrix products ~10x, which would time the machine's load.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from scipy.stats import entropy as scipy_entropy  # noqa: E402

from ntk_info import ib  # noqa: E402


def machine() -> str:
    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {platform.system()}"
    )


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    value = fn(*args, **kwargs)
    return time.perf_counter() - start, value


# ---------------------------------------------------------------- baseline of (b): Python loops
def loop_solver(pxy, betas, dual, tol):
    """Reverse annealing with Python loops over clusters and points (the reference code's style).

    Per sweep: d[t, x] by one scipy.stats.entropy call per (t, x); encoder, p(t), p(x|t) and the
    decoder cluster by cluster. Returns (I(X;T), I(T;Y)) per beta (high to low) and sweeps.
    """
    px = pxy.sum(1)
    py_x = pxy / px[:, None]
    n_x = len(px)
    pt_x = np.eye(n_x)
    pt = px.copy()
    py_t = py_x.copy()
    out, sweeps = [], 0
    for beta in sorted(betas, reverse=True):
        change = np.inf
        while change >= tol:
            d = np.empty((n_x, n_x))
            for t in range(n_x):
                for x in range(n_x):
                    if dual:
                        d[t, x] = scipy_entropy(py_t[t], py_x[x])
                    else:
                        d[t, x] = scipy_entropy(py_x[x], py_t[t])
            new = np.empty_like(pt_x)
            for x in range(n_x):
                logits = np.log(np.maximum(pt, 1e-300)) - beta * d[:, x]
                w = np.exp(logits - logits.max())
                new[:, x] = w / w.sum()
            js = 0.0
            for x in range(n_x):
                m = 0.5 * (new[:, x] + pt_x[:, x])
                js += 0.5 * (scipy_entropy(new[:, x], m) + scipy_entropy(pt_x[:, x], m)) / n_x
            change = js
            pt_x = new
            for t in range(n_x):
                pt[t] = pt_x[t] @ px
                px_t = pt_x[t] * px / pt[t] if pt[t] > 0 else px
                if dual:
                    logits = px_t @ np.log(py_x)
                    w = np.exp(logits - logits.max())
                    py_t[t] = w / w.sum()
                else:
                    py_t[t] = px_t @ py_x
            sweeps += 1
        out.append(sweeps)
    return sweeps


def bench_embo(n_betas: int):
    from ntk_info.ib.reference import embo_ib_curve

    pxy = ib.random_joint(200, 20, seed=0, concentration=0.3)
    betas = np.linspace(0.5, 30.0, n_betas)
    t_embo, (ix, iy) = timed(embo_ib_curve, pxy, minbeta=0.5, maxbeta=30.0, numbeta=n_betas, seed=0)
    out = {}
    for tol in (1e-10, 1e-8):  # embo stops on a loose criterion; 1e-8 (mean JS) still converges
        ib.solve(pxy[:5] / pxy[:5].sum(), [1.0])  # JIT warm-up on another shape is not counted
        t_ours, ours = timed(ib.solve, pxy, betas, method="ib", tol=tol)
        order = np.argsort(ours.ixt)
        ours_at = np.interp(ix, ours.ixt[order], np.maximum.accumulate(ours.ity[order]))
        out[tol] = (t_ours, float(np.max(iy - ours_at)), ours)
    return t_embo, out


def report(row) -> None:
    case, base, t_base, t_cand = row
    print(f"{case:<44} {base:<14} {t_base:9.3f} {t_cand:12.3f} {t_base / t_cand:8.1f}x", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller grids")
    args = parser.parse_args()
    rows = []
    print(f"machine: {machine()}")

    # (a)
    n_betas = 50 if args.quick else 200
    t_embo, out = bench_embo(n_betas)
    for tol, (t_ours, gap, ours) in out.items():
        rows.append(
            (f"(a) IB curve 200x20, {n_betas} betas, tol {tol:g}", "embo 1.1.0", t_embo, t_ours)
        )
        report(rows[-1])
        print(
            f"(a) tol {tol:g}: max over embo points of [embo I(T;Y) - ours at equal I(X;T)] = "
            f"{gap:.2e} nats; {int(ours.iterations.sum())} sweeps, all converged: "
            f"{bool(ours.converged.all())}"
        )

    # (b)
    problem = ib.binary_exponential_problem()
    betas = 2.0 ** np.linspace(6, 1, 200 if args.quick else 1000)
    tol_b = 1e-10
    for method in ("ib", "dualib"):
        ib.solve(problem.pxy, betas[:3], method=method)  # JIT compile outside the timing
        t_base, _ = timed(loop_solver, problem.pxy, betas, method == "dualib", tol_b)
        t_cand, _ = timed(ib.solve, problem.pxy, betas, method=method, tol=tol_b)
        rows.append(
            (f"(b) §3 {method}, {len(betas)} betas, tol {tol_b:g}", "python loops", t_base, t_cand)
        )
        report(rows[-1])
    t_np, _ = timed(ib.solve, problem.pxy, betas, method="ib", tol=1e-12, backend="numpy")
    t_jx, _ = timed(ib.solve, problem.pxy, betas, method="ib", tol=1e-12, backend="jax")
    rows.append((f"(b) §3 ib, {len(betas)} betas, tol 1e-12", "numpy backend", t_np, t_jx))
    report(rows[-1])

    # (c) per-sweep cost: 2 betas x 25 sweeps each (tol 0 so that every sweep runs)
    sizes = (50, 200, 500) if args.quick else (50, 100, 200, 500, 1000, 2000)
    for n_x in sizes:
        pxy = ib.random_joint(n_x, 10, seed=1, concentration=0.3)
        grid = [20.0, 5.0]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            ib.solve(pxy, grid, tol=1e-300, max_iter=2)  # compile for this shape
            t_np, _ = timed(ib.solve, pxy, grid, tol=1e-300, max_iter=25, backend="numpy")
            t_jx, _ = timed(ib.solve, pxy, grid, tol=1e-300, max_iter=25, backend="jax")
        rows.append((f"(c) |X|=|T|={n_x}, |Y|=10, 50 sweeps", "numpy backend", t_np, t_jx))
        report(rows[-1])

    print(f"\n{'case':<44} {'baseline':<14} {'base [s]':>9} {'ntk_info [s]':>12} {'ratio':>8}")
    for row in rows:
        report(row)
    print(f"machine: {machine()}")


if __name__ == "__main__":
    main()
