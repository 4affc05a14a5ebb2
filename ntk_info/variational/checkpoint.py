"""Atomic, resumable training checkpoints: one file holding everything a run needs to continue.

`checkpoint_dir/state.pkl` holds the format version, the run's configuration fingerprint, the
last finished epoch, the parameters, the optimiser state, the base PRNG key and the history
rows, all as NumPy arrays. It is written to a temporary file in the same directory, flushed,
fsynced and `os.replace`-d over the old one each epoch, so a run killed at any moment leaves the
last finished epoch intact. Per-epoch keys are derived from (seed, epoch), so a resumed run
replays exactly the steps of the uninterrupted one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

import jax
import numpy as np

__all__ = ["FORMAT_VERSION", "save_checkpoint", "load_checkpoint", "fingerprint"]

FORMAT_VERSION = 1
FILENAME = "state.pkl"


def fingerprint(dataset: Any, config: dict[str, Any]) -> str:
    """SHA-256 (hex) of a dataset's arrays and of a run's arguments: identifies a run.

    Each argument is hashed by its pickle; one that does not pickle by its fields (a
    dataclass) or, for a function such as a teacher's predict, by its outputs on the first 64
    training inputs (`_describe`).

    Args:
      dataset: has x_train, y_train, x_test, y_test arrays.
      config: argument name -> value.

    Returns:
      64 hex digits.
    """
    digest = hashlib.sha256()
    for name in ("x_train", "y_train", "x_test", "y_test"):
        digest.update(np.ascontiguousarray(getattr(dataset, name), np.float64).tobytes())
    for key in sorted(config):
        digest.update(key.encode() + b"=" + _describe(config[key], dataset.x_train[:64]))
    return digest.hexdigest()


def _describe(value: Any, probe: np.ndarray) -> bytes:
    """Bytes that identify an argument: its pickle; for a dataclass that does not pickle (a
    noise model holding a closure), its fields one by one; for a function, its outputs on the
    first training inputs (a teacher's logits), else its type's name."""
    try:
        return pickle.dumps(value, protocol=4)
    except Exception:
        pass
    name = type(value).__qualname__.encode()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = dataclasses.fields(value)
        return name + b"".join(
            f.name.encode() + b":" + _describe(getattr(value, f.name), probe) for f in fields
        )
    if callable(value):
        try:
            outputs = np.asarray(value(np.asarray(probe)), dtype=np.float64)
        except Exception:
            return name
        return name + np.ascontiguousarray(outputs).tobytes()
    return name


def _to_numpy(tree: Any) -> Any:
    """jax array leaves as NumPy arrays (exact copies); other leaves (ints, floats) kept."""
    return jax.tree_util.tree_map(lambda a: np.asarray(a) if isinstance(a, jax.Array) else a, tree)


def save_checkpoint(directory: str | os.PathLike, state: dict[str, Any]) -> Path:
    """Writes `state` (params, opt_state, ... : pytrees of arrays) atomically; returns the path.

    Args:
      directory: created if missing.
      state: dict with at least 'fingerprint' and 'epoch'; its array leaves are saved as NumPy.

    Returns:
      the checkpoint file's path.
    """
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    payload = {"format": FORMAT_VERSION, **{k: _to_numpy(v) for k, v in state.items()}}
    data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=root)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, root / FILENAME)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(root, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return root / FILENAME


def load_checkpoint(directory: str | os.PathLike, fingerprint: str) -> dict[str, Any] | None:
    """The saved state of the run with this `fingerprint`, or None if there is no checkpoint.

    Raises:
      ValueError: the directory holds a checkpoint of another configuration or format.
    """
    path = Path(directory) / FILENAME
    if not path.exists():
        return None
    with open(path, "rb") as handle:
        state = pickle.load(handle)
    if state.get("format") != FORMAT_VERSION:
        raise ValueError(
            f"{path} has checkpoint format {state.get('format')}, expected {FORMAT_VERSION}; "
            "use an empty `checkpoint_dir`."
        )
    if state.get("fingerprint") != fingerprint:
        raise ValueError(
            f"`checkpoint_dir` {directory} holds a run of another configuration (data, "
            "objective, beta, model, optimiser or seed differ); use a new directory per run."
        )
    return state
