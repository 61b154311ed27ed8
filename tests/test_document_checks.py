"""check_documents skips its group_by when each document's lines are together: a field's
lines agree when none differs from the one above, and a document's sum is its run's. On
random invoices (documents together or not, null and empty numbers, null values, stated
totals right and wrong) it must reject and warn exactly as the group_by alone did."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csvbridge import documents
from csvbridge.documents import StatedTotals, check_documents
from csvbridge.model import ROW_COL, get_kind

DAY = dt.date(2024, 1, 1)


@st.composite
def invoices(draw: st.DrawFn) -> pa.Table:
    kind = get_kind("invoice")
    n = draw(st.integers(0, 25))
    numbers = draw(st.lists(st.sampled_from(["I1", "I2", "I3", "", None]), min_size=n, max_size=n))
    if draw(st.booleans()):  # as the spool gives them: each document's lines together
        numbers = sorted(numbers, key=lambda x: (x or "", x is None))
    contact = draw(st.lists(st.sampled_from(["Acme", "Bolt", None]), min_size=n, max_size=n))
    if draw(st.booleans()):  # mostly consistent: one contact per document
        contact = [{"I1": "Acme", "I2": "Bolt"}.get(x or "") for x in numbers]
    days = draw(st.lists(st.sampled_from([0, 1, None]), min_size=n, max_size=n))
    cols = {f.name: pa.nulls(n, f.type) for f in kind.arrow_schema()}
    cols["number"] = pa.array(numbers, pa.string())
    cols["contact"] = pa.array(contact, pa.string())
    dates = [None if d is None else DAY + dt.timedelta(days=d) for d in days]
    cols["date"] = pa.array(dates, cols["date"].type)
    cols["line_amount"] = pa.array(np.arange(n, dtype=np.int64))
    cols[ROW_COL] = pa.array(np.arange(n, dtype=np.int64))
    return pa.table(cols, schema=kind.arrow_schema())


def _outcome(table: pa.Table, severity: str, stated: list[int]) -> tuple[object, ...]:
    totals = StatedTotals("Total", severity, Decimal(0))
    docs = ["I1", "I2", "I3", ""]
    totals.add(pa.array(docs), stated, [2] * 4, "f.csv", [2, 3, 4, 5])
    passed, rejected, warned = check_documents(
        table, "invoice", "number", balance="off", consistent=severity, totals=totals
    )
    return (
        passed.column(ROW_COL).to_pylist(),
        [(p.field, p.rule, p.message, p.lines.column(ROW_COL).to_pylist()) for p in rejected],
        [(p.field, p.rule, p.message, p.lines.column(ROW_COL).to_pylist()) for p in warned],
    )


@settings(max_examples=300, deadline=None)
@given(
    invoices(),
    st.sampled_from(["error", "warning"]),
    st.lists(st.integers(0, 60), min_size=4, max_size=4),
)
def test_document_verdicts_match_the_group_by_alone(
    table: pa.Table, severity: str, stated: list[int]
) -> None:
    got = _outcome(table, severity, stated)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(documents, "_same_as_above", lambda keys: None)
        want = _outcome(table, severity, stated)
    assert got == want
