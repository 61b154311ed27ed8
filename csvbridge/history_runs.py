"""Sorted runs of int64 keys over the history's records, kept inside the history database:
one kind of run for record identities (exact duplicates), one for near keys (possible
duplicates). Each run is two BLOBs — the keys sorted, and beside each the record's ref
(history_blocks: block id << 32 | position), ascending among equal keys — so a look-up is a
vectorised binary search with no SQL per record.

Runs merge like an LSM tree, but never past ``RUN_CAP`` entries, so a merge needs a few tens
of MB whatever the history's size. A run being recorded builds its runs as it goes (a run is
written whenever ``RUN_CAP`` new entries are waiting) and look-ups never see them until the
next run loads the index. Memory: the keys of every run are read at the first look-up (8 bytes
per history record); the refs of a run only once a look-up hits it.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .history_blocks import POS_BITS, Blocks, i64

SCHEMA = """
CREATE TABLE IF NOT EXISTS key_run (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    batches TEXT NOT NULL,
    keys BLOB NOT NULL,
    refs BLOB NOT NULL
);
"""
RUN_CAP = 1 << 20
MAX_CANDIDATES = 64  # per record and run, as near_duplicates' in-batch index
_COLUMN = {"identity": "identity", "near": "near_key"}


@dataclass
class _Run:
    id: int
    batches: list[int]
    keys: npt.NDArray[np.int64]  # sorted; among equal keys, refs ascending
    refs: npt.NDArray[np.int64] | None  # read when a look-up first hits the run


def _sorted(
    keys: npt.NDArray[np.int64], refs: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    order = np.lexsort((refs, keys))
    return keys[order], refs[order]


class KeyRuns:
    """The runs of one kind in one history database."""

    def __init__(self, db: sqlite3.Connection, blocks: Blocks, kind: str) -> None:
        self.db = db
        self.blocks = blocks
        self.kind = kind
        self._runs: list[_Run] | None = None
        self._pending: list[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]] = []
        self._pending_n = 0
        self._batch: int | None = None  # the batch being recorded
        self._new: list[_Run] = []  # its runs written so far (not looked up)

    def runs(self) -> list[_Run]:
        """The runs of the batches recorded before this run (loaded once)."""
        if self._runs is None:
            self._runs = []
            covered: set[int] = set()
            for rid, batches, keys in self.db.execute(
                "SELECT id, batches, keys FROM key_run WHERE kind = ? ORDER BY id", (self.kind,)
            ):
                run = _Run(rid, json.loads(batches), i64(keys), None)
                self._runs.append(run)
                covered |= set(run.batches)
            have = {r[0] for r in self.db.execute("SELECT DISTINCT batch_id FROM record_block")}
            missing = sorted(have - covered - ({self._batch} if self._batch else set()))
            if missing:  # migrated from an older history, or the index was lost: rebuild
                keys, refs = self.blocks.keys_of(missing, _COLUMN[self.kind])
                for start in range(0, max(len(keys), 1), RUN_CAP):
                    part = _sorted(keys[start : start + RUN_CAP], refs[start : start + RUN_CAP])
                    self._runs.append(self._write(missing, *part))
                self._compact(self._runs)
        return self._runs

    def _refs(self, run: _Run) -> npt.NDArray[np.int64]:
        if run.refs is None:
            (blob,) = self.db.execute("SELECT refs FROM key_run WHERE id = ?", (run.id,)).fetchone()
            run.refs = i64(blob)
        return run.refs

    def _write(
        self, batches: list[int], keys: npt.NDArray[np.int64], refs: npt.NDArray[np.int64]
    ) -> _Run:
        cur = self.db.execute(
            "INSERT INTO key_run (kind, batches, keys, refs) VALUES (?, ?, ?, ?)",
            (self.kind, json.dumps(sorted(batches)), keys.tobytes(), refs.tobytes()),
        )
        return _Run(int(cur.lastrowid or 0), sorted(batches), keys, refs)

    def _delete(self, run: _Run) -> None:
        self.db.execute("DELETE FROM key_run WHERE id = ?", (run.id,))

    def _compact(self, runs: list[_Run]) -> None:
        """Merge the last runs while the newest is at least as large as the one before and
        the merged run stays within RUN_CAP."""
        while (
            len(runs) >= 2
            and len(runs[-2].keys) <= len(runs[-1].keys)
            and len(runs[-2].keys) + len(runs[-1].keys) <= RUN_CAP
        ):
            b, a = runs.pop(), runs.pop()
            keys, refs = _sorted(
                np.concatenate([a.keys, b.keys]), np.concatenate([self._refs(a), self._refs(b)])
            )
            self._delete(a)
            self._delete(b)
            runs.append(self._write(a.batches + b.batches, keys, refs))

    # -- recording a batch ---------------------------------------------------------------
    def open_batch(self, batch_id: int) -> None:
        """This run records ``batch_id``: it is never indexed from its blocks on load."""
        self._batch = batch_id

    def add(self, batch_id: int, keys: npt.NDArray[np.int64], refs: npt.NDArray[np.int64]) -> None:
        """Index a block of the batch being recorded (keys -1 of near keys are left out)."""
        self._batch = batch_id
        self.runs()  # the earlier batches' runs are loaded before this batch adds any
        if self.kind == "near":
            ok = keys >= 0
            keys, refs = keys[ok], refs[ok]
        if not len(keys):
            return
        self._pending.append((keys, refs))
        self._pending_n += len(keys)
        if self._pending_n >= RUN_CAP:
            self._flush()

    def _flush(self) -> None:
        if not self._pending or self._batch is None:
            return
        keys = np.concatenate([p[0] for p in self._pending])
        refs = np.concatenate([p[1] for p in self._pending])
        self._pending, self._pending_n = [], 0
        for start in range(0, len(keys), RUN_CAP):
            part = _sorted(keys[start : start + RUN_CAP], refs[start : start + RUN_CAP])
            self._new.append(self._write([self._batch], *part))
            self._compact(self._new)

    def finish_batch(self) -> None:
        """The batch is complete: write what waits and merge its runs into the index."""
        self._flush()
        runs = self.runs() + self._new
        self._new = []
        self._compact(runs)
        self._batch = None
        self._runs = None  # the next look-up (a later batch) reads the runs again

    def forget(self, batch_id: int, blocks: set[int]) -> None:
        """Remove a batch's entries (``blocks``: its blocks) from the runs holding it."""
        for run in [r for r in self.runs() if batch_id in r.batches]:
            refs = self._refs(run)
            keep = ~np.isin(refs >> POS_BITS, np.fromiter(blocks, dtype=np.int64))
            self._delete(run)
            rest = [b for b in run.batches if b != batch_id]
            if rest and keep.any():
                self._write(rest, run.keys[keep], refs[keep])
        self._runs = None

    # -- look-ups --------------------------------------------------------------------------
    def has_keys(self) -> bool:
        return any(len(r.keys) for r in self.runs())

    def first(self, probe: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """The smallest ref recorded with each key (-1: none); ``probe`` need not be sorted."""
        out = np.full(len(probe), -1, dtype=np.int64)
        if not len(probe):
            return out
        order = np.argsort(probe)  # sorted probes walk the runs in order: fewer cache misses
        sp = probe[order]
        best = np.full(len(probe), np.iinfo(np.int64).max, dtype=np.int64)
        for run in self.runs():
            if not len(run.keys):
                continue
            pos = np.minimum(np.searchsorted(run.keys, sp), len(run.keys) - 1)
            hit = run.keys[pos] == sp
            if not hit.any():
                continue
            ref = self._refs(run)[pos[hit]]
            best[hit] = np.minimum(best[hit], ref)
        found = best != np.iinfo(np.int64).max
        out[order[found]] = best[found]
        return out

    def within(
        self, lo: npt.NDArray[np.int64], hi: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """(i, ref) of the entries whose key lies in [lo[i], hi[i]] (at most MAX_CANDIDATES
        per i and run), ordered by i then ref."""
        rows: list[npt.NDArray[np.int64]] = []
        refs: list[npt.NDArray[np.int64]] = []
        for run in self.runs():
            a = np.searchsorted(run.keys, lo, side="left")
            b = np.minimum(np.searchsorted(run.keys, hi, side="right"), a + MAX_CANDIDATES)
            hit = np.flatnonzero(b > a)
            if not len(hit):
                continue
            counts = b[hit] - a[hit]
            starts = np.repeat(a[hit] - np.cumsum(np.r_[0, counts[:-1]]), counts)
            pos = starts + np.arange(int(counts.sum()))
            rows.append(np.repeat(hit, counts).astype(np.int64))
            refs.append(self._refs(run)[pos])
        if not rows:
            e = np.zeros(0, dtype=np.int64)
            return e, e
        i, r = np.concatenate(rows), np.concatenate(refs)
        order = np.lexsort((r, i))
        return i[order], r[order]
