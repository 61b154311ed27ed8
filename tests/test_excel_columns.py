"""The column-wise reading of spreadsheet cells gives exactly the text the cell-by-cell path
(``excel.cell_text``) gives, value for value, and the same chunks, lines and counts."""

from __future__ import annotations

import datetime as dt
import struct
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
import xlsxwriter
from hypothesis import example, given, settings
from hypothesis import strategies as st

from csvbridge.readers import ReadOptions, excel_columns, open_source
from csvbridge.readers.arrow_buffers import bool_values, string_array, string_bytes, string_lengths
from csvbridge.readers.excel import cell_text
from csvbridge.readers.excel_columns import (
    blank_rows,
    column_text,
    date_text,
    float_text,
    text_columns,
)

FLOATS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**17), 10**17).map(lambda n: n / 100),
    st.integers(-(10**9), 10**9).map(lambda n: n / 10**6),
    st.integers(0, 2**64 - 1).map(lambda b: struct.unpack("<d", b.to_bytes(8, "little"))[0]),
)
CELLS = st.one_of(
    FLOATS,
    st.text(max_size=8),
    st.dates(min_value=dt.date(1, 1, 1)),
    st.datetimes(),
    st.times(),
    st.timedeltas(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.none(),
)


@settings(max_examples=1500, deadline=None)
@given(st.lists(FLOATS, min_size=1, max_size=20))
@example([0.1 + 0.2, -0.0, 1e16, 1e15, 123456789012345.6, 274.65999999999997, 1e-5, 100.0])
@example([5e-324, 1.7976931348623157e308, 999999999999999.9, 0.000123, 1e21])
def test_float_column_is_cell_text(values: list[float]) -> None:
    arr = np.asarray(values, dtype=np.float64)
    assert float_text(arr, cell_text).to_pylist() == [cell_text(v) for v in values]


@settings(max_examples=1500, deadline=None)
@given(st.lists(CELLS, min_size=1, max_size=30))
@example(["", 1.5, dt.date(2024, 1, 2), dt.datetime(2024, 1, 2), True, 3])
@example(["", 1.5, "", 2.25, None, 1e300])
@example([None, 3.0, "", "x"])
@example([dt.date(1, 1, 1), dt.date(9999, 12, 31), dt.date(999, 3, 4)])
def test_mixed_column_is_cell_text(values: list[Any]) -> None:
    col = np.empty(len(values), dtype=object)
    col[:] = values
    out = column_text(col, cell_text)
    assert out.type == pa.string()
    assert out.to_pylist() == [cell_text(v) for v in values]


def _workbook(path: Path, rows: list[list[Any]]) -> Path:
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Data")
    date = book.add_format({"num_format": "yyyy-mm-dd"})
    for r, row in enumerate(rows):
        for c, v in enumerate(row):
            if isinstance(v, dt.date | dt.datetime):
                sheet.write_datetime(r, c, v, date)
            elif v is not None:
                sheet.write(r, c, v)
    book.close()
    return path


def _read(path: Path, fast: bool, size: int) -> tuple[Any, ...]:
    with ExitStack() as stack:
        finder = open_source(path, 0, ReadOptions(), stack)
        if not fast:
            finder.fast = None
        chunks = list(finder.chunks(size))
        info = finder.info
        return (
            [c.table.to_pylist() for c in chunks],
            [c.lines.tolist() for c in chunks],
            [{i: (p.rule, p.message) for i, p in c.problems.items()} for c in chunks],
            [c.native_dates for c in chunks],
            info.rows,
            info.blank_lines,
            info.columns,
            info.preamble,
            info.footer,
        )


@pytest.mark.parametrize("size", [1, 3, 7, 1000])
def test_fast_path_reads_what_the_row_path_reads(tmp_path: Path, size: int) -> None:
    rows: list[list[Any]] = [["Statement for account 1234"], [], ["Date", "Text", "Amount", "N"]]
    for i in range(40):
        rows.append(
            [
                dt.datetime(2024, 1, 1) + dt.timedelta(days=i, hours=i % 3),
                f"row {i}" if i % 5 else "  ",
                i * 1.1 if i % 4 else None,
                "\x00bad" if i == 17 else i,
            ]
        )
        if i % 9 == 0:
            rows.append([None, "\u3000", None, " \t"])  # whitespace only: a blank row
    rows.append([])
    rows.append(["Total", None, 1234.5])
    path = _workbook(tmp_path / "s.xlsx", rows)
    fast = _read(path, True, size)
    slow = _read(path, False, size)
    assert fast == slow
    assert fast[5] >= 5  # the blank rows were seen and counted
    assert any(fast[2])  # the NUL row is flagged


def test_fast_path_is_taken(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "s.xlsx", [["a", "b"], [1.5, "x"], [2.25, "y"]])
    with ExitStack() as stack:
        finder = open_source(path, 0, ReadOptions(), stack)
        assert finder.fast is not None
        assert finder.fast(finder, 10) is not None


def test_fast_path_on_a_table_away_from_a1(tmp_path: Path) -> None:
    """A used range starting at C3: calamine gives rows from row 1, as wide as the range."""
    path = tmp_path / "offset.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Data")
    sheet.write_row(2, 2, ["Date", "Amount"])
    for i in range(12):
        sheet.write_row(3 + i, 2, [f"2024-01-{i + 1:02d}", i / 8])
    sheet.write(20, 4, "far")
    book.close()
    for size in (1, 5, 100):
        assert _read(path, True, size) == _read(path, False, size)


