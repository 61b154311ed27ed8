"""Document lines reach writers grouped: whole documents, first-appearance order, lines in
source order, never split across chunks."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from csvbridge.documents import DocumentSpool
from csvbridge.model import ROW_COL, get_kind


def _records(numbers: list[str], start: int) -> pa.Table:
    kind = get_kind("journal")
    n = len(numbers)
    cols = {f.name: pa.nulls(n, f.type) for f in kind.arrow_schema()}
    cols["number"] = pa.array(numbers, pa.string())
    cols[ROW_COL] = pa.array(np.arange(start, start + n, dtype=np.int64))
    return pa.table(cols, schema=kind.arrow_schema())


@settings(max_examples=150, deadline=None)
@given(
    numbers=st.lists(st.sampled_from(["J1", "J2", "J3", "J4", "J5"]), max_size=80),
    add_chunk=st.integers(1, 9),
    out_chunk=st.integers(1, 12),
)
def test_groups_are_whole_ordered_and_complete(
    numbers: list[str], add_chunk: int, out_chunk: int
) -> None:
    spool = DocumentSpool("number", get_kind("journal").arrow_schema())
    for s in range(0, len(numbers), add_chunk):
        spool.add(_records(numbers[s : s + add_chunk], s))
    chunks = list(spool.groups(out_chunk))
    seen: list[str] = []
    rows: list[int] = []
    for c in chunks:
        docs = c.column("number").to_pylist()
        assert all(d not in seen for d in dict.fromkeys(docs)), "a document was split"
        seen += list(dict.fromkeys(docs))
        rows += c.column(ROW_COL).to_pylist()
    assert seen == list(dict.fromkeys(numbers))  # first-appearance order
    expected = [i for d in seen for i, x in enumerate(numbers) if x == d]
    assert rows == expected  # every line once, in source order within its document
