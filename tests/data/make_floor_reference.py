"""Writes floor_reference.npz: kernels and predictions computed on the floor stack.

Run on the floor lane (Python 3.11, jax 0.5.3, neural-tangents 0.6.5, no compatibility names
needed): `.venv-floor/bin/python tests/data/make_floor_reference.py`. `test_jax_versions.py`
recomputes the same arrays on whatever JAX runs the suite and compares them to these.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def reference_arrays() -> dict[str, np.ndarray]:
    """Every array of the reference, computed on the running stack (shared with the test)."""
    import jax

    from ntk_info import InfiniteEnsemble
    from ntk_info._jax import float64
    from ntk_info._nt import load
    from ntk_info.architectures import cnn, fc
    from ntk_info.finite import empirical_kernels

    nt = load()
    from neural_tangents import stax

    rng = np.random.default_rng(0)
    x, x_test = rng.normal(size=(16, 6)), rng.normal(size=(7, 6))
    y = rng.normal(size=(16, 2))
    images = rng.normal(size=(6, 4, 4, 2))
    residual = stax.serial(
        stax.Dense(64, 1.3, 0.1),
        stax.FanOut(2),
        stax.parallel(stax.serial(stax.Gelu(), stax.Dense(64, 1.2)), stax.Identity()),
        stax.FanInSum(),
        stax.LayerNorm(),
        stax.Erf(),
        stax.Dense(1, 1.1, 0.05),
    )
    pooled = stax.serial(
        stax.Conv(8, (2, 2), padding="SAME"),
        stax.Relu(),
        stax.AvgPool((2, 2), padding="SAME"),
        stax.Conv(8, (2, 2), padding="SAME"),
        stax.Sigmoid_like(),
        stax.GlobalAvgPool(),
        stax.Dense(1),
    )
    out: dict[str, np.ndarray] = {}
    with float64():
        for name, arch, inputs in [
            ("fc_relu", fc(3), x),
            ("fc_erf", fc(2, activation="erf"), x),
            ("residual_layernorm", residual, x),
            ("cnn", cnn(channels=4, filter_size=2), images),
            ("conv_pool", pooled, images),
        ]:
            kernels = arch[2](inputs, None, ("nngp", "ntk"))
            out[f"{name}_nngp"] = np.asarray(kernels.nngp)
            out[f"{name}_ntk"] = np.asarray(kernels.ntk)
        batched = nt.batch(fc(3)[2], batch_size=4)(x, x_test, "ntk")
        out["batched_ntk"] = np.asarray(batched)
        predict_fn = nt.predict.gradient_descent_mse_ensemble(fc(3)[2], x, y)
        mean, cov = predict_fn(t=np.array([1.0, 30.0]), x_test=x_test, get="ntk", compute_cov=True)
        out["nt_predict_mean"], out["nt_predict_cov"] = np.asarray(mean), np.asarray(cov)
        init_fn, apply_fn, _ = fc(2, width=128)
        mc = nt.monte_carlo_kernel_fn(init_fn, apply_fn, jax.random.PRNGKey(1), n_samples=4)
        out["monte_carlo_ntk"] = np.asarray(mc(x, x_test, "ntk"))
        params = init_fn(jax.random.PRNGKey(2), x.shape)[1]
        for implementation in (1, 2):
            emp = empirical_kernels(apply_fn, params, x, x_test, implementation=implementation)
            out[f"empirical{implementation}_ntk"] = emp["ntk"]
            out[f"empirical{implementation}_nngp"] = emp["nngp"]
    # erf, not ReLU: NT's ReLU kernel evaluates arccos(rho) at rho = 1 -+ eps on the diagonal,
    # which loses half the digits (sqrt(eps) ~ 1.5e-8); under jit, XLA's fusion decides how
    # rho rounds there, so jitted ReLU kernels are reproducible to ~1e-8 only, on any JAX.
    t = np.array([0.0, 2.0, 50.0, np.inf])
    for mode in ("ntk", "nngp"):
        arch = fc(3, activation="erf")
        pred = InfiniteEnsemble(arch, x, y, mode=mode, backend="numpy").predict(
            x_test, t, full_cov=True
        )
        out[f"ensemble_{mode}_mean"], out[f"ensemble_{mode}_cov"] = pred.mean, pred.cov
    return out


if __name__ == "__main__":
    import jax

    arrays = reference_arrays()
    arrays["jax_version"] = np.array(jax.__version__)
    path = Path(__file__).with_name("floor_reference.npz")
    np.savez_compressed(path, **arrays)
    print(f"wrote {len(arrays)} arrays to {path} (JAX {jax.__version__})")
