"""Control totals per account, month and currency; report.xlsx amounts read back exactly."""

from __future__ import annotations

import csv
import io
import random
from decimal import Decimal
from pathlib import Path

import openpyxl

from csvbridge import convert

MAPPING = """\
name: c
version: "1"
kind: transaction
dates: YYYY-MM-DD
fields:
  date: Date
  description: Text
  amount: Amount
  currency: Currency
{extra}"""


def _run(tmp_path: Path, files: dict[str, list[str]], head: str, extra: str = "") -> dict:  # type: ignore[type-arg]
    paths = []
    for name, rows in files.items():
        p = tmp_path / name
        p.write_text(head + "\r\n" + "".join(r + "\r\n" for r in rows), encoding="utf-8")
        paths.append(p)
    m = tmp_path / "m.yaml"
    m.write_text(MAPPING.format(extra=extra), encoding="utf-8")
    return convert(paths, m, ["csv"], tmp_path / "out", history=False).report


def test_control_totals_per_file_month_and_currency(tmp_path: Path) -> None:
    report = _run(
        tmp_path,
        {
            "a.csv": [
                "2025-01-31,Salary,2500.00,GBP",
                "2025-01-31,Rent,-900.00,GBP",
                "2025-02-01,Shop,-10.05,GBP",
                "2025-02-02,Hotel,-15000,JPY",
            ],
            "b.csv": ["2025-02-01,Shop,-10.05,GBP", "2025-02-03,Refund,0.10,GBP"],
        },
        "Date,Text,Amount,Currency",
        "duplicates: {policy: skip}\n",
    )
    rows = {(c["account"], c["period"], c["currency"]): c for c in report["control_totals"]}
    assert list(rows) == [
        ("a.csv", "2025-01", "GBP"),
        ("a.csv", "2025-02", "GBP"),
        ("a.csv", "2025-02", "JPY"),
        ("b.csv", "2025-02", "GBP"),
    ]
    jan = rows["a.csv", "2025-01", "GBP"]
    assert (jan["rows"], jan["money_in"], jan["money_out"], jan["net"]) == (
        2,
        "2500.00",
        "900.00",
        "1600.00",
    )
    assert rows["a.csv", "2025-02", "JPY"]["net"] == "-15000"
    b = rows["b.csv", "2025-02", "GBP"]  # its shop row repeats a.csv's: held back
    assert (b["rows"], b["net"], b["duplicates_held_back"]) == (
        2,
        "-9.95",
        {"rows": 1, "net": "-10.05"},
    )
    # the control totals add up to what was read, per currency
    for cur, total in report["ledger"]["stages"]["read"]["amounts"].items():
        assert sum(Decimal(c["net"]) for c in rows.values() if c["currency"] == cur) == Decimal(
            total
        )
    wb = openpyxl.load_workbook(tmp_path / "out" / "report.xlsx", read_only=True)
    sheet = [r for r in wb["Control totals"].iter_rows(values_only=True)]
    assert sheet[0][:4] == ("Account", "Month", "Currency", "Records")
    assert sheet[1][:7] == ("a.csv", "2025-01", "GBP", 2, 2500, 900, 1600)
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert 'id="control-totals"' in html and "2025-02" in html


def test_control_totals_use_the_account_field(tmp_path: Path) -> None:
    report = _run(
        tmp_path,
        {"a.csv": ["2025-01-02,x,1.00,GBP,Current", "2025-01-03,y,-2.00,GBP,Savings"]},
        "Date,Text,Amount,Currency,Acct",
        "  account: Acct\n",
    )
    assert [(c["account"], c["net"]) for c in report["control_totals"]] == [
        ("Current", "1.00"),
        ("Savings", "-2.00"),
    ]


def test_report_xlsx_amounts_read_back_exactly(tmp_path: Path) -> None:
    """Amounts up to 15 significant digits: XlsxWriter's 16-digit output would change about
    one in ten by one bit; every one must read back as the exact decimal."""
    rnd = random.Random(7)
    amounts = [f"{rnd.randrange(-(10**15), 10**15) / 100:.2f}" for _ in range(300)] + [
        "9102069057682.53",
        "0.10",
        "-0.01",
    ]
    rows = [f"2025-01-{1 + i % 28:02d},Item {i},{a},GBP" for i, a in enumerate(amounts)]
    # the second file repeats every row: all of them are listed on the Duplicates sheet
    report = _run(tmp_path, {"a.csv": rows, "b.csv": rows}, "Date,Text,Amount,Currency")
    assert report["duplicates"]["flagged"] == len(rows)
    wb = openpyxl.load_workbook(tmp_path / "out" / "report.xlsx", read_only=True)
    sheet = list(wb["Duplicates"].iter_rows(values_only=True))
    col = sheet[0].index("Amount")
    text = (tmp_path / "out" / "duplicates.csv").read_text(encoding="utf-8")
    want = [Decimal(r["amount"]) for r in csv.DictReader(io.StringIO(text))]
    got = [r[col] for r in sheet[1:]]
    assert all(isinstance(v, float) for v in got)
    assert [Decimal(repr(v)) for v in got] == want
    summary = list(wb["Summary"].iter_rows(values_only=True))
    gbp = next(r for r in summary if r[:2] == ("csv", "GBP"))
    read = report["ledger"]["stages"]["read"]["amounts"]["GBP"]
    assert Decimal(repr(gbp[2])) == Decimal(read)


def test_control_totals_never_wrap_around() -> None:
    import datetime as dt

    import numpy as np
    import pyarrow as pa

    from csvbridge.model import SOURCE_COL
    from csvbridge.reports.control import ControlTotals

    big = 2**62 + 1
    records = pa.table(
        {
            "date": pa.array([dt.date(2025, 1, 1)] * 3, pa.date32()),
            "amount": pa.array([big, big, -5], pa.int64()),
            "currency": pa.array(["JPY"] * 3),
            SOURCE_COL: pa.array([0, 0, 0], pa.int32()),
        }
    )
    ct = ControlTotals(["a.csv"])
    ct.add(records, np.array([False, True, False]))
    (row,) = ct.as_list()
    assert row["money_in"] == str(2 * big) and row["net"] == str(2 * big - 5)
    assert row["duplicates_held_back"] == {"rows": 1, "net": str(big)}
