"""Finite-width ensembles: many networks of width w, trained by full-batch gradient descent.

The infinite-ensemble predictions of `ntk_info.ensemble` are limits of what this module
simulates: M independent initialisations theta_0^(j) of one stax network (NTK
parameterization), each trained by full-batch gradient descent with step size eta on

    L(theta) = 0.5 * mean((f(X; theta) - Y)^2)      (mean over all n * k training outputs),

so that after s steps the network is at neural-tangents time t = eta * s (information_ntk.md §2;
tau = eta * s / (n k)). The networks are vmapped in blocks of `network_block` and the steps run
inside one compiled `lax.fori_loop` between recorded steps, so memory is that of one block and
the Python overhead does not grow with the number of steps.

Training needs only JAX (no neural-tangents import): `init_fn` and `apply_fn` may come from
`ntk_info.architectures.fc` or from any stax / Flax-style pair with the same signatures.
`monte_carlo_kernel_fn` (neural-tangents' Monte Carlo kernels of width-w networks, a drop-in
`kernel_fn` for `InfiniteEnsemble`) and `empirical_kernels` import neural-tangents lazily.
The information quantities of finite ensembles and their convergence in w are in
`ntk_info.width`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ntk_info._checks import as_float_array, check_count, check_positive
from ntk_info._jax import float64

__all__ = [
    "TrainedEnsemble",
    "train_ensemble",
    "empirical_moments",
    "empirical_kernels",
    "monte_carlo_kernel_fn",
]


@dataclass(frozen=True)
class TrainedEnsemble:
    """Outputs of M trained finite-width networks at S recorded steps.

    Attributes:
      steps: (S,) gradient-descent steps at which outputs were recorded (0 = initialisation).
      t: (S,) neural-tangents times learning_rate * steps, to be used with an
        `InfiniteEnsemble` of the default learning_rate = 1 (or use `steps` as times with
        `InfiniteEnsemble(..., learning_rate=eta)`: both mean tau = eta * steps / (n k)).
      test_outputs: (M, S, m, k) outputs f(x_test) of every network at every recorded step.
      train_outputs: (M, S, n, k) outputs f(x_train) likewise.
      learning_rate: the step size eta.
      seed: the seed the initialisations were drawn from.
    """

    steps: np.ndarray
    t: np.ndarray
    test_outputs: np.ndarray
    train_outputs: np.ndarray
    learning_rate: float
    seed: int

    @property
    def n_networks(self) -> int:
        return self.test_outputs.shape[0]

    def test_moments(self) -> tuple[np.ndarray, np.ndarray]:
        """Empirical mean (S, m, k) and variance (S, m) over networks on the test inputs."""
        return empirical_moments(self.test_outputs)

    def train_moments(self) -> tuple[np.ndarray, np.ndarray]:
        """Empirical mean (S, n, k) and variance (S, n) over networks on the training inputs."""
        return empirical_moments(self.train_outputs)


def empirical_moments(outputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ensemble mean and unbiased variance of network outputs.

    mean[s, i, c] = 1/M sum_j f_j[s, i, c];
    var[s, i] = 1/k sum_c 1/(M-1) sum_j (f_j[s, i, c] - mean[s, i, c])^2,
    pooled over the k outputs, which share one variance in the infinite-width limit.

    Args:
      outputs: (M, S, m, k) outputs of M networks, M >= 2.

    Returns:
      mean (S, m, k) and var (S, m).
    """
    outputs = np.asarray(outputs, dtype=np.float64)
    if outputs.ndim != 4 or outputs.shape[0] < 2:
        raise ValueError(
            f"`outputs` must have shape (M, S, m, k) with M >= 2, got {outputs.shape}."
        )
    mean = outputs.mean(axis=0)
    var = outputs.var(axis=0, ddof=1).mean(axis=-1)
    return mean, var


