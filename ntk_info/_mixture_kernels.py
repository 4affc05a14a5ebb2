"""Jitted numerical cores of `ntk_info.mixture`; they trust their inputs (validated upstream).

Every core works on one time slice and is mapped over the leading time axis with `lax.map`.
Score matrices are computed `chunk` rows at a time, so memory is O(chunk * N), never O(N^2).

Two covariance models share one code path through a *feature map*: the log-density of every
component is affine in features of the query point,

    log N(z; mu_j, Sigma_j) = phi(z) . w_j + a_j,

  isotropic  Sigma_j = s_j I:  phi(z) = [z, |z|^2],       w_j = [mu_j / s_j, -1 / (2 s_j)],
  full       Sigma_j:          phi(z) = [z, vec(z z^T)],  w_j = [P_j mu_j, -vec(P_j) / 2],

with P_j = Sigma_j^{-1}, so a row chunk of the score matrix is one product phi @ w + a followed by
a one-pass logsumexp (`masked_logsumexp`). Two code paths compute it (static argument `path`):

  'fused'   (CPU): phi @ w written as F broadcast multiply-adds and a vectorised float64
            exponential (`exp_nonpositive`), which XLA fuses into one cache-sized loop;
  'matmul'  (GPU/TPU): a plain `phi @ w` (XLA's GEMM) and `jnp.exp`, on large chunks.

They agree to rounding (~1e-14 relative; both exponentials are accurate to < 1e-14).
Means are centred first (the mixture MI is translation invariant) and variances floored
(`floor_variances`) so that the cancellation error of this expansion stays below ~1e-5 nats.
"""

from __future__ import annotations

import math
from functools import partial

import jax
import jax.numpy as jnp
from jax import lax

LOG_2PI = math.log(2.0 * math.pi)

#: Variances (eigenvalues of full covariances) below FLOOR_REL * scale are raised to it, where
#: scale = max(max_i |mu_i - mean(mu)|^2, k * max_i s_i). This makes s = 0 (deterministic
#: outputs) exact in the limit and bounds the rounding error of the expanded squared distance
#: by ~ 2.2e-16 * 4 / FLOOR_REL ~ 1e-5 in every log-density.
FLOOR_REL = 1e-10


# ----------------------------------------------------------------------------------------------
# Preparation: centring, flooring, per-component weights.
# ----------------------------------------------------------------------------------------------


def _scale(mu: jax.Array, top_variance: jax.Array, k: int) -> jax.Array:
    scale = jnp.maximum(jnp.max(jnp.sum(mu**2, axis=-1)), k * top_variance)
    return jnp.where(scale > 0, scale, 1.0)


def prepare_isotropic(means: jax.Array, variances: jax.Array):
    """Centred means (N, k) and floored variances (N,) of one time slice."""
    k = means.shape[-1]
    mu = means - jnp.mean(means, axis=0)
    floor = FLOOR_REL * _scale(mu, jnp.max(variances), k)
    return mu, jnp.maximum(variances, floor)


def prepare_full(means: jax.Array, covariances: jax.Array):
    """Centred means, eigenvalues (N, k) floored, eigenvectors (N, k, k) of one time slice."""
    k = means.shape[-1]
    mu = means - jnp.mean(means, axis=0)
    sym = 0.5 * (covariances + jnp.swapaxes(covariances, -1, -2))
    lam, vec = jnp.linalg.eigh(sym)
    floor = FLOOR_REL * _scale(mu, jnp.max(lam), k)
    return mu, jnp.maximum(lam, floor), vec


def _isotropic_weights(mu: jax.Array, s: jax.Array):
    """(w (k+1, N), a (N,), log_norm (N,)) with log N(z; mu_j, s_j I) = phi(z) . w_j + a_j."""
    k = mu.shape[-1]
    log_norm = -0.5 * k * (LOG_2PI + jnp.log(s))
    w = jnp.concatenate([mu / s[:, None], -0.5 / s[:, None]], axis=1).T
    a = log_norm - 0.5 * jnp.sum(mu**2, axis=1) / s
    return w, a, log_norm


def _isotropic_features(z: jax.Array) -> jax.Array:
    return jnp.concatenate([z, jnp.sum(z**2, axis=-1, keepdims=True)], axis=-1)


