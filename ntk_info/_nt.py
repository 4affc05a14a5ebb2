"""Imports neural-tangents 0.6.5 on any JAX from 0.5.3 to the newest, without TensorFlow.

Two things stand between neural-tangents 0.6.5 (its last release) and a current JAX process:

1. **Names that newer JAX removed.** neural-tangents imports, at import time,
     - `jax.core.Jaxpr, JaxprEqn, Literal, Primitive, Var` (moved to `jax.extend.core` in 0.6),
     - the module `jax.util` with `safe_map` / `safe_zip` (removed),
     - `jax.interpreters.ad.zeros_like_p` (removed; neural-tangents only uses it as a key of
       its structure/Jacobian rule tables, so any distinct primitive serves).
   `restore_removed_jax_names()` fills exactly the names that the running JAX lacks, before
   neural-tangents is imported; on JAX 0.5.3 it changes nothing. With those names, stax
   kernels, `nt.batch`, `predict`, `monte_carlo_kernel_fn` and empirical kernels
   (implementations 1 and 2) agree with the JAX 0.5.3 stack to rounding. Empirical
   implementation 3 (structured derivatives) is broken on every JAX version:
   `check_empirical_implementation` refuses it.
2. **TensorFlow.** neural-tangents imports `neural_tangents.experimental` at import time, which
   imports TensorFlow (through tf2jax and jax2tf) for its TF-model features only: about
   0.6 GiB of memory and several seconds per process. `load()` registers a stand-in for that
   subpackage that imports the real one on first attribute access, so that TensorFlow is
   loaded only if a user touches `neural_tangents.experimental`.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import math
import sys
import types
import warnings
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["load", "restore_removed_jax_names", "check_empirical_implementation"]

_EXPERIMENTAL = "neural_tangents.experimental"
_CORE_NAMES = ("Jaxpr", "JaxprEqn", "Literal", "Primitive", "Var")


def _has(module: types.ModuleType, name: str) -> bool:
    """hasattr without the deprecation warnings that JAX's module __getattr__ may emit."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            getattr(module, name)
        except AttributeError:
            return False
    return True


def _safe_map(f: Callable, *args: Iterable) -> list:
    """map() that insists on equal lengths (the removed `jax.util.safe_map`)."""
    lists = [list(a) for a in args]
    if len({len(a) for a in lists}) > 1:
        raise ValueError(f"safe_map: lengths differ: {[len(a) for a in lists]}")
    return list(map(f, *lists))


def _safe_zip(*args: Iterable) -> list:
    """zip() that insists on equal lengths (the removed `jax.util.safe_zip`)."""
    lists = [list(a) for a in args]
    if len({len(a) for a in lists}) > 1:
        raise ValueError(f"safe_zip: lengths differ: {[len(a) for a in lists]}")
    return list(zip(*lists, strict=True))


def restore_removed_jax_names() -> list[str]:
    """Fills the JAX names that neural-tangents 0.6.5 imports and the running JAX lacks.

    Idempotent; touches nothing that exists. Returns the names it added (empty on JAX 0.5.3).
    """
    import jax
    import jax.core
    from jax.interpreters import ad

    added = []
    missing = [name for name in _CORE_NAMES if not _has(jax.core, name)]
    if missing:
        import jax.extend.core

        for name in missing:
            setattr(jax.core, name, getattr(jax.extend.core, name))
            added.append(f"jax.core.{name}")
    if "jax.util" not in sys.modules and importlib.util.find_spec("jax.util") is None:
        util = types.ModuleType("jax.util", "Stand-in for the removed jax.util (ntk_info._nt).")
        util.safe_map, util.safe_zip = _safe_map, _safe_zip
        sys.modules["jax.util"] = util
        jax.util = util
        added.append("jax.util")
    if not _has(ad, "zeros_like_p"):
        import jax.extend.core

        ad.zeros_like_p = jax.extend.core.Primitive("zeros_like")
        added.append("jax.interpreters.ad.zeros_like_p")
    return added


