"""Reading the input files on Dask distributed workers (``--workers N``, ``--scheduler``).

Each file is one task (``normalize.read_and_collect`` under the run's formats) whose result
is frames and plain values; the client gathers them in input order, and finishing (the year
of yearless lines across files), identity, correlation and diagnosis run here as in a local
run, so the report is the same.

The workers need the same analyzer version as the client (checked before any task runs)
and read access to the inputs: a local path must mean the same file on every worker (a
shared mount, or a local cluster); a URL is fetched by the worker that reads it (see
``analyzer.ingest.remote``). dask is imported only in this module.

A script that calls ``analyze(..., workers=N)`` needs the usual ``if __name__ ==
"__main__":`` guard: the worker processes are spawned, and import the script again.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import analyzer
from analyzer import formats, limits
from analyzer.errors import AnalyzerError, InputError
from analyzer.ingest.remote import is_url
from analyzer.normalize import Collected, read_and_collect
from analyzer.normalize.time import TimeContext

if TYPE_CHECKING:
    from distributed import Client

    from analyzer.api import Collector

#: How long to wait for a ``--scheduler`` to answer, in seconds.
CONNECT_TIMEOUT_S = 10


class ClusterError(AnalyzerError):
    """The Dask cluster could not be reached, or could not run the analyzer."""


def _dask() -> Any:
    try:
        import distributed
    except ImportError as err:
        msg = "--workers/--scheduler need Dask: pip install 'k8s-502-analyzer[dask]'"
        raise ClusterError(msg) from err
    return distributed


@contextmanager
def cluster(scheduler: str | None = None, workers: int | None = None) -> Iterator[Client]:
    """A Dask client: connected to the scheduler at ``scheduler`` (``tcp://HOST:PORT``), or
    to a local cluster of ``workers`` single-threaded processes started for the block."""
    if (scheduler is None) == (workers is None):
        msg = "pass either --scheduler ADDRESS or --workers N (not both, not neither)"
        raise InputError(msg)
    distributed = _dask()
    if scheduler is not None:
        try:
            client = distributed.Client(scheduler, timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError, ValueError) as err:
            msg = f"--scheduler {scheduler}: cannot connect ({err})"
            raise ClusterError(msg) from err
        with client:
            yield client
        return
    assert workers is not None
    if workers < 1:
        msg = f"--workers {workers}: need at least one worker"
        raise InputError(msg)
    import dask.config

    # Set before the worker processes start (they import polars while they start up); the
    # nanny sets it in this process's environment too, so it is put back afterwards.
    threads = {"distributed.nanny.pre-spawn-environ.POLARS_MAX_THREADS": _polars_threads(workers)}
    with (
        _environ_kept("POLARS_MAX_THREADS"),
        dask.config.set(threads),
        distributed.LocalCluster(
            n_workers=workers,
            threads_per_worker=1,  # polars threads within a file; processes across files
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,  # the report owns stdout/stderr
        ) as local,
        distributed.Client(local) as client,
    ):
        yield client


@contextmanager
def _environ_kept(name: str) -> Iterator[None]:
    before = os.environ.get(name)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


def _polars_threads(workers: int) -> int:
    """Each local worker's share of the cores: N workers each with a pool of every core
    would fight over them."""
    return max(1, (os.cpu_count() or 1) // workers)


@contextmanager
def cluster_collector(scheduler: str | None, workers: int | None) -> Iterator[Collector]:
    """``dask_collector`` over ``cluster(scheduler, workers)`` for the block."""
    with cluster(scheduler, workers) as client:
        yield dask_collector(client)


def _worker_version() -> str:
    import analyzer as on_worker

    return on_worker.__version__


def check_workers(client: Client) -> None:
    """Every worker runs this analyzer version (an older one would read differently)."""
    try:
        versions = client.run(_worker_version)
    except Exception as err:  # noqa: BLE001 - e.g. analyzer not installed on the worker
        msg = f"the Dask workers cannot run the analyzer ({type(err).__name__}: {err})"
        raise ClusterError(msg) from err
    if not versions:
        msg = "the Dask cluster has no workers"
        raise ClusterError(msg)
    other = {w: v for w, v in versions.items() if v != analyzer.__version__}
    if other:
        shown = ", ".join(f"{w} has {v}" for w, v in sorted(other.items()))
        msg = f"the Dask workers need analyzer {analyzer.__version__}: {shown}"
        raise ClusterError(msg)


def collect_on_worker(
    path: str | Path,
    shown: str,
    ctx: TimeContext,
    as_format: str | None,
    reduce: bool,
    registry: formats.Registry,
    read_limits: limits.Limits | None = None,
) -> Collected:
    """The task: one file read and collected under the run's formats and limits (a
    ``ContextVar`` does not travel with a task, so they are passed), named ``shown``."""
    with formats.using(registry), limits.using(read_limits or limits.Limits()):
        return read_and_collect(path, ctx, as_format=as_format, reduce=reduce, shown=shown)


def _where(path: str | Path) -> str | Path:
    """Where a worker finds ``path``: a relative path is the client's, not the worker's
    working directory's."""
    return path if is_url(path) else Path(path).absolute()


def dask_collector(client: Client) -> Collector:
    """A ``Collector`` that reads each file as one task on ``client``'s workers."""

    def collect(
        files: list[str | Path],
        ctx: TimeContext,
        as_format: str | None,
        reduce: bool,
        on_file: Callable[[str], None] | None,
    ) -> list[Collected]:
        if not files:
            return []
        check_workers(client)
        dask = _dask()
        # Sent once to every worker rather than pickled into each task.
        registry = client.scatter(formats.active(), broadcast=True, hash=False)
        futures = client.map(
            collect_on_worker,
            [_where(f) for f in files],
            [str(f) for f in files],
            ctx=ctx,
            as_format=as_format,
            reduce=reduce,
            registry=registry,
            read_limits=limits.active(),
            pure=False,
        )
        index = {f.key: i for i, f in enumerate(futures)}
        out: list[Collected | None] = [None] * len(files)
        try:
            for future in dask.as_completed(futures):
                i = index[future.key]
                out[i] = _result(future, files[i], dask)
                if on_file is not None:
                    on_file(out[i].path)  # type: ignore[union-attr]
        finally:
            client.cancel([f for f in futures if not f.done()])
        return out  # type: ignore[return-value]

    return collect


def _result(future: Any, path: str | Path, dask: Any) -> Collected:
    """The task's ``Collected``; its error raised as itself (an ``AnalyzerError`` as the
    user would see it locally; any other with a note naming the file)."""
    try:
        return future.result()  # type: ignore[no-any-return]
    except AnalyzerError:
        raise
    except dask.KilledWorker as err:
        msg = f"{path}: the Dask worker reading it died (out of memory?): {err}"
        raise ClusterError(msg) from err
    except Exception as err:
        err.add_note(f"while reading {path} on a Dask worker")
        raise
