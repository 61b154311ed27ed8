"""Generic typed targets for every kind: ``xlsx`` (an Excel workbook with typed cells),
``jsonl`` (one JSON object per record) and ``parquet`` (typed columns).

Each writes ``<kind>.<ext>`` with the kind's canonical fields in order, then the provenance
``source_file`` and ``source_line``; each is written atomically and byte-for-byte the same for
the same records, whatever the chunk size.

xlsx
    One sheet named after the kind, its header frozen and filterable. Dates are real Excel
    dates (format ``yyyy-mm-dd``); dates before 1 March 1900, which Excel cannot hold (it has
    no dates before 1900 and a phantom 29 February 1900), are written as ISO text. Money is a
    number with its currency's decimals as the number format (``#,##0.00``, ``#,##0`` for
    JPY, ...), the cell holding the amount's exact decimal text: an amount of up to 15 digits
    (9,999,999,999,999.99 in a 2-decimal currency) is read back by Excel as exactly that
    amount. A longer one is more than a double (and Excel's 15 significant digits) can hold
    exactly, so it is written as text, never rounded. Decimal fields (quantities, prices) are
    numbers on the same rule, with their own decimals. Text is always a text cell: leading
    zeros survive (``0012``), and text that looks like a formula (``=SUM(A1)``) is text,
    never run, so no formula guard is needed or applied. A text longer than Excel's 32,767
    characters a cell is refused (rule ``text-too-long``) rather than truncated. A sheet
    holds at most 1,048,576 rows, so past 1,048,575 records the workbook is split into
    ``<kind>-001.xlsx``, ``<kind>-002.xlsx``, ... each with the header. The workbook is
    streamed (XlsxWriter's constant_memory) and deterministic: a fixed creation date, and
    XlsxWriter stamps every zip member with the same fixed time.

jsonl
    One JSON object per line (UTF-8, LF): every field of the kind, null where empty; money as
    a decimal string with its currency's decimals (``"-12.50"``, with the record's
    ``currency``); dates ISO 8601; decimals as their exact text; then ``source_file`` and
    ``source_line``.

parquet
    Typed columns: text as string, dates as date32, decimals as exact text. Money is
    ``decimal128(18, scale)`` with the currency's scale when every record has the same
    currency (named in the file's metadata, ``csvbridge.currency``); otherwise — several
    currencies, or no records — each money field is written as ``<field>_minor``, int64
    minor units of the record's ``currency``. Row groups hold a fixed number of records and
    no time is recorded, so two writes of the same records give the same bytes (``created_by``
    names the pyarrow version, so a different pyarrow may differ).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import xlsxwriter
import xlsxwriter.exceptions

from .. import __version__
from ..dates import format_dates
from ..errors import OutputError
from ..model import LINE_COL, SOURCE_COL, FieldType, Kind
from ..money import CURRENCY_EXPONENTS, format_minor
from ..outfiles import temp_file
from ..reports.ledger import Tally
from ..xlsx_numbers import ExactNumber as _Exact
from . import format as fmt
from .base import CsvSink, Option, OutputFile, Target, WriteContext, add_written, default_mode

ALL_KINDS = ("transaction", "invoice", "bill", "journal", "contact", "account", "item")
PROVENANCE = ("source_file", "source_line")
PROVENANCE_DOCS = {
    "source_file": "the input file the record came from",
    "source_line": "the line (or spreadsheet row) in that file where the record starts",
}

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

# -- Parquet --
ROW_GROUP = 100_000  # records per row group: fixed, so chunking never changes the bytes
DECIMAL_PRECISION = 18  # decimal128(18, scale): every parsed amount fits (int64 minor units)
_DECIMAL_LIMIT = 10**DECIMAL_PRECISION


def header(kind: Kind) -> tuple[str, ...]:
    """The columns of a generic target: the kind's fields, then the provenance."""
    return (*kind.field_names, *PROVENANCE)


def source_files(records: pa.Table, sources: list[str]) -> pa.Array:
    """Each record's input file name."""
    return pc.take(pa.array(sources, pa.string()), fmt.column(records, SOURCE_COL))


def source_lines(records: pa.Table) -> pa.Array:
    """Each record's line in its input file, as int64."""
    return pc.cast(fmt.column(records, LINE_COL), pa.int64())


