"""The ``xlsx`` target's writer: records as typed cells (see ``tabular``'s docstring for what
each field becomes), a column at a time, through our streaming SpreadsheetML writer
(``xlsx_stream``)."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from .. import __version__
from ..dates import format_dates
from ..errors import OutputError
from ..model import FieldType
from ..money import format_minor
from ..outfiles import write_error
from . import format as fmt
from .base import OutputFile, WriteContext, add_written
from .typed import (
    TypedWriter,
    header,
    publish,
    source_files,
    source_lines,
    temp_path,
    unlink_all,
    written_size,
)
from .xlsx_cells import (
    EMPTY,
    MAX_TEXT,
    MAX_WIDTH,
    NUMBER,
    TEXT,
    Column,
    places_format,
    text_column,
)
from .xlsx_stream import SheetWriter
from .xlsx_zip import TooLarge

CREATED = datetime(2000, 1, 1, tzinfo=UTC)  # fixed: the same records give the same bytes
MAX_ROWS = 1_048_576  # Excel's rows per sheet, header included
MAX_DIGITS = 15  # significant digits Excel keeps; up to this a decimal round-trips a double
EXCEL_EPOCH = 25_569  # days from Excel's day 0 (1899-12-30) to 1970-01-01
FIRST_EXCEL_DAY = -25_508  # 1900-03-01 in days since 1970: earlier serials are wrong in Excel
LAST_EXCEL_DAY = 2_932_896  # 9999-12-31
WIDTH_ROWS = 1_000  # column widths are fitted to the header and the first rows of a part
DATE_FORMAT = "yyyy-mm-dd"
_PLAIN_DECIMAL = r"^-?[0-9]+(\.[0-9]+)?$"

IntArray = npt.NDArray[np.int64]


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _kinds(valid: npt.NDArray[np.bool_], number: npt.NDArray[np.bool_]) -> npt.NDArray[np.int8]:
    return np.where(valid, np.where(number, NUMBER, TEXT), EMPTY).astype(np.int8)


class Cells:
    """One column's cells before styles are numbered: the Column and, per row, the number
    format each number cell takes (an index into ``codes``; -1 for none)."""

    def __init__(self, column: Column, codes: list[str], key: IntArray) -> None:
        self.column = column
        self.codes = codes
        self.key = key


def _plain(column: Column) -> Cells:
    return Cells(column, [], np.full(len(column.kind), -1, dtype=np.int64))


class XlsxTableWriter(TypedWriter):
    """Writes ``<kind>.xlsx`` (split into numbered files past Excel's rows a sheet)."""

    max_rows = MAX_ROWS

    def __init__(self, ctx: WriteContext) -> None:
        super().__init__(ctx)
        self.columns = header(ctx.kind)
        self._parts: list[tuple[Path, int]] = []  # finished temp files and their data rows
        self._published: list[Path] = []  # renamed into place by close
        self._tmp: Path | None = None
        self._sheet: SheetWriter | None = None
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
        start, n = 0, records.num_rows
        while start < n:
            if self._sheet is None or self._sheet.rows >= self.max_rows:
                self._finish_part()
                self._open_part()
            assert self._sheet is not None
            take = min(n - start, self.max_rows - self._sheet.rows)
            self._add(self._cells(records.slice(start, take)))
            start += take
        add_written(self.tally, records, self.kind)

    # -- cells --
    def _cells(self, records: pa.Table) -> list[Cells]:
        out: list[Cells] = []
        exps: npt.NDArray[np.int64] | None = None
        for f in self.kind.fields:
            col = fmt.column(records, f.name)
            if f.type is FieldType.DATE:
                out.append(_date_cells(col))
            elif f.type is FieldType.MONEY:
                exps = fmt.exponents(records) if exps is None else exps
                out.append(_money_cells(col, exps))
            elif f.type is FieldType.DECIMAL:
                out.append(_decimal_cells(col))
            else:
                out.append(_plain(text_column(col)))
        out.append(_plain(text_column(source_files(records, self.sources))))
        lines = source_lines(records)
        n = len(lines)
        number = Column(np.full(n, NUMBER, np.int8), lines.cast(pa.string()), np.zeros(n, np.int64))
        out.append(_plain(number))
        return out

    def _add(self, cells: list[Cells]) -> None:
        sheet = self._sheet
        assert sheet is not None
        # Styles are numbered in the order their formats are first used, row by row: the
        # same records give the same numbers however they are chunked.
        first: list[tuple[int, int, str]] = []
        for j, c in enumerate(cells):
            keys, at = np.unique(c.key, return_index=True)
            first += [(int(i), j, c.codes[k]) for k, i in zip(keys, at, strict=True) if k >= 0]
        for _, _, code in sorted(first):
            sheet.styles.number(code)
        columns = []
        for c in cells:
            col = c.column
            if c.codes:
                ids = np.array([sheet.styles.number(code) for code in c.codes], dtype=np.int64)
                col.style = np.where(c.key >= 0, ids[np.maximum(c.key, 0)], 0)
            columns.append(col)
        date_style = sheet.styles.find(DATE_FORMAT)
        self._fit(columns, sheet.rows, -1 if date_style is None else date_style)
        try:
            sheet.add(columns)
        except TooLarge:
            raise self._too_large() from None
        except OSError as e:
            raise self._write_failed(e) from None

    def _fit(self, columns: list[Column], row: int, date_style: int) -> None:
        """Widen the columns to the cells of the first WIDTH_ROWS rows of the part."""
        k = min(len(columns[0].kind), max(0, WIDTH_ROWS + 1 - row))
        if not k:
            return
        for j, col in enumerate(columns):
            length = np.asarray(pc.utf8_length(col.text.slice(0, k)), dtype=np.int64)
            kind, style = col.kind[:k], col.style[:k]
            number = np.where(style == date_style, 10, length)
            shown = np.where(
                kind == TEXT, length, np.where(kind == NUMBER, number + number // 3, 0)
            )
            self._widths[j] = max(self._widths[j], int(shown.max()))

    # -- the workbook --
    def _open_part(self) -> None:
        self._tmp = temp_path(self.ctx.outdir, self.kind.name)
        props = {
            "title": f"{self.kind.name} records",
            "author": "csvbridge",
            "comments": f"Written by csvbridge {__version__} (target xlsx)",
        }
        self._sheet = SheetWriter(self._tmp, self.kind.name, self.columns, props)
        self._widths = [len(n) for n in self.columns]

    def _finish_part(self) -> None:
        if self._sheet is None or self._tmp is None:
            return
        widths = [min(max(w, 8), MAX_WIDTH) + 2 for w in self._widths]
        try:
            self._sheet.close(widths, CREATED)
        except TooLarge:
            raise self._too_large() from None
        except OSError as e:
            raise self._write_failed(e) from None
        self._parts.append((self._tmp, self._sheet.rows - 1))
        self._sheet = None
        self._tmp = None

    def _write_failed(self, e: OSError) -> OutputError:
        written = sum(written_size(p) for p, _ in self._parts) + written_size(self._tmp)
        return write_error(e, self.ctx.outdir, f"{self.kind.name}.xlsx", written)

    def _too_large(self) -> OutputError:
        return OutputError(
            f"{self.kind.name}.xlsx would pass 4 GB, the most a workbook without ZIP64 holds",
            where=str(self.ctx.outdir),
            hint="use the csv, jsonl or parquet target for this much data.",
            code="output-too-large",
        )

    def close(self) -> list[OutputFile]:
        """Finish the last workbook and rename every part into place."""
        if self._sheet is None and not self._parts:
            self._open_part()  # no records: the header alone, so the user sees the target ran
        self._finish_part()
        many = len(self._parts) > 1
        out = []
        for i, (tmp, rows) in enumerate(self._parts, start=1):
            name = f"{self.kind.name}-{i:03d}.xlsx" if many else f"{self.kind.name}.xlsx"
            out.append(publish(tmp, self.ctx.outdir / name, rows))
            self._published.append(self.ctx.outdir / name)
        self._parts = []
        return out

    def abort(self) -> None:
        """Remove temporary files, and the workbooks ``close`` already published: nothing of
        this run stays in the output folder (the run failed after all)."""
        unlink_all(self._published)
        self._published = []
        if self._sheet is not None:
            self._sheet.abort()
        self._sheet = None
        tmps = [p for p, _ in self._parts] + ([self._tmp] if self._tmp else [])
        for p in tmps:
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
        self._parts = []
        self._tmp = None


def _date_cells(col: pa.Array) -> Cells:
    """Excel dates (serials, ``yyyy-mm-dd``); days Excel cannot hold as ISO text."""
    days = np.asarray(pc.fill_null(col.cast(pa.int32()), 0), dtype=np.int64)
    valid = np.asarray(col.is_valid(), dtype=bool)
    excel = (days >= FIRST_EXCEL_DAY) & (days <= LAST_EXCEL_DAY)
    serial = pa.array(days + EXCEL_EPOCH).cast(pa.string())
    text = pc.if_else(pa.array(excel), serial, format_dates(col, "YYYY-MM-DD"))
    key = np.where(valid & excel, 0, -1).astype(np.int64)
    kind = _kinds(valid, excel)
    return Cells(
        Column(kind, pc.fill_null(text, ""), np.zeros(len(kind), np.int64)), [DATE_FORMAT], key
    )


def _money_cells(col: pa.Array, exps: npt.NDArray[np.int64]) -> Cells:
    """Amounts of up to 15 digits as numbers with their currency's decimals; longer as text."""
    minor = np.asarray(pc.fill_null(col, 0), dtype=np.int64)
    valid = np.asarray(col.is_valid(), dtype=bool)
    fits = (minor > -(10**MAX_DIGITS)) & (minor < 10**MAX_DIGITS)
    text = pc.fill_null(format_minor(col, exps), "")
    places = np.unique(exps)
    codes = [places_format(int(p)) for p in places]
    key = np.where(valid & fits, np.searchsorted(places, exps), -1).astype(np.int64)
    kind = _kinds(valid, fits)
    return Cells(Column(kind, text, np.zeros(len(kind), np.int64)), codes, key)


def _decimal_cells(col: pa.Array) -> Cells:
    """Plain decimals of up to 15 significant digits as numbers with their own decimals;
    anything else as text."""
    text = pc.fill_null(col, "")
    valid = np.asarray(pc.utf8_length(text), dtype=np.int64) > 0
    plain = np.asarray(pc.match_substring_regex(text, _PLAIN_DECIMAL), dtype=bool)
    digits = pc.utf8_length(pc.utf8_ltrim(pc.replace_substring_regex(text, "[-.]", ""), "0"))
    number = plain & (np.maximum(np.asarray(digits, dtype=np.int64), 1) <= MAX_DIGITS)
    dot = np.asarray(pc.find_substring(text, "."), dtype=np.int64)
    length = np.asarray(pc.utf8_length(text), dtype=np.int64)
    places = np.where(dot >= 0, length - dot - 1, 0)
    used = np.unique(places[number]) if number.any() else np.zeros(0, np.int64)
    codes = [places_format(int(p)) for p in used]
    key = np.where(number, np.searchsorted(used, places), -1).astype(np.int64)
    kind = _kinds(valid, number)
    return Cells(Column(kind, text, np.zeros(len(kind), np.int64)), codes, key)