class _DeferredExperimental(types.ModuleType):
    """Stand-in module: the first missing attribute imports the real subpackage."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        real = _import_real_experimental()
        return getattr(real, name)


def _import_real_experimental() -> types.ModuleType:
    if isinstance(sys.modules.get(_EXPERIMENTAL), _DeferredExperimental):
        del sys.modules[_EXPERIMENTAL]
    real = importlib.import_module(_EXPERIMENTAL)
    parent = sys.modules.get("neural_tangents")
    if parent is not None:
        parent.experimental = real
    return real


class _ShapeTolerantNumpy(types.ModuleType):
    """`jax.numpy` whose `size` and `shape` also read `jax.ShapeDtypeStruct`s.

    neural-tangents' empirical kernels call ``jnp.size`` / ``jnp.shape`` on the abstract
    leaves of `jax.eval_shape`; newer JAX deprecates that ("In a future JAX release this will
    be an error"). Everything else is `jax.numpy` itself.
    """

    def __init__(self, jnp: types.ModuleType):
        super().__init__("jax.numpy", jnp.__doc__)
        self._jnp = jnp

    def __getattr__(self, name: str) -> Any:
        return getattr(self._jnp, name)

    def size(self, a: Any, axis: int | None = None) -> int:
        if _is_abstract(a):
            return math.prod(a.shape) if axis is None else a.shape[axis]
        return self._jnp.size(a, axis)

    def shape(self, a: Any) -> tuple[int, ...]:
        return tuple(a.shape) if _is_abstract(a) else self._jnp.shape(a)


def _is_abstract(a: Any) -> bool:
    import jax

    return isinstance(a, jax.ShapeDtypeStruct)


@functools.cache
def _jnp_warns_on_abstract_arrays() -> bool:
    import jax
    import jax.numpy as jnp

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            jnp.size(jax.ShapeDtypeStruct((2,), jnp.float32))
        except TypeError:
            return True
    return bool(caught)


def _tolerate_abstract_shapes() -> list[str]:
    """Gives neural-tangents' empirical module the shape-tolerant `jnp` where JAX needs it."""
    empirical = sys.modules.get("neural_tangents._src.empirical")
    if empirical is None or isinstance(empirical.jnp, _ShapeTolerantNumpy):
        return []
    if not _jnp_warns_on_abstract_arrays():
        return []
    empirical.jnp = _ShapeTolerantNumpy(empirical.jnp)
    return ["neural_tangents._src.empirical.jnp.size/shape"]


def load() -> types.ModuleType:
    """Returns the `neural_tangents` module, importable on any supported JAX, without TensorFlow."""
    restore_removed_jax_names()
    if "neural_tangents" not in sys.modules and _EXPERIMENTAL not in sys.modules:
        stand_in = _DeferredExperimental(_EXPERIMENTAL)
        stand_in.__path__ = []  # a package, so that `from . import experimental` binds it
        sys.modules[_EXPERIMENTAL] = stand_in
    nt = importlib.import_module("neural_tangents")
    _tolerate_abstract_shapes()
    return nt


def check_empirical_implementation(implementation: Any) -> Any:
    """Refuses neural-tangents' empirical-kernel implementation 3 (structured derivatives).

    Implementation 3 (`NtkImplementation.STRUCTURED_DERIVATIVES`) gives wrong kernels or fails
    on every JAX version with neural-tangents 0.6.5; 1 (Jacobian contraction) and 2 (NTK-vector
    products) are exact. Returns `implementation` unchanged when it is 1 or 2 (or an
    `NtkImplementation` member with those values).
    """
    value = getattr(implementation, "value", implementation)
    if value == 3 or (isinstance(value, str) and "STRUCTURED" in value.upper()):
        raise ValueError(
            "neural-tangents' empirical NTK implementation 3 (structured derivatives) is broken "
            "with neural-tangents 0.6.5 on every JAX version; use implementation=1 (Jacobian "
            "contraction) or implementation=2 (NTK-vector products), which are exact."
        )
    if value not in (1, 2):
        raise ValueError(
            f"`implementation` must be 1 (Jacobian contraction) or 2 (NTK-vector products), "
            f"got {implementation!r}."
        )
    return implementation