def _check_steps(steps: int, record_steps: Sequence[int] | None) -> np.ndarray:
    if int(steps) != steps or steps < 0:
        raise ValueError(f"`steps` must be an integer >= 0, got {steps}.")
    if record_steps is None:
        return np.array(sorted({0, int(steps)}), dtype=np.int64)
    recorded = np.atleast_1d(np.asarray(record_steps))
    if recorded.ndim != 1 or recorded.size == 0 or not np.issubdtype(recorded.dtype, np.integer):
        raise ValueError(
            f"`record_steps` must be a non-empty 1-D sequence of integers, got {record_steps!r}."
        )
    if np.any(recorded < 0) or np.any(recorded > steps) or np.any(np.diff(recorded) <= 0):
        raise ValueError(
            "`record_steps` must be strictly increasing integers in [0, steps]; "
            f"got {recorded.tolist()} with steps = {steps}."
        )
    return recorded.astype(np.int64)


@functools.lru_cache(maxsize=32)
def _block_trainer(apply_fn: Callable) -> Callable:
    """jit(advance)(params, x, y, eta, n_steps): n_steps GD steps of a vmapped block of networks.

    Cached per `apply_fn` so that repeated calls (other data of the same shapes, other
    learning rates or step counts) reuse one compilation.
    """
    import jax
    import jax.numpy as jnp

    def loss(params, x, y):
        return 0.5 * jnp.mean((apply_fn(params, x) - y) ** 2)

    grad = jax.grad(loss)

    def step(params, x, y, eta):
        grads = grad(params, x, y)
        return jax.tree_util.tree_map(lambda p, g: p - eta * g, params, grads)

    block_step = jax.vmap(step, in_axes=(0, None, None, None))

    def advance(params, x, y, eta, n_steps):
        return jax.lax.fori_loop(0, n_steps, lambda _, p: block_step(p, x, y, eta), params)

    return jax.jit(advance)


@functools.lru_cache(maxsize=32)
def _block_initializer(init_fn: Callable, input_shape: tuple[int, ...]) -> Callable:
    """jit(keys -> params): vmapped `init_fn`, cached per (init_fn, input shape)."""
    import jax

    return jax.jit(jax.vmap(lambda key: init_fn(key, input_shape)[1]))


@functools.lru_cache(maxsize=32)
def _block_outputs(apply_fn: Callable) -> Callable:
    """jit((params, x_test, x_train) -> (f(x_test), f(x_train))) over a block of networks."""
    import jax

    return jax.jit(jax.vmap(lambda p, xt, xd: (apply_fn(p, xt), apply_fn(p, xd)), (0, None, None)))


