"""Every bifurcation of the IB / dualIB: cluster splits along the solution branch, from C_t.

Deterministic annealing (spec dualib.md §1) follows the solution from one cluster upwards in
beta; with k clusters held in exactly k slots the branch cannot split, and cluster t of it is
stable against the symmetric split p(x|t) -> p(x|t)(1 +- eps eta(x)) while

    g_t(beta) = beta lambda_max(C_t(beta)) < 1,

C_t the stability matrix of `critical.stability_matrix` at the branch's solution (spec §1
"stability matrices", §2.2). The k-th bifurcation is the smallest beta on the k-cluster branch
where max_t g_t = 1; there the unstable cluster is split along the top eigenvector eta of C_t and
the (k+1)-cluster branch is followed. `critical_betas` returns these beta_1 < beta_2 < ...,
beta_1 = `critical_beta` (the trivial solution, in closed form).

Where a transition is first order (hysteresis), reverse annealing (beta decreasing) keeps the
larger solution below the split point and merges or kills a cluster at a lower beta: on the §3
problem the IB's second transition and the dualIB's second to fourth (where a cluster dies
instead of merging) sit 5-25% below the split points, while forward annealing splits at them.
"""

from __future__ import annotations

import warnings
from typing import Any, NamedTuple

import numpy as np
from scipy.optimize import brentq

from ntk_info.ib import _core
from ntk_info.ib.critical import LAMBDA_TOL, critical_beta, projected_stability
from ntk_info.ib.problems import ExponentialFamilyProblem, validate_joint
from ntk_info.ib.result import PT_TOL, cluster_posterior

__all__ = ["critical_betas"]

SPLIT_STEP = 1e-2  # the new branch is first converged at beta_split * (1 + SPLIT_STEP)
SPLIT_SIZE = 1e-2  # eps of the split p(t|x)(1 +- eps eta(x)) / 2, max |eta| = 1
SCAN_GROWTH = 4.0  # largest factor of one upward step along a branch
SCAN_MIN_STEP = 0.02  # smallest relative upward step along a branch


class _Problem(NamedTuple):
    px: np.ndarray
    py_x: np.ndarray
    method: str
    data: tuple
    converge: Any
    tol: float
    max_iter: int


class _Branch(NamedTuple):
    """A converged solution of the k-cluster branch: beta, p(t|x) (k, X), g_t (k,)."""

    beta: float
    encoder: np.ndarray
    criterion: np.ndarray
    converged: bool


def critical_betas(
    pxy: Any,
    method: str = "ib",
    *,
    normalize: bool = False,
    tol: float = 1e-13,
    max_iter: int = 1_000_000,
    beta_max: float = 1e8,
    xtol: float = 1e-10,
    backend: str = "jax",
) -> np.ndarray:
    """Every cluster-split point of the IB or dualIB, from the stability matrices C_t.

    beta_k = min {beta on the k-cluster branch : max_t beta lambda_max(C_t) = 1}, the branch
    followed upwards from the trivial solution with the solver (see the module docstring);
    each root is bracketed along the branch and refined by Brent's method on
    max_t beta lambda_max(C_t) - 1. There are (number of distinct rows of p(y|x)) - 1 of them.

    Args:
      pxy: (|X|, |Y|) joint, or an ExponentialFamilyProblem.
      method: 'ib' or 'dualib'.
      normalize: divide pxy by its sum instead of raising.
      tol: convergence tolerance of the branch solutions (mean JS change, nats).
      max_iter: sweeps allowed per solution.
      beta_max: the search stops above this beta.
      xtol: relative accuracy of each beta_k.
      backend: 'jax' or 'numpy', as in `solve`.

    Returns:
      (K,) float64, increasing: the order in which forward annealing meets them; the first is
      `critical_beta(pxy, method)` exactly. Empty if X and Y are independent.

    Reference: spec dualib.md §1 (detecting bifurcations, stability matrices), §2.2.
    """
    if method not in ("ib", "dualib"):
        raise ValueError(f"`method` must be 'ib' or 'dualib', got {method!r}.")
    first = critical_beta(pxy, method, normalize=normalize)
    if isinstance(pxy, ExponentialFamilyProblem):
        pxy = pxy.pxy
    joint = validate_joint(pxy, method=method, normalize=normalize)
    problem = _Problem(
        joint.px,
        joint.py_x,
        method,
        _core.make_data(method, joint.px, joint.py_x),
        _core.get_converge(backend),
        float(tol),
        int(max_iter),
    )
    found = [] if not np.isfinite(first) else [first]
    branch = _Branch(first, np.ones((1, joint.px.size)), np.array([1.0]), True)
    not_converged = 0
    while found and found[-1] < beta_max:
        branch = _split(branch, problem)
        branch, beta = _next_split(branch, problem, beta_max, xtol)
        not_converged += not branch.converged
        if beta is None:
            break
        found.append(beta)
    if not_converged:
        warnings.warn(
            f"critical_betas: some branch solutions did not converge to tol={tol:g} within "
            "max_iter sweeps; raise `max_iter` or loosen `tol`.",
            RuntimeWarning,
            stacklevel=2,
        )
    return np.asarray(found, dtype=np.float64)


