"""The 12-bit input set of Shwartz-Ziv & Tishby with a fixed binary rule, and a trained net on it.

Shared by the issue-10 figures that follow information over the training of a small network:
x in {-1, 1}^12 (all 4096 patterns, as in SZT), labels from a fixed nonlinear rule (the SZT
labels are not distributed with the toolkit), targets +-1 one-hot; an erf (tanh-like) or relu
net 12-10-10-2 (`architectures.fc`) trained by full-batch gradient descent on squared loss.
`train` (`finite.train_ensemble`) records the output layer at log-spaced steps; `train_layers`
trains the same nets with the same steps and records every layer (both hidden layers after
their activation, and the output), as Saxe et al. and Lorenzen et al. plot them;
`train_parameters` returns the same nets' parameters, and `noisy_layer_samples` evaluates one
as Goldfeld et al.'s noisy net (N(0, beta^2 I) after every layer, R noise chains per input).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from ntk_info import finite
from ntk_info.architectures import fc

SEED = 0
WIDTH, W_STD, B_STD = 10, 2.0**0.5, 0.1
LAYER_NAMES = ("hidden 1", "hidden 2", "output")


def network(activation: str):
    """(init_fn, apply_fn, kernel_fn) of the 12-10-10-2 net (`architectures.fc`, NTK param.)."""
    return fc(3, width=WIDTH, activation=activation, out_dim=2, W_std=W_STD, b_std=B_STD)


def record_steps(steps: int, records: int) -> np.ndarray:
    """Step 0 and `records - 1` log-spaced steps up to `steps` (duplicates merged)."""
    record = np.geomspace(1, steps, records - 1).round().astype(int)
    return np.unique(np.r_[0, record])


def dataset() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x (4096, 12) in {-1, 1}, labels (4096,) in {0, 1}, targets (4096, 2) in {-1, 1})."""
    x = np.array(list(itertools.product([-1.0, 1.0], repeat=12)))
    w = np.random.default_rng(0).standard_normal(12)
    score = np.tanh(x @ w / 2) + 0.5 * np.sin(x[:, :3].sum(1))
    labels = (score > np.median(score)).astype(int)
    return x, labels, np.stack([1 - 2 * labels, 2 * labels - 1], axis=1).astype(float)


def train(
    *, networks: int, steps: int, records: int, activation: str = "erf", lr: float = 0.5
) -> finite.TrainedEnsemble:
    """`networks` independently initialised nets trained on `dataset()`; outputs recorded at
    step 0 and `records - 1` log-spaced steps up to `steps`."""
    x, _, targets = dataset()
    init_fn, apply_fn, _ = network(activation)
    return finite.train_ensemble(
        init_fn,
        apply_fn,
        x,
        targets,
        x[:1],
        n_networks=networks,
        learning_rate=lr,
        steps=steps,
        record_steps=record_steps(steps, records),
        seed=SEED,
    )


@dataclass(frozen=True)
class LayerRecord:
    """Every layer's activations of M trained nets at S recorded steps.

    Attributes:
      steps: (S,) gradient-descent steps (0 = initialisation).
      layers: one (M, S, n, width) array per layer, in `LAYER_NAMES` order: the two hidden
        layers after their activation, then the (linear) output layer.
      names: `LAYER_NAMES`.
    """

    steps: np.ndarray
    layers: tuple[np.ndarray, ...]
    names: tuple[str, ...] = LAYER_NAMES


def _activation_function(activation: str):
    import jax

    functions = {"erf": jax.scipy.special.erf, "relu": jax.nn.relu, "tanh": jax.numpy.tanh}
    if activation not in functions:
        raise ValueError(f"`activation` must be one of {sorted(functions)}, got {activation!r}.")
    return functions[activation]


def layer_activations(params, x, activation: str) -> tuple:
    """Every layer of the `network(activation)` at `params`, computed layer by layer.

    h_0 = x; z_l = (W_std / sqrt(fan_in)) h_{l-1} W_l + b_std b_l (stax `Dense`, NTK
    parameterization); h_l = phi(z_l) for the hidden layers, the output is z_L (no activation).

    Args:
      params: the stax `serial` parameters [(W_1, b_1), (), (W_2, b_2), (), (W_3, b_3)].
      x: (n, 12) inputs.
      activation: 'erf', 'relu' or 'tanh'.

    Returns:
      (h_1 (n, 10), h_2 (n, 10), f (n, 2)).
    """
    import jax.numpy as jnp

    phi = _activation_function(activation)
    dense = [p for p in params if len(p) == 2]
    h, out = x, []
    for i, (w, b) in enumerate(dense):
        z = (W_STD / jnp.sqrt(h.shape[-1])) * (h @ w) + B_STD * b
        h = z if i == len(dense) - 1 else phi(z)
        out.append(h)
    return tuple(out)


def train_layers(
    *, networks: int, steps: int, records: int, activation: str = "erf", lr: float = 0.5
) -> LayerRecord:
    """`train`'s nets (same seeds, steps, float32 dynamics), every layer recorded.

    Every net j starts from `network(activation)`'s init at `jax.random.split(PRNGKey(SEED),
    networks)[j]` and takes full-batch steps theta <- theta - lr grad 0.5 mean((f(X) - Y)^2), as
    `finite.train_ensemble` does; at each of `record_steps(steps, records)` the layers are
    evaluated on all 4096 inputs (`layer_activations`).

    Returns:
      `LayerRecord` with layers (networks, S, 4096, 10), (…, 10), (…, 2).
    """
    import jax
    import jax.numpy as jnp

    xd = jnp.asarray(dataset()[0], jnp.float32)
    layers = jax.jit(jax.vmap(lambda p: layer_activations(p, xd, activation)))
    steps_recorded, recorded = [], []
    for step, params in _descent(networks, steps, records, activation, lr):
        steps_recorded.append(step)
        recorded.append([np.asarray(h, dtype=np.float64) for h in layers(params)])
    per_layer = tuple(np.stack(step_layers, axis=1) for step_layers in zip(*recorded, strict=True))
    return LayerRecord(steps=np.asarray(steps_recorded), layers=per_layer)