class TypedWriter:
    """What the generic typed writers share: the context, the tallies for the tie-out, and
    refusing records with a reason."""

    def __init__(self, ctx: WriteContext) -> None:
        self.ctx = ctx
        self.kind = ctx.kind
        self.sources = ctx.sources
        self.tally = Tally()
        self.rejected = Tally()

    def reject(self, records: pa.Table, field: str, rule: str, message: str) -> None:
        """Refuse ``records`` for this target; they count as rejected in its tie-out and are
        listed in rejects.csv."""
        if not records.num_rows:
            return
        add_written(self.rejected, records, self.kind)
        if self.ctx.reject is not None:
            self.ctx.reject(self.ctx.target, records, field, rule, message)


def publish(tmp: Path, path: Path, rows: int) -> OutputFile:
    """Flush ``tmp`` to disk, give it a plain file's mode, rename it to ``path``; describe it."""
    digest = hashlib.sha256()
    size = 0
    try:
        with open(tmp, "rb+") as f:
            while block := f.read(1 << 20):
                digest.update(block)
                size += len(block)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, default_mode())
        os.replace(tmp, path)
    except OSError as e:
        raise OutputError(
            f"cannot write {path.name}: {e.strerror}",
            where=str(path.parent),
            hint="check free disk space and permissions; no partial file is kept.",
            code="output-write-failed",
        ) from None
    return OutputFile(path.name, rows, size, digest.hexdigest())


def temp_path(outdir: Path, stem: str) -> Path:
    """A new, empty temporary file beside the output (renamed into place by ``publish``)."""
    try:
        fd, path = temp_file(outdir, stem)
    except OSError as e:
        raise OutputError(
            f"cannot create files in the output folder: {e.strerror}",
            where=str(outdir),
            hint="check the folder exists, is writable, and the disk has space.",
            code="output-unwritable",
        ) from None
    os.close(fd)
    return path


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


# == jsonl ==================================================================================
def json_columns(records: pa.Table, kind: Kind, sources: list[str]) -> list[list[Any]]:
    """Each field as JSON-ready Python values: money as decimal text, dates ISO, then the
    provenance."""
    cols: list[list[Any]] = []
    exps: np.ndarray | None = None
    for f in kind.fields:
        col = fmt.column(records, f.name)
        if f.type is FieldType.DATE:
            col = format_dates(col, "YYYY-MM-DD")
        elif f.type is FieldType.MONEY:
            exps = fmt.exponents(records) if exps is None else exps
            col = format_minor(col, exps)
        cols.append(col.to_pylist())
    cols.append(source_files(records, sources).to_pylist())
    cols.append(source_lines(records).to_pylist())
    return cols


class JsonlWriter(TypedWriter):
    """Writes ``<kind>.jsonl``: one JSON object a line."""

    def __init__(self, ctx: WriteContext) -> None:
        super().__init__(ctx)
        self.keys = header(ctx.kind)
        self.sink = CsvSink(ctx.outdir, ctx.kind.name, [], extension=".jsonl", write_header=False)
        self._encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

    def lines(self, records: pa.Table) -> list[str]:
        keys, enc = self.keys, self._encode
        cols = json_columns(records, self.kind, self.sources)
        return [enc(dict(zip(keys, vals, strict=True))) + "\n" for vals in zip(*cols, strict=True)]

    def write(self, records: pa.Table) -> None:
        if records.num_rows:
            self.sink.write_lines(pa.array(self.lines(records), pa.string()))
        add_written(self.tally, records, self.kind)

    def close(self) -> list[OutputFile]:
        return self.sink.close()

    def abort(self) -> None:
        self.sink.abort()


