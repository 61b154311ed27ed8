"""The history store: an embedded SQLite database of every batch converted — inputs with their
SHA-256, the mapping's name/version/hash, the outputs with their hashes — and the identity of
every record written, so later batches recognise what was imported before.

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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from .errors import CsvbridgeError
from .history_index import SCHEMA as INDEX_SCHEMA
from .history_index import Found, IdentityIndex

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
CREATE TABLE IF NOT EXISTS record (
    identity INTEGER NOT NULL,
    batch_id INTEGER NOT NULL REFERENCES batch(id) ON DELETE CASCADE,
    source TEXT NOT NULL,
    line INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS record_batch_idx ON record(batch_id);
"""


# Possible duplicates need each record's amount bucket and day (near_duplicates.near_keys)
# and normalised text. Records of batches from before this have NULLs: never matched.
_MIGRATE_NEAR = (
    "ALTER TABLE record ADD COLUMN near_key INTEGER",
    "ALTER TABLE record ADD COLUMN text TEXT",
    "CREATE INDEX IF NOT EXISTS record_near_idx ON record(near_key) WHERE near_key IS NOT NULL",
)


def _retry(step: Callable[[], None], seconds: float = BUSY_SECONDS) -> None:
    """Run ``step``, retrying with growing pauses while the database is locked."""
    deadline = time.monotonic() + seconds
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


RECORD_ROWS = 100_000  # record rows made into Python tuples at a time


def _record_rows(
    batch_id: int,
    identities: npt.NDArray[np.uint64],
    sources: list[str],
    source_idx: npt.NDArray[np.int64],
    lines: npt.NDArray[np.int64],
    near_keys: npt.NDArray[np.int64] | None,
    texts: pa.ChunkedArray | None,
) -> Iterator[tuple[int, int, str, int, int | None, str | None]]:
    """The record table's new rows, a slice of ``RECORD_ROWS`` at a time (only a slice is
    ever held as Python objects), each slice in near-key order so the near-key index is filled
    in runs rather than at random pages. Identities are looked up in the history's own index
    (history_index.py), not through this table. A record without a near key (-1) has no text."""
    signed = _signed(identities)
    n = len(signed)
    for start in range(0, n, RECORD_ROWS):
        stop = min(start + RECORD_ROWS, n)
        if near_keys is not None:
            take = start + np.argsort(near_keys[start:stop], kind="stable")
            keys = near_keys[take].tolist()
        else:
            take = np.arange(start, stop)
            keys = [-1] * len(take)
        if texts is not None:
            part = texts.slice(start, stop - start).to_pylist()  # contiguous: no copy
            text = [part[i] for i in (take - start).tolist()]
        else:
            text = [None] * len(take)
        for ident, s, ln, k, t in zip(
            signed[take].tolist(),
            source_idx[take].tolist(),
            lines[take].tolist(),
            keys,
            text,
            strict=True,
        ):
            yield ident, batch_id, sources[s], ln, (None if k < 0 else k), (t if k >= 0 else None)


def _signed(u: npt.NDArray[np.uint64]) -> npt.NDArray[np.int64]:
    return u.view(np.int64)  # SQLite integers are signed 64-bit


class History:
    """An open history database; use as a context manager around one run."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
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
        self.index = IdentityIndex(self.db)

    def _prepare(self) -> None:
        # Switching to WAL needs the file to itself, and SQLite may refuse at once rather than
        # wait while another process opens it: switch only once, and retry (see _retry).
        mode = self.db.execute("PRAGMA journal_mode").fetchone()[0]
        if str(mode).lower() != "wal":
            self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(_SCHEMA + INDEX_SCHEMA)
        if "near_key" not in self._record_columns():
            self.db.execute("BEGIN IMMEDIATE")  # a history from before possible duplicates
            try:
                if "near_key" not in self._record_columns():  # another process may have
                    for statement in _MIGRATE_NEAR:
                        self.db.execute(statement)
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise

    def _record_columns(self) -> set[str]:
        return {r[1] for r in self.db.execute("PRAGMA table_info(record)")}

    # -- one run ---------------------------------------------------------------------------
    @_translated
    def begin(self) -> None:
        """Take the write lock for this run (waits while another run holds it)."""
        self.db.execute("BEGIN IMMEDIATE")
        self._in_tx = True

    @_translated
    def rollback(self) -> None:
        if self._in_tx:
            self.db.execute("ROLLBACK")
            self._in_tx = False

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
    def near(
        self, lo: npt.NDArray[np.int64], hi: npt.NDArray[np.int64]
    ) -> list[tuple[int, int, int, int, str, int, int, str]]:
        """Records whose near key lies in [lo[i], hi[i]]: (i, rowid, identity, batch,
        source, line, near_key, text), ordered by i then rowid."""
        if not len(lo):
            return []
        self.db.execute(
            "CREATE TEMP TABLE IF NOT EXISTS near_q (i INTEGER, lo INTEGER, hi INTEGER)"
        )
        self.db.execute("DELETE FROM near_q")
        self.db.executemany(
            "INSERT INTO near_q VALUES (?, ?, ?)",
            zip(range(len(lo)), lo.tolist(), hi.tolist(), strict=True),
        )
        rows = self.db.execute(
            "SELECT q.i, r.rowid, r.identity, r.batch_id, r.source, r.line, r.near_key, r.text "
            "FROM near_q q JOIN record r INDEXED BY record_near_idx "
            "ON r.near_key >= q.lo AND r.near_key <= q.hi AND r.near_key IS NOT NULL "
            "ORDER BY q.i, r.rowid"
        ).fetchall()
        return rows

    @_translated
    def record(
        self,
        *,
        batch_key: str,
        mapping: tuple[str, str, str],
        inputs: list[dict[str, str]],
        outputs: list[dict[str, Any]],
        identities: npt.NDArray[np.uint64],
        sources: list[str],
        source_idx: npt.NDArray[np.int64],
        lines: npt.NDArray[np.int64],
        near_keys: npt.NDArray[np.int64] | None = None,
        texts: pa.ChunkedArray | None = None,
    ) -> int:
        """Record the batch and its written records (not yet permanent: see finish); returns
        the new batch id."""
        cur = self.db.execute(
            "INSERT INTO batch (batch_key, created, mapping, mapping_version, mapping_sha256, "
            "inputs, outputs, records) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                batch_key,
                time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                *mapping,
                json.dumps(inputs),
                json.dumps(outputs),
                len(identities),
            ),
        )
        batch_id = int(cur.lastrowid or 0)
        self.db.executemany(
            "INSERT INTO input (batch_id, name, sha256) VALUES (?, ?, ?)",
            [(batch_id, i["name"], i["sha256"]) for i in inputs],
        )
        self.db.executemany(
            "INSERT INTO record (identity, batch_id, source, line, near_key, text) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            _record_rows(batch_id, identities, sources, source_idx, lines, near_keys, texts),
        )
        self.index.add_batch(batch_id, _signed(identities), sources, source_idx, lines)
        return batch_id

    @_translated
    def finish(self) -> None:
        """Make the recorded batch permanent. Called only once everything the run writes is
        in place: killed before this, the history keeps nothing of the run, so running it
        again gives the same outputs."""
        if self._in_tx:
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
        self.db.execute("DELETE FROM batch WHERE id = ?", (batch_id,))
        self.index.forget(batch_id)
        self.db.execute("COMMIT")
        return found[0]

    def close(self) -> None:
        """Roll back what was not finished and close; never raises (it runs while another
        error may be on its way to the user)."""
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
