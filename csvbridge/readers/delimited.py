"""Delimited text (CSV, TSV, semicolon, pipe) read as text, streaming, with line numbers."""

from __future__ import annotations

import codecs
import csv
import io
import sys
from collections.abc import Iterator
from typing import BinaryIO

from ..errors import CsvbridgeError, InputFileError
from ..limits import Limits, exceeded, format_value
from . import fast_delimited
from .base import ReadOptions, RowProblem, SourceInfo
from .detect import detect_dialect, detect_encoding, mixed_encoding_warning, read_sample
from .table import TableFinder, _shape, clean

ESCAPE_ERRORS = "csvbridge-escape"
# A file with more quotes never closed than this has no usable quoting: it is refused.
MAX_RUNAWAY_QUOTES = 100


def _escape(err: UnicodeError) -> tuple[str, int]:
    """Like surrogateescape, but for every undecodable byte (surrogateescape refuses bytes
    below 0x80, which a truncated UTF-16 file has): each becomes U+DC00 + byte, so the row
    can be found and rejected with the bytes named, and reading goes on."""
    if not isinstance(err, UnicodeDecodeError):
        raise err
    bad = err.object[err.start : err.end]
    return "".join(chr(0xDC00 + b) for b in bad), err.end


codecs.register_error(ESCAPE_ERRORS, _escape)


def open_delimited(f: BinaryIO, info: SourceInfo, options: ReadOptions) -> TableFinder:
    """Detect encoding and dialect, then find the table; rows are read lazily from ``f``."""
    sample = read_sample(f, info.size)
    enc = detect_encoding(sample, options.encoding, info.name)
    info.detections["encoding"] = enc
    mixed = mixed_encoding_warning(sample, enc)
    if mixed:
        info.warnings.append(mixed)
    head = sample[: 64 * 1024].decode(enc.value, errors="replace")
    dialect = detect_dialect(head.lstrip("\ufeff"), options.delimiter, options.quotechar)
    info.detections["delimiter"] = dialect
    f.seek(0)
    text = io.TextIOWrapper(f, encoding=enc.value, errors=ESCAPE_ERRORS, newline="")
    flagged: dict[int, RowProblem] = {}
    rows = _rows(text, dialect.value, options, info.name, flagged)
    finder = TableFinder(info, options, rows, delimiter=dialect.value, flagged=flagged)
    finder.fast = fast_delimited.plan
    return finder


def _rows(
    text: io.TextIOWrapper,
    delimiter: str,
    options: ReadOptions,
    name: str,
    flagged: dict[int, RowProblem],
) -> Iterator[tuple[int, list[str]]]:
    """(first physical line, cells) per record. A quote that is never closed (or runs over
    ``max_row_lines`` lines) is not allowed to swallow the rest of the file: its line is
    yielded split as it stands and flagged in ``flagged``, and reading resumes on the next
    line."""
    limits = options.limits
    cell_limit = min(options.max_field_size, limits.max_cell_chars or sys.maxsize)
    csv.field_size_limit(min(cell_limit, sys.maxsize))
    quote = options.quotechar
    lines = Lines(text, limits, delimiter, quote)
    line_no = 1  # physical line where the current record starts
    pending = lines.pending  # the physical lines of the record being read
    max_cols = limits.max_columns
    runaways = 0
    while True:
        reader = csv.reader(lines.stream(), delimiter=delimiter, quotechar=quote, strict=False)
        try:
            for cells in reader:
                # rare: the record the end of the file closed; is a quote still open?
                if lines.eof and _ends_in_quote("".join(lines.pending), delimiter, quote):
                    raise RunawayQuote("is never closed before the end of the file")
                if len(pending) > 1:  # rare: quoted line breaks
                    inside = _row_inside(pending, cells, delimiter)
                    if inside:
                        raise RunawayQuote(
                            f"runs on into line {line_no + inside}, which looks like a row of "
                            "its own"
                        )
                if line_no == 1 and cells and cells[0].startswith("\ufeff"):
                    cells[0] = cells[0][1:]
                if max_cols and len(cells) > max_cols:
                    raise _too_wide(limits, name, line_no, len(cells))
                yield line_no, cells
                line_no += len(pending)
                pending.clear()
            return
        except RunawayQuote as e:
            runaways += 1
            if runaways > MAX_RUNAWAY_QUOTES:  # each is read again: bound the work
                raise InputFileError(
                    f"the quoting is broken throughout: more than {MAX_RUNAWAY_QUOTES} lines "
                    "open a quote that is never closed",
                    where=f"{name}, line {line_no}",
                    hint="check the quote character (read.quotechar in the mapping; a file "
                    "that does not quote its fields may need one it never uses) and the "
                    "delimiter.",
                    code="csv-malformed",
                ) from None
            first, rest = lines.pending[0], lines.pending[1:]
            try:
                cells = next(csv.reader([first], delimiter=delimiter, quoting=csv.QUOTE_NONE), [])
            except csv.Error as err:  # the line read as it stands has a field over the limit
                raise _malformed(err, name, line_no) from None
            swallow = f": it would swallow the {len(rest)} line(s) after it" if rest else ""
            flagged[line_no] = RowProblem(
                "unclosed-quote",
                f"a quote opened on line {line_no} {e}{swallow}; the line is rejected as it "
                "stands and reading goes on from the next line (check the quoting there)",
                cells=[clean(c) for c in cells],
            )
            yield line_no, cells
            line_no += 1
            lines.replay(rest)
        except TooWide as e:
            raise _too_wide(limits, name, line_no, e.count) from None
        except RowTooLong:
            raise exceeded(
                limits,
                "max_row_chars",
                "a row's text is too long",
                f"{name}, line {line_no}",
            ) from None
        except csv.Error as e:
            raise _malformed(e, name, line_no + max(len(lines.pending) - 1, 0)) from None


