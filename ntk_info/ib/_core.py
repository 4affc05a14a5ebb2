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

from ntk_info.discrete import _quiet, log_normalize, logsumexp

# log of "zero" used where log p(y|t) = -inf meets p(y|x) = 0 in a matrix product: 0 * -1e200 = 0.
LOG_ZERO = -1e200

# log-probabilities below this are flushed to -inf (exp would be subnormal, < 2.2e-308 ~ e^-708).
LOG_TINY = -700.0
TINY = float(np.exp(LOG_TINY))

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
    with _quiet(xp):
        encoder = xp.exp(state.log_encoder)
    new_state, _, change = fused_sweep(state, encoder, beta, data, method, xp)
    return new_state, change


def fused_sweep(
    state: State, encoder: Any, beta: Any, data: tuple, method: str, xp: Any, tol: Any = None
) -> tuple[State, Any, Any]:
    """One sweep carrying p(t|x) = exp(log p(t|x)) along: one pass of exp over (T, X).

    Args:
      state: the current state; encoder: exp(state.log_encoder), (T, X).
      tol: the stopping tolerance, or None; with it the JS change is only computed exactly
        when its bounds do not decide `change < tol` (see `_js_change`).

    Returns:
      (new state, its p(t|x), the change: mean_x JS(p_new(t|x), p_old(t|x)), or a bound on
      it on the same side of tol).
    """
    log_px = data[-1]
    alive = xp.isfinite(state.log_pt)
    distortion = DISTORTIONS[method](state.params, data, xp)
    logits = xp.where(alive[:, None], state.log_pt[:, None] - beta * distortion, -xp.inf)
    # (2) softmax over t: one exp; log p(t|x) = shifted - log(total) without a second pass.
    top = xp.max(logits, axis=0, keepdims=True)
    top = xp.where(xp.isfinite(top), top, 0.0)
    shifted = logits - top
    weights = xp.exp(shifted)
    total = xp.sum(weights, axis=0, keepdims=True)
    log_encoder = shifted - xp.log(total)
    # p(t|x) < e^-700 ~ 1e-304 is set to 0: subnormal floats slow every later product ~10x.
    tiny = log_encoder < LOG_TINY
    log_encoder = xp.where(tiny, -xp.inf, log_encoder)
    new_encoder = xp.where(tiny, 0.0, weights / total)
    # (3)-(5) in probability space: p(t) = sum_x p(t|x) p(x), p(x|t) = p(t|x) p(x) / p(t).
    px = xp.exp(log_px)
    joint = new_encoder * px[None, :]
    pt = xp.sum(joint, axis=1)
    new_alive = pt > 0
    log_pt = xp.log(xp.where(new_alive, pt, 1.0))
    log_pt = xp.where(new_alive, log_pt, -xp.inf)
    px_t = xp.where(new_alive[:, None], joint / xp.where(new_alive, pt, 1.0)[:, None], px[None, :])
    px_t = xp.where(px_t < TINY, 0.0, px_t)
    params = DECODERS[method](px_t, data, xp)
    change = _js_change(new_encoder, log_encoder, encoder, state.log_encoder, tol, xp)
    return State(log_encoder, log_pt, params), new_encoder, change


# JS/U lies in [1/2, log 2] for U = sum (p - q)^2 / (2 (p + q)) (term by term: the ratio is
# KL(Bern(r) || Bern(1/2)) / (2r - 1)^2 with r = p / (p + q), 1/2 at r = 1/2, log 2 at r = 0, 1).
_JS_LOWER = 0.5 * (1.0 - 1e-9)
_JS_UPPER = np.log(2.0) * (1.0 + 1e-9)


def _js_exact(p: Any, log_p: Any, q: Any, log_q: Any, xp: Any) -> Any:
    """mean_x JS(p(.|x), q(.|x)) over axis 0, with log m = log((p + q) / 2): one log pass."""
    with _quiet(xp):
        log_m = xp.log(0.5 * (p + q))
        term_p = xp.where(p > 0, p * (log_p - log_m), 0.0)
        term_q = xp.where(q > 0, q * (log_q - log_m), 0.0)
    return 0.5 * xp.mean(xp.sum(term_p + term_q, axis=0))


def _js_change(p: Any, log_p: Any, q: Any, log_q: Any, tol: Any, xp: Any) -> Any:
    """The mean JS change, or, when tol is given and a bound decides, that bound.

    U = mean_x sum_t (p - q)^2 / (2 (p + q)) needs no transcendental and U/2 <= JS <= U log 2;
    so JS < tol when U log 2 < tol (returns U log 2) and JS >= tol when U/2 >= tol (returns
    U/2); only in between is the exact JS (a log pass over (T, X)) computed. The stopping
    decision, hence every iterate, is that of the exact JS.
    """
    if tol is None:
        return _js_exact(p, log_p, q, log_q, xp)
    total = p + q
    with _quiet(xp):
        ratio = xp.where(total > 0, (p - q) ** 2 / xp.where(total > 0, total, 1.0), 0.0)
    bound = 0.5 * xp.mean(xp.sum(ratio, axis=0))
    low, high = _JS_LOWER * bound, _JS_UPPER * bound
    undecided = (high >= tol) & (low < tol)
    if xp is np:
        return _js_exact(p, log_p, q, log_q, np) if undecided else (high if high < tol else low)
    import jax

    return jax.lax.cond(
        undecided,
        lambda: _js_exact(p, log_p, q, log_q, xp),
        lambda: xp.where(high < tol, high, low),
    )


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
        encoder = np.exp(state.log_encoder)
        while iterations < max_iter and not change < tol:
            state, encoder, change = fused_sweep(state, encoder, beta, data, method, np, tol)
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
            iterations, change, _, _ = carry
            return (iterations < max_iter) & ~(change < tol)

        def body(carry):
            iterations, _, current, encoder = carry
            new_state, new_encoder, change = fused_sweep(
                current, encoder, beta, data, method, jnp, tol
            )
            return iterations + 1, change, new_state, new_encoder

        encoder = jnp.exp(state.log_encoder)
        start = (jnp.asarray(0, dtype=jnp.int64), jnp.asarray(jnp.inf), state, encoder)
        iterations, change, state, _ = jax.lax.while_loop(cond, body, start)
        return state, iterations, change

    _JAX_CONVERGE[method] = jax.jit(converge)
    return _JAX_CONVERGE[method]


def converge_jax(
    state: State, beta: float, tol: float, max_iter: int, data: tuple, method: str
) -> tuple[State, int, float]:
    """Same as `converge_numpy`, as one jitted `lax.while_loop` (float64); returns NumPy.

    Runs on the host CPU whatever JAX's default device: each sweep is a handful of small
    (T, X) products, latency-bound, so a GPU only adds launch and transfer costs.
    """
    import jax

    from ntk_info._jax import float64

    with float64(), jax.default_device(jax.devices("cpu")[0]):
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
