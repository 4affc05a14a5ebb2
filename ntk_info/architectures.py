"""Named `neural_tangents.stax` architectures, returned as `(init_fn, apply_fn, kernel_fn)`.

Everything in ntk_info that takes an architecture also accepts any user-built stax triple or a
bare `kernel_fn`; `as_kernel_fn` does that conversion. neural-tangents is imported here lazily,
inside the functions, so that `import ntk_info` stays fast.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ntk_info._nt import load as load_neural_tangents

__all__ = ["ACTIVATIONS", "fc", "cnn", "as_kernel_fn"]

ACTIVATIONS = ("relu", "erf", "gelu", "tanh")


def _activation_layer(activation: str):
    """The stax layer of a named activation, with an analytic (or quadrature) kernel."""
    stax = load_neural_tangents().stax

    if activation == "relu":
        return stax.Relu()
    if activation == "erf":
        return stax.Erf()
    if activation == "gelu":
        return stax.Gelu()
    if activation == "tanh":
        import jax.numpy as jnp

        # No closed-form tanh kernel exists; NT's Gauss-Hermite quadrature of degree 32 has a
        # relative error of ~1e-7 at pre-activation variance 0.5, ~1e-5 at 1 and ~3e-3 at 3.6
        # (tanh's poles at +-i pi/2 slow it down); the cost grows as deg^2 per pair of inputs.
        return stax.ElementwiseNumerical(jnp.tanh, deg=32)
    raise ValueError(f"`activation` must be one of {ACTIVATIONS}, got {activation!r}.")


def fc(
    depth: int,
    *,
    width: int = 512,
    activation: str = "relu",
    W_std: float = 2.0**0.5,
    b_std: float = 0.1,
    out_dim: int = 1,
    parameterization: str = "ntk",
) -> tuple[Callable, Callable, Callable]:
    """Fully-connected network: `depth` Dense layers with `activation` between them.

    depth = 3 is the papers' "three-layer FC": Dense(w)-act-Dense(w)-act-Dense(out_dim).
    Weights W ~ N(0, W_std^2 / fan_in), biases b ~ N(0, b_std^2) in the NTK parameterization.
    The infinite-width kernels do not depend on `width`; finite networks built with `init_fn`
    do.

    Args:
      depth: number of Dense layers, >= 1 (depth = 1 is a linear model).
      width: hidden width of the finite network.
      activation: 'relu', 'erf', 'gelu' or 'tanh'.
      W_std, b_std: weight and bias standard deviations (sigma_w, sigma_b).
      out_dim: number of outputs k.
      parameterization: 'ntk' (default, as in the papers) or 'standard'.

    Returns:
      `(init_fn, apply_fn, kernel_fn)` of `neural_tangents.stax`.

    Reference: Shwartz-Ziv & Alemi (2019), App. B; neural-tangents `stax.serial`.
    """
    stax = load_neural_tangents().stax

    if int(depth) != depth or depth < 1:
        raise ValueError(f"`depth` must be an integer >= 1, got {depth}.")
    if int(width) != width or width < 1:
        raise ValueError(f"`width` must be an integer >= 1, got {width}.")
    if int(out_dim) != out_dim or out_dim < 1:
        raise ValueError(f"`out_dim` must be an integer >= 1, got {out_dim}.")
    _check_stds(W_std, b_std)
    layers: list[Any] = []
    for _ in range(int(depth) - 1):
        layers += [
            stax.Dense(int(width), W_std=W_std, b_std=b_std, parameterization=parameterization),
            _activation_layer(activation),
        ]
    layers.append(
        stax.Dense(int(out_dim), W_std=W_std, b_std=b_std, parameterization=parameterization)
    )
    return stax.serial(*layers)


def cnn(
    *,
    channels: int = 64,
    filter_size: int = 5,
    activation: str = "relu",
    W_std: float = 2.0**0.5,
    b_std: float = 0.1,
    out_dim: int = 1,
    padding: str = "SAME",
    parameterization: str = "ntk",
) -> tuple[Callable, Callable, Callable]:
    """The papers' two-layer convolutional net: Conv-act-Conv-act-Flatten-Dense(out_dim).

    Convolutions are `filter_size` x `filter_size` (5x5 in the paper), stride 1, `padding`.
    Inputs are images of shape (n, H, W, C) (NHWC, the stax default).

    Args:
      channels: channels of the finite network (the kernels do not depend on it).
      filter_size: side of the square filters.
      activation: 'relu', 'erf', 'gelu' or 'tanh'.
      W_std, b_std: weight and bias standard deviations.
      out_dim: number of outputs k.
      padding: 'SAME', 'VALID' or 'CIRCULAR'.
      parameterization: 'ntk' or 'standard'.

    Returns:
      `(init_fn, apply_fn, kernel_fn)`.

    Reference: Shwartz-Ziv & Alemi (2019), Sec. 2 (MNIST, "standard two-layer CNN with 5x5
    filters"); information_ntk.md §6 for the defaults chosen where the paper is silent.
    """
    stax = load_neural_tangents().stax

    if int(channels) != channels or channels < 1:
        raise ValueError(f"`channels` must be an integer >= 1, got {channels}.")
    _check_stds(W_std, b_std)
    conv = dict(
        out_chan=int(channels),
        filter_shape=(int(filter_size), int(filter_size)),
        padding=padding,
        W_std=W_std,
        b_std=b_std,
        parameterization=parameterization,
    )
    return stax.serial(
        stax.Conv(**conv),
        _activation_layer(activation),
        stax.Conv(**conv),
        _activation_layer(activation),
        stax.Flatten(),
        stax.Dense(int(out_dim), W_std=W_std, b_std=b_std, parameterization=parameterization),
    )


def as_kernel_fn(architecture: Any) -> Callable:
    """Returns the `kernel_fn` of a stax triple, or `architecture` itself if it is one.

    Accepts `(init_fn, apply_fn, kernel_fn)` or a bare callable `kernel_fn(x1, x2, get)`.
    """
    if isinstance(architecture, tuple | list):
        if len(architecture) != 3 or not all(callable(f) for f in architecture):
            raise TypeError(
                "`kernel_fn` must be a stax triple (init_fn, apply_fn, kernel_fn) or a "
                f"kernel_fn; got a sequence of length {len(architecture)}."
            )
        return architecture[2]
    if not callable(architecture):
        raise TypeError(
            "`kernel_fn` must be callable (a neural_tangents kernel_fn) or a stax triple, "
            f"got {type(architecture).__name__}."
        )
    return architecture


def _check_stds(W_std: float, b_std: float) -> None:
    if not W_std > 0:
        raise ValueError(f"`W_std` must be > 0, got {W_std}.")
    if not b_std >= 0:
        raise ValueError(f"`b_std` must be >= 0, got {b_std}.")
