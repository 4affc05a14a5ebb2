"""Validation and shared helpers of the Gaussian-mixture engine (`ntk_info.mixture`).

Inputs are checked and converted once here (means, variances or covariances, counts, the code
path, PRNG keys per time slice); `mixture` and its jitted cores trust what comes out.
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

import jax
import numpy as np

from ntk_info._checks import as_float_array, check_count
from ntk_info._jax import on_accelerator

#: Code paths of the score matrices: 'auto' picks 'matmul' on GPU/TPU, 'fused' on CPU.
PATHS = ("auto", "fused", "matmul")
Path = Literal["auto", "fused", "matmul"]

#: Default numbers in one chunk of a score matrix (rows * N * width) per path: ~2 MB
#: (cache-sized) for the fused CPU loop, ~256 MB (few large GEMMs) on an accelerator.
_CHUNK_ELEMENTS = {"fused": 2**18, "matmul": 2**25}


class MIEstimate(NamedTuple):
    """An information value in nats with its Monte Carlo standard error.

    Attributes:
      value: (T,) float64 array with a time axis, a float64 scalar without one.
      se: same shape; standard error over the random draws (0 for deterministic bounds).
    """

    value: Any
    se: Any


# ----------------------------------------------------------------------------------------------
# Validation at the boundary.
# ----------------------------------------------------------------------------------------------


class Mixture(NamedTuple):
    means: np.ndarray  # (T, N, k)
    variances: np.ndarray  # (T, N) or (T, N, k, k)
    full: bool
    batched: bool


def as_mixture(means: Any, variances: Any) -> Mixture:
    means = as_float_array("means", means, ndim=(2, 3))
    batched = means.ndim == 3
    n, k = means.shape[-2:]
    variances = as_float_array("variances", variances)
    if variances.ndim == means.ndim - 1:
        full = False
        expected = means.shape[:-1]
    elif variances.ndim == means.ndim + 1:
        full = True
        expected = (*means.shape[:-1], k, k)
    else:
        raise ValueError(
            f"`variances` of shape {variances.shape} does not fit `means` of shape "
            f"{means.shape}: pass shared variances of shape {means.shape[:-1]} or full "
            f"covariances of shape {(*means.shape[:-1], k, k)}."
        )
    if variances.shape != expected:
        raise ValueError(
            f"`variances` must have shape {expected} to match `means` {means.shape}, "
            f"got {variances.shape}."
        )
    if n < 2:
        raise ValueError(
            f"`means` has N = {n} component(s); mutual information with X uniform over the "
            "components needs N >= 2 (with N = 1, I(X;Z) = 0)."
        )
    if k < 1:
        raise ValueError("`means` has k = 0 outputs; pass at least one output column.")
    if full:
        _check_covariances(variances)
    elif np.any(variances < 0):
        raise ValueError(
            f"`variances` must be >= 0, got min {variances.min()}; variances of a Gaussian "
            "are non-negative (clamp round-off with np.maximum(variances, 0))."
        )
    if not batched:
        means, variances = means[None], variances[None]
    return Mixture(means, variances, full, batched)


def _check_covariances(cov: np.ndarray) -> None:
    scale = np.max(np.abs(cov)) if cov.size else 0.0
    tol = 1e-8 * max(scale, np.finfo(np.float64).tiny)
    if np.max(np.abs(cov - np.swapaxes(cov, -1, -2))) > tol:
        raise ValueError(
            "`variances` (full covariances) must be symmetric; symmetrise with "
            "0.5 * (c + np.swapaxes(c, -1, -2))."
        )
    lowest = np.linalg.eigvalsh(0.5 * (cov + np.swapaxes(cov, -1, -2))).min()
    if lowest < -tol:
        raise ValueError(
            f"`variances` (full covariances) must be positive semi-definite, got an "
            f"eigenvalue {lowest:.3g}; fix the covariance or clip its eigenvalues at 0."
        )


def chunk_rows(chunk_size: int | None, n: int, width: int, rows: int, path: str) -> int:
    if chunk_size is None:
        return int(max(1, min(rows, _CHUNK_ELEMENTS[path] // (n * width))))
    return min(check_count("chunk_size", chunk_size, 1, "rows of the score matrix"), rows)


def resolve_path(path: Any) -> str:
    """'fused' or 'matmul' from the user's `path` ('auto': 'matmul' on a GPU/TPU, else 'fused')."""
    if not isinstance(path, str) or path not in PATHS:
        raise ValueError(
            f"`path` must be one of {', '.join(map(repr, PATHS))} ('auto' picks 'matmul' on "
            f"GPU/TPU and 'fused' on CPU); got {path!r}."
        )
    if path != "auto":
        return path
    return "matmul" if on_accelerator() else "fused"


