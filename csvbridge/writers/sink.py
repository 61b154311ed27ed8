"""The streaming atomic CSV sink: lines go into ``<stem>.csv`` (split into ``<stem>-001.csv``,
... at a target's row or byte limit), each part under a temporary name until ``close`` renames
them all into place.

Small parts (a QuickBooks import of 1M rows is 1,001 files of 999 rows) are kept in memory
and created, written, fsync'd and closed on background threads: creating a file waits on the
filesystem's journal while earlier parts are being synced, and that wait was a tenth of a
run. A part that grows past ``BUFFER_BYTES`` is written to its file as it goes."""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import CsvbridgeError, OutputError
from ..outfiles import create_error, default_mode, temp_file, write_error

BUFFER_BYTES = 1 << 20  # a part up to this size is written whole on a background thread
MAX_PENDING = 16  # parts in flight at once (bounds the memory they hold)


@dataclass(frozen=True)
class OutputFile:
    """A file a run wrote: name (in the output folder), data rows, bytes and SHA-256."""

    name: str
    rows: int
    size: int
    sha256: str

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "rows": self.rows, "bytes": self.size, "sha256": self.sha256}


class _CreateFailed(Exception):
    """A part's file could not be created (the folder refuses new files)."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


class _Buffer:
    """A part held in memory until it is finished (or grows too big)."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.size = 0

    def write(self, data: bytes) -> None:
        self.chunks.append(data)
        self.size += len(data)

    def getvalue(self) -> bytes:
        return b"".join(self.chunks)


