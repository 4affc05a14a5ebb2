"""Parametric dualIB for exponential families: iterations on the dual statistics A^beta(t).

For p(y|x) = exp(-lambda(y).A(x) - lambda_0(x)) the dualIB decoder stays in the family,
p(y|t) = exp(-lambda(y).A^beta(t) - lambda_0^beta(t)), with A^beta(t) = sum_x p(x|t) A(x), so the
solver carries the d statistics per cluster instead of a |Y|-dimensional decoder:
  d_dual(x,t) = lambda_bar(t).(A(x) - A^beta(t)) + lambda_0(x) - lambda_0^beta(t),
  lambda_bar(t) = sum_y p(y|t) lambda(y),  lambda_0^beta(t) = log sum_y exp(-lambda(y).A^beta(t)).
It gives the generic dualIB solution (`solve(method='dualib')`) to rounding.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import log_softmax

from ntk_info.ib import _core
from ntk_info.ib.problems import ExponentialFamilyProblem, validate_betas, validate_joint
from ntk_info.ib.result import CLUSTER_TOL, IBResult, cluster_posterior
from ntk_info.ib.solvers import DEFAULT_MAX_ITER, _check_options, anneal_path, build_result

__all__ = ["solve_exponential_family", "exponential_decoder"]


def exponential_decoder(dual_statistics: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """p(y|t) = softmax_y(-lambda(y).A^beta(t)), the in-family dualIB decoder.

    Args:
      dual_statistics: (..., T, d) A^beta(t).
      lam: (Y, d) natural parameters.

    Returns:
      (..., T, Y).
    """
    return np.exp(log_softmax(-(dual_statistics @ lam.T), axis=-1))


def solve_exponential_family(
    problem: ExponentialFamilyProblem,
    betas: Any,
    *,
    anneal: str = "reverse",
    n_clusters: int | None = None,
    tol: float = 1e-12,
    max_iter: int = DEFAULT_MAX_ITER,
    seed: int = 0,
    cluster_tol: float = CLUSTER_TOL,
    backend: str = "jax",
    merge: bool = True,
) -> IBResult:
    """Solves the dualIB of an exponential-family problem with the parametric sweep (spec §2.1).

    A^beta(t) = sum_x p(x|t) A(x);  log p(y|t) = -lambda(y).A^beta(t) - lambda_0^beta(t);
    p(t|x) ∝ p(t) exp(-beta [lambda_bar(t).(A(x) - A^beta(t)) + lambda_0(x) - lambda_0^beta(t)]).

    Args:
      problem: an ExponentialFamilyProblem (see `exponential_family_problem`).
      betas: (B,) trade-off parameters > 0.
      anneal, n_clusters, tol, max_iter, seed, cluster_tol, backend, merge: as in `solve`.

    Returns:
      IBResult with method 'dualib' and `dual_statistics` (B, T, d) = A^beta(t).

    Reference: Piran, Shwartz-Ziv & Tishby, arXiv:2006.04641, exponential-family section
    ("dual sufficient statistics"); spec dualib.md §2.1.
    """
    if not isinstance(problem, ExponentialFamilyProblem):
        raise TypeError(
            "`problem` must be an ExponentialFamilyProblem; build one with "
            "exponential_family_problem(lam, A, px)."
        )
    _check_options("dualib", anneal, tol, max_iter, backend)
    betas = validate_betas(betas)
    joint = validate_joint(problem.pxy, method="dualib", normalize=True)
    data = _core.make_data("exponential", joint.px, joint.py_x, lam=problem.lam, A=problem.A)

    def decoder_of_state(state: _core.State) -> np.ndarray:
        return exponential_decoder(state.params, problem.lam)

    encoders, iterations, converged = anneal_path(
        joint,
        betas,
        data,
        core_method="exponential",
        anneal=anneal,
        n_clusters=n_clusters,
        tol=tol,
        max_iter=int(max_iter),
        seed=seed,
        cluster_tol=cluster_tol,
        backend=backend,
        decoder_fn=decoder_of_state,
        merge=merge,
    )
    _, px_t = cluster_posterior(encoders, joint.px)
    dual_statistics = px_t @ problem.A.T
    return build_result(
        joint,
        betas,
        encoders,
        iterations,
        converged,
        "dualib",
        anneal,
        tol,
        cluster_tol,
        dual_statistics=dual_statistics,
    )
