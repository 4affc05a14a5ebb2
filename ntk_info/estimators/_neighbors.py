"""k-nearest-neighbour distances and strict-radius counts: KD-trees or chunked brute force.

Metrics per block: 'chebyshev' (max |a - b|) or 'euclidean'. KD-trees (`scipy.spatial.cKDTree`,
O(n log n)) are used in low dimension, where they pay; otherwise a
brute-force scan in row chunks (O(n^2 d) time, O(chunk n) memory) accumulates the distances one
coordinate at a time. Both compute every distance with the same floating-point operations
(Chebyshev distances are exact), so a radius defined by one point's distance excludes that
point exactly, as Kraskov et al.'s strict inequality requires; Euclidean counts on a tree use
radius (1 - 1e-12), far above the rounding of the tree's squared sums.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

__all__ = ["distances_to", "neighbor_distances", "joint_radius", "count_within", "use_tree"]

#: Largest dimension for which a KD-tree is used by default (above it brute force is as fast:
#: trees degrade to scanning; see benchmarks/bench_estimators.py).
TREE_MAX_DIM = 8

#: Entries of one (chunk, n) distance block (~32 MB of float64).
_BLOCK = 2**22


def use_tree(dim: int, metric: str, path: str) -> bool:
    """Whether to use a KD-tree: path 'tree' / 'brute' / 'auto' (dim <= TREE_MAX_DIM)."""
    return dim <= TREE_MAX_DIM if path == "auto" else path == "tree"


def distances_to(rows: np.ndarray, points: np.ndarray, metric: str) -> np.ndarray:
    """(r, n) distances from each of `rows` (r, d) to each of `points` (n, d)."""
    out = np.abs(rows[:, None, 0] - points[None, :, 0])
    if metric == "euclidean":
        out *= out
    for j in range(1, rows.shape[1]):
        diff = np.abs(rows[:, None, j] - points[None, :, j])
        if metric == "euclidean":
            out += diff * diff
        else:
            np.maximum(out, diff, out=out)
    return np.sqrt(out) if metric == "euclidean" else out


def _chunks(n: int, width: int):
    step = max(1, _BLOCK // max(n * width, 1))
    for start in range(0, n, step):
        yield slice(start, min(start + step, n))


def neighbor_distances(points: np.ndarray, k: int, metric: str, path: str = "auto") -> np.ndarray:
    """Sorted distances (n, k) from each point to its k nearest *other* points."""
    n, d = points.shape
    if use_tree(d, metric, path):
        p = np.inf if metric == "chebyshev" else 2
        return cKDTree(points).query(points, k + 1, p=p)[0][:, 1:]
    out = np.empty((n, k))
    for rows in _chunks(n, 1):
        dist = distances_to(points[rows], points, metric)
        dist[np.arange(dist.shape[0]), np.arange(n)[rows]] = np.inf
        out[rows] = np.sort(np.partition(dist, k - 1, axis=1)[:, :k], axis=1)
    return out


def joint_radius(x: np.ndarray, z: np.ndarray, k: int, metric: str, path: str) -> np.ndarray:
    """eps_i: distance to the k-th neighbour in the joint space, max(d_x, d_z); (n,)."""
    joint = np.hstack([x, z])
    if metric == "chebyshev":  # max of two max-norms is the joint max-norm
        return neighbor_distances(joint, k, metric, path)[:, -1]
    n = x.shape[0]
    out = np.empty(n)
    for rows in _chunks(n, 2):
        dist = np.maximum(distances_to(x[rows], x, metric), distances_to(z[rows], z, metric))
        dist[np.arange(dist.shape[0]), np.arange(n)[rows]] = np.inf
        out[rows] = np.partition(dist, k - 1, axis=1)[:, k - 1]
    return out


def count_within(points: np.ndarray, radius: np.ndarray, metric: str, path: str) -> np.ndarray:
    """#{j != i : d(p_i, p_j) < radius_i} for every i; (n,) int64 (strict inequality)."""
    n, d = points.shape
    if use_tree(d, metric, path):
        p = np.inf if metric == "chebyshev" else 2
        if metric == "chebyshev":  # exact distances: d <= nextafter(r, 0)  <=>  d < r
            below = np.nextafter(radius, 0.0)
        else:  # the tree compares squared sums: a relative margin far above their rounding
            below = radius * (1.0 - 1e-12)
        counts = cKDTree(points).query_ball_point(points, below, p=p, return_length=True)
        return np.asarray(counts, dtype=np.int64) - 1  # the point itself
    out = np.empty(n, dtype=np.int64)
    for rows in _chunks(n, 1):
        dist = distances_to(points[rows], points, metric)
        out[rows] = np.count_nonzero(dist < radius[rows, None], axis=1) - 1
    return out
