"""The xlsx target's writer as it was before csvbridge wrote .xlsx itself: through XlsxWriter's
constant-memory mode, cell by cell. Kept for the tests only, as the reference the new writer
(csvbridge/writers/xlsx_table.py) is compared with cell by cell."""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import xlsxwriter
import xlsxwriter.exceptions

from csvbridge import __version__
from csvbridge.dates import format_dates
from csvbridge.errors import OutputError
from csvbridge.model import FieldType
from csvbridge.money import format_minor
from csvbridge.writers import format as fmt
from csvbridge.writers.base import OutputFile, WriteContext, add_written
from csvbridge.writers.typed import (
    TypedWriter,
    header,
    publish,
    source_files,
    source_lines,
    temp_path,
)
from csvbridge.xlsx_numbers import ExactNumber as _Exact

# -- Excel --
CREATED = datetime(2000, 1, 1, tzinfo=UTC)  # fixed: the same records give the same bytes
MAX_ROWS = 1_048_576  # Excel's rows per sheet, header included
MAX_TEXT = 32_767  # Excel's characters (UTF-16 code units) per cell
MAX_DIGITS = 15  # significant digits Excel keeps; up to this a decimal round-trips a double
EXCEL_EPOCH = 25_569  # days from Excel's day 0 (1899-12-30) to 1970-01-01
FIRST_EXCEL_DAY = -25_508  # 1900-03-01 in days since 1970: earlier serials are wrong in Excel
LAST_EXCEL_DAY = 2_932_896  # 9999-12-31
WIDTH_ROWS = 1_000  # column widths are fitted to the header and the first rows of a part
MAX_WIDTH = 60
_PLAIN_DECIMAL = re.compile(r"-?(\d+)(?:\.(\d+))?")


# == xlsx ===================================================================================
Cell = tuple[Any, str | None] | str | None  # (number, format key) | text | empty


