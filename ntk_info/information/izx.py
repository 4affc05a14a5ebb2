"""I(Z;X|D) (spec C.3): Poole et al. minibatch bounds and a Monte Carlo estimate.

X is uniform over a batch of N points x_1..x_N, Z|x_i ~ N(mu_i, s_i I_k) (each point's
marginal; the joint across points is not used). The batch is a seeded random subset of the
m points given,

    rows = np.sort(np.random.default_rng(seed).choice(m, N, replace=False)),   N = min(1000, m)

by default (all m points, in order, when N = m), and the draws of z for a time come from a key
derived from (seed, t) alone (`mixture.time_keys`): the same (t, seed) gives the same numbers in
any time grid, in any order. Every estimate is a `mixture.MIEstimate` of (T,) arrays in nats.
`izx_columns` is the information plane's builder for this family.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ntk_info.ensemble import Prediction
from ntk_info.information._inputs import as_prediction, check_count

if TYPE_CHECKING:
    from ntk_info.mixture import MIEstimate

__all__ = [
    "DEFAULT_N_POINTS",
    "resolve_n_points",
    "izx_rows",
    "izx_bounds",
    "izx_lower",
    "izx_upper",
    "izx_mc",
    "izx_columns",
]

#: Default I(Z;X) batch: min(DEFAULT_N_POINTS, m) points (the paper's N = 1000, cap log N).
DEFAULT_N_POINTS = 1000


def izx_rows(m: int, n_points: int | None = None, seed: int = 0) -> np.ndarray:
    """The batch of the I(Z;X) bounds: N of the m points, a seeded random subset, sorted.

    rows = np.sort(np.random.default_rng(seed).choice(m, N, replace=False)), N = `n_points`
    (default min(1000, m)); all points, in order, when N = m.

    Args:
      m: number of points available (>= 2).
      n_points: N, 2 <= N <= m, or None for min(1000, m).
      seed: seed of the subset (the same seed as the draws of z).

    Returns:
      (N,) int64 indices in increasing order.
    """
    n_points = resolve_n_points(n_points, m)
    seed = check_count("seed", seed, 0, "a PRNG seed")
    if n_points == m:
        return np.arange(m)
    return np.sort(np.random.default_rng(seed).choice(m, n_points, replace=False))


def izx_bounds(
    source: Any,
    *,
    n_points: int | None = None,
    n_draws: int = 8,
    seed: int = 0,
    x: Any = None,
    t: Any = None,
) -> tuple[MIEstimate, MIEstimate]:
    """InfoNCE lower and leave-one-out upper bounds on I(Z;X|D) over a batch of N points.

    With X uniform over the batch x_1..x_N (`izx_rows`), Z|x_i ~ N(mu_i, s_i I_k), z_i drawn
    once per draw and S_ij = log N(z_i; mu_j, s_j I_k):
        I_L = log N + (1/N) sum_i [S_ii - logsumexp_j S_ij] <= log N,
        I_U = log(N-1) + (1/N) sum_i [S_ii - logsumexp_{j != i} S_ij]  (capped at log N),
    averaged over `n_draws` draws; one shared pass of `mixture.infonce_and_loo` for all times.

    Args:
      source: `Prediction` (T, m, k) or an ensemble with `x`, `t`.
      n_points: N, 2 <= N <= m; default min(1000, m).
      n_draws: draws of z (>= 2, for the standard error).
      seed: seed of the batch and of the draws (time t uses the key of (seed, t)).

    Returns:
      (lower, upper): `mixture.MIEstimate`s with (T,) value and se, nats.

    Reference: Poole et al., ICML 2019; Shwartz-Ziv & Alemi (2019), eq. (12-13).
    """
    pred = as_prediction(source, x, t)
    rows = izx_rows(pred.mean.shape[1], n_points, seed)
    return _bounds(pred, rows, n_draws, seed)


def izx_lower(source: Any, **kwargs: Any) -> MIEstimate:
    """InfoNCE lower bound on I(Z;X|D), `MIEstimate` (T,); arguments as in `izx_bounds`."""
    return izx_bounds(source, **kwargs)[0]


def izx_upper(source: Any, **kwargs: Any) -> MIEstimate:
    """Leave-one-out upper bound on I(Z;X|D), `MIEstimate` (T,); arguments as in `izx_bounds`."""
    return izx_bounds(source, **kwargs)[1]


def izx_mc(
    source: Any,
    *,
    n_points: int | None = None,
    n_samples: int | None = None,
    seed: int = 0,
    x: Any = None,
    t: Any = None,
) -> MIEstimate:
    """Monte Carlo estimate of I(Z;X|D), X uniform over the batch of `izx_bounds`.

    I = H(Z) - H(Z|X), H(Z|X) exact, H(Z) by Monte Carlo in the pointwise control-variate form
    (`mixture.mc_estimate`, `n_samples` draws of z in all, default 16 per point).

    Args:
      source, n_points, seed, x, t: as in `izx_bounds`.
      n_samples: total draws of z per time.

    Returns:
      `MIEstimate` (T,), nats.

    Reference: Goldfeld et al., ICML 2019 (sample propagation with known components).
    """
    pred = as_prediction(source, x, t)
    rows = izx_rows(pred.mean.shape[1], n_points, seed)
    return _mc(pred, rows, n_samples, seed)


def izx_columns(
    pred: Prediction, n_points: int, n_draws: int, seed: int, *, mc: bool
) -> dict[str, Any]:
    """The information plane's I(Z;X) columns from a validated prediction.

    izx_lower, izx_lower_se, izx_upper, izx_upper_se, izx_cap (= log N), and izx_mc, izx_mc_se
    when `mc`; each (T,).
    """
    rows = izx_rows(pred.mean.shape[1], n_points, seed)
    lower, upper = _bounds(pred, rows, n_draws, seed)
    columns: dict[str, Any] = dict(
        izx_lower=lower.value,
        izx_lower_se=lower.se,
        izx_upper=upper.value,
        izx_upper_se=upper.se,
        izx_cap=np.full(lower.value.shape, math.log(len(rows))),
    )
    if mc:
        estimate = _mc(pred, rows, None, seed)
        columns.update(izx_mc=estimate.value, izx_mc_se=estimate.se)
    return columns


# ----------------------------------------------------------------------------------------------
# Cores.
# ----------------------------------------------------------------------------------------------


def resolve_n_points(n_points: Any, m: int) -> int:
    """N of the I(Z;X) batch: `n_points` checked against m points (2 <= N <= m), or min(1000, m)."""
    if n_points is None:
        n_points = min(DEFAULT_N_POINTS, m)
    n_points = check_count("n_points", n_points, 2, "I(Z;X) over N = 1 point is 0")
    if n_points > m:
        raise ValueError(
            f"`n_points` = {n_points} exceeds the {m} points given; pass n_points <= {m} "
            "or more points."
        )
    return n_points


def _bounds(pred: Prediction, rows: np.ndarray, n_draws: int, seed: int):
    from ntk_info import mixture

    return mixture.infonce_and_loo(
        pred.mean[:, rows], pred.var[:, rows], seed=seed, n_draws=n_draws, times=pred.t
    )


def _mc(pred: Prediction, rows: np.ndarray, n_samples: int | None, seed: int):
    from ntk_info import mixture

    return mixture.mc_estimate(
        pred.mean[:, rows],
        pred.var[:, rows],
        seed=seed,
        n_samples=n_samples,
        control_variate=True,
        times=pred.t,
    )