def train_ensemble(
    init_fn: Callable,
    apply_fn: Callable,
    x_train: Any,
    y_train: Any,
    x_test: Any,
    *,
    n_networks: int,
    learning_rate: float,
    steps: int,
    seed: int = 0,
    record_steps: Sequence[int] | None = None,
    network_block: int = 64,
    use_float64: bool = False,
) -> TrainedEnsemble:
    """Trains `n_networks` independently initialised networks by full-batch gradient descent.

    Every network j starts from theta_0^(j) = init_fn(key_j, x_train.shape) and takes `steps`
    steps theta <- theta - eta * grad L(theta), L = 0.5 * mean((f(X) - Y)^2) over all n * k
    outputs. Its outputs at step s estimate the infinite ensemble at t = eta * s, i.e.
    tau = eta * s / (n k); for small eta (eta * lambda_max(Theta) / (n k) << 1) gradient descent
    follows the gradient flow that `InfiniteEnsemble` solves.

    Args:
      init_fn: stax `init_fn(key, input_shape) -> (output_shape, params)`.
      apply_fn: stax `apply_fn(params, x) -> (batch, k)` outputs.
      x_train: (n, ...features) training inputs.
      y_train: (n, k) targets.
      x_test: (m, ...features) inputs at which outputs are recorded (besides x_train).
      n_networks: ensemble size M >= 1.
      learning_rate: step size eta > 0.
      steps: number of gradient-descent steps >= 0.
      seed: seed of the initialisations; network j uses `jax.random.split(PRNGKey(seed), M)[j]`.
      record_steps: increasing steps in [0, steps] at which outputs are recorded
        (default: 0 and `steps`).
      network_block: networks trained at once (vmapped); bounds the memory.
      use_float64: train in float64 (default float32, which is faster).

    Returns:
      `TrainedEnsemble` with `test_outputs` (M, S, m, k) and `train_outputs` (M, S, n, k).
    """
    import jax
    import jax.numpy as jnp

    x_train = as_float_array("x_train", x_train, min_ndim=2)
    y_train = as_float_array("y_train", y_train, ndim=2)
    x_test = as_float_array("x_test", x_test, min_ndim=2)
    if y_train.shape[0] != x_train.shape[0]:
        raise ValueError(
            f"`y_train` has {y_train.shape[0]} rows but `x_train` has {x_train.shape[0]}."
        )
    if x_test.shape[1:] != x_train.shape[1:]:
        raise ValueError(
            f"`x_test` has feature shape {x_test.shape[1:]} but `x_train` has {x_train.shape[1:]}."
        )
    if int(n_networks) != n_networks or n_networks < 1:
        raise ValueError(f"`n_networks` must be an integer >= 1, got {n_networks}.")
    if int(network_block) != network_block or network_block < 1:
        raise ValueError(f"`network_block` must be an integer >= 1, got {network_block}.")
    learning_rate = check_positive("learning_rate", learning_rate)
    recorded = _check_steps(steps, record_steps)
    n_networks, block = int(n_networks), min(int(network_block), int(n_networks))

    with float64(use_float64):
        dtype = jnp.float64 if use_float64 else jnp.float32
        xd, yd, xt = (jnp.asarray(a, dtype=dtype) for a in (x_train, y_train, x_test))
        keys = jax.random.split(jax.random.PRNGKey(int(seed)), n_networks)
        output_shape = tuple(init_fn(keys[0], tuple(xd.shape))[0])
        if output_shape != tuple(yd.shape):
            raise ValueError(
                f"The network's outputs have shape {output_shape} but `y_train` has "
                f"{tuple(yd.shape)}; build the network with out_dim = {yd.shape[1]}."
            )
        init_block = _block_initializer(init_fn, tuple(xd.shape))
        outputs_block = _block_outputs(apply_fn)
        advance = _block_trainer(apply_fn)
        eta = jnp.asarray(learning_rate, dtype=dtype)
        test_parts, train_parts = [], []
        for start in range(0, n_networks, block):
            block_keys = keys[start : start + block]
            size = block_keys.shape[0]
            if size < block:  # pad with repeated keys so every block compiles once
                block_keys = jnp.concatenate([block_keys, keys[: block - size]])
            params = jax.tree_util.tree_map(lambda p: p.astype(dtype), init_block(block_keys))
            done, test_steps, train_steps = 0, [], []
            for target in recorded:
                params = advance(params, xd, yd, eta, int(target - done))
                done = int(target)
                f_test, f_train = outputs_block(params, xt, xd)
                test_steps.append(np.asarray(f_test, dtype=np.float64)[:size])
                train_steps.append(np.asarray(f_train, dtype=np.float64)[:size])
            test_parts.append(np.stack(test_steps, axis=1))
            train_parts.append(np.stack(train_steps, axis=1))
    return TrainedEnsemble(
        steps=recorded,
        t=learning_rate * recorded.astype(np.float64),
        test_outputs=np.concatenate(test_parts),
        train_outputs=np.concatenate(train_parts),
        learning_rate=learning_rate,
        seed=int(seed),
    )


