"""Spreadsheet cells turned into text column by column instead of cell by cell.

calamine hands over Python values (str, float, date, datetime, ...). ``column_text`` gives
exactly the text ``excel.cell_text`` gives for each of them, but converts each type in one
vectorised step: text is taken as it is, dates through pyarrow's date32 cast, floats through
pyarrow's shortest round-trip cast (the same digits as Python's ``repr``) wherever that text has
no exponent and at most 15 characters (so at most 15 significant digits) — where ``cell_text``
uses the shortest repr too. The other floats and every rarer type go through ``cell_text`` one
by one. Arrays are built from numpy buffers (``arrow_buffers``), so pandas is never imported.

``plan_fast`` is the TableFinder hook that reads the rows after the header this way.
"""

from __future__ import annotations

import datetime as dt
import gc
import itertools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from .arrow_buffers import bool_values, numeric_array, string_array, string_bytes, string_lengths
from .base import RawChunk, RowProblem
from .fast_chunks import _WS_ONLY, _Chunks
from .table import TableFinder

CellText = Callable[[Any], str]
# Values whose cell_text is never empty or whitespace: a column holding only these has no
# blank cell, so no row of the batch is blank.
NEVER_BLANK = frozenset({float, int, bool, dt.date, dt.datetime, dt.time, dt.timedelta})
_EPOCH = dt.date(1970, 1, 1).toordinal()
# Rows converted at a time. Small enough that a batch's Python values and arrays stay in the
# CPU's caches (4,096 rows read a 100k-row statement 20% faster than 25,000); the chunks are
# then pieced together from batches, which costs far less.
BATCH_ROWS = 4096
_E = ord("e")


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off for a bulk conversion: calamine's rows and their
    transposes are hundreds of thousands of new containers with no cycles among them, and
    every 700 allocations would otherwise trigger a collection that walks them."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _merge(n: int, parts: list[tuple[npt.NDArray[np.intp], pa.Array]]) -> pa.Array:
    """One string array of ``n`` values from parts, each (positions in ascending order,
    values at them)."""
    if len(parts) == 1:
        return parts[0][1]
    texts = [(idx, arr, string_bytes(arr)) for idx, arr in parts]
    filled = [data for _, _, data in texts if len(data)]
    if len(filled) <= 1:
        # At most one part has any bytes (a column of numbers and empty cells): its bytes in
        # order are the column's, and only the offsets need working out.
        lengths = np.zeros(n, dtype=np.int64)
        for idx, arr, _ in texts:
            lengths[idx] = string_lengths(arr)
        offsets = np.zeros(n + 1, dtype=np.int32)
        np.cumsum(lengths, out=offsets[1:])
        data = filled[0] if filled else np.zeros(0, dtype=np.uint8)
        return pa.Array.from_buffers(
            pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data)]
        )
    order = np.concatenate([idx for idx, _ in parts])
    inverse = np.empty(n, dtype=np.int64)
    inverse[order] = np.arange(n, dtype=np.int64)
    values = pa.concat_arrays([arr for _, arr in parts])
    return values.take(numeric_array(inverse, pa.int64()))


def float_text(values: npt.NDArray[np.float64], cell_text: CellText) -> pa.Array:
    """Floats as ``cell_text`` writes them."""
    values = np.ascontiguousarray(values, dtype=np.float64)
    text = numeric_array(values, pa.float64()).cast(pa.string())
    good = string_lengths(text) <= 15
    if (string_bytes(text) == _E).any():  # an exponent somewhere
        good &= ~bool_values(pc.match_substring(text, "e"))
    good &= np.isfinite(values)
    if good.all():
        return text
    bad = np.flatnonzero(~good)
    fixed = string_array([cell_text(float(v)) for v in values[bad]])
    ok = np.flatnonzero(good)
    return _merge(len(values), [(ok, text.take(numeric_array(ok, pa.int64()))), (bad, fixed)])


def date_text(values: Sequence[dt.date]) -> pa.Array:
    """Dates (``dt.date`` exactly, not datetimes) as ISO text, through date32."""
    days = np.fromiter(map(dt.date.toordinal, values), dtype=np.int32, count=len(values))
    return numeric_array(days - np.int32(_EPOCH), pa.date32()).cast(pa.string())


def _kind_text(kind: type, values: Sequence[Any], cell_text: CellText) -> pa.Array:
    """Values all of type ``kind`` as text."""
    if kind is str:
        return string_array(values)
    if kind is float:
        return float_text(np.fromiter(values, dtype=np.float64, count=len(values)), cell_text)
    if kind is dt.date:
        return date_text(values)
    # datetimes with a time, times, durations, bools, ints, None: rare
    return string_array([cell_text(v) for v in values])


def _column(col: Sequence[Any], cell_text: CellText) -> tuple[pa.Array, set[type]]:
    """A column's text and the types of its values."""
    kinds = set(map(type, col))
    if len(kinds) <= 1:
        return _kind_text(next(iter(kinds), str), col, cell_text), kinds
    n = len(col)
    types = np.fromiter(map(type, col), dtype=object, count=n)
    values = np.fromiter(col, dtype=object, count=n)
    parts: list[tuple[npt.NDArray[np.intp], pa.Array]] = []
    for kind in kinds:
        idx = np.flatnonzero(types == kind)
        parts.append((idx, _kind_text(kind, values[idx].tolist(), cell_text)))
    return _merge(n, parts), kinds


