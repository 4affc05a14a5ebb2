"""k-nearest-neighbour distances and strict-radius counts: KD-trees or jitted brute force.

Metrics per block: 'chebyshev' (max |a - b|) or 'euclidean'. KD-trees (`scipy.spatial.cKDTree`,
O(n log n)) are used in low dimension, where they pay; otherwise a jitted brute-force scan in
row chunks (`_neighbors_jax`, O(n^2 d) time, O(chunk n) memory). Chebyshev distances are exact
in both, so a radius defined by one point's distance excludes that point exactly, as Kraskov
et al.'s strict inequality requires; Euclidean counts use radius (1 - 1e-12), far above the
rounding of the sums.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from ntk_info.estimators import _neighbors_jax

__all__ = [
    "neighbor_distances",
    "joint_radius",
    "count_within",
    "use_tree",
    "TREE_MAX_DIM",
    "TREE_MAX_DIM_QUERY",
]

#: Largest dimension for which a KD-tree counts the points within a radius by default (above
#: it the jitted scan is faster: the balls hold many points; see benchmarks/bench_estimators.py).
TREE_MAX_DIM = 8
#: Largest dimension for which a KD-tree finds the k nearest neighbours by default: on 1e3-1e4
#: Gaussian points the tree beats the scan up to about 32-64 dimensions (10 000 points in 20
#: dimensions: 1.8 s vs 3.7 s; 1 000 in 64: even).
TREE_MAX_DIM_QUERY = 32


def use_tree(dim: int, path: str, *, query: bool = False) -> bool:
    """Whether to use a KD-tree: path 'tree' / 'brute' / 'auto' (dim <= TREE_MAX_DIM, or
    TREE_MAX_DIM_QUERY for nearest-neighbour queries)."""
    if path != "auto":
        return path == "tree"
    return dim <= (TREE_MAX_DIM_QUERY if query else TREE_MAX_DIM)


def _p(metric: str) -> float:
    return np.inf if metric == "chebyshev" else 2.0


def neighbor_distances(points: np.ndarray, k: int, metric: str, path: str = "auto") -> np.ndarray:
    """Sorted distances (n, k) from each point to its k nearest *other* points."""
    if use_tree(points.shape[1], path, query=True):
        return cKDTree(points).query(points, k + 1, p=_p(metric))[0][:, 1:]
    return _neighbors_jax.neighbor_distances(points, k, metric)


def joint_radius(x: np.ndarray, z: np.ndarray, k: int, metric: str, path: str) -> np.ndarray:
    """eps_i: distance to the k-th neighbour in the joint space, max(d_x, d_z); (n,).

    Chebyshev: the max of two max-norms is the joint max-norm (a tree query in low
    dimension); Euclidean within blocks: always the jitted scan.
    """
    if metric == "chebyshev" and use_tree(x.shape[1] + z.shape[1], path, query=True):
        return neighbor_distances(np.hstack([x, z]), k, metric, "tree")[:, -1]
    return _neighbors_jax.joint_radius(x, z, k, metric)


def count_within(points: np.ndarray, radius: np.ndarray, metric: str, path: str) -> np.ndarray:
    """#{j != i : d(p_i, p_j) < radius_i} for every i; (n,) int64 (strict inequality)."""
    if not use_tree(points.shape[1], path):
        return _neighbors_jax.count_within(points, radius, metric)
    if metric == "chebyshev":  # exact distances: d <= nextafter(r, 0)  <=>  d < r
        below = np.nextafter(radius, 0.0)
    else:  # the tree compares squared sums: a relative margin far above their rounding
        below = radius * (1.0 - 1e-12)
    tree = cKDTree(points)
    counts = tree.query_ball_point(points, below, p=_p(metric), return_length=True)
    return np.asarray(counts, dtype=np.int64) - 1  # the point itself
