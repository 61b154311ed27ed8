"""The history's records, stored in blocks: one row of table ``record_block`` per chunk of
written records, each column a BLOB (identity, source, line and near key as little-endian
arrays; the normalised texts as one Arrow IPC stream). A run writes its chunks as it goes,
inside its open transaction, so a million records cost a few dozen INSERTs rather than a
million, and nothing per record waits in memory for the end of the run.

A record's stable id is ``block id << 32 | position in the block`` (a *ref*): ids grow in the
order records were recorded, so the smallest ref of an identity is its earliest record.
Histories from before blocks (table ``record``, one row per record) are migrated on first
open, in one transaction.
"""

from __future__ import annotations

import json
import sqlite3
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

SCHEMA = """
CREATE TABLE IF NOT EXISTS record_block (
    id INTEGER PRIMARY KEY,
    batch_id INTEGER NOT NULL REFERENCES batch(id) ON DELETE CASCADE,
    n INTEGER NOT NULL,
    sources TEXT NOT NULL,
    identity BLOB NOT NULL,
    source BLOB NOT NULL,
    line BLOB NOT NULL,
    near_key BLOB NOT NULL,
    text BLOB
);
CREATE INDEX IF NOT EXISTS record_block_batch_idx ON record_block(batch_id);
"""
POS_BITS = 32
POS_MASK = (1 << POS_BITS) - 1
CACHE_BYTES = 8 << 20  # decoded block columns kept for look-ups that hit them (a few blocks)


def i64(blob: bytes) -> npt.NDArray[np.int64]:
    """A BLOB of little-endian int64 as an array (no copy on little-endian machines)."""
    arr = np.frombuffer(blob, dtype="<i8")
    return arr if arr.dtype == np.int64 else arr.astype(np.int64)


def _texts_blob(texts: pa.Array) -> bytes:
    """An Arrow IPC stream of the texts, zstd-compressed when pyarrow has zstd: a quarter of
    the size, so a million records' history is ~70 MB, not ~110, and commits sooner. Readers
    need nothing new: the stream says how each buffer is compressed."""
    sink = pa.BufferOutputStream()
    batch = pa.record_batch([texts], names=["text"])
    options = pa.ipc.IpcWriteOptions(compression="zstd" if _ZSTD else None)
    with pa.ipc.new_stream(sink, batch.schema, options=options) as w:
        w.write_batch(batch)
    return bytes(sink.getvalue())


_ZSTD = pa.Codec.is_available("zstd")


def _texts_of(blob: bytes) -> pa.Array:
    table = pa.ipc.open_stream(pa.py_buffer(blob)).read_all()
    return table.column(0).combine_chunks()


def write_block(
    db: sqlite3.Connection,
    batch_id: int,
    sources: list[str],
    identities: npt.NDArray[np.int64],
    source_idx: npt.NDArray[np.int64],
    lines: npt.NDArray[np.int64],
    near_keys: npt.NDArray[np.int64] | None,
    texts: pa.Array | None,
) -> int:
    """Store one block of records; returns its id. ``source_idx`` indexes ``sources``; only
    the names the block uses are stored with it. A record without a near key (-1) keeps no
    text."""
    n = len(identities)
    used, codes = np.unique(source_idx, return_inverse=True)
    keys = near_keys if near_keys is not None else np.full(n, -1, dtype=np.int64)
    text_blob = None
    if texts is not None and bool((keys >= 0).any()):
        kept = pc.if_else(pa.array(keys >= 0), pc.fill_null(texts.cast(pa.string()), ""), "")
        text_blob = _texts_blob(kept)
    cur = db.execute(
        "INSERT INTO record_block (batch_id, n, sources, identity, source, line, near_key, text) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            batch_id,
            n,
            json.dumps([sources[int(i)] for i in used]),
            identities.astype("<i8").tobytes(),
            codes.astype("<i4").tobytes(),
            lines.astype("<i8").tobytes(),
            keys.astype("<i8").tobytes(),
            text_blob,
        ),
    )
    return int(cur.lastrowid or 0)


@dataclass
class _Meta:
    batch: int
    sources: list[str]


