"""Sorted runs of int64 keys over the history's records, kept inside the history database:
one kind of run for record identities (exact duplicates), one for near keys (possible
duplicates). Each run is two BLOBs — the keys sorted, and beside each the record's ref
(history_blocks: block id << 32 | position), ascending among equal keys — so a look-up is a
vectorised binary search with no SQL per record.

Runs merge like an LSM tree, but never past ``RUN_CAP`` entries, read and written a chunk at a
time (history_merge), so a merge needs a few MB whatever the history's size. A run being
recorded builds its runs as it goes (a run is written whenever ``FLUSH`` new entries are
waiting) and look-ups never see them until the next run loads the index. Look-ups go through
each run's summary (history_summary.py, made once the batch's runs are final) and read only
the blocks of the run it lets through (history_probe.py).
"""

from __future__ import annotations

import itertools
import json
import sqlite3
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from . import history_summary as summaries
from .history_blocks import POS_BITS, Blocks, i64
from .history_merge import Pair, as_blob, merge_stored, refs_ordered, stored_keys
from .history_probe import Stored, first, within
from .history_summary import Summary, SummaryBuilder

SCHEMA = """
CREATE TABLE IF NOT EXISTS key_run (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    batches TEXT NOT NULL,
    keys BLOB NOT NULL,
    refs BLOB NOT NULL
);
"""
RUN_CAP = 1 << 20  # entries of a merged run (merged a chunk at a time: a few MB whatever)
FLUSH = 1 << 18  # entries of the batch being recorded waiting to be written as a run
_COLUMN = {"identity": "identity", "near": "near_key"}


@dataclass
class _Run:
    id: int
    batches: list[int]
    n: int
    keys: npt.NDArray[np.int64] | None = None  # read whole only to rewrite the run
    refs: npt.NDArray[np.int64] | None = None
    ref_range: tuple[int, int] | None = None  # smallest and largest ref, when known


