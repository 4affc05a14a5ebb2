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

    Args:
      kernel_fn: a neural-tangents `kernel_fn(x1, x2, get)`.
      x1: inputs (n1, ...features).
      x2: inputs (n2, ...features), or None for k(x1, x1) (computed with its symmetry).
      get: kernel names, e.g. ('nngp', 'ntk').
      batch_size: block size; inputs larger than this are evaluated in blocks with `nt.batch`.
      use_float64: compute in float64 (default) whatever the global JAX setting.

    Returns:
      dict name -> array (n1, n2).
    """
    import jax

    nt = load_neural_tangents()

    n1 = x1.shape[0]
    n2 = n1 if x2 is None else x2.shape[0]
    with float64(use_float64):
        dtype = np.float64 if use_float64 else np.float32
        jitted = jax.jit(kernel_fn, static_argnames="get")
        if max(n1, n2) <= batch_size:
            out = jitted(x1.astype(dtype), None if x2 is None else x2.astype(dtype), get=get)
        else:
            devices = _device_count()
            batched = nt.batch(
                kernel_fn, batch_size=batch_size, device_count=-1, store_on_device=False
            )
            x1p = _pad_rows(x1.astype(dtype), batch_size * devices)
            x2p = None if x2 is None else _pad_rows(x2.astype(dtype), batch_size)
            out = batched(x1p, x2p, get)
        result = {}
        for name in get:
            matrix = np.asarray(getattr(out, name), dtype=np.float64)
            result[name] = matrix[:n1, :n2]
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
