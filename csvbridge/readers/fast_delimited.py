"""The fast path for delimited text: pyarrow's streaming CSV parser in place of the csv module's
per-row loop, giving exactly the chunks the Python path gives.

The Python path (``delimited._rows`` + ``TableFinder``) stays the reference. It reads the first
rows and finds the preamble and header. This module then takes over from the first data line and
re-parses it with pyarrow. It produces the same cells (text, never typed), the same physical line
numbers, the same ragged-row problems, blank-line count and footer, and the same error for a
field over the size limit. Whether to take the fast path is decided once, before any chunk is
produced (``plan``); it never switches paths in the middle of a file. It declines, leaving the
Python path to read the file, when:

- the encoding is not UTF-8 (or an ASCII superset with an all-ASCII file), or the bytes are
  not valid in it: the Python path's handling of undecodable bytes (rows rejected with the
  bytes named) is not reproduced here;
- the data starts on the file's first line and its first cell starts with a byte-order mark
  (``_rows`` strips it from the first cell after decoding, and quoting changes what that is);
- the dialect is not a single-character delimiter and quote;
- there is no path to reopen the file, or CSVBRIDGE_CSV_READER=python.

How the rows are matched up:

- pyarrow parses with ``newlines_in_values`` (quoted line breaks), ``ignore_empty_lines=False``
  (a blank line becomes a row of empty cells, which is then counted as blank) and every column
  as a string. It is serial (``use_threads=False``), the only mode where the invalid-row
  handler is told the row's logical number.
- Rows of a different width go to the invalid-row handler, which records the logical row
  number. Such a row is read again from the file by the csv module, from its physical line (a
  forward-only cursor finds that line's byte offset), and put back in its place in file order.
  pyarrow's own copy of the row text is not used. In pyarrow 26 it can lose the ``\n`` of a
  ``\r\n`` inside a quoted value when a block boundary falls between the two.
- Files whose first rows are mostly irregular, and tables wider than ``MAX_COLUMNS``, are left
  to the Python path, which is as fast or faster for them.
- A row's physical line is the data start line plus its index among all rows plus the line
  breaks inside earlier rows. Within a cell, a break is ``\\n``, a ``\\r`` not followed by
  ``\\n``, or ``\\r\\n``, as io.TextIOWrapper(newline="") splits lines. Breaks are found with
  numpy on the string arrays' buffers.
- Blank rows, rows narrower or wider than the header, and the footer (the trailing short rows)
  follow ``TableFinder._data_rows`` rule for rule. Common rows are handled a whole batch at a
  time; only irregular rows go through Python.
- pyarrow reads the file through ``_HoldBackCR``, which never ends a block between ``\r`` and
  ``\n``. pyarrow 26 drops that ``\n`` even inside a quoted value (apache/arrow#51368).
- pyarrow refuses a row longer than its block ("straddling object"). The reader is then
  reopened at that row (its line is known, the cursor finds its byte offset) with a block 4x
  larger. The parse is the same, so the output is unchanged.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import sys
from collections import deque
from collections.abc import Generator, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ..errors import InputFileError
from .base import RawChunk
from .fast_chunks import (
    PY_WHITESPACE,
    IntArray,
    _breaks,
    _Chunks,
    _Row,
    _Run,
    _text_breaks,
    data_rows,
)
from .fast_io import _HoldBackCR, _line_offset, _LineCursor, _plain_quoting, _valid
from .table import TableFinder, _blank

# pyarrow's block. Parsing speed is flat from 128 KiB to 4 MiB, but the streaming reader's peak
# memory grows with the block (1M rows: +20 MB over the csv module's reader at 256 KiB, +120 MB
# at 4 MiB, as measured when this reader was written). A row longer than a block makes the
# reader reopen with a block 4x larger.
BLOCK_SIZE = 256 << 10
# Above this share of irregular rows among the first rows, the Python path is as fast.
IRREGULAR_SHARE = 0.25
# Wider tables are left to the Python path: pyarrow's cost per column (and this module's compute
# calls per column and batch) makes 1,000 columns a tie and 5,000 three times slower with 30%
# more memory; 100,000 columns x 5 rows took 1.5 GB (measured when this reader was written).
MAX_COLUMNS = 500
__all__ = ["ENV_READER", "PY_WHITESPACE", "plan"]
ENV_READER = "CSVBRIDGE_CSV_READER"  # "python" forces the Python path (debugging, benchmarks)

_UTF8 = frozenset({"utf-8", "utf-8-sig"})
# Decode the bytes 0x00-0x7F as ASCII. A file of only those bytes reads the same as UTF-8.
_ASCII_SUPERSETS = frozenset({"ascii", "cp1252", "latin-1", "iso8859-1", "iso8859-15"})


def plan(finder: TableFinder, size: int) -> Iterator[RawChunk] | None:
    """The fast path's chunks for ``finder``, or None when it does not apply (decided here, before
    any chunk is made: the Python path then reads the whole file)."""
    if os.environ.get(ENV_READER, "").lower() == "python":
        return None
    info, opts = finder.info, finder.options
    enc = info.detections.get("encoding")
    path = info.path
    delim, quote = finder.delimiter, opts.quotechar
    if enc is None or path is None or len(delim) != 1 or len(quote) != 1 or delim == quote:
        return None
    if delim in "\r\n" or quote in "\r\n":
        return None
    encoding = codecs.lookup(enc.value).name
    if encoding not in _UTF8 and encoding not in _ASCII_SUPERSETS:
        return None
    if not finder._buffer:
        # The header was the last row read: peek at the next, so we know where the data starts.
        # It goes back in the buffer, where the Python path would find it.
        item = next(finder.rows, None)
        if item is None:
            return None
        finder._buffer.append(item)
    start_line = finder._buffer[0][0]
    try:
        with path.open("rb") as f:
            offset = _line_offset(f, start_line)
            if offset is None:
                return None
            # _rows strips a mark that starts the file's first cell, quoted or not
            if offset == 0 and codecs.BOM_UTF8 in f.read(4):
                return None
            if not _valid(f, ascii_only=encoding not in _UTF8):
                return None
            if not _plain_quoting(f, offset, quote, delim):
                return None
    except OSError:
        return None
    width, irregular, rows = _widths(finder)
    if rows >= 20 and irregular > IRREGULAR_SHARE * rows:
        return None
    if max(width, finder.width) > MAX_COLUMNS:
        return None
    return _FastReader(finder, path, offset, start_line).chunks(size)


class _FastReader:
    def __init__(self, finder: TableFinder, path: Path, offset: int, start_line: int) -> None:
        self.finder = finder
        self.path = path
        self.offset = offset
        self.start_line = start_line
        self.width = finder.width
        self.limit = min(finder.options.max_field_size, sys.maxsize)
        self.parse_width = _widths(finder)[0]
        self.cursor: _LineCursor | None = None  # to read irregular rows again (opened lazily)
        self.source: _HoldBackCR | None = None  # what pyarrow reads
        self._next_line = start_line

    # -- rows in file order -------------------------------------------------------------------
    def _open(self, offset: int, block_size: int, invalid: list[int]) -> pacsv.CSVStreamingReader:
        if self.source is not None:
            self.source.close()
        self.source = _HoldBackCR(self.path, offset)

        def on_invalid(row: pacsv.InvalidRow) -> str:
            # Only the row's number is used: pyarrow's row.text can lose the \n of a \r\n that
            # a block boundary splits (pyarrow 26), so the row is read again from the file.
            invalid.append(int(row.number))
            return "skip"

        names = [f"c{i}" for i in range(self.parse_width)]
        return pacsv.open_csv(
            pa.PythonFile(self.source, mode="r"),
            read_options=pacsv.ReadOptions(
                column_names=names, block_size=block_size, use_threads=False
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=self.finder.delimiter,
                quote_char=self.finder.options.quotechar,
                double_quote=True,
                escape_char=False,
                newlines_in_values=True,
                ignore_empty_lines=False,
                invalid_row_handler=on_invalid,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                check_utf8=False,  # the whole file was validated up front
            ),
        )

    def segments(self) -> Generator[_Run | _Row, None, None]:
        """Every row from the data start, in file order, with its physical line."""
        block = BLOCK_SIZE
        invalid: list[int] = []
        reader: pacsv.CSVStreamingReader | None = None
        offset = self.offset  # where the reader started
        consumed = 0  # logical rows delivered since then (pyarrow counts from there)
        line = self.start_line  # the next row's line
        queue: deque[int] = deque()
        while True:
            batch: pa.RecordBatch | None
            if reader is None and self._starts_with_bom(offset):
                # pyarrow strips a byte-order mark at the start of its stream, which here is a
                # data cell's text: the csv module reads that record, pyarrow the rest.
                cells, spans = self._record(line, irregular=False)
                yield _Row(cells, line)
                line += spans
                after = self._cursor().seek_line(line, at_end=True)
                if after is None:  # that record was the file's last
                    return
                offset = after
                continue
            try:
                if reader is None:
                    reader = self._open(offset, block, invalid)  # reads the first block
                batch = reader.read_next_batch()
            except StopIteration:
                batch = None
            except pa.ArrowInvalid as e:
                if "straddling" not in str(e) or block >= 4 * max(self.path.stat().st_size, 1):
                    raise self._malformed(str(e), line) from None
                # A row longer than the block: read on from the next row, whose line we know,
                # with a larger block. The parse does not depend on where it starts.
                block *= 4
                offset = self._cursor().seek_line(line)
                invalid.clear()
                queue.clear()
                consumed = 0
                reader = None
                continue
            queue.extend(i for i in invalid if i > consumed)
            invalid.clear()
            if batch is None:  # only irregular rows remain, one after another
                rest = list(queue)
                if rest != list(range(consumed + 1, consumed + 1 + len(rest))):
                    raise RuntimeError("fast CSV reader: irregular rows out of order at the end")
                yield from self._merge([], 0, rest, line, consumed)
                return
            arrays = list(batch.columns)
            n = batch.num_rows
            placed: list[int] = []
            while queue and queue[0] - consumed - 1 - len(placed) <= n:
                placed.append(queue.popleft())
            if n == 0 and not placed:
                continue
            yield from self._merge(arrays, n, placed, line, consumed)
            line = self._next_line
            consumed += n + len(placed)

    def _merge(
        self, arrays: list[pa.Array], n: int, placed: list[int], line: int, consumed: int
    ) -> Iterator[_Run | _Row]:
        """A batch's ``n`` rows and the irregular rows ``placed`` (logical numbers) among them,
        in file order, each with its line (``line`` is the first's); sets ``_next_line`` to the
        line after them. A field over the size limit raises the csv module's error in turn."""
        before: IntArray = np.zeros(n + 1, dtype=np.int64)  # breaks in batch rows before row i
        if n:
            np.cumsum(_breaks(arrays, n), out=before[1:])
        too_long = self._first_too_long(arrays) if n else None
        extra = 0  # line breaks inside the irregular rows so far
        prev = 0  # batch rows given so far
        for j in range(len(placed) + 1):
            upto = placed[j] - consumed - 1 - j if j < len(placed) else n
            if upto > prev:
                rows = np.arange(prev, upto, dtype=np.int64)
                lines = line + rows + j + before[prev:upto] + extra
                if too_long is not None and too_long[0] < upto:
                    row, col = too_long
                    if row > prev:
                        yield _Run([a.slice(prev, row - prev) for a in arrays], lines[: row - prev])
                    raise self._field_error(arrays, row, col, int(lines[row - prev]))
                yield _Run([a.slice(prev, upto - prev) for a in arrays], lines)
            prev = upto
            if j < len(placed):
                at = line + upto + j + int(before[upto]) + extra
                cells, spans = self._record(at)
                extra += spans - 1
                yield _Row(cells, at)
        self._next_line = line + n + len(placed) + int(before[n]) + extra

    def _cursor(self) -> _LineCursor:
        if self.cursor is None:
            self.cursor = _LineCursor(self.path, self.start_line, self.offset)
        return self.cursor

    def _starts_with_bom(self, offset: int) -> bool:
        with self.path.open("rb") as f:
            f.seek(offset)
            return f.read(len(codecs.BOM_UTF8)) == codecs.BOM_UTF8

    def _record(self, line: int, *, irregular: bool = True) -> tuple[list[str], int]:
        """The csv module's record starting on physical ``line``, and how many lines it spans:
        what the Python path reads there, read the same way. ``irregular``: pyarrow found the
        record of another width (checked: the two parsers must agree)."""
        cursor = self._cursor()
        cursor.f.seek(cursor.seek_line(line))
        text = io.TextIOWrapper(cursor.f, encoding="utf-8", newline="")
        reader = csv.reader(
            text,
            delimiter=self.finder.delimiter,
            quotechar=self.finder.options.quotechar,
            strict=False,
        )
        try:
            cells = next(reader, None)
        except csv.Error as e:  # a field over the size limit
            raise self._malformed(str(e), line + reader.line_num - 1) from None
        finally:
            text.detach()
        if cells is None or (irregular and len(cells) == self.parse_width):
            raise RuntimeError(
                f"fast CSV reader: pyarrow and the csv module split the rows at line {line} "
                f"differently; set {ENV_READER}=python to read this file with the csv module"
            )
        return cells, reader.line_num

    # -- the field size limit -------------------------------------------------------------------
    def _first_too_long(self, arrays: list[pa.Array]) -> tuple[int, int] | None:
        """(row, column) of the first cell over the csv module's field size limit, in the order
        the csv module reads them."""
        first: tuple[int, int] | None = None
        for col, arr in enumerate(arrays):
            if (pc.max(pc.binary_length(arr)).as_py() or 0) <= self.limit:
                continue  # bytes >= characters
            over = np.flatnonzero(
                pc.greater(pc.utf8_length(arr), self.limit).to_numpy(zero_copy_only=False)
            )
            if len(over) and (first is None or (int(over[0]), col) < first):
                first = (int(over[0]), col)
        return first

    def _field_error(self, arrays: list[pa.Array], row: int, col: int, line: int) -> Exception:
        """The csv module's error for a field over the limit: it stops at the field's
        (limit + 1)th character, on the physical line holding it."""
        earlier = sum(_text_breaks(str(arrays[j][row].as_py())) for j in range(col))
        field = str(arrays[col][row].as_py())[: self.limit + 1]
        within = sum(1 for m in re.finditer(r"\r\n|\r|\n", field) if m.end() <= self.limit)
        return self._malformed(
            f"field larger than field limit ({self.limit})", line + earlier + within
        )

    def _malformed(self, message: str, line: int) -> InputFileError:
        return InputFileError(
            f"the CSV cannot be parsed: {message}",
            where=f"{self.finder.info.name}, line {line}",
            hint="a field may exceed the size limit or the quoting is broken from here on; "
            "check the file near that line.",
            code="csv-malformed",
        )

    # -- TableFinder._data_rows, a batch at a time ----------------------------------------------
    def chunks(self, size: int) -> Iterator[RawChunk]:
        """TableFinder.chunks: the data rows in chunks of ``size``; the footer at the end."""
        pending: list[tuple[int, list[str]]] = []  # short rows that may be the footer
        out = _Chunks(self.finder, size)
        segments = self.segments()
        try:
            yield from data_rows(self.finder, self.width, self.parse_width, segments, out, pending)
        finally:
            segments.close()
            if self.cursor is not None:
                self.cursor.f.close()
            if self.source is not None:
                self.source.close()
        for line, cells in pending:
            self.finder.info.footer.append((line, self.finder._text(cells)))
        yield from out.rest()


def _widths(finder: TableFinder) -> tuple[int, int, int]:
    """(width pyarrow should parse, irregular rows, rows) over the buffered non-blank data rows.
    The width is the header's, or the commonest when rows leave out blank-headed columns or all
    carry a trailing delimiter: rows of that width are handled a batch at a time."""
    w, short_ok = finder.width, finder.width - finder.slack
    widths: dict[int, int] = {}
    for _, cells in finder._buffer:
        if not _blank(cells):
            widths[len(cells)] = widths.get(len(cells), 0) + 1
    if not widths:
        return w, 0, 0
    modal = max(widths.items(), key=lambda kv: (kv[1], kv[0] == w))[0]
    width = modal if modal >= short_ok else w
    rows = sum(widths.values())
    return width, rows - widths.get(width, 0), rows
