"""ntk_info.sweep: grids, resumable crash-safe store, executors, validation."""

from __future__ import annotations

import concurrent.futures as cf
import json
import multiprocessing
import os
import pickle
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from ntk_info.sweep import sweep

GRID = {"a": [1, 2, 3], "b": ("x", "y"), "c": np.array([0.5, 2.0])}


def _row(a, b, c):
    """Module level, so that a spawned process pool can unpickle it."""
    return {"prod": a * c, "label": f"{b}{a}"}


def _expected_product() -> pd.DataFrame:
    rows = [
        {"a": a, "b": b, "c": c, "prod": a * c, "label": f"{b}{a}"}
        for a in [1, 2, 3]
        for b in ["x", "y"]
        for c in [0.5, 2.0]
    ]
    return pd.DataFrame(rows)


def _points_in(store) -> set[str]:
    return {p.name for p in (store / "points").iterdir() if p.name.endswith(".pkl")}


def test_product_grid_rows_columns_and_order(tmp_path):
    table = sweep(GRID, _row, store=tmp_path / "s", progress=False)
    pd.testing.assert_frame_equal(table, _expected_product())
    assert list(table.columns) == ["a", "b", "c", "prod", "label"]
    assert len(_points_in(tmp_path / "s")) == 12


def test_ragged_grid_and_several_rows_per_point(tmp_path):
    grid = [{"w": 4}, {"w": 8, "act": "erf"}, {"act": "relu", "w": 2}]

    def fn(w, act="none"):
        return pd.DataFrame({"t": [0.0, 1.0], "val": [w, w + len(act)]}, index=[7, 3])

    table = sweep(grid, fn, store=tmp_path, progress=False)
    assert list(table.columns) == ["w", "act", "t", "val"]
    assert table["w"].tolist() == [4, 4, 8, 8, 2, 2]
    assert table["act"].iloc[:2].isna().all()
    assert table["act"].iloc[2:].tolist() == ["erf", "erf", "relu", "relu"]
    assert table["t"].tolist() == [0.0, 1.0] * 3
    assert table["val"].tolist() == [4, 8, 8, 11, 2, 6]
    assert list(table.index) == list(range(6))


_KILLED_SCRIPT = """
import os, signal, sys, time
from pathlib import Path
from ntk_info.sweep import sweep

calls = Path(sys.argv[2])

def fn(i, s):
    (calls / f"{i}-{s}").write_text("")
    if len(list(calls.iterdir())) > N_FINISHED:
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(0.02)
    return {"sq": i * i, "tag": s * i}

sweep({"i": list(range(4)), "s": ["p", "q"]}, fn, store=sys.argv[1], progress=False)
"""


