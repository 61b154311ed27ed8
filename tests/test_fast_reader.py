"""The pyarrow fast path for delimited text gives exactly the Python path's chunks: the same cells,
physical line numbers, ragged-row problems, blank-line count, footer, and errors.

The property test writes raw CSV bytes (not csv.writer's), so it covers quoting a writer never
produces: quotes inside unquoted fields, text after a closing quote, a quote left open at the end
of the file. It also covers CR, LF and CRLF line ends, mixed in one file, blank and
whitespace-only lines, short and long rows, and footers. pyarrow's block is made tiny, so a file
spans many batches and rows longer than a block force the reader to reopen.
"""

from __future__ import annotations

import codecs
import csv
import os
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from csvbridge.errors import CsvbridgeError
from csvbridge.readers import RawChunk, ReadOptions, SourceInfo, open_source
from csvbridge.readers import fast_delimited as fast

# CSVBRIDGE_FAST_EXAMPLES=5000 for a longer soak than the suite's
SETTINGS = settings(
    max_examples=int(os.environ.get("CSVBRIDGE_FAST_EXAMPLES", "250")), deadline=None
)
DEFAULT_FIELD_LIMIT = csv.field_size_limit()


@dataclass
class Outcome:
    chunks: list[RawChunk]
    info: dict[str, Any] | None
    error: str | None  # CsvbridgeError.render(): message, where and hint
    fast: bool


def read(path: Path, options: ReadOptions, size: int, *, use_fast: bool) -> Outcome:
    """Every chunk of ``path`` through one path, and how reading ended."""
    # Detection parses its sample under the csv module's global field size limit, which the
    # previous read set from its options: start each read from the same limit.
    csv.field_size_limit(DEFAULT_FIELD_LIMIT)
    chunks: list[RawChunk] = []
    took_fast = False
    info: SourceInfo | None = None
    try:
        with ExitStack() as stack:
            finder = open_source(path, 0, options, stack)
            info = finder.info
            it = fast.plan(finder, size) if use_fast else None
            took_fast = it is not None
            finder.fast = None
            for chunk in it if it is not None else finder.chunks(size):
                chunks.append(chunk)
    except CsvbridgeError as e:
        return Outcome(chunks, None, f"[{e.code}] {e.render()}", took_fast)
    assert info is not None
    return Outcome(chunks, info.as_dict(), None, took_fast)


def assert_same(py: Outcome, fa: Outcome) -> None:
    assert fa.error == py.error
    assert len(fa.chunks) == len(py.chunks)
    for i, (a, b) in enumerate(zip(py.chunks, fa.chunks, strict=True)):
        assert b.table.schema == a.table.schema, i
        assert b.table.to_pydict() == a.table.to_pydict(), i
        assert b.lines.dtype == np.int64
        assert b.lines.tolist() == a.lines.tolist(), i
        assert b.problems == a.problems, i
        assert (b.source, b.native_dates) == (a.source, a.native_dates)
        for col in b.table.columns:
            assert col.num_chunks == 1
    assert fa.info == py.info


def compare(data: bytes, options: ReadOptions, size: int) -> Outcome:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "in.csv"
        path.write_bytes(data)
        py = read(path, options, size, use_fast=False)
        fa = read(path, options, size, use_fast=True)
    assert_same(py, fa)
    return fa


# -- raw CSV text -----------------------------------------------------------------------------
PLAIN_CHARS = st.sampled_from(
    [
        *["a", "b", "Z", "1", "0", ".", "-", " ", "\xa0", "\u3000", "\t", "é", "€", "日", "😀"],
        *["'", "\ufeff"],  # a byte-order mark inside the data is text
    ]
)
BREAKS = st.sampled_from(["\n", "\r\n", "\r"])


@st.composite
def raw_field(draw: st.DrawFn, delim: str, quote: str) -> str:
    """One field as it appears in the file, quoted or not, well-formed or not."""
    plain = draw(st.lists(PLAIN_CHARS, max_size=6).map("".join))
    kind = draw(st.sampled_from(["plain", "plain", "plain", "quoted", "quoted", "odd", "blank"]))
    if kind == "plain":
        return plain
    if kind == "blank":
        return draw(st.sampled_from(["", " ", "  ", "\t", "\xa0", "\u2003"]))
    if kind == "quoted":
        inner = draw(
            st.lists(st.one_of(PLAIN_CHARS, BREAKS, st.just(delim), st.just(quote)), max_size=8)
        )
        return quote + "".join(inner).replace(quote, quote * 2) + quote
    # Quoting the csv module reads leniently: a quote inside an unquoted field, text after a
    # closing quote, a field that is just quotes.
    return draw(
        st.sampled_from(
            [
                f"a{quote}b",
                f"{quote}ab{quote}cd",
                f"{quote}a{quote} {quote}b{quote}",
                f"{quote}{quote}",
                f" {quote}x{delim}y{quote}",
                f"{quote}a\r{quote}b",
                f"{quote}{quote}{quote}a{quote}",
            ]
        )
    )


