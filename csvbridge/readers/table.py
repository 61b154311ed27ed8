"""Finding the table inside a file's rows: preamble, header, data, footer — and cutting the data
into chunks. Shared by every reader; it sees only (line number, cells) pairs."""

from __future__ import annotations

import difflib
import itertools
import re
from collections import Counter
from collections.abc import Callable, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import InputFileError, MappingError
from .base import Detection, RawChunk, ReadOptions, RowProblem, SourceInfo

HEADER_SEARCH_ROWS = 200
MAX_FOOTER_ROWS = 20
_UNDECODABLE = re.compile("[\udc00-\udcff]")


def clean(text: str) -> str:
    """Text from the file made safe to report: undecodable bytes become U+FFFD."""
    return _UNDECODABLE.sub("\ufffd", text) if _UNDECODABLE.search(text) else text


def _norm(name: str) -> str:
    return " ".join(name.replace("\ufeff", "").split()).casefold()


def _blank(cells: list[str]) -> bool:
    return not "".join(cells).strip()


def unique_names(cells: list[str]) -> list[str]:
    """Header cells as column names: trimmed, blanks named ``Column N``, repeats numbered."""
    names: list[str] = []
    seen: Counter[str] = Counter()
    for i, cell in enumerate(cells, start=1):
        name = " ".join(clean(cell).replace("\ufeff", "").split()) or f"Column {i}"
        seen[name] += 1
        names.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return names