def test_sigkill_midway_then_restart_recomputes_only_unfinished(tmp_path):
    store, calls = tmp_path / "store", tmp_path / "calls"
    calls.mkdir()
    script = _KILLED_SCRIPT.replace("N_FINISHED", "3")
    proc = subprocess.run(
        [sys.executable, "-c", script, str(store), str(calls)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    # Serial order: 0-p, 0-q, 1-p finished; killed inside the call for 1-q.
    assert {p.name for p in calls.iterdir()} == {"0-p", "0-q", "1-p", "1-q"}
    assert len(_points_in(store)) == 3

    again = []

    def fn(i, s):
        again.append(f"{i}-{s}")
        return {"sq": i * i, "tag": s * i}

    grid = {"i": list(range(4)), "s": ["p", "q"]}
    resumed = sweep(grid, fn, store=store, progress=False)
    assert again == ["1-q", "2-p", "2-q", "3-p", "3-q"]
    fresh = sweep(grid, fn, store=tmp_path / "fresh", progress=False)
    pd.testing.assert_frame_equal(resumed, fresh)
    assert resumed["sq"].tolist() == [0, 0, 1, 1, 4, 4, 9, 9]
    assert resumed["tag"].tolist()[-2:] == ["ppp", "qqq"]


_BUSY_SCRIPT = """
import sys, time
from ntk_info.sweep import sweep

def fn(i):
    time.sleep(0.003)
    return {"sq": i * i}

sweep({"i": list(range(300))}, fn, store=sys.argv[1], progress=False)
"""


def test_parent_sigkill_at_any_moment_keeps_every_written_point(tmp_path):
    store = tmp_path / "store"
    proc = subprocess.Popen([sys.executable, "-c", _BUSY_SCRIPT, str(store)])
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if (store / "points").is_dir() and len(_points_in(store)) >= 20:
                break
            time.sleep(0.001)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    written = len(_points_in(store))
    assert 20 <= written < 300

    calls = []

    def fn(i):
        calls.append(i)
        return {"sq": i * i}

    table = sweep({"i": list(range(300))}, fn, store=store, progress=False)
    assert len(calls) == 300 - written  # every file that had appeared was complete
    assert table["sq"].tolist() == [i * i for i in range(300)]


def test_damaged_point_files_are_recomputed(tmp_path):
    calls = []

    def fn(a, b, c):
        calls.append((a, b, c))
        return _row(a, b, c)

    sweep(GRID, fn, store=tmp_path, progress=False)
    assert len(calls) == 12
    files = sorted((tmp_path / "points").iterdir())
    truncated, corrupt = files[2], files[5]
    data = truncated.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    # Bit rot that still unpickles: only the checksum can tell.
    head, digest, payload = corrupt.read_bytes().split(b"\n", 2)
    record = pickle.loads(payload)
    record["rows"].iloc[0, 0] = -1.0
    corrupt.write_bytes(b"\n".join([head, digest, pickle.dumps(record, protocol=4)]))
    (tmp_path / "points" / ".tmp-leftover").write_bytes(b"partial")

    calls.clear()
    table = sweep(GRID, fn, store=tmp_path, progress=False)
    assert len(calls) == 2
    pd.testing.assert_frame_equal(table, _expected_product())
    calls.clear()
    sweep(GRID, fn, store=tmp_path, progress=False)
    assert calls == []


def test_store_of_another_grid_or_version_raises(tmp_path):
    sweep({"a": [1, 2]}, lambda a: {"v": a}, store=tmp_path, progress=False)
    with pytest.raises(ValueError, match="another grid"):
        sweep({"a": [1, 2, 3]}, lambda a: {"v": a}, store=tmp_path, progress=False)
    with pytest.raises(ValueError, match="another grid"):
        sweep({"a": [1.0, 2.0]}, lambda a: {"v": a}, store=tmp_path, progress=False)
    manifest = tmp_path / "manifest.json"
    m = json.loads(manifest.read_text())
    m["version"] = 999
    manifest.write_text(json.dumps(m))
    with pytest.raises(ValueError, match="format version"):
        sweep({"a": [1, 2]}, lambda a: {"v": a}, store=tmp_path, progress=False)
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="without a sweep manifest"):
        sweep({"a": [1]}, lambda a: {"v": a}, store=other, progress=False)


def test_fn_error_propagates_and_finished_points_are_kept(tmp_path):
    def fn(a):
        if a == 3:
            raise RuntimeError("boom")
        return {"v": a}

    with pytest.raises(RuntimeError, match="boom"):
        sweep({"a": [1, 2, 3, 4]}, fn, store=tmp_path, progress=False)
    assert len(_points_in(tmp_path)) == 2


def test_thread_and_spawned_process_pools_match_serial(tmp_path):
    serial = sweep(GRID, _row, store=tmp_path / "serial", progress=False)
    with cf.ThreadPoolExecutor(4) as ex:
        threads = sweep(GRID, _row, store=tmp_path / "threads", executor=ex, progress=False)
    pd.testing.assert_frame_equal(threads, serial)
    ctx = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(2, mp_context=ctx) as ex:
        procs = sweep(GRID, _row, store=tmp_path / "procs", executor=ex, progress=True)
    pd.testing.assert_frame_equal(procs, serial)
    assert _points_in(tmp_path / "procs") == _points_in(tmp_path / "serial")


def test_dask_client_matches_serial(tmp_path):
    distributed = pytest.importorskip("distributed")
    serial = sweep(GRID, _row, store=tmp_path / "serial", progress=False)
    cluster = distributed.LocalCluster(
        n_workers=2, processes=False, dashboard_address=None, threads_per_worker=1
    )
    with cluster, distributed.Client(cluster) as client:
        table = sweep(GRID, _row, store=tmp_path / "dask", executor=client, progress=False)
    pd.testing.assert_frame_equal(table, serial)


@pytest.mark.parametrize(
    ("grid", "error", "match"),
    [
        ({}, ValueError, "grid is empty"),
        ([], ValueError, "grid is empty"),
        ({"a": 3}, TypeError, r"grid\['a'\] must be a list"),
        ({"a": "abc"}, TypeError, r"grid\['a'\] must be a list"),
        ({"a": []}, ValueError, r"grid\['a'\] is empty"),
        ({"a": np.zeros((2, 2))}, ValueError, "1-D array"),
        ({"a": [[1, 2]]}, TypeError, "unhashable"),
        ([{"a": {"x": 1}}], TypeError, "unhashable"),
        ({"a": [object()]}, TypeError, "cannot serialise"),
        ({"a": [float("nan")]}, ValueError, "NaN"),
        ([{"a": 1}, 5], TypeError, r"grid\[1\] is a int"),
        ([{"a": 1}, {}], ValueError, "empty dict"),
        ({"a": [1, 1]}, ValueError, "duplicate point"),
        ({1: [1]}, TypeError, "non-empty strings"),
        ("a=1", TypeError, "grid must be a dict"),
    ],
)
def test_bad_grids(tmp_path, grid, error, match):
    with pytest.raises(error, match=match):
        sweep(grid, lambda **p: {}, store=tmp_path, progress=False)
    assert not (tmp_path / "manifest.json").exists()


def test_bad_fn_and_executor_and_store(tmp_path):
    with pytest.raises(TypeError, match="fn must return a mapping"):
        sweep({"a": [1]}, lambda a: [a], store=tmp_path / "1", progress=False)
    with pytest.raises(ValueError, match="differs from the grid value"):
        sweep({"a": [1]}, lambda a: {"a": 2}, store=tmp_path / "2", progress=False)
    with pytest.raises(TypeError, match="fn must be callable"):
        sweep({"a": [1]}, 3, store=tmp_path / "3", progress=False)
    with pytest.raises(TypeError, match="executor must be"):
        sweep({"a": [1]}, lambda a: {}, store=tmp_path / "4", executor=4, progress=False)
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="is a file"):
        sweep({"a": [1]}, lambda a: {}, store=tmp_path / "file", progress=False)
    # A result column equal to the grid value is dropped (the point column stays first).
    table = sweep({"a": [1]}, lambda a: {"v": 0, "a": a}, store=tmp_path / "5", progress=False)
    assert list(table.columns) == ["a", "v"]
    assert os.listdir(tmp_path / "1" / "points") == []


def test_tuple_and_numpy_values_reach_fn_as_python_values(tmp_path):
    seen = []

    def fn(shape, n, flag):
        seen.append((type(n), type(flag), shape))
        return {"size": int(np.prod(shape)) * n}

    grid = {"shape": [(2, 3), (4,)], "n": np.arange(1, 3), "flag": [np.bool_(True)]}
    table = sweep(grid, fn, store=tmp_path, progress=False)
    assert table["size"].tolist() == [6, 12, 4, 8]
    assert table["shape"].tolist() == [(2, 3), (2, 3), (4,), (4,)]
    assert {(t_n, t_f) for t_n, t_f, _ in seen} == {(int, bool)}
    assert sweep(grid, fn, store=tmp_path, progress=False).equals(table)
    assert len(seen) == 4
