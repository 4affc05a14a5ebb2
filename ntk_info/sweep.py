"""Sweeps over a grid of configurations with a resumable, crash-safe result store.

``sweep(grid, fn, store=...)`` calls ``fn(**point)`` once for every point of ``grid`` and returns
one tidy table: the rows ``fn`` returned, with the point's values as the first columns, in grid
order.

Store layout (one directory per sweep)::

    store/manifest.json         format version + the grid's canonical JSON (every point, in order)
    store/points/<hash>.pkl     one file per finished point, named by a SHA-256 of the point

Every file is written atomically: to a temporary file in the same directory, flushed, fsynced,
then ``os.replace``-d over its final name (and the directory fsynced). A sweep killed at any
moment (SIGKILL, power loss after fsync) therefore loses nothing that had finished; a restarted
sweep reads the finished points, checks each file's SHA-256 checksum and the point it records,
and recomputes only the points that are missing or damaged. A store written for another grid
or another format version raises ``ValueError`` instead of mixing results.

One sweep process per store at a time: the store is not locked against a second writer.
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import itertools
import json
import math
import os
import pickle
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["FORMAT_VERSION", "sweep"]

FORMAT_VERSION = 1
_FORMAT_NAME = "ntk_info.sweep"
_MAGIC = b"NTKINFO-SWEEP-POINT-1\n"
_MANIFEST = "manifest.json"
_POINTS = "points"
_TMP_PREFIX = ".tmp-"


# --------------------------------------------------------------------------- grid and points


def _canonical_value(value: Any, where: str) -> Any:
    """A point value as a plain Python scalar (or tuple of them); TypeError naming ``where``."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if math.isnan(value):
            raise ValueError(f"{where} is NaN; a grid value must compare equal to itself")
        return value
    if isinstance(value, tuple):
        return tuple(_canonical_value(v, f"{where}[{i}]") for i, v in enumerate(value))
    if isinstance(value, (list, dict, set, np.ndarray)):
        raise TypeError(
            f"{where} is a {type(value).__name__}, which is unhashable; a point value must be "
            "None, bool, int, float, str or a tuple of them (use a tuple instead of a list)"
        )
    raise TypeError(
        f"{where} has type {type(value).__name__}, which the sweep store cannot serialise; "
        "a point value must be None, bool, int, float, str or a tuple of them "
        "(pass a name or an index and build the object inside fn)"
    )


def _json_value(value: Any) -> Any:
    """JSON form of a canonical value that keeps int / float / bool / tuple distinct."""
    if isinstance(value, tuple):
        return {"tuple": [_json_value(v) for v in value]}
    if isinstance(value, float):
        return {"float": repr(value)}
    return value


def _point_json(point: Mapping[str, Any]) -> str:
    """Canonical JSON of one point: keys sorted, types tagged, no whitespace."""
    return json.dumps(
        {k: _json_value(v) for k, v in point.items()}, sort_keys=True, separators=(",", ":")
    )


def _point_key(point_json: str) -> str:
    return hashlib.sha256(point_json.encode()).hexdigest()[:32]


def _check_name(name: Any, where: str) -> str:
    if not isinstance(name, str) or not name:
        raise TypeError(f"{where}: grid names must be non-empty strings, got {name!r}")
    return name


def grid_points(grid: Mapping[str, Sequence[Any]] | Sequence[Mapping[str, Any]]) -> list[dict]:
    """The points of ``grid`` in order, as dicts of canonical values.

    A mapping ``{name: values}`` is the product grid (``itertools.product`` over the names in
    the mapping's order, the last name varying fastest); a list of dicts is a ragged grid taken
    as given. Raises ``ValueError``/``TypeError`` naming the problem.
    """
    if isinstance(grid, Mapping):
        if not grid:
            raise ValueError("grid is empty: give at least one name with a list of values")
        names, axes = [], []
        for name, values in grid.items():
            name = _check_name(name, f"grid key {name!r}")
            if isinstance(values, np.ndarray):
                if values.ndim != 1:
                    raise ValueError(
                        f"grid[{name!r}] is an array of shape {values.shape}; give a 1-D array"
                    )
                values = values.tolist()
            elif not isinstance(values, (list, tuple, range)):
                raise TypeError(
                    f"grid[{name!r}] must be a list, tuple or 1-D array of values, got "
                    f"{type(values).__name__}; wrap a single value in a list: [{values!r}]"
                )
            if len(values) == 0:
                raise ValueError(f"grid[{name!r}] is empty: give at least one value")
            axes.append([_canonical_value(v, f"grid[{name!r}][{i}]") for i, v in enumerate(values)])
            names.append(name)
        points = [dict(zip(names, combo, strict=True)) for combo in itertools.product(*axes)]
    elif isinstance(grid, (list, tuple)):
        if not grid:
            raise ValueError("grid is empty: give at least one point (a dict of name -> value)")
        points = []
        for i, raw in enumerate(grid):
            if not isinstance(raw, Mapping):
                raise TypeError(
                    f"grid[{i}] is a {type(raw).__name__}; a ragged grid is a list of dicts "
                    "name -> value"
                )
            if not raw:
                raise ValueError(f"grid[{i}] is an empty dict; every point needs a value")
            points.append(
                {
                    _check_name(k, f"grid[{i}]"): _canonical_value(v, f"grid[{i}][{k!r}]")
                    for k, v in raw.items()
                }
            )
    else:
        raise TypeError(
            f"grid must be a dict name -> list of values (product grid) or a list of dicts "
            f"(ragged grid), got {type(grid).__name__}"
        )
    seen: dict[str, int] = {}
    for i, point in enumerate(points):
        pj = _point_json(point)
        if pj in seen:
            raise ValueError(f"grid has a duplicate point {point} (points {seen[pj]} and {i})")
        seen[pj] = i
    return points


