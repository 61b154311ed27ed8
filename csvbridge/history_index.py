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
class _Run:
    id: int
    batches: list[int]
    sources: list[str]
    keys: npt.NDArray[np.int64]  # sorted; ties by batch, then as recorded
    batch: npt.NDArray[np.int64]
    line: npt.NDArray[np.int64]
    source: npt.NDArray[np.int64]


def _make_run(
    batches: list[int],
    sources: list[str],
    keys: npt.NDArray[np.int64],
    batch: npt.NDArray[np.int64],
    line: npt.NDArray[np.int64],
    source: npt.NDArray[np.int64],
) -> _Run:
    order = np.lexsort((np.arange(len(keys)), batch, keys))
    return _Run(0, sorted(batches), sources, keys[order], batch[order], line[order], source[order])


class IdentityIndex:
    """The sorted runs of one history database, loaded once per run of csvbridge."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self._runs: list[_Run] | None = None

    def _load(self) -> list[_Run]:
        if self._runs is None:
            runs = []
            for rid, batches, sources, keys, batch, line, source in self.db.execute(
                "SELECT id, batches, sources, keys, batch, line, source FROM ident_run ORDER BY id"
            ):
                runs.append(
                    _Run(
                        rid,
                        json.loads(batches),
                        json.loads(sources),
                        np.frombuffer(keys, dtype="<i8").astype(np.int64),
                        np.frombuffer(batch, dtype="<i4").astype(np.int64),
                        np.frombuffer(line, dtype="<i8").astype(np.int64),
                        np.frombuffer(source, dtype="<i4").astype(np.int64),
                    )
                )
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
            self.db.execute("DELETE FROM ident_run WHERE id = ?", (prev.id,))
            run = _make_run(
                prev.batches + run.batches,
                prev.sources + run.sources,
                np.concatenate([prev.keys, run.keys]),
                np.concatenate([prev.batch, run.batch]),
                np.concatenate([prev.line, run.line]),
                np.concatenate([prev.source, run.source + len(prev.sources)]),
            )
        cur = self.db.execute(
            "INSERT INTO ident_run (batches, sources, keys, batch, line, source) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                json.dumps(run.batches),
                json.dumps(run.sources),
                run.keys.astype("<i8").tobytes(),
                run.batch.astype("<i4").tobytes(),
                run.line.astype("<i8").tobytes(),
                run.source.astype("<i4").tobytes(),
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
        first = np.full(len(keys), _NONE, dtype=np.int64)
        for run in self._load():
            if not len(run.keys):
                continue
            pos = np.minimum(np.searchsorted(run.keys, keys), len(run.keys) - 1)
            hit = run.keys[pos] == keys
            better = hit & (run.batch[pos] < first)
            if not better.any():
                continue
            at = pos[better]
            first[better] = run.batch[at]
            found.hit[better] = True
            found.batch[better] = run.batch[at]
            found.line[better] = run.line[at]
            found.source[better] = np.array(run.sources, dtype=object)[run.source[at]]
        return found
