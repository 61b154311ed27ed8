"""Excel workbooks (xlsx, xlsm) read as text through openpyxl, streaming in read-only mode."""

from __future__ import annotations

import datetime as dt
import math
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, BinaryIO

from ..errors import InputFileError
from .base import Detection, ReadOptions, SourceInfo
from .table import TableFinder


def cell_text(value: Any) -> str:
    """A cell value as the text a person sees. Floats keep Excel's 15 significant digits,
    so the binary artefact 274.65999999999997 reads as 274.66; dates become ISO text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
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
    return str(value)


def open_xlsx(f: BinaryIO, info: SourceInfo, options: ReadOptions) -> TableFinder:
    """Open the chosen sheet (by name, 1-based index, or the first) and find its table."""
    import openpyxl

    try:
        wb = openpyxl.load_workbook(f, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as e:
        raise InputFileError(
            f"this workbook cannot be opened: {e}",
            where=info.name,
            hint="the file may be damaged, password-protected or not really .xlsx; "
            "open and re-save it in Excel, or export CSV.",
            code="xlsx-unreadable",
        ) from None
    sheets = wb.sheetnames
    sheet = options.sheet
    if sheet is None:
        name = sheets[0]
    elif isinstance(sheet, int):
        if not 1 <= sheet <= len(sheets):
            raise InputFileError(
                f"the workbook has {len(sheets)} sheet(s); there is no sheet {sheet}",
                where=info.name,
                hint=f"sheets are: {', '.join(sheets)}",
                code="sheet-missing",
            )
        name = sheets[sheet - 1]
    elif sheet in sheets:
        name = sheet
    else:
        raise InputFileError(
            f"the workbook has no sheet named {sheet!r}",
            where=info.name,
            hint=f"sheets are: {', '.join(sheets)}",
            code="sheet-missing",
        )
    info.detections["sheet"] = Detection(name, 1.0, "given" if sheet is not None else "first")
    ws = wb[name]
    info.name = f"{info.name}[{name}]"
    return TableFinder(info, options, _rows(ws), native_dates=True)


def _rows(ws: Any) -> Iterator[tuple[int, list[str]]]:
    start = ws.min_row or 1
    for i, row in enumerate(ws.iter_rows(values_only=True), start=start):
        yield i, [cell_text(v) for v in row]
