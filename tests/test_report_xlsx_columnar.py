"""report.xlsx written column-wise (reports/xlsx_book.py, xlsx_listing.py) against the renderer
it replaced (tests/report_xlsx_reference.py, XlsxWriter cell by cell): opened with openpyxl,
every cell of every sheet has the same value, data type, number format, bold and fill; the
sheets have the same names and order, frozen header, autofilter, print titles and column
widths. Runs: the golden cases, a real run with hostile cells, hand-made rejects.csv and
duplicates.csv with odd text and amounts, ragged rows, blank lines, files in parts, tiny read
batches, the sample fallback and the row-limit note."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from csvbridge.reports import render_xlsx as rx
from csvbridge.reports import xlsx_listing

from . import report_xlsx_reference as ref
from .conftest import ROOT
from .test_reports_render import _hostile_run

GOLDEN = ROOT / "tests" / "golden"
CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "expected" / "report.json").is_file())
ODD_TEXT = [
    "=1+1",
    "+SUM(A1:A2)",
    "@cmd",
    '=HYPERLINK("http://x","y")',
    "tab\there",
    "bell\x07 and \x1f unit",
    "_x0041_ looks escaped",
    "\ufffe and \uffff",
    "  leading and trailing  ",
    "line\nfeed",
    "cr\r\nlf",
    "\u00a0nbsp\u00a0",
    "Zürich – Ελληνικά – 日本語 – emoji 😀",
    "<b>bold</b> & <i>co</i>",
    "",
    "x" * 40_000,
    "😀" * 20_000,  # 20,000 characters, 40,000 UTF-16 units
    "é" * 32_767,
    "0012",
    "1e5",
    "-0",
]
ODD_LINES = ["4", " 12 ", "007", "", "x", "1234567890123456", "٣", "²", "-5", "3.0", "12a"]
ODD_AMOUNTS = [
    "-900.00",
    "1.123456789012345678",
    "98765432109876.54",
    "0.000000000000000000000000001",
    "1" + "0" * 400,
    "-0.00",
    "007.50",
    " 12.5 ",
    "1e3",
    "+5",
    "1_000",
    "NaN",
    "Infinity",
    "٣.٥",
    "abc",
    "",
    "-",
    ".5",
    "5.",
    "123456789012345",
    "1234567890123456",
    "12345678901234.5",
]


def _outdir(tmp_path: Path, case: str) -> tuple[dict[str, Any], Path]:
    out = tmp_path / case
    shutil.copytree(GOLDEN / case / "expected", out)
    return json.loads((out / "report.json").read_text(encoding="utf-8")), out


def _style(cell: Any) -> tuple[Any, ...]:
    fill = cell.fill
    return (
        cell.number_format,
        bool(cell.font.b),
        cell.font.color.rgb if cell.font.color is not None else None,
        cell.font.sz,
        cell.font.name,
        fill.fill_type,
        fill.fgColor.rgb if fill.fill_type else None,
        cell.border.bottom.style,
    )


def _sheet(ws: Any) -> dict[str, Any]:
    cells = {}
    for row in ws.iter_rows():
        for c in row:
            if c.value is not None or c.has_style:
                cells[c.coordinate] = (c.value, c.data_type, *_style(c))
    widths = {k: d.width for k, d in ws.column_dimensions.items() if d.customWidth}
    return {
        "cells": cells,
        "freeze": ws.freeze_panes,
        "filter": ws.auto_filter.ref,
        "titles": ws.print_title_rows,
        "landscape": ws.page_setup.orientation,
        "widths": widths,
    }


def _book(data: bytes) -> dict[str, dict[str, Any]]:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    return {ws.title: _sheet(ws) for ws in wb.worksheets}


def _same(report: dict[str, Any], out: Path) -> dict[str, dict[str, Any]]:
    """Render with both; assert they are the same for a person; the new one's sheets."""
    new = rx.render_xlsx(json.loads(json.dumps(report)), out)
    old = ref.render_xlsx(json.loads(json.dumps(report)), out)
    got, want = _book(new), _book(old)
    assert list(got) == list(want)
    for name in want:
        g, w = got[name], want[name]
        for key in ("freeze", "filter", "titles", "landscape", "widths"):
            assert g[key] == w[key], (name, key)
        diff = {
            k: (g["cells"].get(k), w["cells"].get(k))
            for k in set(g["cells"]) | set(w["cells"])
            if g["cells"].get(k) != w["cells"].get(k)
        }
        assert not diff, (name, sorted(diff.items())[:5])
    assert rx.render_xlsx(report, out) == new, "not byte-deterministic"
    return got