def empirical_kernels(
    apply_fn: Callable,
    params: Any,
    x1: Any,
    x2: Any = None,
    *,
    get: tuple[str, ...] = ("nngp", "ntk"),
    implementation: int = 1,
    use_float64: bool = True,
) -> dict[str, np.ndarray]:
    """Empirical NNGP and NTK of one finite network at `params` (neural-tangents).

    nngp(x, x') = <f(x), f(x')> and ntk(x, x') = <J(x), J(x')> over the logits, as
    neural-tangents' `empirical_kernel_fn` with `trace_axes=(-1,)` computes them.
    Both converge to the analytic kernels as the width grows (Jacot et al. 2018).

    Args:
      apply_fn: the network's `apply_fn(params, x)`.
      params: its parameters.
      x1: (n1, ...features) inputs; x2: (n2, ...features) or None for (x1, x1).
      get: kernel names.
      implementation: neural-tangents' NTK implementation, 1 (Jacobian contraction) or 2
        (NTK-vector products); 3 (structured derivatives) is refused: it is broken with
        neural-tangents 0.6.5 on every JAX version.
      use_float64: compute in float64 (default).

    Returns:
      dict name -> (n1, n2) float64 array.
    """
    from ntk_info._nt import check_empirical_implementation
    from ntk_info._nt import load as load_neural_tangents

    check_empirical_implementation(implementation)
    x1 = as_float_array("x1", x1, min_ndim=2)
    x2 = None if x2 is None else as_float_array("x2", x2, min_ndim=2)
    nt = load_neural_tangents()
    with float64(use_float64):
        import jax
        import jax.numpy as jnp

        dtype = jnp.float64 if use_float64 else jnp.float32
        params = jax.tree_util.tree_map(lambda p: jnp.asarray(p, dtype=dtype), params)
        kernel_fn = nt.empirical_kernel_fn(
            apply_fn, trace_axes=(-1,), implementation=implementation
        )
        out = kernel_fn(x1, x2, get, params)
        return {name: np.asarray(getattr(out, name), dtype=np.float64) for name in get}


def monte_carlo_kernel_fn(
    architecture: Any,
    *,
    n_samples: int,
    seed: int = 0,
    network_block: int = 8,
    implementation: int = 2,
) -> Callable:
    """Monte Carlo NNGP and NTK of a finite-width network: a `kernel_fn` for `InfiniteEnsemble`.

    K_MC(x, x') = 1/S sum_j <f_j(x), f_j(x')>_k,  Theta_MC(x, x') = 1/S sum_j <J_j(x), J_j(x')>_k,

    over S = `n_samples` networks theta_j ~ init_fn of the given width (<.,.>_k: the mean over
    the k outputs, neural-tangents' `trace_axes=(-1,)`), each computed by neural-tangents'
    `monte_carlo_kernel_fn` with one sample. The expectation of K_MC, Theta_MC is the width-w
    network's expected kernel, which tends to the analytic (infinite-width) kernel as O(1/w)
    for depth >= 3 (exactly equal for one hidden layer); around it, the NTK of one network
    fluctuates by O(w^{-1/2}) and the NNGP of one network, an average of k rank-one outer
    products, by O(k^{-1/2}) whatever w, so the Monte Carlo errors are O((w S)^{-1/2}) for
    Theta but O((k S)^{-1/2}) for K: at a fixed S, quantities that depend on K (predictive
    variances, KL, I(Z;X)) stop converging in w once O(1/w) < O((k S)^{-1/2}).

    Network j uses the key `jax.random.split(PRNGKey(seed), S')[j]`, S' = S rounded up to
    whole blocks (the padding networks get weight 0), whatever the inputs, so every call
    (training block, test-train block, test diagonal, any `nt.batch` tile) sees the same S
    networks and the kernels are one consistent PSD Monte Carlo kernel. The networks are
    vmapped in blocks of `network_block` inside a `lax.scan`: the traced program holds one
    block whatever S (compilation time does not grow with S), and memory is that of one
    block. The returned function has neural-tangents' signature
    `kernel_fn(x1, x2=None, get=None)` and may be jitted (as `kernels.kernel_matrices` does,
    in float64); called directly on arrays it runs jitted in float64.

    Args:
      architecture: a stax triple (init_fn, apply_fn, kernel_fn), e.g.
        `ntk_info.architectures.fc(3, width=64)`; its analytic kernel_fn is not used.
      n_samples: S >= 1 networks.
      seed: seed of the networks.
      network_block: networks evaluated at once (vmapped), >= 1; the last block may be smaller.
      implementation: neural-tangents' empirical NTK implementation, 2 (NTK-vector products,
        default: no (n, P) Jacobian in memory) or 1 (Jacobian contraction).

    Returns:
      `kernel_fn(x1, x2=None, get=None)`: for get a name, an (n1, n2) array; for a tuple of
      names (or None: ('nngp', 'ntk')), a namedtuple with those fields.

    Reference: Novak et al., "Neural Tangents", ICLR 2020 (`nt.monte_carlo_kernel_fn`);
      information_ntk.md §6 (Monte Carlo agreement) and §8.6.
    """
    from ntk_info._nt import check_empirical_implementation

    if not (isinstance(architecture, tuple | list) and len(architecture) == 3) or not all(
        callable(f) for f in architecture
    ):
        raise TypeError(
            "`architecture` must be a stax triple (init_fn, apply_fn, kernel_fn) of a "
            "finite-width network, e.g. ntk_info.architectures.fc(3, width=64); a bare "
            "kernel_fn has no networks to sample."
        )
    n_samples = check_count("n_samples", n_samples, 1, "the number of sampled networks")
    seed = check_count("seed", seed, 0, "a PRNG seed")
    block = check_count("network_block", network_block, 1, "networks per vmapped block")
    check_empirical_implementation(implementation)
    init_fn, apply_fn = architecture[0], architecture[1]
    traced = _mc_kernel(init_fn, apply_fn, n_samples, seed, min(block, n_samples), implementation)
    jitted = _jit_kernel(traced)

    def kernel_fn(x1: Any, x2: Any = None, get: Any = None) -> Any:
        import jax

        names = ("nngp", "ntk") if get is None else get
        key = names if isinstance(names, str) else tuple(names)
        if any(isinstance(a, jax.core.Tracer) for a in (x1, x2)):
            return traced(x1, x2, key)
        with float64():
            import jax.numpy as jnp

            x1 = jnp.asarray(x1, dtype=jnp.float64)
            x2 = None if x2 is None else jnp.asarray(x2, dtype=jnp.float64)
            return jitted(x1, x2, key)

    return kernel_fn


