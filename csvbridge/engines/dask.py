"""The Dask engine: the pure part of a conversion on a dask.distributed cluster.

Partitions: an input file of up to ``file_bytes`` is one partition, read *and* mapped on a
worker — which opens it at the same path, or, with ``read_on="client"``, gets its bytes from
here. A bigger file is read here in chunks, and each chunk is mapped on a worker. Results
come back strictly in input order through a window of at most ``window`` partitions in
flight, so memory stays bounded; the client numbers rows across the batch (``shift_rows``).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
import tempfile
import warnings
from collections import deque
from collections.abc import Generator, Sequence
from contextlib import ExitStack, closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import CsvbridgeError, EngineError, InputFileError
from ..mapping import Columns
from ..readers import RawChunk, SourceInfo
from .base import Closed, Event, MapJob, Mapped, Opened, open_input, shift_rows
from .local import LocalEngine

FILE_BYTES = 16 * 1024 * 1024
RESULT_TIMEOUT = 600.0


@dataclass
class FilePart:
    """A whole file read and mapped on a worker; row numbers start at 0."""

    info: SourceInfo
    warnings_at_open: int
    results: list[Mapped] = field(default_factory=list)


def map_file(path: str, index: int, job: MapJob) -> FilePart:
    """Worker task: read and map one whole file (exactly as the local engine does)."""
    with ExitStack() as stack:
        finder, columns, at_open = open_input(Path(path), index, job, stack)
        part = FilePart(finder.info, at_open)
        offset = 0
        for chunk in finder.chunks(job.chunk_rows):
            part.results.append(job.map(chunk, columns, offset, stateful=False))
            offset += chunk.num_rows
    return part


def map_bytes(name: str, data: bytes, index: int, job: MapJob) -> FilePart:
    """Worker task: read and map a file the client sent as bytes (for workers that cannot
    see the inputs), from a private copy under the file's own name."""
    with tempfile.TemporaryDirectory(prefix="csvbridge-") as tmp:
        copy = Path(tmp) / name
        copy.write_bytes(data)
        part = map_file(str(copy), index, job)
    part.info.path = None
    return part


def map_chunk(job: MapJob, chunk: RawChunk, columns: Columns) -> Mapped:
    """Worker task: map one chunk the client read; row numbers start at 0."""
    return job.map(chunk, columns, 0, stateful=False)


def _shifted(mapped: Mapped, delta: int) -> Mapped:
    return dataclasses.replace(mapped, result=shift_rows(mapped.result, delta))


@dataclass
class _Task:
    """A partition in flight: a future and what it stands for."""

    future: Any
    where: str
    rows: int  # a chunk's rows; -1 for a whole file (its rows are known from its result)


@dataclass
class _Failed:
    """The client could not read a file: raised when the run reaches it, in input order."""

    error: CsvbridgeError


_Item = Event | _Task | _Failed