class CsvSink:
    """Streams lines into ``<stem>.csv`` in ``outdir``, atomically: parts are written under
    temporary names and renamed only by ``close``. Splits into ``<stem>-001.csv``, ... when a
    part would pass ``max_rows`` data rows or ``max_bytes`` bytes; each part gets the header."""

    def __init__(
        self,
        outdir: Path,
        stem: str,
        header: list[str],
        *,
        delimiter: str = ",",
        encoding: str = "utf-8",
        bom: bool = False,
        max_rows: int | None = None,
        max_bytes: int | None = None,
        extension: str = ".csv",
        write_header: bool = True,
    ) -> None:
        self.outdir = outdir
        self.stem = stem
        self.extension = extension
        self.delimiter = delimiter
        self.encoding = encoding
        self.head = (
            (
                ("\ufeff" if bom else "") + delimiter.join(_quote1(h, delimiter) for h in header)
            ).encode(encoding)
            + b"\r\n"
            if write_header
            else ("\ufeff".encode(encoding) if bom else b"")
        )
        self.max_rows = max_rows
        self.max_bytes = max_bytes
        # Each part: its temporary path, or the background job creating it; and its rows.
        self._parts: list[tuple[Path | Future[Path], int]] = []
        self._fh: Any = None  # the open part: a _Buffer or a file
        self._rows = 0
        self._bytes = 0
        self._hash: Any = None
        self._hashes: list[tuple[str, int]] = []
        self._published: list[Path] = []
        self._syncs: list[Future[Any]] = []
        self._pending: deque[Future[Path]] = deque()  # background parts maybe not done

    # -- parts -------------------------------------------------------------------------------
    def _create(self) -> tuple[int, Path]:
        try:
            return temp_file(self.outdir, self.stem)
        except OSError as e:
            raise self._unwritable(e) from None

    def _unwritable(self, e: OSError) -> CsvbridgeError:
        self.abort()
        return create_error(e, self.outdir)

    def _open_part(self) -> None:
        self._finish_part()
        if not self._parts:  # the first part is created at once: a refusing folder shows now
            fd, name = self._create()
            self._parts.append((name, 0))
            self._fh = os.fdopen(fd, "wb")
        else:
            self._parts.append((Path(), 0))  # created when finished (or when it grows)
            self._fh = _Buffer()
        self._rows = 0
        self._bytes = 0
        self._hash = hashlib.sha256()
        self._emit(self.head)

    def _emit(self, data: bytes) -> None:
        if isinstance(self._fh, _Buffer) and self._fh.size + len(data) > BUFFER_BYTES:
            self._to_file()
        try:
            self._fh.write(data)
        except OSError as e:
            raise self._failed(e) from None
        self._hash.update(data)
        self._bytes += len(data)

    def _to_file(self) -> None:
        """The buffered part grew too big: write it to its file and go on there."""
        buf = self._fh
        fd, name = self._create()
        self._parts[-1] = (name, 0)
        self._fh = os.fdopen(fd, "wb")
        try:
            self._fh.write(buf.getvalue())
        except OSError as e:
            raise self._failed(e) from None

    def _part_prefix(self) -> bytes:
        """Bytes to put before the finished part (a subclass's byte-order mark)."""
        return b""

    def _finish_part(self) -> None:
        if self._fh is None:
            return
        prefix = self._part_prefix()
        fh, self._fh = self._fh, None
        rows = self._rows
        if isinstance(fh, _Buffer):
            data = prefix + fh.getvalue()
            if prefix:
                self._hash = hashlib.sha256(data)
            self._hashes.append((self._hash.hexdigest(), len(data)))
            self._throttle()
            job = _sync_pool().submit(_write_part, self.outdir, self.stem, data)
            self._parts[-1] = (job, rows)
            self._syncs.append(job)
            self._pending.append(job)
            return
        try:  # the last buffered bytes reach the file here: a full disk may show only now
            fh.flush()
        except OSError as e:
            self._fh = fh
            raise self._failed(e) from None
        path = self._parts[-1][0]
        assert isinstance(path, Path)
        self._parts[-1] = (path, rows)
        if prefix:  # rare (a wide part of a BOM-when-needed target): rewrite it whole
            fh.close()
            data = prefix + path.read_bytes()
            self._syncs.append(_sync_pool().submit(_write_file, path, data))
            self._hashes.append((hashlib.sha256(data).hexdigest(), len(data)))
            return
        # The part is flushed to disk in the background while the next is written; close()
        # waits for every part before renaming any into place.
        self._syncs.append(_sync_pool().submit(_sync_and_close, fh))
        self._hashes.append((self._hash.hexdigest(), self._bytes))

    def _throttle(self) -> None:
        """Wait for the oldest parts while too many are in flight."""
        pending = self._pending
        while pending and pending[0].done():
            pending.popleft()
        if len(self._syncs) >= 2 * MAX_PENDING + 256:
            self._settle()
        while len(pending) >= MAX_PENDING:
            with contextlib.suppress(Exception):
                pending.popleft().result()  # errors are raised by _wait_synced

    # -- writing -----------------------------------------------------------------------------
    def write_lines(self, lines: pa.Array) -> None:
        """Append formatted lines (each ending in its line terminator), splitting as needed."""
        if self._fh is None:
            self._open_part()
        if self.encoding.replace("-", "").lower() != "utf8":
            lines = pa.array(
                [s.encode(self.encoding, errors="replace") for s in lines.to_pylist()],
                pa.binary(),
            )
        n = len(lines)
        if self.max_bytes:  # cum[k]: bytes of the lines before line k
            cum = np.zeros(n + 1, dtype=np.int64)
            np.cumsum(pc.binary_length(lines), out=cum[1:])
        start = 0
        while start < n:
            room_rows = (self.max_rows - self._rows) if self.max_rows else n - start
            end = min(n, start + max(room_rows, 0))
            if self.max_bytes:
                budget = self.max_bytes - self._bytes
                fits = int(np.searchsorted(cum, cum[start] + budget, side="right")) - 1
                end = max(start, min(end, fits))
            if end == start:
                if self._rows == 0:
                    raise OutputError(
                        f"one record is larger than the target's file size limit "
                        f"({self.max_bytes} bytes)",
                        where=f"{self.stem}{self.extension}",
                        hint="shorten the record's text fields.",
                        code="record-too-large",
                    )
                self._open_part()
                continue
            self._emit(_joined_bytes(lines.slice(start, end - start)))
            self._rows += end - start
            start = end

    def close(self) -> list[OutputFile]:
        """Rename the parts into place and describe them. A file with no data rows is still
        written (header only), so the user sees the target was produced."""
        if self._fh is None and not self._parts:
            self._open_part()
        self._finish_part()
        self._wait_synced()
        many = len(self._parts) > 1
        out = []
        mode = default_mode()
        try:
            for i, ((tmp, rows), (digest, size)) in enumerate(
                zip(self._parts, self._hashes, strict=True), start=1
            ):
                name = (
                    f"{self.stem}-{i:03d}{self.extension}"
                    if many
                    else f"{self.stem}{self.extension}"
                )
                path = tmp.result() if isinstance(tmp, Future) else tmp
                os.chmod(path, mode)
                os.replace(path, self.outdir / name)
                self._published.append(self.outdir / name)
                out.append(OutputFile(name, rows, size, digest))
        except OSError as e:
            raise self._failed(e) from None
        self._parts = []
        return out

    def _failed(self, e: OSError) -> CsvbridgeError:
        """Clean up (nothing of this file stays) and say what went wrong."""
        written = sum(size for _, size in self._hashes) + self._bytes
        self.abort()
        return write_error(e, self.outdir, f"{self.stem}{self.extension}", written)

    def abort(self) -> None:
        """Remove temporary parts, and parts ``close`` already published: nothing of this
        run's file stays in the output folder (the run failed after all)."""
        if self._fh is not None and not isinstance(self._fh, _Buffer):
            with contextlib.suppress(OSError):
                self._fh.close()
        self._fh = None
        syncs, self._syncs = self._syncs, []
        for fut in syncs:
            with contextlib.suppress(Exception):
                fut.result()
        for tmp, _ in self._parts:
            path = _done_path(tmp)
            if path is not None and path != Path():
                with contextlib.suppress(OSError):
                    path.unlink()
        for done in self._published:
            with contextlib.suppress(OSError):
                done.unlink()
        self._parts = []
        self._published = []

    def _settle(self) -> None:
        """Forget the background jobs that finished well (a 10M-row QBO import has 10,000
        parts): a created part keeps its path, a failed job stays to be raised at close."""
        self._parts = [
            (p.result(), rows) if isinstance(p, Future) and _succeeded(p) else (p, rows)
            for p, rows in self._parts
        ]
        self._syncs = [f for f in self._syncs if not _succeeded(f)]

    def _wait_synced(self) -> None:
        syncs, self._syncs = self._syncs, []
        failed: BaseException | None = None
        for fut in syncs:
            try:
                fut.result()
            except (OSError, _CreateFailed) as e:
                failed = failed or e
        if isinstance(failed, _CreateFailed):
            raise self._unwritable(failed.error)
        if isinstance(failed, OSError):
            raise self._failed(failed)


