"""Small MLPs and one jitted Adam training loop (jax + optax), shared by critics and encoders.

Parameters are a list of (W, b) float64 pairs; hidden layers use ReLU, the last layer is
linear. `train` runs `steps` Adam steps in one `lax.scan` on minibatches of row indices drawn
with replacement, carrying an optional auxiliary state (MINE's moving average).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

__all__ = ["init_mlp", "apply_mlp", "train"]


def init_mlp(key: jax.Array, sizes: Sequence[int]) -> list[tuple[jax.Array, jax.Array]]:
    """He-initialised weights for layer sizes (d_in, h_1, ..., d_out): [(W (a, b), b (b,))]."""
    params = []
    for a, b in zip(sizes[:-1], sizes[1:], strict=True):
        key, sub = jax.random.split(key)
        params.append((jax.random.normal(sub, (a, b)) * jnp.sqrt(2.0 / a), jnp.zeros(b)))
    return params


def apply_mlp(params: list[tuple[jax.Array, jax.Array]], inputs: jax.Array) -> jax.Array:
    """MLP forward pass on (..., d_in) -> (..., d_out); ReLU hidden layers, linear output."""
    hidden = inputs
    for weight, bias in params[:-1]:
        hidden = jax.nn.relu(hidden @ weight + bias)
    weight, bias = params[-1]
    return hidden @ weight + bias


def train(
    loss: Callable[[Any, Any, jax.Array, Any], tuple[jax.Array, Any]],
    params: Any,
    state: Any,
    data: Any,
    *,
    n: int,
    steps: int,
    batch_size: int,
    learning_rate: float,
    key: jax.Array,
) -> tuple[Any, Any]:
    """Minimises `loss(params, state, rows, data) -> (value, new_state)` by Adam.

    `rows` is a (batch_size,) int array of sample indices drawn uniformly with replacement
    from range(n) at every step; `data` (arrays) is passed through. The compiled loop is cached
    per (loss, shapes, steps, batch_size, learning_rate): pass a module-level `loss` (or one
    from a cached factory) so that repeated calls reuse it.

    Returns:
      (params, state) after `steps` steps.
    """
    return _run(loss, params, state, data, key, n, steps, batch_size, float(learning_rate))


@functools.partial(jax.jit, static_argnums=(0, 5, 6, 7, 8))
def _run(loss, params, state, data, key, n, steps, batch_size, learning_rate):
    optimizer = optax.adam(learning_rate)
    grad = jax.grad(loss, has_aux=True)

    def step(carry, step_key):
        params, opt_state, state = carry
        rows = jax.random.randint(step_key, (batch_size,), 0, n)
        grads, state = grad(params, state, rows, data)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state, state), None

    carry, _ = jax.lax.scan(
        step, (params, optimizer.init(params), state), jax.random.split(key, steps)
    )
    return carry[0], carry[2]


def batches(n: int, batch_size: int) -> list[np.ndarray]:
    """Consecutive full batches of range(n) (the remainder is dropped); at least one batch."""
    size = min(batch_size, n)
    return [np.arange(start, start + size) for start in range(0, n - size + 1, size)]