@st.composite
def raw_file(draw: st.DrawFn) -> tuple[str, str, str]:
    """(file text, delimiter, quote character)."""
    delim = draw(st.sampled_from([",", ";", "\t", "|"]))
    quote = draw(st.sampled_from(['"', '"', '"', "'"]))
    width = draw(st.integers(1, 5))
    mixed = draw(st.booleans())
    term = draw(BREAKS)

    def end() -> str:
        return draw(BREAKS) if mixed else term

    lines: list[str] = []
    for _ in range(draw(st.integers(0, 2))):  # preamble
        lines.append(draw(st.sampled_from(["Statement", "Account: 123", ""])) + end())
    header = [f"h{i}" for i in range(width)]
    if draw(st.integers(0, 4)) == 0:
        header += [""] * draw(st.integers(1, 2))  # trailing delimiter(s) on the header
    lines.append(delim.join(header) + end())
    field = raw_field(delim, quote)
    n_rows = draw(st.integers(0, 60))
    trailing_delim = draw(st.integers(0, 4)) == 0  # every row one field wider, empty
    for _ in range(n_rows):
        shape = draw(st.sampled_from(["full"] * 8 + ["short", "long", "blank", "ws"]))
        if shape == "blank":
            lines.append(end())
            continue
        if shape == "ws":
            lines.append(
                draw(st.sampled_from([" ", delim * width, "\t", f"{quote}{quote}"])) + end()
            )
            continue
        n = (
            width
            + (shape == "long") * draw(st.integers(1, 2))
            - (shape == "short") * draw(st.integers(1, width))
        )
        cells = [draw(field) for _ in range(max(n, 0))]
        if trailing_delim:
            cells.append("")
        lines.append(delim.join(cells) + end())
    for _ in range(draw(st.sampled_from([0, 0, 1, 2, 21, 23]))):  # footer: short rows
        lines.append(draw(st.sampled_from(["Total", "End of statement", "x"])) + end())
    text = "".join(lines)
    tail = draw(st.sampled_from(["", "", "keep", "open", "blank"]))
    if tail == "keep" and text:
        text = text.rstrip("\r\n")  # no line end after the last row
    elif tail == "open":
        text += f"a{delim}{quote}never closed\nstill open"
    elif tail == "blank":
        text += end() + end()
    return text, delim, quote


@SETTINGS
@given(
    made=raw_file(),
    encoding=st.sampled_from(["utf-8"] * 6 + ["utf-8-sig", "utf-8-sig", "cp1252", "utf-16"]),
    size=st.sampled_from([1, 2, 3, 7, 25, 1000]),
    block=st.sampled_from([32, 64, 256, 4096, 1 << 20]),
    footer=st.booleans(),
    given_delim=st.booleans(),
    limit=st.sampled_from([10_000_000, 10_000_000, 12, 40]),
    any_share=st.booleans(),
)
def test_fast_path_gives_the_python_paths_chunks(
    made: tuple[str, str, str],
    encoding: str,
    size: int,
    block: int,
    footer: bool,
    given_delim: bool,
    limit: int,
    any_share: bool,
) -> None:
    text, delim, quote = made
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode("utf-8")
    if not data:
        return
    options = ReadOptions(
        delimiter=delim if given_delim else None,
        quotechar=quote,
        footer=footer,
        max_field_size=limit,
    )
    old = fast.BLOCK_SIZE, fast.IRREGULAR_SHARE
    fast.BLOCK_SIZE = block
    if any_share:  # take the fast path however irregular the rows: its one-by-one logic
        fast.IRREGULAR_SHARE = 2.0
    try:
        got = compare(data, options, size)
    finally:
        fast.BLOCK_SIZE, fast.IRREGULAR_SHARE = old
    event("fast path" if got.fast else "declined")
    if got.fast:
        if got.error:
            event(f"error: {got.error.split()[0]}")
        if "\r" in text:
            event("CR in the file")