class Blocks:
    """Reads the blocks: their batch and source names (all blocks, read once), and the
    columns of blocks a look-up hits (a bounded cache of decoded blocks)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self._meta: dict[int, _Meta] | None = None
        self._cache: OrderedDict[tuple[int, str], npt.NDArray[np.int64] | pa.Array] = OrderedDict()
        self._cached = 0

    def meta(self) -> dict[int, _Meta]:
        if self._meta is None:
            self._meta = {
                bid: _Meta(batch, json.loads(sources))
                for bid, batch, sources in self.db.execute(
                    "SELECT id, batch_id, sources FROM record_block"
                )
            }
        return self._meta

    def forget(self) -> None:
        """Drop what was read (blocks were added or removed)."""
        self._meta = None
        self._cache.clear()
        self._cached = 0

    def column(self, block: int, name: str) -> npt.NDArray[np.int64] | pa.Array:
        """One column of a block: an int64 array, or for ``text`` an Arrow string array."""
        key = (block, name)
        got = self._cache.get(key)
        if got is not None:
            self._cache.move_to_end(key)
            return got
        row = self.db.execute(
            f"SELECT n, {name} FROM record_block WHERE id = ?", (block,)
        ).fetchone()
        n, blob = int(row[0]), row[1]
        value: npt.NDArray[np.int64] | pa.Array
        if name == "text":
            value = _texts_of(blob) if blob is not None else pa.array([""] * n, pa.string())
            size = int(value.nbytes)
        elif name == "source":
            value = np.frombuffer(blob, dtype="<i4").astype(np.int64)
            size = value.nbytes
        else:
            value = i64(blob)
            size = value.nbytes
        self._cache[key] = value
        self._cached += size
        while self._cached > CACHE_BYTES and len(self._cache) > 1:
            _, old = self._cache.popitem(last=False)
            self._cached -= int(old.nbytes)
        return value

    def details(
        self, refs: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.object_], npt.NDArray[np.int64]]:
        """(batch, source name, line) of each ref."""
        meta = self.meta()
        batch = np.zeros(len(refs), dtype=np.int64)
        source = np.full(len(refs), "", dtype=object)
        line = np.zeros(len(refs), dtype=np.int64)
        blocks = refs >> POS_BITS
        for b in np.unique(blocks).tolist():
            at = np.flatnonzero(blocks == b)
            pos = refs[at] & POS_MASK
            m = meta[b]
            batch[at] = m.batch
            codes = np.asarray(self.column(b, "source"))[pos]
            source[at] = np.array(m.sources, dtype=object)[codes]
            line[at] = np.asarray(self.column(b, "line"))[pos]
        return batch, source, line

    def keys_of(
        self, batches: list[int], name: str
    ) -> Iterator[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]]:
        """(keys, refs) of the records of these batches, a block at a time (``name``:
        identity or near_key; records without a near key left out), to (re)build an index."""
        marks = ",".join("?" * len(batches))
        for bid, blob in self.db.execute(
            f"SELECT id, {name} FROM record_block WHERE batch_id IN ({marks}) ORDER BY id",
            batches,
        ):
            k = i64(blob)
            r = (np.int64(bid) << POS_BITS) | np.arange(len(k), dtype=np.int64)
            if name == "near_key":
                yield k[k >= 0], r[k >= 0]
            else:
                yield k, r


LEGACY_ROWS = 100_000


def migrate_legacy(db: sqlite3.Connection) -> None:
    """Move the rows of an older history's ``record`` table into blocks (records of batches
    that no longer exist are dropped), then drop that table and the older identity index.
    Runs inside the caller's transaction."""
    cols = {r[1] for r in db.execute("PRAGMA table_info(record)")}
    near = "near_key" in cols
    batches = [r[0] for r in db.execute("SELECT id FROM batch ORDER BY id")]
    select = (
        "SELECT identity, source, line, "
        + ("COALESCE(near_key, -1), text" if near else "-1, NULL")
        + " FROM record WHERE batch_id = ? ORDER BY rowid"
    )
    for batch_id in batches:
        cur = db.execute(select, (batch_id,))
        while rows := cur.fetchmany(LEGACY_ROWS):
            ident, source, line, key, text = zip(*rows, strict=True)
            names, codes = np.unique(np.array(source, dtype=object), return_inverse=True)
            keys = np.array(key, dtype=np.int64)
            write_block(
                db,
                batch_id,
                [str(x) for x in names],
                np.array(ident, dtype=np.int64),
                codes.astype(np.int64),
                np.array(line, dtype=np.int64),
                keys,
                pa.array(
                    [t if k >= 0 else "" for t, k in zip(text, key, strict=True)], pa.string()
                ),
            )
    db.execute("DROP TABLE record")
    db.execute("DROP TABLE IF EXISTS ident_run")
