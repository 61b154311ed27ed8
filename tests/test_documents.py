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


JOURNAL = """\
name: gl
kind: journal
dates: YYYY-MM-DD
fields:
  number: Entry
  date: Date
  account_code: Account
  amount: Amount
  currency: {value: GBP}
"""
LINES = (
    "Entry,Date,Account,Amount\r\n"
    "J1,2025-03-31,400,100.00\r\nJ2,2025-03-31,400,70.00\r\nJ1,2025-03-31,800,-100.00\r\n"
    "J2,2025-03-31,800,-60.00\r\n"
)


def test_unbalanced_entry_is_rejected_whole_and_the_tie_out_holds(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from csvbridge import convert

    (tmp_path / "gl.csv").write_text(LINES, encoding="utf-8")
    (tmp_path / "m.yaml").write_text(JOURNAL, encoding="utf-8")
    r = convert([tmp_path / "gl.csv"], tmp_path / "m.yaml", ["csv"], tmp_path / "o", history=False)
    assert r.rejected == 2 and r.report["rejects"]["by_rule"] == {"journal-unbalanced": 2}
    msg = r.report["rejects"]["first"][0]["errors"][0]["message"]
    assert "journal J2 does not balance in GBP: debits 70.00, credits 60.00" in msg
    assert r.report["ledger"]["written"]["csv"]["rows"] == 2 and r.tie_outs[0].ok


def test_balance_as_a_warning_keeps_the_entry(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from csvbridge import convert

    (tmp_path / "gl.csv").write_text(LINES, encoding="utf-8")
    (tmp_path / "m.yaml").write_text(JOURNAL + "documents: {balance: warning}\n")
    r = convert([tmp_path / "gl.csv"], tmp_path / "m.yaml", ["csv"], tmp_path / "o", history=False)
    assert r.rejected == 0 and r.report["ledger"]["written"]["csv"]["rows"] == 4
    assert list(r.report["document_warnings"]) == ["journal-unbalanced"]


def test_a_rejected_line_holds_back_the_rest_of_its_invoice(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from csvbridge import convert

    mapping = """\
name: inv
kind: invoice
dates: YYYY-MM-DD
fields:
  number: No
  contact: Customer
  date: Date
  description: Item
  line_amount: Amount
  currency: {value: GBP}
"""
    data = (
        "No,Customer,Date,Item,Amount\r\n"
        "INV-1,Acme,2025-03-01,Consulting,100.00\r\n"
        "INV-2,Bolt,2025-03-02,Workshop,50.00\r\n"
        "INV-1,Acme,2025-03-01,Travel,abc\r\n"
    )
    (tmp_path / "i.csv").write_text(data, encoding="utf-8")
    (tmp_path / "m.yaml").write_text(mapping, encoding="utf-8")
    r = convert([tmp_path / "i.csv"], tmp_path / "m.yaml", ["csv"], tmp_path / "o", history=False)
    assert r.report["rejects"]["by_rule"] == {"amount-invalid": 1, "document-incomplete": 1}
    assert r.report["ledger"]["written"]["csv"]["rows"] == 1  # only INV-2
    assert r.tie_outs[0].ok
