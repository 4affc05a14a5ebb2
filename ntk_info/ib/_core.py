"""The self-consistent sweep of the IB, the dualIB and the exponential-family dualIB, in log space.

One sweep (spec dualib.md §1, §2, §2.1), vectorised over t, x and y:
  (1) distortion d[t, x] from the current decoder parameters,
  (2) log p(t|x) = log p(t) - beta d[t, x], normalised over t (logsumexp),
  (3) log p(t) = logsumexp_x [log p(t|x) + log p(x)],
  (4) log p(x|t) = log p(t|x) + log p(x) - log p(t)  (p(x) for a dead cluster, p(t) = 0),
  (5) decoder parameters from p(x|t).
The state is (log p(t|x) (T, X), log p(t) (T,), params), params being the log decoder (T, Y) for
the generic solvers and the dual statistics A^beta(t) (T, d) for the exponential family.

The functions take the array module `xp` (numpy or jax.numpy): the same code runs in a NumPy
loop and inside a jitted `lax.while_loop` (backend choice: see `solvers.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, NamedTuple

import numpy as np

from ntk_info.discrete import js_divergence_from_logs, log_normalize, logsumexp

# log of "zero" used where log p(y|t) = -inf meets p(y|x) = 0 in a matrix product: 0 * -1e200 = 0.
LOG_ZERO = -1e200

# log-probabilities below this are flushed to -inf (exp would be subnormal, < 2.2e-308 ~ e^-708).
LOG_TINY = -700.0

METHODS = ("ib", "dualib", "exponential")


class State(NamedTuple):
    """Solver state: log p(t|x) (T, X), log p(t) (T,), decoder parameters (T, Y) or (T, d)."""

    log_encoder: Any
    log_pt: Any
    params: Any


def make_data(method: str, px: np.ndarray, py_x: np.ndarray, lam=None, A=None) -> tuple:
    """The constant arrays one method's sweep needs, as a tuple of float64 NumPy arrays.

    ib: (p(y|x), sum_y p log p (X,), log p(x)); dualib: (log p(y|x), log p(x));
    exponential: (lambda (Y, d), A (d, X), lambda_0(x) (X,), log p(x)).
    """
    log_px = np.log(px)
    if method == "ib":
        with np.errstate(divide="ignore"):
            neg_entropy = np.sum(py_x * np.log(np.where(py_x > 0, py_x, 1.0)), axis=1)
        return (py_x, neg_entropy, log_px)
    if method == "dualib":
        return (np.log(py_x), log_px)
    if method == "exponential":
        logits = -(A.T @ lam.T)
        lam0_x = logsumexp(logits, axis=1)
        return (lam, A, lam0_x, log_px)
    raise ValueError(f"unknown method {method!r}")


def _distortion_ib(params: Any, data: tuple, xp: Any) -> Any:
    """d_IB[t, x] = D[p(y|x) || p(y|t)] = sum_y p(y|x) log p(y|x) - sum_y p(y|x) log p(y|t)."""
    py_x, neg_entropy, _ = data
    log_decoder = xp.maximum(params, LOG_ZERO)
    return neg_entropy[None, :] - log_decoder @ py_x.T


def _decoder_ib(px_t: Any, data: tuple, xp: Any) -> Any:
    """Markov (arithmetic-mean) decoder: log p(y|t) = log sum_x p(x|t) p(y|x)."""
    py_x = data[0]
    mixture = px_t @ py_x
    return xp.log(xp.where(mixture > 0, mixture, 0.0))


def _distortion_dual(params: Any, data: tuple, xp: Any) -> Any:
    """d_dual[t, x] = D[p(y|t) || p(y|x)] = sum_y p(y|t) log p(y|t) - sum_y p(y|t) log p(y|x)."""
    log_py_x = data[0]
    decoder = xp.exp(params)
    neg_entropy = xp.sum(xp.where(decoder > 0, decoder * params, 0.0), axis=1)
    return neg_entropy[:, None] - decoder @ log_py_x.T


def _decoder_dual(px_t: Any, data: tuple, xp: Any) -> Any:
    """Geometric-mean decoder: log p(y|t) = softmax_y of sum_x p(x|t) log p(y|x), in log form."""
    return log_normalize(px_t @ data[0], axis=1, xp=xp)


def _distortion_exponential(params: Any, data: tuple, xp: Any) -> Any:
    """d_dual[t, x] = lambda_bar(t).(A(x) - A^beta(t)) + lambda_0(x) - lambda_0^beta(t).

    log p(y|t) = -lambda(y).A^beta(t) - lambda_0^beta(t); lambda_bar(t) = sum_y p(y|t) lambda(y).
    """
    lam, A, lam0_x, _ = data
    logits = -(params @ lam.T)
    lam0_t = logsumexp(logits, axis=1, xp=xp)
    decoder = xp.exp(logits - lam0_t[:, None])
    lam_bar = decoder @ lam
    return (
        lam_bar @ A - xp.sum(lam_bar * params, axis=1)[:, None] - lam0_t[:, None] + lam0_x[None, :]
    )


def _decoder_exponential(px_t: Any, data: tuple, xp: Any) -> Any:
    """Dual statistics A^beta_r(t) = sum_x p(x|t) A_r(x), shape (T, d)."""
    return px_t @ data[1].T


DISTORTIONS: dict[str, Callable] = {
    "ib": _distortion_ib,
    "dualib": _distortion_dual,
    "exponential": _distortion_exponential,
}
DECODERS: dict[str, Callable] = {
    "ib": _decoder_ib,
    "dualib": _decoder_dual,
    "exponential": _decoder_exponential,
}


def state_from_encoder(log_encoder: Any, data: tuple, method: str, xp: Any) -> State:
    """Steps (3)-(5) of the sweep: p(t), p(x|t) and the decoder parameters from log p(t|x)."""
    log_px = data[-1]
    log_joint = log_encoder + log_px[None, :]
    log_pt = logsumexp(log_joint, axis=1, xp=xp)
    alive = xp.isfinite(log_pt)
    safe_log_pt = xp.where(alive, log_pt, 0.0)
    log_px_t = xp.where(alive[:, None], log_joint - safe_log_pt[:, None], log_px[None, :])
    px_t = xp.where(log_px_t < LOG_TINY, 0.0, xp.exp(log_px_t))
    params = DECODERS[method](px_t, data, xp)
    return State(log_encoder, log_pt, params)


def sweep(state: State, beta: Any, data: tuple, method: str, xp: Any) -> tuple[State, Any]:
    """One self-consistent sweep; returns the new state and mean_x JS(p_new(t|x), p_old(t|x))."""
    alive = xp.isfinite(state.log_pt)
    distortion = DISTORTIONS[method](state.params, data, xp)
    distortion = xp.where(alive[:, None], distortion, 0.0)
    log_encoder = log_normalize(state.log_pt[:, None] - beta * distortion, axis=0, xp=xp)
    # p(t|x) < e^-700 ~ 1e-304 is set to 0: subnormal floats slow every later product ~10x.
    log_encoder = xp.where(log_encoder < LOG_TINY, -xp.inf, log_encoder)
    new_state = state_from_encoder(log_encoder, data, method, xp)
    change = xp.mean(js_divergence_from_logs(log_encoder, state.log_encoder, axis=0, xp=xp))
    return new_state, change


def identity_state(n_x: int, n_clusters: int, data: tuple, method: str) -> State:
    """The beta -> inf solution: cluster t = x for t < |X| (further clusters dead), as NumPy."""
    log_encoder = np.full((n_clusters, n_x), -np.inf)
    log_encoder[np.arange(n_x), np.arange(n_x)] = 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        return state_from_encoder(log_encoder, data, method, np)


def converge_numpy(
    state: State, beta: float, tol: float, max_iter: int, data: tuple, method: str
) -> tuple[State, int, float]:
    """Iterates the sweep in a NumPy loop until the mean JS change < tol or max_iter sweeps."""
    change = np.inf
    iterations = 0
    with np.errstate(divide="ignore", invalid="ignore", under="ignore"):
        while iterations < max_iter and not change < tol:
            state, change = sweep(state, beta, data, method, np)
            iterations += 1
    return state, iterations, float(change)


_JAX_CONVERGE: dict[str, Callable] = {}


def _jax_converge_fn(method: str) -> Callable:
    """The jitted while-loop for one method (built once, cached; recompiles per shape)."""
    if method in _JAX_CONVERGE:
        return _JAX_CONVERGE[method]
    import jax
    import jax.numpy as jnp

    def converge(state, beta, tol, max_iter, data):
        def cond(carry):
            iterations, change, _ = carry
            return (iterations < max_iter) & ~(change < tol)

        def body(carry):
            iterations, _, current = carry
            new_state, change = sweep(current, beta, data, method, jnp)
            return iterations + 1, change, new_state

        start = (jnp.asarray(0, dtype=jnp.int64), jnp.asarray(jnp.inf), state)
        iterations, change, state = jax.lax.while_loop(cond, body, start)
        return state, iterations, change

    _JAX_CONVERGE[method] = jax.jit(converge)
    return _JAX_CONVERGE[method]


def converge_jax(
    state: State, beta: float, tol: float, max_iter: int, data: tuple, method: str
) -> tuple[State, int, float]:
    """Same as `converge_numpy`, as one jitted `lax.while_loop` (float64); returns NumPy."""
    from ntk_info._jax import float64

    with float64():
        fn = _jax_converge_fn(method)
        state, iterations, change = fn(State(*state), beta, tol, max_iter, data)
        state = State(*(np.asarray(a) for a in state))
        return state, int(iterations), float(change)


CONVERGE = {"numpy": converge_numpy, "jax": converge_jax}


def get_converge(backend: str) -> Callable:
    """The converge function of a backend ('numpy' or 'jax')."""
    if backend not in CONVERGE:
        raise ValueError(f"`backend` must be 'numpy' or 'jax', got {backend!r}.")
    return partial(CONVERGE[backend])
