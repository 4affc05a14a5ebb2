"""k-nearest-neighbour estimators: KSG mutual information, Kozachenko-Leonenko and weighted KL
entropies and the mutual informations built from them.

    KSG (Kraskov, Stoegbauer & Grassberger, PRE 69:066138, 2004, algorithm 1):
        I = psi(k) + psi(n) - < psi(n_x + 1) + psi(n_z + 1) >,
        eps_i = distance to the k-th neighbour in the joint space, max(d_x, d_z);
        n_x, n_z = numbers of other points strictly within eps_i in each marginal.
    Kozachenko-Leonenko: h = psi(n) - psi(k) + log V_d + (d/n) sum_i log rho_{k,i},
        rho = Euclidean k-NN distance, V_d = pi^{d/2} / Gamma(d/2 + 1).
    Weighted KL (Berrett, Samworth & Yuan, Ann. Stat. 47:288, 2019): h_w = sum_j w_j h_j
        (h_j the KL estimate with the j-th neighbour), sum_j w_j = 1 and
        sum_j w_j Gamma(j + 2l/d) / Gamma(j) = 0 for l = 1..floor(d/4) (minimum-norm solution).
    MI from entropies: I = h(X) + h(Z) - h(X, Z); with integer labels y,
        I(Z;Y) = h(Z) - sum_y p(y) h(Z | Y = y).

Distances come from KD-trees in low dimension and a chunked brute-force scan above it
(`_neighbors`); `path` forces one ('tree' / 'brute').
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import numpy as np
from scipy.special import digamma, gammaln

from ntk_info._checks import check_count, check_option
from ntk_info.estimators import _neighbors
from ntk_info.estimators._validate import (
    as_labels,
    as_samples,
    is_labels,
    samples,
    standardize_columns,
)

__all__ = [
    "ksg",
    "kozachenko_leonenko",
    "weighted_kl",
    "kozachenko_leonenko_entropy",
    "weighted_kl_entropy",
    "wkl_weights",
    "default_wkl_k",
    "whitened_entropy",
    "WKL_MAX_WEIGHT_NORM",
]

Metric = Literal["chebyshev", "euclidean"]
NeighborPath = Literal["auto", "tree", "brute"]


def _no_duplicates(distance: np.ndarray, what: str) -> None:
    if np.any(distance <= 0):
        raise ValueError(
            f"{what} has repeated points (a k-NN distance is 0): k-NN estimators need "
            "continuous data; add a tiny jitter, raise k, or use `binning` / `quantized_exact`."
        )


def ksg(
    x: Any,
    z: Any,
    *,
    k: int = 5,
    standardize: bool = True,
    metric: Metric = "chebyshev",
    path: NeighborPath = "auto",
) -> float:
    """Kraskov-Stoegbauer-Grassberger (algorithm 1) estimate of I(X;Z), nats.

    I = psi(k) + psi(n) - (1/n) sum_i [psi(n_x,i + 1) + psi(n_z,i + 1)], where eps_i is the
    distance from (x_i, z_i) to its k-th nearest neighbour under max(d_x, d_z) and n_x,i
    (n_z,i) counts the j != i with d_x(x_i, x_j) < eps_i (d_z(z_i, z_j) < eps_i).

    Args:
      x: (n, d_x) samples (or (n,)).
      z: (n, d_z) samples, row i paired with row i of x.
      k: neighbours, 1 <= k < n (default 5, as bmi's KSG).
      standardize: scale every column to unit variance first (bmi's default).
      metric: 'chebyshev' (max-norm within X and within Z, the paper's) or 'euclidean'
        (Euclidean within X and within Z, as benchmark-mi); the joint distance is always the
        max of the two.
      path: 'auto' (KD-trees for the k-NN radius up to 32 joint dimensions and for the
        counts up to 8, else a jitted chunked brute-force scan), 'tree' or 'brute'; the same
        numbers either way (the Euclidean joint radius always uses the scan).

    Returns:
      float, nats (can be slightly negative for independent variables).

    Reference: Kraskov et al., "Estimating mutual information", PRE 69:066138 (2004), eq. (8).
    """
    k = check_count("k", k, 1, "neighbours")
    check_option("metric", metric, Metric)
    check_option("path", path, NeighborPath)
    x, z = samples(x, z, min_samples=k + 1, why=f"k = {k} neighbours need n > k")
    if standardize:
        x, z = standardize_columns(x), standardize_columns(z)
    eps = _neighbors.joint_radius(x, z, k, metric, path)
    _no_duplicates(eps, "(x, z)")
    n_x = _neighbors.count_within(x, eps, metric, path)
    n_z = _neighbors.count_within(z, eps, metric, path)
    n = x.shape[0]
    return float(digamma(k) + digamma(n) - np.mean(digamma(n_x + 1) + digamma(n_z + 1)))


def _log_unit_ball(d: int) -> float:
    return 0.5 * d * np.log(np.pi) - gammaln(0.5 * d + 1)


def wkl_weights(d: int, k: int) -> np.ndarray:
    """Berrett-Samworth-Yuan weights (k,): sum w = 1, sum_j w_j G(j + 2l/d)/G(j) = 0, l <= d/4.

    The minimum-L2-norm solution (their eq. (2) constraints); for d <= 3 there is no
    constraint beyond the sum and the weights are e_k (the plain KL estimator). The weights
    grow fast with d at fixed k (|w| ~ 5 at d = 10, k = 20; ~1e4 at d = 20): the estimator is
    meant for a few dimensions (Butakov et al. compress to 4 first).
    """
    if d < 4:
        return np.eye(k)[-1]
    j = np.arange(1, k + 1)
    rows = [np.ones(k)] + [
        np.exp(gammaln(j + 2 * l / d) - gammaln(j)) for l in range(1, d // 4 + 1)
    ]
    target = np.zeros(len(rows))
    target[0] = 1.0
    return np.linalg.lstsq(np.array(rows), target, rcond=None)[0]


#: Largest L1 norm of the weighted-KL weights accepted: the estimator's variance grows with
#: sum_j |w_j|^2 and the norm explodes with d at fixed k (k = 20: 2.5 at d = 4, 22 at d = 10,
#: 167 at d = 12, 2.7e3 at d = 16), so past this limit the estimate is noise.
WKL_MAX_WEIGHT_NORM = 100.0


def _usable_wkl_weights(d: int, k: int) -> np.ndarray:
    """`wkl_weights(d, k)`, refused when their L1 norm passes WKL_MAX_WEIGHT_NORM."""
    weights = wkl_weights(d, k)
    norm = float(np.abs(weights).sum())
    if norm > WKL_MAX_WEIGHT_NORM:
        raise ValueError(
            f"weighted KL in d = {d} dimensions with k = {k} needs weights of L1 norm {norm:.3g} "
            f"(> {WKL_MAX_WEIGHT_NORM:g}): its variance would swamp the estimate. Compress to "
            "a few dimensions first (`estimators.compressed(..., estimator='wkl')`), raise k, "
            "or use `kozachenko_leonenko`."
        )
    return weights


def _weighted_entropy(points: np.ndarray, weights: np.ndarray, path: str) -> float:
    """sum_j w_j h_j over the orders with w_j != 0, h_j = psi(n) - psi(j) + log V_d + d <log rho_j>.

    Only the orders in use must have positive distances (KL with k = 5 accepts pairs of
    repeated points; the 5th-neighbour distance is still positive).
    """
    n, d = points.shape
    rho = _neighbors.neighbor_distances(points, weights.size, "euclidean", path)
    used = np.flatnonzero(weights)
    _no_duplicates(rho[:, used], "the sample")
    j = used + 1
    orders = digamma(n) - digamma(j) + _log_unit_ball(d) + d * np.mean(np.log(rho[:, used]), axis=0)
    return float(weights[used] @ orders)


def kozachenko_leonenko_entropy(x: Any, *, k: int = 5, path: NeighborPath = "auto") -> float:
    """Kozachenko-Leonenko differential entropy estimate h(X), nats.

    h = psi(n) - psi(k) + log V_d + (d/n) sum_i log rho_{k,i}, Euclidean distances.

    Args:
      x: (n, d) samples, n > k.
      k: neighbour order.
      path: 'auto', 'tree' or 'brute' (neighbour search).

    Returns:
      float, nats.

    Reference: Kozachenko & Leonenko, Probl. Inf. Transm. 23:95 (1987); Kraskov et al. 2004,
    eq. (20).
    """
    k = check_count("k", k, 1, "neighbours")
    x = as_samples("x", x)
    _check_n(x, k)
    return _weighted_entropy(x, np.eye(k)[-1], path)


def weighted_kl_entropy(x: Any, *, k: int | None = None, path: NeighborPath = "auto") -> float:
    """Weighted Kozachenko-Leonenko entropy estimate (Berrett, Samworth & Yuan 2019), nats.

    h_w = sum_{j=1..k} w_j h_j with `wkl_weights(d, k)`; the weights cancel the leading
    bias terms of the KL estimator in d >= 4.

    Args:
      x: (n, d) samples.
      k: neighbours (default `default_wkl_k(d)`: 5 for d < 4, else 20).
      path: 'auto', 'tree' or 'brute'.

    Returns:
      float, nats.

    Reference: Berrett, Samworth & Yuan, "Efficient multivariate entropy estimation via
    k-nearest neighbour distances", Ann. Statist. 47(1):288-318 (2019), eq. (3).
    """
    x = as_samples("x", x)
    d = x.shape[1]
    k = default_wkl_k(d) if k is None else check_count("k", k, 1, "neighbours")
    _check_n(x, k)
    return _weighted_entropy(x, _usable_wkl_weights(d, k), path)


def default_wkl_k(d: int) -> int:
    """Default neighbours of the weighted estimator: 5 for d < 4 (plain KL), else 20."""
    return 5 if d < 4 else 20


def _check_n(x: np.ndarray, k: int) -> None:
    if x.shape[0] <= k:
        raise ValueError(f"need more samples than k = {k} neighbours, got n = {x.shape[0]}.")


def _whiten(points: np.ndarray) -> tuple[np.ndarray, float]:
    """(L^-1 (points - mean), log|det L|), L the Cholesky factor of the sample covariance."""
    centred = points - points.mean(axis=0)
    try:
        chol = np.linalg.cholesky(centred.T @ centred / (len(points) - 1))
    except np.linalg.LinAlgError:
        raise ValueError(
            "the sample covariance is singular (collinear or constant columns, or fewer "
            "samples than dimensions): whitening needs full-rank samples; drop the redundant "
            "columns or pass whiten=False."
        ) from None
    return np.linalg.solve(chol, centred.T).T, float(np.sum(np.log(np.diag(chol))))


def whitened_entropy(entropy: Callable[[np.ndarray], float]) -> Callable[[np.ndarray], float]:
    """The entropy estimator applied after whitening: h(X) = h(L^-1 (X - mean)) + log|det L|.

    L is the Cholesky factor of the sample covariance (C = L L^T), so W = L^-1 makes the
    sample covariance the identity and h(X) = h(WX) - log|det W| holds exactly; k-NN
    estimators are least biased on such isotropic samples (Butakov et al.'s preprocessing).
    """

    def whitened(points: np.ndarray) -> float:
        white, log_det = _whiten(points)
        return entropy(white) + log_det

    return whitened


def _mi_from_entropies(
    x: Any, z: Any, entropy, standardize: bool, min_samples: int, whiten: bool = False
) -> float:
    if is_labels(x):
        z = as_samples("z", z)
        y = as_labels("x", x, z.shape[0])
        if whiten:  # one W for h(Z) and every h(Z|Y=y): log|det W| cancels, small classes too
            z = _whiten(z)[0]
        elif standardize:
            z = standardize_columns(z)
        counts = np.bincount(y)
        if counts.min() < min_samples:
            raise ValueError(
                f"every class needs at least {min_samples} samples for the conditional "
                f"entropies, the smallest has {counts.min()}."
            )
        conditional = sum(c / y.size * entropy(z[y == label]) for label, c in enumerate(counts))
        return float(entropy(z) - conditional)
    if whiten:
        entropy = whitened_entropy(entropy)
    x, z = samples(x, z, min_samples=min_samples, why="more samples than neighbours")
    if standardize:
        x, z = standardize_columns(x), standardize_columns(z)
    return float(entropy(x) + entropy(z) - entropy(np.hstack([x, z])))


def kozachenko_leonenko(
    x: Any,
    z: Any,
    *,
    k: int = 5,
    standardize: bool = True,
    whiten: bool = True,
    path: NeighborPath = "auto",
) -> float:
    """I(X;Z) = h(X) + h(Z) - h(X,Z) from Kozachenko-Leonenko entropies, nats.

    Args:
      x: (n, d_x) samples, or (n,) integer labels (then h(Z) - sum_y p(y) h(Z|Y=y)).
      z: (n, d_z) samples.
      k: neighbour order (each entropy).
      standardize: unit-variance columns first (a per-column scaling cancels in the MI).
      whiten: estimate each entropy on whitened samples (`whitened_entropy`), as Butakov
        et al.; exact in the MI, and it removes most of the bias correlated blocks cause.
        With labels, z is whitened once by its pooled covariance (exact as well).
      path: 'auto', 'tree' or 'brute'.

    Returns:
      float, nats.

    Reference: Kraskov et al. 2004, sec. II; Butakov et al., ICLR 2024 (their 'KL' estimator).
    """
    k = check_count("k", k, 1, "neighbours")
    check_option("path", path, NeighborPath)

    def entropy(points: np.ndarray) -> float:
        return _weighted_entropy(points, np.eye(k)[-1], path)

    return _mi_from_entropies(x, z, entropy, standardize, k + 1, whiten)


def weighted_kl(
    x: Any,
    z: Any,
    *,
    k: int | None = None,
    standardize: bool = True,
    whiten: bool = True,
    path: NeighborPath = "auto",
) -> float:
    """I(X;Z) = h(X) + h(Z) - h(X,Z) from weighted KL entropies (`weighted_kl_entropy`), nats.

    Args:
      x: (n, d_x) samples, or (n,) integer labels (then h(Z) - sum_y p(y) h(Z|Y=y)).
      z: (n, d_z) samples.
      k: neighbours per entropy (default `default_wkl_k(d)` for each block's d).
      standardize: unit-variance columns first.
      whiten: estimate each entropy on whitened samples (`whitened_entropy`), as Butakov et al.
      path: 'auto', 'tree' or 'brute'.

    Returns:
      float, nats.

    Reference: Berrett, Samworth & Yuan 2019; Butakov et al., ICLR 2024 (their 'WKL').
    """
    check_option("path", path, NeighborPath)
    if k is not None:
        check_count("k", k, 1, "neighbours")

    def entropy(points: np.ndarray) -> float:
        d = points.shape[1]
        order = default_wkl_k(d) if k is None else k
        _check_n(points, order)
        return _weighted_entropy(points, _usable_wkl_weights(d, order), path)

    return _mi_from_entropies(x, z, entropy, standardize, (k or 5) + 1, whiten)