@SETTINGS
@given(made=raw_file(), size=st.sampled_from([1, 4, 50]), block=st.sampled_from([32, 512]))
# A quote inside an unquoted cell, then one opening a field that never closes: the line's
# quotes are even, yet pyarrow read the rest of the file into that field (found by this test).
@example(made=("h0\na'\t'\t\n", "\t", "'"), size=1, block=32)
@example(made=("h0\t\na'\t'\t\n", "\t", "'"), size=1, block=32)
def test_fast_path_without_header(made: tuple[str, str, str], size: int, block: int) -> None:
    """Data from the file's first line (no header), or the header given by line number."""
    text, delim, quote = made
    data = text.encode()
    if not data:
        return
    old = fast.BLOCK_SIZE, fast.IRREGULAR_SHARE
    fast.BLOCK_SIZE, fast.IRREGULAR_SHARE = block, 2.0
    try:
        compare(data, ReadOptions(delimiter=delim, quotechar=quote, no_header=True), size)
        compare(data, ReadOptions(delimiter=delim, quotechar=quote, header_line=1), size)
    finally:
        fast.BLOCK_SIZE, fast.IRREGULAR_SHARE = old


# -- the cases the fast path must decline, and the edges it must handle ----------------------
def test_whitespace_set_is_pythons() -> None:
    assert "".join(chr(c) for c in range(0x110000) if chr(c).isspace()) == fast.PY_WHITESPACE


def _plan(tmp_path: Path, data: bytes, options: ReadOptions | None = None) -> bool:
    path = tmp_path / "in.csv"
    path.write_bytes(data)
    with ExitStack() as stack:
        finder = open_source(path, 0, options or ReadOptions(), stack)
        return fast.plan(finder, 10) is not None


HEAD = b"Date,Description,Amount\n"
ROW = b"01/02/2024,Coffee,-3.50\n"


def test_takes_plain_utf8_and_ascii_cp1252(tmp_path: Path) -> None:
    assert _plan(tmp_path, HEAD + ROW * 5)
    assert _plan(tmp_path, HEAD + ROW * 5, ReadOptions(encoding="cp1252"))
    assert _plan(tmp_path, codecs.BOM_UTF8 + HEAD + ROW * 5)  # the mark is before the header


def test_declines_undecodable_bytes_anywhere(tmp_path: Path) -> None:
    bad = HEAD + ROW * 20_000 + b"01/02/2024,Caf\xe9 late,-1.00\n"  # past the detection sample
    assert not _plan(tmp_path, bad, ReadOptions(encoding="utf-8"))
    out = compare(bad, ReadOptions(encoding="utf-8"), 7)
    assert not out.fast
    problems = [p for c in out.chunks for p in c.problems.values()]
    assert [p.rule for p in problems] == ["undecodable-bytes"]


def test_declines_non_ascii_single_byte_and_utf16(tmp_path: Path) -> None:
    assert not _plan(tmp_path, HEAD + "01/02/2024,Café,-1\n".encode("cp1252"))
    assert not _plan(tmp_path, (HEAD + ROW).decode().encode("utf-16"))


def test_declines_a_mark_before_first_line_data(tmp_path: Path) -> None:
    opts = ReadOptions(no_header=True)
    assert not _plan(tmp_path, codecs.BOM_UTF8 + ROW * 3, opts)
    assert not _plan(tmp_path, b'"' + codecs.BOM_UTF8 + b'x",1,2\n' + ROW, opts)
    assert _plan(tmp_path, ROW * 3, opts)
    compare(b'"\xef\xbb\xbfx",1,2\n' + ROW, opts, 2)


def test_a_mark_starting_a_data_cell_is_kept() -> None:
    """pyarrow strips a byte-order mark at the start of its stream; where the stream starts (the
    first data line, or a reopen after a row longer than the block) it is a cell's text."""
    bom = codecs.BOM_UTF8
    out = compare(HEAD + bom + b",x,1\n" + ROW, ReadOptions(), 10)
    assert out.fast
    assert out.chunks[0].table.column(0).to_pylist() == ["\ufeff", "01/02/2024"]
    out = compare(HEAD + bom + bom + b"\n" + bom + b"a,b,c\n" + ROW, ReadOptions(), 10)
    assert out.fast


def test_a_mark_where_the_reader_reopens(monkeypatch: pytest.MonkeyPatch) -> None:
    # The long row (over the 128-byte block) starts with the mark: the reader reopens there.
    monkeypatch.setattr(fast, "BLOCK_SIZE", 128)
    big = codecs.BOM_UTF8 + b'01/02/2024,"' + b"long text " * 30 + b'",-1\n'
    seen: list[bool] = []
    starts = fast._FastReader._starts_with_bom
    monkeypatch.setattr(
        fast._FastReader, "_starts_with_bom", lambda r, o: seen.append(starts(r, o)) or seen[-1]
    )
    out = compare(HEAD + ROW * 5 + big + ROW * 5, ReadOptions(), 4)
    assert out.fast and seen.count(True) == 1
    cells = [v for c in out.chunks for v in c.table.column(0).to_pylist()]
    assert cells.count("\ufeff01/02/2024") == 1


