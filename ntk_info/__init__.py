"""ntk_info: information theory of infinite ensembles of infinitely-wide neural networks.

Importing the package is cheap: neural-tangents (and TensorFlow, which it imports) and JAX are
loaded only when a kernel or a jitted function is first needed.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "InfiniteEnsemble": "ntk_info.ensemble",
    "Prediction": "ntk_info.ensemble",
    "Spectrum": "ntk_info.ensemble",
    "information_plane": "ntk_info.information",
    "fc": "ntk_info.architectures",
    "cnn": "ntk_info.architectures",
}
_SUBMODULES = (
    "architectures",
    "bounds",
    "data",
    "discrete",
    "ensemble",
    "estimators",
    "experiment",
    "figures",
    "finite",
    "gain",
    "gib",
    "ib",
    "information",
    "kernels",
    "learning_curves",
    "mixture",
    "plotting",
    "sweep",
    "sweep_cli",
    "sweep_config",
    "tasks",
    "variational",
    "width",
)

__all__ = sorted(_LAZY) + list(_SUBMODULES)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name in _SUBMODULES:
        return importlib.import_module(f"ntk_info.{name}")
    raise AttributeError(f"module 'ntk_info' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