def _succeeded(job: Future[Any]) -> bool:
    return job.done() and not job.cancelled() and job.exception() is None


def _done_path(part: Path | Future[Path]) -> Path | None:
    if isinstance(part, Path):
        return part
    try:
        return part.result()
    except Exception:
        return None


def _joined_bytes(lines: pa.Array) -> bytes:
    if len(lines) == 0:
        return b""
    arr = lines.cast(pa.large_string()) if len(lines) and lines.nbytes > 2**30 else lines
    offsets_type = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    offs = np.frombuffer(arr.buffers()[1], dtype=offsets_type)[
        arr.offset : arr.offset + len(arr) + 1
    ]
    data = arr.buffers()[2]
    return memoryview(data)[int(offs[0]) : int(offs[-1])].tobytes()


_POOL: ThreadPoolExecutor | None = None


def _sync_pool() -> ThreadPoolExecutor:
    # Creating, writing and fsync release the GIL: finished parts reach the disk while the
    # next part is formatted.
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="csvbridge-fsync")
    return _POOL


def _sync_and_close(fh: Any) -> None:
    try:
        os.fsync(fh.fileno())
    finally:
        fh.close()


def _write_part(outdir: Path, stem: str, data: bytes) -> Path:
    """Create a temporary part, write ``data``, fsync and close it (on a pool thread). On
    failure nothing of it stays."""
    try:
        fd, path = temp_file(outdir, stem)
    except OSError as e:
        raise _CreateFailed(e) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            path.unlink()
        raise
    return path


def _write_file(path: Path, data: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _quote1(text: str, delimiter: str) -> str:
    if any(ch in text for ch in (delimiter, '"', "\r", "\n")):
        return '"' + text.replace('"', '""') + '"'
    return text
