"""Variational lower bounds on I(X;Z) with a trained critic, and known-conditional bounds.

Trained critic f(x, z) (an MLP on the concatenated pair, jax + optax), scores
S_ij = f(x_j, z_i) on a minibatch of B pairs (diagonal: joint pairs; off-diagonal: product
of the marginals):

    MINE / DV (Belghazi et al., ICML 2018): I >= mean_i S_ii - log mean_{i != j} exp S_ij,
        trained with the moving-average gradient-bias correction (their sec. 3.2);
    NWJ (Nguyen, Wainwright & Jordan 2010; Poole et al. 2019 eq. (6)):
        I >= mean_i S_ii - e^{-1} mean_{i != j} exp S_ij;
    InfoNCE (van den Oord et al. 2018): I >= log B + mean_i [S_ii - logsumexp_j S_ij] <= log B.

As in benchmark-mi, inputs are standardised, the critic is trained on one half of the sample
and the bound is evaluated on the other half, batch by batch: the value is the mean over
evaluation batches and the error bar their standard error.

Known conditional p(t|x) = N(t; f(x), sigma^2 I) (Poole et al. 2019; Elad et al. 2019):
`infonce_known_conditional` / `loo_known_conditional` are the minibatch InfoNCE lower and
leave-one-out upper bounds of `ntk_info.mixture`; `mine_known_conditional` is the modified MINE
of Elad et al. (the critic's x-dependence is the known log p(t|x); only a function g(t) of
the output is learned): T(x, t) = log p(t|x) - g(t), optimal at g = log p(t) + const.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np

from ntk_info import mixture
from ntk_info._checks import check_count, check_positive
from ntk_info._jax import with_float64
from ntk_info._mixture_inputs import MIEstimate
from ntk_info.estimators import _mlp
from ntk_info.estimators._validate import samples, standardize_columns

__all__ = [
    "mine",
    "nwj",
    "infonce",
    "infonce_known_conditional",
    "loo_known_conditional",
    "mine_known_conditional",
]

Bound = Literal["dv", "nwj", "infonce"]


def _off_diagonal_mean_exp(scores: jax.Array) -> jax.Array:
    """log mean_{i != j} exp S_ij, stably."""
    b = scores.shape[0]
    masked = jnp.where(jnp.eye(b, dtype=bool), -jnp.inf, scores)
    return jax.scipy.special.logsumexp(masked) - jnp.log(b * (b - 1.0))


def bound_value(scores: jax.Array, bound: str) -> jax.Array:
    """The DV / NWJ / InfoNCE bound of one (B, B) score matrix (diagonal = joint pairs)."""
    joint = jnp.mean(jnp.diag(scores))
    if bound == "dv":
        return joint - _off_diagonal_mean_exp(scores)
    if bound == "nwj":
        return joint - jnp.exp(_off_diagonal_mean_exp(scores) - 1.0)
    b = scores.shape[0]
    return jnp.log(b) + jnp.mean(jnp.diag(scores) - jax.scipy.special.logsumexp(scores, axis=1))


def _pair_scores(params: Any, x: jax.Array, z: jax.Array) -> jax.Array:
    """S_ij = f(x_j, z_i) for all pairs of a batch: (B, B).

    The first layer acts on the concatenation [x, z], so it is split into per-sample
    projections x W_x and z W_z + b that are broadcast-added (B^2 h instead of B^2 h d work).
    """
    (weight, bias), rest = params[0], params[1:]
    d_x = x.shape[1]
    hidden = (x @ weight[:d_x])[None, :, :] + (z @ weight[d_x:] + bias)[:, None, :]
    if not rest:
        return hidden[..., 0]
    return _mlp.apply_mlp(rest, jax.nn.relu(hidden))[..., 0]


def _split(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    return order[: n // 2], order[n // 2 :]


def _check_training(steps, batch_size, learning_rate, seed, n) -> int:
    check_count("steps", steps, 1, "optimisation steps")
    batch_size = check_count("batch_size", batch_size, 2, "off-diagonal pairs need B >= 2")
    check_positive("learning_rate", learning_rate)
    check_count("seed", seed, 0, "a PRNG seed")
    if n < 8:
        raise ValueError(f"need at least 8 samples (half train, half evaluation), got {n}.")
    return min(batch_size, n // 4)  # the evaluation half holds at least two batches


@functools.cache
def _critic_loss(bound: str, ema: float) -> Callable:
    """Training loss of the critic for `bound` (one function object per (bound, ema))."""

    def loss(params, moving, rows, data):
        x, z = data
        scores = _pair_scores(params, x[rows], z[rows])
        if bound != "dv":
            return -bound_value(scores, bound), moving
        # MINE: grad of log E_Q e^T replaced by E_Q[e^T grad T] / (moving average of E_Q e^T).
        mean_exp = jnp.exp(_off_diagonal_mean_exp(scores))
        moving = (1 - ema) * moving + ema * jax.lax.stop_gradient(mean_exp)
        return -(jnp.mean(jnp.diag(scores)) - mean_exp / moving), moving

    return loss


@functools.partial(jax.jit, static_argnums=(3,))
def _batch_bound(params: Any, x: jax.Array, z: jax.Array, bound: str) -> jax.Array:
    return bound_value(_pair_scores(params, x, z), bound)


@with_float64
def _critic_bound(x, z, bound, *, hidden, steps, batch_size, learning_rate, ema, seed):
    x, z = samples(x, z, min_samples=2)
    batch_size = _check_training(steps, batch_size, learning_rate, seed, x.shape[0])
    x, z = jnp.asarray(standardize_columns(x)), jnp.asarray(standardize_columns(z))
    train_rows, eval_rows = _split(x.shape[0], seed)
    key = jax.random.PRNGKey(seed)
    params = _mlp.init_mlp(key, (x.shape[1] + z.shape[1], *hidden, 1))
    params, _ = _mlp.train(
        _critic_loss(bound, ema),
        params,
        jnp.asarray(1.0),
        (x[train_rows], z[train_rows]),
        n=len(train_rows),
        steps=steps,
        batch_size=batch_size,
        learning_rate=learning_rate,
        key=jax.random.fold_in(key, 1),
    )
    xe, ze = x[eval_rows], z[eval_rows]
    values = np.array(
        [
            float(_batch_bound(params, xe[rows], ze[rows], bound))
            for rows in _mlp.batches(len(eval_rows), batch_size)
        ]
    )
    return _mean_and_se(values)


def _mean_and_se(values: np.ndarray) -> MIEstimate:
    """Mean and standard error of per-batch bounds (at least two batches by construction)."""
    return MIEstimate(float(values.mean()), float(values.std(ddof=1) / np.sqrt(values.size)))


_CRITIC_ARGS = """
    Args:
      x: (n, d_x) samples (n >= 8).
      z: (n, d_z) samples, row i paired with row i of x.
      hidden: hidden-layer widths of the critic MLP (benchmark-mi: (16, 8)).
      steps: Adam steps (benchmark-mi: 10 000).
      batch_size: pairs per batch B (benchmark-mi: 256; capped at n // 4 so that the
        held-out half gives at least two batches for the error bar).
      learning_rate: Adam step size.
      seed: seed of the split, the initialisation and the batches.

    Returns:
      `MIEstimate(value, se)`: mean and standard error of the bound over the evaluation
      batches of the held-out half, nats.
