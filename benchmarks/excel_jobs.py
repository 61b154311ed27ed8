"""Excel jobs for ``benchmarks/excel.py``, one per subprocess, so start-up and imports count.

Usage (normally invoked by excel.py)::

    python benchmarks/excel_jobs.py NAME INPUT OUTPUT

Read jobs take the statement as .xlsx and visit every cell of every row:

- ``read-calamine``: python-calamine's own rows (Python values), the floor for calamine;
- ``read-openpyxl``: openpyxl in read-only mode, values only;
- ``read-pandas``: ``pandas.read_excel(engine="calamine", dtype=str)``;
- ``read-csvbridge``: csvbridge's reader alone: the sheet found, cells as the text a person
  sees, header and footer detection, RawChunks of 25,000 rows.

Write jobs write the statement as .xlsx (100k rows x 7 columns). They read the CSV with the
csv module first, as they all do:

- ``write-xlsxwriter``: XlsxWriter in constant_memory mode (the ``xlsx`` target has its own
  writer, csvbridge/writers/xlsx_stream.py, since issue 8; report.xlsx since session 5,
  csvbridge/reports/xlsx_book.py and xlsx_listing.py);
- ``write-openpyxl``: openpyxl in write-only mode;
- ``write-csvbridge-xlsx``: the ``xlsx`` target's writer alone: the statement as transaction
  records (money in minor units, dates as date32, as the pipeline hands them over) written in
  chunks of 25,000 — like ``write-xlsxwriter``, the rows are typed before writing;
- ``write-csvbridge-report``: csvbridge's report.xlsx for a run whose rows were all rejected.
  It lists every rejected row (INPUT is that run's output folder, with report.json and
  rejects.csv): 100k rows x 15 columns.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def read_calamine(inp: str, out: str) -> None:
    import python_calamine

    book = python_calamine.CalamineWorkbook.from_path(inp)
    sheet = book.get_sheet_by_index(0)
    rows = cells = 0
    for row in sheet.iter_rows():
        rows += 1
        cells += len(row)
    Path(out).write_text(f"{rows} {cells}\n")


def read_openpyxl(inp: str, out: str) -> None:
    import openpyxl

    book = openpyxl.load_workbook(inp, read_only=True, data_only=True)
    rows = cells = 0
    for row in book.worksheets[0].iter_rows(values_only=True):
        rows += 1
        cells += len(row)
    book.close()
    Path(out).write_text(f"{rows} {cells}\n")


def read_pandas(inp: str, out: str) -> None:
    import pandas as pd

    df = pd.read_excel(inp, engine="calamine", dtype=str, keep_default_na=False)
    Path(out).write_text(f"{len(df) + 1} {df.size}\n")


def read_csvbridge(inp: str, out: str) -> None:
    from contextlib import ExitStack

    from csvbridge.readers import ReadOptions, open_source

    rows = 0
    with ExitStack() as stack:
        finder = open_source(Path(inp), 0, ReadOptions(), stack)
        for chunk in finder.chunks(25_000):
            rows += chunk.num_rows
    Path(out).write_text(f"{rows + 1}\n")


def _statement(inp: str) -> tuple[list[str], list[list[Any]]]:
    """The CSV statement as typed cells: a date, text, and amounts as numbers."""
    with open(inp, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows: list[list[Any]] = []
        for d, desc, ref, debit, credit, balance, cat in reader:
            rows.append(
                [
                    dt.datetime.strptime(d, "%d/%m/%Y"),
                    desc,
                    ref,
                    float(debit.replace(",", "")) if debit else None,
                    float(credit.replace(",", "")) if credit else None,
                    float(balance.replace(",", "")),
                    cat,
                ]
            )
    return header, rows


def write_xlsxwriter(inp: str, out: str) -> None:
    import xlsxwriter

    header, rows = _statement(inp)
    book = xlsxwriter.Workbook(out, {"constant_memory": True})
    sheet = book.add_worksheet("Statement")
    date = book.add_format({"num_format": "dd/mm/yyyy"})
    money = book.add_format({"num_format": "#,##0.00"})
    sheet.write_row(0, 0, header)
    for i, r in enumerate(rows, start=1):
        sheet.write_datetime(i, 0, r[0], date)
        sheet.write_string(i, 1, r[1])
        if r[2]:
            sheet.write_string(i, 2, r[2])
        for c in (3, 4, 5):
            if r[c] is not None:
                sheet.write_number(i, c, r[c], money)
        sheet.write_string(i, 6, r[6])
    book.close()


def write_openpyxl(inp: str, out: str) -> None:
    import openpyxl
    from openpyxl.cell import WriteOnlyCell

    header, rows = _statement(inp)
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Statement")
    sheet.append(header)
    for r in rows:
        cells = []
        for c, v in enumerate(r):
            cell = WriteOnlyCell(sheet, value=v)
            if c == 0:
                cell.number_format = "dd/mm/yyyy"
            elif c in (3, 4, 5) and v is not None:
                cell.number_format = "#,##0.00"
            cells.append(cell)
        sheet.append(cells)
    book.save(out)


def _minor(text: str) -> int | None:
    if not text:
        return None
    whole, _, frac = text.replace(",", "").partition(".")
    sign = -1 if whole.startswith("-") else 1
    return sign * (abs(int(whole or "0")) * 100 + int((frac + "00")[:2]))


def write_csvbridge_xlsx(inp: str, out: str) -> None:
    import pyarrow as pa

    from csvbridge.model import get_kind
    from csvbridge.writers import TARGETS, WriteContext

    kind = get_kind("transaction")
    cols: dict[str, list[Any]] = {f.name: [] for f in kind.fields}
    cols.update(_source=[], _line=[], _row=[])
    with open(inp, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        next(reader)
        for i, (d, desc, ref, debit, credit, balance, cat) in enumerate(reader):
            out_, in_ = _minor(debit), _minor(credit)
            row = {f.name: None for f in kind.fields}
            row.update(
                date=dt.datetime.strptime(d, "%d/%m/%Y").date(),
                amount=(in_ or 0) - (out_ or 0),
                currency="GBP",
                description=desc,
                reference=ref or None,
                category=cat,
                balance=_minor(balance),
                _source=0,
                _line=i + 2,
                _row=i,
            )
            for k, v in row.items():
                cols[k].append(v)
    table = pa.Table.from_pydict(cols, schema=kind.arrow_schema())
    target = TARGETS["xlsx"]
    outdir = Path(out).parent
    ctx = WriteContext(outdir, kind, target.resolve_options({}), [Path(inp).name], "xlsx", None)
    writer = target.factory(ctx)
    for start in range(0, table.num_rows, 25_000):  # the pipeline's chunks
        writer.write(table.slice(start, 25_000))
    writer.close()


def write_csvbridge_report(inp: str, out: str) -> None:
    from csvbridge.reports.render_xlsx import render_xlsx

    outdir = Path(inp)
    report = json.loads((outdir / "report.json").read_text(encoding="utf-8"))
    Path(out).write_bytes(render_xlsx(report, outdir))


JOBS: dict[str, Callable[[str, str], None]] = {
    "read-calamine": read_calamine,
    "read-openpyxl": read_openpyxl,
    "read-pandas": read_pandas,
    "read-csvbridge": read_csvbridge,
    "write-xlsxwriter": write_xlsxwriter,
    "write-openpyxl": write_openpyxl,
    "write-csvbridge-xlsx": write_csvbridge_xlsx,
    "write-csvbridge-report": write_csvbridge_report,
}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 3 or args[0] not in JOBS:
        print(f"usage: excel_jobs.py {{{','.join(JOBS)}}} INPUT OUTPUT", file=sys.stderr)
        return 2
    JOBS[args[0]](args[1], args[2])
    return 0


if __name__ == "__main__":
    sys.exit(main())