def _full_weights(mu: jax.Array, lam: jax.Array, vec: jax.Array):
    """As `_isotropic_weights` for full covariances V diag(lam) V^T; w is (k + k^2, N)."""
    n, k = mu.shape
    precision = jnp.einsum("nab,nb,ncb->nac", vec, 1.0 / lam, vec)
    p_mu = jnp.einsum("nab,nb->na", precision, mu)
    log_norm = -0.5 * (k * LOG_2PI + jnp.sum(jnp.log(lam), axis=1))
    w = jnp.concatenate([p_mu, -0.5 * precision.reshape(n, k * k)], axis=1).T
    a = log_norm - 0.5 * jnp.sum(mu * p_mu, axis=1)
    return w, a, log_norm


def _full_features(z: jax.Array) -> jax.Array:
    outer = z[..., :, None] * z[..., None, :]
    return jnp.concatenate([z, outer.reshape(*z.shape[:-1], -1)], axis=-1)


_UNROLL_FEATURES = 24  # up to this many features, scores are an unrolled multiply-add

#: The two code paths: 'fused' (unrolled multiply-adds + exp_nonpositive), 'matmul' (GEMM + exp).
PATHS = ("fused", "matmul")


def affine_scores(phi: jax.Array, w: jax.Array, a: jax.Array, path: str = "fused") -> jax.Array:
    """Scores phi @ w + a, (C, F) x (F, N) -> (C, N).

    path='fused' with few features writes the product as F broadcast multiply-adds: XLA then
    fuses it with the exponential that consumes it into one vectorised loop, 2-3x faster on CPU
    than a `dot` whose output feeds the exponential (measured in benchmarks/bench_mixture.py).
    path='matmul' (or many features) is one `dot`, XLA's GEMM on an accelerator.
    """
    n_features = phi.shape[-1]
    if path == "matmul" or n_features > _UNROLL_FEATURES:
        return phi @ w + a
    scores = a[None, :]
    for f in range(n_features):
        scores = scores + phi[:, f, None] * w[None, f, :]
    return scores


