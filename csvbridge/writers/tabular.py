"""Generic typed targets for every kind: ``xlsx`` (an Excel workbook with typed cells),
``jsonl`` (one JSON object per record) and ``parquet`` (typed columns).

Each writes ``<kind>.<ext>`` with the kind's canonical fields in order, then the provenance
``source_file`` and ``source_line``; each is written atomically and byte-for-byte the same for
the same records, whatever the chunk size. The xlsx writer is in ``xlsx_table``.

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
    streamed (our own writer, ``xlsx_stream``, building the sheet XML column-wise as
    XlsxWriter's constant_memory mode would write it) and deterministic: a fixed creation
    date, and every zip member stamped with the same fixed time.

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
import json
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import __version__
from ..dates import format_dates
from ..model import LINE_COL, SOURCE_COL, FieldType, Kind
from ..money import CURRENCY_EXPONENTS, format_minor
from ..outfiles import write_error
from . import format as fmt
from .base import CsvSink, Option, OutputFile, Target, WriteContext, add_written
from .typed import (
    ALL_KINDS,
    PROVENANCE,
    PROVENANCE_DOCS,
    TypedWriter,
    header,
    publish,
    source_files,
    source_lines,
    temp_path,
    unlink_all,
    written_size,
)
from .xlsx_table import XlsxTableWriter

__all__ = [
    "ALL_KINDS",
    "COMPRESSION",
    "PROVENANCE",
    "PROVENANCE_DOCS",
    "TARGETS",
    "JsonlWriter",
    "ParquetSpool",
    "ParquetTableWriter",
    "TypedWriter",
    "XlsxTableWriter",
    "header",
    "publish",
    "source_files",
    "source_lines",
    "temp_path",
]

# -- Parquet --
ROW_GROUP = 100_000  # records per row group: fixed, so chunking never changes the bytes
DECIMAL_PRECISION = 18  # decimal128(18, scale): every parsed amount fits (int64 minor units)
_DECIMAL_LIMIT = 10**DECIMAL_PRECISION


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

    def finish(self, path: Path, *, shown: str = "", folder: Path | None = None) -> pa.Schema:
        """Write the Parquet file to ``path`` (row groups of ``ROW_GROUP`` records). A failure
        is reported as writing ``shown`` (default ``<kind>.parquet``) in ``folder`` (default:
        the file's folder), a full disk as such."""
        import pyarrow.parquet as pq  # here: jsonl and xlsx runs share this module

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
            name = shown or f"{self.kind.name}.parquet"
            raise write_error(e, folder or path.parent, name, written_size(path)) from None
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
        self._published: list[Path] = []

    def write(self, records: pa.Table) -> None:
        self.spool.add(records)
        add_written(self.tally, records, self.kind)

    def close(self) -> list[OutputFile]:
        tmp = temp_path(self.ctx.outdir, self.kind.name)
        try:
            self.spool.finish(tmp)
            path = self.ctx.outdir / f"{self.kind.name}.parquet"
            out = [publish(tmp, path, self.spool.rows)]
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            raise
        self._published.append(path)
        return out

    def abort(self) -> None:
        """Let the spool go, and remove the file if ``close`` published it: nothing of a failed
        run stays in the output folder."""
        self.spool.abort()
        unlink_all(self._published)
        self._published = []


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