def _too_wide(limits: Limits, name: str, line: int, count: int) -> CsvbridgeError:
    return exceeded(
        limits,
        "max_columns",
        f"a row has {count:,} fields",
        f"{name}, line {line}",
    )


class RunawayQuote(Exception):
    """A quoted field runs to the end of the file, or over ``max_row_lines`` lines."""


class TooWide(Exception):
    def __init__(self, count: int) -> None:
        self.count = count


class RowTooLong(Exception):
    pass


class Lines:
    """The file's physical lines, as the csv module reads them, each read with a bound (a
    100 MB line is never read whole), and those of the record being parsed kept, so that a
    runaway quote can be undone."""

    def __init__(self, text: io.TextIOWrapper, limits: Limits, delimiter: str, quote: str):
        self.text = text
        self.cap = limits.max_row_chars
        self.max_lines = limits.max_row_lines
        self.max_cols = limits.max_columns
        self.delimiter = delimiter
        self.quote = quote
        self.pending: list[str] = []
        self.eof = False
        self._replay: list[str] = []

    def stream(self) -> Iterator[str]:
        """The lines, checked against the limits (a generator: it runs once per line)."""
        pending, replay, readline = self.pending, self._replay, self.text.readline
        cap, max_lines, n = self.cap, self.max_lines, self.max_cols
        quote, delimiter = self.quote, self.delimiter
        size = cap + 1 if cap else -1
        chars = 0
        while True:
            if replay:
                line = replay.pop()
            else:
                line = readline(size)
                if not line:
                    self.eof = True
                    return
            if not pending:  # a new record
                chars = 0
            chars += len(line)
            pending.append(line)
            if cap and chars > cap:
                if len(pending) > 1 and quote in pending[0]:
                    raise RunawayQuote(f"runs past {format_value('max_row_chars', cap)}")
                raise RowTooLong
            if max_lines and len(pending) > max_lines:
                raise RunawayQuote(f"is not closed within {max_lines} lines (max_row_lines)")
            # Refuse a row of millions of fields before the csv module splits it into cells.
            if n and len(line) > n and quote not in line:
                fields = line.count(delimiter) + 1
                if fields > n:
                    raise TooWide(fields)
            yield line

    def next_record(self) -> None:
        self.pending.clear()

    def replay(self, lines: list[str]) -> None:
        """Read ``lines`` again (a runaway quote's), before the rest of the file."""
        self._replay.extend(reversed(lines))
        self.next_record()
        self.eof = False


def _row_inside(pending: list[str], cells: list[str], delimiter: str) -> int:
    """Where a quoted line break is followed by what looks like a row of its own (as many
    fields, starting with a date or number like the row's first cell): a stray quote took
    the next line in. 0 when none does (an address or a note over several lines)."""
    shape = _shape(cells[0]) if cells else "empty"
    if shape not in ("date", "number"):
        return 0
    for k, line in enumerate(pending[1:], start=1):
        parts = line.split(delimiter)
        if len(parts) >= len(cells) and _shape(parts[0]) == shape:
            return k
    return 0


def _ends_in_quote(text: str, delimiter: str, quote: str) -> bool:
    """Whether the csv module (non-strict) ends ``text`` inside a quoted field."""
    inside = after = False  # in a quoted field; just past a quote inside one
    start = True  # at the start of a field
    for ch in text:
        if inside:
            if after:
                after = False
                if ch == quote:
                    continue  # a doubled quote: still inside
                inside = False
            elif ch == quote:
                after = True
                continue
            else:
                continue
        if ch == delimiter or ch in "\r\n":
            start = True
        elif start and ch == quote:
            inside, start = True, False
        else:
            start = False
    return inside and not after


def _malformed(error: csv.Error, name: str, line: int) -> InputFileError:
    return InputFileError(
        f"the CSV cannot be parsed: {error}",
        where=f"{name}, line {line}",
        hint="a field may exceed the size limit or the quoting is broken from here on; "
        "check the file near that line.",
        code="csv-malformed",
    )
