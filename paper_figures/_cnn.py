"""A small stochastic 1-D CNN classifier of MNIST-1D signals, trained by Adam, recorded per layer.

Architecture (plain jax, float64): Conv(8, 5, stride 2) -> ReLU -> Conv(8, 5, stride 2) -> ReLU
-> Flatten -> Dense(32) -> ReLU -> Dense(10). Butakov et al.'s nets are stochastic: after every
layer l the activation h_l is replaced by

    h_l + sigma * h_l * eps,   eps ~ N(0, I)   (relative Gaussian noise, on at inference too),

(their `mutinfo/torch/layers.py:AdditiveGaussianNoise`, noise-to-signal sigma = 1e-3 in the IB
notebook). Training minimises the softmax cross-entropy of the noisy logits with Adam on
shuffled minibatches; `train` records each layer's noisy activations on a fixed evaluation set
at chosen epochs (0 = at initialisation).

Reference: Butakov, Tolmachev, Malanchuk, Neopryatnaya, Frolov & Andreev, "Information Bottleneck
Analysis of Deep Neural Networks via Lossy Compression", ICLR 2024, sec. 6 (the IB experiment).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ntk_info._jax import with_float64

__all__ = ["LAYERS", "Recording", "init_params", "layer_outputs", "train"]

LAYERS = ("conv1", "conv2", "dense", "logits")
_CONV = ("NWC", "WIO", "NWC")


@dataclass(frozen=True)
class Recording:
    """What `train` saw: per recorded epoch, the layers on the evaluation set and accuracies.

    Attributes:
      epochs: (r,) recorded epochs, ascending, starting at 0.
      layers: r dicts {layer name: (n_eval, width) float64 activations}.
      train_accuracy, test_accuracy: (r,) accuracies of the noisy net (noise on).
    """

    epochs: np.ndarray
    layers: list[dict[str, np.ndarray]]
    train_accuracy: np.ndarray
    test_accuracy: np.ndarray


def init_params(key: jax.Array, length: int, *, channels: int = 8, hidden: int = 32) -> dict:
    """He-initialised weights: conv kernels (5, c_in, c_out), dense (a, b), zero biases."""
    keys = jax.random.split(key, 4)
    after_conv1 = -(-length // 2)  # a stride-2 SAME convolution keeps ceil(L / 2) positions
    flat = channels * -(-after_conv1 // 2)

    def he(k, shape, fan_in):
        return jax.random.normal(k, shape) * jnp.sqrt(2.0 / fan_in)

    return {
        "conv1": (he(keys[0], (5, 1, channels), 5), jnp.zeros(channels)),
        "conv2": (he(keys[1], (5, channels, channels), 5 * channels), jnp.zeros(channels)),
        "dense": (he(keys[2], (flat, hidden), flat), jnp.zeros(hidden)),
        "logits": (he(keys[3], (hidden, 10), hidden), jnp.zeros(10)),
    }


def _noisy(h: jax.Array, key: jax.Array, sigma: float) -> jax.Array:
    """h + sigma * h * eps, eps ~ N(0, I): Butakov et al.'s relative noise."""
    return h + sigma * h * jax.random.normal(key, h.shape)


def layer_outputs(params: dict, x: jax.Array, key: jax.Array, sigma: float) -> list[jax.Array]:
    """The noisy outputs of the four layers on signals x (n, L), each flattened to (n, width)."""
    keys = jax.random.split(key, 4)
    h = x[:, :, None]
    outputs = []
    for i, name in enumerate(("conv1", "conv2")):
        w, b = params[name]
        h = jax.lax.conv_general_dilated(h, w, (2,), "SAME", dimension_numbers=_CONV) + b
        h = _noisy(jax.nn.relu(h), keys[i], sigma)
        outputs.append(h.reshape(h.shape[0], -1))
    w, b = params["dense"]
    h = _noisy(jax.nn.relu(outputs[-1] @ w + b), keys[2], sigma)
    outputs.append(h)
    w, b = params["logits"]
    outputs.append(_noisy(h @ w + b, keys[3], sigma))
    return outputs


