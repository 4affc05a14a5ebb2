"""Binning and exact-quantization estimators of I(X;T) and I(T;Y) for a layer T.

Binning (Shwartz-Ziv & Tishby 2017; Saxe et al., ICLR 2018, `ibsgd/simplebinmi.py`): each
unit of T is put into bins, the binned layer is a discrete variable and

    I(X; Bin(T)) = H(Bin(T)) - H(Bin(T) | X)   (= H(Bin(T)) for a deterministic layer),

computed by exact counting with X uniform over the sample. Quantization (Lorenzen, Igel &
Nielsen, ICLR 2022): T is quantized to b bits, q = round((t - lo) (2^b - 1) / (hi - lo)), and
the same count is the *exact* MI of the quantized network (their `QuantizedEstimator` uses
2^b instead of 2^b - 1 intervals, i.e. 2^b + 1 levels; here q takes exactly 2^b values).

Call convention: `binning(x, z, **options) -> float` (nats). `x` is either the inputs (n, d_x),
each distinct row one value of X (X uniform over the sample, as in the papers), or integer class
labels (n,) for I(T;Y). `z` is the layer (n, d).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from ntk_info._checks import check_count, check_option, check_positive
from ntk_info.estimators import _counting
from ntk_info.estimators._validate import as_labels, check_bits, is_labels, samples

__all__ = ["binning", "quantized_exact", "bin_indices", "quantize"]

Strategy = Literal["uniform", "adaptive"]


def bin_indices(
    values: np.ndarray,
    *,
    n_bins: int = 30,
    strategy: Strategy = "uniform",
    bounds: Any = "neuron",
    bin_size: float | None = None,
) -> np.ndarray:
    """Bin index of every entry of `values` (n, d): int64 (n, d).

    uniform: n_bins equal-width bins on [lo, hi] per column (bounds 'neuron'), on the layer's
    range ('layer' / 'global') or on a fixed (lo, hi) such as (-1, 1) for tanh (SZT); values
    outside a fixed range go to the end bins. With `bin_size`, floor(t / bin_size) instead
    (Saxe et al.; unbounded). adaptive: equal-mass bins, edges at the 1/n_bins quantiles of
    each column ('neuron') or of all entries ('layer' / 'global').
    """
    if bin_size is not None:
        return np.floor(values / check_positive("bin_size", bin_size)).astype(np.int64)
    if strategy == "adaptive":
        quantiles = np.linspace(0, 1, n_bins + 1)[1:-1]
        if bounds == "neuron":
            edges = np.quantile(values, quantiles, axis=0)  # (n_bins - 1, d)
            return np.stack(
                [
                    np.searchsorted(edges[:, j], values[:, j], side="right")
                    for j in range(values.shape[1])
                ],
                axis=1,
            ).astype(np.int64)
        if bounds not in ("layer", "global"):
            raise ValueError("adaptive bins take `bounds` 'neuron', 'layer' or 'global'.")
        edges = np.quantile(values, quantiles)
        return np.searchsorted(edges, values, side="right").astype(np.int64)
    lo, hi = _counting.column_bounds(values, bounds)
    width = np.where(hi > lo, hi - lo, 1.0)
    index = np.floor((values - lo) / width * n_bins)
    return np.clip(index, 0, n_bins - 1).astype(np.int64)


def _x_symbols(x: Any, n: int, bin_x: bool, **options: Any) -> np.ndarray:
    if is_labels(x):
        return as_labels("x", x, n)
    x = samples(x, np.zeros((n, 1)), allow_constant=True)[0]
    return _counting.symbols(bin_indices(x, **options) if bin_x else x)


def binning(
    x: Any,
    z: Any,
    *,
    n_bins: int = 30,
    strategy: Strategy = "uniform",
    bounds: Any = "neuron",
    bin_size: float | None = None,
    bin_x: bool = False,
) -> float:
    """Binned plug-in estimate of I(X;T): I(X; Bin(T)) by exact counting, in nats.

    I = H(Bin(T)) + H(X) - H(X, Bin(T)) with empirical probabilities over the n rows.

    Args:
      x: (n, d_x) inputs, each distinct row one value of X (binned too if `bin_x`), or (n,)
        integer labels Y (then this is I(Bin(T); Y), SZT's I(T;Y)).
      z: (n, d) layer activations T.
      n_bins: bins per unit (SZT: 30 on [-1, 1]).
      strategy: 'uniform' (equal width) or 'adaptive' (equal mass, Lorenzen et al.).
      bounds: 'neuron' (per-unit min/max), 'layer' (the layer's min/max), 'global' (same as
        'layer' for one array; pass the network-wide (lo, hi) to bin several layers alike), or
        a fixed (lo, hi), e.g. (-1, 1) for tanh units.
      bin_size: Saxe et al.'s floor(t / bin_size) (their 0.07; Goldfeld's 0.007); overrides
        `n_bins` / `bounds`.
      bin_x: bin continuous inputs x with the same rule instead of using distinct rows.

    Returns:
      float, nats, in [0, log n].

    Reference: Shwartz-Ziv & Tishby, arXiv 1703.00810 (2017), sec. 3; Saxe et al., ICLR 2018.
    """
    check_count("n_bins", n_bins, 1, "at least one bin per unit")
    check_option("strategy", strategy, Strategy)
    z = samples(np.zeros(np.shape(z)[:1]), z, allow_constant=True)[1]
    options = dict(n_bins=n_bins, strategy=strategy, bounds=bounds, bin_size=bin_size)
    t_codes = _counting.symbols(bin_indices(z, **options))
    return _counting.symbol_information(_x_symbols(x, z.shape[0], bin_x, **options), t_codes)


def quantize(values: np.ndarray, *, bits: int, bounds: Any = "layer") -> np.ndarray:
    """b-bit uniform quantization: q = round((t - lo) (2^b - 1) / (hi - lo)) in {0..2^b - 1}.

    Values outside a fixed (lo, hi) are clipped to it. Returns int64 (n, d).
    """
    levels = 2 ** check_bits(bits) - 1
    lo, hi = _counting.column_bounds(values, bounds)
    width = np.where(hi > lo, hi - lo, 1.0)
    scaled = (np.clip(values, lo, hi) - lo) * (levels / width)
    return np.rint(scaled).astype(np.int64)


def quantized_exact(x: Any, z: Any, *, bits: int = 8, bounds: Any = "layer") -> float:
    """Exact I(X;Q(T)) of a b-bit quantized layer by counting distinct activation vectors, nats.

    With X uniform over the n rows and T = Q(f(X)) deterministic, I(X;T) = H(T); with labels,
    I(T;Y) = H(T) - sum_y p(y) H(T|Y=y). Both are H(A) + H(B) - H(A, B) of the counts.

    Args:
      x: (n, d_x) inputs (each distinct row one value of X) or (n,) integer labels Y.
      z: (n, d) activations (before quantization; pass already-quantized integers with
        `bounds=(0, 2**bits - 1)` to count them as they are).
      bits: b >= 1.
      bounds: 'neuron', 'layer' (default, Lorenzen et al.'s per-layer range), 'global' or a
        fixed (lo, hi).

    Returns:
      float, nats.

    Reference: Lorenzen, Igel & Nielsen, "Information Bottleneck: Exact Analysis of (Quantized)
    Neural Networks", ICLR 2022, sec. 3.
    """
    bits = check_bits(bits)
    z = samples(np.zeros(np.shape(z)[:1]), z, allow_constant=True)[1]
    t_codes = _counting.symbols(quantize(z, bits=bits, bounds=bounds))
    return _counting.symbol_information(_x_symbols(x, z.shape[0], False), t_codes)
