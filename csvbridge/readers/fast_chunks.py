"""The fast reader's rows cut into RawChunks: the data-row rules (blank lines, short and
ragged rows, the footer) applied to pyarrow's runs and the csv module's irregular rows, and the
vectorised checks on string arrays they need (whitespace-only rows, line breaks in cells)."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from .base import RawChunk, RowProblem
from .table import MAX_FOOTER_ROWS, TableFinder, _blank, _columns, _fit, _ragged

# The characters str.strip() removes (str.isspace): a row is blank when every cell is made of
# them. Spelled out because computing it costs ~0.1 s at start-up; tests/test_fast_reader.py
# checks it against Python.
PY_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_WS_ONLY = "^[" + "".join(f"\\x{{{ord(c):x}}}" for c in PY_WHITESPACE) + "]*$"

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


class _Chunks:
    """Rows in file order, cut into RawChunks of exactly ``size`` rows (the last may be
    shorter), as TableFinder.chunks cuts them."""

    def __init__(self, finder: TableFinder, size: int) -> None:
        self.finder = finder
        self.size = size
        self.pieces: deque[tuple[list[pa.Array], IntArray, dict[int, RowProblem]]] = deque()
        self.count = 0
        self.rows: list[list[str]] = []
        self.row_lines: list[int] = []
        self.row_problems: dict[int, RowProblem] = {}

    def add_arrays(
        self, arrays: list[pa.Array], lines: IntArray, problems: dict[int, RowProblem] | None = None
    ) -> None:
        self._rows_to_piece()
        self.pieces.append((arrays, lines, problems or {}))
        self.count += len(lines)

    def add_row(self, cells: list[str], line: int, problem: RowProblem | None) -> None:
        if problem is not None:
            self.row_problems[len(self.rows)] = problem
        self.rows.append(cells)
        self.row_lines.append(line)
        self.count += 1

    def _rows_to_piece(self) -> None:
        if self.rows:
            arrays = _columns(self.rows, self.finder.width)
            lines = np.asarray(self.row_lines, dtype=np.int64)
            self.pieces.append((arrays, lines, self.row_problems))
            self.rows, self.row_lines, self.row_problems = [], [], {}

    def full(self) -> Iterator[RawChunk]:
        while self.count >= self.size:
            yield self._take(self.size)

    def rest(self) -> Iterator[RawChunk]:
        if self.count:
            yield self._take(self.count)

    def _take(self, k: int) -> RawChunk:
        self._rows_to_piece()
        parts: list[list[pa.Array]] = []
        lines: list[IntArray] = []
        problems: dict[int, RowProblem] = {}
        got = 0
        while got < k:
            arrays, piece_lines, piece_problems = self.pieces.popleft()
            m = len(piece_lines)
            if got + m > k:  # split the piece: the rest stays first in line
                cut = k - got
                rest = {i - cut: pr for i, pr in piece_problems.items() if i >= cut}
                self.pieces.appendleft(([a.slice(cut) for a in arrays], piece_lines[cut:], rest))
                arrays = [a.slice(0, cut) for a in arrays]
                piece_lines = piece_lines[:cut]
                piece_problems = {i: pr for i, pr in piece_problems.items() if i < cut}
                m = cut
            problems.update({got + i: pr for i, pr in piece_problems.items()})
            parts.append(arrays)
            lines.append(piece_lines)
            got += m
        self.count -= k
        info = self.finder.info
        info.rows += k
        columns = (
            parts[0]
            if len(parts) == 1
            else [pa.concat_arrays([p[j] for p in parts]) for j in range(len(parts[0]))]
        )
        return RawChunk(
            source=info.index,
            table=pa.Table.from_arrays(columns, names=info.columns),
            lines=np.concatenate(lines).astype(np.int64, copy=False),
            problems=problems,
            native_dates=self.finder.native_dates,
        )


def _whitespace_only(arrays: list[pa.Array], n: int) -> BoolArray:
    """Rows whose cells are all whitespace (as str.strip sees it), checked column by column
    while any row is still a candidate."""
    blank: BoolArray = np.ones(n, dtype=bool)
    for arr in arrays:
        if not blank.any():
            break
        m = pc.match_substring_regex(arr, _WS_ONLY).to_numpy(zero_copy_only=False)
        blank &= m
    return blank


def _breaks(arrays: list[pa.Array], n: int) -> IntArray:
    """Line breaks inside each of ``n`` rows' cells: ``\\n``, lone ``\\r`` and ``\\r\\n`` each
    count once (a ``\\r`` ending one cell and a ``\\n`` starting the next are two)."""
    total: IntArray = np.zeros(n, dtype=np.int64)
    for arr in arrays:
        bufs = arr.buffers()
        if bufs[2] is None or bufs[2].size == 0:
            continue
        offsets = np.frombuffer(bufs[1], dtype=np.int32)[arr.offset : arr.offset + n + 1]
        lo, hi = int(offsets[0]), int(offsets[-1])
        raw = memoryview(bufs[2])[lo:hi].tobytes()
        has_nl, has_cr = b"\n" in raw, b"\r" in raw
        if not (has_nl or has_cr):
            continue
        data = np.frombuffer(raw, dtype=np.uint8)
        if has_nl:
            pos = np.flatnonzero(data == 10) + lo
            rows = np.searchsorted(offsets, pos, side="right") - 1
            total += np.bincount(rows, minlength=n)[:n]
        if has_cr:
            pos = np.flatnonzero(data == 13) + lo
            rows = np.searchsorted(offsets, pos, side="right") - 1
            nxt = pos + 1
            inside = nxt < offsets[rows + 1]
            follows = np.zeros(len(pos), dtype=bool)
            follows[inside] = data[nxt[inside] - lo] == 10
            total += np.bincount(rows[~follows], minlength=n)[:n]
    return total


def _text_breaks(text: str) -> int:
    """Line breaks in a cell's text, counted as _breaks counts them."""
    return text.count("\n") + text.count("\r") - text.count("\r\n")


