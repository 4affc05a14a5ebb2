"""Layer-by-layer information-bottleneck training (Elad et al. 2019) and its end-to-end baseline.

A network T_0 = x, T_l = relu(W_l T_{l-1} + b_l), l = 1..L, is trained one layer at a time with
the IB Lagrangian only (no end-to-end cross-entropy): layer l and a linear softmax decoder
q_l(y|t) minimise, over minibatches,

    L_l = I(X; T_l + eps) + beta * E[-log q_l(y | T_l + eps)],   eps ~ N(0, noise_std^2 I),

the noise-regularised I(X; T~_l) (finite, unlike I(X; T_l) of a deterministic layer) estimated
with the known conditional T~_l | x_i ~ N(T_l(x_i), noise_std^2 I) (`noisy_information_bounds`:
the leave-one-out upper or the InfoNCE lower bound of the batch), and beta times the
cross-entropy of a variational decoder, i.e. -beta times the lower bound
I(T~_l; Y) >= H(Y) - CE (IB convention: beta multiplies the distortion, as in `vib_loss`). Layer
l is then frozen and layer l + 1 trained on the clean T_l. The network's prediction is the last
decoder at the clean T_L. The baseline trains the same architecture (hidden layers + one linear
softmax head) end to end with cross-entropy. jax + optax (Adam), float64, seeded.

Reference: Elad, Haviv, Blau & Michaeli, "Direct validation of the information bottleneck
principle for deep nets", ICCV Workshops 2019 (spec estimators.md A3); the bounds: Poole et al.,
"On Variational Bounds of Mutual Information", ICML 2019.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pandas as pd

from ntk_info._checks import check_count, check_option, check_positive
from ntk_info._jax import float64
from ntk_info._nt import load as load_neural_tangents
from ntk_info.data import Dataset

__all__ = [
    "LayerwiseResult",
    "noisy_information_bounds",
    "train_layerwise",
    "train_end_to_end",
    "layerwise_vs_end_to_end",
    "IZX_BOUNDS",
]

IzxBound = Literal["loo", "infonce"]
IZX_BOUNDS = ("loo", "infonce")
N_EVAL = 512  # points of the fixed evaluation batch of the training history


@dataclass(frozen=True, eq=False)
class LayerwiseResult:
    """A trained network: per-epoch history, parameters, per-stage snapshots, predictions.

    Attributes:
      method: 'layerwise' or 'end_to_end'.
      history: one row per (stage, epoch): stage (layer trained, 1..L; 0 for end to end),
        epoch, objective (the stage's loss on a fixed evaluation batch of the training set),
        izx_upper, izx_lower (batch bounds on I(X; T~), nats), cross_entropy, izy_lower
        (ln K - cross_entropy), train_accuracy, test_accuracy.
      layers: L hidden-layer parameter pytrees (stax Dense, standard parameterization).
      head: the output layer's parameters (the last IB decoder for 'layerwise').
      snapshots: for 'layerwise', the L hidden layers' parameters after each stage (L tuples).
      noise_std: sigma of the noise eps.
    """

    method: str
    history: pd.DataFrame
    layers: tuple
    head: Any
    snapshots: tuple = field(default=())
    noise_std: float = 1.0

    def hidden(self, x: Any) -> list[np.ndarray]:
        """Clean representations [T_1(x), ..., T_L(x)], each (n, width_l)."""
        with float64():
            out = _hidden(self.layers, jnp.asarray(x, jnp.float64).reshape(len(x), -1))
        return [np.asarray(t) for t in out]

    def predict(self, x: Any) -> np.ndarray:
        """Class probabilities (n, K) at the clean last representation."""
        with float64():
            t = _hidden(self.layers, jnp.asarray(x, jnp.float64).reshape(len(x), -1))[-1]
            return np.asarray(jax.nn.softmax(_dense_apply(self.head, t), axis=-1))


def noisy_information_bounds(t: Any, noise_std: Any, key: Any) -> tuple[Any, Any]:
    """InfoNCE lower and leave-one-out upper bounds on I(X; T + eps) over a batch (jax, scalars).

    X uniform over the B batch points, T~ | x_i ~ N(t_i, sigma^2 I); one draw z_i = t_i + sigma
    eps_i, scores S_ij = -|z_i - t_j|^2 / (2 sigma^2) (the Gaussian constants cancel):

        I_L = log B     + (1/B) sum_i [S_ii - logsumexp_j S_ij],
        I_U = log(B-1)  + (1/B) sum_i [S_ii - logsumexp_{j != i} S_ij].

    The same bounds as `ntk_info.mixture.infonce_and_loo` (which is chunked, validated and not
    differentiable); this form is differentiable in t, for training losses.

    Args:
      t: (B, k) clean representations, B >= 2.
      noise_std: sigma > 0.
      key: jax.random key of the draw.

    Returns:
      (infonce_lower, loo_upper), nats.

    Reference: Poole et al., ICML 2019, eq. (12) and the leave-one-out bound.
    """
    b = t.shape[0]
    z = t + noise_std * jax.random.normal(key, t.shape, t.dtype)
    sq = jnp.sum(z**2, 1)[:, None] - 2.0 * z @ t.T + jnp.sum(t**2, 1)[None, :]
    scores = -0.5 * sq / noise_std**2
    own = jnp.diag(scores)
    lower = math.log(b) + jnp.mean(own - jax.nn.logsumexp(scores, axis=1))
    others = jnp.where(jnp.eye(b, dtype=bool), -jnp.inf, scores)
    upper = math.log(b - 1) + jnp.mean(own - jax.nn.logsumexp(others, axis=1))
    return lower, upper


# ----------------------------------------------------------------------------------------------
# Architecture: stax Dense layers (standard parameterization), relu between them.
# ----------------------------------------------------------------------------------------------


@functools.cache
def _dense(width: int) -> tuple[Callable, Callable]:
    stax = load_neural_tangents().stax
    init_fn, apply_fn, _ = stax.Dense(
        width, W_std=math.sqrt(2.0), b_std=0.0, parameterization="standard"
    )
    return init_fn, apply_fn


def _dense_apply(params: Any, x: Any) -> Any:
    weight, bias = params
    return x @ weight + bias


def _hidden(layers: Sequence[Any], x: Any) -> list[Any]:
    out = []
    for params in layers:
        x = jax.nn.relu(_dense_apply(params, x))
        out.append(x)
    return out


def _init(key: Any, sizes: Sequence[int], n_in: int) -> list[Any]:
    params = []
    for key_l, width in zip(jax.random.split(key, len(sizes)), sizes, strict=True):
        _, layer = _dense(int(width))[0](key_l, (-1, n_in))
        params.append(layer)
        n_in = int(width)
    return params


# ----------------------------------------------------------------------------------------------
# Losses and one generic minibatch Adam loop.
# ----------------------------------------------------------------------------------------------


def _cross_entropy(logits: Any, labels: Any) -> Any:
    return jnp.mean(optax.softmax_cross_entropy(logits, labels))


def _ib_terms(trainable, x, labels, key, noise_std, beta, bound: str):
    """(objective, (izx_upper, izx_lower, ce, accuracy)) of one stage on a batch of inputs x."""
    layer, decoder = trainable
    t = jax.nn.relu(_dense_apply(layer, x))
    key_mi, key_dec = jax.random.split(key)
    lower, upper = noisy_information_bounds(t, noise_std, key_mi)
    noisy = t + noise_std * jax.random.normal(key_dec, t.shape, t.dtype)
    ce = _cross_entropy(_dense_apply(decoder, noisy), labels)
    izx = upper if bound == "loo" else lower
    accuracy = jnp.mean(jnp.argmax(_dense_apply(decoder, t), 1) == jnp.argmax(labels, 1))
    return izx + beta * ce, (upper, lower, ce, accuracy)


def _ce_terms(trainable, x, labels, key, noise_std, beta, bound: str):
    """(cross-entropy, (izx_upper, izx_lower of T_L, ce, accuracy)) of the end-to-end network."""
    layers, head = trainable
    t = _hidden(layers, x)[-1]
    logits = _dense_apply(head, t)
    ce = _cross_entropy(logits, labels)
    lower, upper = noisy_information_bounds(t, noise_std, key)
    accuracy = jnp.mean(jnp.argmax(logits, 1) == jnp.argmax(labels, 1))
    return ce, (upper, lower, ce, accuracy)


@functools.partial(jax.jit, static_argnames=("terms", "bound", "batch_size"))
def _epoch(trainable, opt_state, x, labels, key, hyper, *, terms, bound, batch_size):
    """One epoch of Adam over a seeded permutation, full batches only (a lax.scan)."""
    noise_std, beta, learning_rate = hyper
    key_perm, key_steps = jax.random.split(key)
    n_batches = x.shape[0] // batch_size
    order = jax.random.permutation(key_perm, x.shape[0])[: n_batches * batch_size]
    batches = order.reshape(n_batches, batch_size)
    keys = jax.random.split(key_steps, n_batches)

    def step(carry, inputs):
        params, state = carry
        rows, key_b = inputs
        grads = jax.grad(
            lambda p: terms(p, x[rows], labels[rows], key_b, noise_std, beta, bound)[0]
        )(params)
        updates, state = optax.scale_by_adam().update(grads, state, params)
        params = optax.apply_updates(params, jax.tree.map(lambda u: -learning_rate * u, updates))
        return (params, state), None

    (trainable, opt_state), _ = jax.lax.scan(step, (trainable, opt_state), (batches, keys))
    return trainable, opt_state


def _fit(trainable, terms, x, labels, evaluate, *, bound, hyper, epochs, batch_size, key):
    """Adam for `epochs` epochs; the trained pytree and one history row per epoch."""
    opt_state = optax.scale_by_adam().init(trainable)
    rows = []
    for epoch, key_e in enumerate(jax.random.split(key, epochs), start=1):
        trainable, opt_state = _epoch(
            trainable, opt_state, x, labels, key_e, hyper,
            terms=terms, bound=bound, batch_size=batch_size,
        )  # fmt: skip
        rows.append({"epoch": epoch, **evaluate(trainable)})
    return trainable, rows


@functools.partial(jax.jit, static_argnames=("terms", "bound"))
def _terms_at(trainable, x, labels, key, hyper, *, terms, bound):
    noise_std, beta, _ = hyper
    objective, (upper, lower, ce, accuracy) = terms(
        trainable, x, labels, key, noise_std, beta, bound
    )
    return objective, upper, lower, ce, accuracy


def _evaluator(terms, bound, hyper, train, test, key, n_classes):
    """A function of the trained pytree: the history columns on fixed data and a fixed key."""

    def evaluate(trainable) -> dict[str, float]:
        values = [
            float(v) for v in _terms_at(trainable, *train, key, hyper, terms=terms, bound=bound)
        ]
        test_accuracy = float(_terms_at(trainable, *test, key, hyper, terms=terms, bound=bound)[4])
        objective, upper, lower, ce, accuracy = values
        return {
            "objective": objective,
            "izx_upper": upper,
            "izx_lower": lower,
            "cross_entropy": ce,
            "izy_lower": math.log(n_classes) - ce,
            "train_accuracy": accuracy,
            "test_accuracy": test_accuracy,
        }

    return evaluate


# ----------------------------------------------------------------------------------------------
# Validation and public entry points.
# ----------------------------------------------------------------------------------------------


def _prepare(dataset, widths, beta, noise_std, epochs, batch_size, learning_rate, izx_bound, seed):
    """Checks every argument once; (x_train, y_train, x_test, y_test, eval rows, settings)."""
    if not isinstance(dataset, Dataset):
        raise TypeError(
            f"`dataset` must be an ntk_info.data.Dataset (e.g. data.digits()), got "
            f"{type(dataset).__name__}."
        )
    if dataset.labels != "onehot" or dataset.classes_train is None:
        raise ValueError(
            f"`dataset` must have one-hot class labels (labels='onehot'), got {dataset.labels!r}; "
            "load it with labels='onehot'."
        )
    if dataset.n_train < 2 or dataset.n_test < 1:
        raise ValueError(
            f"`dataset` is empty or too small: {dataset.n_train} training and {dataset.n_test} "
            "test points (need >= 2 and >= 1)."
        )
    if isinstance(widths, int | np.integer) or len(tuple(widths)) == 0:
        raise ValueError(f"`widths` must be a non-empty sequence of layer widths, got {widths!r}.")
    widths = tuple(check_count("widths", w, 1, "a hidden layer's width") for w in widths)
    settings = {
        "widths": widths,
        "beta": check_positive("beta", beta),
        "noise_std": check_positive("noise_std", noise_std),
        "epochs": check_count("epochs", epochs, 1, "passes over the training set"),
        "batch_size": check_count("batch_size", batch_size, 2, "the batch bounds need 2 points"),
        "learning_rate": check_positive("learning_rate", learning_rate),
        "izx_bound": check_option("izx_bound", izx_bound, IZX_BOUNDS),
        "seed": check_count("seed", seed, 0, "a PRNG seed"),
    }
    if settings["batch_size"] > dataset.n_train:
        raise ValueError(
            f"`batch_size` = {batch_size} exceeds the {dataset.n_train} training points; "
            "pass a smaller batch_size."
        )
    arrays = []
    for name, x in (("x_train", dataset.x_train), ("x_test", dataset.x_test)):
        x = np.asarray(x, np.float64).reshape(len(x), -1)
        if not np.all(np.isfinite(x)):
            raise ValueError(f"`dataset.{name}` contains NaN or inf; clean the data first.")
        arrays.append(x)
    y_train, y_test = (np.asarray(y, np.float64) for y in (dataset.y_train, dataset.y_test))
    n_eval = min(N_EVAL, dataset.n_train)
    rows = np.random.default_rng(settings["seed"]).permutation(dataset.n_train)[:n_eval]
    return arrays[0], y_train, arrays[1], y_test, rows, settings


def train_layerwise(
    dataset: Dataset,
    *,
    widths: Sequence[int] = (128, 64),
    beta: float = 10.0,
    noise_std: float = 1.0,
    epochs: int = 20,
    batch_size: int = 128,
    learning_rate: float = 1e-3,
    izx_bound: IzxBound = "loo",
    seed: int = 0,
) -> LayerwiseResult:
    """Trains a relu network one layer at a time with the IB Lagrangian only (Elad et al. 2019).

    Stage l minimises I(X; T_l + eps) + beta CE(q_l(y | T_l + eps)) over (W_l, b_l, decoder_l)
    (module docstring), with the earlier layers frozen: their outputs are inputs of the stage,
    not parameters of it, so they stay bit-identical.

    Args:
      dataset: a classification `Dataset` (labels='onehot'); x is flattened to (n, features).
      widths: hidden widths (W_1..W_L), L >= 1.
      beta: > 0, weight of the cross-entropy (distortion) term.
      noise_std: sigma > 0 of the noise eps ~ N(0, sigma^2 I) added to T_l.
      epochs: epochs per layer. batch_size: 2..n_train (the I(X;T~) bound is over a batch).
      learning_rate: Adam step size. seed: seed of initialisation, batches and noise.
      izx_bound: 'loo' (upper bound, default: the objective bounds the Lagrangian from above)
        or 'infonce' (lower bound, saturates at log batch_size).

    Returns:
      `LayerwiseResult` (method 'layerwise'); `history` has stage = 1..L.

    Reference: Elad et al., ICCV-W 2019 (spec estimators.md A3).
    """
    x, y, x_test, y_test, rows, s = _prepare(
        dataset, widths, beta, noise_std, epochs, batch_size, learning_rate, izx_bound, seed
    )
    with float64():
        keys = jax.random.split(jax.random.PRNGKey(s["seed"]), len(s["widths"]))
        hyper = tuple(jnp.float64(s[k]) for k in ("noise_std", "beta", "learning_rate"))
        x, x_test = jnp.asarray(x), jnp.asarray(x_test)
        layers, snapshots, history, decoder = [], [], [], None
        for stage, (width, key) in enumerate(zip(s["widths"], keys, strict=True), start=1):
            key_layer, key_decoder, key_fit, key_eval = jax.random.split(key, 4)
            trainable = (
                _init(key_layer, [width], x.shape[1])[0],
                _init(key_decoder, [y.shape[1]], width)[0],
            )
            evaluate = _evaluator(
                _ib_terms, s["izx_bound"], hyper, (x[rows], y[rows]), (x_test, y_test),
                key_eval, y.shape[1],
            )  # fmt: skip
            (layer, decoder), found = _fit(
                trainable, _ib_terms, x, jnp.asarray(y), evaluate, bound=s["izx_bound"],
                hyper=hyper, epochs=s["epochs"], batch_size=s["batch_size"], key=key_fit,
            )  # fmt: skip
            history += [{"stage": stage, **row} for row in found]
            layers.append(layer)
            snapshots.append(tuple(layers))
            x, x_test = (jax.nn.relu(_dense_apply(layer, v)) for v in (x, x_test))
    return LayerwiseResult(
        "layerwise", pd.DataFrame(history), tuple(layers), decoder, tuple(snapshots), s["noise_std"]
    )


def train_end_to_end(
    dataset: Dataset,
    *,
    widths: Sequence[int] = (128, 64),
    noise_std: float = 1.0,
    epochs: int = 20,
    batch_size: int = 128,
    learning_rate: float = 1e-3,
    seed: int = 0,
) -> LayerwiseResult:
    """Trains the same architecture end to end with cross-entropy (the comparison baseline).

    Hidden layers as in `train_layerwise` plus a linear softmax head, all trained jointly on
    CE(softmax(head(T_L)), y); no noise in training. `noise_std` only sets the sigma of the
    reported bounds on I(X; T_L + eps).

    Args:
      as in `train_layerwise`.

    Returns:
      `LayerwiseResult` (method 'end_to_end'); `history` has stage = 0, objective = CE.
    """
    x, y, x_test, y_test, rows, s = _prepare(
        dataset, widths, 1.0, noise_std, epochs, batch_size, learning_rate, "loo", seed
    )
    with float64():
        key_init, key_head, key_fit, key_eval = jax.random.split(jax.random.PRNGKey(s["seed"]), 4)
        layers = _init(key_init, s["widths"], x.shape[1])
        head = _init(key_head, [y.shape[1]], s["widths"][-1])[0]
        hyper = tuple(jnp.float64(s[k]) for k in ("noise_std", "beta", "learning_rate"))
        x, x_test = jnp.asarray(x), jnp.asarray(x_test)
        evaluate = _evaluator(
            _ce_terms, "loo", hyper, (x[rows], y[rows]), (x_test, y_test), key_eval, y.shape[1]
        )
        (layers, head), history = _fit(
            (layers, head), _ce_terms, x, jnp.asarray(y), evaluate, bound="loo", hyper=hyper,
            epochs=s["epochs"], batch_size=s["batch_size"], key=key_fit,
        )  # fmt: skip
    frame = pd.DataFrame([{"stage": 0, **row} for row in history])
    return LayerwiseResult("end_to_end", frame, tuple(layers), head, (), s["noise_std"])


def _layer_rows(method: str, beta: float, result: LayerwiseResult, x_test, seed: int) -> list:
    """One row per hidden layer: the network's accuracies and bounds on I(X; T_l + eps)."""
    from ntk_info.mixture import infonce_and_loo

    last = result.history.iloc[-1]
    rows = []
    for layer, t in enumerate(result.hidden(x_test), start=1):
        variances = np.full(t.shape[0], result.noise_std**2)
        lower, upper = infonce_and_loo(t, variances, seed=seed + layer)
        rows.append(
            {
                "method": method,
                "beta": beta,
                "layer": layer,
                "width": t.shape[1],
                "test_accuracy": float(last["test_accuracy"]),
                "train_accuracy": float(last["train_accuracy"]),
                "izx_lower": float(lower.value),
                "izx_lower_se": float(lower.se),
                "izx_upper": float(upper.value),
                "izx_upper_se": float(upper.se),
            }
        )
    return rows


def layerwise_vs_end_to_end(
    dataset: Dataset, *, betas: Sequence[float] = (10.0,), n_points: int = 500, **kwargs: Any
) -> tuple[pd.DataFrame, dict[Any, LayerwiseResult]]:
    """Layer-by-layer IB vs end-to-end training: test accuracies and per-layer information.

    Trains the layer-by-layer network once per beta (`train_layerwise`) and the end-to-end one
    once (`train_end_to_end`; same widths, epochs per stage, seed), and evaluates every hidden
    layer on the first `n_points` test points: bounds on I(X; T_l + eps), X uniform over those
    points, from `ntk_info.mixture.infonce_and_loo` (8 draws, seeded; the upper bound is capped
    at log n_points).

    Args:
      dataset: a classification `Dataset`.
      betas: the betas of the layer-by-layer runs (each > 0).
      n_points: test points for the information bounds (>= 2; at most n_test are used).
      **kwargs: the other `train_layerwise` keywords (those of `train_end_to_end` are passed on).

    Returns:
      (table, results): one row per (method, beta, layer): method ('layerwise' or
      'end_to_end'), beta (NaN for end to end), layer, width, test_accuracy and
      train_accuracy (the network's), izx_lower, izx_lower_se, izx_upper, izx_upper_se (nats);
      results = {('layerwise', beta): ..., 'end_to_end': ...}.
    """
    n_points = check_count("n_points", n_points, 2, "the information bounds need 2 points")
    if "beta" in kwargs:
        raise ValueError("pass `betas` (a sequence) to layerwise_vs_end_to_end, not `beta`.")
    betas = [check_positive("betas", b) for b in np.atleast_1d(np.asarray(betas, float))]
    if not betas:
        raise ValueError("`betas` is empty; give at least one beta > 0.")
    shared = {k: v for k, v in kwargs.items() if k != "izx_bound"}
    results: dict[Any, LayerwiseResult] = {"end_to_end": train_end_to_end(dataset, **shared)}
    for beta in betas:
        results[("layerwise", beta)] = train_layerwise(dataset, beta=beta, **kwargs)
    x_test = np.asarray(dataset.x_test)[:n_points]
    seed = int(kwargs.get("seed", 0))
    rows = _layer_rows("end_to_end", np.nan, results["end_to_end"], x_test, seed)
    for beta in betas:
        rows += _layer_rows("layerwise", beta, results[("layerwise", beta)], x_test, seed)
    return pd.DataFrame(rows), results
