"""Fixed-width text: each column at character positions the mapping declares (1-based and
inclusive, as printed layouts give them). Encoding is detected as for delimited text."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import BinaryIO

from ..limits import exceeded
from .base import Detection, ReadOptions, SourceInfo
from .delimited import ESCAPE_ERRORS
from .detect import detect_encoding, mixed_encoding_warning, read_sample
from .table import TableFinder, clean


def open_fixed_width(f: BinaryIO, info: SourceInfo, options: ReadOptions) -> TableFinder:
    """Slice every line at the declared positions; lines up to ``header_line`` are preamble."""
    sample = read_sample(f, info.size)
    enc = detect_encoding(sample, options.encoding, info.name)
    info.detections["encoding"] = enc
    mixed = mixed_encoding_warning(sample, enc)
    if mixed:
        info.warnings.append(mixed)
    info.detections["layout"] = Detection("fixed width", 1.0, "given")
    f.seek(0)
    text = io.TextIOWrapper(f, encoding=enc.value, errors=ESCAPE_ERRORS, newline="")
    skip = options.header_line or 0
    rows = _rows(text, options, skip, info)
    names = tuple(name for name, _, _ in options.fixed_widths)
    no_header = ReadOptions(
        no_header=True,
        column_names=names,
        footer=False,
        encoding=options.encoding,
        limits=options.limits,
    )
    return TableFinder(info, no_header, rows)


def _rows(
    text: io.TextIOWrapper, options: ReadOptions, skip: int, info: SourceInfo
) -> Iterator[tuple[int, list[str]]]:
    spans = [(start - 1, end) for _, start, end in options.fixed_widths]
    cap = options.limits.max_row_chars
    lines = iter(lambda: text.readline(cap + 1), "") if cap else text
    for line_no, line in enumerate(lines, start=1):
        if cap and len(line) > cap:  # never read a line whole past the limit
            where = f"{info.name}, line {line_no}"
            raise exceeded(options.limits, "max_row_chars", "a line is too long", where)
        line = line.rstrip("\r\n").lstrip("\ufeff") if line_no == 1 else line.rstrip("\r\n")
        if line_no <= skip:
            if line.strip():
                info.preamble.append((line_no, clean(line.strip())))
            continue
        yield line_no, [line[a:b] for a, b in spans]
