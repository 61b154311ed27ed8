"""Property tests for the delimited reader: whatever Python's csv module writes, csvbridge reads
back cell for cell, with the right physical line numbers."""

from __future__ import annotations

import csv
import io
import tempfile
from contextlib import ExitStack
from pathlib import Path

import numpy as np
import pyarrow as pa
from hypothesis import event, given, settings
from hypothesis import strategies as st

from csvbridge.readers import ReadOptions, SourceInfo, open_source

SETTINGS = settings(max_examples=100, deadline=None)

DELIMITERS = [",", ";", "\t", "|"]
TERMINATORS = ["\r\n", "\n"]
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16"]

# Cell text: the characters that matter to CSV, plus non-ASCII (accents, CJK, emoji, NBSP,
# a BOM), plus anything else printable. No control characters but tab and line breaks (a
# text export never holds them; a file made mostly of them is refused as binary, rightly) and
# no surrogates (no encoding here can write them).
SPECIAL = st.sampled_from([",", ";", "\t", "|", '"', "'", "\n", "\r", "\r\n", " ", "\xa0"])
OTHER = st.characters(codec="utf-8", exclude_categories=("Cc", "Cs"))
NON_ASCII = st.sampled_from(["é", "ß", "€", "£", "日本", "😀", "\ufeff", "Ω", "ñ"])
CELL = st.lists(st.one_of(SPECIAL, OTHER, NON_ASCII), max_size=8).map("".join)
ONE_LINE_CELL = CELL.map(lambda c: c.replace("\r", "").replace("\n", ""))


def names_for(width: int) -> list[str]:
    return [f"col_{i}" for i in range(width)]


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[str], list[list[str]]]:
    """A header of distinct simple names and 0–50 full-width rows, each with a cell that is
    not blank (csvbridge skips blank rows; short rows at the end would be a footer)."""
    width = draw(st.integers(1, 8))
    cell = CELL if draw(st.booleans()) else ONE_LINE_CELL  # half the files: no embedded newline
    rows = draw(
        st.lists(
            st.lists(cell, min_size=width, max_size=width).filter(
                lambda r: any(c.strip() for c in r)
            ),
            max_size=50,
        )
    )
    return names_for(width), rows


def write_csv(
    path: Path,
    header: list[str],
    rows: list[list[str]],
    delimiter: str,
    terminator: str,
    encoding: str,
    quote_all: bool,
) -> list[int]:
    """Write the file; return the number of physical lines each record takes."""
    # Python 3.11's writer does not quote a lone "\r" when the line terminator is "\n", which
    # would split the record; quote everything in that case (the reader must cope with both).
    if terminator == "\n" and any("\r" in c for r in rows for c in r):
        quote_all = True
    buf = io.StringIO(newline="")
    writer = csv.writer(
        buf,
        delimiter=delimiter,
        lineterminator=terminator,
        quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL,
    )
    spans = []
    for record in [header, *rows]:
        start = buf.tell()
        writer.writerow(record)
        buf.seek(start)
        spans.append(len(io.StringIO(buf.read(), newline="").readlines()))
    path.write_bytes(buf.getvalue().encode(encoding))
    return spans


def read_back(
    path: Path, options: ReadOptions
) -> tuple[SourceInfo, list[str], list[list[str]], list[np.ndarray]]:
    with ExitStack() as stack:
        finder = open_source(path, 0, options, stack)
        chunks = list(finder.chunks(7))
        info = finder.info
    assert all(0 < c.num_rows <= 7 for c in chunks)
    if chunks:
        table = pa.concat_tables([c.table for c in chunks])
        columns = table.column_names
        got = [list(r) for r in zip(*(table.column(n).to_pylist() for n in columns), strict=True)]
    else:
        columns, got = list(info.columns), []
    return info, columns, got, [c.lines for c in chunks]


