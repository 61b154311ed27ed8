"""The history store: an embedded SQLite database of every batch converted — inputs with their
SHA-256, the mapping's name/version/hash, the outputs with their hashes — and the identity of
every record written, so later batches recognise what was imported before.

Default location: ``$CSVBRIDGE_HISTORY``, else ``$XDG_DATA_HOME/csvbridge/history.sqlite``
(``~/.local/share/csvbridge/history.sqlite``). A run holds an IMMEDIATE transaction from its
duplicate check to its commit, so two processes sharing a history never both import the same
record; the second waits (up to ``BUSY_SECONDS``) and then sees the first one's records.
"""

from __future__ import annotations

import itertools
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from .errors import CsvbridgeError

BUSY_SECONDS = 600
_LOOKUP_BATCH = 500  # SQLite parameters per IN (...) query

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
CREATE INDEX IF NOT EXISTS record_identity_idx ON record(identity);
CREATE INDEX IF NOT EXISTS record_batch_idx ON record(batch_id);
"""


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


def default_path() -> Path:
    """Where the history lives unless --history says otherwise."""
    env = os.environ.get("CSVBRIDGE_HISTORY")
    if env:
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "csvbridge" / "history.sqlite"


@dataclass(frozen=True)
class PastRecord:
    """Where a record already in the history came from."""

    batch: int
    source: str
    line: int


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
) -> Iterator[tuple[int, int, str, int]]:
    """The record table's new rows, in identity order (stable: records with one identity keep
    their order): the identity index then grows at its end instead of at random pages, and
    only a slice of the rows is ever held as Python objects."""
    signed = _signed(identities)
    order = np.argsort(signed, kind="stable")
    for start in range(0, len(order), RECORD_ROWS):
        take = order[start : start + RECORD_ROWS]
        yield from zip(
            signed[take].tolist(),
            itertools.repeat(batch_id),
            [sources[s] for s in source_idx[take].tolist()],
            lines[take].tolist(),
        )


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
        except (sqlite3.Error, OSError) as e:
            raise CsvbridgeError(
                f"the history database cannot be opened: {e}",
                where=str(path),
                hint="check the path and its permissions, or choose another with --history "
                "(or --no-history to convert without it).",
                code="history-unavailable",
            ) from None
        self._in_tx = False

    def _prepare(self) -> None:
        # Switching to WAL needs the file to itself, and SQLite may refuse at once rather than
        # wait while another process opens it: switch only once, and retry (see _retry).
        mode = self.db.execute("PRAGMA journal_mode").fetchone()[0]
        if str(mode).lower() != "wal":
            self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(_SCHEMA)

    # -- one run ---------------------------------------------------------------------------
    def begin(self) -> None:
        """Take the write lock for this run (waits while another run holds it)."""
        self.db.execute("BEGIN IMMEDIATE")
        self._in_tx = True

    def rollback(self) -> None:
        if self._in_tx:
            self.db.execute("ROLLBACK")
            self._in_tx = False

    def same_batch(self, batch_key: str) -> list[int]:
        """Earlier batches with exactly these inputs, mapping and targets."""
        rows = self.db.execute("SELECT id FROM batch WHERE batch_key = ?", (batch_key,))
        return [r[0] for r in rows]

    def inputs_seen(self, sha256: str) -> list[int]:
        """Batches that already took a file with these bytes."""
        rows = self.db.execute("SELECT DISTINCT batch_id FROM input WHERE sha256 = ?", (sha256,))
        return sorted(r[0] for r in rows)

    def lookup(self, identities: npt.NDArray[np.uint64]) -> dict[int, PastRecord]:
        """The earlier record for each identity already in the history (by signed value)."""
        found: dict[int, PastRecord] = {}
        keys = _signed(np.unique(identities)).tolist()
        for i in range(0, len(keys), _LOOKUP_BATCH):
            part = keys[i : i + _LOOKUP_BATCH]
            q = (
                "SELECT identity, batch_id, source, line FROM record WHERE identity IN "
                f"({','.join('?' * len(part))}) ORDER BY batch_id, rowid"
            )
            for ident, batch, source, line in self.db.execute(q, part):
                if ident not in found:
                    found[ident] = PastRecord(batch, source, line)
        return found

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
            "INSERT INTO record (identity, batch_id, source, line) VALUES (?, ?, ?, ?)",
            _record_rows(batch_id, identities, sources, source_idx, lines),
        )
        return batch_id

    def finish(self) -> None:
        """Make the recorded batch permanent. Called only once everything the run writes is
        in place: killed before this, the history keeps nothing of the run, so running it
        again gives the same outputs."""
        if self._in_tx:
            self.db.execute("COMMIT")
            self._in_tx = False

    # -- listing and undo ------------------------------------------------------------------
    def batches(self) -> list[Batch]:
        """Every batch, oldest first."""
        rows = self.db.execute(
            "SELECT id, created, mapping, mapping_version, inputs, outputs, records FROM batch "
            "ORDER BY id"
        )
        return [
            Batch(r[0], r[1], r[2], r[3], json.loads(r[4]), json.loads(r[5]), r[6]) for r in rows
        ]

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
        self.db.execute("COMMIT")
        return found[0]

    def close(self) -> None:
        self.rollback()
        self.db.close()

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
