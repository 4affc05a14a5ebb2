"""The jitted pieces of training: the loss of one batch, one epoch (a `lax.scan` over steps),
the evaluation, and the beta schedule. Pure functions of arrays; `Model` and the objective are
static arguments, every number (beta, learning rate, schedule) is traced, so one model compiles
once per shape whatever the hyperparameters.

Optimiser: Adam (optax.scale_by_adam) followed by a step of -learning_rate, i.e. optax.adam.
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from ntk_info.variational.encoders import Model
from ntk_info.variational.losses import (
    batch_metrics,
    categorical_kl,
    cross_entropy,
    log_softmax,
    rate,
    vdualib_loss,
    vib_loss,
)

__all__ = ["Hyper", "Batch", "adam", "beta_at", "batch_loss", "run_epoch", "evaluate"]


class Hyper(NamedTuple):
    """Traced hyperparameters: target beta, learning rate, warm-up start value and length.

    warmup_steps = 0 is the constant schedule.
    """

    beta: Any
    learning_rate: Any
    warmup_start: Any
    warmup_steps: Any


class Batch(NamedTuple):
    """Arrays of a data set: x (n, ...), labels one-hot (n, K), targets for the cross-entropy
    (n, K), log p~(y|x) (n, K)."""

    x: Any
    labels: Any
    targets: Any
    log_noise: Any


@functools.lru_cache(maxsize=1)
def adam() -> optax.GradientTransformation:
    """optax.scale_by_adam() (default b1, b2, eps), built once so jit caches stay valid."""
    return optax.scale_by_adam()


def beta_at(step: Any, hyper: Hyper) -> Any:
    """beta at a global step: the reference's `lerp` warm-up, else constant.

    beta(s) = start + (beta - start) min(s / S, 1) if beta < start and S > 0, else beta
    (spec dualib.md §4: linear from 100 to the target over 4000 steps).
    """
    frac = jnp.minimum(step / jnp.maximum(hyper.warmup_steps, 1), 1.0)
    ramp = hyper.warmup_start + (hyper.beta - hyper.warmup_start) * frac
    use = (hyper.warmup_steps > 0) & (hyper.beta < hyper.warmup_start)
    return jnp.where(use, ramp, hyper.beta)


def _forward(model: Model, params: dict, data: Batch, key: Any) -> tuple[Any, Any, Any, Any]:
    """(rates (n,), log q at a sampled z (n, K), mu, sigma): one reparameterised sample."""
    mu, sigma = model.encode(params, data.x)
    z = mu + sigma * jax.random.normal(key, mu.shape, mu.dtype)
    log_q = log_softmax(model.logits(params, z))
    if model.prior == "backward":
        rates = rate(mu, sigma, *model.backward(params, data.labels))
    else:
        rates = rate(mu, sigma)
    return rates, log_q, mu, sigma


def batch_loss(params: dict, model: Model, objective: str, data: Batch, key: Any, beta: Any) -> Any:
    """The objective's loss on a batch with one sampled z per example (scalar)."""
    rates, log_q, _, _ = _forward(model, params, data, key)
    if objective == "vib":
        return vib_loss(rates, log_q, data.targets, beta)
    return vdualib_loss(rates, log_q, data.log_noise, beta)


@functools.partial(jax.jit, static_argnums=(0, 1, 2, 3))
def run_epoch(
    model: Model,
    objective: str,
    n_steps: int,
    batch_size: int,
    params: dict,
    opt_state: Any,
    data: Batch,
    key: Any,
    first_step: Any,
    hyper: Hyper,
) -> tuple[dict, Any, Any]:
    """One epoch: a seeded permutation, `n_steps` Adam steps on batches of `batch_size`.

    Returns:
      (params, optimiser state, mean training loss over the steps).
    """
    perm_key, step_key = jax.random.split(key)
    order = jax.random.permutation(perm_key, data.x.shape[0])[: n_steps * batch_size]
    order = order.reshape(n_steps, batch_size)
    grad_fn = jax.value_and_grad(batch_loss)

    def step(carry, inputs):
        params, opt_state = carry
        index, i = inputs
        batch = Batch(*(a[index] for a in data))
        beta = beta_at(first_step + i, hyper)
        loss, grads = grad_fn(
            params, model, objective, batch, jax.random.fold_in(step_key, i), beta
        )
        updates, opt_state = adam().update(grads, opt_state, params)
        params = jax.tree_util.tree_map(lambda p, u: p - hyper.learning_rate * u, params, updates)
        return (params, opt_state), loss

    (params, opt_state), losses = jax.lax.scan(
        step, (params, opt_state), (order, jnp.arange(n_steps))
    )
    return params, opt_state, jnp.mean(losses)


@functools.partial(jax.jit, static_argnums=0)
def evaluate(model: Model, params: dict, data: Batch, weights: Any, key: Any, beta: Any) -> dict:
    """Weighted batch-mean metrics of both objectives (one compilation serves both).

    rate (analytic), izy_lower and izy_noise_lower at one sampled z (as the reference's test
    step), loss_vib and loss_vdualib at that z, accuracy at the mean z. `weights` (n,) is a 0/1
    mask, so that padded chunks of one shape serve every data set.
    """
    rates, log_q, mu, _ = _forward(model, params, data, key)
    metrics = batch_metrics(rates, log_q, data.labels, data.log_noise, weights)
    total = jnp.sum(weights)
    ce = cross_entropy(log_q, data.targets)
    kl = categorical_kl(log_q, data.log_noise)
    metrics["loss_vib"] = jnp.sum(weights * (rates + beta * ce)) / total
    metrics["loss_vdualib"] = jnp.sum(weights * (rates + beta * kl)) / total
    log_q_mean = log_softmax(model.logits(params, mu))
    hits = jnp.argmax(log_q_mean, axis=-1) == jnp.argmax(data.labels, axis=-1)
    metrics["accuracy"] = jnp.sum(weights * hits.astype(mu.dtype)) / total
    return metrics


@functools.partial(jax.jit, static_argnums=0)
def predict_proba(model: Model, params: dict, x: Any) -> Any:
    """q(y | z = mu(x)), (n, K): the decoder at the encoder's mean."""
    mu, _ = model.encode(params, x)
    return jax.nn.softmax(model.logits(params, mu), axis=-1)
