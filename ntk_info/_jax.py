"""JAX set-up shared by every module: float64 by default, whatever the user's global setting."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

F = TypeVar("F", bound=Callable)

__all__ = ["float64", "with_float64", "on_accelerator"]


@contextmanager
def float64(enabled: bool = True) -> Iterator[None]:
    """Context in which JAX creates and computes float64 arrays (`jax_enable_x64`).

    Only the code inside the context is affected; the user's global setting is restored after.
    With `enabled=False` it does nothing (for callers that asked for float32).
    """
    if not enabled:
        yield
        return
    import jax

    if hasattr(jax, "enable_x64"):  # JAX >= 0.6: a config state usable as a context
        with jax.enable_x64(True):
            yield
        return
    from jax.experimental import enable_x64  # JAX 0.5.x; removed in recent JAX

    with enable_x64():
        yield


def with_float64(fn: F) -> F:
    """Decorator: runs `fn` inside `float64()`."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with float64():
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def on_accelerator() -> bool:
    """Whether JAX computes on a GPU or TPU now: `jax.default_device` if set, else the backend."""
    import jax

    device = jax.config.jax_default_device
    if device is None:
        platform = jax.default_backend()
    else:
        platform = device if isinstance(device, str) else device.platform
    return platform.lower() in ("gpu", "cuda", "rocm", "tpu")