TEXTS = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)


@settings(max_examples=500, deadline=None)
@given(st.lists(TEXTS, max_size=40))
@example([])
@example(["", "", ""])
@example(["café", "", "日本", "\x00", "a\nb"])
def test_string_array_is_pa_array(values: list[str]) -> None:
    out = string_array(values)
    assert out.type == pa.string()
    out.validate(full=True)
    assert out.to_pylist() == values


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.booleans(), st.none()), max_size=40), st.integers(0, 20))
def test_bool_values_reads_bits_offsets_and_nulls(values: list[bool | None], cut: int) -> None:
    arr = pa.array(values, pa.bool_())
    for part in (arr, arr.slice(min(cut, len(values)))):
        expected = [bool(v) for v in part.to_pylist()]
        assert bool_values(part).tolist() == expected


@settings(max_examples=300, deadline=None)
@given(st.lists(TEXTS, max_size=30), st.integers(0, 30))
@example([], 0)
@example(["ab", "c"], 2)
def test_string_lengths_and_bytes_of_a_slice(values: list[str], cut: int) -> None:
    part = pa.array(values, pa.string()).slice(min(cut, len(values)))
    texts = part.to_pylist()
    assert string_lengths(part).tolist() == [len(t.encode()) for t in texts]
    assert string_bytes(part).tobytes() == "".join(texts).encode()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.dates(min_value=dt.date(1, 1, 1)), max_size=30))
@example([dt.date(1, 1, 1), dt.date(1969, 12, 31), dt.date(1970, 1, 1), dt.date(9999, 12, 31)])
def test_date_text_is_isoformat(values: list[dt.date]) -> None:
    assert date_text(values).to_pylist() == [d.isoformat() for d in values]


BLANKISH = st.one_of(
    st.sampled_from(["", " ", "\t", "\u3000", "\xa0", " x ", "\u200b", "\x1c"]),
    st.text(alphabet=" \t\r\n\x0b\x0c\x85\u2028\u3000a", max_size=4),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(BLANKISH, min_size=3, max_size=3), min_size=1, max_size=20))
def test_blank_rows_is_str_strip(rows: list[list[str]]) -> None:
    arrays = [pa.array([r[j] for r in rows], pa.string()) for j in range(3)]
    expected = [not "".join(r).strip() for r in rows]
    assert blank_rows(arrays, len(rows)).tolist() == expected


@settings(max_examples=500, deadline=None)
@given(st.integers(1, 5).flatmap(lambda w: st.lists(st.lists(CELLS, min_size=w, max_size=w))))
def test_text_columns_is_cell_text_and_knows_blank_rows(rows: list[list[Any]]) -> None:
    width = len(rows[0]) if rows else 3
    arrays, may_blank = text_columns(rows, width, cell_text)
    assert len(arrays) == width
    for j, arr in enumerate(arrays):
        assert arr.to_pylist() == [cell_text(r[j]) for r in rows]
    if any(not "".join(cell_text(v) for v in r).strip() for r in rows):
        assert may_blank  # a batch with a blank row is always checked


def test_reading_a_workbook_does_not_import_pandas(tmp_path: Path) -> None:
    """pyarrow's pa.array/to_numpy import pandas (0.1 s, 40 MB); the read path avoids them,
    blank rows and numbers written with an exponent included."""
    import subprocess
    import sys

    rows: list[list[Any]] = [["Date", "Text", "Amount"]]
    for i in range(20):
        amount = 1e20 if i == 5 else i / 3 or None
        rows.append([dt.date(2024, 1, 1 + i), f"row {i}" if i % 3 else " ", amount])
        if i % 7 == 0:
            rows.append([None, " ", None])  # a blank row
    path = _workbook(tmp_path / "s.xlsx", rows)
    code = (
        "import sys\n"
        "from contextlib import ExitStack\n"
        "from pathlib import Path\n"
        "from csvbridge.readers import ReadOptions, open_source\n"
        "with ExitStack() as s:\n"
        f"    f = open_source(Path({str(path)!r}), 0, ReadOptions(), s)\n"
        "    assert f.fast is not None\n"
        "    rows = sum(c.num_rows for c in f.chunks(7))\n"
        "    blank = f.info.blank_lines\n"
        "print(rows, blank, 'pandas' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["20", "3", "False"]


@pytest.mark.parametrize("batch", [64, 4096])
@pytest.mark.parametrize("size", [1, 7, 199, 200, 250, 25_000])
def test_fast_path_past_the_header_search(
    tmp_path: Path, size: int, batch: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More rows than the header search reads: the first batch joins the rows already read,
    chunks are pieced together from batches, and every chunk is cut where the row path cuts
    it."""
    monkeypatch.setattr(excel_columns, "BATCH_ROWS", batch)
    rows: list[list[Any]] = [["Date", "Text", "Amount"]]
    for i in range(450):
        amount: Any = round(i * 1.37 - 200, 2) if i % 6 else ""
        rows.append([dt.date(2020, 1, 1) + dt.timedelta(days=i), f"item {i}", amount])
    path = _workbook(tmp_path / "long.xlsx", rows)
    fast = _read(path, True, size)
    assert fast == _read(path, False, size)
    assert fast[4] == 450
