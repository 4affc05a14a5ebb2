"""An independent IB implementation to compare against: embo, run serially (tests, benchmarks).

embo (`pip install embo`, Tishby-Pereira-Bialek iterations from random restarts at each beta,
bits) is optional and imported only when `embo_ib_curve` is called.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

__all__ = ["SerialPool", "serial_embo", "embo_ib_curve"]


class SerialPool:
    """Stand-in for multiprocessing.Pool that runs each task at once in this process.

    embo solves its betas in a forked process pool, which can deadlock next to JAX's threads.
    """

    def __init__(self, processes: int | None = None):
        del processes

    def __enter__(self) -> SerialPool:
        return self

    def __exit__(self, *exc: Any) -> bool:
        return False

    def apply_async(self, fn: Any, args: tuple = ()) -> Any:
        value = fn(*args)
        return types.SimpleNamespace(get=lambda: value)


@contextmanager
def serial_embo() -> Iterator[None]:
    """Context in which embo uses `SerialPool`; only embo's own reference to the
    multiprocessing module is replaced (the global `multiprocessing.Pool` is untouched)."""
    import embo.core

    original = embo.core.mp
    embo.core.mp = types.SimpleNamespace(Pool=SerialPool)
    try:
        yield
    finally:
        embo.core.mp = original


def embo_ib_curve(
    pxy: np.ndarray,
    *,
    minbeta: float,
    maxbeta: float,
    numbeta: int,
    seed: int = 0,
    **options: Any,
) -> tuple[np.ndarray, np.ndarray]:
    """The IB curve (I(X;T), I(T;Y)) of embo at numbeta betas in [minbeta, maxbeta], in nats.

    embo maximises I(T;Y) - I(X;T) / beta (same beta as `ib.solve`) from random restarts at
    each beta, drops points that break the curve's monotonicity, and reports bits; the values
    are converted with ln 2. NumPy's legacy global generator (which embo uses) is seeded with
    `seed`; NumPy floating-point warnings are silenced during the call.

    Args:
      pxy: (|X|, |Y|) joint.
      minbeta, maxbeta, numbeta: embo's linear beta grid.
      seed: seed of np.random (embo's restarts).
      options: further InformationBottleneck arguments (e.g. iterations, restarts).

    Returns:
      (ixt, ity), each (M,) with M <= numbeta, in nats, increasing.

    Reference: embo (Piasini, Filipowicz, Levine, Gold), https://gitlab.com/epiasini/embo.
    """
    from embo import InformationBottleneck

    np.random.seed(seed)  # noqa: NPY002 - embo draws from the legacy global generator
    with serial_embo(), np.errstate(all="ignore"):
        bottleneck = InformationBottleneck(
            pxy=np.array(pxy, dtype=np.float64),
            minbeta=minbeta,
            maxbeta=maxbeta,
            numbeta=numbeta,
            **options,
        )
        ix_bits, iy_bits, _, _ = bottleneck.get_bottleneck()
    return np.asarray(ix_bits) * np.log(2.0), np.asarray(iy_bits) * np.log(2.0)
