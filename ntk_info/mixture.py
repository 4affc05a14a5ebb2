"""Gaussian-mixture entropy and mutual information: bounds and Monte Carlo, chunked and jitted.

Setting (spec `information_ntk.md` C.3, `estimators.md` A1, A5): X uniform over N points,
Z | x_i ~ N(mu_i, s_i I_k) (shared variance over the k outputs) or N(mu_i, Sigma_i) (full
covariance). Then

    I(X;Z) = H(Z) - H(Z|X),   H(Z|X) = (1/N) sum_i (k/2) log(2 pi e s_i),   0 <= I(X;Z) <= log N.

Shapes. `means` is (N, k) or (T, N, k) with a leading time axis; `variances` is (N,) / (T, N)
(shared variances) or (N, k, k) / (T, N, k, k) (full covariances): the rank of `variances`
relative to `means` selects the model. Every function returns an `MIEstimate(value, se)`:
numpy float64 arrays of shape (T,) with a time axis, numpy float64 scalars without one.
Deterministic bounds have `se = 0`.

Estimators.
  - `infonce_lower` / `loo_upper` (Poole et al., ICML 2019, known conditional): minibatch
    InfoNCE and leave-one-out bounds over the N points, averaged over `n_draws` draws of z.
    For X uniform over *exactly* these N points, full-batch InfoNCE is an unbiased estimate of
    I(X;Z) (its expectation is the mixture MI); it is a lower bound on the MI of the population
    the N points were drawn from (the paper's use), and always <= log N.
  - `pairwise_kl_upper` / `pairwise_bhattacharyya_lower` (Kolchinsky & Tracey, Entropy 2017):
    deterministic bounds from closed-form divergences between components.
  - `mc_estimate` (Goldfeld et al., ICML 2019, SP estimator with known components): Monte Carlo
    of H(Z) = -E log p(z) minus the exact H(Z|X).

Zero variances. Variances (eigenvalues) below `1e-10 * scale` (scale = largest squared centred
mean norm or k * largest variance) are raised to it. With s = 0 every estimator then returns the
s -> 0 limit: InfoNCE and both pairwise bounds give H of the partition of identical means (log N
if all are distinct), up to ~1e-5 nats; the LOO bound is vacuous there and is capped at log N.
Means closer than ~1e-5 * sqrt(scale) count as identical in that limit.

Speed. Score matrices are built `chunk_size` rows at a time and reduced by a one-pass
logsumexp, memory O(chunk_size * N); InfoNCE, LOO and the MC estimate come from one pass
(`infonce_and_loo` returns both bounds of it; `infonce_lower`, `loo_upper` and `mc_estimate`
compute only their own reductions); the time axis is a `lax.map`. Everything runs in float64
whatever the global JAX setting.

Devices. `path` selects one of two code paths with the same numbers (to ~1e-14):
'fused' (CPU: unrolled multiply-adds and a vectorised exponential fused into one loop over
~2 MB chunks) or 'matmul' (GPU/TPU: XLA's GEMM and `exp` on ~256 MB chunks, the whole score
matrix when it fits); 'auto' (default) takes 'matmul' when the default JAX device is a GPU or
a TPU, else 'fused'. Results never depend on `chunk_size` beyond summation order.

Randomness. Draws come from `key` or `seed`. With a time axis, slice i uses
`jax.random.split(key, T)[i]` by default, or, given `times`, `time_keys(key, times)[i]`, a key
of (key, times[i]) alone: the same (t, seed) then gives the same numbers in any grid.
Inputs are validated and converted with NumPy, so these functions are not traceable by
`jax.grad` / `jax.jit` (the jitted cores are in `ntk_info._mixture_kernels`).
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

from ntk_info import _mixture_kernels as kernels
from ntk_info._jax import with_float64
from ntk_info._mixture_inputs import (
    PATHS,
    MIEstimate,
    Mixture,
    Path,
    as_mixture,
    check_count,
    chunk_rows,
    finish,
    mean_and_se,
    resolve_path,
    sample_keys,
    time_keys,
)

__all__ = [
    "MIEstimate",
    "METHODS",
    "mutual_information",
    "infonce_and_loo",
    "infonce_lower",
    "loo_upper",
    "pairwise_kl_upper",
    "pairwise_bhattacharyya_lower",
    "mc_estimate",
    "conditional_entropy",
    "entropy",
    "time_keys",
    "PATHS",
    "Path",
]

METHODS = ("infonce", "loo", "pairwise_kl", "pairwise_bhattacharyya", "mc")

# ----------------------------------------------------------------------------------------------
# Sampled bounds and Monte Carlo.
# ----------------------------------------------------------------------------------------------


@with_float64
def _sampled(
    means, variances, *, key, seed, n_draws, chunk_size, times, path, stats
) -> tuple[Mixture, dict[str, np.ndarray]]:
    """Validates, then runs the sampled kernel for the statistics `stats` (each (T, D))."""
    mix = as_mixture(means, variances)
    n_draws = check_count("n_draws", n_draws, 2, "the standard error needs two draws of z")
    path = resolve_path(path)
    t, n, k = mix.means.shape
    chunk = chunk_rows(chunk_size, n, 1, n_draws * n, path)
    keys = sample_keys(key, seed, t, mix.batched, times)
    values = kernels.sampled_statistics(
        mix.means,
        mix.variances,
        keys,
        full=mix.full,
        n_draws=n_draws,
        chunk=chunk,
        path=path,
        stats=stats,
    )
    return mix, {name: np.asarray(value) for name, value in zip(stats, values, strict=True)}


def _lower(mix: Mixture, nce: np.ndarray) -> MIEstimate:
    return finish(*mean_and_se(nce), mix.batched)


def _upper(mix: Mixture, loo: np.ndarray) -> MIEstimate:
    """Mean LOO over draws capped at log N (se = 0 where the cap applies)."""
    log_n = np.log(mix.means.shape[1])
    value, se = mean_and_se(loo)
    capped = value >= log_n
    return finish(np.where(capped, log_n, value), np.where(capped, 0.0, se), mix.batched)


def infonce_and_loo(
    means: Any,
    variances: Any,
    *,
    key: jax.Array | None = None,
    seed: int | None = None,
    n_draws: int = 8,
    chunk_size: int | None = None,
    times: Any = None,
    path: Path = "auto",
) -> tuple[MIEstimate, MIEstimate]:
    """InfoNCE lower and leave-one-out upper bounds on I(X;Z) from the same draws of z.

    One z_i ~ N(mu_i, s_i I_k) per point per draw; scores S_ij = log N(z_i; mu_j, s_j I_k):

        I_L = log N     + (1/N) sum_i [S_ii - logsumexp_j S_ij]           <= log N,
        I_U = log(N-1)  + (1/N) sum_i [S_ii - logsumexp_{j != i} S_ij].

    Both are averaged over `n_draws` independent draws; E[I_L] <= I(X;Z) <= E[I_U] (for X
    uniform over exactly these N points E[I_L] = I(X;Z)). The reported upper value is
    min(mean I_U, log N) (a valid bound since I <= log N), with se = 0 where the cap applies:
    for near-deterministic outputs I_U diverges. Both come from one pass over the scores.

    Args:
      means: (N, k) or (T, N, k) component means mu_i.
      variances: (N,) / (T, N) shared variances s_i >= 0, or (N, k, k) / (T, N, k, k) full
        covariances (then S_ij = log N(z_i; mu_j, Sigma_j)).
      key: a `jax.random` key; time slice i uses `jax.random.split(key, T)[i]` (the key itself
        without a time axis), or `time_keys(key, times)[i]` when `times` is given. Exclusive
        with `seed`.
      seed: int seed used when `key` is not given (default 0).
      n_draws: independent draws of (z_1..z_N), >= 2 (the standard error needs two).
      chunk_size: rows of the (n_draws * N, N) score matrix computed at once (memory
        O(chunk_size * N)); the default keeps a chunk near 2 MB ('fused') or 256 MB
        ('matmul'). Results do not depend on it.
      times: optional (T,) floats labelling the time axis (a scalar or (1,) without one): the
        draws of a slice then depend on (key or seed, its time) alone, so the same (t, seed)
        gives bit-identical numbers in any grid (see `time_keys`).
      path: 'auto', 'fused' (CPU) or 'matmul' (GPU/TPU); same numbers to ~1e-14.

    Returns:
      (lower, upper), two `MIEstimate`s with value and se (std over draws / sqrt(n_draws)),
      each (T,) or scalar, in nats.

    Reference: Poole et al., "On Variational Bounds of Mutual Information", ICML 2019, eq. (12)
    and the leave-one-out bound; Shwartz-Ziv & Alemi 2019, eq. (12-13).
    """
    mix, values = _sampled(
        means,
        variances,
        key=key,
        seed=seed,
        n_draws=n_draws,
        chunk_size=chunk_size,
        times=times,
        path=path,
        stats=("nce", "loo"),
    )
    return _lower(mix, values["nce"]), _upper(mix, values["loo"])


def infonce_lower(
    means: Any,
    variances: Any,
    *,
    key: jax.Array | None = None,
    seed: int | None = None,
    n_draws: int = 8,
    chunk_size: int | None = None,
    times: Any = None,
    path: Path = "auto",
) -> MIEstimate:
    """InfoNCE (minibatch) lower bound on I(X;Z), X uniform over N points, Z|x_i ~ N(mu_i, s_i I).

    I_L = log N + (1/N) sum_i [S_ii - logsumexp_j S_ij] <= log N, S_ij = log N(z_i; mu_j, s_j I_k),
    z_i ~ N(mu_i, s_i I_k), averaged over `n_draws` draws. Arguments and shapes as in
    `infonce_and_loo`, whose lower half this is (same draws, same numbers); only this bound's
    reductions are computed.

    Returns:
      `MIEstimate(value, se)`, (T,) or scalar, nats.

    Reference: Poole et al., ICML 2019 (InfoNCE with the known conditional as critic).
    """
    mix, values = _sampled(
        means,
        variances,
        key=key,
        seed=seed,
        n_draws=n_draws,
        chunk_size=chunk_size,
        times=times,
        path=path,
        stats=("nce",),
    )
    return _lower(mix, values["nce"])


def loo_upper(
    means: Any,
    variances: Any,
    *,
    key: jax.Array | None = None,
    seed: int | None = None,
    n_draws: int = 8,
    chunk_size: int | None = None,
    times: Any = None,
    path: Path = "auto",
) -> MIEstimate:
    """Leave-one-out upper bound on I(X;Z) for X uniform over N points, Z|x_i ~ N(mu_i, s_i I).

    I_U = log(N-1) + (1/N) sum_i [S_ii - logsumexp_{j != i} S_ij], S_ij = log N(z_i; mu_j, s_j I),
    averaged over `n_draws` draws and capped at log N. Arguments as in `infonce_and_loo`, whose
    upper half this is (same draws, same numbers); only this bound's reductions are computed.

    Returns:
      `MIEstimate(value, se)`, (T,) or scalar, nats.

    Reference: Poole et al., ICML 2019 (leave-one-out upper bound with known conditional).
    """
    mix, values = _sampled(
        means,
        variances,
        key=key,
        seed=seed,
        n_draws=n_draws,
        chunk_size=chunk_size,
        times=times,
        path=path,
        stats=("loo",),
    )
    return _upper(mix, values["loo"])


def mc_estimate(
    means: Any,
    variances: Any,
    *,
    key: jax.Array | None = None,
    seed: int | None = None,
    n_samples: int | None = None,
    control_variate: bool = False,
    chunk_size: int | None = None,
    times: Any = None,
    path: Path = "auto",
) -> MIEstimate:
    """Monte Carlo estimate of the exact I(X;Z) = H(Z) - H(Z|X) of a Gaussian mixture.

    H(Z) = -E_{z~p} log p(z), p = (1/N) sum_j N(mu_j, s_j I_k), estimated from R stratified
    replicas (one z per component each, R = ceil(n_samples / N) >= 2); H(Z|X) is exact:

        I_MC = (1/R) sum_r [ -(1/N) sum_i log p(z_ri) ] - (1/N) sum_i (k/2) log(2 pi e s_i).

    With `control_variate=True` the pointwise form (1/(RN)) sum [log p_i(z_ri) - log p(z_ri)]
    is used instead: same expectation, much lower variance for separated or identical
    components (it equals the full-batch InfoNCE value averaged over R draws).

    Args:
      means, variances, key, seed, chunk_size, times, path: as in `infonce_and_loo`.
      n_samples: total samples of z (default 16 per component).
      control_variate: use the pointwise-MI form instead of the entropy form.

    Returns:
      `MIEstimate(value, se)`, (T,) or scalar, nats; se = std over replicas / sqrt(R).

    Reference: Goldfeld et al., "Estimating Information Flow in Deep Neural Networks",
    ICML 2019 (sample-propagation estimator, MC integration of the Gaussian-smoothed entropy).
    """
    n = np.shape(means)[-2] if np.ndim(means) >= 2 else 2
    if n_samples is None:
        replicas = 16
    else:
        replicas = max(2, -(-check_count("n_samples", n_samples, 1, "samples of z") // n))
    stat = "nce" if control_variate else "mc"
    mix, values = _sampled(
        means,
        variances,
        key=key,
        seed=seed,
        n_draws=replicas,
        chunk_size=chunk_size,
        times=times,
        path=path,
        stats=(stat,),
    )
    return finish(*mean_and_se(values[stat]), mix.batched)


# ----------------------------------------------------------------------------------------------
# Pairwise-distance bounds.
# ----------------------------------------------------------------------------------------------


@with_float64
def _pairwise(means, variances, kind: str, chunk_size: int | None, path: Any) -> MIEstimate:
    mix = as_mixture(means, variances)
    path = resolve_path(path)
    t, n, k = mix.means.shape
    width = k * k if mix.full and kind == "bhattacharyya" else 1
    chunk = chunk_rows(chunk_size, n, width, n, path)
    value = kernels.pairwise_statistics(
        mix.means, mix.variances, full=mix.full, kind=kind, chunk=chunk, path=path
    )
    value = np.clip(np.asarray(value), 0.0, np.log(n))  # round-off only: 0 <= bound <= log N
    return finish(value, np.zeros_like(value), mix.batched)


def pairwise_kl_upper(
    means: Any, variances: Any, *, chunk_size: int | None = None, path: Path = "auto"
) -> MIEstimate:
    """Kolchinsky-Tracey KL upper bound on I(X;Z) for a uniform Gaussian mixture.

    H_KL = sum_i c_i H(p_i) - sum_i c_i ln sum_j c_j exp(-KL(p_i || p_j)) >= H(Z), c_i = 1/N, so

        I_KL = H_KL - H(Z|X) = log N - (1/N) sum_i logsumexp_j [-KL(p_i || p_j)],

    KL(p_i || p_j) = (k/2)[s_i/s_j - 1 - log(s_i/s_j)] + |mu_i - mu_j|^2 / (2 s_j) (shared
    variances) or 1/2 [tr(P_j S_i) + d^T P_j d - k + log det S_j - log det S_i] (full).

    Args:
      means: (N, k) or (T, N, k).
      variances: (N,) / (T, N) shared variances, or (N, k, k) / (T, N, k, k) covariances.
      chunk_size: rows of the (N, N) divergence matrix computed at once.
      path: 'auto', 'fused' (CPU) or 'matmul' (GPU/TPU); see `infonce_and_loo`.

    Returns:
      `MIEstimate(value, se=0)`, (T,) or scalar, nats, in [0, log N].

    Reference: Kolchinsky & Tracey, "Estimating Mixture Entropy with Pairwise Distances",
    Entropy 19:361 (2017), eq. (8) with D = KL (Theorem 2).
    """
    return _pairwise(means, variances, "kl", chunk_size, path)


def pairwise_bhattacharyya_lower(
    means: Any, variances: Any, *, chunk_size: int | None = None, path: Path = "auto"
) -> MIEstimate:
    """Kolchinsky-Tracey Bhattacharyya lower bound on I(X;Z) for a uniform Gaussian mixture.

    I_BD = log N - (1/N) sum_i logsumexp_j [-BD(p_i, p_j)] <= I(X;Z), with
    BD = (1/8) d^T Sbar^{-1} d + 1/2 log(det Sbar / sqrt(det S_i det S_j)), Sbar = (S_i + S_j)/2,
    d = mu_i - mu_j; for shared variances BD = |d|^2 / (4 (s_i + s_j)) + (k/2) log(sbar /
    sqrt(s_i s_j)). The full-covariance option costs O(N^2 k^3).

    Args:
      means, variances, chunk_size, path: as in `pairwise_kl_upper`.

    Returns:
      `MIEstimate(value, se=0)`, (T,) or scalar, nats, in [0, log N].

    Reference: Kolchinsky & Tracey, Entropy 19:361 (2017), eq. (8) with the Chernoff
    alpha = 1/2 divergence (Theorem 3, Corollary).
    """
    return _pairwise(means, variances, "bhattacharyya", chunk_size, path)


# ----------------------------------------------------------------------------------------------
# Entropies and the one-call API.
# ----------------------------------------------------------------------------------------------


def conditional_entropy(means: Any, variances: Any) -> Any:
    """H(Z|X) = (1/N) sum_i (k/2) log(2 pi e s_i) (or 1/2 log det(2 pi e S_i)), in nats.

    Args:
      means: (N, k) or (T, N, k) (only k and the shapes are used).
      variances: (N,) / (T, N) or full (N, k, k) / (T, N, k, k). Zero variances give -inf.

    Returns:
      (T,) float64 array, or a scalar without a time axis.
    """
    mix = as_mixture(means, variances)
    k = mix.means.shape[-1]
    with np.errstate(divide="ignore"):
        if mix.full:
            sign, logdet = np.linalg.slogdet(mix.variances)
            logdet = np.where(sign > 0, logdet, -np.inf)
            value = np.mean(0.5 * (k * np.log(2 * np.pi * np.e) + logdet), axis=-1)
        else:
            value = np.mean(0.5 * k * np.log(2 * np.pi * np.e * mix.variances), axis=-1)
    return value if mix.batched else value[0]


def mutual_information(
    means: Any, variances: Any, *, method: str = "infonce", path: Path = "auto", **kwargs: Any
) -> MIEstimate:
    """I(X;Z) for X uniform over the N components and Z|x_i ~ N(mu_i, s_i I_k) (or N(mu_i, S_i)).

    Dispatches to: 'infonce' -> `infonce_lower`, 'loo' -> `loo_upper`, 'pairwise_kl' ->
    `pairwise_kl_upper`, 'pairwise_bhattacharyya' -> `pairwise_bhattacharyya_lower`,
    'mc' -> `mc_estimate`; `kwargs` go to that function (key/seed, n_draws, n_samples,
    chunk_size, and for the sampled methods `times`: per-time keys independent of the grid).

    Args:
      means: (N, k) or (T, N, k).
      variances: (N,) / (T, N) shared variances, or (N, k, k) / (T, N, k, k) covariances.
      method: one of `METHODS`.
      path: 'auto', 'fused' (CPU) or 'matmul' (GPU/TPU); see `infonce_and_loo`.

    Returns:
      `MIEstimate(value, se)`: (T,) float64 arrays with a time axis, float64 scalars without;
      nats; se = 0 for the deterministic pairwise bounds.
    """
    functions = {
        "infonce": infonce_lower,
        "loo": loo_upper,
        "pairwise_kl": pairwise_kl_upper,
        "pairwise_bhattacharyya": pairwise_bhattacharyya_lower,
        "mc": mc_estimate,
    }
    if method not in functions:
        raise ValueError(
            f"`method` must be one of {', '.join(map(repr, METHODS))}; got {method!r}."
        )
    return functions[method](means, variances, path=path, **kwargs)


def entropy(
    means: Any, variances: Any, *, method: str = "mc", path: Path = "auto", **kwargs: Any
) -> MIEstimate:
    """Differential entropy H(Z) of the uniform Gaussian mixture: I(X;Z) + H(Z|X), in nats.

    `method` as in `mutual_information`: 'pairwise_bhattacharyya' / 'infonce' give lower
    bounds (in expectation), 'pairwise_kl' / 'loo' upper bounds, 'mc' an estimate. Zero
    variances give -inf (H(Z) of a discrete Z is not a differential entropy). `path` and
    `kwargs` as in `mutual_information`.

    Returns:
      `MIEstimate(value, se)`, (T,) or scalar.

    Reference: Kolchinsky & Tracey, Entropy 19:361 (2017); Goldfeld et al., ICML 2019.
    """
    info = mutual_information(means, variances, method=method, path=path, **kwargs)
    return MIEstimate(info.value + conditional_entropy(means, variances), info.se)