def _limit(monkeypatch: Any, max_rows: int, width_rows: int | None = None) -> None:
    for mod in (rx, ref):
        monkeypatch.setattr(mod, "MAX_ROWS", max_rows)
        if width_rows is not None:
            monkeypatch.setattr(mod, "WIDTH_ROWS", width_rows)


def _rewrite(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)


def _read(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


@pytest.mark.parametrize("case", CASES)
def test_golden_cases_read_the_same(case: str, tmp_path: Path) -> None:
    report, out = _outdir(tmp_path, case)
    _same(report, out)


def test_hostile_run_reads_the_same(tmp_path: Path) -> None:
    out = _hostile_run(tmp_path)
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    _same(report, out)


def _odd_rejects(out: Path) -> None:
    rows = _read(out / "rejects.csv")
    head, first = rows[0], rows[1]
    body = []
    for i, text in enumerate(ODD_TEXT):
        row = list(first)
        row[1] = ODD_LINES[i % len(ODD_LINES)]
        for j in range(5, len(row)):
            row[j] = ODD_TEXT[(i + j) % len(ODD_TEXT)] if j % 3 else text
        body.append(row)
    _rewrite(out / "rejects.csv", [head, *body])


def _odd_duplicates(out: Path) -> None:
    rows = _read(out / "duplicates.csv")
    head = rows[0]
    amount, line, rline = head.index("amount"), head.index("line"), head.index("repeats_line")
    body = []
    for i, a in enumerate(ODD_AMOUNTS * 2):
        row = list(rows[1 + i % (len(rows) - 1)])
        row[amount] = a
        row[line] = ODD_LINES[i % len(ODD_LINES)]
        row[rline] = ODD_LINES[(i + 3) % len(ODD_LINES)]
        row[head.index("description")] = ODD_TEXT[i % len(ODD_TEXT)]
        body.append(row)
    _rewrite(out / "duplicates.csv", [head, *body])


def test_odd_cells_read_the_same(tmp_path: Path) -> None:
    report, out = _outdir(tmp_path, "bad_rows")
    _odd_rejects(out)
    got = _same(report, out)["Rejected"]["cells"]
    assert got["F3"][0] == "=1+1" or any(v[0] == "=1+1" for v in got.values())
    report, out = _outdir(tmp_path, "batch_overlap")
    _odd_duplicates(out)
    got = _same(report, out)["Duplicates"]["cells"]
    numbers = [v for v in got.values() if v[1] == "n"]
    assert any(v[2] == "#,##0.00" for v in numbers) and any(v[2] == "#,##0" for v in numbers)


@pytest.mark.parametrize(("block", "py_rows"), [(128, 2), (700, 1), (1 << 22, 20_000)])
def test_small_batches_and_csv_module_fallback(
    tmp_path: Path, monkeypatch: Any, block: int, py_rows: int
) -> None:
    """Tiny pyarrow blocks (rows straddling blocks fall back to the csv module), ragged rows
    and blank lines (read by the csv module from where pyarrow stopped)."""
    monkeypatch.setattr(xlsx_listing, "BLOCK", block)
    monkeypatch.setattr(xlsx_listing, "PY_ROWS", py_rows)
    report, out = _outdir(tmp_path, "batch_overlap")
    _odd_duplicates(out)
    _same(report, out)
    rows = _read(out / "duplicates.csv")
    rows[5] = rows[5][:4]  # short
    rows[7] = [*rows[7], "extra", "cells"]  # long
    _rewrite(out / "duplicates.csv", rows)
    text = (out / "duplicates.csv").read_text(encoding="utf-8")
    lines = text.split("\r\n")
    (out / "duplicates.csv").write_text("\r\n".join([*lines[:3], "", *lines[3:]]), "utf-8")
    _same(report, out)


@pytest.mark.parametrize("max_rows", [2, 3, 5, 12, 13, 14, 60])
def test_row_limit_note_reads_the_same(tmp_path: Path, monkeypatch: Any, max_rows: int) -> None:
    _limit(monkeypatch, max_rows, width_rows=4)
    monkeypatch.setattr(xlsx_listing, "BLOCK", 300)
    report, out = _outdir(tmp_path, "bad_rows")
    _same(report, out)
    report, out = _outdir(tmp_path, "batch_overlap")
    _odd_duplicates(out)
    sheets = _same(report, out)
    cells = sheets["Duplicates"]["cells"]
    rows = max(int("".join(ch for ch in k if ch.isdigit())) for k in cells)
    if len(ODD_AMOUNTS) * 2 + 1 > max_rows:  # the note, in red, on Excel's last row
        note = cells[f"A{max_rows}"]
        assert str(note[0]).endswith(f"(Excel holds at most {max_rows:,} rows a sheet)")
        assert note[3] is True and note[4] == "FFA4161A" and rows == max_rows


def test_a_line_break_in_a_column_name_reads_the_same(tmp_path: Path) -> None:
    report, out = _outdir(tmp_path, "bad_rows")
    rows = _read(out / "rejects.csv")
    rows[0][10] = "Paid\nout"
    _rewrite(out / "rejects.csv", rows)
    got = _same(report, out)["Rejected"]["cells"]
    assert got["K1"][0] == "Paid\nout" and got["B2"][0] == 4


def test_files_in_parts_read_the_same(tmp_path: Path, monkeypatch: Any) -> None:
    report, out = _outdir(tmp_path, "batch_overlap")
    _odd_duplicates(out)
    rows = _read(out / "duplicates.csv")
    _rewrite(out / "dup-001.csv", rows[:20])
    _rewrite(out / "dup-002.csv", [rows[0]])  # a part with no rows
    _rewrite(out / "dup-003.csv", [rows[0], *rows[20:]])
    report["duplicates"]["files"] = [
        {"name": n} for n in ("dup-001.csv", "dup-002.csv", "missing.csv", "dup-003.csv")
    ]
    _same(report, out)
    _limit(monkeypatch, 25)
    _same(report, out)


def test_samples_and_missing_sections_read_the_same(tmp_path: Path) -> None:
    _same({}, tmp_path)
    report, out = _outdir(tmp_path, "bad_rows")
    (out / "rejects.csv").unlink()
    (out / "duplicates.csv").unlink()
    _same(report, out)
    report, out = _outdir(tmp_path, "batch_overlap")
    (out / "duplicates.csv").write_text(_read_head(out / "duplicates.csv"), "utf-8")
    _same(report, out)  # a header and no rows: the fixed columns only, as before


def _read_head(path: Path) -> str:
    return path.read_text(encoding="utf-8").split("\r\n")[0] + "\r\n"


def test_rich_text_lookalike_stays_text(tmp_path: Path) -> None:
    """XlsxWriter wrote a text that starts with <r> and ends with </r> as raw XML (a broken
    or altered cell); every text is now escaped, so it reads back as written."""
    report, out = _outdir(tmp_path, "bad_rows")
    rows = _read(out / "rejects.csv")
    rows[1][5] = "<r><t>x</t></r>"
    rows[2][5] = "<r>a<b</r>"
    _rewrite(out / "rejects.csv", rows)
    wb = openpyxl.load_workbook(io.BytesIO(rx.render_xlsx(report, out)))
    assert wb["Rejected"]["F2"].value == "<r><t>x</t></r>"
    assert wb["Rejected"]["F3"].value == "<r>a<b</r>"