def _jit_kernel(fn: Callable) -> Callable:
    import jax

    return jax.jit(fn, static_argnums=2)


def _mc_kernel(
    init_fn: Callable, apply_fn: Callable, n_samples: int, seed: int, block: int, impl: int
) -> Callable:
    """(x1, x2, get) -> mean over the S networks of neural-tangents' one-sample MC kernel."""
    import jax
    import jax.numpy as jnp

    from ntk_info._nt import load as load_neural_tangents

    nt = load_neural_tangents()
    n_blocks = -(-n_samples // block)

    def one(x1, x2, key, get):
        sample = nt.monte_carlo_kernel_fn(
            init_fn, apply_fn, key, 1, batch_size=0, device_count=0, implementation=impl
        )
        return sample(x1, x2, get)

    def kernel(x1, x2, get):
        # S keys padded to whole blocks; the padding networks get weight 0. One traced block.
        keys = jax.random.split(jax.random.PRNGKey(seed), n_blocks * block)
        weights = (jnp.arange(n_blocks * block) < n_samples).astype(x1.dtype) / n_samples
        keys = keys.reshape((n_blocks, block, *keys.shape[1:]))
        weights = weights.reshape((n_blocks, block))

        def body(total, inputs):
            block_keys, block_weights = inputs
            out = jax.vmap(lambda key: one(x1, x2, key, get))(block_keys)
            part = jax.tree_util.tree_map(lambda a: jnp.tensordot(block_weights, a, 1), out)
            return jax.tree_util.tree_map(jnp.add, total, part), None

        shapes = jax.eval_shape(lambda: one(x1, x2, keys[0, 0], get))
        zeros = jax.tree_util.tree_map(lambda s: jnp.zeros(s.shape, s.dtype), shapes)
        return jax.lax.scan(body, zeros, (keys, weights))[0]

    return kernel
