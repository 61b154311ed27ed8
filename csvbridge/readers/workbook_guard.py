"""Checks a spreadsheet's zip before calamine sees it. calamine loads a whole sheet into memory,
as a dense grid of its used range, and aborts the process (a Rust allocation failure, which no
``except`` can catch) when that does not fit: a 2 KB xlsx with one cell at XFD1048576, or a
1 MB xlsx whose one cell inflates to 1 GiB. So, before opening, the zip's parts are measured
against the limits (``max_workbook_bytes``, ``max_expansion``) and each worksheet is streamed
through a bounded scan for its cell references (``max_sheet_cells``, ``max_columns``).
"""

from __future__ import annotations

import re
import zipfile
import zlib
from typing import BinaryIO

import numpy as np
import numpy.typing as npt

from ..errors import InputFileError
from ..limits import Limits, MiB, exceeded

# Parts smaller than this may inflate any amount: tiny XML parts compress very well.
EXPANSION_GRACE = 4 * MiB
# What unpacking a damaged part raises.
_UNPACK_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError)
_BLOCK = 1 << 20
_SHEET_PART = re.compile(r"^xl/worksheets/[^/]+\.xml$", re.IGNORECASE)


# The bytes before ``r="`` that make it an attribute: space, tab, line feed, carriage return.
_SPACE = np.zeros(256, dtype=bool)
_SPACE[[0x20, 0x09, 0x0A, 0x0D]] = True
IntArray = npt.NDArray[np.int64]


def max_ref(data: bytes) -> tuple[int, int]:
    """The largest row and column among the references (`` r="XFD1048576"``, or a row's
    `` r="7"``) in a block of sheet XML: up to three letters, then up to ten digits.
    Vectorised: a sheet holds millions of them."""
    n = len(data)
    if n < 4:  # too short for one
        return 0, 0
    a = np.frombuffer(data + bytes(16), np.uint8)
    hit = a[2:n] == 0x3D  # r=" at 1..3 (and a space before it, checked on the hits only)
    hit &= a[1 : n - 1] == 0x72
    hit &= a[3 : n + 1] == 0x22
    eq = np.flatnonzero(hit) + 2
    pos = eq[_SPACE[a[eq - 2]]] + 2  # each reference's first byte
    if not len(pos):
        return 0, 0
    col = np.zeros(len(pos), np.int64)
    letters = np.zeros(len(pos), np.int64)
    still = np.ones(len(pos), bool)
    for i in range(3):  # up to three letters: XFD is the last column
        ch = a[pos + i]
        still &= (ch >= 0x41) & (ch <= 0x5A)
        col = np.where(still, col * 26 + ch - 0x40, col)
        letters += still
    return _max_row(a, pos + letters), int(col.max())


def _max_row(a: npt.NDArray[np.uint8], start: IntArray) -> int:
    """The largest number among the digits (up to ten) at each of ``start``. The references
    with the most digits are found first, dropping the others digit by digit; the largest
    number is among them unless they start with 0 (then every reference is worked out)."""
    most, top = 0, start
    for j in range(10):
        ch = a[top + j]
        nxt = top[(ch >= 0x30) & (ch <= 0x39)]
        if not len(nxt):
            break
        most, top = j + 1, nxt
    if most == 0:
        return 0
    if most > 1 and (a[top] == 0x30).any():
        top, most = start, 10  # a leading zero: no shortcut
    row = np.zeros(len(top), np.int64)
    still = np.ones(len(top), bool)
    for j in range(most):
        digit = a[top + j].astype(np.int64) - 0x30
        still &= (digit >= 0) & (digit <= 9)
        row = np.where(still, row * 10 + digit, row)
    return int(row.max())


def check_workbook(f: BinaryIO, name: str, limits: Limits) -> None:
    """Refuse a zip-based workbook whose parts would not fit the limits; otherwise return
    with ``f`` rewound. A file that is not a readable zip is left for calamine to refuse."""
    try:
        z = zipfile.ZipFile(f)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        f.seek(0)
        return
    try:
        members = z.infolist()
        total = sum(m.file_size for m in members)
        if limits.max_workbook_bytes and total > limits.max_workbook_bytes:
            raise exceeded(
                limits,
                "max_workbook_bytes",
                f"the workbook's parts add up to {total:,} bytes uncompressed",
                name,
            )
        for m in members:
            ratio = m.file_size / max(m.compress_size, 1)
            big = m.file_size > EXPANSION_GRACE
            if limits.max_expansion and big and ratio > limits.max_expansion:
                raise exceeded(
                    limits,
                    "max_expansion",
                    f"the part {m.filename!r} inflates {ratio:,.0f} times "
                    f"({m.compress_size:,} bytes to {m.file_size:,}): a zip bomb, or a sheet "
                    "of nothing but repeated filler",
                    name,
                )
        for m in members:
            if _SHEET_PART.match(m.filename):
                _check_sheet(z, m, name, limits)
            elif m.filename == "content.xml" and limits.max_sheet_cells:
                _check_ods(z, m, name, limits)
    finally:
        f.seek(0)


