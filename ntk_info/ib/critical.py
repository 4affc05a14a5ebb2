"""Critical points of the IB and the dualIB: stability matrices, closed forms, detected transitions.

A cluster t perturbed symmetrically, p(x|t) -> p(x|t)(1 +- eps eta(x)) with sum_x p(x|t) eta = 0,
evolves under the linearised self-consistent map eta -> beta C_t eta; it splits when
beta lambda_max(C_t) = 1 (spec dualib.md §1 and §2.2):
  IB:     C_t(x,x') = sum_y p(y|x) p(y|x') p(x'|t) / p(y|t)          (likelihood ratios),
  dualIB: C_t(x,x') = p(x'|t) Cov_{y ~ p(y|t)}[l_x(y), l_x'(y)],
          l_x(y) = log p(y|x) - sum_x'' p(x''|t) log p(y|x'')      (log-likelihoods).
For the trivial one-cluster solution p(x|t) = p(x) this gives the first critical point;
every later split point along the solution branch is found by `splits.critical_betas`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ntk_info.ib.problems import ExponentialFamilyProblem, validate_joint
from ntk_info.ib.result import CLUSTER_TOL, PT_TOL, IBResult, cluster_posterior, group_clusters

#: lambda_max below this counts as 0 (X and Y independent up to rounding): beta_c = inf.
LAMBDA_TOL = 1e-12

__all__ = [
    "stability_matrix",
    "instability",
    "critical_beta",
    "critical_beta_exponential_family",
    "projected_stability",
    "cluster_stability",
    "transitions",
]


def stability_matrix(px_t: Any, py_x: np.ndarray, method: str = "ib") -> np.ndarray:
    """The linear-stability matrix C_t of one cluster (see the module docstring).

    Args:
      px_t: (..., X) the cluster's p(x|t).
      py_x: (X, Y) p(y|x) (> 0 for the dualIB).
      method: 'ib' or 'dualib'.

    Returns:
      (..., X, X) C_t(x, x'); the constrained eigenproblem is solved by `instability`.

    Reference: spec dualib.md §1 ("stability matrices") and §2.2.
    """
    px_t = np.asarray(px_t, dtype=np.float64)
    kernel = _symmetric_kernel(px_t, py_x, method)
    return kernel * px_t[..., None, :]


def _symmetric_kernel(px_t: np.ndarray, py_x: np.ndarray, method: str) -> np.ndarray:
    """K with C_t = K diag(p(x|t)): likelihood-ratio Gram (IB) or log-likelihood covariance."""
    if method == "ib":
        py_t = px_t @ py_x  # (..., Y)
        scaled = py_x / np.sqrt(np.where(py_t > 0, py_t, np.inf))[..., None, :]
        return scaled @ np.swapaxes(scaled, -1, -2)
    if method == "dualib":
        log_py_x = np.log(py_x)
        logits = px_t @ log_py_x
        q = np.exp(logits - logits.max(axis=-1, keepdims=True))
        q /= q.sum(axis=-1, keepdims=True)
        centred = log_py_x - logits[..., None, :]  # l_x(y) up to a y-constant shift per x
        mean = np.einsum("...xy,...y->...x", centred, q)
        fluct = centred - mean[..., :, None]
        return np.einsum("...xy,...zy,...y->...xz", fluct, fluct, q)
    raise ValueError(f"`method` must be 'ib' or 'dualib', got {method!r}.")


def _projected_symmetric(px_t: np.ndarray, py_x: np.ndarray, method: str) -> np.ndarray:
    """P W^1/2 K W^1/2 P, P the projector orthogonal to sqrt(p(x|t)); (..., X, X)."""
    root = np.sqrt(px_t)
    kernel = _symmetric_kernel(px_t, py_x, method)
    sym = root[..., :, None] * kernel * root[..., None, :]
    unit = root / np.linalg.norm(root, axis=-1, keepdims=True)
    projector = np.eye(px_t.shape[-1]) - unit[..., :, None] * unit[..., None, :]
    return projector @ sym @ projector


def instability(px_t: Any, py_x: np.ndarray, method: str = "ib") -> np.ndarray:
    """lambda_max of C_t on the perturbations with sum_x p(x|t) eta(x) = 0.

    C_t = K W (W = diag p(x|t)) is similar to the symmetric W^1/2 K W^1/2, whose eigenvector
    sqrt(p(x|t)) (eigenvalue 1 for the IB, 0 for the dualIB) is the excluded direction; it is
    projected out before `eigvalsh`.

    Args:
      px_t: (..., X) the cluster's p(x|t).
      py_x: (X, Y).
      method: 'ib' or 'dualib'.

    Returns:
      (...,) lambda_max; the cluster is unstable at beta > 1 / lambda_max.
    """
    px_t = np.asarray(px_t, dtype=np.float64)
    return np.linalg.eigvalsh(_projected_symmetric(px_t, py_x, method))[..., -1]


def projected_stability(
    px_t: Any, py_x: np.ndarray, method: str = "ib"
) -> tuple[np.ndarray, np.ndarray]:
    """lambda_max of C_t (as `instability`) and its eigenvector in the symmetric form.

    If v is the top eigenvector of W^1/2 K W^1/2 (projected), eta = v / sqrt(p(x|t)) solves
    C_t eta = lambda_max eta with sum_x p(x|t) eta(x) = 0: the unstable split direction.

    Args:
      px_t: (..., X); py_x: (X, Y); method: 'ib' or 'dualib'.

    Returns:
      lambda_max (...,) and v (..., X), unit norm.
    """
    px_t = np.asarray(px_t, dtype=np.float64)
    values, vectors = np.linalg.eigh(_projected_symmetric(px_t, py_x, method))
    return values[..., -1], vectors[..., :, -1]


def critical_beta(pxy: Any, method: str = "ib", *, normalize: bool = False) -> float:
    """First critical beta: where the trivial one-cluster solution loses stability.

    IB:     beta_c = 1 / lambda_2(C), C(x,x') = sum_y p(y|x) p(x'|y)  (lambda_2: squared maximal
            correlation of X and Y).
    dualIB: beta_c = 1 / lambda_max(C^dual), C^dual(x,x') = p(x') Cov_{q0}[log p(y|x), log p(y|x')],
            q0(y) ∝ prod_x p(y|x)^{p(x)}; for an ExponentialFamilyProblem the closed form
            1 / lambda_max(Cov_{q0}[lambda] Cov_{p(x)}[A]) is used.

    Args:
      pxy: (|X|, |Y|) joint, or an ExponentialFamilyProblem.
      method: 'ib' or 'dualib'.
      normalize: divide pxy by its sum instead of raising.

    Returns:
      beta_c (np.inf if X and Y are independent: lambda_max <= LAMBDA_TOL = 1e-12).

    Reference: spec dualib.md §1 (detecting bifurcations), §2.2, §3.
    """
    if method not in ("ib", "dualib"):
        raise ValueError(f"`method` must be 'ib' or 'dualib', got {method!r}.")
    if isinstance(pxy, ExponentialFamilyProblem):
        if method == "dualib":
            return critical_beta_exponential_family(pxy)
        pxy = pxy.pxy
    joint = validate_joint(pxy, method=method, normalize=normalize)
    top = float(instability(joint.px, joint.py_x, method))
    return 1.0 / top if top > LAMBDA_TOL else np.inf


def critical_beta_exponential_family(problem: ExponentialFamilyProblem) -> float:
    """Closed-form first critical beta of the dualIB for an exponential family.

    beta_c = 1 / lambda_max(Cov_{q0}[lambda(y)] Cov_{p(x)}[A(x)]), q0 = exp(-lambda.A_bar)/Z,
    A_bar = sum_x p(x) A(x). Binary case (lambda(y) = y): 1 / (sech^2(A_bar) Var_p(A)).

    Args:
      problem: an ExponentialFamilyProblem.

    Returns:
      beta_c.

    Reference: spec dualib.md §2.2 (derived; the nonzero eigenvalues of C^dual are those of
    the d x d product).
    """
    px, A, lam = problem.px, problem.A, problem.lam
    a_bar = A @ px
    logits = -(lam @ a_bar)
    q0 = np.exp(logits - logits.max())
    q0 /= q0.sum()
    lam_c = lam - q0 @ lam
    cov_lam = (lam_c * q0[:, None]).T @ lam_c
    a_c = A - a_bar[:, None]
    cov_a = (a_c * px[None, :]) @ a_c.T
    top = float(np.max(np.linalg.eigvals(cov_lam @ cov_a).real))
    return 1.0 / top if top > LAMBDA_TOL else np.inf


def cluster_stability(result: IBResult) -> np.ndarray:
    """beta lambda_max(C_t) for every beta and cluster of a result (> 1: the cluster would split).

    Args:
      result: an IBResult.

    Returns:
      (B, T) array; NaN for dead clusters (p(t) <= PT_TOL), where C_t is undefined.
    """
    py_x = result.pxy / result.pxy.sum(axis=1, keepdims=True)
    px = result.pxy.sum(axis=1)
    pt, px_t = cluster_posterior(result.encoder, px)
    values = result.beta[:, None] * instability(px_t, py_x, result.method)
    return np.where(pt > PT_TOL, values, np.nan)


def transitions(
    result: IBResult, *, cluster_tol: float = CLUSTER_TOL, n_fit: int = 8
) -> pd.DataFrame:
    """Every bifurcation along an annealing path: changes of the cluster count between betas.

    For each change between neighbouring betas (sorted), two order parameters are tracked on
    the many-cluster side, over the `n_fit` betas nearest the change: the smallest decoder gap
    between groups (max-abs over y), which vanishes as a square root at a pitchfork (gap^2 is
    fitted linearly in beta), and the smallest group mass p(t) (fitted as mass and mass^2).
    The fit whose zero lies nearest the observed change names the transition 'merge' (gap) or
    'death' (mass: a cluster dies instead of merging, as in the dualIB) and gives
    `beta_estimate`, the beta where that order parameter vanishes.

    Args:
      result: an IBResult (reverse or forward annealing).
      cluster_tol: decoder tolerance of the grouping.
      n_fit: number of betas used in the fit.

    Returns:
      DataFrame, one row per transition, by decreasing beta: beta_high, beta_low,
      n_clusters_high, n_clusters_low, kind, beta_estimate.
    """
    order = np.argsort(result.beta)
    betas = result.beta[order]
    counts = result.n_clusters[order]
    rows = []
    for i in np.flatnonzero(np.diff(counts) != 0)[::-1]:
        many = i + 1 if counts[i + 1] > counts[i] else i
        direction = 1 if many == i + 1 else -1
        n_many = counts[many]
        side = []
        j = many
        while 0 <= j < betas.size and counts[j] == n_many and len(side) < n_fit:
            side.append(j)
            j += direction
        gaps, masses = zip(
            *(_order_parameters(result, order[k], cluster_tol) for k in side), strict=True
        )
        gaps, masses = np.array(gaps), np.array(masses)
        middle = 0.5 * (betas[i] + betas[i + 1])
        candidates = {
            "merge": _zero_crossing(betas[side], gaps**2),
            "death": _zero_crossing(betas[side], masses**2),
            "death_linear": _zero_crossing(betas[side], masses),
        }
        kind, estimate = min(
            candidates.items(),
            key=lambda item: abs(item[1] - middle) if np.isfinite(item[1]) else np.inf,
        )
        kind = kind.replace("_linear", "")
        rows.append(
            {
                "beta_high": betas[i + 1],
                "beta_low": betas[i],
                "n_clusters_high": int(counts[i + 1]),
                "n_clusters_low": int(counts[i]),
                "kind": kind,
                "beta_estimate": estimate,
            }
        )
    columns = ["beta_high", "beta_low", "n_clusters_high", "n_clusters_low", "kind"]
    return pd.DataFrame(rows, columns=[*columns, "beta_estimate"])


def _order_parameters(result: IBResult, index: int, cluster_tol: float) -> tuple[float, float]:
    """(smallest decoder gap between groups, smallest group mass) of one solution."""
    decoder, pt = result.decoder[index], result.pt[index]
    groups = group_clusters(decoder, pt, cluster_tol, PT_TOL)
    leaders = np.array([decoder[g[0]] for g in groups])
    masses = np.array([pt[g].sum() for g in groups])
    if len(groups) < 2:
        return 0.0, float(masses.min())
    gaps = np.max(np.abs(leaders[:, None] - leaders[None, :]), axis=-1)
    gaps[np.diag_indices_from(gaps)] = np.inf
    return float(gaps.min()), float(masses.min())


def _zero_crossing(beta: np.ndarray, signal: np.ndarray) -> float:
    """beta where the least-squares line through (beta, signal) crosses zero (or nan if flat)."""
    if beta.size < 2:
        return float(beta[0])
    slope, intercept = np.polyfit(beta, signal, 1)
    if slope == 0:
        return float("nan")
    return float(-intercept / slope)