class TableFinder:
    """Turns a stream of (line, cells) into the header, the data chunks and the report facts."""

    def __init__(
        self,
        info: SourceInfo,
        options: ReadOptions,
        rows: Iterator[tuple[int, list[str]]],
        *,
        delimiter: str = ",",
        native_dates: bool = False,
        flagged: dict[int, RowProblem] | None = None,
    ) -> None:
        self.info = info
        self.flagged = {} if flagged is None else flagged  # line -> what the reader found
        self.options = options
        self.rows = rows
        self.delimiter = delimiter
        self.native_dates = native_dates
        self.width = 0
        self.slack = 0  # trailing header cells that are blank: rows may leave them out
        self._buffer: list[tuple[int, list[str]]] = []
        # A reader's faster way to the same chunks, decided before the first (None: declined)
        self.fast: Callable[[TableFinder, int], Iterator[RawChunk] | None] | None = None
        self._find_header()

    # -- header -----------------------------------------------------------------------------
    def _find_header(self) -> None:
        opts = self.options
        for item in self.rows:
            self._buffer.append(item)
            if len(self._buffer) >= HEADER_SEARCH_ROWS:
                break
        if not any(not _blank(c) for _, c in self._buffer):
            raise InputFileError(
                "the file has no rows with any text in them",
                where=self.info.name,
                hint="check that the export finished; the file holds only blank lines.",
                code="no-rows",
            )
        if opts.no_header:
            first = next(c for _, c in self._buffer if not _blank(c))
            self.width = len(opts.column_names) or len(first)
            names = list(opts.column_names) or [f"Column {i}" for i in range(1, self.width + 1)]
            self.info.columns = unique_names(names)
            return
        idx, how, conf = self._header_index()
        for line, cells in self._buffer[:idx]:
            if _blank(cells):
                continue
            self.info.preamble.append((line, self._text(cells)))
        line, cells = self._buffer[idx]
        if how == NO_HEADER:  # the first row of the table is data: columns get numbers
            self.width = _trimmed_len(cells)
            self.info.columns = [f"Column {i}" for i in range(1, self.width + 1)]
            self.info.detections["header"] = Detection(None, conf, how)
            self._buffer = self._buffer[idx:]
            return
        # Trailing blank header cells (a trailing delimiter) still name columns — data may sit
        # under them — but rows may leave them out.
        self.slack = len(cells) - _trimmed_len(cells)
        self.info.header_line = line
        self._check_repeated(line, cells)
        self.info.detections["header"] = Detection(line, conf, how)
        self.info.columns = unique_names(cells)
        self.width = len(cells)
        self._buffer = self._buffer[idx + 1 :]

    def _header_index(self) -> tuple[int, str, float]:
        """(position in the buffer, how it was found, confidence) of the header row."""
        opts = self.options
        buf = self._buffer
        if opts.header_line is not None:
            for i, (line, _) in enumerate(buf):
                if line == opts.header_line:
                    return i, "given", 1.0
            raise MappingError(
                f"header_line {opts.header_line} is not among the first {len(buf)} rows",
                where=self.info.name,
                hint="check read.header_line in the mapping against the file.",
                code="header-line-missing",
            )
        if opts.expected_columns:
            return self._header_by_names(opts.expected_columns), "has the mapping's columns", 1.0
        widths = Counter(_trimmed_len(c) for _, c in buf if not _blank(c) and _trimmed_len(c) > 1)
        # the most common width, the wider one on a tie (a short preamble can be as common)
        modal = max(widths.items(), key=lambda kv: (kv[1], kv[0]))[0] if widths else 1
        for i, (_, cells) in enumerate(buf):
            filled = [c for c in cells if c.strip()]
            if _trimmed_len(cells) >= modal and len(filled) >= max(1, modal // 2):
                if _looks_like_data(cells, [c for _, c in buf[i + 1 : i + 51]]):
                    return i, NO_HEADER, 0.8
                return i, "first row as wide as the table", 0.8
        first = next(i for i, (_, c) in enumerate(buf) if not _blank(c))
        return first, "first non-blank row", 0.5

    def _check_repeated(self, line: int, cells: list[str]) -> None:
        """A column the mapping names must be in the header once: taking the first of two
        silently could convert the wrong money."""
        for want in self.options.expected_columns:
            at = [i for i, c in enumerate(cells, start=1) if _norm(c) == _norm(want)]
            if len(at) > 1:
                raise MappingError(
                    f"the mapping's column '{want}' is in the header {len(at)} times (columns "
                    + ", ".join(str(i) for i in at)
                    + ")",
                    where=f"{self.info.name}, line {line}",
                    hint=f"say which one by position in the mapping ('#{at[0]}' or "
                    f"'#{at[1]}' instead of '{want}'), or rename one of them in the file.",
                    code="column-ambiguous",
                )

    def _header_by_names(self, expected: tuple[str, ...]) -> int:
        want = {_norm(n): n for n in expected}
        best_i, best_hits = -1, -1
        for i, (_, cells) in enumerate(self._buffer):
            have = {_norm(c) for c in cells}
            hits = sum(1 for w in want if w in have)
            if hits == len(want):
                return i
            if hits > best_hits:
                best_i, best_hits = i, hits
        line, cells = self._buffer[best_i]
        have_names = [c.strip() for c in cells if c.strip()]
        missing = [n for k, n in want.items() if k not in {_norm(c) for c in cells}]
        hints = []
        for m in missing:
            close = difflib.get_close_matches(m, have_names, n=1, cutoff=0.6)
            if close:
                hints.append(f"'{m}' → did you mean '{close[0]}'?")
        raise MappingError(
            "the mapping names column(s) the file does not have: "
            + ", ".join(f"'{m}'" for m in missing),
            where=f"{self.info.name}, line {line} (the row most like a header): "
            + _shorten(self.delimiter.join(have_names)),
            hint=("; ".join(hints) + ". " if hints else "")
            + "fix the column names in the mapping, or check this is the right mapping for "
            "this file.",
            code="column-missing",
        )

    def _text(self, cells: list[str]) -> str:
        text = self.delimiter.join(cells).strip(self.delimiter)
        safe = clean(text)
        if safe != text:
            enc = self.info.detections.get("encoding")
            self.info.warnings.append(
                f"a preamble or footer line has bytes that are not valid "
                f"{enc.value if enc else 'text'}; shown as \ufffd"
            )
        return safe

    # -- data -------------------------------------------------------------------------------
    def _data_rows(self) -> Iterator[tuple[int, list[str], RowProblem | None]]:
        w = self.width
        footer = self.options.footer
        pending: list[tuple[int, list[str]]] = []
        info = self.info
        buffered, self._buffer = self._buffer, []
        short_ok = w - self.slack
        flagged = self.flagged
        for line, cells in itertools.chain(buffered, self.rows):
            if flagged and line in flagged:  # the reader found it broken: data, never footer
                for p_line, p_cells in pending:
                    yield p_line, _fit(p_cells, w), _ragged(p_cells, w)
                pending.clear()
                yield line, _fit(cells, w), flagged.pop(line)
                continue
            n = len(cells)
            if short_ok <= n < w:  # rows leaving out the blank-headed columns at the end
                cells = cells + [""] * (w - n)
                n = w
            if n == w and not pending:
                if not "".join(cells).strip():
                    info.blank_lines += 1
                    continue
                yield line, cells, None  # the common case, kept short
                continue
            if not "".join(cells).strip():
                info.blank_lines += 1
                continue
            if n > w and _blank(cells[w:]):
                cells, n = cells[:w], w
            if n < w and footer:
                pending.append((line, cells))
                if len(pending) <= MAX_FOOTER_ROWS:
                    continue
            for p_line, p_cells in pending:
                if p_cells is not cells:
                    yield p_line, _fit(p_cells, w), _ragged(p_cells, w)
            was_pending = bool(pending) and pending[-1][1] is cells
            pending.clear()
            if was_pending:
                yield line, _fit(cells, w), _ragged(cells, w)
            elif n == w:
                yield line, cells, None
            else:
                yield line, _fit(cells, w), _ragged(cells, w)
        for line, cells in pending:
            info.footer.append((line, self._text(cells)))

    def chunks(self, size: int) -> Iterator[RawChunk]:
        """Data rows in chunks of at most ``size`` rows."""
        fast = self.fast(self, size) if self.fast is not None else None
        if fast is not None:
            yield from fast
            return
        rows: list[list[str]] = []
        lines: list[int] = []
        problems: dict[int, RowProblem] = {}
        for line, cells, problem in self._data_rows():
            if problem is not None:
                problems[len(rows)] = problem
            rows.append(cells)
            lines.append(line)
            if len(rows) >= size:
                yield self._chunk(rows, lines, problems)
                rows, lines, problems = [], [], {}
        if rows:
            yield self._chunk(rows, lines, problems)

    def _chunk(
        self, rows: list[list[str]], lines: list[int], problems: dict[int, RowProblem]
    ) -> RawChunk:
        self.info.rows += len(rows)
        names = self.info.columns
        try:
            arrays = _columns(rows, len(names))
        except (UnicodeEncodeError, pa.ArrowException):
            arrays = self._repair_undecodable(rows, lines, problems)
        arrays = self._reject_nul(arrays, problems)
        table = pa.Table.from_arrays(arrays, names=names)
        return RawChunk(
            source=self.info.index,
            table=table,
            lines=np.asarray(lines, dtype=np.int64),
            problems=problems,
            native_dates=self.native_dates,
        )

    def _reject_nul(
        self, arrays: list[pa.Array], problems: dict[int, RowProblem]
    ) -> list[pa.Array]:
        """A NUL character is binary debris, never text: its row is rejected (the NUL shown
        as U+FFFD) rather than passed into outputs or silently removed."""
        out = []
        for j, arr in enumerate(arrays):
            has = pc.match_substring(arr, "\x00")
            if not pc.any(has).as_py():
                out.append(arr)
                continue
            for i in pc.indices_nonzero(pc.fill_null(has, False)).to_pylist():
                problems.setdefault(
                    i,
                    RowProblem(
                        "nul-character",
                        f"column '{self.info.columns[j]}' holds a NUL character (byte 00), "
                        "which is not text: the export may be damaged or partly binary",
                    ),
                )
            out.append(pc.replace_substring(arr, "\x00", "\ufffd"))
        return out

    def _repair_undecodable(
        self, rows: list[list[str]], lines: list[int], problems: dict[int, RowProblem]
    ) -> list[pa.Array]:
        enc = self.info.detections.get("encoding")
        enc_name = enc.value if enc else "the detected encoding"
        for i, cells in enumerate(rows):
            for j, cell in enumerate(cells):
                m = _UNDECODABLE.search(cell)
                if m is None:
                    continue
                bad = bytes(ord(ch) - 0xDC00 for ch in _UNDECODABLE.findall(cell))
                problems.setdefault(
                    i,
                    RowProblem(
                        "undecodable-bytes",
                        f"column '{self.info.columns[j]}' has bytes that are not valid "
                        f"{enc_name}: {bad.hex(' ')}",
                    ),
                )
                cells[j] = _UNDECODABLE.sub("\ufffd", cell)
        return _columns(rows, len(self.info.columns))


def _columns(rows: list[list[str]], width: int) -> list[pa.Array]:
    """Rows of equal width to one string array per column (numpy transposes in C)."""
    grid = np.empty((len(rows), width), dtype=object)
    grid[:] = rows
    return [pa.array(grid[:, j], pa.string()) for j in range(width)]


NO_HEADER = "no header: the first row's values are like the rows below it"
_NUMBER = re.compile(r"^[-+(]?\s*[£$€¥]?\s*\d[\d.,' ]*\)?-?$")
_DATE = re.compile(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?\.?$")


def _trimmed_len(cells: list[str]) -> int:
    n = len(cells)
    while n > 1 and not cells[n - 1].strip():
        n -= 1
    return n


def _shape(cell: str) -> str:
    c = cell.strip()
    if not c:
        return "empty"
    if _DATE.match(c):
        return "date"
    if _NUMBER.match(c):
        return "number"
    return "text"


def _looks_like_data(candidate: list[str], below: list[list[str]]) -> bool:
    """True when the candidate header's cells have the shapes of the values under them in
    the typed (date or number) columns: a header names its columns, it does not look like
    them."""
    rows = [r for r in below if not _blank(r)]
    if len(rows) < 2:
        return False
    typed = matching = 0
    for j, cell in enumerate(candidate):
        shapes = Counter(_shape(r[j]) for r in rows if j < len(r) and r[j].strip())
        if not shapes:
            continue
        shape, count = shapes.most_common(1)[0]
        if shape in ("date", "number") and count >= 0.8 * sum(shapes.values()):
            typed += 1
            matching += _shape(cell) == shape
    return typed > 0 and matching >= max(1, 0.75 * typed)


def _shorten(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[:limit] + f"… ({len(text):,} characters)"


def _fit(cells: list[str], width: int) -> list[str]:
    return (cells + [""] * width)[:width]


def _ragged(cells: list[str], width: int) -> RowProblem:
    return RowProblem(
        "ragged-row",
        f"row has {len(cells)} fields but the header has {width}: columns may be shifted",
        cells=[clean(c) for c in cells],
    )
