"""Executors for sweeps from the command line: serial, a local dask cluster, or a scheduler.

`ntk_info.sweep.sweep` takes any `concurrent.futures.Executor` or dask ``Client``; the commands
(`ntk-info sweep`, `ntk-info estimators-benchmark`) build theirs here from ``--workers N`` or
``--scheduler ADDRESS``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

__all__ = ["executor_for"]


@contextlib.contextmanager
def executor_for(
    workers: int | None, scheduler: str | None, processes: bool = True
) -> Iterator[Any]:
    """The executor a command line asks for, as a context manager that shuts it down.

    Yields None (serial: neither given), a dask ``Client`` on a ``LocalCluster`` of `workers`
    single-threaded workers (processes, or threads with ``processes=False``; a spawn process
    pool where dask.distributed is not installed), or a ``Client`` on the running scheduler at
    `scheduler` (e.g. one started by dask-jobqueue on a cluster).
    """
    if workers is not None and scheduler is not None:
        raise ValueError("Pass --workers N or --scheduler ADDRESS, not both.")
    if workers is not None and (int(workers) != workers or workers < 1):
        raise ValueError(f"--workers must be an integer >= 1, got {workers}.")
    if scheduler is None and workers is None:
        yield None
        return
    try:
        import distributed
    except ImportError:
        distributed = None
    if scheduler is not None:
        if distributed is None:
            raise ValueError("--scheduler needs dask.distributed: pip install 'ntk-info[dask]'.")
        with distributed.Client(scheduler) as client:
            yield client
        return
    if distributed is None:  # a process pool does the same job without dask
        import concurrent.futures as cf
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        with cf.ProcessPoolExecutor(int(workers), mp_context=ctx) as pool:
            yield pool
        return
    cluster = distributed.LocalCluster(
        n_workers=int(workers), threads_per_worker=1, processes=processes, dashboard_address=None
    )
    with cluster, distributed.Client(cluster) as client:
        yield client
