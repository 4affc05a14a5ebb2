"""The result of an IB / dualIB solve, and the quantities evaluated at any encoder.

All functions here are vectorised over a leading batch of betas: encoders are (B, T, X).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import log_softmax, logsumexp, rel_entr, xlogy

from ntk_info.discrete import entropy, mutual_information

__all__ = [
    "IBResult",
    "cluster_posterior",
    "markov_decoder",
    "dual_decoder",
    "dual_log_partition",
    "information_x_t",
    "information_t_y",
    "expected_dual_distortion",
    "count_clusters",
    "CLUSTER_TOL",
    "PT_TOL",
]

CLUSTER_TOL = 1e-3
PT_TOL = 1e-9


@dataclass(frozen=True, eq=False)
class IBResult:
    """Solutions of the IB or dualIB along a beta grid, one entry per beta in the order given.

    Attributes:
      method: 'ib' or 'dualib'.
      anneal: 'reverse' or 'forward'.
      beta: (B,) trade-off parameters.
      ixt: (B,) I(X;T) in nats.
      ity: (B,) I(T;Y) in nats with the Markov decoder sum_x p(y|x) p(x|t) (both methods).
      ity_dual: (B,) H(Y) - sum_t p(t) H(p_dual(y|t)) with the geometric dual decoder
        (dualIB only; NaN for the IB). Not a mutual information: the dual decoder is not a
        conditional of the joint p(t, y).
      n_clusters: (B,) number of distinct decoders among clusters with p(t) > PT_TOL.
      iterations: (B,) sweeps used at each beta.
      converged: (B,) whether the mean JS change fell below tol before max_iter.
      encoder: (B, T, X) p(t|x).
      decoder: (B, T, Y) p(y|t), the method's own decoder (Markov for the IB, geometric for
        the dualIB).
      pt: (B, T) p(t).
      lagrangian_ib: (B,) F_IB = I(X;T) - beta I(T;Y) at the solution.
      lagrangian_dualib: (B,) F_dual = I(X;T) + beta E[d_dual] at the solution (with the
        geometric decoder, the decoder minimising it).
      hx, hy, ixy: H(X), H(Y), I(X;Y) of the joint, in nats.
      pxy: (X, Y) the validated joint the solution refers to.
      kept_rows: indices of the user's rows of pxy that were kept (rows with p(x) = 0 dropped).
      tol: the convergence tolerance used.
      dual_statistics: (B, T, d) A^beta(t) for the exponential-family solver, else None.
    """

    method: str
    anneal: str
    beta: np.ndarray
    ixt: np.ndarray
    ity: np.ndarray
    ity_dual: np.ndarray
    n_clusters: np.ndarray
    iterations: np.ndarray
    converged: np.ndarray
    encoder: np.ndarray
    decoder: np.ndarray
    pt: np.ndarray
    lagrangian_ib: np.ndarray
    lagrangian_dualib: np.ndarray
    hx: float
    hy: float
    ixy: float
    pxy: np.ndarray
    kept_rows: np.ndarray
    tol: float
    dual_statistics: np.ndarray | None = field(default=None)

    def __len__(self) -> int:
        return int(self.beta.shape[0])

    def to_frame(self) -> pd.DataFrame:
        """A tidy table, one row per beta: beta, informations (also normalised), counts, flags.

        Columns: method, anneal, beta, ixt, ity, ity_dual, ixt_normalized (I(X;T)/H(X)),
        ity_normalized (I(T;Y)/I(X;Y)), n_clusters, iterations, converged, lagrangian_ib,
        lagrangian_dualib.
        """
        return pd.DataFrame(
            {
                "method": self.method,
                "anneal": self.anneal,
                "beta": self.beta,
                "ixt": self.ixt,
                "ity": self.ity,
                "ity_dual": self.ity_dual,
                "ixt_normalized": self.ixt / self.hx,
                "ity_normalized": self.ity / self.ixy if self.ixy > 0 else np.nan,
                "n_clusters": self.n_clusters,
                "iterations": self.iterations,
                "converged": self.converged,
                "lagrangian_ib": self.lagrangian_ib,
                "lagrangian_dualib": self.lagrangian_dualib,
            }
        )


def cluster_posterior(encoder: np.ndarray, px: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """p(t) = sum_x p(x) p(t|x) and p(x|t) = p(t|x) p(x) / p(t) (p(x) for a dead cluster).

    Args:
      encoder: (..., T, X) p(t|x).
      px: (X,) p(x).

    Returns:
      pt (..., T) and px_t (..., T, X).
    """
    joint = encoder * px
    pt = joint.sum(axis=-1)
    alive = pt > 0
    px_t = np.divide(joint, np.where(alive, pt, 1.0)[..., None], out=joint)
    if not np.all(alive):
        px_t[~alive] = px
    return pt, px_t


def markov_decoder(px_t: np.ndarray, py_x: np.ndarray) -> np.ndarray:
    """IB decoder p(y|t) = sum_x p(x|t) p(y|x) (the arithmetic mean; Markov chain T-X-Y).

    Args:
      px_t: (..., T, X).
      py_x: (X, Y).

    Returns:
      (..., T, Y).
    """
    return px_t @ py_x


def dual_log_partition(px_t: np.ndarray, py_x: np.ndarray) -> np.ndarray:
    """log Z_y(t) = log sum_y prod_x p(y|x)^{p(x|t)} (<= 0 by the AM-GM inequality).

    Args:
      px_t: (..., T, X).
      py_x: (X, Y), > 0.

    Returns:
      (..., T).

    Reference: spec dualib.md §2 (self-consistent equations of the dualIB).
    """
    with np.errstate(divide="ignore"):
        return logsumexp(px_t @ np.log(py_x), axis=-1)


def dual_decoder(px_t: np.ndarray, py_x: np.ndarray) -> np.ndarray:
    """dualIB decoder p(y|t) = prod_x p(y|x)^{p(x|t)} / Z_y(t) (normalised geometric mean).

    Args:
      px_t: (..., T, X).
      py_x: (X, Y), > 0.

    Returns:
      (..., T, Y).

    Reference: Piran, Shwartz-Ziv & Tishby, arXiv:2006.04641, dualIB self-consistent equations.
    """
    with np.errstate(divide="ignore"):
        return np.exp(log_softmax(px_t @ np.log(py_x), axis=-1))


def information_x_t(encoder: np.ndarray, px: np.ndarray) -> np.ndarray:
    """I(X;T) = sum_{t,x} p(x) p(t|x) log[p(t|x) / p(t)] in nats.

    Args:
      encoder: (..., T, X) p(t|x).
      px: (X,).

    Returns:
      (...,).
    """
    pt = (encoder * px).sum(axis=-1)
    return np.sum(px * np.sum(rel_entr(encoder, pt[..., :, None]), axis=-2), axis=-1)


def information_t_y(pt: np.ndarray, decoder: np.ndarray) -> np.ndarray:
    """I(T;Y) = sum_t p(t) D[p(y|t) || p(y)], p(y) = sum_t p(t) p(y|t), in nats.

    With the Markov decoder this is the mutual information of the joint p(t, y).

    Args:
      pt: (..., T).
      decoder: (..., T, Y).

    Returns:
      (...,).
    """
    py = np.einsum("...t,...ty->...y", pt, decoder)
    kl = np.sum(rel_entr(decoder, py[..., None, :]), axis=-1)
    return np.sum(np.where(pt > 0, pt * kl, 0.0), axis=-1)


def expected_dual_distortion(
    pt: np.ndarray, px_t: np.ndarray, decoder: np.ndarray, py_x: np.ndarray
) -> np.ndarray:
    """E_{p(x,t)} d_dual = sum_t p(t) sum_x p(x|t) D[p(y|t) || p(y|x)].

    Args:
      pt: (..., T); px_t: (..., T, X); decoder: (..., T, Y); py_x: (X, Y) > 0.

    Returns:
      (...,).
    """
    with np.errstate(divide="ignore"):
        log_py_x = np.log(py_x)
    neg_entropy = np.sum(xlogy(decoder, decoder), axis=-1)
    if np.all(np.isfinite(log_py_x)):
        # sum_x p(x|t) [negH(t) - cross(t, x)], with sum_x p(x|t) = 1 (p(x) for dead clusters)
        # and cross(t, x) = sum_y p(y|t) log p(y|x) finite: no (..., T, X) temporary.
        cross_mean = np.einsum("...ty,...ty->...t", decoder, px_t @ log_py_x)
        per_cluster = neg_entropy * px_t.sum(axis=-1) - cross_mean
        return np.sum(pt * per_cluster, axis=-1)
    cross = decoder @ log_py_x.T  # (..., T, X): sum_y p(y|t) log p(y|x)
    distortion = neg_entropy[..., None] - cross
    per_cluster = np.sum(np.where(px_t > 0, px_t * distortion, 0.0), axis=-1)
    return np.sum(pt * per_cluster, axis=-1)


def count_clusters(
    decoder: np.ndarray,
    pt: np.ndarray,
    *,
    cluster_tol: float = CLUSTER_TOL,
    pt_tol: float = PT_TOL,
) -> np.ndarray:
    """Number of distinct live clusters: decoders grouped within `cluster_tol`, p(t) > pt_tol.

    Leader grouping: the heaviest unassigned cluster collects every unassigned cluster whose
    decoder differs from it by < cluster_tol in every coordinate.

    Args:
      decoder: (B, T, Y).
      pt: (B, T).
      cluster_tol: decoder tolerance.
      pt_tol: clusters with p(t) <= pt_tol are dead and not counted.

    Returns:
      (B,) int array.
    """
    counts = np.zeros(decoder.shape[0], dtype=np.int64)
    for b in range(decoder.shape[0]):
        counts[b] = len(group_clusters(decoder[b], pt[b], cluster_tol, pt_tol))
    return counts


def group_clusters(
    decoder: np.ndarray, pt: np.ndarray, cluster_tol: float, pt_tol: float
) -> list[np.ndarray]:
    """Groups the live clusters of one solution by decoder (see `count_clusters`).

    Args:
      decoder: (T, Y); pt: (T,).

    Returns:
      list of index arrays, one per group, heaviest leader first.
    """
    live = np.flatnonzero(pt > pt_tol)
    if live.size > 1 and not _any_close_pair(decoder[live], cluster_tol):
        return [live[[i]] for i in np.argsort(-pt[live], kind="stable")]
    live = live[np.argsort(-pt[live], kind="stable")]
    groups = []
    while live.size:
        distance = np.max(np.abs(decoder[live] - decoder[live[0]]), axis=1)
        member = distance < cluster_tol
        groups.append(live[member])
        live = live[~member]
    return groups


def _any_close_pair(decoder: np.ndarray, cluster_tol: float) -> bool:
    """Whether two rows differ by < cluster_tol in every coordinate (exact, O(T log T) typically).

    Such a pair is within cluster_tol in the coordinate of largest spread too: sort on it and
    check, in every coordinate, only the pairs of rows that are close there.
    """
    column = int(np.argmax(np.ptp(decoder, axis=0)))
    order = np.argsort(decoder[:, column], kind="stable")
    values = decoder[order, column]
    for shift in range(1, order.size):
        near = np.flatnonzero(values[shift:] - values[:-shift] < cluster_tol)
        if near.size == 0:
            return False
        first, second = decoder[order[near]], decoder[order[near + shift]]
        if np.any(np.max(np.abs(first - second), axis=1) < cluster_tol):
            return True
    return False


def joint_summary(pxy: np.ndarray) -> tuple[float, float, float]:
    """(H(X), H(Y), I(X;Y)) of a joint, in nats."""
    return (
        float(entropy(pxy.sum(axis=1))),
        float(entropy(pxy.sum(axis=0))),
        float(mutual_information(pxy)),
    )


def evaluate(
    encoders: np.ndarray, betas: np.ndarray, px: np.ndarray, py_x: np.ndarray, method: str
) -> dict[str, Any]:
    """Every per-beta quantity of the result from the encoders (B, T, X).

    Returns:
      dict with pt, decoder (the method's own), ixt, ity, ity_dual, lagrangian_ib,
      lagrangian_dualib (NaN where p(y|x) = 0 makes the dual quantities undefined).
    """
    pt, px_t = cluster_posterior(encoders, px)
    markov = markov_decoder(px_t, py_x)
    # rounding can leave -1e-17 where the information is 0; informations are >= 0.
    ixt = np.maximum(information_x_t(encoders, px), 0.0)
    ity = np.maximum(information_t_y(pt, markov), 0.0)
    dual_defined = bool(np.all(py_x > 0))
    if dual_defined:
        geometric = dual_decoder(px_t, py_x)
        distortion = expected_dual_distortion(pt, px_t, geometric, py_x)
        lagrangian_dualib = ixt + betas * distortion
    else:
        geometric = None
        lagrangian_dualib = np.full_like(ixt, np.nan)
    if method == "ib":
        decoder = markov
        ity_dual = np.full_like(ixt, np.nan)
    else:
        decoder = geometric
        hy = float(entropy(pxy_marginal_y(px, py_x)))
        ity_dual = hy - np.sum(pt * entropy(geometric, axis=-1), axis=-1)
    return {
        "pt": pt,
        "decoder": decoder,
        "ixt": ixt,
        "ity": ity,
        "ity_dual": ity_dual,
        "lagrangian_ib": ixt - betas * ity,
        "lagrangian_dualib": lagrangian_dualib,
    }


def pxy_marginal_y(px: np.ndarray, py_x: np.ndarray) -> np.ndarray:
    """p(y) = sum_x p(x) p(y|x)."""
    return px @ py_x
