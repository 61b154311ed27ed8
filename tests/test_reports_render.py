"""report.html and report.xlsx: rendered from the golden cases' report.json, rejects.csv and
duplicates.csv (copied into a temporary output folder), read back and checked; escaping and
formula safety on a real run with hostile cells; byte determinism; and a screenshot of the page
in headless Chromium, kept as a test artefact."""

from __future__ import annotations

import copy
import csv
import html
import io
import json
import os
import re
import shutil
import subprocess
import time
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from csvbridge import convert
from csvbridge.reports import render_xlsx as rx
from csvbridge.reports.render_html import HTML_ROWS, render_html
from csvbridge.reports.render_xlsx import render_xlsx

from .conftest import ROOT, write_case

GOLDEN = ROOT / "tests" / "golden"
CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "expected" / "report.json").is_file())
SHEETS = ["Summary", "Rejected", "Duplicates", "Reconciliation"]
CONTROL = "Control totals"  # a sheet when the kind has an amount


def _outdir(tmp_path: Path, case: str) -> tuple[dict[str, Any], Path]:
    out = tmp_path / case
    shutil.copytree(GOLDEN / case / "expected", out)
    return json.loads((out / "report.json").read_text(encoding="utf-8")), out


def _workbook(data: bytes) -> Any:
    return openpyxl.load_workbook(io.BytesIO(data))


def _rows(ws: Any) -> list[tuple[Any, ...]]:
    return [r for r in ws.iter_rows(values_only=True) if any(v is not None for v in r)]


def _find(ws: Any, value: Any) -> Any:
    for row in ws.iter_rows():
        for cell in row:
            if cell.value == value:
                return cell
    raise AssertionError(f"{value!r} not in sheet {ws.title}")


# --- HTML ------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
def test_html_golden_case(case: str, tmp_path: Path) -> None:
    report, out = _outdir(tmp_path, case)
    page = render_html(report, out).decode("utf-8")
    assert page.startswith("<!DOCTYPE html>")
    for t in report["tie_out"]:
        assert t["target"] in page
        for line in t["equation"]:
            assert html.escape(line) in page
    for i in report["inputs"]:
        assert i["sha256"] in page and html.escape(i["name"]) in page
    assert report["mapping"]["sha256"] in page
    for t in report["targets"]:
        for f in t["files"]:
            assert f["sha256"] in page
    # self-contained: no scripts, no external resources of any kind
    assert "<script" not in page.lower()
    assert not re.search(r"""(src|href)\s*=\s*(?!["']?#)""", page), "only in-page links"
    assert "http://" not in page and "https://" not in page and "@import" not in page
    assert "Balanced: every input row is accounted for" in page
    assert render_html(report, out) == page.encode("utf-8"), "not byte-deterministic"


def test_html_bad_rows_content(tmp_path: Path) -> None:
    report, out = _outdir(tmp_path, "bad_rows")
    page = render_html(report, out).decode("utf-8")
    # a reject: its line, value, rule and the message without the repeated field prefix
    row = re.search(r"<tr><td>statement\.csv</td><td class=\"num\">4</td>.*?</tr>", page, re.S)
    assert row is not None
    assert "31/04/2025" in row.group(0) and "date-invalid" in row.group(0)
    assert "not a real calendar date (read as DD/MM/YYYY); check the day and month" in row[0]
    assert (
        page.count('<td class="nowrap"><code>') == 11
    )  # one table row per reject (the JPY one by qbo-bank)
    assert "Rejected rows (11)" in page and "more rejected row" not in page
    assert "balance lines" in page  # filtered rows, by rule
    assert "11 rows rejected" in page
    assert "qbo-bank, csv" in page  # both targets tie out alike: one table
    assert "-42.50" in page and "1,500" in page  # money per currency, JPY without decimals


