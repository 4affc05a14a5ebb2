"""Discrete information bottleneck (IB) and dual IB: solvers, annealing, critical points, plots.

    >>> from ntk_info import ib
    >>> problem = ib.binary_exponential_problem()
    >>> result = ib.solve(problem.pxy, 2 ** np.linspace(6, 1, 1000), method="dualib")
    >>> result.to_frame()          # one row per beta
    >>> ib.critical_beta(problem.pxy, "dualib")     # first split (closed form)
    >>> ib.critical_betas(problem.pxy, "dualib")    # every split, increasing in beta

Spec: dualib.md §1-3 and §6. Plots live in `ntk_info.ib.plotting` (imported on demand, so that
importing this package does not import matplotlib).
"""

from ntk_info.ib.critical import (
    cluster_stability,
    critical_beta,
    critical_beta_exponential_family,
    instability,
    stability_matrix,
    transitions,
)
from ntk_info.ib.exponential import exponential_decoder, solve_exponential_family
from ntk_info.ib.problems import (
    ExponentialFamilyProblem,
    binary_exponential_problem,
    exponential_family_problem,
    random_exponential_family,
    random_joint,
)
from ntk_info.ib.result import IBResult, count_clusters, dual_decoder, markov_decoder
from ntk_info.ib.solvers import lagrangian, solve
from ntk_info.ib.splits import critical_betas

__all__ = [
    "solve",
    "solve_exponential_family",
    "lagrangian",
    "IBResult",
    "critical_beta",
    "critical_betas",
    "critical_beta_exponential_family",
    "stability_matrix",
    "instability",
    "cluster_stability",
    "transitions",
    "ExponentialFamilyProblem",
    "exponential_family_problem",
    "binary_exponential_problem",
    "random_joint",
    "random_exponential_family",
    "exponential_decoder",
    "markov_decoder",
    "dual_decoder",
    "count_clusters",
]