def _digits(text: str) -> int | None:
    """Significant digits of a plain decimal (``-0012.50`` has 3 … counting to the last
    decimal written), or None if ``text`` is not a plain decimal."""
    m = _PLAIN_DECIMAL.fullmatch(text)
    if m is None:
        return None
    return len((m.group(1) + (m.group(2) or "")).lstrip("0")) or 1


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class XlsxTableWriter(TypedWriter):
    """Writes ``<kind>.xlsx`` (split into numbered files past Excel's rows a sheet)."""

    max_rows = MAX_ROWS

    def __init__(self, ctx: WriteContext) -> None:
        super().__init__(ctx)
        self.columns = header(ctx.kind)
        self._parts: list[tuple[Path, int]] = []  # finished temp files and their data rows
        self._tmp: Path | None = None
        self._book: Any = None
        self._sheet: Any = None
        self._formats: dict[str, Any] = {}
        self._row = 0  # next sheet row (0 is the header)
        self._widths: list[int] = []

    # -- refusing what Excel cannot hold --
    def check(self, records: pa.Table) -> pa.Table:
        """Refuse records with a text longer than a cell holds (Excel would cut it)."""
        for f in self.kind.fields:
            if f.type is not FieldType.TEXT or not records.num_rows:
                continue
            col = fmt.column(records, f.name)
            long = pc.fill_null(pc.greater(pc.binary_length(col), MAX_TEXT), False)
            if not pc.any(long).as_py():  # UTF-8 bytes >= UTF-16 units: nothing is too long
                continue
            over = pa.array([s is not None and _utf16_len(s) > MAX_TEXT for s in col.to_pylist()])
            if pc.any(over).as_py():
                self.reject(
                    records.filter(over),
                    f.name,
                    "text-too-long",
                    f"longer than the {MAX_TEXT:,} characters an Excel cell holds; shorten it "
                    "in the source, or use the csv, jsonl or parquet target",
                )
                records = records.filter(pc.invert(over))
        return records

    def write(self, records: pa.Table) -> None:
        """Append records (refusing what Excel cannot hold); count them for the tie-out."""
        records = self.check(records)
        if records.num_rows:
            self._write_rows(self._cells(records))
        add_written(self.tally, records, self.kind)

    # -- cells --
    def _format(self, key: str) -> Any:
        """The cell format called ``key``: head, date, or places<N> (a number with N
        decimals), added to the workbook on first use."""
        style = self._formats.get(key)
        if style is None:
            if key == "head":
                spec: dict[str, Any] = {"bold": True, "bg_color": "#E8ECF0", "bottom": 1}
            elif key == "date":
                spec = {"num_format": "yyyy-mm-dd"}
            else:
                places = int(key.removeprefix("places"))
                spec = {"num_format": "#,##0" + ("." + "0" * places if places else "")}
            style = self._formats[key] = self._book.add_format(spec)
        return style

    def _cells(self, records: pa.Table) -> list[list[Cell]]:
        """One list of cells per column: (number, format key), text, or None."""
        out: list[list[Cell]] = []
        exps: np.ndarray | None = None
        for f in self.kind.fields:
            col = fmt.column(records, f.name)
            if f.type is FieldType.DATE:
                out.append(self._date_cells(col))
            elif f.type is FieldType.MONEY:
                exps = fmt.exponents(records) if exps is None else exps
                out.append(self._money_cells(col, exps))
            elif f.type is FieldType.DECIMAL:
                out.append([self._decimal_cell(s) for s in col.to_pylist()])
            else:
                out.append([s if s else None for s in col.to_pylist()])
        out.append(list(source_files(records, self.sources).to_pylist()))
        out.append([(int(n), None) for n in source_lines(records).to_pylist()])
        return out

    def _date_cells(self, col: pa.Array) -> list[Cell]:
        days = np.asarray(pc.fill_null(col.cast(pa.int32()), 0), dtype=np.int64)
        valid = np.asarray(col.is_valid(), dtype=bool)
        iso = format_dates(col, "YYYY-MM-DD").to_pylist()
        excel = (days >= FIRST_EXCEL_DAY) & (days <= LAST_EXCEL_DAY)
        serial = (days + EXCEL_EPOCH).tolist()
        return [
            None if not ok else (s, "date") if in_range else text
            for ok, in_range, s, text in zip(valid, excel, serial, iso, strict=True)
        ]

    def _money_cells(self, col: pa.Array, exps: np.ndarray) -> list[Cell]:
        minor = np.asarray(pc.fill_null(col, 0), dtype=np.int64)
        valid = np.asarray(col.is_valid(), dtype=bool)
        fits = (minor > -(10**MAX_DIGITS)) & (minor < 10**MAX_DIGITS)
        text = format_minor(col, exps).to_pylist()
        return [
            None if not ok else (_Exact(t), f"places{e}") if exact else t
            for ok, exact, t, e in zip(valid, fits, text, exps.tolist(), strict=True)
        ]

    def _decimal_cell(self, text: str | None) -> Cell:
        if not text:
            return None
        digits = _digits(text)
        if digits is None or digits > MAX_DIGITS:
            return text
        _, _, frac = text.partition(".")
        return (_Exact(text), f"places{len(frac)}")

    # -- the workbook --
    def _open_part(self) -> None:
        self._tmp = temp_path(self.ctx.outdir, self.kind.name)
        book = xlsxwriter.Workbook(
            str(self._tmp),
            {
                "constant_memory": True,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
            },
        )
        book.set_properties(
            {
                "title": f"{self.kind.name} records",
                "author": "csvbridge",
                "comments": f"Written by csvbridge {__version__} (target xlsx)",
                "created": CREATED,
            }
        )
        self._book = book
        self._formats = {}
        self._sheet = book.add_worksheet(self.kind.name)
        head = self._format("head")
        for c, name in enumerate(self.columns):
            self._sheet.write_string(0, c, name, head)
        self._widths = [len(n) for n in self.columns]
        self._row = 1

    def _finish_part(self) -> None:
        if self._book is None or self._tmp is None:
            return
        ws = self._sheet
        for c, w in enumerate(self._widths):
            ws.set_column(c, c, min(max(w, 8), MAX_WIDTH) + 2)
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, max(self._row - 1, 0), len(self.columns) - 1)
        try:
            self._book.close()
        except xlsxwriter.exceptions.FileSizeError:
            raise OutputError(
                f"{self.kind.name}.xlsx would pass 4 GB, the most a workbook without ZIP64 holds",
                where=str(self.ctx.outdir),
                hint="use the csv, jsonl or parquet target for this much data.",
                code="output-too-large",
            ) from None
        except xlsxwriter.exceptions.FileCreateError as e:
            raise OutputError(
                f"writing {self.kind.name}.xlsx failed: {e}",
                where=str(self.ctx.outdir),
                hint="check free disk space and permissions; no partial file is kept.",
                code="output-write-failed",
            ) from None
        self._parts.append((self._tmp, self._row - 1))
        self._book = self._sheet = self._tmp = None

    def _write_rows(self, columns: list[list[Cell]]) -> None:
        n = len(columns[0])
        for r in range(n):
            if self._book is None or self._row >= self.max_rows:
                self._finish_part()
                self._open_part()
            row = self._row
            ws = self._sheet
            fit = row <= WIDTH_ROWS
            for c, col in enumerate(columns):
                v = col[r]
                if v is None:
                    continue
                if isinstance(v, str):
                    ws.write_string(row, c, v)
                    if fit:
                        self._widths[c] = max(self._widths[c], len(v))
                    continue
                number, key = v
                ws.write_number(row, c, number, None if key is None else self._format(key))
                if fit:
                    shown = 10 if key == "date" else len(getattr(number, "text", str(number)))
                    self._widths[c] = max(self._widths[c], shown + shown // 3)
            self._row += 1

    def close(self) -> list[OutputFile]:
        """Finish the last workbook and rename every part into place."""
        if self._book is None and not self._parts:
            self._open_part()  # no records: the header alone, so the user sees the target ran
        self._finish_part()
        many = len(self._parts) > 1
        out = []
        for i, (tmp, rows) in enumerate(self._parts, start=1):
            name = f"{self.kind.name}-{i:03d}.xlsx" if many else f"{self.kind.name}.xlsx"
            out.append(publish(tmp, self.ctx.outdir / name, rows))
        self._parts = []
        return out

    def abort(self) -> None:
        """Remove temporary files; nothing of this run stays in the output folder."""
        self._book = self._sheet = None  # never closed, so never written
        tmps = [p for p, _ in self._parts] + ([self._tmp] if self._tmp else [])
        for p in tmps:
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
        self._parts = []
        self._tmp = None