# == parquet ================================================================================
class ParquetSpool:
    """Parquet for one kind's records, streamed: records are spooled to a temporary Arrow
    stream as they come; ``finish`` writes the Parquet file, choosing the money columns'
    type once every currency is known, in row groups of a fixed size."""

    def __init__(self, kind: Kind, sources: list[str], compression: str = "snappy") -> None:
        self.kind = kind
        self.sources = sources
        self.compression = compression
        self.money = [f.name for f in kind.fields if f.type is FieldType.MONEY]
        self.keep = [*kind.field_names, SOURCE_COL, LINE_COL]
        self.schema = pa.schema([kind.arrow_schema().field(n) for n in self.keep])
        self.currencies: set[str] = set()
        self.in_range = True  # every amount fits decimal128(18, scale)
        self.rows = 0
        self._spool: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed in finish/abort
        self._stream: Any = None

    def add(self, records: pa.Table) -> None:
        if not records.num_rows:
            return
        table = records.select(self.keep).cast(self.schema)
        if "currency" in self.kind.field_names:
            codes = pc.unique(fmt.column(table, "currency")).drop_null().to_pylist()
            self.currencies.update(codes)
        for name in self.money:
            lo_hi = pc.min_max(fmt.column(table, name)).as_py()
            lo, hi = lo_hi["min"], lo_hi["max"]
            if lo is not None and (lo <= -_DECIMAL_LIMIT or hi >= _DECIMAL_LIMIT):
                self.in_range = False
        if self._stream is None:
            self._stream = pa.ipc.new_stream(self._spool, self.schema)
        self._stream.write_table(table)
        self.rows += table.num_rows

    @property
    def currency(self) -> str | None:
        """The one currency of every record, when money is written as decimals."""
        if self.money and len(self.currencies) == 1 and self.in_range:
            return next(iter(self.currencies))
        return None

    def output_schema(self) -> pa.Schema:
        """The Parquet file's columns, each with its description in the field metadata."""
        cur = self.currency
        scale = CURRENCY_EXPONENTS.get(cur, 2) if cur else 0
        fields = []
        for f in self.kind.fields:
            doc = f.doc or f.name
            if f.type is FieldType.MONEY and cur:
                fields.append(
                    pa.field(
                        f.name,
                        pa.decimal128(DECIMAL_PRECISION, scale),
                        metadata={"description": f"{doc} ({cur})"},
                    )
                )
            elif f.type is FieldType.MONEY:
                fields.append(
                    pa.field(
                        f"{f.name}_minor",
                        pa.int64(),
                        metadata={"description": f"{doc}, in minor units of the currency"},
                    )
                )
            else:
                fields.append(
                    pa.field(f.name, self.schema.field(f.name).type, metadata={"description": doc})
                )
        for name in PROVENANCE:
            typ = pa.string() if name == "source_file" else pa.int64()
            fields.append(pa.field(name, typ, metadata={"description": PROVENANCE_DOCS[name]}))
        meta = {
            "csvbridge.version": __version__,
            "csvbridge.kind": self.kind.name,
            "csvbridge.money": (
                f"decimal128, {cur}"
                if cur
                else "int64 minor units of each record's currency (<field>_minor)"
            )
            if self.money
            else "none",
        }
        if cur:
            meta["csvbridge.currency"] = cur
        return pa.schema(fields, metadata=meta)

    def _convert(self, table: pa.Table, schema: pa.Schema) -> pa.Table:
        cols = []
        for f in self.kind.fields:
            col = fmt.column(table, f.name)
            if f.type is FieldType.MONEY and self.currency:
                typ = schema.field(f.name).type
                col = pc.cast(col, pa.decimal128(DECIMAL_PRECISION + 1, 0)).view(typ)
            cols.append(col)
        cols.append(source_files(table, self.sources))
        cols.append(source_lines(table))
        return pa.Table.from_arrays(cols, schema=schema)

    def _batches(self) -> Iterator[pa.Table]:
        if self._stream is None:
            return
        self._stream.close()
        self._stream = None
        self._spool.seek(0)
        reader = pa.ipc.open_stream(self._spool)
        for batch in reader:
            yield pa.Table.from_batches([batch])

    def finish(self, path: Path) -> pa.Schema:
        """Write the Parquet file to ``path`` (row groups of ``ROW_GROUP`` records)."""
        schema = self.output_schema()
        comp = None if self.compression == "none" else self.compression
        try:
            with pq.ParquetWriter(
                str(path), schema, compression=comp, version="2.6", use_dictionary=True
            ) as w:
                pending: list[pa.Table] = []
                count = 0

                def flush(final: bool) -> None:
                    nonlocal pending, count
                    if not pending:
                        return
                    table = pa.concat_tables(pending).combine_chunks()
                    full = count if final else count - count % ROW_GROUP
                    for start in range(0, full, ROW_GROUP):
                        w.write_table(table.slice(start, min(ROW_GROUP, full - start)))
                    rest = table.slice(full)
                    pending, count = ([rest], rest.num_rows) if rest.num_rows else ([], 0)

                for t in self._batches():
                    pending.append(self._convert(t, schema))
                    count += t.num_rows
                    if count >= ROW_GROUP:
                        flush(False)
                flush(True)
        except OSError as e:
            raise OutputError(
                f"writing {path.name} failed: {e}",
                where=str(path.parent),
                hint="check free disk space and permissions; no partial file is kept.",
                code="output-write-failed",
            ) from None
        finally:
            self._spool.close()
        return schema

    def abort(self) -> None:
        self._spool.close()