def _check_sheet(z: zipfile.ZipFile, member: zipfile.ZipInfo, name: str, limits: Limits) -> None:
    """Stream the sheet's XML (bounded blocks) for the largest row and column it refers to."""
    max_row = max_col = 0
    tail = b""
    try:
        with z.open(member) as part:
            while block := part.read(_BLOCK):
                data = tail + block
                r, c = max_ref(data)
                max_row, max_col = max(max_row, r), max(max_col, c)
                tail = data[-20:]  # a reference cut by the block's end is read whole next time
    except _UNPACK_ERRORS as e:
        raise _damaged(e, "sheet", member, name, "Excel or LibreOffice") from None
    sheet = f"{name}, {member.filename}"
    if limits.max_columns and max_col > limits.max_columns:
        raise exceeded(limits, "max_columns", f"the sheet uses {max_col:,} columns", sheet)
    cells = max_row * max(max_col, 1)
    if limits.max_sheet_cells and cells > limits.max_sheet_cells:
        raise exceeded(
            limits,
            "max_sheet_cells",
            f"the sheet's used range reaches row {max_row:,} and column {max_col:,}: "
            f"{cells:,} cells",
            sheet,
        )


# OpenDocument repeats rows and cells by count (number-rows-repeated="1048576"): a tiny file can
# ask for billions of cells, which calamine allocates (it refuses only past 100 million).
_ODS_TAG = re.compile(
    rb"<table:table-row\b([^>]*)>|</table:table-row>|<table:table(?=[\s>])[^>]*>"
    rb"|<table:(?:covered-)?table-cell\b([^>]*?)(/?)>"
)
_ROWS_REPEATED = re.compile(rb'number-rows-repeated="(\d{1,12})"')
_COLS_REPEATED = re.compile(rb'number-columns-repeated="(\d{1,12})"')


def _check_ods(z: zipfile.ZipFile, member: zipfile.ZipInfo, name: str, limits: Limits) -> None:
    """The largest table's extent in cells that hold something (trailing empty repeats, which
    LibreOffice writes to the sheet's end, are trimmed by calamine and not counted)."""
    rows = extent_rows = width = 0  # rows so far in this table; rows up to the last with data
    repeat = 1
    col = row_extent = 0  # cells so far in this row; cells up to the last with data
    worst = 0
    rest = b""
    try:
        with z.open(member) as part:
            while block := part.read(_BLOCK):
                data = rest + block
                cut = data.rfind(b">") + 1
                data, rest = data[:cut], data[cut:]
                for m in _ODS_TAG.finditer(data):
                    tag = m.group(0)
                    if tag.startswith(b"<table:table-row"):
                        r = _ROWS_REPEATED.search(m.group(1) or b"")
                        repeat, col, row_extent = (int(r.group(1)) if r else 1), 0, 0
                    elif tag == b"</table:table-row>":
                        rows += repeat
                        if row_extent:
                            extent_rows = rows
                            width = max(width, row_extent)
                    elif tag.startswith(b"<table:table ") or tag == b"<table:table>":
                        worst = max(worst, extent_rows * width)
                        rows = extent_rows = width = 0
                    else:
                        c = _COLS_REPEATED.search(m.group(2) or b"")
                        col += int(c.group(1)) if c else 1
                        if not m.group(3):  # not self-closing: the cell holds something
                            row_extent = col
                    if max(worst, extent_rows * width) > limits.max_sheet_cells:
                        raise exceeded(
                            limits,
                            "max_sheet_cells",
                            f"a table repeats its cells to {extent_rows:,} rows and {width:,} "
                            f"columns: {extent_rows * width:,} cells",
                            name,
                        )
    except _UNPACK_ERRORS as e:
        raise _damaged(e, "part", member, name, "LibreOffice or Excel") from None


def _damaged(
    e: Exception, what: str, member: zipfile.ZipInfo, name: str, apps: str
) -> InputFileError:
    """A workbook part that cannot be unpacked while it is scanned."""
    return InputFileError(
        f"the workbook is damaged: its {what} {member.filename!r} cannot be unpacked ({e})",
        where=name,
        hint="the file may be truncated or corrupted; download or export it again, or open "
        f"and re-save it in {apps}.",
        code="workbook-unreadable",
    )
