"""Stored index runs merged a chunk at a time give the runs' entries in key order, refs
ascending among equal keys, whatever the chunk size; runs whose refs interleave (a batch
indexed again after later ones) are sorted instead."""

from __future__ import annotations

import sqlite3
from unittest import mock

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from csvbridge import history_merge
from csvbridge.history_blocks import Blocks
from csvbridge.history_runs import SCHEMA, KeyRuns
from csvbridge.history_summary import SCHEMA as SUMMARY_SCHEMA


def _db() -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.executescript(SCHEMA + SUMMARY_SCHEMA)
    return db


def _run(keys: list[int], first_ref: int) -> tuple[np.ndarray, np.ndarray]:
    """A run as recorded: keys sorted, refs ascending among equal keys."""
    k = np.array(keys, dtype=np.int64)
    r = np.arange(first_ref, first_ref + len(k), dtype=np.int64)
    order = np.lexsort((r, k))
    return k[order], r[order]


def _stored(runs: KeyRuns, batch: int, pair: tuple[np.ndarray, np.ndarray]) -> object:
    return runs._write([batch], *pair)


def _read(db: sqlite3.Connection, rid: int) -> tuple[list[int], list[int]]:
    keys, refs = db.execute("SELECT keys, refs FROM key_run WHERE id = ?", (rid,)).fetchone()
    return np.frombuffer(keys, "<i8").tolist(), np.frombuffer(refs, "<i8").tolist()


small_keys = st.lists(st.integers(-3, 12), max_size=40)


@settings(max_examples=200, deadline=None)
@given(a=small_keys, b=small_keys, chunk=st.integers(1, 7))
def test_a_chunked_merge_equals_a_sort_of_both_runs(a: list[int], b: list[int], chunk: int) -> None:
    a, b = sorted([a, b], key=len)  # _compact merges a newer run no smaller than the older
    db = _db()
    runs = KeyRuns(db, Blocks(db), "identity")
    ra, rb = _run(a, 0), _run(b, 1000)  # b's refs all after a's, as runs are recorded
    stored = [_stored(runs, 1, ra), _stored(runs, 2, rb)]
    with mock.patch.object(history_merge, "CHUNK", chunk):
        runs._compact(stored)  # type: ignore[arg-type]
    (merged,) = stored
    keys, refs = _read(db, merged.id)  # type: ignore[attr-defined]
    want = sorted(zip(a, range(len(a)), strict=True)) + sorted(
        zip(b, range(1000, 1000 + len(b)), strict=True)
    )
    want.sort()
    assert list(zip(keys, refs, strict=True)) == want
    assert db.execute("SELECT count(*) FROM key_run").fetchone() == (1,)


def test_runs_whose_refs_interleave_are_sorted_not_merged() -> None:
    db = _db()
    runs = KeyRuns(db, Blocks(db), "identity")
    # the second run holds older refs (indexed again after the first): a linear merge
    # would put its equal keys' refs out of order
    stored = [_stored(runs, 2, _run([1, 5, 5], 100)), _stored(runs, 1, _run([5, 5, 9], 0))]
    assert not history_merge.refs_ordered(db, (stored[0].id, 3), (stored[1].id, 3))  # type: ignore[attr-defined]
    runs._compact(stored)  # type: ignore[arg-type]
    keys, refs = _read(db, stored[0].id)  # type: ignore[attr-defined]
    assert keys == [1, 5, 5, 5, 5, 9]
    assert refs == [100, 0, 1, 101, 102, 2]


def test_empty_runs_merge_to_the_other() -> None:
    db = _db()
    runs = KeyRuns(db, Blocks(db), "identity")
    stored = [_stored(runs, 1, _run([], 0)), _stored(runs, 2, _run([4, 2], 10))]
    runs._compact(stored)  # type: ignore[arg-type]
    assert _read(db, stored[0].id) == ([2, 4], [11, 10])  # type: ignore[attr-defined]