# --------------------------------------------------------------------------- atomic files


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # e.g. Windows: directories cannot be opened
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a reader sees the old file or the whole new one."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=_TMP_PREFIX)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(path.parent)


def _encode_point(point_json: str, frame: pd.DataFrame) -> bytes:
    payload = pickle.dumps({"point": point_json, "rows": frame}, protocol=4)
    return _MAGIC + hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload


def _decode_point(data: bytes, point_json: str) -> pd.DataFrame | None:
    """The stored rows, or None if the file is truncated, corrupt or for another point."""
    if not data.startswith(_MAGIC):
        return None
    body = data[len(_MAGIC) :]
    digest, sep, payload = body.partition(b"\n")
    if not sep or hashlib.sha256(payload).hexdigest().encode() != digest:
        return None
    try:
        record = pickle.loads(payload)
    except Exception:
        return None
    if not isinstance(record, dict) or record.get("point") != point_json:
        return None
    rows = record.get("rows")
    return rows if isinstance(rows, pd.DataFrame) else None


def _open_store(store: str | os.PathLike, point_jsons: list[str]) -> Path:
    """Create the store or check that its manifest matches this grid and format version."""
    root = Path(store)
    if root.exists() and not root.is_dir():
        raise ValueError(f"store={str(root)!r} is a file; give a directory for the sweep store")
    root.mkdir(parents=True, exist_ok=True)
    manifest_path = root / _MANIFEST
    grid_hash = hashlib.sha256("\n".join(point_jsons).encode()).hexdigest()
    if manifest_path.exists():
        try:
            manifest = json.loads(manifest_path.read_text())
        except (OSError, ValueError) as exc:
            raise ValueError(
                f"store {str(root)!r} has an unreadable {_MANIFEST}; it is not a sweep store "
                "written by this version (use another directory)"
            ) from exc
        if not isinstance(manifest, dict) or manifest.get("format") != _FORMAT_NAME:
            raise ValueError(f"store {str(root)!r} is not an ntk_info sweep store")
        if manifest.get("version") != FORMAT_VERSION:
            raise ValueError(
                f"store {str(root)!r} was written with sweep store format version "
                f"{manifest.get('version')!r}; this ntk_info reads version {FORMAT_VERSION}. "
                "Use a new store directory (or the ntk_info version that wrote it)"
            )
        if manifest.get("grid_sha256") != grid_hash or manifest.get("grid") != point_jsons:
            stored = manifest.get("grid") or []
            raise ValueError(
                f"store {str(root)!r} was written for another grid ({len(stored)} points, "
                f"this grid has {len(point_jsons)}); use a new store directory for this grid "
                "or delete the old one"
            )
    else:
        leftovers = [
            p.name
            for p in root.iterdir()
            if not p.name.startswith(_TMP_PREFIX)
            and not (p.name == _POINTS and p.is_dir() and not any(p.iterdir()))
        ]
        if leftovers:
            raise ValueError(
                f"store {str(root)!r} is a non-empty directory without a sweep {_MANIFEST} "
                f"(it holds {sorted(leftovers)[:5]}); give a new or empty directory"
            )
        manifest = {
            "format": _FORMAT_NAME,
            "version": FORMAT_VERSION,
            "grid_sha256": grid_hash,
            "grid": point_jsons,
        }
        _write_atomic(manifest_path, json.dumps(manifest, indent=1).encode())
    (root / _POINTS).mkdir(exist_ok=True)
    return root


# --------------------------------------------------------------------------- rows


def _as_frame(result: Any, point: Mapping[str, Any]) -> pd.DataFrame:
    """fn's result as a DataFrame without the point columns; TypeError/ValueError otherwise."""
    if isinstance(result, pd.DataFrame):
        frame = result.reset_index(drop=True).copy()
    elif isinstance(result, Mapping):
        frame = pd.DataFrame([dict(result)])
    else:
        raise TypeError(
            f"fn(**{dict(point)}) returned a {type(result).__name__}; fn must return a mapping "
            "(one row: column -> value) or a pandas DataFrame (several rows)"
        )
    for col in frame.columns:
        if not isinstance(col, str):
            raise TypeError(f"fn(**{dict(point)}) returned a column named {col!r}; use strings")
    for name, value in point.items():
        if name in frame.columns:
            if not (frame[name] == value).all():
                raise ValueError(
                    f"fn(**{dict(point)}) returned a column {name!r} that differs from the "
                    "grid value of the same name; rename the column"
                )
            frame = frame.drop(columns=name)
    return frame


