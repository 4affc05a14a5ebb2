"""Speed of ntk_info.variational training against plain jax + optax, and of a 12-beta sweep.

(a) Training throughput (examples/s), VIB on mnist1d (4000 training points, 40 features),
    encoder Dense(128)-ReLU-Dense(128)-ReLU-Dense(2 d), d = 16, linear softmax decoder, Adam,
    batch 64, float64, one reparameterised sample per example:
      baseline:  the same model and loss written directly in jax + optax (hand-made MLP,
                 optax.adam, a jitted step called in a Python loop over NumPy-permuted batches);
      candidate: ntk_info.variational's jitted epoch (steps.run_epoch: stax layers, beta
                 schedule, keys from (seed, epoch), a lax.scan over the steps), and the whole
                 `train` per epoch (adds the per-epoch evaluation on train and test sets).
    Each timing is the best of `--repeats` runs of `--epochs` epochs after a warm-up
    (compilation excluded); ratio = candidate time / baseline time (< 1.10 is the target).
(b) A 12-beta `beta_sweep` on mnist1d (1000 / 500 points, `--sweep-epochs` epochs each) with
    executor=None (1 worker) and a 2-process pool (spawn), compilation included.

Run: nice .venv/bin/python benchmarks/bench_variational.py [--quick]
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import multiprocessing
import os
import platform
import tempfile
import time

import numpy as np


def machine() -> str:
    import jax

    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, jax {jax.__version__} ({jax.default_backend()})"
    )


# ------------------------------------------------------------------ baseline: plain jax + optax
def plain_setup(x, y, latent_dim, width, beta, learning_rate, seed, batch_size):
    """Hand-written VIB (same architecture, init scale and loss as the toolkit's) and its step."""
    import jax
    import jax.numpy as jnp
    import optax

    sizes = [(x.shape[1], width), (width, width), (width, 2 * latent_dim), (latent_dim, y.shape[1])]
    keys = jax.random.split(jax.random.PRNGKey(seed), len(sizes))
    params = [
        (jax.random.normal(k, (a, b)) / np.sqrt(a), jax.random.normal(k, (b,)) * 0.0)
        for k, (a, b) in zip(keys, sizes, strict=True)
    ]
    optimizer = optax.adam(learning_rate)

    def loss_fn(params, xb, yb, key):
        h = xb
        for w, b in params[:2]:
            h = jax.nn.relu(h @ w + b)
        out = h @ params[2][0] + params[2][1]
        mu, sigma = out[:, :latent_dim], jax.nn.softplus(out[:, latent_dim:]) + 1e-3
        z = mu + sigma * jax.random.normal(key, mu.shape)
        log_q = jax.nn.log_softmax(z @ params[3][0] + params[3][1])
        rate = 0.5 * jnp.sum(sigma**2 + mu**2 - 1.0 - 2.0 * jnp.log(sigma), axis=1)
        return jnp.mean(rate - beta * jnp.sum(yb * log_q, axis=1))

    @jax.jit
    def step(params, opt_state, xb, yb, key):
        loss, grads = jax.value_and_grad(loss_fn)(params, xb, yb, key)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    def scanned_epoch(params, opt_state, x, y, key):
        perm_key, step_key = jax.random.split(key)
        n_steps = x.shape[0] // batch_size
        order = jax.random.permutation(perm_key, x.shape[0])[: n_steps * batch_size]

        def body(carry, inputs):
            idx, i = inputs
            params, opt_state, loss = step(*carry, x[idx], y[idx], jax.random.fold_in(step_key, i))
            return (params, opt_state), loss

        (params, opt_state), _ = jax.lax.scan(
            body, (params, opt_state), (order.reshape(n_steps, batch_size), jnp.arange(n_steps))
        )
        return params, opt_state

    return params, optimizer.init(params), step, jax.jit(scanned_epoch)


def plain_epochs(state, step, x, y, batch_size, epochs, seed):
    import jax

    params, opt_state = state
    rng = np.random.default_rng(seed)
    n_steps = len(x) // batch_size
    key = jax.random.PRNGKey(seed)
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for i in range(n_steps):
            idx = order[i * batch_size : (i + 1) * batch_size]
            key, sub = jax.random.split(key)
            params, opt_state, loss = step(params, opt_state, x[idx], y[idx], sub)
    jax.block_until_ready(params)
    return params, opt_state


def plain_scanned_epochs(state, epoch_fn, x, y, epochs, seed):
    import jax

    params, opt_state = state
    key = jax.random.PRNGKey(seed)
    for epoch in range(epochs):
        params, opt_state = epoch_fn(params, opt_state, x, y, jax.random.fold_in(key, epoch))
    jax.block_until_ready(params)
    return params, opt_state


# ------------------------------------------------------------------ candidate: the toolkit
def toolkit_epochs(model, data, batch_size, hyper, epochs, params, opt_state):
    import jax
    import jax.numpy as jnp

    from ntk_info.variational import steps

    n_steps = data.x.shape[0] // batch_size
    keys = jax.random.fold_in(jax.random.PRNGKey(0), 1)
    for epoch in range(1, epochs + 1):
        params, opt_state, _ = steps.run_epoch(
            model,
            "vib",
            n_steps,
            batch_size,
            params,
            opt_state,
            data,
            jax.random.fold_in(keys, epoch),
            jnp.asarray((epoch - 1) * n_steps, jnp.float64),
            hyper,
        )
    jax.block_until_ready(params)
    return params, opt_state


def best_time(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def throughput(args) -> None:
    import jax
    import jax.numpy as jnp

    from ntk_info import data
    from ntk_info._jax import float64
    from ntk_info.variational import LabelSmoothing, build_model, steps, train

    ds = data.mnist1d(4000, 1000, seed=0)
    d, width, batch, beta, lr = 16, 128, 64, 10.0, 1e-3
    epochs = args.epochs
    n_examples = (ds.n_train // batch) * batch * epochs
    with float64():
        x, y = ds.x_train, ds.y_train
        soft = LabelSmoothing(0.02)(ds.classes_train, x, 10)
        params, opt_state, step, epoch_fn = plain_setup(x, soft, d, width, beta, lr, 0, batch)
        plain = lambda: plain_epochs((params, opt_state), step, x, soft, batch, epochs, 0)  # noqa: E731
        xj, softj = jnp.asarray(x), jnp.asarray(soft)
        plain_scan = lambda: plain_scanned_epochs(  # noqa: E731
            (params, opt_state), epoch_fn, xj, softj, epochs, 0
        )
        model = build_model("fc", latent_dim=d, n_classes=10, width=width, input_ndim=2)
        tk_params = model.init(jax.random.PRNGKey(0), x.shape)
        tk_state = steps.adam().init(tk_params)
        batch_data = steps.Batch(*(jnp.asarray(a) for a in (x, y, soft, np.log(soft))))
        hyper = steps.Hyper(*(jnp.asarray(v, jnp.float64) for v in (beta, lr, 100.0, 0)))
        tk = lambda: toolkit_epochs(model, batch_data, batch, hyper, epochs, tk_params, tk_state)  # noqa: E731
        kwargs = dict(
            objective="vib",
            beta=beta,
            latent_dim=d,
            width=width,
            batch_size=batch,
            learning_rate=lr,
            epochs=epochs,
            progress=False,
        )
        full = lambda: train(ds, **kwargs)  # noqa: E731
        contenders = [plain, plain_scan, tk, full]
        for fn in contenders:
            fn()  # compile
        times = [np.inf] * len(contenders)
        for _ in range(args.repeats):  # interleaved, so that load changes hit every contender
            times = [min(t, best_time(fn, 1)) for t, fn in zip(times, contenders, strict=True)]
        t_plain, t_scan, t_tk, t_full = times
    print(
        f"(a) VIB training throughput, mnist1d n=4000, batch {batch}, {epochs} epochs, "
        f"best of {args.repeats}"
    )
    print("ratio = time / time of the fastest baseline (plain jax + optax)")
    base = min(t_plain, t_scan)
    print(f"{'contender':<50}{'seconds':>10}{'examples/s':>14}{'ratio':>8}")
    for name, t in [
        ("baseline: plain jax + optax, jitted step, Python loop", t_plain),
        ("baseline: plain jax + optax, jitted lax.scan epoch", t_scan),
        ("candidate: ntk_info steps.run_epoch", t_tk),
        ("candidate: ntk_info train (+ eval every epoch)", t_full),
    ]:
        print(f"{name:<50}{t:>10.3f}{n_examples / t:>14.0f}{t / base:>8.3f}")


def sweep_times(args) -> None:
    from ntk_info import data
    from ntk_info.variational import beta_sweep

    ds = data.mnist1d(1000, 500, seed=0)
    betas = list(np.logspace(-2, 3, 12))
    kwargs = dict(
        objective="vib",
        epochs=args.sweep_epochs,
        latent_dim=8,
        width=64,
        batch_size=64,
        progress=False,
    )
    rows = []
    labels = ("1, cold", "1, warm", "2 threads, warm", "2 processes")
    for label in labels:
        with tempfile.TemporaryDirectory() as store:
            start = time.perf_counter()
            if label.startswith("1"):
                table = beta_sweep(ds, betas, store=store, **kwargs)
            elif "threads" in label:
                with cf.ThreadPoolExecutor(2) as pool:
                    table = beta_sweep(ds, betas, store=store, executor=pool, **kwargs)
            else:
                context = multiprocessing.get_context("spawn")
                with cf.ProcessPoolExecutor(2, mp_context=context) as pool:
                    table = beta_sweep(ds, betas, store=store, executor=pool, **kwargs)
            rows.append((label, time.perf_counter() - start, table))
    print(
        f"\n(b) 12-beta sweep, mnist1d 1000/500, {args.sweep_epochs} epochs per beta "
        "(compilation included: once per process)"
    )
    print("cold: this process compiles first; warm: reuses its compilations; each spawned")
    print("process imports jax and compiles on its own. speed-up vs the same-state serial run.")
    print(f"{'workers':<18}{'seconds':>10}{'speed-up':>10}")
    for label, t, _ in rows:
        ref = rows[1][1] if "warm" in label else rows[0][1]
        print(f"{label:<18}{t:>10.1f}{ref / t:>10.2f}")
    same = all(r[2]["rate"].equals(rows[0][2]["rate"]) for r in rows)
    print(f"same table with every executor: {same}")
    print(rows[0][2][["beta", "rate", "izy_lower", "test_accuracy"]].to_string(index=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer epochs and repeats")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sweep-epochs", type=int, default=10)
    parser.add_argument("--part", choices=("a", "b", "all"), default="all")
    args = parser.parse_args()
    if args.quick:
        args.epochs, args.repeats, args.sweep_epochs = 1, 2, 2
    print(f"machine: {machine()}\n")
    if args.part in ("a", "all"):
        throughput(args)
    if args.part in ("b", "all"):
        sweep_times(args)


if __name__ == "__main__":
    main()
