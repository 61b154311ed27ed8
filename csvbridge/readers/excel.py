"""Spreadsheets — xlsx, xlsm, xlsb, xls (legacy BIFF) and ods — read as text through
python-calamine (about 10x faster than openpyxl's read-only mode on 100k rows; measured in
benchmarks/README.md).

Cells become the text a person sees: dates (1900 and 1904 systems) as ISO dates, numbers
without binary-float artefacts (Excel keeps 15 significant digits, so 274.65999999999997
reads as 274.66), text as stored (leading zeros kept), formulas as their cached values.
Merged ranges are filled with their top-left value.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

import python_calamine

from ..errors import InputFileError
from ..limits import Limits, exceeded
from ..readers.table import _norm
from .base import Detection, ReadOptions, SourceInfo
from .excel_columns import RawRows, plan_fast
from .table import TableFinder
from .workbook_guard import check_workbook

SHEET_SEARCH_ROWS = 50
T = TypeVar("T")


def is_panic(e: BaseException) -> bool:
    """A Rust panic inside calamine, raised as pyo3's PanicException. It derives from
    BaseException (so that ``except Exception`` does not swallow it); only this one is caught."""
    kind = type(e)
    return kind.__name__ == "PanicException" and kind.__module__ == "pyo3_runtime"


def unreadable(name: str, e: BaseException, when: str = "opened") -> InputFileError:
    """The error for a workbook calamine cannot read."""
    what = "calamine crashed on it" if is_panic(e) else str(e)
    return InputFileError(
        f"this workbook cannot be {when}: {what}",
        where=name,
        hint="the file may be damaged or not really a spreadsheet; open and re-save it in "
        "Excel or LibreOffice, or export CSV.",
        code="workbook-unreadable",
    )


def guarded(name: str, when: str, fn: Callable[[], T]) -> T:
    """``fn()``, with calamine's errors (and panics) raised while reading as InputFileErrors."""
    try:
        return fn()
    except python_calamine.CalamineError as e:
        raise unreadable(name, e, when) from None
    except BaseException as e:
        if is_panic(e):
            raise unreadable(name, e, when) from None
        raise