def _call(fn: Callable[..., Any], point: dict) -> Any:
    return fn(**point)


def _assemble(points: list[dict], frames: list[pd.DataFrame]) -> pd.DataFrame:
    point_cols: list[str] = []
    result_cols: list[str] = []
    for point, frame in zip(points, frames, strict=True):
        point_cols.extend(k for k in point if k not in point_cols)
        result_cols.extend(c for c in frame.columns if c not in result_cols)
    parts = []
    for point, frame in zip(points, frames, strict=True):
        part = frame.copy()
        for i, (name, value) in enumerate(point.items()):
            part.insert(i, name, [value] * len(part))
        parts.append(part)
    table = pd.concat(parts, ignore_index=True, sort=False)
    return table.reindex(columns=point_cols + result_cols)


# --------------------------------------------------------------------------- sweep


def _as_executor(executor: Any) -> cf.Executor | None:
    if executor is None or isinstance(executor, cf.Executor):
        return executor
    get_executor = getattr(executor, "get_executor", None)
    if callable(get_executor) and type(executor).__module__.startswith("distributed"):
        return get_executor(pure=False)  # dask.distributed.Client -> concurrent.futures view
    raise TypeError(
        f"executor must be None, a concurrent.futures.Executor or a dask.distributed.Client, "
        f"got {type(executor).__name__}"
    )


def sweep(
    grid: Mapping[str, Sequence[Any]] | Sequence[Mapping[str, Any]],
    fn: Callable[..., Mapping[str, Any] | pd.DataFrame],
    *,
    store: str | os.PathLike,
    executor: Any = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Run ``fn(**point)`` on every point of ``grid``, resumably; return one tidy table.

    Args:
      grid: ``{name: values}`` for the product grid (names in the mapping's order, the last
        varying fastest; ``values`` a list, tuple, range or 1-D array), or a list of dicts for
        a ragged grid (points as given; names may differ between points). Point values are
        None, bool, int, float, str or tuples of them (NumPy scalars become Python scalars).
      fn: called as ``fn(**point)``; returns a mapping (one row) or a DataFrame (several rows).
        With a process pool or dask it must be picklable (a module-level function).
      store: directory of the result store (created if missing). Each finished point is
        written atomically as soon as it arrives; a restarted sweep with the same grid skips
        the finished points and recomputes missing or damaged (truncated, corrupt) ones.
        A store of another grid or format version raises ``ValueError``.
      executor: None runs serially in this process; a ``concurrent.futures.Executor``
        (thread or process pool, ...) runs the unfinished points through ``submit`` and
        ``as_completed``; a ``dask.distributed.Client`` is used through
        ``client.get_executor(pure=False)``. Results are written by this (the calling) process.
      progress: show a tqdm bar with ETA over all points (finished ones count as done).

    Returns:
      DataFrame: the point columns first (the union of names, in grid order; missing names in
      a ragged grid are NaN), then fn's columns; rows in grid order, each point's rows in the
      order fn returned them.

    If ``fn`` raises, the exception propagates (after the points already finished are stored);
    points still queued on the executor are cancelled.
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    points = grid_points(grid)
    point_jsons = [_point_json(p) for p in points]
    ex = _as_executor(executor)
    root = _open_store(store, point_jsons)
    paths = [root / _POINTS / f"{_point_key(pj)}.pkl" for pj in point_jsons]

    frames: list[pd.DataFrame | None] = [None] * len(points)
    for i, (path, pj) in enumerate(zip(paths, point_jsons, strict=True)):
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            continue
        frames[i] = _decode_point(data, pj)  # None if damaged: recomputed below
    todo = [i for i, f in enumerate(frames) if f is None]

    from tqdm.auto import tqdm

    bar = tqdm(
        total=len(points),
        initial=len(points) - len(todo),
        disable=not progress,
        desc="sweep",
        unit="point",
    )

    def finish(i: int, result: Any) -> None:
        frame = _as_frame(result, points[i])
        _write_atomic(paths[i], _encode_point(point_jsons[i], frame))
        frames[i] = frame
        bar.update(1)

    try:
        if ex is None:
            for i in todo:
                finish(i, fn(**points[i]))
        else:
            _run_on(ex, fn, points, todo, finish)
    finally:
        bar.close()
    return _assemble(points, frames)  # type: ignore[arg-type]


def _run_on(
    ex: cf.Executor,
    fn: Callable[..., Any],
    points: list[dict],
    todo: Iterable[int],
    finish: Callable[[int, Any], None],
) -> None:
    futures = {ex.submit(_call, fn, points[i]): i for i in todo}
    current = None
    try:
        for future in cf.as_completed(futures):
            current = futures[future]
            finish(current, future.result())
    except BaseException as exc:
        for future in futures:
            future.cancel()
        if current is not None and hasattr(exc, "add_note"):
            exc.add_note(f"while computing point {points[current]}")
        raise