def _loss(params: dict, x: jax.Array, classes: jax.Array, key: jax.Array, sigma: float):
    logits = layer_outputs(params, x, key, sigma)[-1]
    return optax.softmax_cross_entropy_with_integer_labels(logits, classes).mean()


@functools.partial(jax.jit, static_argnums=(5, 6, 7))
def _epoch(params, opt_state, x, classes, key, batch_size, sigma, learning_rate):
    """One pass over a random permutation of the training set in minibatches (remainder dropped)."""
    optimizer = optax.adam(learning_rate)
    key_perm, key_noise = jax.random.split(key)
    n_batches = x.shape[0] // batch_size
    rows = jax.random.permutation(key_perm, x.shape[0])[: n_batches * batch_size]
    rows = rows.reshape(n_batches, batch_size)

    def step(carry, inputs):
        params, opt_state = carry
        batch, step_key = inputs
        grads = jax.grad(_loss)(params, x[batch], classes[batch], step_key, sigma)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), None

    (params, opt_state), _ = jax.lax.scan(
        step, (params, opt_state), (rows, jax.random.split(key_noise, n_batches))
    )
    return params, opt_state


@functools.partial(jax.jit, static_argnums=(3,))
def _evaluate(params, x, key, sigma):
    return layer_outputs(params, x, key, sigma)


@with_float64
def train(
    x_train: np.ndarray,
    classes_train: np.ndarray,
    x_eval: np.ndarray,
    classes_eval: np.ndarray,
    *,
    record_epochs: np.ndarray,
    sigma: float = 1e-3,
    batch_size: int = 64,
    learning_rate: float = 1e-3,
    seed: int = 0,
) -> Recording:
    """Trains the stochastic CNN for max(record_epochs) epochs, recording at each record epoch.

    Args:
      x_train: (n, L) signals; classes_train: (n,) integer classes in 0..9.
      x_eval, classes_eval: the fixed evaluation set (also the test set of the accuracy).
      record_epochs: epochs (0 = initialisation) at which the evaluation-set layers are kept.
      sigma: relative noise-to-signal ratio of every layer (Butakov: 1e-3).
      batch_size, learning_rate: Adam minibatch size and step size.
      seed: initialisation, shuffling and noise.

    Returns:
      `Recording` of the noisy layer outputs (noise drawn with one fixed key per record).
    """
    record_epochs = np.unique(np.asarray(record_epochs, dtype=int))
    x_tr, c_tr = jnp.asarray(x_train, jnp.float64), jnp.asarray(classes_train)
    x_ev = jnp.asarray(x_eval, jnp.float64)
    key_init, key_train, key_eval = jax.random.split(jax.random.PRNGKey(seed), 3)
    params = init_params(key_init, x_tr.shape[1])
    opt_state = optax.adam(learning_rate).init(params)
    both = jnp.concatenate([x_ev, x_tr])  # one compiled evaluation for both sets
    n_eval = x_ev.shape[0]
    layers, train_acc, test_acc = [], [], []
    for epoch in range(int(record_epochs[-1]) + 1):
        if epoch > 0:
            step_key = jax.random.fold_in(key_train, epoch)
            params, opt_state = _epoch(
                params, opt_state, x_tr, c_tr, step_key, batch_size, sigma, learning_rate
            )
        if epoch in record_epochs:
            outputs = _evaluate(params, both, jax.random.fold_in(key_eval, epoch), sigma)
            layers.append({n: np.asarray(o[:n_eval]) for n, o in zip(LAYERS, outputs, strict=True)})
            predicted = np.argmax(np.asarray(outputs[-1]), axis=1)
            test_acc.append(float(np.mean(predicted[:n_eval] == classes_eval)))
            train_acc.append(float(np.mean(predicted[n_eval:] == classes_train)))
    return Recording(record_epochs, layers, np.array(train_acc), np.array(test_acc))
