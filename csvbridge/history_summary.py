"""What a look-up keeps in memory of a stored index run: every ``FENCE``-th key, and a Bloom
filter of its keys (record identities) or of its keys' amount buckets and 8-day spans (near
keys, whose low bits are a day and are asked for by range). About 1.5 bytes per entry, where
the run's keys and refs are 16; a look-up reads from the database only the blocks of
``FENCE`` entries its filter lets through (history_probe.py).

Summaries are made once a batch's runs are final (history_runs: not for each run merged on the
way) and stored beside them; a run stored without one (an older history, a forgotten batch's
rewritten runs, an index rebuilt) gets one the first time it is looked up.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .bloom import Bloom
from .history_blocks import i64

SCHEMA = """
CREATE TABLE IF NOT EXISTS key_run_summary (
    run_id INTEGER PRIMARY KEY,
    version INTEGER NOT NULL,
    fence_every INTEGER NOT NULL,
    fences BLOB NOT NULL,
    bloom BLOB NOT NULL
);
"""
FENCE = 512  # entries a block read for a look-up: 4 KB of keys, 4 KB of refs
VERSION = 1  # what the filters hold (bloom_keys): a summary of another version is made again

Keys = npt.NDArray[np.int64]


GRAIN = 3  # a near key's filter holds its day to 2**GRAIN days: bucket, day >> GRAIN


def bloom_keys(kind: str, keys: Keys) -> npt.NDArray[np.uint64]:
    """What the filter holds of each key: an identity as it is; of a near key (never
    negative) its amount bucket and its day to 8 days (``grains``), moved up to the top
    bits the filter picks its block by. A near key's ascend with the keys; an identity's
    but for the sign (``_ascending``)."""
    if kind == "near":
        return grain_keys(keys >> GRAIN)
    return keys.view(np.uint64)


def grain_keys(grains: Keys) -> npt.NDArray[np.uint64]:
    """The filter's key for near keys shifted right by GRAIN (below 2**60)."""
    return (grains << (GRAIN + 1)).view(np.uint64)


def _ascending(keys: npt.NDArray[np.uint64]) -> list[npt.NDArray[np.uint64]]:
    """Identities sorted as signed are two ascending runs as unsigned: the negative ones
    (2**63 and up) come first. ``Bloom.add`` wants each call's keys ascending."""
    cut = int(np.searchsorted(keys.view(np.int64), 0))
    return [part for part in (keys[:cut], keys[cut:]) if len(part)]


@dataclass
class Summary:
    """A run's fences (``keys[::every]``: the first key of each block) and filter."""

    fences: Keys
    bloom: Bloom
    every: int


class SummaryBuilder:
    """A run's summary from its keys, given in order a part at a time."""

    def __init__(self, kind: str, n: int) -> None:
        self.kind = kind
        self.every = FENCE
        self.seen = 0
        self.fences: list[Keys] = []
        self.bloom = Bloom(n)

    def add(self, keys: Keys) -> None:
        first = -self.seen % self.every  # the part's first entry at a block's start
        self.fences.append(np.array(keys[first :: self.every], dtype=np.int64))
        held = bloom_keys(self.kind, keys)
        for part in _ascending(held) if self.kind == "identity" else [held]:
            self.bloom.add(part)
        self.seen += len(keys)

    def finish(self) -> Summary:
        fences = np.concatenate(self.fences) if self.fences else np.zeros(0, dtype=np.int64)
        return Summary(fences, self.bloom, self.every)


def store(db: sqlite3.Connection, run_id: int, summary: Summary) -> None:
    db.execute(
        "INSERT OR REPLACE INTO key_run_summary (run_id, version, fence_every, fences, bloom) "
        "VALUES (?, ?, ?, ?, ?)",
        (
            run_id,
            VERSION,
            summary.every,
            summary.fences.astype("<i8").tobytes(),
            summary.bloom.words.astype("<u8").tobytes(),
        ),
    )


def load(db: sqlite3.Connection, run_id: int, n: int) -> Summary | None:
    """The stored summary of run ``run_id`` of ``n`` entries; None when it has none, or one
    of another version, made with other fences or for another run of that id."""
    row = db.execute(
        "SELECT version, fence_every, fences, bloom FROM key_run_summary WHERE run_id = ?",
        (run_id,),
    ).fetchone()
    if row is None or row[:2] != (VERSION, FENCE) or len(row[2]) != 8 * -(-n // FENCE):
        return None
    words = np.frombuffer(row[3], dtype="<u8").astype(np.uint64)
    return Summary(i64(row[2]), Bloom.from_words(words), FENCE)


def missing(db: sqlite3.Connection, kind: str) -> list[tuple[int, int]]:
    """(id, entries) of the runs of ``kind`` with no summary that ``load`` would take."""
    rows = db.execute(
        "SELECT r.id, length(r.keys) / 8 FROM key_run r "
        "LEFT JOIN key_run_summary s ON s.run_id = r.id "
        "WHERE r.kind = ? AND (s.run_id IS NULL OR s.version != ? OR s.fence_every != ? "
        "OR length(s.fences) != 8 * ((length(r.keys) / 8 + ? - 1) / ?))",
        (kind, VERSION, FENCE, FENCE, FENCE),
    )
    return [(int(r[0]), int(r[1])) for r in rows]


def delete(db: sqlite3.Connection, run_id: int) -> None:
    db.execute("DELETE FROM key_run_summary WHERE run_id = ?", (run_id,))