def test_html_duplicates_and_detection(tmp_path: Path) -> None:
    report, out = _outdir(tmp_path, "batch_overlap")
    page = render_html(report, out).decode("utf-8")
    assert "Duplicates (3)" in page
    assert "feb.csv line 3" in page and "held back" in page and "Client payment" in page
    assert "2,500.00" in page  # the money column of a duplicate, grouped
    report, out = _outdir(tmp_path, "uk_bank_all_targets")
    page = render_html(report, out).decode("utf-8")
    assert "Sort code;20-45-67" in page and "Closing balance;£1.593,26" in page
    assert "semicolon ( ; )" in page
    assert "encoding was detected with only 60% confidence" in page


def _hostile_run(tmp_path: Path) -> Path:
    """A real conversion whose rejected rows carry markup and formula text."""
    data = (
        "Date,Description,Amount,Ref\n"
        "01/04/2025,Fine,-1.00,0001\n"
        '02/04/2025,<script>alert(1)</script>,"=HYPERLINK(""http://x"",""y"")",0012\n'
        "03/04/2025,<b>bold</b> & co,abc,0099\n"
    )
    mapping = (
        'name: hostile\nversion: "1"\nkind: transaction\ndates: DD/MM/YYYY\n'
        "fields:\n  date: Date\n  description: Description\n  amount: Amount\n"
        "  reference: Ref\n  currency: {value: GBP}\n"
    )
    src, m = write_case(tmp_path, data, mapping)
    out = tmp_path / "out"
    result = convert([src], m, ["csv"], out)
    assert result.rejected == 2
    return out


def test_html_escapes_cells(tmp_path: Path) -> None:
    out = _hostile_run(tmp_path)
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    page = render_html(report, out).decode("utf-8")
    assert "<script>alert" not in page and "<b>bold" not in page
    assert "HYPERLINK(&#34;http://x&#34;" in page or "HYPERLINK(&quot;http://x&quot;" in page
    # and in text that comes from report.json itself
    report["inputs"][0]["preamble"] = [{"line": 1, "text": "<script>alert(2)</script>"}]
    report["mapping"]["name"] = "<img src=x onerror=alert(3)>"
    page = render_html(report, out).decode("utf-8")
    assert "<script>alert(2)" not in page and "&lt;script&gt;alert(2)" in page
    assert "<img" not in page