def _chunked_rows(fn, rows, chunk: int, n_rows: int):
    """Applies `fn` to `chunk` rows at a time of every array in `rows`; returns (n_rows, ...).

    The last chunk is padded by repeating the last row, so padding never changes a code path.
    """
    n_chunks = -(-n_rows // chunk)
    pad = n_chunks * chunk - n_rows

    def reshape(x):
        x = jnp.pad(x, [(0, pad)] + [(0, 0)] * (x.ndim - 1), mode="edge")
        return x.reshape(n_chunks, chunk, *x.shape[1:])

    out = lax.map(fn, tuple(reshape(x) for x in rows))
    return out.reshape(n_chunks * chunk, *out.shape[2:])[:n_rows]


# ----------------------------------------------------------------------------------------------
# A vectorised float64 exponential and a one-pass logsumexp.
# ----------------------------------------------------------------------------------------------

_LOG2_E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01  # ln 2 split in two for an exact argument reduction
_LN2_LO = 1.90821492927058770002e-10
_EXP_TAYLOR = tuple(1.0 / math.factorial(d) for d in range(12))
_EXP_MIN = -708.0  # below: 0 (e^-708 ~ 3e-308 is the smallest normal float64 scale)


def exp_nonpositive(x: jax.Array) -> jax.Array:
    """e^x for float64 x <= ~709, relative error < 1e-14, exactly 0 for x < -708 (and -inf).

    exp(x) = 2^n exp(r), n = round(x / ln 2), |r| <= ln(2)/2, exp(r) by its degree-11 Taylor
    polynomial (remainder (ln2/2)^12 / 12! < 1e-14), 2^n by writing the exponent bits. On CPU
    it fuses and vectorises with the score computation; XLA's float64 `exp` measured 2-3x
    slower there.
    """
    clipped = jnp.maximum(x, _EXP_MIN)
    n = jnp.round(clipped * _LOG2_E)
    r = (clipped - n * _LN2_HI) - n * _LN2_LO
    poly = _EXP_TAYLOR[-1]
    for coefficient in _EXP_TAYLOR[-2::-1]:
        poly = poly * r + coefficient
    scale = lax.bitcast_convert_type((n.astype(jnp.int64) + 1023) << 52, jnp.float64)
    return jnp.where(x < _EXP_MIN, 0.0, poly * scale)


def exponential(path: str):
    """The exponential of a code path: `exp_nonpositive` ('fused') or XLA's `jnp.exp` ('matmul')."""
    return jnp.exp if path == "matmul" else exp_nonpositive


_TINY_SUM = 1e-280  # a row sum below this may have lost terms to underflow: redo exactly


def masked_logsumexp(
    scores: jax.Array, mask: jax.Array, shift: jax.Array, exp=exp_nonpositive
) -> jax.Array:
    """Row-wise log sum_{j not masked} exp(scores_ij), in one pass when that is safe.

    One pass: log sum_j exp(scores_ij - shift) + shift with `shift` an upper bound on every
    score (no overflow). If some row sum falls below 1e-280 (the shift was too far above that
    row's maximum, terms may have underflowed), the chunk is redone with the exact row maximum.

    Args:
      scores: (C, N).
      mask: (C, N) bool, True where a term is left out.
      shift: scalar upper bound on the scores.
      exp: the exponential used on arguments <= 0 (`exponential(path)`).

    Returns:
      (C,) log-sum-exps.
    """
    total = jnp.sum(jnp.where(mask, 0.0, exp(scores - shift)), axis=1)

    def exact(_):
        top = jnp.max(jnp.where(mask, -jnp.inf, scores), axis=1, keepdims=True)
        terms = jnp.where(mask, 0.0, exp(scores - top))
        return jnp.log(jnp.sum(terms, axis=1)) + top[:, 0]

    return lax.cond(jnp.all(total > _TINY_SUM), lambda _: jnp.log(total) + shift, exact, None)


# ----------------------------------------------------------------------------------------------
# Sampled scores: InfoNCE / leave-one-out / Monte Carlo from one pass over the draws.
# ----------------------------------------------------------------------------------------------

#: Per-draw statistics `sampled_statistics` can return (any subset, in any order).
STATISTICS = ("nce", "loo", "mc")


def _off_diagonal_lse(features, w, a, log_norm, chunk: int, path: str):
    """L_di = logsumexp_{j != i} S_dij, S_dij = phi(z_di) . w_j + a_j, one pass over score rows.

    Args:
      features: (D, N, F) features phi(z_di) of the draws z_di ~ p_i.
      w, a: component weights (F, N), offsets (N,).
      log_norm: (N,) log-normalisers; log N(z; mu_j, .) <= log_norm_j, so max_j log_norm_j
        bounds every score (the one-pass shift).
      chunk: rows of the (D N, N) score matrix computed at once.
      path: 'fused' or 'matmul' (see the module docstring).

    Returns:
      (D, N) L_di.
    """
    n_draws, n, n_feat = features.shape
    rows = features.reshape(n_draws * n, n_feat)
    owner = jnp.tile(jnp.arange(n), n_draws)
    columns = jnp.arange(n)
    shift = jnp.max(log_norm)
    exp = exponential(path)

    def lse(args):
        phi, own = args
        scores = affine_scores(phi, w, a, path)
        return masked_logsumexp(scores, own[:, None] == columns[None, :], shift, exp)

    return _chunked_rows(lse, (rows, owner), chunk, n_draws * n).reshape(n_draws, n)


def _isotropic_terms(means, variances, key, n_draws: int, chunk: int, path: str):
    mu, s = prepare_isotropic(means, variances)
    n, k = mu.shape
    eps = jax.random.normal(key, (n_draws, n, k), dtype=mu.dtype)
    z = mu + jnp.sqrt(s)[:, None] * eps
    w, a, log_norm = _isotropic_weights(mu, s)
    own = log_norm - 0.5 * jnp.sum(eps**2, axis=-1)
    lse_off = _off_diagonal_lse(_isotropic_features(z), w, a, log_norm, chunk, path)
    conditional_entropy = jnp.mean(0.5 * k * (1.0 + LOG_2PI + jnp.log(s)))
    return own, lse_off, conditional_entropy


def _full_terms(means, covariances, key, n_draws: int, chunk: int, path: str):
    mu, lam, vec = prepare_full(means, covariances)
    n, k = mu.shape
    eps = jax.random.normal(key, (n_draws, n, k), dtype=mu.dtype)
    z = mu + jnp.einsum("nab,nb,dnb->dna", vec, jnp.sqrt(lam), eps)
    w, a, log_norm = _full_weights(mu, lam, vec)
    own = log_norm - 0.5 * jnp.sum(eps**2, axis=-1)
    lse_off = _off_diagonal_lse(_full_features(z), w, a, log_norm, chunk, path)
    log_det = jnp.sum(jnp.log(lam), axis=1)
    conditional_entropy = jnp.mean(0.5 * (k * (1.0 + LOG_2PI) + log_det))
    return own, lse_off, conditional_entropy


@partial(jax.jit, static_argnames=("full", "n_draws", "chunk", "path"))
def sampled_terms(means, variances, keys, *, full: bool, n_draws: int, chunk: int, path: str):
    """The shared score pass of every sampled estimator, per time slice.

    Slice t draws z_di ~ p_i (d < n_draws) from `keys[t]` and returns the exact own
    log-densities S_dii = log p_i(z_di), the off-diagonal L_di = logsumexp_{j != i} S_dij and
    H(Z|X) = (1/N) sum_i 1/2 log det(2 pi e Sigma_i) (floored variances).

    Returns:
      own (T, D, N), lse_off (T, D, N), conditional_entropy (T,).
    """
    terms_fn = _full_terms if full else _isotropic_terms
    return lax.map(lambda args: terms_fn(*args, n_draws, chunk, path), (means, variances, keys))


@partial(jax.jit, static_argnames=("stat",))
def reduce_terms(own, lse_off, conditional_entropy, *, stat: str):
    """One per-draw statistic (T, D) from the terms of `sampled_terms`:

      nce = log N     + (1/N) sum_i [S_ii - logaddexp(L_i, S_ii)]   (InfoNCE),
      loo = log(N-1)  + (1/N) sum_i [S_ii - L_i]                    (leave-one-out),
      mc  = log N     - (1/N) sum_i logaddexp(L_i, S_ii) - H(Z|X)   (-(1/N) sum log p(z_i) - H).

    Each statistic is its own compiled reduction, so its numbers do not depend on which other
    statistics are asked for.
    """
    n = own.shape[-1]
    if stat == "loo":
        return jnp.log(n - 1.0) + jnp.mean(own - lse_off, axis=-1)
    lse_all = jnp.logaddexp(lse_off, own)
    if stat == "nce":
        return jnp.log(n) + jnp.mean(own - lse_all, axis=-1)
    return jnp.log(n) - jnp.mean(lse_all, axis=-1) - conditional_entropy[:, None]


def sampled_statistics(
    means,
    variances,
    keys,
    *,
    full: bool,
    n_draws: int,
    chunk: int,
    path: str = "fused",
    stats: tuple[str, ...] = STATISTICS,
):
    """Per-time, per-draw statistics named in `stats` ('nce', 'loo', 'mc'), from one score pass.

    Time slice t draws its noise from `keys[t]` (see `sampled_terms`, `reduce_terms`); only the
    reductions in `stats` are computed. `path` selects the code path ('fused' or 'matmul').

    Returns:
      a tuple of (T, D) arrays, in the order of `stats`.
    """
    terms = sampled_terms(
        means, variances, keys, full=full, n_draws=n_draws, chunk=chunk, path=path
    )
    return tuple(reduce_terms(*terms, stat=stat) for stat in stats)


# ----------------------------------------------------------------------------------------------
# Pairwise-distance bounds (Kolchinsky & Tracey 2017).
# ----------------------------------------------------------------------------------------------


def _pairwise_mi(divergence_rows, rows, n: int, chunk: int, path: str):
    """log N - (1/N) sum_i logsumexp_j(-D_ij), with D_ii = 0 set exactly."""
    columns = jnp.arange(n)
    exp = exponential(path)

    def lse(args):
        *row_args, own = args
        d = divergence_rows(*row_args)
        d = jnp.where(own[:, None] == columns[None, :], 0.0, jnp.maximum(d, 0.0))
        return jnp.log(jnp.sum(exp(-d), axis=1))  # >= log 1: D_ii = 0

    values = _chunked_rows(lse, (*rows, jnp.arange(n)), chunk, n)
    return jnp.log(n) - jnp.mean(values)


def _isotropic_pairwise_slice(means, variances, kind: str, chunk: int, path: str):
    mu, s = prepare_isotropic(means, variances)
    n, k = mu.shape
    sq = jnp.sum(mu**2, axis=1)
    log_s = jnp.log(s)
    inv_s = 1.0 / s

    def divergence_rows(mu_r, s_r, sq_r, log_s_r):
        d2 = jnp.maximum(sq_r[:, None] + sq[None, :] - 2.0 * mu_r @ mu.T, 0.0)
        if kind == "kl":
            ratio = s_r[:, None] * inv_s[None, :]
            log_ratio = log_s_r[:, None] - log_s[None, :]
            return 0.5 * k * (ratio - 1.0 - log_ratio) + 0.5 * d2 * inv_s[None, :]
        s_sum = s_r[:, None] + s[None, :]
        log_mean = jnp.log(0.5 * s_sum)
        return d2 / (4.0 * s_sum) + 0.5 * k * (
            log_mean - 0.5 * log_s_r[:, None] - 0.5 * log_s[None, :]
        )

    return _pairwise_mi(divergence_rows, (mu, s, sq, log_s), n, chunk, path)


def _full_pairwise_slice(means, covariances, kind: str, chunk: int, path: str):
    mu, lam, vec = prepare_full(means, covariances)
    n, k = mu.shape
    sigma = jnp.einsum("nab,nb,ncb->nac", vec, lam, vec)
    logdet = jnp.sum(jnp.log(lam), axis=1)

    if kind == "kl":
        # KL_ij = 1/2 [tr(P_j S_i) + (mu_i - mu_j)^T P_j (mu_i - mu_j) - k + logdet_j - logdet_i]
        #       = phi_i . w_j + a_j - logdet_i / 2 with phi_i = [mu_i, vec(S_i + mu_i mu_i^T)].
        w, a, _ = _full_weights(mu, lam, vec)  # log N(x; mu_j, S_j) = phi(x) . w_j + a_j
        second = sigma + mu[:, :, None] * mu[:, None, :]
        phi = jnp.concatenate([mu, second.reshape(n, k * k)], axis=1)
        # -(phi . w_j + a_j) = 1/2 [k log 2pi + logdet_j + tr(P_j S_i) + quad_ij]
        offset = -0.5 * k * (LOG_2PI + 1.0) - 0.5 * logdet

        def divergence_rows(phi_r, offset_r):
            return offset_r[:, None] - affine_scores(phi_r, w, a, path)

        return _pairwise_mi(divergence_rows, (phi, offset), n, chunk, path)

    def divergence_rows(mu_r, sigma_r, logdet_r):
        mean_cov = 0.5 * (sigma_r[:, None] + sigma[None, :])  # (C, N, k, k)
        chol = jnp.linalg.cholesky(mean_cov)
        diff = (mu_r[:, None, :] - mu[None, :, :])[..., None]
        y = jax.scipy.linalg.solve_triangular(chol, diff, lower=True)[..., 0]
        logdet_mean = 2.0 * jnp.sum(jnp.log(jnp.diagonal(chol, axis1=-2, axis2=-1)), axis=-1)
        return 0.125 * jnp.sum(y**2, axis=-1) + 0.5 * (
            logdet_mean - 0.5 * logdet_r[:, None] - 0.5 * logdet[None, :]
        )

    return _pairwise_mi(divergence_rows, (mu, sigma, logdet), n, chunk, path)


@partial(jax.jit, static_argnames=("full", "kind", "chunk", "path"))
def pairwise_statistics(
    means, variances, *, full: bool, kind: str, chunk: int, path: str = "fused"
):
    """Per-time Kolchinsky-Tracey MI bound (T,) for `kind` in {'kl', 'bhattacharyya'}.

    `path` ('fused' or 'matmul') selects the exponential and, for the full-covariance KL, the
    score product (see the module docstring).
    """
    slice_fn = _full_pairwise_slice if full else _isotropic_pairwise_slice
    return lax.map(lambda args: slice_fn(*args, kind, chunk, path), (means, variances))
