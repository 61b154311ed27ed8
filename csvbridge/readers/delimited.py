"""Delimited text (CSV, TSV, semicolon, pipe) read as text, streaming, with line numbers."""

from __future__ import annotations

import codecs
import csv
import io
import sys
from collections.abc import Iterator
from typing import BinaryIO

from ..errors import InputFileError
from . import fast_delimited
from .base import ReadOptions, SourceInfo
from .detect import detect_dialect, detect_encoding, read_sample
from .table import TableFinder

ESCAPE_ERRORS = "csvbridge-escape"


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
    head = sample[: 64 * 1024].decode(enc.value, errors="replace")
    dialect = detect_dialect(head.lstrip("\ufeff"), options.delimiter, options.quotechar)
    info.detections["delimiter"] = dialect
    f.seek(0)
    text = io.TextIOWrapper(f, encoding=enc.value, errors=ESCAPE_ERRORS, newline="")
    rows = _rows(text, dialect.value, options, info.name)
    finder = TableFinder(info, options, rows, delimiter=dialect.value)
    finder.fast = fast_delimited.plan
    return finder


def _rows(
    text: io.TextIOWrapper, delimiter: str, options: ReadOptions, name: str
) -> Iterator[tuple[int, list[str]]]:
    csv.field_size_limit(min(options.max_field_size, sys.maxsize))
    reader = csv.reader(text, delimiter=delimiter, quotechar=options.quotechar, strict=False)
    prev = 0
    try:
        for cells in reader:
            if prev == 0 and cells and cells[0].startswith("\ufeff"):
                cells[0] = cells[0][1:]
            yield prev + 1, cells
            prev = reader.line_num
    except csv.Error as e:
        raise InputFileError(
            f"the CSV cannot be parsed: {e}",
            where=f"{name}, line {reader.line_num}",
            hint="a field may exceed the size limit or the quoting is broken from here on; "
            "check the file near that line.",
            code="csv-malformed",
        ) from None