"""


def mine(
    x: Any,
    z: Any,
    *,
    hidden: tuple[int, ...] = (16, 8),
    steps: int = 2000,
    batch_size: int = 256,
    learning_rate: float = 1e-3,
    ema: float = 0.01,
    seed: int = 0,
) -> MIEstimate:
    """MINE: Donsker-Varadhan lower bound with a trained critic and moving-average correction.

    I >= E_P[T] - log E_{P_X x P_Z}[e^T]; the gradient of the log term uses a moving average
    m <- (1 - ema) m + ema E_Q[e^T] in its denominator (Belghazi et al., ICML 2018, sec. 3.2).
    `ema` in (0, 1] is the moving-average rate (default 0.01). Other arguments below.
    """
    if not 0 < float(ema) <= 1:
        raise ValueError(f"`ema` must be in (0, 1], got {ema}.")
    return _critic_bound(
        x,
        z,
        "dv",
        hidden=hidden,
        steps=steps,
        batch_size=batch_size,
        learning_rate=learning_rate,
        ema=float(ema),
        seed=seed,
    )


def nwj(
    x: Any,
    z: Any,
    *,
    hidden: tuple[int, ...] = (16, 8),
    steps: int = 2000,
    batch_size: int = 256,
    learning_rate: float = 1e-3,
    seed: int = 0,
) -> MIEstimate:
    """NWJ (f-divergence) lower bound with a trained critic: I >= E_P[f] - e^{-1} E_Q[e^f].

    Reference: Nguyen, Wainwright & Jordan, IEEE TIT 2010; Poole et al., ICML 2019, eq. (6).
    """
    return _critic_bound(
        x,
        z,
        "nwj",
        hidden=hidden,
        steps=steps,
        batch_size=batch_size,
        learning_rate=learning_rate,
        ema=0.0,
        seed=seed,
    )


def infonce(
    x: Any,
    z: Any,
    *,
    hidden: tuple[int, ...] = (16, 8),
    steps: int = 2000,
    batch_size: int = 256,
    learning_rate: float = 1e-3,
    seed: int = 0,
) -> MIEstimate:
    """InfoNCE lower bound with a trained critic: log B + mean_i [f_ii - logsumexp_j f_ij] <= log B.

    Reference: van den Oord, Li & Vinyals, arXiv 1807.03748 (2018); Poole et al., ICML 2019.
    """
    return _critic_bound(
        x,
        z,
        "infonce",
        hidden=hidden,
        steps=steps,
        batch_size=batch_size,
        learning_rate=learning_rate,
        ema=0.0,
        seed=seed,
    )


mine.__doc__ += _CRITIC_ARGS
nwj.__doc__ += _CRITIC_ARGS
infonce.__doc__ += _CRITIC_ARGS


# ----------------------------------------------------------------------------------------------
# Known conditional p(t|x) = N(t; f(x), sigma^2 I).
# ----------------------------------------------------------------------------------------------


def _known(x: Any, z: Any, noise_std: float) -> tuple[np.ndarray, np.ndarray]:
    _, z = samples(x, z, allow_constant=True)
    return z, np.full(z.shape[0], check_positive("noise_std", noise_std) ** 2)


def infonce_known_conditional(
    x: Any, z: Any, *, noise_std: float, n_draws: int = 8, seed: int = 0
) -> MIEstimate:
    """InfoNCE lower bound on I(X;T) with the known critic log p(t|x), T = f(X) + N(0, s^2 I).

    I_L = log n + (1/n) sum_i [log p(t_i|x_i) - logsumexp_j log p(t_i|x_j)] <= log n,
    t_i = f(x_i) + s eps_i, X uniform over the n rows (`mixture.infonce_lower`; for X uniform
    over exactly these rows it is unbiased for I, and a lower bound for the population).

    Args:
      x: (n, d_x) inputs, aligned with z (each row one value of X).
      z: (n, d) clean outputs f(x_i).
      noise_std: s > 0.
      n_draws: independent draws of the noise (>= 2).
      seed: seed of the draws.

    Returns:
      `MIEstimate(value, se)`, nats.

    Reference: Poole et al., ICML 2019, sec. 2.4 (known conditional); Elad et al., ICCV-W 2019.
    """
    means, variances = _known(x, z, noise_std)
    estimate = mixture.infonce_lower(means, variances, seed=seed, n_draws=n_draws)
    return MIEstimate(float(estimate.value), float(estimate.se))


def loo_known_conditional(
    x: Any, z: Any, *, noise_std: float, n_draws: int = 8, seed: int = 0
) -> MIEstimate:
    """Leave-one-out upper bound on I(X;T) with the known p(t|x), T = f(X) + N(0, s^2 I).

    I_U = log(n-1) + (1/n) sum_i [log p(t_i|x_i) - logsumexp_{j != i} log p(t_i|x_j)], capped at
    log n (`mixture.loo_upper`). Arguments as in `infonce_known_conditional`.

    Returns:
      `MIEstimate(value, se)`, nats.

    Reference: Poole et al., ICML 2019, leave-one-out bound; Galloway et al., TMLR 2023.
    """
    means, variances = _known(x, z, noise_std)
    estimate = mixture.loo_upper(means, variances, seed=seed, n_draws=n_draws)
    return MIEstimate(float(estimate.value), float(estimate.se))


def mine_known_conditional(
    x: Any,
    z: Any,
    *,
    noise_std: float,
    hidden: tuple[int, ...] = (16, 8),
    steps: int = 1000,
    batch_size: int = 256,
    learning_rate: float = 1e-3,
    ema: float = 0.01,
    seed: int = 0,
) -> MIEstimate:
    """Elad et al.'s modified MINE: DV bound with critic log p(t|x) - g(t), only g trained.

    T(x, t) = -|t - f(x)|^2 / (2 s^2) - g(t) (the x-independent constant of log p(t|x) cancels
    in DV); I >= E_P[T] - log E_{P_X x P_T}[e^T] for every g, with equality at g = log p(t).
    The noise t = f(x) + s eps is drawn once per sample (seeded); g is trained on one half with
    MINE's moving-average correction and the bound is evaluated on the other half.

    Args:
      x: (n, d_x) inputs (n >= 8), aligned with z.
      z: (n, d) clean outputs f(x_i).
      noise_std: s > 0.
      hidden, steps, batch_size, learning_rate, ema, seed: as in `mine` (g is an MLP on t).

    Returns:
      `MIEstimate(value, se)` over the evaluation batches, nats.

    Reference: Elad, Haviv, Blau & Michaeli, "Direct validation of the information bottleneck
    principle for deep nets", ICCV Workshops 2019 (prior knowledge of the layer relation).
    """
    means, _ = _known(x, z, noise_std)
    return _known_mine(
        means, float(noise_std), hidden, steps, batch_size, learning_rate, float(ema), seed
    )


@functools.cache
def _known_loss(ema: float) -> Callable:
    """Training loss of g in Elad et al.'s critic (one function object per ema)."""

    def loss(params, moving, rows, data):
        score = _known_scores(params, data, rows)
        mean_exp = jnp.exp(_off_diagonal_mean_exp(score))
        moving = (1 - ema) * moving + ema * jax.lax.stop_gradient(mean_exp)
        return -(jnp.mean(jnp.diag(score)) - mean_exp / moving), moving

    return loss