def test_environment_forces_python(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(fast.ENV_READER, "python")
    assert not _plan(tmp_path, HEAD + ROW)


def _allow_quoted_breaks(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast path declines files whose quoted fields span lines (the Python path's runaway
    quote rules are its own); its handling of such fields is kept, and tested, here."""
    monkeypatch.setattr(fast, "_plain_quoting", lambda *a: True)


def test_quoted_line_breaks_go_to_the_python_path() -> None:
    out = compare(HEAD + ROW * 30 + b'01/02/2024,"two\nlines",-1\n' + ROW, ReadOptions(), 8)
    assert not out.fast
    assert not compare(HEAD + ROW * 30 + b"01/02/2024,a\x00b,-1\n", ReadOptions(), 8).fast
    assert compare(HEAD + ROW * 30 + b'01/02/2024,"a, ""b""",-1\n', ReadOptions(), 8).fast


def test_row_longer_than_the_block(monkeypatch: pytest.MonkeyPatch) -> None:
    _allow_quoted_breaks(monkeypatch)
    monkeypatch.setattr(fast, "BLOCK_SIZE", 64)
    big = b'01/02/2024,"' + b"long text\r\n" * 50 + b'",-1\n'
    out = compare(HEAD + ROW * 30 + big + b"short\n" + ROW * 30, ReadOptions(), 8)
    assert out.fast and out.info is not None
    assert out.info["data_rows"] == 62


def test_field_over_the_limit_fails_on_the_same_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """After the rows header detection reads (200), so the fast path meets it."""
    _allow_quoted_breaks(monkeypatch)
    long_cell = b'"' + b"x\n" * 30 + b'"'
    before = HEAD + ROW * 250
    for data in (
        before + b"01/02/2024," + long_cell + b",1\n" + ROW,
        before + b"01/02/2024," + long_cell + b",1,extra\n" + ROW,  # ragged
        before + b'"two\r\nlines",' + long_cell + b",1\n" + ROW,  # a break in an earlier cell
    ):
        out = compare(data, ReadOptions(max_field_size=25), 2)
        assert out.fast
        assert out.error is not None
        assert sum(c.num_rows for c in out.chunks) == 250  # the full chunks before it
    last = compare(before + b"01/02/2024," + long_cell + b",1\n", ReadOptions(max_field_size=25), 2)
    assert last.error is not None and "line 264\n" in last.error  # 252 + 12 breaks before it


def test_trailing_delimiters_and_slack_are_batched() -> None:
    # rows wider than the header (a trailing delimiter) and narrower (blank-headed columns)
    out = compare(HEAD + b"01/02/2024,Coffee,-3.50,\n" * 50 + b"a,b,c,d\n", ReadOptions(), 16)
    assert out.fast
    assert [p.rule for c in out.chunks for p in c.problems.values()] == ["ragged-row"]
    out = compare(b"Date,Description,Amount,,\n" + ROW * 50 + b"a,b\n", ReadOptions(), 16)
    assert out.fast and out.info is not None
    assert out.info["footer"] == [{"line": 52, "text": "a,b"}]


def test_every_block_boundary(monkeypatch: pytest.MonkeyPatch) -> None:
    """A block boundary at every byte: between \\r and \\n of a row end and of a quoted value,
    inside multibyte characters, in ragged and footer rows (whose text pyarrow 26 can garble
    across a boundary: they are read again from the file)."""
    body = (
        b'01/02/2024,"two\r\nlines",-1\r\n'
        b"02/02/2024,Caf\xc3\xa9 \xe2\x82\xac,-2\r"
        b'"03/02/2024","x\r\n\r\n",-3,"extra\r\n"\n'
        b"\r\n"
        b'04/02/2024,"a\rb",-4\n'
        b'short,"q\r\n"\r\n'
        b"05/02/2024,plain,-5\r\n"
        b'Total,"1\r\n2"\r\n'
    )
    data = HEAD.replace(b"\n", b"\r\n") + body
    _allow_quoted_breaks(monkeypatch)
    for block in range(8, len(body) + 8):
        monkeypatch.setattr(fast, "BLOCK_SIZE", block)
        out = compare(data, ReadOptions(), 3)
        assert out.fast and out.info is not None
        assert out.info["footer"][0]["line"] == 15


def test_declines_wide_tables(tmp_path: Path) -> None:
    """pyarrow's cost per column: very wide tables are faster through the csv module."""
    wide = ",".join(f"c{i}" for i in range(fast.MAX_COLUMNS + 1)).encode() + b"\n"
    row = ",".join(["1"] * (fast.MAX_COLUMNS + 1)).encode() + b"\n"
    assert not _plan(tmp_path, wide + row * 3)
    narrow = ",".join(f"c{i}" for i in range(fast.MAX_COLUMNS)).encode() + b"\n"
    assert _plan(tmp_path, narrow + ",".join(["1"] * fast.MAX_COLUMNS).encode() + b"\n")
