"""The ensemble's linear algebra on the default JAX device (backend 'jax').

The same interface as `_moments_numpy`: the eigendecomposition is a jitted `eigh` and the
per-time (m x n)(n x n) products run in jitted chunks of `CHUNK_TIMES` times (the last chunk
padded), each chunk a `lax.map` over its times, so device buffers are a few (m, n) arrays
whatever the number of times, and one compilation serves every grid. Arrays stay on the device
between calls; only the (T, m, k) means and (T, m) variances (and (T, m, m) covariances when
asked) come back, as NumPy float64. Every function runs under `float64(use)` of the caller.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

#: Times per jitted chunk of products.
CHUNK_TIMES = 8


def _jnp():
    import jax.numpy as jnp

    return jnp


@functools.cache
def _jitted() -> dict[str, Any]:
    import jax
    import jax.numpy as jnp

    def eigh(matrix):
        return jnp.linalg.eigh(matrix, symmetrize_input=False)

    def add_to_diagonal(matrix, value):
        n = matrix.shape[0]
        return matrix.at[jnp.arange(n), jnp.arange(n)].add(value)

    def sandwich(matrix, evecs):
        out = evecs.T @ (matrix @ evecs)
        return 0.5 * (out + out.T)

    def rotated_diagonal(matrix, evecs):
        return jnp.einsum("ia,ia->a", evecs, matrix @ evecs)

    def chunk_moments(gm, gv, proj, proj_y, k_rot, q, kdiag, ktt, ntk, with_q, full_cov):
        mean = jnp.einsum("mn,tn,nk->tmk", proj, gm, proj_y)

        def one_time(g):
            w = proj * g[None, :]
            if ntk:
                wk = w @ k_rot
                var = kdiag + jnp.sum(wk * w, axis=1)
                if with_q:
                    var = var - 2.0 * jnp.sum(w * q, axis=1)
                if not full_cov:
                    return var, None
                cov = wk @ w.T
                if with_q:
                    cross = w @ q.T
                    cov = cov - cross - cross.T
            else:
                var = kdiag + jnp.sum(w * proj, axis=1)
                if not full_cov:
                    return var, None
                cov = w @ proj.T
            return var, cov + ktt

        var, cov = jax.lax.map(one_time, gv)
        return mean, jnp.maximum(var, 0.0), cov

    return dict(
        eigh=jax.jit(eigh, donate_argnums=0),
        add_to_diagonal=jax.jit(add_to_diagonal, donate_argnums=0),
        sandwich=jax.jit(sandwich),
        rotated_diagonal=jax.jit(rotated_diagonal),
        matmul=jax.jit(lambda a, b: a @ b),
        chunk_moments=jax.jit(chunk_moments, static_argnames=("ntk", "with_q", "full_cov")),
    )


def eigh(matrix: Any) -> tuple[np.ndarray, Any]:
    """Eigenvalues (n,) as NumPy float64 and eigenvectors (n, n) on the device; donates `matrix`."""
    evals, evecs = _jitted()["eigh"](to_backend(matrix, None))
    return np.asarray(evals, dtype=np.float64), evecs


def to_backend(array: Any, dtype: Any) -> Any:
    jnp = _jnp()
    return jnp.asarray(array) if dtype is None else jnp.asarray(array, dtype=dtype)


def to_numpy(array: Any) -> np.ndarray:
    return np.asarray(array, dtype=np.float64)


def add_to_diagonal(matrix: Any, value: float) -> Any:
    return _jitted()["add_to_diagonal"](to_backend(matrix, None), value)


def rotate(matrix: Any, evecs: Any) -> Any:
    """M V on the device: (m, n) @ (n, n)."""
    return _jitted()["matmul"](to_backend(matrix, evecs.dtype), evecs)


def sandwich(matrix: Any, evecs: Any) -> Any:
    """V^T M V, symmetrised, on the device."""
    return _jitted()["sandwich"](to_backend(matrix, evecs.dtype), evecs)


def rotated_diagonal(matrix: Any, evecs: Any) -> np.ndarray:
    """diag(V^T M V), (n,), as NumPy float64."""
    out = _jitted()["rotated_diagonal"](to_backend(matrix, evecs.dtype), evecs)
    return np.asarray(out, dtype=np.float64)


def take_rows(evecs: Any, rows: Any) -> Any:
    return evecs[np.arange(evecs.shape[0])[rows]]


def zeros(shape: tuple[int, ...], dtype: Any) -> Any:
    return _jnp().zeros(shape, dtype=dtype)


def _padded_chunks(values: np.ndarray):
    """(CHUNK_TIMES, n) slices of a (T, n) array, the last padded with its last row."""
    for start in range(0, len(values), CHUNK_TIMES):
        part = values[start : start + CHUNK_TIMES]
        pad = CHUNK_TIMES - len(part)
        if pad:
            part = np.concatenate([part, np.repeat(part[-1:], pad, axis=0)])
        yield start, part


def evaluate(
    mode: str, gm: np.ndarray, gv: np.ndarray, arrays: dict[str, Any], full_cov: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Moments at all T times, `CHUNK_TIMES` at a time; arguments as `_moments_numpy.evaluate`."""
    proj = arrays["proj"]
    dtype = proj.dtype
    m = proj.shape[0]
    q, ktt = arrays.get("q"), arrays.get("ktt")
    fn = _jitted()["chunk_moments"]
    n_times = len(gv)
    mean = np.empty((n_times, m, arrays["proj_y"].shape[1]))
    var = np.empty((n_times, m))
    cov = np.empty((n_times, m, m)) if full_cov else None
    dummy = zeros((1, 1), dtype)
    if full_cov and ktt is None:
        ktt = zeros((m, m), dtype)
    for (start, gm_part), (_, gv_part) in zip(_padded_chunks(gm), _padded_chunks(gv), strict=True):
        stop = min(start + CHUNK_TIMES, n_times)
        chunk = fn(
            to_backend(gm_part, dtype),
            to_backend(gv_part, dtype),
            proj,
            arrays["proj_y"],
            arrays.get("k_rot") if mode == "ntk" else dummy,
            q if q is not None else dummy,
            arrays["kdiag"],
            ktt if full_cov else dummy,
            ntk=mode == "ntk",
            with_q=q is not None,
            full_cov=full_cov,
        )
        mean[start:stop] = np.asarray(chunk[0])[: stop - start]
        var[start:stop] = np.asarray(chunk[1])[: stop - start]
        if full_cov:
            cov[start:stop] = np.asarray(chunk[2])[: stop - start]
    return mean, var, cov