def _solve_branch(encoder: np.ndarray, beta: float, problem: _Problem) -> _Branch:
    """Converges the branch through `encoder` at beta; drops dead clusters; g_t per cluster."""
    with np.errstate(divide="ignore", invalid="ignore", under="ignore"):
        state = _core.state_from_encoder(np.log(encoder), problem.data, problem.method, np)
    state, _, change = problem.converge(
        state, beta, problem.tol, problem.max_iter, problem.data, problem.method
    )
    with np.errstate(under="ignore"):
        encoder = np.exp(state.log_encoder)
    pt, px_t = cluster_posterior(encoder, problem.px)
    live = pt > PT_TOL
    encoder = encoder[live] / encoder[live].sum(axis=0, keepdims=True)
    value, _ = projected_stability(px_t[live], problem.py_x, problem.method)
    return _Branch(beta, encoder, beta * value, bool(change < problem.tol))


def _excess(beta: float, encoder: np.ndarray, problem: _Problem) -> float:
    """max_t beta lambda_max(C_t) - 1 on the branch through `encoder`, converged at beta."""
    return float(np.max(_solve_branch(encoder, beta, problem).criterion)) - 1.0


def _split(branch: _Branch, problem: _Problem) -> _Branch:
    """Splits the most unstable cluster along the top eigenvector of its C_t, then converges
    the new branch at beta (1 + SPLIT_STEP) (at beta itself it would relax back slowly)."""
    t = int(np.argmax(branch.criterion))
    _, px_t = cluster_posterior(branch.encoder, problem.px)
    _, vector = projected_stability(px_t[t], problem.py_x, problem.method)
    root = np.sqrt(px_t[t])
    eta = np.where(root > 0, vector / np.where(root > 0, root, 1.0), 0.0)  # C_t eta = l eta
    eta /= np.max(np.abs(eta))
    encoder = np.concatenate([branch.encoder, branch.encoder[t : t + 1]])
    encoder[t] *= (1.0 + SPLIT_SIZE * eta) / 2.0
    encoder[-1] *= (1.0 - SPLIT_SIZE * eta) / 2.0
    return _solve_branch(encoder, branch.beta * (1.0 + SPLIT_STEP), problem)


def _next_split(
    branch: _Branch, problem: _Problem, beta_max: float, xtol: float
) -> tuple[_Branch, float | None]:
    """Follows the branch upwards to the first beta with max_t g_t = 1 (None: none below
    beta_max, or no cluster can split any more); returns the last stable solution and it."""
    n_distinct = np.unique(problem.py_x, axis=0).shape[0]
    converged = branch.converged
    while branch.encoder.shape[0] < n_distinct and branch.beta < beta_max:
        top = float(np.max(branch.criterion))
        if top >= 1.0:
            warnings.warn(
                f"critical_betas: the branch is already unstable {SPLIT_STEP:.0%} above the "
                f"split at beta={branch.beta / (1 + SPLIT_STEP):.6g}; the next split is "
                f"reported there, at beta={branch.beta:.6g} (resolution {SPLIT_STEP:.0%}).",
                RuntimeWarning,
                stacklevel=3,
            )
            return branch._replace(converged=converged), branch.beta
        if top <= LAMBDA_TOL * branch.beta:  # the clusters hold equal rows of p(y|x) only
            break
        step = branch.beta / top
        beta = float(np.clip(step, (1 + SCAN_MIN_STEP) * branch.beta, SCAN_GROWTH * branch.beta))
        upper = _solve_branch(branch.encoder, beta, problem)
        converged &= upper.converged
        if np.max(upper.criterion) < 1.0:
            branch = upper
            continue
        args = (branch.encoder, problem)
        root = float(brentq(_excess, branch.beta, beta, args, xtol=1e-300, rtol=max(xtol, 4e-16)))
        at_root = _solve_branch(branch.encoder, root, problem)
        return at_root._replace(converged=converged & at_root.converged), root
    return branch._replace(converged=converged), None