@SETTINGS
@given(
    table=tables(),
    delimiter=st.sampled_from(DELIMITERS),
    terminator=st.sampled_from(TERMINATORS),
    encoding=st.sampled_from(ENCODINGS),
    quote_all=st.booleans(),
)
def test_written_tables_read_back_exactly(
    table: tuple[list[str], list[list[str]]],
    delimiter: str,
    terminator: str,
    encoding: str,
    quote_all: bool,
) -> None:
    header, rows = table
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.csv"
        spans = write_csv(path, header, rows, delimiter, terminator, encoding, quote_all)
        info, columns, got, line_arrays = read_back(path, ReadOptions(delimiter=delimiter))

    assert info.detections["delimiter"].value == delimiter
    assert info.header_line == 1
    assert columns == header
    assert info.columns == header
    assert got == rows
    assert info.rows == len(rows)
    assert info.blank_lines == 0
    assert info.footer == []
    assert info.preamble == []

    lines = np.concatenate(line_arrays) if line_arrays else np.array([], dtype=np.int64)
    assert lines.dtype == np.int64
    for arr in line_arrays:
        assert (np.diff(arr) > 0).all()
    assert (np.diff(lines) > 0).all()
    # a record starts on the line after the previous one ends
    assert lines.tolist() == [1 + sum(spans[: i + 1]) for i in range(len(rows))]
    event("records span several lines" if any(s > 1 for s in spans) else "one line per record")
    if all(s == 1 for s in spans):
        assert lines.tolist() == [i + 2 for i in range(len(rows))]


ALNUM = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", max_size=10
)


@st.composite
def plain_tables(draw: st.DrawFn) -> tuple[list[str], list[list[str]]]:
    width = draw(st.integers(3, 8))
    row = st.lists(ALNUM, min_size=width, max_size=width).filter(lambda r: any(r))
    return names_for(width), draw(st.lists(row, min_size=5, max_size=40))


@SETTINGS
@given(
    table=plain_tables(),
    delimiter=st.sampled_from(DELIMITERS),
    terminator=st.sampled_from(TERMINATORS),
    encoding=st.sampled_from(ENCODINGS),
)
def test_delimiter_is_detected(
    table: tuple[list[str], list[list[str]]], delimiter: str, terminator: str, encoding: str
) -> None:
    header, rows = table
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.csv"
        write_csv(path, header, rows, delimiter, terminator, encoding, quote_all=False)
        info, columns, got, _ = read_back(path, ReadOptions())
    assert info.detections["delimiter"].value == delimiter
    assert columns == header
    assert got == rows


BLANK_CELL = st.sampled_from(["", " ", "  ", "\t", "\xa0", "\u3000"])


@SETTINGS
@given(
    table=tables(),
    delimiter=st.sampled_from(DELIMITERS),
    terminator=st.sampled_from(TERMINATORS),
    data=st.data(),
)
def test_blank_rows_are_skipped_and_counted(
    table: tuple[list[str], list[list[str]]],
    delimiter: str,
    terminator: str,
    data: st.DataObject,
) -> None:
    header, rows = table
    width = len(header)
    blank_row: st.SearchStrategy[list[str]] = st.one_of(
        st.just([]), st.lists(BLANK_CELL, min_size=width, max_size=width)
    )
    blanks = data.draw(st.lists(st.tuples(st.integers(0, len(rows)), blank_row), max_size=6))
    records: list[list[str]] = list(rows)
    is_blank = [False] * len(rows)
    for pos, row in sorted(blanks, key=lambda b: b[0], reverse=True):
        records.insert(pos, row)
        is_blank.insert(pos, True)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.csv"
        spans = write_csv(path, header, records, delimiter, terminator, "utf-8", False)
        info, _, got, line_arrays = read_back(path, ReadOptions(delimiter=delimiter))
    assert got == rows
    assert info.blank_lines == len(blanks)
    assert info.footer == []
    lines = np.concatenate(line_arrays).tolist() if line_arrays else []
    starts = [1 + sum(spans[: i + 1]) for i in range(len(records))]
    assert lines == [s for s, b in zip(starts, is_blank, strict=True) if not b]
