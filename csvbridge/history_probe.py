"""Look-ups in stored index runs through their summaries (history_summary.py): a run's filter
turns most keys away, its fences say which of its blocks (``FENCE`` entries each) could hold
the rest, and only those blocks are read from the database. Memory is the summaries (about
1.5 bytes per history record) and the blocks of one run at a time, whatever the history's
size.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from .history_summary import GRAIN, Summary, bloom_keys, grain_keys
from .near_duplicates import DAY_BITS

MAX_CANDIDATES = 64  # per record and run, as near_duplicates' in-batch index
MAX_GRAINS = 8  # a range over more of a near filter's 8-day spans is let through untested
WINDOW = 256  # blocks a look-up reads at a time: 1 MB of keys (and refs of the hits)

Keys = npt.NDArray[np.int64]


@dataclass
class Stored:
    """A run as a look-up sees it: where it is, how many entries, its summary, and its
    BLOBs opened for reading. A handle is kept open (SQLite walks a BLOB's pages to an
    offset once per handle, ~1 ms for a run of a million entries) until ``close``."""

    id: int
    n: int
    summary: Summary
    handles: dict[str, sqlite3.Blob] = field(default_factory=dict)

    def blob(self, db: sqlite3.Connection, column: str) -> sqlite3.Blob:
        got = self.handles.get(column)
        if got is None:
            got = self.handles[column] = db.blobopen("key_run", column, self.id, readonly=True)
        return got

    def close(self) -> None:
        for blob in self.handles.values():
            blob.close()
        self.handles.clear()


class _Blocks:
    """Some blocks of a stored run (ascending block numbers): their keys side by side,
    ascending, and the refs of chosen entries, read when asked for. Neighbouring blocks are
    read together."""

    def __init__(self, db: sqlite3.Connection, run: Stored, blocks: npt.NDArray[np.intp]) -> None:
        self.db, self.run, self.blocks = db, run, blocks
        self.every = run.summary.every
        sizes = np.minimum(self.every, run.n - blocks * self.every)
        self.starts = np.concatenate([[0], np.cumsum(sizes)])
        self.keys = self._read("keys", blocks)

    def _read(self, column: str, blocks: npt.NDArray[np.intp]) -> Keys:
        """The entries of ``blocks`` (ascending), side by side."""
        cut = np.flatnonzero(np.diff(blocks) != 1) + 1  # where a range of neighbours ends
        firsts = np.split(blocks, cut)
        parts = []
        blob = self.run.blob(self.db, column)
        for span in firsts:
            lo = int(span[0]) * self.every
            hi = min((int(span[-1]) + 1) * self.every, self.run.n)
            blob.seek(8 * lo)
            parts.append(blob.read(8 * (hi - lo)))
        return np.frombuffer(b"".join(parts), dtype="<i8").astype(np.int64, copy=False)

    def refs(self, at: npt.NDArray[np.intp]) -> Keys:
        """The refs of the entries at these places of ``keys``."""
        held = np.searchsorted(self.starts, at, side="right") - 1  # their blocks, by index
        wanted = np.unique(held)
        refs = self._read("refs", self.blocks[wanted])
        # place of each wanted block's first entry in ``refs``
        sizes = self.starts[wanted + 1] - self.starts[wanted]
        base = np.concatenate([[0], np.cumsum(sizes)])[np.searchsorted(wanted, held)]
        out: Keys = refs[base + (at - self.starts[held])]
        return out


def _windows(first_block: npt.NDArray[np.intp]) -> list[slice]:
    """Slices of probes (their first blocks ascending) each reaching into at most about
    WINDOW blocks: a look-up holds one window's blocks at a time."""
    cut = np.flatnonzero(np.diff(first_block // WINDOW) != 0) + 1
    bounds = [0, *cut.tolist(), len(first_block)]
    return [slice(a, b) for a, b in itertools.pairwise(bounds)]


def _spans(first: npt.NDArray[np.intp], last: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
    """Every block from first[i] to last[i] (last >= first), each once, ascending."""
    counts = last - first + 1
    steps = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    return np.unique(np.repeat(first, counts) + steps)


def first(
    db: sqlite3.Connection, runs: Sequence[Stored], probe: Keys
) -> tuple[npt.NDArray[np.intp], Keys]:
    """(where, ref): the probes found in the runs and the smallest ref recorded with each."""
    order = np.argsort(probe)  # sorted probes read the blocks in order
    sp = probe[order]
    held = bloom_keys("identity", sp)  # sorted
    best = np.full(len(sp), np.iinfo(np.int64).max, dtype=np.int64)
    for run in runs:
        s = run.summary
        if not run.n:
            continue
        cand = np.flatnonzero(s.bloom.test(held))
        if not len(cand):
            continue
        # a key's first entry lies in the block before its fence, or starts the next block
        # (when that fence is the key itself)
        j_all = np.searchsorted(s.fences, sp[cand], side="left")
        for w in _windows(np.maximum(j_all - 1, 0)):
            c, j, p = cand[w], j_all[w], sp[cand[w]]
            at_fence = j[(j < len(s.fences)) & (s.fences[np.minimum(j, len(s.fences) - 1)] == p)]
            read = _Blocks(db, run, np.unique(np.concatenate([np.maximum(j - 1, 0), at_fence])))
            pos = np.minimum(np.searchsorted(read.keys, p), len(read.keys) - 1)
            eq = read.keys[pos] == p
            if eq.any():
                best[c[eq]] = np.minimum(best[c[eq]], read.refs(pos[eq]))
    found = np.flatnonzero(best != np.iinfo(np.int64).max)
    return order[found], best[found]


def within(db: sqlite3.Connection, runs: Sequence[Stored], lo: Keys, hi: Keys) -> tuple[Keys, Keys]:
    """(i, ref) of the entries whose key lies in [lo[i], hi[i]] (at most MAX_CANDIDATES per
    i and run), ordered by i then ref."""
    rows: list[Keys] = []
    refs: list[Keys] = []
    order = np.argsort(lo)
    slo, shi = lo[order], hi[order]
    # the filter's keys of each range's 8-day spans; a range across amount buckets (a day
    # out of range) or over too many spans is let through
    first, spans = slo >> GRAIN, (shi >> GRAIN) - (slo >> GRAIN) + 1
    untested = ((slo >> DAY_BITS) != (shi >> DAY_BITS)) | (spans > MAX_GRAINS)
    grains = [(np.flatnonzero(~untested & (spans > k)), k) for k in range(MAX_GRAINS)]
    for run in runs:
        s = run.summary
        if not run.n:
            continue
        maybe_in = untested.copy()
        for at, k in grains:
            if len(at):
                maybe_in[at] |= s.bloom.test(grain_keys(first[at] + k))
        maybe = np.flatnonzero(maybe_in)
        if not len(maybe):
            continue
        # the first entry >= lo is in the block before lo's fence or starts the next; the
        # candidates run from it for MAX_CANDIDATES entries, but never past hi's block
        j_all = np.searchsorted(s.fences, slo[maybe], side="left")
        for w in _windows(np.maximum(j_all - 1, 0)):
            m, j = maybe[w], j_all[w]
            upto = np.searchsorted(s.fences, shi[m], side="right") - 1
            lo_block = np.maximum(j - 1, 0)
            last = np.minimum(upto, j + (MAX_CANDIDATES - 1) // s.every)
            last = np.minimum(np.maximum(last, lo_block), len(s.fences) - 1)
            read = _Blocks(db, run, _spans(lo_block, last))
            keys = read.keys
            a = np.searchsorted(keys, slo[m], side="left")
            inside = (a < len(keys)) & (keys[np.minimum(a, len(keys) - 1)] <= shi[m])
            hit = m[inside]
            if not len(hit):
                continue
            a = a[inside]
            b = np.minimum(np.searchsorted(keys, shi[hit], side="right"), a + MAX_CANDIDATES)
            counts = b - a
            starts = np.repeat(a - np.cumsum(np.r_[0, counts[:-1]]), counts)
            pos = starts + np.arange(int(counts.sum()))
            rows.append(np.repeat(order[hit], counts).astype(np.int64))
            refs.append(read.refs(pos))
    if not rows:
        e = np.zeros(0, dtype=np.int64)
        return e, e
    i, r = np.concatenate(rows), np.concatenate(refs)
    by = np.lexsort((r, i))
    return i[by], r[by]