COMPRESSION = Option(
    "compression",
    ("snappy", "zstd", "none"),
    "snappy",
    "Parquet compression: snappy (read everywhere), zstd (smaller), none",
)


class ParquetTableWriter(TypedWriter):
    """Writes ``<kind>.parquet``."""

    def __init__(self, ctx: WriteContext) -> None:
        super().__init__(ctx)
        self.spool = ParquetSpool(
            ctx.kind, ctx.sources, ctx.options.get("compression", COMPRESSION.default)
        )

    def write(self, records: pa.Table) -> None:
        self.spool.add(records)
        add_written(self.tally, records, self.kind)

    def close(self) -> list[OutputFile]:
        tmp = temp_path(self.ctx.outdir, self.kind.name)
        try:
            self.spool.finish(tmp)
            return [publish(tmp, self.ctx.outdir / f"{self.kind.name}.parquet", self.spool.rows)]
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            raise

    def abort(self) -> None:
        self.spool.abort()


_COLUMNS = ("<the kind's fields>", *PROVENANCE)
Factory = Callable[[WriteContext], Any]

TARGETS = [
    Target(
        name="xlsx",
        kinds=ALL_KINDS,
        title="Excel workbook, typed cells",
        doc="One sheet named after the kind, header frozen: dates as Excel dates "
        "(yyyy-mm-dd), money as numbers with the currency's decimals, decimals as numbers, "
        "text always as text (leading zeros kept, formulas never run), then source_file and "
        "source_line.",
        columns=_COLUMNS,
        required=(),
        limits="1,048,576 rows a sheet (header included): more records go into "
        "<kind>-001.xlsx, <kind>-002.xlsx, ...; 32,767 characters a text cell (longer is "
        "refused, rule text-too-long)",
        factory=XlsxTableWriter,
        notes=(
            "An amount or decimal of more than 15 digits, which a spreadsheet number cannot "
            "hold exactly, is written as text, never rounded.",
            "Dates before 1900-03-01, which Excel cannot hold, are written as ISO text.",
            "No formula guard: every text is a text cell, which Excel never runs.",
        ),
    ),
    Target(
        name="jsonl",
        kinds=ALL_KINDS,
        title="JSON Lines",
        doc="One JSON object per record, every field of the kind (null when empty): money as "
        "a decimal string with the currency's decimals (\"-12.50\") beside the record's "
        "currency, ISO 8601 dates, decimals as exact text, then source_file and "
        "source_line. UTF-8, LF.",
        columns=_COLUMNS,
        required=(),
        limits="none",
        factory=JsonlWriter,
    ),
    Target(
        name="parquet",
        kinds=ALL_KINDS,
        title="Apache Parquet, typed columns",
        doc="Typed columns: text as string, dates as date32, decimals as exact text, money as "
        "decimal128(18, the currency's decimals) when every record has one currency, else "
        "<field>_minor (int64 minor units of the record's currency); then source_file and "
        "source_line. Each column's description is in its field metadata.",
        columns=_COLUMNS,
        required=(),
        limits="none",
        factory=ParquetTableWriter,
        options=(COMPRESSION,),
        notes=(
            "Deterministic: fixed row groups of 100,000 records and no timestamps, so the "
            "same records give the same bytes with the same pyarrow.",
        ),
    ),
]
