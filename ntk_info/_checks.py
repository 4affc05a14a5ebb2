"""Validation at the public boundary: clear errors that name the argument and the fix.

Inner numerical code trusts its inputs; every public entry point calls these first.
"""

from __future__ import annotations

import typing
from typing import Any

import numpy as np

__all__ = [
    "as_float_array",
    "as_times",
    "check_positive",
    "check_nonnegative",
    "check_count",
    "check_option",
]


def as_float_array(
    name: str,
    value: Any,
    *,
    ndim: int | tuple[int, ...] | None = None,
    min_ndim: int | None = None,
    dtype: Any = np.float64,
) -> np.ndarray:
    """Converts `value` to a finite float array of the given rank, or raises a clear error.

    Args:
      name: the argument's name, used in the message.
      value: anything `np.asarray` accepts.
      ndim: required rank (an int or a tuple of allowed ranks).
      min_ndim: required minimal rank.
      dtype: target float dtype (float64 by default).

    Returns:
      The array as `dtype`.

    Raises:
      TypeError: `value` is not numeric.
      ValueError: wrong rank, or NaN / inf entries.
    """
    try:
        array = np.asarray(value)
    except Exception as error:  # pragma: no cover - exotic array-likes
        raise TypeError(f"`{name}` must be array-like, got {type(value).__name__}.") from error
    if array.dtype == object or not (
        np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.bool_)
    ):
        raise TypeError(
            f"`{name}` must be a numeric array, got dtype {array.dtype}; "
            "convert it with np.asarray(..., dtype=float)."
        )
    if np.iscomplexobj(array):
        raise TypeError(f"`{name}` must be real, got a complex array.")
    array = array.astype(dtype, copy=False)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if array.ndim not in allowed:
            raise ValueError(
                f"`{name}` must have {' or '.join(map(str, allowed))} dimensions, "
                f"got shape {array.shape}."
            )
    if min_ndim is not None and array.ndim < min_ndim:
        raise ValueError(
            f"`{name}` must have at least {min_ndim} dimensions, got shape {array.shape}."
        )
    if not np.all(np.isfinite(array)):
        bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        raise ValueError(
            f"`{name}` contains {bad} NaN or infinite value(s); clean or impute the data first."
        )
    return array


def as_times(t: Any) -> np.ndarray:
    """Converts training times to a 1-D float64 array; `np.inf` is allowed, NaN and t < 0 are not.

    A scalar becomes a length-1 array.
    """
    times = np.atleast_1d(np.asarray(t, dtype=np.float64))
    if times.ndim != 1:
        raise ValueError(f"`t` must be a scalar or a 1-D array of times, got shape {times.shape}.")
    if times.size == 0:
        raise ValueError("`t` is empty; pass at least one time (0 is the prior, np.inf the end).")
    if np.any(np.isnan(times)):
        raise ValueError("`t` contains NaN; times must be numbers in [0, inf].")
    if np.any(times < 0):
        raise ValueError(
            f"`t` must be >= 0 (0 is the prior at initialisation), got min {times.min()}."
        )
    return times


def check_positive(name: str, value: float) -> float:
    """Returns `value` as float if it is finite and > 0, else raises ValueError."""
    value = float(value)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"`{name}` must be a finite number > 0, got {value}.")
    return value


def check_nonnegative(name: str, value: float) -> float:
    """Returns `value` as float if it is finite and >= 0, else raises ValueError."""
    value = float(value)
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"`{name}` must be a finite number >= 0, got {value}.")
    return value


def check_count(name: str, value: Any, minimum: int, why: str) -> int:
    """`value` as int if it is an integer >= `minimum`; TypeError / ValueError otherwise.

    `why` says what the count is for, in the message (e.g. "a PRNG seed").
    """
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"`{name}` must be an int, got {type(value).__name__}.")
    if value < minimum:
        raise ValueError(f"`{name}` must be >= {minimum} ({why}), got {value}.")
    return int(value)


def check_option(name: str, value: Any, options: Any) -> str:
    """`value` if it is one of the strings of the `Literal` type `options`, else ValueError.

    Args:
      name: the argument's name, used in the message.
      value: the value passed.
      options: a `typing.Literal[...]` type (e.g. `Form`) or a tuple of allowed strings.

    Returns:
      `value`.
    """
    allowed = typing.get_args(options) or tuple(options)
    if not (isinstance(value, str) and value in allowed):
        raise ValueError(f"`{name}` must be one of {allowed}, got {value!r}.")
    return value
