"""One row → several records (a charge and its fee), with the tie-out in records."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from csvbridge import convert

MAPPING = """\
name: stripe-balance
version: "1"
kind: transaction
dates: YYYY-MM-DD HH:mm:ss
fields:
  date: Created
  currency: Currency
  reference: id
split:
  - name: sale
    fields:
      description: {template: "{Description} {id}"}
      amount: {expr: "number(Amount)"}
  - name: fee
    when: number(Fee) != 0
    fields:
      description: {template: "Stripe fee {id}"}
      amount: {expr: "-number(Fee)"}
"""
DATA = (
    "id,Created,Amount,Fee,Currency,Description\r\n"
    "ch_1,2025-03-01 10:00:00,100.00,3.20,USD,Order 1001\r\n"
    "re_1,2025-03-02 11:00:00,-20.00,0.00,USD,Refund 1001\r\n"
    "ch_2,2025-03-03 12:00:00,50.00,1.75,USD,Order 1002\r\n"
    "ch_3,2025-03-04 12:00:00,abc,1.00,USD,Order 1003\r\n"
)


def _run(tmp_path: Path):  # type: ignore[no-untyped-def]
    (tmp_path / "in.csv").write_text(DATA, encoding="utf-8")
    (tmp_path / "m.yaml").write_text(MAPPING, encoding="utf-8")
    return convert(
        [tmp_path / "in.csv"],
        tmp_path / "m.yaml",
        ["csv", "xero-bank"],
        tmp_path / "out",
        options={"date_order": "mdy"},
        history=False,
    )


def test_each_charge_becomes_a_sale_and_its_fee(tmp_path: Path) -> None:
    _run(tmp_path)
    rows = list(csv.DictReader(io.StringIO((tmp_path / "out" / "transaction.csv").read_text())))
    got = [(x["reference"], x["amount"], x["description"]) for x in rows]
    assert got == [
        ("ch_1", "100.00", "Order 1001 ch_1"),
        ("ch_1", "-3.20", "Stripe fee ch_1"),
        ("re_1", "-20.00", "Refund 1001 re_1"),  # no fee on the refund: no fee record
        ("ch_2", "50.00", "Order 1002 ch_2"),
        ("ch_2", "-1.75", "Stripe fee ch_2"),
    ]
    assert [x["source_line"] for x in rows] == ["2", "2", "3", "4", "4"]


def test_a_bad_row_is_rejected_whole_and_the_tie_out_counts_records(tmp_path: Path) -> None:
    r = _run(tmp_path)
    assert r.rejected == 1  # ch_3: its sale cannot be read, so neither record is written
    assert r.report["rejects"]["first"][0]["line"] == 5
    for t in r.report["tie_out"]:
        assert t["balanced"]
    # 3 rows give 5 records; the rejected row would have given 2
    xero = next(t for t in r.report["tie_out"] if t["target"] == "xero-bank")
    assert xero["equation"][0] == "records: 7 = 5 written + 2 rejected + 0 filtered + 0 duplicate"
    assert r.report["ledger"]["written"]["xero-bank"]["amounts"] == {"USD": "125.05"}
