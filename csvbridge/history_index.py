"""A sorted index of the history's record identities, kept inside the history database.

Looking identities up one by one in SQLite costs microseconds each: seconds for a million
records. Here each batch's records are also stored as sorted arrays (BLOBs: identity, batch,
line, and the source file as an index into a list of names) in table ``ident_run``; runs are
merged like an LSM tree so there are only a few, and a look-up is a vectorised binary search
with no SQL per record. The ``record`` table stays the truth: a batch the runs do not cover
(recorded by an older csvbridge) is indexed from it on the next look-up, entries of a batch
that no longer exists are ignored, and forgetting a batch rebuilds the runs that held it.
Everything happens inside the run's transaction, so two processes never see a half-built
index.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

SCHEMA = """
CREATE TABLE IF NOT EXISTS ident_run (
    id INTEGER PRIMARY KEY,
    batches TEXT NOT NULL,
    sources TEXT NOT NULL,
    keys BLOB NOT NULL,
    batch BLOB NOT NULL,
    line BLOB NOT NULL,
    source BLOB NOT NULL
);
"""
_NONE = np.iinfo(np.int64).max


@dataclass
class Found:
    """Look-up results aligned with the keys asked: whether each is in the history, and
    the batch, source file and line of its earliest record."""

    hit: npt.NDArray[np.bool_]
    batch: npt.NDArray[np.int64]
    source: npt.NDArray[np.object_]
    line: npt.NDArray[np.int64]

    @staticmethod
    def empty(n: int) -> Found:
        return Found(
            np.zeros(n, dtype=bool),
            np.full(n, -1, dtype=np.int64),
            np.full(n, "", dtype=object),
            np.zeros(n, dtype=np.int64),
        )


@dataclass
class _Details:
    batch: npt.NDArray[Any]  # int32 as read from the database, int64 when built here
    line: npt.NDArray[np.int64]
    source: npt.NDArray[Any]


@dataclass
class _Run:
    id: int
    batches: list[int]
    sources: list[str]
    keys: npt.NDArray[np.int64]  # sorted; ties by batch, then as recorded
    details: _Details | None  # read from the database when a look-up first hits the run

    def detail(self, db: sqlite3.Connection) -> _Details:
        if self.details is None:
            batch, line, source = db.execute(
                "SELECT batch, line, source FROM ident_run WHERE id = ?", (self.id,)
            ).fetchone()
            self.details = _Details(
                np.frombuffer(batch, dtype="<i4"),
                _int64(line),
                np.frombuffer(source, dtype="<i4"),
            )
        return self.details


def _int64(blob: bytes) -> npt.NDArray[np.int64]:
    """A BLOB of little-endian int64 as an array (no copy on little-endian machines)."""
    arr = np.frombuffer(blob, dtype="<i8")
    return arr if arr.dtype == np.int64 else arr.astype(np.int64)


def _make_run(
    batches: list[int],
    sources: list[str],
    keys: npt.NDArray[np.int64],
    batch: npt.NDArray[np.int64],
    line: npt.NDArray[np.int64],
    source: npt.NDArray[np.int64],
) -> _Run:
    order = np.lexsort((np.arange(len(keys)), batch, keys))
    details = _Details(batch[order], line[order], source[order])
    return _Run(0, sorted(batches), sources, keys[order], details)


class IdentityIndex:
    """The sorted runs of one history database, loaded once per run of csvbridge."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self._runs: list[_Run] | None = None

    def _load(self) -> list[_Run]:
        if self._runs is None:
            runs = []
            for rid, batches, sources, keys in self.db.execute(
                "SELECT id, batches, sources, keys FROM ident_run ORDER BY id"
            ):
                runs.append(_Run(rid, json.loads(batches), json.loads(sources), _int64(keys), None))
            live = {r[0] for r in self.db.execute("SELECT id FROM batch")}
            self._runs = []
            missing = set(live)
            for run in runs:
                if set(run.batches) <= live:
                    self._runs.append(run)
                    missing -= set(run.batches)
                else:  # holds a batch forgotten by an older csvbridge: rebuilt below
                    self.db.execute("DELETE FROM ident_run WHERE id = ?", (run.id,))
            if missing:  # recorded without an index: index them now
                self._add(self._from_records(sorted(missing)))
        return self._runs

    def _from_records(self, batches: list[int]) -> _Run:
        marks = ",".join("?" * len(batches))
        rows = self.db.execute(
            f"SELECT identity, batch_id, line, source FROM record WHERE batch_id IN ({marks}) "
            "ORDER BY rowid",
            batches,
        ).fetchall()
        if not rows:
            e = np.zeros(0, dtype=np.int64)
            return _make_run(batches, [], e, e, e, e)
        ident, batch, line, source = zip(*rows, strict=True)
        names, codes = np.unique(np.array(source, dtype=object), return_inverse=True)
        return _make_run(
            batches,
            [str(x) for x in names],
            np.array(ident, dtype=np.int64),
            np.array(batch, dtype=np.int64),
            np.array(line, dtype=np.int64),
            codes.astype(np.int64),
        )

    def _add(self, run: _Run) -> None:
        runs = self._load()
        while runs and len(runs[-1].keys) <= len(run.keys):
            prev = runs.pop()
            a, b = prev.detail(self.db), run.detail(self.db)
            self.db.execute("DELETE FROM ident_run WHERE id = ?", (prev.id,))
            run = _make_run(
                prev.batches + run.batches,
                prev.sources + run.sources,
                np.concatenate([prev.keys, run.keys]),
                np.concatenate([a.batch, b.batch]),
                np.concatenate([a.line, b.line]),
                np.concatenate([a.source, b.source + len(prev.sources)]),
            )
        d = run.detail(self.db)
        cur = self.db.execute(
            "INSERT INTO ident_run (batches, sources, keys, batch, line, source) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                json.dumps(run.batches),
                json.dumps(run.sources),
                run.keys.astype("<i8").tobytes(),
                d.batch.astype("<i4").tobytes(),
                d.line.astype("<i8").tobytes(),
                d.source.astype("<i4").tobytes(),
            ),
        )
        run.id = int(cur.lastrowid or 0)
        runs.append(run)

    def add_batch(
        self,
        batch_id: int,
        keys: npt.NDArray[np.int64],
        sources: list[str],
        source_idx: npt.NDArray[np.int64],
        lines: npt.NDArray[np.int64],
    ) -> None:
        """Index the records just recorded for ``batch_id``."""
        self._load()
        batch = np.full(len(keys), batch_id, dtype=np.int64)
        self._add(_make_run([batch_id], list(sources), keys, batch, lines, source_idx))

    def forget(self, batch_id: int) -> None:
        """Drop a forgotten batch's entries (the runs holding it are rebuilt without it)."""
        runs = self._load()
        for run in [r for r in runs if batch_id in r.batches]:
            self.db.execute("DELETE FROM ident_run WHERE id = ?", (run.id,))
            runs.remove(run)
            rest = [b for b in run.batches if b != batch_id]
            if rest:
                self._add(self._from_records(rest))

    def lookup(self, keys: npt.NDArray[np.int64]) -> Found:
        """Where the history holds each key (its earliest record), aligned with ``keys``."""
        found = Found.empty(len(keys))
        order = np.argsort(keys)  # sorted probes walk the run in order: far fewer cache misses
        probe = keys[order]
        first = np.full(len(keys), _NONE, dtype=np.int64)
        for run in self._load():
            if not len(run.keys):
                continue
            pos = np.minimum(np.searchsorted(run.keys, probe), len(run.keys) - 1)
            hit = run.keys[pos] == probe
            if not hit.any():
                continue
            d = run.detail(self.db)
            better = hit & (d.batch[pos] < first)
            at = pos[better]
            first[better] = d.batch[at]
            where = order[better]
            found.hit[where] = True
            found.batch[where] = d.batch[at]
            found.line[where] = d.line[at]
            found.source[where] = np.array(run.sources, dtype=object)[d.source[at]]
        return found