def test_html_first_500_and_how_many_more(tmp_path: Path) -> None:
    report, out = _outdir(tmp_path, "bad_rows")
    with (out / "rejects.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    body = [[rows[1][0], str(n), *rows[1][2:]] for n in range(1, 621)]
    with (out / "rejects.csv").open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([rows[0], *body])
    report["rejects"]["rows"] = 620
    page = render_html(report, out).decode("utf-8")
    assert page.count('<td class="nowrap"><code>') == HTML_ROWS
    assert "120 more rejected rows</strong> are in rejects.csv" in page
    assert f"first {HTML_ROWS}" in page


def test_html_leaves_out_missing_sections(tmp_path: Path) -> None:
    page = render_html({}, tmp_path).decode("utf-8")
    assert "No tie-out in this report" in page
    for section in ("tie-out", "inputs", "mapping", "outputs", "rejected", "duplicates"):
        assert f'<section id="{section}"' not in page
    # rejects.csv absent: the rows come from report.json's sample, and the page says so
    report, out = _outdir(tmp_path, "bad_rows")
    (out / "rejects.csv").unlink()
    page = render_html(report, out).decode("utf-8")
    assert "was not found beside this page" in page
    assert "date-invalid" in page and page.count('<td class="nowrap"><code>') == 11


def test_html_not_balanced_and_uncounted(tmp_path: Path) -> None:
    report, out = _outdir(tmp_path, "bad_rows")
    report["tie_out"][0]["balanced"] = False
    report["tie_out"][0]["problems"] = ["rows: read 15, accounted for 14"]
    del report["rejects"]["rows"]  # counted from rejects.csv instead
    page = render_html(report, out).decode("utf-8")
    assert "NOT balanced: rows or money are unaccounted for" in page
    assert "Do not import these files" in page and "rows: read 15, accounted for 14" in page
    assert "Rejected rows (11)" in page
    summary = _workbook(render_xlsx(report, out))["Summary"]
    verdict = _find(summary, "Verdict").offset(column=1)
    assert verdict.value == "NOT balanced" and verdict.font.color.rgb.endswith("A4161A")


def test_html_reconciliation_checks_and_target_rejects(tmp_path: Path) -> None:
    report, out = _outdir(tmp_path, "bad_rows")
    report["reconciliation"] = {
        "account": "20-45-67 43218765",
        "checks": [
            {"name": "opening balance", "status": "ok", "detail": "2,345.67 as stated"},
            {"name": "balance continuity", "status": "failed", "detail": {"line": 12}},
            "a bare note",
        ],
    }
    # the csv target refused one written row: its tie-out differs from qbo-bank's
    led = report["ledger"]
    led["rejected_by_target"] = {"csv": {"rows": 1, "amounts": {"JPY": "1500"}}}
    led["written"]["csv"] = {"rows": 2, "amounts": {"GBP": "-15.50"}, "rows_without_amount": 0}
    report["tie_out"][1]["equation"] = ["rows: 15 = 2 written + 11 rejected"]
    page = render_html(report, out).decode("utf-8")
    assert '<section id="reconciliation">' in page
    assert "opening balance" in page and "2,345.67 as stated" in page
    assert '<span class="tag bad">failed</span>' in page and "line: 12" in page
    assert "a bare note" in page and "20-45-67 43218765" in page
    assert "1 reconciliation check failed</strong>: balance continuity" in page
    assert "<h3>qbo-bank <span" in page and "<h3>csv <span" in page
    wb = _workbook(render_xlsx(report, out))
    rec = wb["Reconciliation"]
    assert _find(rec, "balance continuity").offset(column=1).value == "failed"
    csv_jpy = [r for r in _rows(rec) if r[:2] == ("csv", "JPY")]
    assert csv_jpy == [("csv", "JPY", 1500, 0, 1500, 0, 0, 0, "yes")]


UNIQUE_WARNING = """\
name: uniq
version: "1"
kind: transaction
dates: DD/MM/YYYY
fields:
  date: Date
  description: Description
  amount: Amount
  reference: Ref
  currency: {value: GBP}
checks:
  - name: ref-once
    unique: reference
    severity: warning
    message: "refs <b>must</b> & should be unique"
"""


def test_check_warning_notes_in_html_and_xlsx(tmp_path: Path) -> None:
    """A unique: warning's note (naming where the value was first seen) is on the page,
    escaped, and in report.xlsx; the summary says rows broke a check."""
    data = "Date,Description,Amount,Ref\r\n01/02/2025,Tea,-1.00,A1\r\n"
    data += "02/02/2025,Cake,-2.50,A1\r\n03/02/2025,Bun,-2.50,A2\r\n04/02/2025,Pie,-3.00,A1\r\n"
    src, m = write_case(tmp_path, data, UNIQUE_WARNING)
    out = tmp_path / "out"
    convert([src], m, ["csv"], out)
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    note = report["check_warnings"]["ref-once"]["first"][0]["note"]
    assert note == "refs <b>must</b> & should be unique; this value was first on line 2"
    page = (out / "report.html").read_text(encoding="utf-8")
    assert '<section id="check-warnings">' in page and "<b>must" not in page
    assert html.escape(note, quote=False) in page
    assert page.count("this value was first on line 2") == 2  # lines 3 and 5
    assert "2 rows broke a check of the mapping (ref-once)" in page
    assert "Nothing needs your attention" not in page
    rec = _workbook((out / "report.xlsx").read_bytes())["Reconciliation"]
    assert _find(rec, note).offset(column=-1).value == 3
    _find(rec, "Check warning ref-once: 2 rows (unique: reference)")


# --- XLSX ------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
def test_xlsx_golden_case(case: str, tmp_path: Path) -> None:
    report, out = _outdir(tmp_path, case)
    data = render_xlsx(report, out)
    assert render_xlsx(report, out) == data, "not byte-deterministic"
    wb = _workbook(data)
    assert wb.sheetnames == SHEETS + ([CONTROL] if report.get("control_totals") else [])
    rej, dup = wb["Rejected"], wb["Duplicates"]
    assert len(_rows(rej)) == 1 + report["rejects"]["rows"]
    assert len(_rows(dup)) == 1 + report["duplicates"]["flagged"]
    for ws in (rej, dup, wb["Reconciliation"]):
        assert ws.freeze_panes == "A2"
        assert ws.column_dimensions["A"].width > 8
    assert [c.value for c in rej[1]][:3] == ["File", "Line", "Target"]
    for row in rej.iter_rows(min_row=2):  # each reject points back to its file and line
        assert row[0].data_type == "s" and row[0].value in {i["name"] for i in report["inputs"]}
        assert isinstance(row[1].value, int) and row[1].value > 0
    read = report["ledger"]["stages"]["read"]
    measures = 1 + len(read["amounts"]) + (1 if read["rows_without_amount"] else 0)
    rec = _rows(wb["Reconciliation"])
    assert sum(1 for r in rec if r[-1] == "yes") == measures * len(report["tie_out"])
    assert not any(r[-1] == "NO" for r in rec)
    rows_read = next(r for r in rec if r[1] == "Rows")
    assert rows_read[2] == read["rows"] and rows_read[7] == 0  # read, and no difference
    _no_formulas(data)


def _no_formulas(data: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for info in z.infolist():
            assert info.date_time == (1980, 1, 31, 0, 0, 0), info.filename
            if info.filename.startswith("xl/worksheets/"):
                xml = z.read(info).decode("utf-8")
                assert "<f>" not in xml and "<f " not in xml, "a formula was written"
                assert "hyperlink" not in xml.lower().replace("hyperlink(", "")


def test_xlsx_money_and_text_types(tmp_path: Path) -> None:
    report, out = _outdir(tmp_path, "bad_rows")
    wb = _workbook(render_xlsx(report, out))
    summary = wb["Summary"]
    gbp = _find(summary, "GBP")
    read = gbp.offset(column=1)
    assert read.value == -42.5 and read.data_type == "n" and read.number_format == "#,##0.00"
    jpy = _find(summary, "JPY").offset(column=1)
    assert jpy.value == 1500 and jpy.number_format == "#,##0"
    rej = wb["Rejected"]
    head = [c.value for c in rej[1]]
    assert head[8:14] == ["Date", "Description", "Paid out", "Paid in", "Currency", "Ref"]
    first = [c for c in rej[2]]
    assert first[1].value == 4 and first[5].value == "31/04/2025" and first[5].data_type == "s"
    assert first[10].value == "10.00" and first[10].data_type == "s"  # a source cell stays text
    report, out = _outdir(tmp_path, "batch_overlap")
    dup = _workbook(render_xlsx(report, out))["Duplicates"]
    head = [c.value for c in dup[1]]
    assert head[:10] == [
        "File",
        "Line",
        "Match",
        "Repeats file",
        "Repeats line",
        "Repeats batch",
        "Action",
        "Score",
        "Reason",
        "Identity",
    ]
    amount = dup.cell(row=3, column=head.index("Amount") + 1)
    assert amount.value == 2500 and amount.data_type == "n" and amount.number_format == "#,##0.00"
    assert dup.cell(row=2, column=5).value == 3  # repeats line, a number
    assert dup.cell(row=2, column=11).value == "2025-02-26"  # dates stay text, as in the CSV


def test_xlsx_hostile_cells_stay_text(tmp_path: Path) -> None:
    out = _hostile_run(tmp_path)
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    # also a cell a spreadsheet would run, unguarded (as if rejects.csv were edited by hand)
    text = (out / "rejects.csv").read_text(encoding="utf-8").replace(",0099", ",=1+1")
    (out / "rejects.csv").write_text(text, encoding="utf-8")
    data = render_xlsx(report, out)
    _no_formulas(data)
    rej = _workbook(data)["Rejected"]
    head = [c.value for c in rej[1]]
    by_line = {r[1].value: r for r in rej.iter_rows(min_row=2)}
    desc, ref = head.index("Description"), head.index("Ref")
    assert by_line[3][desc].value == "<script>alert(1)</script>"
    assert by_line[3][ref].value == "0012" and by_line[3][ref].data_type == "s"  # zeros kept
    assert by_line[3][head.index("Value")].value.endswith('=HYPERLINK("http://x","y")')
    assert by_line[4][ref].value == "=1+1" and by_line[4][ref].data_type == "s"


def test_xlsx_exactness_and_excel_row_limit(tmp_path: Path, monkeypatch: Any) -> None:
    report, out = _outdir(tmp_path, "batch_overlap")
    text = (out / "duplicates.csv").read_text(encoding="utf-8")
    (out / "duplicates.csv").write_text(text.replace("-900.00", "98765432109876.54"), "utf-8")
    dup = _workbook(render_xlsx(report, out))["Duplicates"]
    big = _find(dup, "98765432109876.54")  # a double cannot hold it exactly: kept as text
    assert big.data_type == "s"
    monkeypatch.setattr(rx, "MAX_ROWS", 3)
    dup = _workbook(render_xlsx(report, out))["Duplicates"]
    rows = _rows(dup)
    assert len(rows) == 3 and str(rows[-1][0]).startswith("2 more rows are in duplicates.csv")


def test_xlsx_missing_sections_and_fallback(tmp_path: Path) -> None:
    wb = _workbook(render_xlsx({}, tmp_path))
    assert wb.sheetnames == SHEETS
    assert [c.value for c in wb["Rejected"][1]][:2] == ["File", "Line"]
    report, out = _outdir(tmp_path, "bad_rows")
    (out / "rejects.csv").unlink()
    rej = _workbook(render_xlsx(report, out))["Rejected"]
    assert len(_rows(rej)) == 12 and rej["B2"].value == 4


def test_xlsx_same_bytes_in_any_time_zone(tmp_path: Path, monkeypatch: Any) -> None:
    report, out = _outdir(tmp_path, "bad_rows")
    got = []
    try:
        for tz in ("UTC", "America/New_York", "Asia/Kolkata"):
            monkeypatch.setenv("TZ", tz)
            time.tzset()
            got.append(render_xlsx(copy.deepcopy(report), out))
    finally:
        monkeypatch.undo()
        time.tzset()
    assert got[0] == got[1] == got[2]
    with zipfile.ZipFile(io.BytesIO(got[0])) as z:
        core = z.read("docProps/core.xml").decode()
    assert "2000-01-01T00:00:00Z" in core


# --- the page in a real browser ---------------------------------------------------------------


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if path := shutil.which(name):
            return path
    return None


@pytest.mark.parametrize("case", ["bad_rows", "batch_overlap"])
def test_html_screenshot_in_chromium(case: str, tmp_path: Path) -> None:
    browser = _chromium()
    if browser is None:
        pytest.skip("no chromium binary on PATH (Debian: apt-get install chromium)")
    artifacts = Path(os.environ.get("CSVBRIDGE_TEST_ARTIFACTS") or ROOT / "tests" / "artifacts")
    artifacts.mkdir(parents=True, exist_ok=True)
    report, out = _outdir(tmp_path, case)
    page = artifacts / f"report-{case}.html"
    page.write_bytes(render_html(report, out))
    png = artifacts / f"report-{case}.png"
    png.unlink(missing_ok=True)
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    cmd = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--window-size=1280,2000",
        f"--screenshot={png}",
        page.resolve().as_uri(),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert png.is_file(), f"chromium wrote no screenshot:\n{done.stderr[-2000:]}"
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 20_000
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1280, 2000)


def test_a_run_writes_report_xlsx_as_render_xlsx_makes_it(tmp_path: Path) -> None:
    """The run streams report.xlsx into its file (save_xlsx, never the whole workbook in
    memory): the same bytes as render_xlsx gives for its report.json."""
    from csvbridge.pipeline import convert

    from .conftest import write_case

    rows = [f"{1 + i % 28:02d}/01/2025,Item {i},{i}.50" for i in range(400)]
    rows += ["31/02/2025,bad date,1.00", *rows[:50]]
    src, m = write_case(tmp_path, "Date,Description,Amount\n" + "\n".join(rows) + "\n")
    out = tmp_path / "out"
    convert([src], m, ["csv"], out, history=False, chunk_rows=64)
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["rejects"]["rows"] == 1
    assert (out / "report.xlsx").read_bytes() == render_xlsx(report, out)