class DaskEngine:
    """Maps partitions on a Dask cluster: the scheduler at ``scheduler``, or a local cluster
    of ``workers`` processes started for the run (default: one per core)."""

    name = "dask"
    map_file = staticmethod(map_file)  # the worker tasks (a test may swap in its own)
    map_bytes = staticmethod(map_bytes)
    map_chunk = staticmethod(map_chunk)

    def __init__(
        self,
        scheduler: str | None = None,
        workers: int | None = None,
        *,
        read_on: str = "workers",
        file_bytes: int = FILE_BYTES,
        window: int | None = None,
        timeout: float = RESULT_TIMEOUT,
        connect_timeout: float | None = None,
    ) -> None:
        if read_on not in ("workers", "client"):
            raise EngineError(
                f"--read-on must be workers or client, not '{read_on}'",
                where="--read-on",
                hint="workers: they read files at the same path; client: this machine reads.",
                code="engine-option",
            )
        self.scheduler = scheduler
        self.workers = workers
        self.read_on = read_on
        self.file_bytes = file_bytes
        self.window = window
        self.timeout = timeout
        self.connect_timeout = connect_timeout

    # -- the run ------------------------------------------------------------------------------
    def run(self, inputs: Sequence[Path], job: MapJob) -> Generator[Event, None, None]:
        """Yield each file's events in input order; the pure work runs on the cluster."""
        if job.cm.stateful:
            # fill_down, unique: and stated totals carry state from row to row in input
            # order, so chunks cannot be mapped apart; the local engine gives the same bytes.
            print(
                "note: this mapping carries values from row to row (fill_down, unique: or a "
                "stated total), so it runs on the local engine, not on the cluster",
                file=sys.stderr,
            )
            yield from LocalEngine().run(inputs, job)
            return
        with ExitStack() as stack:
            client = self._connect(stack)
            window = self.window or 2 * max(1, len(client.scheduler_info()["workers"])) + 2
            items = stack.enter_context(closing(self._items(client, inputs, job)))
            pending: deque[_Item] = deque()
            in_flight = 0
            row_offset = 0
            while True:
                while in_flight < window:
                    item = next(items, None)
                    if item is None:
                        break
                    pending.append(item)
                    in_flight += isinstance(item, _Task)
                if not pending:
                    return
                item = pending.popleft()
                if isinstance(item, _Failed):
                    raise item.error
                if not isinstance(item, _Task):
                    yield item
                    continue
                in_flight -= 1
                value = self._result(item)
                if isinstance(value, FilePart):
                    yield Opened(value.info, value.warnings_at_open)
                    for mapped in value.results:
                        yield _shifted(mapped, row_offset)
                        row_offset += mapped.rows
                    yield Closed(value.info)
                else:
                    yield _shifted(value, row_offset)
                    row_offset += item.rows

    def _items(
        self, client: Any, inputs: Sequence[Path], job: MapJob
    ) -> Generator[_Item, None, None]:
        """The partitions in input order, submitted as they are asked for."""
        for i, path in enumerate(inputs):
            task = self._whole_file(client, path, i, job)
            if task is not None:
                yield task
                continue
            try:
                with ExitStack() as stack:
                    finder, columns, at_open = open_input(path, i, job, stack)
                    yield Opened(finder.info, at_open)
                    for chunk in finder.chunks(job.chunk_rows):
                        data = client.scatter(chunk, hash=False)
                        future = client.submit(self.map_chunk, job, data, columns, pure=False)
                        lines = f"lines {chunk.lines[0]}-{chunk.lines[-1]}"
                        yield _Task(future, f"{path}, {lines}", chunk.num_rows)
                    yield Closed(finder.info)
            except CsvbridgeError as e:
                yield _Failed(e)
                return

    def _whole_file(self, client: Any, path: Path, index: int, job: MapJob) -> _Task | None:
        """A small file as one partition read and mapped on a worker — by its path, or from
        its bytes when the workers cannot see it; None for a file read here in chunks."""
        if _size(path) > self.file_bytes:
            return None
        if self.read_on == "workers":
            future = client.submit(self.map_file, str(path), index, job, pure=False)
        else:
            try:
                data = client.scatter(path.read_bytes(), hash=False)
            except OSError:
                return None  # read here, to fail as the local engine does
            future = client.submit(self.map_bytes, path.name, data, index, job, pure=False)
        return _Task(future, str(path), -1)

    def _result(self, task: _Task) -> Any:
        from distributed.client import FutureCancelledError
        from distributed.scheduler import KilledWorker

        try:
            return task.future.result(timeout=self.timeout)
        except TimeoutError:
            raise EngineError(
                f"no result from the Dask cluster after {self.timeout:g} s",
                where=task.where,
                hint="a worker may have died or the cluster may have lost its workers: "
                "check the scheduler's dashboard and the workers' logs, then run again. "
                "Nothing was written.",
                code="dask-timeout",
            ) from None
        except (KilledWorker, FutureCancelledError) as e:
            raise EngineError(
                f"a Dask worker died while converting this part ({type(e).__name__})",
                where=task.where,
                hint="a worker may have run out of memory: give workers more memory or use "
                "smaller --chunk-rows, then run again. Nothing was written.",
                code="dask-worker-lost",
            ) from None
        except ImportError as e:  # a worker without csvbridge (or without one of its libraries)
            raise EngineError(
                f"a Dask worker cannot run csvbridge: {e}",
                where=task.where,
                hint="install csvbridge, the same version as here, in the Python environment "
                "of every worker (pip install 'csvbridge[dask]'), then restart the workers.",
                code="dask-worker-setup",
            ) from None
        except InputFileError as e:
            by_path = self.read_on == "workers" and task.rows < 0
            if not by_path or e.code not in ("file-not-found", "file-unreadable"):
                raise
            raise EngineError(
                f"a Dask worker cannot read this input file ({e.message})",
                where=task.where,
                hint="workers read input files at the same path as this machine: put them on "
                "storage every worker sees at that path, or add --read-on client to have "
                "this machine read them and send them.",
                code="dask-worker-cannot-read",
            ) from None
        finally:
            task.future.release()

    # -- the cluster ----------------------------------------------------------------------------
    def _connect(self, stack: ExitStack) -> Any:
        """A client of the scheduler, or of a local cluster started (and closed) with ``stack``."""
        try:
            import distributed
        except ImportError:
            raise EngineError(
                "the dask engine needs dask.distributed, which is not installed",
                where="--engine dask",
                hint="install it with: pip install 'csvbridge[dask]'",
                code="dask-missing",
            ) from None
        dd: Any = distributed  # untyped: called through Any
        wait = self.connect_timeout  # default: dask's own distributed.comm.timeouts.connect
        if wait is None:
            wait = dask_seconds("distributed.comm.timeouts.connect")
        if self.scheduler is None:
            # The dashboard moves to a free port when 8787 is taken: not worth a warning.
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", "Port .* is already in use", UserWarning)
                cluster = stack.enter_context(
                    dd.LocalCluster(
                        n_workers=self.workers or os.cpu_count() or 1,
                        threads_per_worker=1,
                        processes=True,
                        silence_logs=logging.ERROR,
                    )
                )
            return stack.enter_context(dd.Client(cluster))
        where = f"--scheduler {self.scheduler}"
        try:
            client = dd.Client(self.scheduler, timeout=wait)
        except (OSError, TimeoutError, ValueError) as e:
            raise EngineError(
                f"cannot reach the Dask scheduler at {self.scheduler}: {e}",
                where=where,
                hint="check the address (tcp://HOST:8786) and that `dask scheduler` is running "
                "there and reachable through any firewall; or leave out --scheduler to run "
                "on this machine.",
                code="dask-unreachable",
            ) from None
        stack.enter_context(client)
        try:
            client.wait_for_workers(1, timeout=wait)
        except TimeoutError:
            raise EngineError(
                f"the Dask scheduler at {self.scheduler} has no workers",
                where=where,
                hint="start workers on the machines of the cluster with: "
                f"dask worker {self.scheduler}",
                code="dask-no-workers",
            ) from None
        return client


def dask_seconds(key: str) -> float:
    """A duration from dask's configuration ("30s") in seconds."""
    import dask.config
    from dask.utils import parse_timedelta

    return float(parse_timedelta(dask.config.get(key), default="seconds"))


def _size(path: Path) -> int:
    """The file's size; a file this machine cannot see is read here, to fail as locally."""
    try:
        return path.stat().st_size
    except OSError:
        return sys.maxsize