def cell_text(value: Any) -> str:
    """A cell value as the text a person sees."""
    if type(value) is str:  # the commonest cell first
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        short = repr(value)
        # The shortest round-trip text, when it has at most 15 significant digits and no
        # exponent, is what rounding to 15 digits gives (the value is far nearer that text
        # than to any other 15-digit number): the Decimal step is not needed.
        if "e" not in short and len(short.replace("-", "").replace(".", "").lstrip("0")) <= 15:
            return short.rstrip("0").rstrip(".") if "." in short else short
        text = format(Decimal(format(value, ".15g")), "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    return str(value)


def _open(f: BinaryIO, info: SourceInfo) -> Any:
    name = info.name
    try:
        try:
            return python_calamine.CalamineWorkbook.from_filelike(f)
        except python_calamine.CalamineError:
            if info.path is None:
                raise
            # Encrypted workbooks are recognised only by file name: retry through a link
            # named for the format the content showed.
            # An encrypted xlsx is an OLE2 container, like a legacy xls: try both names.
            names = [info.format] + (["xlsx"] if info.format == "xls" else [])
            import tempfile  # only for this rare case

            with tempfile.TemporaryDirectory() as d:
                for i, ext in enumerate(names):
                    link = Path(d) / f"book.{ext}"
                    link.symlink_to(info.path.resolve())
                    try:
                        return python_calamine.CalamineWorkbook.from_path(str(link))
                    except python_calamine.PasswordError:
                        raise
                    except python_calamine.CalamineError:
                        if i == len(names) - 1:
                            raise
            raise
    except python_calamine.PasswordError:
        raise InputFileError(
            "the workbook is password-protected",
            where=name,
            hint="open it in Excel or LibreOffice with its password, save a copy without "
            "protection (or export CSV), and convert that.",
            code="workbook-protected",
        ) from None
    except Exception as e:  # calamine raises several types for damaged files
        raise unreadable(name, e) from None
    except BaseException as e:
        if is_panic(e):
            raise unreadable(name, e) from None
        raise


def _guard_iter(name: str, items: Iterator[T]) -> Iterator[T]:
    """``items``, with calamine's errors (and panics) raised while reading as InputFileErrors."""
    try:
        yield from items
    except python_calamine.CalamineError as e:
        raise unreadable(name, e, "read") from None
    except BaseException as e:
        if is_panic(e):
            raise unreadable(name, e, "read") from None
        raise


def _sheet_rows(
    raw: RawRows, merged_ranges: list[Any], col0: int
) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) streamed from the sheet, merged ranges filled with the value of
    their top-left cell (which always streams past first)."""
    merged = [((r1, c1 - col0), (r2, c2 - col0)) for (r1, c1), (r2, c2) in merged_ranges]
    values: dict[tuple[int, int], str] = {}
    last = max((r2 for _, (r2, _) in merged), default=-1)
    r = -1
    for row in raw.rows:
        r = raw.count
        raw.count += 1
        cells = [cell_text(v) for v in row]
        for (r1, c1), (r2, c2) in merged:
            if r1 <= r <= r2 and c1 >= 0:
                if r == r1:
                    values[(r1, c1)] = cells[c1] if c1 < len(cells) else ""
                if len(cells) <= c2:
                    cells.extend([""] * (c2 + 1 - len(cells)))
                for c in range(c1, c2 + 1):
                    cells[c] = values.get((r1, c1), "")
        yield r + 1, cells
    for extra in range(r + 1, last + 1):  # merged ranges reaching below the used range
        yield (
            extra + 1,
            [values.get((r1, c1), "") if r1 <= extra <= r2 else "" for (r1, c1), (r2, _) in merged],
        )


def _choose_sheet(wb: Any, options: ReadOptions, info: SourceInfo) -> tuple[str, str]:
    names: list[str] = list(wb.sheet_names)
    if not names:
        raise InputFileError(
            "the workbook has no sheets",
            where=info.name,
            hint="export the data again; this file holds no spreadsheet.",
            code="no-rows",
        )
    sheet = options.sheet
    if isinstance(sheet, str) and sheet.isdigit():
        sheet = int(sheet)
    if isinstance(sheet, int):
        if not 1 <= sheet <= len(names):
            raise InputFileError(
                f"the workbook has {len(names)} sheet(s); there is no sheet {sheet}",
                where=info.name,
                hint=f"sheets are: {', '.join(names)}",
                code="sheet-missing",
            )
        return names[sheet - 1], "given"
    if sheet is not None:
        if sheet in names:
            return sheet, "given"
        raise InputFileError(
            f"the workbook has no sheet named {sheet!r}",
            where=info.name,
            hint=f"sheets are: {', '.join(names)}",
            code="sheet-missing",
        )
    if options.expected_columns and len(names) > 1:
        want = {_norm(c) for c in options.expected_columns}
        for name in names:
            head = wb.get_sheet_by_name(name).to_python(nrows=SHEET_SEARCH_ROWS)
            if any(want <= {_norm(cell_text(v)) for v in row} for row in head):
                return name, "the sheet whose header has the mapping's columns"
    for name in names:
        if wb.get_sheet_by_name(name).height:
            return name, "the first sheet with data"
    return names[0], "first"


def _check_merged(merged: list[Any], name: str, limits: Limits) -> None:
    """Merged ranges are filled cell by cell: one reaching far out is as big as its area."""
    for (r1, c1), (r2, c2) in merged:
        cells = (r2 - r1 + 1) * (c2 - c1 + 1)
        if limits.max_sheet_cells and cells > limits.max_sheet_cells:
            raise exceeded(
                limits,
                "max_sheet_cells",
                f"a merged range spans rows {r1 + 1:,}-{r2 + 1:,} and columns "
                f"{c1 + 1:,}-{c2 + 1:,}: {cells:,} cells",
                name,
            )


class _LastSheet:
    """The workbook, keeping the sheet loaded last: calamine parses a whole sheet each time
    one is asked for, and the sheet chosen is the one looked at last."""

    def __init__(self, wb: Any) -> None:
        self.wb = wb
        self.sheet_names = wb.sheet_names
        self._last: tuple[str, Any] | None = None

    def get_sheet_by_name(self, name: str) -> Any:
        if self._last is None or self._last[0] != name:
            self._last = None  # let the previous sheet go before loading the next
            self._last = (name, self.wb.get_sheet_by_name(name))
        return self._last[1]


def open_spreadsheet(f: BinaryIO, info: SourceInfo, options: ReadOptions) -> TableFinder:
    """Open the chosen sheet (by name, 1-based number, or found) and find its table."""
    if info.format in ("xlsx", "ods"):
        check_workbook(f, info.name, options.limits)
    wb = _LastSheet(_open(f, info))
    name, how = guarded(info.name, "read", lambda: _choose_sheet(wb, options, info))
    info.detections["sheet"] = Detection(name, 1.0, how)
    sheet = guarded(info.name, "read", lambda: wb.get_sheet_by_name(name))
    merged = getattr(sheet, "merged_cell_ranges", None) or []
    _check_merged(merged, info.name, options.limits)
    if merged:
        info.warnings.append(f"{len(merged)} merged cell range(s) filled with their value")
    info.name = f"{info.name}[{name}]"
    raw = RawRows(iter(sheet.iter_rows()))
    col0 = sheet.start[1] if sheet.start else 0
    rows = _guard_iter(info.name, _sheet_rows(raw, merged, col0))
    finder = TableFinder(info, options, rows, native_dates=True)
    if not merged:  # the rows after the header are read column by column
        finder.fast = plan_fast(
            raw, sheet.width, cell_text, lambda chunks: _guard_iter(info.name, chunks)
        )
    return finder