def _sorted(keys: npt.NDArray[np.int64], refs: npt.NDArray[np.int64]) -> Pair:
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
        self._looked_up: list[Stored] | None = None  # the runs with summaries and handles

    def runs(self) -> list[_Run]:
        """The runs of the batches recorded before this run (loaded once)."""
        if self._runs is None:
            covered: set[int] = set()
            for (batches,) in self.db.execute(
                "SELECT batches FROM key_run WHERE kind = ?", (self.kind,)
            ):
                covered.update(json.loads(batches))
            have = {r[0] for r in self.db.execute("SELECT DISTINCT batch_id FROM record_block")}
            missing = sorted(have - covered - ({self._batch} if self._batch else set()))
            if missing:  # migrated from an older history, or the index was lost: rebuild
                self._rebuild(missing)
            self._runs = [
                _Run(rid, json.loads(batches), n // 8)
                for rid, batches, n in self.db.execute(
                    "SELECT id, batches, length(keys) FROM key_run WHERE kind = ? ORDER BY id",
                    (self.kind,),
                ).fetchall()
            ]
        return self._runs

    def _stored(self) -> list[Stored]:
        """The runs with their summaries, for a look-up (a run stored without one, by an
        older csvbridge, gets one now); made once, until ``release``."""
        if self._looked_up is None:
            self._looked_up = []
            for run in self.runs():
                summary = summaries.load(self.db, run.id, run.n)
                if summary is None:
                    summary = self._summarise(run.id, run.n)
                self._looked_up.append(Stored(run.id, run.n, summary))
        return self._looked_up

    def release(self) -> None:
        """Close the look-ups' BLOB handles (before the runs change, or the run ends)."""
        for stored in self._looked_up or []:
            stored.close()
        self._looked_up = None

    def _summarise(self, rid: int, n: int) -> Summary:
        """Make and store the summary of run ``rid`` of ``n`` entries (its keys read once)."""
        made = SummaryBuilder(self.kind, n)
        for keys in stored_keys(self.db, rid, n):
            made.add(keys)
        summary = made.finish()
        summaries.store(self.db, rid, summary)
        return summary

    def _rebuild(self, batches: list[int]) -> None:
        """Index these batches from their blocks, FLUSH entries at a time."""
        made: list[_Run] = []
        waiting: list[Pair] = []
        count = 0
        blocks = self.blocks.keys_of(batches, _COLUMN[self.kind])
        for part in itertools.chain(blocks, [None]):
            if part is not None:
                waiting.append(part)
                count += len(part[0])
            if waiting and (count >= FLUSH or part is None):
                keys, refs = _sorted(
                    np.concatenate([w[0] for w in waiting]), np.concatenate([w[1] for w in waiting])
                )
                made.append(self._write(batches, keys, refs))
                self._compact(made)
                waiting, count = [], 0
        if not made:  # none of them has keys: an empty run marks them indexed
            e = np.zeros(0, dtype=np.int64)
            self._write(batches, e, e)

    def _refs(self, run: _Run) -> npt.NDArray[np.int64]:
        if run.refs is None:
            (blob,) = self.db.execute("SELECT refs FROM key_run WHERE id = ?", (run.id,)).fetchone()
            run.refs = i64(blob)
        return run.refs

    def _keys(self, run: _Run) -> npt.NDArray[np.int64]:
        if run.keys is None:
            (blob,) = self.db.execute("SELECT keys FROM key_run WHERE id = ?", (run.id,)).fetchone()
            run.keys = i64(blob)
        return run.keys

    def _insert(self, batches: list[int], n: int) -> _Run:
        """A new run of ``n`` entries, its BLOBs zeroed (filled by the caller); its arrays are
        read again when needed."""
        cur = self.db.execute(
            "INSERT INTO key_run (kind, batches, keys, refs) "
            "VALUES (?, ?, zeroblob(?), zeroblob(?))",
            (self.kind, json.dumps(sorted(batches)), 8 * n, 8 * n),
        )
        rid = int(cur.lastrowid or 0)
        summaries.delete(self.db, rid)  # a summary left by a run of this id deleted before
        return _Run(rid, sorted(batches), n)

    def _write(
        self, batches: list[int], keys: npt.NDArray[np.int64], refs: npt.NDArray[np.int64]
    ) -> _Run:
        """Store a run."""
        run = self._insert(batches, len(keys))
        for column, values in (("keys", keys), ("refs", refs)) if len(keys) else ():
            # written into the pages directly: no copy of the array in SQLite's memory
            with self.db.blobopen("key_run", column, run.id) as blob:
                blob.write(as_blob(values))
        if len(refs):
            run.ref_range = (int(refs.min()), int(refs.max()))
        return run

    def _delete(self, run: _Run) -> None:
        self.db.execute("DELETE FROM key_run WHERE id = ?", (run.id,))
        summaries.delete(self.db, run.id)

    def _compact(self, runs: list[_Run]) -> None:
        """Merge the last runs while the newest is at least as large as the one before and
        the merged run stays within RUN_CAP."""
        while len(runs) >= 2 and runs[-2].n <= runs[-1].n and runs[-2].n + runs[-1].n <= RUN_CAP:
            b, a = runs.pop(), runs.pop()
            batches = sorted(set(a.batches + b.batches))
            if self._ordered(a, b):  # as runs are recorded
                merged = self._insert(batches, a.n + b.n)
                merge_stored(self.db, (a.id, a.n), (b.id, b.n), merged.id)
                if a.ref_range and b.ref_range:
                    merged.ref_range = (a.ref_range[0], b.ref_range[1])
            else:  # a batch indexed again after later ones (_rebuild): sort
                keys = np.concatenate([self._keys(a), self._keys(b)])
                refs = np.concatenate([self._refs(a), self._refs(b)])
                merged = self._write(batches, *_sorted(keys, refs))
            self._delete(a)
            self._delete(b)
            runs.append(merged)

    def _ordered(self, a: _Run, b: _Run) -> bool:
        """Whether every ref of ``a`` precedes every ref of ``b`` (read from the database
        unless both runs were written by this run)."""
        if not a.n or not b.n:
            return True
        if a.ref_range and b.ref_range:
            return a.ref_range[1] <= b.ref_range[0]
        return refs_ordered(self.db, (a.id, a.n), (b.id, b.n))

    def _summarise_all(self) -> None:
        """Give every run without a fitting summary one (the runs this run left; a run's
        summary is made once it is final, not for each run merged on the way)."""
        for rid, n in summaries.missing(self.db, self.kind):
            self._summarise(rid, n)

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
        if self._pending_n >= FLUSH:
            self._flush()

    def _flush(self) -> None:
        if not self._pending or self._batch is None:
            return
        keys = np.concatenate([p[0] for p in self._pending])
        refs = np.concatenate([p[1] for p in self._pending])
        self._pending, self._pending_n = [], 0
        self._new.append(self._write([self._batch], *_sorted(keys, refs)))
        self._compact(self._new)

    def finish_batch(self) -> None:
        """The batch is complete: write what waits and merge its runs into the index."""
        self.release()
        self._flush()
        runs = self.runs() + self._new
        self._new = []
        self._compact(runs)
        self._summarise_all()
        self._batch = None
        self._runs = None  # the next look-up (a later batch) reads the runs again

    def forget(self, batch_id: int, blocks: set[int]) -> None:
        """Remove a batch's entries (``blocks``: its blocks) from the runs holding it."""
        self.release()
        for run in [r for r in self.runs() if batch_id in r.batches]:
            keys, refs = self._keys(run), self._refs(run)
            keep = ~np.isin(refs >> POS_BITS, np.fromiter(blocks, dtype=np.int64))
            self._delete(run)
            rest = [b for b in run.batches if b != batch_id]
            if rest and keep.any():
                self._write(rest, keys[keep], refs[keep])
        self._summarise_all()
        self._runs = None

    # -- look-ups --------------------------------------------------------------------------
    def has_keys(self) -> bool:
        return any(r.n for r in self.runs())

    def first(self, probe: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """The smallest ref recorded with each key (-1: none); ``probe`` need not be sorted."""
        out = np.full(len(probe), -1, dtype=np.int64)
        if len(probe):
            at, refs = first(self.db, self._stored(), probe)
            out[at] = refs
        return out

    def within(
        self, lo: npt.NDArray[np.int64], hi: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """(i, ref) of the entries whose key lies in [lo[i], hi[i]] (at most MAX_CANDIDATES
        per i and run), ordered by i then ref."""
        return within(self.db, self._stored(), lo, hi)
