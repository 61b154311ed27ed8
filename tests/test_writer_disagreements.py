"""AccountingWriter._disagreements finds documents whose lines disagree on a header field by
comparing each line with the one above (a writer gets documents whole and together): on
random documents it must name the same documents, rows and values as the distinct-value
count it replaced (kept below as the reference)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from csvbridge.writers import format as fmt
from csvbridge.writers.accounting import AccountingWriter
from csvbridge.writers.checks import document_ids

WRITER = SimpleNamespace(kind=SimpleNamespace(document_key="number"), noun="invoice")


def _reference(records: pa.Table, docs: np.ndarray, name: str) -> list[tuple[list[bool], str]]:
    vals = pc.fill_null(pc.cast(fmt.column(records, name), pa.string()), "")
    codes = np.asarray(pc.dictionary_encode(vals).indices, dtype=np.int64)
    width = int(codes.max()) + 1 if len(codes) else 1
    pairs = np.unique(docs * width + codes)
    counts = np.bincount(pairs // width, minlength=int(docs.max()) + 1 if len(docs) else 0)
    numbers = fmt.column(records, "number").to_pylist()
    out = []
    for d in np.flatnonzero(counts > 1):
        m = docs == d
        seen = sorted(set(vals.filter(pa.array(m)).to_pylist()))
        out.append(
            (
                m.tolist(),
                f"the lines of invoice {numbers[int(np.argmax(m))]} disagree on {name} "
                f"({', '.join(repr(s) for s in seen[:3])}); every line of one invoice must "
                "have the same contact. Give each invoice its own number",
            )
        )
    return out


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["A", "B", "C", "", None]), st.sampled_from(["x", "y", "", None])
        ),
        max_size=25,
    )
)
def test_disagreements_match_the_distinct_count(rows: list[tuple[str | None, str | None]]) -> None:
    records = pa.table(
        {
            "number": pa.array([r[0] for r in rows], pa.string()),
            "contact": pa.array([r[1] for r in rows], pa.string()),
        }
    )
    docs = document_ids(records, "number")
    got = AccountingWriter._disagreements(WRITER, records, docs, "contact")  # type: ignore[arg-type]
    assert all(p.field == "contact" and p.rule == "document-inconsistent" for p in got)
    assert [(p.mask.tolist(), p.message) for p in got] == _reference(records, docs, "contact")