def _descent(networks: int, steps: int, records: int, activation: str, lr: float):
    """Yields (step, float32 parameters of every net) at each `record_steps(steps, records)`:
    init at `jax.random.split(PRNGKey(SEED), networks)`, full-batch gradient descent."""
    import jax
    import jax.numpy as jnp

    _activation_function(activation)
    x, _, targets = dataset()
    init_fn, apply_fn, _ = network(activation)
    xd, yd = jnp.asarray(x, jnp.float32), jnp.asarray(targets, jnp.float32)
    keys = jax.random.split(jax.random.PRNGKey(SEED), networks)
    params = jax.jit(jax.vmap(lambda key: init_fn(key, xd.shape)[1]))(keys)
    params = jax.tree_util.tree_map(lambda p: p.astype(jnp.float32), params)
    advance = _trainer(apply_fn)
    eta, done = jnp.float32(lr), 0
    for target in record_steps(steps, records):
        params = advance(params, xd, yd, eta, int(target - done))
        done = int(target)
        yield int(target), params


def _trainer(apply_fn):
    """jit((params, x, y, eta, n) -> params after n GD steps on 0.5 mean((f - y)^2)), vmapped."""
    import jax
    import jax.numpy as jnp

    def step(params, x, y, eta):
        grads = jax.grad(lambda p: 0.5 * jnp.mean((apply_fn(p, x) - y) ** 2))(params)
        return jax.tree_util.tree_map(lambda p, g: p - eta * g, params, grads)

    block_step = jax.vmap(step, in_axes=(0, None, None, None))

    def advance(params, x, y, eta, n_steps):
        return jax.lax.fori_loop(0, n_steps, lambda _, p: block_step(p, x, y, eta), params)

    return jax.jit(advance)


def train_parameters(
    *, networks: int, steps: int, records: int, activation: str = "erf", lr: float = 0.5
) -> tuple[np.ndarray, list]:
    """`train_layers`'s nets and steps, their parameters (not activations) at each record.

    Same initialisation (`jax.random.split(PRNGKey(SEED), networks)`) and float32 full-batch
    gradient descent on 0.5 mean((f(X) - Y)^2) as `train_layers`, so `layer_activations` of
    the returned parameters reproduces its layers.

    Returns:
      (steps (S,), [params at each step]): each params the stax `serial` list with a leading
      network axis M on every array, as float64 numpy arrays.
    """
    import jax

    steps_recorded, recorded = [], []
    for step, params in _descent(networks, steps, records, activation, lr):
        steps_recorded.append(step)
        recorded.append(jax.tree_util.tree_map(lambda p: np.asarray(p, np.float64), params))
    return np.asarray(steps_recorded), recorded


def noisy_layer_samples(
    params, x: np.ndarray, activation: str, *, beta: float, replicas: int, seed: int
) -> tuple[np.ndarray, ...]:
    """Clean pre-noise samples S_l of Goldfeld et al.'s noisy version of one net, every layer.

    T_0 = x; S_l = f_l(T_{l-1}) (`layer_activations`' layer l: phi of the NTK-parameterised
    dense map for the hidden layers, the dense map alone for the output); T_l = S_l + beta
    Z_l, Z_l ~ N(0, I) independent across layers, inputs and replicas. S_1 is deterministic;
    S_2, S_3 carry the noise of the earlier layers, `replicas` independent chains per input.

    Args:
      params: one net's stax `serial` parameters (no network axis).
      x: (n, 12) inputs.
      activation: 'erf', 'relu' or 'tanh'.
      beta: noise standard deviation (Goldfeld et al.: 0.1 for the SZT net).
      replicas: R >= 1 chains per input; seed: seed of the Gaussian noise.

    Returns:
      (S_1 (n, 10), S_2 (n, R, 10), S_3 (n, R, 2)), float64.

    Reference: Goldfeld et al., "Estimating Information Flow in Deep Neural Networks", ICML
    2019, sec. 2 (T_l = S_l + Z_l, S_l = sigma(A_l T_{l-1} + b_l)).
    """
    import scipy.special

    _activation_function(activation)
    phi = {"erf": scipy.special.erf, "relu": lambda z: np.maximum(z, 0.0), "tanh": np.tanh}[
        activation
    ]
    rng = np.random.default_rng(seed)
    dense = [[np.asarray(a, np.float64) for a in p] for p in params if len(p) == 2]
    t = np.asarray(x, np.float64)
    out = []
    for i, (w, b) in enumerate(dense):
        z = (W_STD / np.sqrt(t.shape[-1])) * (t @ w) + B_STD * b
        s = z if i == len(dense) - 1 else phi(z)
        out.append(s)
        if i == 0:
            s = np.repeat(s[:, None, :], replicas, axis=1)
        t = s + beta * rng.standard_normal(s.shape)
    return tuple(out)