def _known_scores(params: Any, data: tuple, rows: jax.Array) -> jax.Array:
    """S_ij = -|t_i - f(x_j)|^2 / (2 s^2) - g(t_i) on the rows of a batch: (B, B)."""
    t, f, scale, s = data
    sq = jnp.sum((t[rows][:, None, :] - f[rows][None, :, :]) ** 2, axis=-1)
    g = _mlp.apply_mlp(params, t[rows] / scale)[:, 0]
    return -sq / (2 * s**2) - g[:, None]


@jax.jit
def _known_batch_bound(params: Any, data: tuple, rows: jax.Array) -> jax.Array:
    return bound_value(_known_scores(params, data, rows), "dv")


@with_float64
def _known_mine(means, s, hidden, steps, batch_size, learning_rate, ema, seed) -> MIEstimate:
    if not 0 < ema <= 1:
        raise ValueError(f"`ema` must be in (0, 1], got {ema}.")
    batch_size = _check_training(steps, batch_size, learning_rate, seed, means.shape[0])
    rng = np.random.default_rng(seed)
    t = means + s * rng.standard_normal(means.shape)
    train_rows, eval_rows = _split(means.shape[0], seed)
    scale = jnp.asarray(t.std(axis=0))
    key = jax.random.PRNGKey(seed)
    params = _mlp.init_mlp(key, (means.shape[1], *hidden, 1))

    def subset(rows):
        return (jnp.asarray(t[rows]), jnp.asarray(means[rows]), scale, jnp.asarray(s))

    params, _ = _mlp.train(
        _known_loss(ema),
        params,
        jnp.asarray(1.0),
        subset(train_rows),
        n=len(train_rows),
        steps=steps,
        batch_size=batch_size,
        learning_rate=learning_rate,
        key=jax.random.fold_in(key, 1),
    )
    data = subset(eval_rows)
    batches = _mlp.batches(len(eval_rows), batch_size)
    return _mean_and_se(
        np.array([float(_known_batch_bound(params, data, jnp.asarray(r))) for r in batches])
    )
