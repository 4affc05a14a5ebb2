"""The variational model: stochastic encoder e(z|x), decoder q(y|z), backward encoder b(z|y).

- Encoder: any stax pair (init_fn, apply_fn) with 2 d outputs (mu, rho);
  e(z|x) = N(mu(x), diag sigma(x)^2), sigma = softplus(rho) + SIGMA_MIN (the reference's
  1e-3 + softplus, spec dualib.md §4). Named encoders: 'fc' (Dense(w)-ReLU-Dense(w)-ReLU-
  Dense(2d)) and 'cnn' (Conv-ReLU-Conv-ReLU-Flatten-Dense(2d); 1-D signals (n, L) are run as
  (n, L, 1, 1) images with (5, 1) filters, images (n, H, W, C) with 3x3 filters).
- Decoder: one softmax layer, logits = z W + b (the reference's Dense(1000, linear) -> Dense(K)
  is linear too).
- Backward encoder (CEB-style prior, `prior='backward'`): b(z|y) = N(m_y, diag s_y^2) with a
  learned table (m_y, rho_y) per class, s_y = softplus(rho_y) + B_SIGMA_MIN (the reference's
  one-hot -> Dense MLP parametrises the same K Gaussians).

All layers are neural-tangents stax layers in the standard parameterization.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp

from ntk_info._checks import check_count, check_option
from ntk_info._nt import load as load_neural_tangents

__all__ = ["Model", "build_model", "ENCODERS", "PRIORS", "SIGMA_MIN", "B_SIGMA_MIN"]

ENCODERS = ("fc", "cnn")
PRIORS = ("standard", "backward")
SIGMA_MIN = 1e-3
B_SIGMA_MIN = 1e-2


@dataclass(frozen=True, eq=False)
class Model:
    """Encoder, decoder and optional backward encoder of one variational network.

    Hashed by identity: the jitted training functions take it as a static argument, so one
    `Model` object compiles once per input shape.

    Attributes:
      encoder: (init_fn, apply_fn) of a stax network with 2 * latent_dim outputs.
      latent_dim: d. n_classes: K. prior: 'standard' (N(0, I)) or 'backward' (b(z|y)).
      reshape: maps a batch x (n, ...) to the encoder's input layout.
    """

    encoder: tuple[Callable, Callable]
    latent_dim: int
    n_classes: int
    prior: str
    reshape: Callable[[Any], Any]

    def init(self, key: Any, input_shape: tuple[int, ...]) -> dict:
        """Parameters {'encoder', 'decoder', 'backward' (None for N(0, I))} for inputs (n, ...)."""
        key_enc, key_dec, key_back = jax.random.split(key, 3)
        probe = self.reshape(jnp.zeros((1,) + tuple(input_shape[1:])))
        out_shape, encoder = self.encoder[0](key_enc, (-1,) + tuple(probe.shape[1:]))
        if tuple(out_shape[1:]) != (2 * self.latent_dim,):
            raise ValueError(
                f"mismatched latent sizes: the encoder outputs shape {tuple(out_shape)}, but "
                f"latent_dim = {self.latent_dim} needs (-1, {2 * self.latent_dim}) (mean and "
                "scale of each latent coordinate); end the encoder with Dense(2 * latent_dim)."
            )
        _, decoder = _dense(self.n_classes)[0](key_dec, (-1, self.latent_dim))
        backward = None
        if self.prior == "backward":
            backward = 0.1 * jax.random.normal(key_back, (self.n_classes, 2 * self.latent_dim))
        return {"encoder": encoder, "decoder": decoder, "backward": backward}

    def encode(self, params: dict, x: Any) -> tuple[Any, Any]:
        """(mu, sigma) of e(z|x), each (n, d)."""
        out = self.encoder[1](params["encoder"], self.reshape(x))
        mu, rho = out[..., : self.latent_dim], out[..., self.latent_dim :]
        return mu, jax.nn.softplus(rho) + SIGMA_MIN

    def logits(self, params: dict, z: Any) -> Any:
        """Decoder logits of q(y|z), (n, K)."""
        return _dense(self.n_classes)[1](params["decoder"], z)

    def backward(self, params: dict, labels: Any) -> tuple[Any, Any]:
        """(m, s) of b(z|y) at one-hot (or soft) labels (n, K): the table rows, each (n, d)."""
        table = labels @ params["backward"]
        mu, rho = table[..., : self.latent_dim], table[..., self.latent_dim :]
        return mu, jax.nn.softplus(rho) + B_SIGMA_MIN


@functools.cache
def _dense(out_dim: int) -> tuple[Callable, Callable]:
    stax = load_neural_tangents().stax
    init_fn, apply_fn, _ = stax.Dense(out_dim, parameterization="standard")
    return init_fn, apply_fn


def _identity(x: Any) -> Any:
    return x


def _as_signal_image(x: Any) -> Any:
    return x.reshape(x.shape + (1, 1))


def _fc(latent_dim: int, width: int) -> tuple[Callable, Callable]:
    stax = load_neural_tangents().stax
    dense = functools.partial(stax.Dense, parameterization="standard")
    init_fn, apply_fn, _ = stax.serial(
        dense(width), stax.Relu(), dense(width), stax.Relu(), dense(2 * latent_dim)
    )
    return init_fn, apply_fn


def _cnn(latent_dim: int, width: int, filter_shape: tuple[int, int]) -> tuple[Callable, Callable]:
    stax = load_neural_tangents().stax
    conv = functools.partial(
        stax.Conv, filter_shape=filter_shape, padding="SAME", parameterization="standard"
    )
    init_fn, apply_fn, _ = stax.serial(
        conv(width),
        stax.Relu(),
        conv(width),
        stax.Relu(),
        stax.Flatten(),
        stax.Dense(2 * latent_dim, parameterization="standard"),
    )
    return init_fn, apply_fn


@functools.lru_cache(maxsize=64)
def _named_model(
    encoder: str, latent_dim: int, n_classes: int, prior: str, width: int, input_ndim: int
) -> Model:
    if encoder == "fc":
        return Model(_fc(latent_dim, width), latent_dim, n_classes, prior, _flatten)
    if input_ndim == 2:
        return Model(
            _cnn(latent_dim, width, (5, 1)), latent_dim, n_classes, prior, _as_signal_image
        )
    if input_ndim == 4:
        return Model(_cnn(latent_dim, width, (3, 3)), latent_dim, n_classes, prior, _identity)
    raise ValueError(
        f"encoder='cnn' needs inputs of shape (n, L) (signals) or (n, H, W, C) (images), got "
        f"{input_ndim} dimensions; use encoder='fc' or pass a stax pair."
    )


def _flatten(x: Any) -> Any:
    return x.reshape(x.shape[0], -1)


def build_model(
    encoder: str | tuple,
    *,
    latent_dim: int,
    n_classes: int,
    prior: str = "standard",
    width: int = 128,
    input_ndim: int = 2,
) -> Model:
    """The `Model` of a named encoder ('fc', 'cnn') or of a user's stax triple / pair.

    Named models are cached: the same arguments return the same object (jit compiles once).

    Args:
      encoder: 'fc', 'cnn', or (init_fn, apply_fn[, kernel_fn]) with 2 * latent_dim outputs.
      latent_dim: d >= 1. n_classes: K >= 2. prior: 'standard' or 'backward'.
      width: hidden units (fc) or channels (cnn) of the named encoders.
      input_ndim: rank of the data x (n, ...), to lay out 'cnn' inputs.

    Returns:
      `Model`.
    """
    latent_dim = check_count("latent_dim", latent_dim, 1, "the latent dimension d")
    n_classes = check_count("n_classes", n_classes, 2, "the number of classes")
    width = check_count("width", width, 1, "the hidden width")
    prior = check_option("prior", prior, PRIORS)
    if isinstance(encoder, str):
        check_option("encoder", encoder, ENCODERS)
        return _named_model(encoder, latent_dim, n_classes, prior, width, int(input_ndim))
    if not (
        isinstance(encoder, tuple | list)
        and len(encoder) in (2, 3)
        and all(callable(f) for f in encoder)
    ):
        raise TypeError(
            "`encoder` must be 'fc', 'cnn' or a stax triple (init_fn, apply_fn, kernel_fn) / "
            f"pair (init_fn, apply_fn); got {type(encoder).__name__}."
        )
    return Model((encoder[0], encoder[1]), latent_dim, n_classes, prior, _identity)