def column_text(col: Sequence[Any], cell_text: CellText) -> pa.Array:
    """A column of calamine's values as a string array of ``cell_text``'s texts."""
    return _column(col, cell_text)[0]


def text_columns(
    rows: Sequence[Sequence[Any]], width: int, cell_text: CellText
) -> tuple[list[pa.Array], bool]:
    """Rows of ``width`` values each as one string array per column, and whether any row may
    be blank (False when some column holds only values that always have text)."""
    if rows and len(rows[0]) != width:
        raise ValueError(f"a row of {len(rows[0])} values, not {width}")
    cols: list[Sequence[Any]] = list(zip(*rows, strict=True)) if rows else [()] * width
    arrays: list[pa.Array] = []
    may_blank = True
    for col in cols:
        arr, kinds = _column(col, cell_text)
        arrays.append(arr)
        if kinds <= NEVER_BLANK and kinds:
            may_blank = False
    return arrays, may_blank


def blank_rows(arrays: list[pa.Array], n: int) -> npt.NDArray[np.bool_]:
    """Rows whose cells are all whitespace (as str.strip sees it), checked column by column
    while any row is still a candidate."""
    blank = np.ones(n, dtype=bool)
    for arr in arrays:
        if not blank.any():
            break
        blank &= bool_values(pc.match_substring_regex(arr, _WS_ONLY))
    return blank


class RawRows:
    """A sheet's rows from calamine, numbered from 1, that either the TableFinder's row by
    row path (``texts``) or the column-wise path (``batches``) takes next."""

    def __init__(self, rows: Iterator[list[Any]]) -> None:
        self.rows = rows
        self.count = 0  # rows taken so far

    def batches(self, size: int, first: int = 0) -> Iterator[tuple[int, list[list[Any]]]]:
        """(number of the first row, rows) in batches of ``size`` rows (the first batch of
        ``first`` rows when given; the last may be shorter)."""
        take = first or size
        while True:
            with gc_paused():
                batch = list(itertools.islice(self.rows, take))
            if not batch:
                return
            start = self.count + 1
            self.count += len(batch)
            yield start, batch
            take = size


def plan_fast(
    raw: RawRows,
    width: int,
    cell_text: CellText,
    wrap: Callable[[Iterator[RawChunk]], Iterator[RawChunk]],
) -> Callable[[TableFinder, int], Iterator[RawChunk] | None]:
    """The TableFinder hook reading the rows after the header column-wise. It declines (None)
    unless every row has the header's width, as calamine gives them (a sheet's rows are all
    as wide as its used range), so no row is ragged or a footer in the row by row path."""

    def plan(finder: TableFinder, size: int) -> Iterator[RawChunk] | None:
        if finder.width != width or finder.flagged:
            return None
        if any(len(cells) != width for _, cells in finder._buffer):
            return None
        return wrap(_chunks(finder, raw, size, cell_text))

    return plan


def _chunks(
    finder: TableFinder, raw: RawRows, size: int, cell_text: CellText
) -> Iterator[RawChunk]:
    size = max(size, 1)
    out = _Chunks(finder, size)
    buffered, finder._buffer = finder._buffer, []
    # The rows read while finding the header (already text) go with the first batch.
    rows: list[Any] = [cells for _, cells in buffered]
    lines = np.asarray([line for line, _ in buffered], dtype=np.int64)
    step = min(size, BATCH_ROWS)
    for start, batch in raw.batches(step, first=step - len(rows) % step):
        if rows:
            batch = rows + batch
            start_lines = np.arange(start, start + len(batch) - len(rows), dtype=np.int64)
            lines = np.concatenate([lines, start_lines])
            rows = []
        else:
            lines = np.arange(start, start + len(batch), dtype=np.int64)
        with gc_paused():
            _add(out, finder, batch, lines, cell_text)
        del batch
        yield from out.full()
    if rows:  # the sheet ends among the rows read while finding the header
        with gc_paused():
            _add(out, finder, rows, lines, cell_text)
        yield from out.full()
    yield from out.rest()


def _add(
    out: _Chunks,
    finder: TableFinder,
    rows: list[Any],
    lines: npt.NDArray[np.int64],
    cell_text: CellText,
) -> None:
    # Every row is the header's width (see plan_fast; text_columns checks it).
    arrays, may_blank = text_columns(rows, finder.width, cell_text)
    blank = blank_rows(arrays, len(rows)) if may_blank else None
    if blank is not None and blank.any():
        finder.info.blank_lines += int(blank.sum())
        keep = numeric_array(np.flatnonzero(~blank).astype(np.int64), pa.int64())
        arrays = [a.take(keep) for a in arrays]
        lines = lines[~blank]
    if not len(lines):
        return
    problems: dict[int, RowProblem] = {}
    if any((string_bytes(a) == 0).any() for a in arrays):  # a NUL somewhere: find its rows
        arrays = finder._reject_nul(arrays, problems)
    out.add_arrays(arrays, lines, problems)
