"""report.xlsx: the run's report as a workbook for accountants, with sheets Summary,
Rejected, Duplicates and Reconciliation (and Control totals when the kind has an amount).

Every Rejected and Duplicates row names its source file and line. Money is written as a
number with its currency's decimals; text is always written as text, so leading zeros survive
and no cell can ever run as a formula. The workbook is our own SpreadsheetML writer
(``xlsx_book``): the short sheets cell by cell here, the Rejected and Duplicates listings a
column at a time (``xlsx_listing``), each sheet's rows deflated into a temporary file as they
come. Byte-deterministic: a fixed creation date, every zip member stamped with the same fixed
time."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from ..writers.xlsx_cells import MAX_TEXT, MAX_WIDTH, column_letters
from .control import write_control_sheet
from .files import DUPLICATE_COLUMNS
from .report_view import (
    OUTCOMES,
    check_warnings_of,
    money_fields,
    plain,
    rejects_from_sample,
    show_detected,
    status_tone,
    tie_out_measures,
    warnings_of,
)
from .xlsx_book import (
    Book,
    Cell,
    count_value,
    money_value,
    number_xml,
    text_value,
    text_xml,
)
from .xlsx_listing import write_listing

CREATED = datetime(2000, 1, 1, tzinfo=UTC)  # fixed: the same run gives the same bytes
MAX_ROWS = 1_048_576  # Excel's rows per sheet
WIDTH_ROWS = 1_000  # column widths are fitted to the header and this many rows
REJECT_COLUMNS = ["file", "line", "target", "field", "column", "value", "rule", "message"]
__all__ = ["CREATED", "MAX_ROWS", "MAX_TEXT", "MAX_WIDTH", "REJECT_COLUMNS", "render_xlsx"]


class _Sheet:
    """One short worksheet written cell by cell, top to bottom, fitting column widths as it
    goes (a cell written twice keeps the last value)."""

    def __init__(self, book: Book, name: str) -> None:
        self.book = book
        self.sheet = book.sheet(name)
        self.row = 0
        self.widths: dict[int, int] = {}
        self.cells: dict[int, dict[int, str]] = {}

    def _fit(self, col: int, shown: int) -> None:
        if self.row <= WIDTH_ROWS:
            self.widths[col] = max(self.widths.get(col, 0), min(shown, MAX_WIDTH))

    def _put(self, col: int, c: Cell, style: str | None = None, fit: bool = True) -> None:
        ref = f"{column_letters(col)}{self.row + 1}"
        if c.number:
            xml = number_xml(ref, c.text, self.book.styles.number(c.places))
            self.cells.setdefault(self.row, {})[col] = xml
        elif c.text or style:
            xml = text_xml(ref, c.text, self.book.styles.named(style))
            self.cells.setdefault(self.row, {})[col] = xml
        if fit:
            self._fit(col, c.shown)

    def text(self, col: int, value: Any, style: str | None = None, fit: bool = True) -> None:
        """Text, always as a string cell (never a number, formula or link)."""
        self._put(col, text_value(value), style, fit)

    def count(self, col: int, value: Any) -> None:
        """A whole number (a line or a count) as a number; anything else as text."""
        self._put(col, count_value(value))

    def money(self, col: int, value: Any, places: int | None = None) -> None:
        """An amount as a number with ``places`` decimals (default: as written). Text that is
        not an amount, or that a spreadsheet number cannot hold exactly, stays text."""
        self._put(col, money_value(value, places))

    def header(self, names: Iterable[str]) -> None:
        for c, n in enumerate(names):
            self.text(c, n, "head")
        self.row += 1

    def title(self, text: str, style: str = "h2") -> None:
        """A heading on its own row, after a blank row (except at the top)."""
        self.row += 1 if self.row else 0
        self.line(text, style=style)

    def line(self, *values: Any, style: str | None = None) -> None:
        """One row: a text cell per value, the first not widening its column."""
        for c, v in enumerate(values):
            self.text(c, v, style if c == 0 else None, fit=c > 0)
        self.row += 1

    def pair(self, key: str, value: Any, style: str | None = None, count: bool = False) -> None:
        """``key`` in column A, ``value`` in column B."""
        self.text(0, key, "key")
        if count:
            self.count(1, value)
        else:
            self.text(1, value, style, fit=False)
        self.row += 1

    def finish(self, freeze: bool = False, floor: int = 8) -> None:
        rows = []
        for r in sorted(self.cells):
            cols = self.cells[r]
            rows.append(f'<row r="{r + 1}">{"".join(cols[c] for c in sorted(cols))}</row>')
            self.sheet.add(b"", r, max(cols))  # the sheet's extent
        self.sheet.add("".join(rows).encode(), -1, -1)
        self.sheet.widths = {c: max(w, floor) + 2 for c, w in self.widths.items()}
        self.sheet.freeze = freeze


def _summary(sh: _Sheet, report: dict[str, Any]) -> None:
    m = report.get("mapping") or {}
    sh.title("Conversion report", "title")
    if m:
        sh.line(f"Mapping {m.get('name', '')} version {m.get('version', '')} ({m.get('kind', '')})")
    sh.row += 1
    ties = report.get("tie_out") or []
    if ties:
        ok = all(t.get("balanced") for t in ties)
        verdict = "Balanced: every input row is accounted for" if ok else "NOT balanced"
        sh.pair("Verdict", verdict, "good" if ok else "bad")
    stages = (report.get("ledger") or {}).get("stages") or {}
    measures = {t.get("target", ""): tie_out_measures(report, t.get("target", "")) for t in ties}
    if "read" in stages:
        sh.pair("Rows read", stages["read"].get("rows"), count=True)
    for target, ms in measures.items():
        if ms:
            sh.pair(f"Written to {target}", int(ms[0].outcomes[0]), count=True)
    rejects, dups = report.get("rejects") or {}, report.get("duplicates") or {}
    for name, value in (
        ("Rejected (sheet Rejected)", rejects.get("rows")),
        ("Filtered out", (stages.get("filtered") or {}).get("rows")),
        ("Duplicates (sheet Duplicates)", dups.get("flagged")),
        ("Duplicates held back", dups.get("held_back")),
        ("Possible duplicates (of those)", (dups.get("possible") or {}).get("flagged")),
    ):
        if value is not None:
            sh.pair(name, value, count=True)
    money = [(t, x) for t, ms in measures.items() for x in ms if x.currency is not None]
    if money:
        sh.title("Money per currency")
        sh.header(["Output", "Currency", "Read", *(o.capitalize() for o in OUTCOMES)])
        for target, x in money:
            sh.text(0, target)
            sh.text(1, x.currency)
            for c, v in enumerate((x.read, *x.outcomes), start=2):
                sh.money(c, str(v), x.places)
            sh.row += 1
    _inputs(sh, report.get("inputs") or [])
    if m:
        sh.title("Mapping")
        for k, name in (("name", "Name"), ("version", "Version"), ("kind", "Kind of record")):
            if k in m:
                sh.pair(name, m[k])
        for k, name in (("file", "File"), ("sha256", "SHA-256")):
            if k in m:
                sh.pair(name, m[k])
        for f, v in (m.get("date_formats") or {}).items():
            sh.pair(f"Date format of {f}", v if isinstance(v, str) else ", ".join(v or []))
    _outputs(sh, report)
    warnings = warnings_of(report)
    if warnings:
        sh.title("Warnings")
        for w in warnings:
            sh.line(w)
    sh.finish(floor=10)


def _inputs(sh: _Sheet, inputs: list[dict[str, Any]]) -> None:
    if not inputs:
        return
    sh.title("Inputs")
    sh.header(["File", "Format", "Data rows", "Header line", "Detected", "", "", "SHA-256"])
    for i in inputs:
        sh.text(0, i.get("name", ""))
        sh.text(1, i.get("format", ""))
        sh.count(2, i.get("data_rows", ""))
        sh.count(3, i.get("header_line", ""))
        det = [
            f"{k}: {show_detected(k, d.get('value'))} ({float(d.get('confidence', 0)):.0%}, "
            f"{d.get('method', '')})"
            for k, d in (i.get("detected") or {}).items()
        ]
        sh.text(4, "; ".join(det), fit=False)
        sh.text(7, i.get("sha256", ""), "hash", fit=False)
        sh.row += 1
    extra = [
        (i.get("name", ""), where, p)
        for i in inputs
        for where, key in (("above the header", "preamble"), ("below the table", "footer"))
        for p in i.get(key) or []
    ]
    if extra:
        sh.title("Lines outside the table (kept, not converted)")
        sh.header(["File", "Where", "Line", "Text"])
        for name, where, p in extra:
            sh.text(0, name)
            sh.text(1, where)
            sh.count(2, p.get("line", ""))
            sh.text(3, p.get("text", ""), fit=False)
            sh.row += 1


def _outputs(sh: _Sheet, report: dict[str, Any]) -> None:
    rows = [
        (t.get("name", ""), t.get("options") or {}, f)
        for t in report.get("targets") or []
        for f in t.get("files") or []
    ]
    rows += [
        ("report", {}, f)
        for sec in ("rejects", "duplicates")
        for f in (report.get(sec) or {}).get("files") or []
    ]
    if not rows:
        return
    sh.title("Outputs")
    sh.header(["Output", "File", "Rows", "Bytes", "Options", "", "", "SHA-256"])
    for name, opts, f in rows:
        sh.text(0, name)
        sh.text(1, f.get("name", ""))
        sh.count(2, f.get("rows", ""))
        sh.count(3, f.get("bytes", ""))
        sh.text(4, " ".join(f"{k}={v}" for k, v in opts.items()), fit=False)
        sh.text(7, f.get("sha256", ""), "hash", fit=False)
        sh.row += 1


def _reconciliation(sh: _Sheet, report: dict[str, Any]) -> None:
    sh.header(["Output", "Measure", "Read", *(o.capitalize() for o in OUTCOMES), "Difference"])
    sh.text(8, "Balanced", "head")
    ties = report.get("tie_out") or []
    for t in ties:
        for x in tie_out_measures(report, t.get("target", "")):
            sh.text(0, t.get("target", ""))
            sh.text(1, x.label)
            for c, v in enumerate((x.read, *x.outcomes, x.difference), start=2):
                sh.money(c, str(v), x.places)
            ok = bool(t.get("balanced")) and x.difference == 0
            sh.text(8, "yes" if ok else "NO", "good" if ok else "bad")
            sh.row += 1
    for t in ties:
        if t.get("equation") or t.get("problems"):
            sh.title(f"Tie-out of {t.get('target', '')}, as in report.json")
            for text in [*(t.get("equation") or []), *(t.get("problems") or [])]:
                sh.line(text)
    ledger = report.get("ledger") or {}
    _rules(sh, "Filtered out, by filter", ledger.get("filtered_by_rule") or {})
    by_rule = (report.get("rejects") or {}).get("by_rule") or ledger.get("rejected_by_rule") or {}
    _rules(sh, "Rejected, by rule", {k: {"rows": v} for k, v in by_rule.items()})
    _checks(sh, report.get("reconciliation"))
    _check_warnings(sh, report)
    sh.finish(freeze=True, floor=10)


def _rules(sh: _Sheet, title: str, rules: dict[str, Any]) -> None:
    if rules:
        sh.title(title)
        sh.header(["Rule", "Rows", "Money"])
        for name, t in rules.items():
            sh.text(0, name)
            sh.count(1, t.get("rows", 0))
            sh.text(2, ", ".join(f"{c} {a}" for c, a in (t.get("amounts") or {}).items()))
            sh.row += 1


def _checks(sh: _Sheet, rec: Any) -> None:
    """report["reconciliation"], generically: checks with name, status and detail."""
    if rec is None:
        return
    sh.title("Checks")
    if isinstance(rec, dict):
        for k, v in rec.items():
            if k != "checks":
                sh.pair(str(k), plain(v))
    sh.header(["Check", "Status", "Detail"])
    checks = rec.get("checks", []) if isinstance(rec, dict) else rec
    for c in checks if isinstance(checks, list) else []:
        c = c if isinstance(c, dict) else {"detail": c}
        status = str(c.get("status", ""))
        sh.text(0, c.get("name", ""))
        sh.text(1, status, {"good": "good", "bad": "bad"}.get(status_tone(status)))
        rest = [f"{k}: {plain(v)}" for k, v in c.items() if k not in {"name", "status", "detail"}]
        sh.text(2, "; ".join(x for x in [plain(c.get("detail", "")), *rest] if x), fit=False)
        sh.row += 1


def _check_warnings(sh: _Sheet, report: dict[str, Any]) -> None:
    """The mapping's warning checks that rows broke: the first rows, each with its note."""
    for c in check_warnings_of(report):
        n = c["rows"]
        sh.title(f"Check warning {c['name']}: {n:,} row{'' if n == 1 else 's'} ({c['rule']})")
        sh.header(["File", "Line", "Note"])
        for x in c["first"]:
            sh.text(0, x["file"])
            sh.count(1, x["line"])
            sh.text(2, x["note"], fit=False)
            sh.row += 1


