"""Spreadsheet cells turned into text column by column instead of cell by cell.

calamine hands over Python values (str, float, date, datetime, ...). ``column_text`` gives
exactly the text ``excel.cell_text`` gives for each of them, but converts each type in one
vectorised step: text is taken as it is, dates through pyarrow's date32 cast, floats through
pyarrow's shortest round-trip cast (the same digits as Python's ``repr``) wherever that text has
no exponent and at most 15 significant digits — which is exactly when ``cell_text`` uses the
shortest repr too. The other floats and every rarer type go through ``cell_text`` one by one.

``plan_fast`` is the TableFinder hook that reads the rows after the header this way.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from .base import RawChunk, RowProblem
from .fast_chunks import _Chunks, _whitespace_only
from .table import TableFinder

ObjArray = npt.NDArray[np.object_]
CellText = Callable[[Any], str]


def _merge(n: int, parts: list[tuple[npt.NDArray[np.intp], pa.Array]]) -> pa.Array:
    """One string array of ``n`` values from parts, each (positions, values at them)."""
    if len(parts) == 1:
        return parts[0][1]
    order = np.concatenate([idx for idx, _ in parts])
    inverse = np.empty(n, dtype=np.int64)
    inverse[order] = np.arange(n, dtype=np.int64)
    values = pa.concat_arrays([arr for _, arr in parts])
    return pc.take(values, pa.array(inverse))


def float_text(values: npt.NDArray[np.float64], cell_text: CellText) -> pa.Array:
    """Floats as ``cell_text`` writes them."""
    text = pa.array(values, pa.float64()).cast(pa.string())
    digits = pc.utf8_length(pc.utf8_ltrim(pc.replace_substring_regex(text, "[-.]", ""), "0"))
    good = np.asarray(
        pc.and_(pc.invert(pc.match_substring(text, "e")), pc.less_equal(digits, 15)),
        dtype=bool,
    ) & np.isfinite(values)
    if good.all():
        return text
    bad = np.flatnonzero(~good)
    fixed = pa.array([cell_text(float(v)) for v in values[bad]], pa.string())
    ok = np.flatnonzero(good)
    return _merge(len(values), [(ok, text.take(pa.array(ok))), (bad, fixed)])


def column_text(col: ObjArray, cell_text: CellText) -> pa.Array:
    """A column of calamine's values as a string array of ``cell_text``'s texts."""
    n = len(col)
    types = np.fromiter(map(type, col), dtype=object, count=n)
    kinds = set(types.tolist())
    if kinds == {str}:
        return pa.array(col, pa.string())
    parts: list[tuple[npt.NDArray[np.intp], pa.Array]] = []
    for kind in kinds:
        idx = np.flatnonzero(types == kind) if len(kinds) > 1 else np.arange(n)
        values = col[idx]
        if kind is str:
            arr = pa.array(values, pa.string())
        elif kind is float:
            arr = float_text(values.astype(np.float64), cell_text)
        elif kind is dt.date:
            arr = pa.array(values, pa.date32()).cast(pa.string())
        else:  # datetimes with a time, times, durations, bools, ints, None: rare
            arr = pa.array([cell_text(v) for v in values], pa.string())
        parts.append((idx, arr))
    return _merge(n, parts)


def text_columns(rows: list[Any], width: int, cell_text: CellText) -> list[pa.Array]:
    """Rows of ``width`` values each as one string array per column."""
    grid = np.empty((len(rows), width), dtype=object)
    grid[:] = rows
    return [column_text(grid[:, j], cell_text) for j in range(width)]


class RawRows:
    """A sheet's rows from calamine, numbered from 1, that either the TableFinder's row by
    row path (``texts``) or the column-wise path (``batches``) takes next."""

    def __init__(self, rows: Iterator[list[Any]]) -> None:
        self.rows = rows
        self.count = 0  # rows taken so far

    def batches(self, size: int) -> Iterator[tuple[int, list[list[Any]]]]:
        """(number of the first row, rows) in batches of up to ``size`` rows."""
        while batch := list(itertools.islice(self.rows, size)):
            first = self.count + 1
            self.count += len(batch)
            yield first, batch


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
    out = _Chunks(finder, size)
    buffered, finder._buffer = finder._buffer, []
    if buffered:  # rows read while finding the header, already text
        lines = np.asarray([line for line, _ in buffered], dtype=np.int64)
        _add(out, finder, [cells for _, cells in buffered], lines, cell_text)
        yield from out.full()
    for first, batch in raw.batches(max(size, 1)):
        lines = np.arange(first, first + len(batch), dtype=np.int64)
        _add(out, finder, batch, lines, cell_text)
        yield from out.full()
    yield from out.rest()


def _add(
    out: _Chunks,
    finder: TableFinder,
    rows: list[Any],
    lines: npt.NDArray[np.int64],
    cell_text: CellText,
) -> None:
    width = finder.width
    if any(len(r) != width for r in rows):
        raise AssertionError("calamine gave rows of different widths")  # never: see plan_fast
    arrays = text_columns(rows, width, cell_text)
    blank = _whitespace_only(arrays, len(rows))
    if blank.any():
        finder.info.blank_lines += int(blank.sum())
        keep = pa.array(~blank)
        arrays = [a.filter(keep) for a in arrays]
        lines = lines[~blank]
    if not len(lines):
        return
    problems: dict[int, RowProblem] = {}
    arrays = finder._reject_nul(arrays, problems)
    out.add_arrays(arrays, lines, problems)
