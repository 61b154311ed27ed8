"""The document spool gives lines back grouped — documents in order of first appearance,
lines in source order, chunks never splitting a document — whether it streams an export
already written document by document or reads an interleaved one back whole."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from csvbridge.documents import DocumentSpool
from csvbridge.model import ROW_COL

SCHEMA = pa.schema([("doc", pa.string()), (ROW_COL, pa.int64()), ("entry", pa.int64())])


def _spool(
    rows: list[tuple[str | None, int, int]], cuts: list[int], force_sort: bool
) -> list[pa.Table]:
    spool = DocumentSpool("doc", SCHEMA)
    table = pa.table(
        {
            "doc": [r[0] for r in rows],
            ROW_COL: [r[1] for r in rows],
            "entry": [r[2] for r in rows],
        },
        schema=SCHEMA,
    )
    start = 0
    for cut in [*sorted(cuts), len(rows)]:
        spool.add(table.slice(start, max(cut - start, 0)))
        start = max(start, cut)
    if force_sort:
        spool.adjacent = False
    return list(spool.groups(3))


@st.composite
def batches(draw: st.DrawFn) -> tuple[list[tuple[str | None, int, int]], list[int]]:
    docs = draw(st.lists(st.sampled_from(["A", "B", "C", "D", "", None]), max_size=40))
    rows = []
    for row, d in enumerate(docs):
        for entry in range(draw(st.integers(1, 2))):  # a row may make two records (split)
            rows.append((d, row, entry))
    cuts = draw(st.lists(st.integers(0, len(rows)), max_size=5))
    return rows, cuts


@settings(max_examples=300, deadline=None)
@given(batches())
def test_streamed_and_sorted_groups_agree(
    made: tuple[list[tuple[str | None, int, int]], list[int]],
) -> None:
    rows, cuts = made
    streamed = _spool(rows, cuts, force_sort=False)
    reference = _spool(rows, cuts, force_sort=True)
    both = [pa.concat_tables(t) if t else None for t in (streamed, reference)]
    if both[1] is None:
        assert both[0] is None or both[0].num_rows == 0
        return
    assert both[0] is not None and both[0].equals(both[1])
    seen: set[str] = set()
    for chunk in streamed:  # no document in two chunks
        docs = {d or "" for d in chunk.column("doc").to_pylist()}
        assert not docs & seen
        seen |= docs


def test_an_export_written_document_by_document_is_streamed() -> None:
    rows = [("A", 0, 0), ("A", 1, 0), ("B", 2, 0), ("B", 2, 1), ("C", 3, 0)]
    spool = DocumentSpool("doc", SCHEMA)
    spool.add(
        pa.table({"doc": ["A", "A", "B"], ROW_COL: [0, 1, 2], "entry": [0, 0, 0]}, schema=SCHEMA)
    )
    spool.add(pa.table({"doc": ["B", "C"], ROW_COL: [2, 3], "entry": [1, 0]}, schema=SCHEMA))
    assert spool.adjacent
    got = pa.concat_tables(spool.groups(2))
    assert (
        list(
            zip(
                got.column("doc").to_pylist(),
                got.column(ROW_COL).to_pylist(),
                got.column("entry").to_pylist(),
                strict=True,
            )
        )
        == rows
    )


def test_a_document_coming_back_later_is_regrouped() -> None:
    spool = DocumentSpool("doc", SCHEMA)
    spool.add(pa.table({"doc": ["A", "B"], ROW_COL: [0, 1], "entry": [0, 0]}, schema=SCHEMA))
    spool.add(pa.table({"doc": ["A"], ROW_COL: [2], "entry": [0]}, schema=SCHEMA))
    assert not spool.adjacent
    got = pa.concat_tables(spool.groups(10))
    assert got.column("doc").to_pylist() == ["A", "A", "B"]


def _adjacent_reference(chunks: list[list[str | None]]) -> bool:
    """The set-of-hashes bookkeeping DocumentSpool used before its sorted array, as it was."""
    done: set[int] = set()
    open_: str | None = None
    for chunk in chunks:
        if not chunk:
            continue
        keys = [k or "" for k in chunk]
        runs = [k for i, k in enumerate(keys) if i == 0 or k != keys[i - 1]]
        goes_on = runs[0] == open_
        if open_ is not None and not goes_on:
            done.add(hash(open_))
        for i, key in enumerate(runs):
            h = hash(key)
            if h in done and not (i == 0 and goes_on):
                return False
            if i < len(runs) - 1:
                done.add(h)
        open_ = runs[-1]
    return True


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from(["A", "B", "C", "D", "E", "", None]), max_size=8)))
def test_adjacency_is_judged_as_the_set_version_did(chunks: list[list[str | None]]) -> None:
    spool = DocumentSpool("doc", SCHEMA)
    row = 0
    for chunk in chunks:
        rows = list(range(row, row + len(chunk)))
        row += len(chunk)
        spool.add(pa.table({"doc": chunk, ROW_COL: rows, "entry": [0] * len(chunk)}, schema=SCHEMA))
    assert spool.adjacent == _adjacent_reference(chunks)
    list(spool.groups(4))
