"""Imports neural-tangents without TensorFlow.

neural-tangents 0.6.5 imports `neural_tangents.experimental` at import time, which imports
TensorFlow (through tf2jax and jax2tf) for its TF-model features only: about 0.6 GiB of memory
and several seconds per process. `load()` registers a stand-in for that subpackage that imports
the real one on first attribute access, so that TensorFlow is loaded only if a user touches
`neural_tangents.experimental`. If neural-tangents is already imported, nothing changes.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

__all__ = ["load"]

_EXPERIMENTAL = "neural_tangents.experimental"


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


def load() -> types.ModuleType:
    """Returns the `neural_tangents` module, imported without TensorFlow where possible."""
    if "neural_tangents" not in sys.modules and _EXPERIMENTAL not in sys.modules:
        stand_in = _DeferredExperimental(_EXPERIMENTAL)
        stand_in.__path__ = []  # a package, so that `from . import experimental` binds it
        sys.modules[_EXPERIMENTAL] = stand_in
    return importlib.import_module("neural_tangents")
