"""Kernel evaluation: NNGP K and NTK Theta of any stax `kernel_fn`, in float64, batched.

Large inputs are evaluated block by block with `neural_tangents.batch` (which also spreads the
blocks over all JAX devices present). `nt.batch` needs block sizes that divide the number of
points, so inputs are padded with copies of their first row and the padding is cut off again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from ntk_info._jax import float64
from ntk_info._nt import load as load_neural_tangents

__all__ = ["TrainKernels", "kernel_matrices", "kernel_diagonal"]


class TrainKernels(NamedTuple):
    """NNGP and NTK kernel matrices, float64 numpy arrays of shape (n1, n2)."""

    nngp: np.ndarray
    ntk: np.ndarray


def _pad_rows(x: np.ndarray, multiple: int) -> np.ndarray:
    extra = (-x.shape[0]) % multiple
    if extra == 0:
        return x
    return np.concatenate([x, np.repeat(x[:1], extra, axis=0)], axis=0)


def _device_count() -> int:
    import jax

    return jax.local_device_count()


def kernel_matrices(
    kernel_fn: Callable,
    x1: np.ndarray,
    x2: np.ndarray | None = None,
    *,
    get: tuple[str, ...] = ("nngp", "ntk"),
    batch_size: int = 512,
    use_float64: bool = True,
) -> dict[str, np.ndarray]:
    """Kernel matrices k(x1, x2) for each name in `get`, as float64 numpy arrays.

    Inputs larger than `batch_size` are evaluated one block of rows at a time (each row block
    with a jitted `nt.batch` over `batch_size` x `batch_size` tiles and all local devices) and
    written into preallocated arrays: memory is the result plus one row block. For
    k(x1, x1) only the blocks on and above the diagonal are evaluated and mirrored.

    Args:
      kernel_fn: a neural-tangents `kernel_fn(x1, x2, get)`.
      x1: inputs (n1, ...features).
      x2: inputs (n2, ...features), or None for k(x1, x1).
      get: kernel names, e.g. ('nngp', 'ntk').
      batch_size: tile size.
      use_float64: compute in float64 (default) whatever the global JAX setting.

    Returns:
      dict name -> array (n1, n2).
    """
    import jax

    nt = load_neural_tangents()
    symmetric = x2 is None
    columns = x1 if symmetric else x2
    n1, n2 = x1.shape[0], columns.shape[0]
    with float64(use_float64):
        dtype = np.float64 if use_float64 else np.float32
        jitted = jax.jit(kernel_fn, static_argnames="get")
        if max(n1, n2) <= batch_size:
            out = jitted(x1.astype(dtype), None if symmetric else x2.astype(dtype), get=get)
            return {name: np.array(getattr(out, name), dtype=np.float64) for name in get}
        rows = batch_size * _device_count()
        batched = nt.batch(jitted, batch_size=batch_size, device_count=-1, store_on_device=False)
        x1p = _pad_rows(x1.astype(dtype), rows)
        x2p = _pad_rows(columns.astype(dtype), rows if symmetric else batch_size)
        result = {name: np.empty((n1, n2), dtype=np.float64) for name in get}
        for start in range(0, n1, rows):
            stop = min(start + rows, n1)
            first = start if symmetric else 0  # upper triangle only for k(x1, x1)
            block = batched(x1p[start : start + rows], x2p[first:], get)
            for name in get:
                values = np.asarray(getattr(block, name))
                result[name][start:stop, first:] = values[: stop - start, : n2 - first]
                if first:
                    result[name][start:stop, :first] = result[name][:first, start:stop].T
            del block
    return result


def kernel_diagonal(
    kernel_fn: Callable,
    x: np.ndarray,
    *,
    get: str = "nngp",
    batch_size: int = 512,
    use_float64: bool = True,
) -> np.ndarray:
    """The diagonal k(x_i, x_i), shape (n,), from diagonal blocks only: O(n * batch_size) work."""
    import jax

    n = x.shape[0]
    with float64(use_float64):
        dtype = np.float64 if use_float64 else np.float32
        block = min(batch_size, n)
        xp = _pad_rows(x.astype(dtype), block)
        jitted = jax.jit(kernel_fn, static_argnames="get")
        parts = [
            np.diagonal(np.asarray(jitted(xp[i : i + block], None, get=get), dtype=np.float64))
            for i in range(0, xp.shape[0], block)
        ]
    return np.concatenate(parts)[:n]