def _base_key(key: Any, seed: int | None) -> jax.Array:
    """The user's `key`, or PRNGKey(seed) (seed 0 by default); exactly one of them."""
    if key is not None and seed is not None:
        raise ValueError("Pass either `key` or `seed`, not both.")
    if key is None:
        seed = 0 if seed is None else check_count("seed", seed, 0, "a PRNG seed")
        return jax.random.PRNGKey(seed)
    if not isinstance(key, jax.Array):
        raise TypeError(
            f"`key` must be a jax.random key (jax.random.PRNGKey(0)), got {type(key).__name__}."
        )
    return key


def _as_key_times(times: Any, n_times: int, batched: bool) -> np.ndarray:
    """`times` as (T,) float64 matching the time axis (one time without one); NaN rejected."""
    array = np.atleast_1d(np.asarray(times, dtype=np.float64))
    if array.shape != (n_times,):
        where = f"the time axis of `means` (T = {n_times})" if batched else "one time"
        raise ValueError(
            f"`times` must have shape ({n_times},) to match {where}, got {np.shape(times)}."
        )
    if np.any(np.isnan(array)):
        raise ValueError("`times` contains NaN; pass the training times of the slices.")
    return array


def time_keys(seed_or_key: int | jax.Array, times: Any) -> jax.Array:
    """One PRNG key per time, a function of (seed or key, t) alone, not of t's place in a grid.

        key_t = fold_in(fold_in(key, hi(t)), lo(t)),

    with (hi, lo) the two 32-bit halves of the IEEE-754 float64 bit pattern of t
    (`np.float64(t).view(np.uint64)`; -0.0 counts as 0.0, inf is allowed) and key =
    PRNGKey(seed) for an int seed. Equal times get equal keys in any grid, in any order.

    Args:
      seed_or_key: an int seed >= 0 or a `jax.random` key (raw uint32 or typed).
      times: scalar or (T,) floats (training times; NaN is rejected).

    Returns:
      (T,) keys: a typed key array for a typed key, else a (T, 2) uint32 array.
    """
    if isinstance(seed_or_key, jax.Array):
        key = _base_key(seed_or_key, None)
    else:
        key = _base_key(None, seed_or_key)
    times = np.atleast_1d(np.asarray(times, dtype=np.float64))
    if times.ndim != 1 or np.any(np.isnan(times)):
        raise ValueError(f"`times` must be a scalar or 1-D array without NaN, got {times!r}.")
    bits = (times + 0.0).view(np.uint64)  # + 0.0 maps -0.0 to 0.0
    high = (bits >> np.uint64(32)).astype(np.uint32)
    low = (bits & np.uint64(0xFFFFFFFF)).astype(np.uint32)

    def fold(h, lo):
        return jax.random.fold_in(jax.random.fold_in(key, h), lo)

    return jax.vmap(fold)(high, low)


def sample_keys(
    key: Any, seed: int | None, n_times: int, batched: bool, times: Any = None
) -> jax.Array:
    """One PRNG key per time slice, (T,) keys.

    Without `times`: `key` itself without a time axis, split(key, T) with one. With `times`:
    `time_keys(key, times)`.
    """
    key = _base_key(key, seed)
    if times is not None:
        return time_keys(key, _as_key_times(times, n_times, batched))
    if batched:
        return jax.random.split(key, n_times)
    return key[None] if jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key) else key[None, :]


def finish(value: np.ndarray, se: np.ndarray, batched: bool) -> MIEstimate:
    value = np.asarray(value, dtype=np.float64)
    se = np.asarray(se, dtype=np.float64)
    if batched:
        return MIEstimate(value, se)
    return MIEstimate(value[0], se[0])


def mean_and_se(per_draw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    per_draw = np.asarray(per_draw, dtype=np.float64)
    n = per_draw.shape[-1]
    return per_draw.mean(axis=-1), per_draw.std(axis=-1, ddof=1) / np.sqrt(n)
