"""The Rejected and Duplicates sheets of report.xlsx, a column at a time: rejects.csv and
duplicates.csv are read in batches with pyarrow (every cell as text), each batch's cells are
decided per column with pyarrow compute and written as XML by ``writers.xlsx_cells``.

The cells are what ``xlsx_book``'s one-value rules make of them (``count_value`` for line and
repeats columns, ``money_value`` for the kind's money fields, ``text_value`` otherwise). The
common cases are decided column-wise: plain digits, plain decimals of up to 15 digits, and text
with no digit where a number could be. Any other cell that might be a number (``" 12"``,
``"1e3"``, ``"+5"``, non-ASCII digits) and any text longer than half of Excel's cell limit goes
through those same rules one value at a time. A file pyarrow cannot parse as a table (a ragged
row, say) is read on from where it stopped with the csv module, as before.
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from ..writers.xlsx_cells import (
    EMPTY,
    MAX_TEXT,
    MAX_WIDTH,
    NUMBER,
    TEXT,
    Column,
    column_letters,
    rows_xml,
)
from .report_view import file_names, label
from .xlsx_book import (
    Book,
    BookSheet,
    Cell,
    count_value,
    excel_text,
    money_value,
    text_value,
    text_xml,
)

COUNTS = ("line", "repeats_line", "repeats_batch")
BLOCK = 1 << 19  # bytes of CSV a batch (bigger ones cost memory, not time)
PY_ROWS = 20_000  # rows a batch when the csv module reads
_COUNT = r"^[0-9]{1,15}$"
_DECIMAL = r"^-?[0-9]{1,15}(\.[0-9]{1,15})?$"

Batch = tuple[list[str], list[pa.Array]]  # a file's header, and a run of its rows by column


def write_listing(
    book: Book,
    sh: BookSheet,
    section: dict[str, Any],
    default: str,
    fixed: list[str],
    sample: list[dict[str, Any]],
    total: int,
    money: set[str],
    outdir: Path,
    source_cells: bool,
    max_rows: int,
    width_rows: int,
) -> None:
    """A Rejected or Duplicates sheet: every row of the section's CSV file(s) (or, when they
    are missing, report.json's sample) under one frozen, filterable header; stops at Excel's
    row limit (``max_rows``) with a note saying where the rest are. Columns are fitted to the
    header and the first ``width_rows`` rows."""
    names = file_names(section, default)
    batches: Iterator[Batch]
    if any((outdir / n).is_file() for n in names):
        batches = (b for n in names if (outdir / n).is_file() for b in _file_batches(outdir / n))
    else:
        rows = [[str(r.get(c, "")) for c in fixed] for r in sample]
        batches = iter([_py_batch(fixed, rows)] if rows else [])
    row = 0  # the next sheet row
    done = 0  # data rows written
    width = len(fixed)
    for head, arrays in batches:
        n = len(arrays[0]) if arrays else 0
        if not n:
            continue
        if row == 0:
            # rejects.csv's columns after the fixed ones are the source's own names: kept
            _header(book, sh, [label(h) if h in fixed or not source_cells else h for h in head])
            row, width = 1, len(head)
        take = min(n, max(max_rows - 1 - row, 0))
        if take:
            cols = [
                _cells(book, a.slice(0, take), h in COUNTS, h in money)
                for h, a in zip(head, arrays, strict=True)
            ]
            _fit(sh, cols, row, width_rows)
            last = max((j for j, c in enumerate(cols) if (c[0].kind != EMPTY).any()), default=-1)
            sh.add(rows_xml([c[0] for c in cols], row + 1), row + take - 1, last)
            row += take
            done += take
        if take < n:
            more = f"{max(total - done, 1):,} more rows are in {', '.join(names)}"
            note = f"{more} (Excel holds at most {max_rows:,} rows a sheet)"
            cell = text_xml(f"A{row + 1}", note, book.styles.named("bad"))
            sh.add(f'<row r="{row + 1}">{cell}</row>'.encode(), row, 0)
            row += 1
            break
    if isinstance(batches, Generator):
        batches.close()  # let go of the file at once when the row limit stopped the reading
    if row == 0:
        _header(book, sh, [label(h) for h in fixed])
        row = 1
    sh.autofilter = (max(row - 1, 0), width - 1)
    sh.freeze = True
    sh.widths = {c: max(w, 8) + 2 for c, w in sh.widths.items()}


def _header(book: Book, sh: BookSheet, names: list[str]) -> None:
    style = book.styles.named("head")
    cells = "".join(text_xml(f"{column_letters(c)}1", n, style) for c, n in enumerate(names))
    sh.add(f'<row r="1">{cells}</row>'.encode(), 0, len(names) - 1)
    for c, n in enumerate(names):
        sh.widths[c] = max(sh.widths.get(c, 0), min(len(text_value(n).text), MAX_WIDTH))


def _fit(
    sh: BookSheet, cols: list[tuple[Column, npt.NDArray[np.int64]]], row: int, width_rows: int
) -> None:
    """Widen the columns to the cells on sheet rows up to ``width_rows`` (0-based)."""
    k = min(len(cols[0][1]), max(0, width_rows + 1 - row))
    if not k:
        return
    for j, (_, shown) in enumerate(cols):
        w = min(int(shown[:k].max()), MAX_WIDTH)
        sh.widths[j] = max(sh.widths.get(j, 0), w)


# -- reading --


def _file_batches(path: Path) -> Iterator[Batch]:
    """The file's rows in batches of string columns; with the csv module from the first row
    pyarrow cannot read."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        head = next(csv.reader(fh), None)
    if head is None:
        return
    names = [f"c{i}" for i in range(len(head))]
    done = 0
    try:
        reader = pcsv.open_csv(
            path,
            read_options=pcsv.ReadOptions(
                column_names=names, skip_rows_after_names=1, block_size=BLOCK
            ),
            parse_options=pcsv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False),
            convert_options=pcsv.ConvertOptions(
                column_types={c: pa.string() for c in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        for batch in reader:
            yield head, [batch.column(i) for i in range(len(head))]
            done += batch.num_rows
    except pa.ArrowInvalid:
        yield from _py_batches(path, head, done)


def _py_batches(path: Path, head: list[str], skip: int) -> Iterator[Batch]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = itertools.islice(csv.reader(fh), 1 + skip, None)
        while chunk := list(itertools.islice(rows, PY_ROWS)):
            yield _py_batch(head, chunk)


def _py_batch(head: list[str], rows: list[list[str]]) -> Batch:
    """Rows as columns; cells past the header are dropped, missing ones are empty (as
    zipping a row with the header did)."""
    width = len(head)
    fitted = [(r + [""] * (width - len(r)))[:width] for r in rows]
    return head, [pa.array(list(col), pa.string()) for col in zip(*fitted, strict=True)]


# -- cells --


def _cells(
    book: Book, v: pa.Array, count: bool, money: bool
) -> tuple[Column, npt.NDArray[np.int64]]:
    """One column's cells, and the width each asks of its column."""
    n = len(v)
    length = np.asarray(pc.utf8_length(v), dtype=np.int64)
    kind = np.where(length > 0, TEXT, EMPTY).astype(np.int8)
    style = np.zeros(n, dtype=np.int64)
    shown = length.copy()
    text = v
    slow = length > MAX_TEXT // 2
    if count or money:
        fast = np.asarray(pc.match_substring_regex(v, _COUNT if count else _DECIMAL), dtype=bool)
        dot = np.asarray(pc.find_substring(v, "."), dtype=np.int64)
        minus = np.asarray(pc.starts_with(v, "-"), dtype=bool).astype(np.int64)
        if not count:
            fast &= length - minus - (dot >= 0) <= 15
        if count:
            # isdigit() takes non-ASCII digits, and strip() spaces: the one-value rule decides
            maybe = np.asarray(pc.match_substring_regex(v, r"[0-9]|[^\x00-\x7f]"), dtype=bool)
        else:
            maybe = np.asarray(pc.match_substring_regex(v, r"\p{Nd}"), dtype=bool)
        slow |= ~fast & maybe
        if fast.any():
            norm = pc.replace_substring_regex(v, r"^(-?)0+([0-9])", r"\1\2")
            nlen = np.asarray(pc.utf8_length(norm), dtype=np.int64)
            ndot = np.asarray(pc.find_substring(norm, "."), dtype=np.int64)
            places = np.where(ndot >= 0, nlen - ndot - 1, 0)
            digits = np.where(ndot >= 0, ndot, nlen) - minus
            text = pc.if_else(pa.array(fast), norm, text)
            kind[fast] = NUMBER
            shown = np.where(fast, nlen + (digits - 1) // 3, shown)
            for p in np.unique(places[fast]):
                style[fast & (places == p)] = book.styles.number(int(p))
    if slow.any():
        text, kind, style, shown = _one_by_one(
            book, v, text, kind, style, shown, slow, count, money
        )
    return Column(kind, text, style), shown


def _one_by_one(
    book: Book,
    v: pa.Array,
    text: pa.Array,
    kind: npt.NDArray[np.int8],
    style: npt.NDArray[np.int64],
    shown: npt.NDArray[np.int64],
    slow: npt.NDArray[np.bool_],
    count: bool,
    money: bool,
) -> tuple[pa.Array, npt.NDArray[np.int8], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """The cells marked ``slow``, decided one value at a time."""
    at = np.flatnonzero(slow)
    cells: list[Cell] = []
    for value in v.take(pa.array(at)).to_pylist():
        if count:
            cells.append(count_value(value))
        elif money and value:
            cells.append(money_value(value))
        else:
            cells.append(text_value(value))
    kind, style, shown = kind.copy(), style.copy(), shown.copy()
    for i, c in zip(at, cells, strict=True):
        kind[i] = NUMBER if c.number else (TEXT if c.text else EMPTY)
        style[i] = book.styles.number(c.places) if c.number else 0
        shown[i] = c.shown
    texts = pa.array([_excel_cut(c) for c in cells], pa.string())
    text = pc.replace_with_mask(text, pa.array(slow), texts)
    return text, kind, style, shown


def _excel_cut(c: Cell) -> str:
    return c.text if c.number else excel_text(c.text)