@dataclass
class _Run:
    """Consecutive rows of pyarrow's width, as arrays, with each row's physical line."""

    arrays: list[pa.Array]
    lines: IntArray


@dataclass
class _Row:
    """One row of another width, split by the csv module."""

    cells: list[str]
    line: int


def data_rows(
    finder: TableFinder,
    width: int,
    parse_width: int,
    segments: Iterator[_Run | _Row],
    out: _Chunks,
    pending: list[tuple[int, list[str]]],
) -> Iterator[RawChunk]:
    """TableFinder._data_rows over the segments: irregular rows rule for rule, runs of
    pyarrow's rows a run at a time."""
    info = finder.info
    w, p = width, parse_width
    short_ok = w - finder.slack
    footer = finder.options.footer

    def flush_pending() -> None:
        for p_line, p_cells in pending:
            out.add_row(_fit(p_cells, w), p_line, _ragged(p_cells, w))
        pending.clear()

    for seg in segments:
        if isinstance(seg, _Row):  # TableFinder._data_rows, rule for rule
            cells, line = seg.cells, seg.line
            n = len(cells)
            if short_ok <= n < w:
                cells = cells + [""] * (w - n)
                n = w
            if not "".join(cells).strip():
                info.blank_lines += 1
                continue
            if n > w and _blank(cells[w:]):
                cells, n = cells[:w], w
            if n < w and footer:
                pending.append((line, cells))
                if len(pending) > MAX_FOOTER_ROWS:
                    flush_pending()
            else:
                flush_pending()
                if n == w:
                    out.add_row(cells, line, None)
                else:
                    out.add_row(_fit(cells, w), line, _ragged(cells, w))
            yield from out.full()
            continue
        arrays, lines = seg.arrays, seg.lines
        count = len(lines)
        keep = ~_whitespace_only(arrays, count)
        kept = int(keep.sum())
        info.blank_lines += count - kept
        if not kept:
            continue
        flush_pending()
        if p < w:
            empty = pa.repeat(pa.scalar("", pa.string()), count)
            arrays = arrays + [empty] * (w - p)
        ragged: list[int] = []
        if p > w:
            ragged = np.flatnonzero(keep & ~_whitespace_only(arrays[w:], count)).tolist()
        start = 0
        for r in [*ragged, count]:
            if r > start:
                part = keep[start:r]
                if part.all():
                    out.add_arrays([a.slice(start, r - start) for a in arrays[:w]], lines[start:r])
                elif part.any():
                    take = np.flatnonzero(part) + start
                    idx = pa.array(take)
                    out.add_arrays([a.take(idx) for a in arrays[:w]], lines[take])
            if r < count:
                row = [str(a[r].as_py()) for a in arrays]
                out.add_row(_fit(row, w), int(lines[r]), _ragged(row, w))
            start = r + 1
        yield from out.full()
