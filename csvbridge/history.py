"""The history store: an embedded SQLite database of every batch converted — inputs with their
SHA-256, the mapping's name/version/hash, the outputs with their hashes — and every record
written (identity, file, line, possible-duplicate key and text), so later batches recognise
what was imported before. Records are stored in blocks as the run goes (history_blocks.py)
and found through sorted runs of keys (history_runs.py, history_index.py).

Memory: recording keeps nothing per written record beyond the current chunk, up to 262,144
keys waiting to become a run, and a few MB for a merge (read and written a chunk at a time,
history_merge.py). Looking up keeps each earlier run's summary (history_summary.py: a Bloom
filter and every 512th key, about 1.5 bytes a history record for each kind of run), reads only
the blocks of keys and refs the filters let through (history_probe.py), and caches up to 8 MB
of the record blocks hit.

Default location: ``$CSVBRIDGE_HISTORY``, else ``$XDG_DATA_HOME/csvbridge/history.sqlite``
(``~/.local/share/csvbridge/history.sqlite``). A run holds an IMMEDIATE transaction from its
duplicate check to its commit, so two processes sharing a history never both import the same
record; the second waits (up to ``BUSY_SECONDS``) and then sees the first one's records.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from .errors import CsvbridgeError
from .history_blocks import SCHEMA as BLOCK_SCHEMA
from .history_blocks import Blocks, migrate_legacy, write_block
from .history_index import Found, HistoryIndex, NearRow
from .history_runs import SCHEMA as RUN_SCHEMA
from .history_summary import SCHEMA as SUMMARY_SCHEMA
from .outfiles import default_mode

BUSY_SECONDS = 600

_SCHEMA = """
CREATE TABLE IF NOT EXISTS batch (
    id INTEGER PRIMARY KEY,
    batch_key TEXT NOT NULL,
    created TEXT NOT NULL,
    mapping TEXT NOT NULL,
    mapping_version TEXT NOT NULL,
    mapping_sha256 TEXT NOT NULL,
    inputs TEXT NOT NULL,
    outputs TEXT NOT NULL,
    records INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS batch_key_idx ON batch(batch_key);
CREATE TABLE IF NOT EXISTS input (
    batch_id INTEGER NOT NULL REFERENCES batch(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    sha256 TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS input_sha_idx ON input(sha256);
"""


def _retry(step: Callable[[], None], seconds: float | None = None) -> None:
    """Run ``step``, retrying with growing pauses while the database is locked (at most
    ``seconds``, default ``BUSY_SECONDS``)."""
    deadline = time.monotonic() + (BUSY_SECONDS if seconds is None else seconds)
    pause = 0.01
    while True:
        try:
            step()
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() > deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.5)


def history_error(e: sqlite3.Error | OSError, path: Path) -> CsvbridgeError:
    """What a person sees when the history database fails: what is wrong with it and what to
    do, never SQLite's internals alone. Nothing of the failed run is recorded."""
    name = str(getattr(e, "sqlite_errorname", "") or "")
    text = str(e)
    keep = "Nothing of this run was recorded in the history."
    if name == "SQLITE_FULL" or "disk is full" in text or getattr(e, "errno", 0) == 28:
        return CsvbridgeError(
            f"the disk holding the history database is full ({text})",
            where=str(path),
            hint="free space on that disk and run again. " + keep,
            code="history-disk-full",
        )
    if name.startswith("SQLITE_READONLY") or "readonly" in text or "read-only" in text:
        return CsvbridgeError(
            f"the history database cannot be written ({text})",
            where=str(path),
            hint="give yourself write permission on the file and its folder, or choose "
            "another with --history (--no-history converts without it). " + keep,
            code="history-read-only",
        )
    if (
        name in ("SQLITE_CORRUPT", "SQLITE_NOTADB")
        or "malformed" in text
        or "not a database" in text
    ):
        return CsvbridgeError(
            f"the history database is damaged or not a history database ({text})",
            where=str(path),
            hint="move the file aside (keep it: it lists what was imported), restore it from a "
            "backup or repair it (sqlite3 FILE .recover), or choose another with --history. "
            + keep,
            code="history-corrupt",
        )
    if name in ("SQLITE_BUSY", "SQLITE_LOCKED") or "locked" in text:
        return CsvbridgeError(
            f"the history database stayed locked by another run ({text})",
            where=str(path),
            hint="wait for the other conversion to finish, then run again. " + keep,
            code="history-busy",
        )
    return CsvbridgeError(
        f"the history database failed: {text}",
        where=str(path),
        hint="check the disk and the file's permissions, or choose another with --history "
        "(--no-history converts without it). " + keep,
        code="history-failed",
    )


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _translated(method: Callable[_P, _R]) -> Callable[_P, _R]:
    """SQLite errors in a History method become a clear CsvbridgeError (``history_error``)."""

    @functools.wraps(method)
    def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(*args, **kwargs)
        except sqlite3.Error as e:
            raise history_error(e, args[0].path) from None  # type: ignore[attr-defined]

    return run


def default_path() -> Path:
    """Where the history lives unless --history says otherwise."""
    env = os.environ.get("CSVBRIDGE_HISTORY")
    if env:
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "csvbridge" / "history.sqlite"


@dataclass(frozen=True)
class Batch:
    """One batch in the history."""

    id: int
    created: str
    mapping: str
    mapping_version: str
    inputs: list[dict[str, str]]
    outputs: list[dict[str, Any]]
    records: int


def _create_private(path: Path) -> None:
    """Create a new history file no more readable than the inputs of the run creating it (it
    holds their file names and record texts; see outfiles.limit_modes_to). SQLite gives its
    -wal and -shm files the database file's permissions. An existing file is left as it is."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, default_mode())
    except FileExistsError:
        return
    os.close(fd)


def _signed(u: npt.NDArray[np.uint64]) -> npt.NDArray[np.int64]:
    return u.view(np.int64)  # SQLite integers are signed 64-bit


class History:
    """An open history database; use as a context manager around one run."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            _create_private(path)
            self.db = sqlite3.connect(path, timeout=BUSY_SECONDS, isolation_level=None)
            self.db.execute("PRAGMA foreign_keys=ON")
            self.db.execute("PRAGMA synchronous=NORMAL")
            _retry(self._prepare)
        except sqlite3.Error as e:
            with contextlib.suppress(Exception):
                self.db.close()
            raise history_error(e, path) from None
        except OSError as e:
            raise CsvbridgeError(
                f"the history database cannot be opened: {e}",
                where=str(path),
                hint="check the path and its permissions, or choose another with --history "
                "(or --no-history to convert without it).",
                code="history-unavailable",
            ) from None
        self._in_tx = False
        self.index = HistoryIndex(Blocks(self.db))
        self._batch: int | None = None  # the batch this run is recording
        self._records = 0

    def _prepare(self) -> None:
        # Switching to WAL needs the file to itself, and SQLite may refuse at once rather than
        # wait while another process opens it: switch only once, and retry (see _retry).
        mode = self.db.execute("PRAGMA journal_mode").fetchone()[0]
        if str(mode).lower() != "wal":
            self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(_SCHEMA + BLOCK_SCHEMA + RUN_SCHEMA + SUMMARY_SCHEMA)
        if self._has_legacy():
            self.db.execute("BEGIN IMMEDIATE")  # a history from before record blocks
            try:
                if self._has_legacy():  # another process may have migrated it meanwhile
                    migrate_legacy(self.db)
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise

    def _has_legacy(self) -> bool:
        q = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'record'"
        return self.db.execute(q).fetchone() is not None

    # -- one run ---------------------------------------------------------------------------
    @_translated
    def begin(self) -> None:
        """Take the write lock for this run (waits while another run holds it)."""
        self.db.execute("BEGIN IMMEDIATE")
        self._in_tx = True

    @_translated
    def rollback(self) -> None:
        if self._in_tx:
            self.index.release()
            self.db.execute("ROLLBACK")
            self._in_tx = False
            self._batch = None
            self.index = HistoryIndex(Blocks(self.db))  # forget what the run had read

    @_translated
    def same_batch(self, batch_key: str) -> list[int]:
        """Earlier batches with exactly these inputs, mapping and targets."""
        rows = self.db.execute("SELECT id FROM batch WHERE batch_key = ?", (batch_key,))
        return [r[0] for r in rows]

    @_translated
    def inputs_seen(self, sha256: str) -> list[int]:
        """Batches that already took a file with these bytes."""
        rows = self.db.execute("SELECT DISTINCT batch_id FROM input WHERE sha256 = ?", (sha256,))
        return sorted(r[0] for r in rows)

    @_translated
    def lookup(self, identities: npt.NDArray[np.uint64]) -> Found:
        """Which of these identities the history holds, and where each was first recorded
        (aligned with ``identities``)."""
        return self.index.lookup(_signed(identities))

    @_translated
    def near(self, lo: npt.NDArray[np.int64], hi: npt.NDArray[np.int64]) -> list[NearRow]:
        """Records of earlier batches whose near key lies in [lo[i], hi[i]]: (i, ref,
        identity, batch, source, line, near_key, text), ordered by i then ref (a record's
        stable id, growing in the order recorded)."""
        return self.index.near(lo, hi)

    @_translated
    def open_batch(self, batch_key: str, mapping: tuple[str, str, str]) -> int:
        """Start recording this run's batch (inside the run's transaction: nothing of it is
        kept unless finish is reached); returns its id."""
        if self._batch is None:
            cur = self.db.execute(
                "INSERT INTO batch (batch_key, created, mapping, mapping_version, "
                "mapping_sha256, inputs, outputs, records) VALUES (?, ?, ?, ?, ?, '[]', '[]', 0)",
                (batch_key, time.strftime("%Y-%m-%dT%H:%M:%S%z"), *mapping),
            )
            self._batch = int(cur.lastrowid or 0)
            self._records = 0
            self.index.open_batch(self._batch)
        return self._batch

    @_translated
    def add_records(
        self,
        identities: npt.NDArray[np.uint64],
        sources: list[str],
        source_idx: npt.NDArray[np.int64],
        lines: npt.NDArray[np.int64],
        near_keys: npt.NDArray[np.int64] | None = None,
        texts: pa.Array | None = None,
    ) -> None:
        """Record a chunk of written records as one block of the open batch."""
        if self._batch is None:
            raise RuntimeError("History.add_records before open_batch")
        if not len(identities):
            return
        signed = _signed(identities)
        block = write_block(
            self.db, self._batch, sources, signed, source_idx, lines, near_keys, texts
        )
        self.index.add_block(self._batch, block, signed, near_keys)
        self._records += len(identities)

    @_translated
    def record(
        self,
        *,
        batch_key: str,
        mapping: tuple[str, str, str],
        inputs: list[dict[str, str]],
        outputs: list[dict[str, Any]],
        identities: npt.NDArray[np.uint64] | None = None,
        sources: list[str] | None = None,
        source_idx: npt.NDArray[np.int64] | None = None,
        lines: npt.NDArray[np.int64] | None = None,
    ) -> int:
        """Complete the batch: its inputs, outputs and record count, and its records' place in
        the index (not yet permanent: see finish); returns the batch id. Records are given
        chunk by chunk to add_records; ``identities`` etc. add a last chunk."""
        batch_id = self.open_batch(batch_key, mapping)
        if identities is not None:
            assert sources is not None and source_idx is not None and lines is not None
            self.add_records(identities, sources, source_idx, lines)
        self.db.execute(
            "UPDATE batch SET inputs = ?, outputs = ?, records = ? WHERE id = ?",
            (json.dumps(inputs), json.dumps(outputs), self._records, batch_id),
        )
        self.db.executemany(
            "INSERT INTO input (batch_id, name, sha256) VALUES (?, ?, ?)",
            [(batch_id, i["name"], i["sha256"]) for i in inputs],
        )
        self.index.finish_batch()
        self._batch = None
        return batch_id

    @_translated
    def finish(self) -> None:
        """Make the recorded batch permanent. Called only once everything the run writes is
        in place: killed before this, the history keeps nothing of the run, so running it
        again gives the same outputs."""
        if self._in_tx:
            self.index.release()
            self.db.execute("COMMIT")
            self._in_tx = False

    # -- listing and undo ------------------------------------------------------------------
    @_translated
    def batches(self) -> list[Batch]:
        """Every batch, oldest first."""
        rows = self.db.execute(
            "SELECT id, created, mapping, mapping_version, inputs, outputs, records FROM batch "
            "ORDER BY id"
        )
        return [
            Batch(r[0], r[1], r[2], r[3], json.loads(r[4]), json.loads(r[5]), r[6]) for r in rows
        ]

    @_translated
    def forget(self, batch_id: int) -> Batch:
        """Remove a batch and its records, so its files can be converted again."""
        found = [b for b in self.batches() if b.id == batch_id]
        if not found:
            raise CsvbridgeError(
                f"there is no batch {batch_id} in the history",
                where=str(self.path),
                hint="csvbridge history lists the batches.",
                code="batch-unknown",
            )
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.index.forget(batch_id)
            self.db.execute("DELETE FROM batch WHERE id = ?", (batch_id,))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return found[0]

    def close(self) -> None:
        """Roll back what was not finished and close; never raises (it runs while another
        error may be on its way to the user)."""
        with contextlib.suppress(sqlite3.Error):
            self.index.release()
        with contextlib.suppress(sqlite3.Error):
            if self._in_tx:
                self._in_tx = False
                self.db.execute("ROLLBACK")
        with contextlib.suppress(sqlite3.Error):
            self.db.close()

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
