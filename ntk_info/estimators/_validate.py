"""Input validation shared by every estimator: clear errors at the boundary, once.

Every public estimator calls `samples` (continuous x and z) or `labels_or_samples` (x may be
integer class labels) first; the numerical code behind it trusts its inputs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ntk_info._checks import as_float_array, check_count

__all__ = ["as_samples", "samples", "is_labels", "as_labels", "check_bits", "standardize_columns"]


def as_samples(name: str, value: Any, *, allow_constant: bool = False) -> np.ndarray:
    """`value` as a finite (n, d) float64 array (a 1-D array becomes one column).

    Raises:
      TypeError: not numeric.
      ValueError: rank > 2, no samples, NaN / inf, or (unless `allow_constant`) a constant
        column, which has no density and breaks standardisation and k-NN distances.
    """
    array = as_float_array(name, value, ndim=(1, 2))
    if array.ndim == 1:
        array = array[:, None]
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"`{name}` is empty (shape {array.shape}); pass (n, d) samples.")
    if not allow_constant and array.shape[0] > 1:
        constant = np.flatnonzero(np.ptp(array, axis=0) == 0)
        if constant.size:
            raise ValueError(
                f"`{name}` has constant column(s) {constant[:10].tolist()}: a constant "
                "variable has no density; drop those columns (they carry no information)."
            )
    return array


def _check_pair(x: np.ndarray, z: np.ndarray, min_samples: int, why: str) -> None:
    if x.shape[0] != z.shape[0]:
        raise ValueError(
            f"`x` and `z` must have the same number of samples (rows), got {x.shape[0]} and "
            f"{z.shape[0]}; row i of each must be one joint draw (x_i, z_i)."
        )
    if x.shape[0] < min_samples:
        raise ValueError(f"need at least {min_samples} samples ({why}), got {x.shape[0]}.")


def samples(
    x: Any, z: Any, *, min_samples: int = 2, why: str = "", allow_constant: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Validates a paired sample: (n, d_x) and (n, d_z) finite float64 arrays, n >= min_samples.

    Args:
      x, z: arrays (n,) or (n, d); row i of each is one joint draw.
      min_samples: the fewest rows the estimator can use (e.g. k + 1 for k neighbours).
      why: what the minimum is for, in the message.
      allow_constant: accept constant columns (binning and counting estimators do).

    Returns:
      (x, z) as 2-D float64 arrays.
    """
    x = as_samples("x", x, allow_constant=allow_constant)
    z = as_samples("z", z, allow_constant=allow_constant)
    _check_pair(x, z, min_samples, why or "for this estimator")
    return x, z


def is_labels(x: Any) -> bool:
    """Whether `x` is a 1-D array of integer class labels (the discrete-label variants)."""
    array = np.asarray(x)
    return array.ndim == 1 and (
        np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.bool_)
    )


def as_labels(name: str, value: Any, n: int) -> np.ndarray:
    """Integer labels (n,) as int64 class indices 0..C-1 (`np.unique` order)."""
    array = np.asarray(value)
    if array.ndim != 1 or not is_labels(array):
        raise TypeError(f"`{name}` must be a 1-D integer array of class labels.")
    if array.shape[0] != n:
        raise ValueError(
            f"`{name}` (labels) and `z` must have the same number of samples, got "
            f"{array.shape[0]} and {n}."
        )
    return np.unique(array, return_inverse=True)[1].astype(np.int64)


def check_bits(bits: Any) -> int:
    """`bits` as an int >= 1 (a quantizer with b bits has 2**b levels)."""
    return check_count("bits", bits, 1, "a b-bit quantizer has 2**b >= 2 levels")


def standardize_columns(array: np.ndarray) -> np.ndarray:
    """Each column shifted to mean 0 and scaled to standard deviation 1 (columns not constant)."""
    return (array - array.mean(axis=0)) / array.std(axis=0)
