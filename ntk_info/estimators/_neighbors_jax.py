"""Chunked brute-force k-NN radii and strict-radius counts, jitted (XLA fuses the distance and
the reduction, so no (chunk, n, d) array is formed). float64. Chebyshev distances are exact,
so a point at exactly the radius is excluded exactly; see `count_within` for Euclidean.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from ntk_info._jax import with_float64

__all__ = ["joint_radius", "count_within", "neighbor_distances"]

_CHUNK = 256


def _dist(rows: jax.Array, points: jax.Array, metric: str) -> jax.Array:
    diff = jnp.abs(rows[:, None, :] - points[None, :, :])
    if metric == "euclidean":
        return jnp.sqrt(jnp.sum(diff * diff, axis=-1))
    return jnp.max(diff, axis=-1)


def _row_chunks(n: int) -> jax.Array:
    """(chunks, _CHUNK) row indices covering range(n), the last chunk padded with n - 1."""
    m = -(-n // _CHUNK) * _CHUNK
    return jnp.minimum(jnp.arange(m), n - 1).reshape(-1, _CHUNK)


def _smallest(dist: jax.Array, rows: jax.Array, k: int) -> jax.Array:
    """The k smallest distances to other points, ascending: (chunk, k)."""
    columns = jnp.arange(dist.shape[1])[None, :]
    dist = jnp.where(columns == rows[:, None], jnp.inf, dist)
    out = []
    for _ in range(k):  # k passes of min + mask: much faster than top_k / sort on CPU
        nearest = jnp.argmin(dist, axis=1)
        out.append(jnp.take_along_axis(dist, nearest[:, None], axis=1)[:, 0])
        dist = jnp.where(columns == nearest[:, None], jnp.inf, dist)
    return jnp.stack(out, axis=1)


@functools.partial(jax.jit, static_argnums=(2, 3))
def _joint_radius(x: jax.Array, z: jax.Array, k: int, metric: str) -> jax.Array:
    def chunk(rows):
        dist = jnp.maximum(_dist(x[rows], x, metric), _dist(z[rows], z, metric))
        return _smallest(dist, rows, k)[:, -1]

    return jax.lax.map(chunk, _row_chunks(x.shape[0])).reshape(-1)[: x.shape[0]]


@functools.partial(jax.jit, static_argnums=(2, 3))
def _neighbors(points: jax.Array, dummy: jax.Array, k: int, metric: str) -> jax.Array:
    def chunk(rows):
        return _smallest(_dist(points[rows], points, metric), rows, k)

    out = jax.lax.map(chunk, _row_chunks(points.shape[0]))
    return out.reshape(-1, k)[: points.shape[0]]


@functools.partial(jax.jit, static_argnums=(2,))
def _count(points: jax.Array, radius: jax.Array, metric: str) -> jax.Array:
    def chunk(rows):
        dist = _dist(points[rows], points, metric)
        return jnp.sum(dist < radius[rows][:, None], axis=1) - 1  # minus the point itself

    return jax.lax.map(chunk, _row_chunks(points.shape[0])).reshape(-1)[: points.shape[0]]


@with_float64
def joint_radius(x: np.ndarray, z: np.ndarray, k: int, metric: str) -> np.ndarray:
    """eps_i: k-th neighbour distance under max(d_x, d_z), excluding i: (n,)."""
    return np.asarray(_joint_radius(jnp.asarray(x), jnp.asarray(z), k, metric))


@with_float64
def neighbor_distances(points: np.ndarray, k: int, metric: str) -> np.ndarray:
    """Sorted distances (n, k) to the k nearest other points."""
    return np.asarray(_neighbors(jnp.asarray(points), jnp.zeros(()), k, metric))


@with_float64
def count_within(points: np.ndarray, radius: np.ndarray, metric: str) -> np.ndarray:
    """#{j != i : d(p_i, p_j) < radius_i}: (n,) int64.

    Euclidean radii are lowered by a relative 1e-12, far above the rounding of the sums, so
    that the point defining the radius is excluded whatever order XLA sums in.
    """
    if metric == "euclidean":
        radius = radius * (1.0 - 1e-12)
    return np.asarray(_count(jnp.asarray(points), jnp.asarray(radius), metric)).astype(np.int64)
