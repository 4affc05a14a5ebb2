"""Discretisation and exact counting: shared by `binning` and `quantized_exact`.

Rows of a discrete array are mapped to symbols (one integer per distinct row); the mutual
information of two symbol sequences is the plug-in I = H(A) + H(B) - H(A, B) of the empirical
joint, computed with `ntk_info.discrete.entropy` (exact for X uniform over the sample).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ntk_info import discrete

__all__ = ["symbols", "entropy_of_symbols", "symbol_information", "column_bounds"]


def symbols(rows: np.ndarray) -> np.ndarray:
    """One int64 symbol per row, equal for equal rows: (n, d) -> (n,)."""
    rows = np.ascontiguousarray(rows)
    if rows.ndim == 1:
        rows = rows[:, None]
    return np.unique(rows, axis=0, return_inverse=True)[1].reshape(-1).astype(np.int64)


def entropy_of_symbols(codes: np.ndarray) -> float:
    """Plug-in entropy -sum_s p(s) log p(s) of the empirical distribution of `codes`, nats."""
    counts = np.unique(codes, return_counts=True)[1]
    return float(discrete.entropy(counts / codes.size))


def symbol_information(a: np.ndarray, b: np.ndarray) -> float:
    """Plug-in I(A;B) = H(A) + H(B) - H(A,B) of two aligned symbol sequences (n,), nats."""
    joint = a * (int(b.max()) + 1) + b
    value = entropy_of_symbols(a) + entropy_of_symbols(b) - entropy_of_symbols(joint)
    return max(value, 0.0)  # rounding only: the plug-in MI is >= 0


def column_bounds(values: np.ndarray, bounds: Any) -> tuple[np.ndarray, np.ndarray]:
    """(lo, hi), each (d,), for 'neuron' (per column), 'layer' (whole array) or fixed (lo, hi).

    Raises ValueError if a fixed range is not lo < hi or is not two finite numbers.
    """
    d = values.shape[1]
    if isinstance(bounds, str):
        if bounds == "neuron":
            return values.min(axis=0), values.max(axis=0)
        if bounds in ("layer", "global"):
            return np.full(d, values.min()), np.full(d, values.max())
        raise ValueError(
            f"`bounds` must be 'neuron', 'layer', 'global' or a (lo, hi) pair, got {bounds!r}."
        )
    pair = np.asarray(bounds, dtype=np.float64)
    if pair.shape != (2,) or not np.all(np.isfinite(pair)) or not pair[0] < pair[1]:
        raise ValueError(
            f"`bounds` as a fixed range must be two finite numbers lo < hi, got {bounds!r}."
        )
    return np.full(d, pair[0]), np.full(d, pair[1])
