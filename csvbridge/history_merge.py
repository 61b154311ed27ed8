"""Two stored index runs merged into a third a chunk at a time.

A run of the history's index is two BLOBs of int64 (keys sorted; refs ascending among equal
keys). Merging two runs of half a million entries whole held both runs and their merge at once,
about 40 MB on top of a run's peak; read and written ``CHUNK`` entries at a time through SQLite's
incremental BLOB I/O, the merge needs a few MB whatever the runs' size.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

from .spill import merge_runs

CHUNK = 1 << 16  # entries read from each run at a time (1 MB of keys and refs)

Pair = tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]
_EMPTY = np.zeros(0, dtype=np.int64)


def as_blob(a: npt.NDArray[np.int64]) -> memoryview:
    """The array's bytes for SQLite (which copies them) without a copy of our own."""
    return np.ascontiguousarray(a, dtype="<i8").data.cast("B")


def _column(
    db: sqlite3.Connection, rid: int, column: str, n: int
) -> Iterator[npt.NDArray[np.int64]]:
    """A stored run's keys or refs, CHUNK entries at a time."""
    if not n:
        return
    with db.blobopen("key_run", column, rid, readonly=True) as blob:
        for first in range(0, n, CHUNK):
            data = blob.read(8 * min(CHUNK, n - first))
            yield np.frombuffer(data, dtype="<i8").astype(np.int64, copy=False)


def stored_keys(db: sqlite3.Connection, rid: int, n: int) -> Iterator[npt.NDArray[np.int64]]:
    """A stored run's keys, in order, CHUNK at a time."""
    return _column(db, rid, "keys", n)


def _chunks(db: sqlite3.Connection, rid: int, n: int) -> Iterator[Pair]:
    return zip(_column(db, rid, "keys", n), _column(db, rid, "refs", n), strict=True)


def refs_ordered(db: sqlite3.Connection, a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Whether every ref of run ``a`` precedes every ref of run ``b`` (``(id, entries)``
    each): then a merge keeps refs ascending among equal keys by taking ``a``'s first."""
    if not a[1] or not b[1]:
        return True
    a_max = max(int(c.max()) for c in _column(db, a[0], "refs", a[1]))
    b_min = min(int(c.min()) for c in _column(db, b[0], "refs", b[1]))
    return a_max <= b_min


def merge_stored(db: sqlite3.Connection, a: tuple[int, int], b: tuple[int, int], out: int) -> None:
    """Write the merge of stored runs ``a`` and ``b`` (``(id, entries)``; among equal keys
    ``a``'s entries first) into run ``out``, whose BLOBs are already sized for both."""
    ia, ib = _chunks(db, *a), _chunks(db, *b)
    ak, ar = bk, br = _EMPTY, _EMPTY
    a_done = b_done = False
    with (
        db.blobopen("key_run", "keys", out) as out_keys,
        db.blobopen("key_run", "refs", out) as out_refs,
    ):
        while True:
            if not len(ak) and not a_done:
                ak, ar = next(ia, (_EMPTY, _EMPTY))
                a_done = not len(ak)
            if not len(bk) and not b_done:
                bk, br = next(ib, (_EMPTY, _EMPTY))
                b_done = not len(bk)
            if not len(ak) and not len(bk):
                return
            # Entries past a buffer are no smaller than its last key, so an entry of a is
            # placed once b's buffer reaches its key, and one of b once a's passes its key
            # (equal keys: a's first). Each step empties at least one buffer.
            ta = len(ak) if b_done else int(np.searchsorted(ak, bk[-1], side="right"))
            tb = len(bk) if a_done else int(np.searchsorted(bk, ak[-1], side="left"))
            keys, refs = merge_runs((ak[:ta], ar[:ta]), (bk[:tb], br[:tb]))
            out_keys.write(as_blob(keys))
            out_refs.write(as_blob(refs))
            ak, ar, bk, br = ak[ta:], ar[ta:], bk[tb:], br[tb:]