def render_xlsx(report: dict[str, Any], outdir: Path) -> bytes:
    """The report as an .xlsx workbook (bytes); see ``save_xlsx``."""
    with tempfile.TemporaryFile() as f:
        save_xlsx(report, outdir, f)
        f.seek(0)
        return f.read()


def save_xlsx(report: dict[str, Any], outdir: Path, f: IO[bytes]) -> None:
    """Write the report as an .xlsx workbook into ``f``; streams the rejects and duplicates
    files in ``outdir`` into their sheets (a million listed rows are ~100 MB: never held in
    memory)."""
    m = report.get("mapping") or {}
    book = Book(
        {
            "title": f"Conversion report {m.get('name', '')}".strip(),
            "author": "csvbridge",
            "comments": f"Written by csvbridge {report.get('csvbridge', '')} from report.json",
        }
    )
    try:
        outdir = Path(outdir)
        rej, dup = report.get("rejects") or {}, report.get("duplicates") or {}
        _summary(_Sheet(book, "Summary"), report)
        sample = rejects_from_sample(rej.get("first") or [])
        write_listing(
            book,
            book.sheet("Rejected"),
            rej,
            "rejects.csv",
            REJECT_COLUMNS,
            sample,
            int(rej.get("rows", 0)),
            set(),
            outdir,
            True,
            MAX_ROWS,
            WIDTH_ROWS,
        )
        write_listing(
            book,
            book.sheet("Duplicates"),
            dup,
            "duplicates.csv",
            DUPLICATE_COLUMNS,
            dup.get("first") or [],
            int(dup.get("flagged", 0)),
            money_fields(report),
            outdir,
            False,
            MAX_ROWS,
            WIDTH_ROWS,
        )
        _reconciliation(_Sheet(book, "Reconciliation"), report)
        if report.get("control_totals"):
            write_control_sheet(_Sheet(book, "Control totals"), report["control_totals"])
        book.save(f, CREATED)
    except BaseException:
        book.abort()
        raise
