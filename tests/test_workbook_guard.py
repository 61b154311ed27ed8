"""The workbook guard's reference scan (``max_ref``) gives exactly what the previous, plainer
vectorised scan gave, on sheet XML and on arbitrary bytes made of its pieces; and the guard
refuses a lying zip before calamine sees it."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from csvbridge.errors import InputFileError
from csvbridge.limits import Limits
from csvbridge.readers.workbook_guard import _BLOCK, check_workbook, max_ref


def reference_max_ref(data: bytes) -> tuple[int, int]:
    """The largest row and column among the references (`` r="XFD1048576"``, or a row's
    `` r="7"``) in a block of sheet XML. Vectorised: a sheet holds millions of them."""
    a = np.frombuffer(data + bytes(16), np.uint8)
    n = len(a)
    hit = a[2 : n - 14] == 0x3D  # r="
    hit &= a[1 : n - 15] == 0x72
    hit &= a[3 : n - 13] == 0x22
    ws = a[0 : n - 16]
    hit &= (ws == 0x20) | (ws == 0x0A) | (ws == 0x09) | (ws == 0x0D)
    pos = np.flatnonzero(hit) + 4
    if not len(pos):
        return 0, 0
    win = a[pos[:, None] + np.arange(14)].astype(np.int64)
    k = len(pos)
    col = np.zeros(k, np.int64)
    letters = np.zeros(k, np.int64)
    still = np.ones(k, bool)
    for i in range(3):  # up to three letters: XFD is the last column
        ch = win[:, i]
        still &= (ch >= 0x41) & (ch <= 0x5A)
        col = np.where(still, col * 26 + ch - 0x40, col)
        letters += still
    row = np.zeros(k, np.int64)
    at = np.arange(k)
    still[:] = True
    for j in range(10):
        ch = win[at, letters + j]
        still &= (ch >= 0x30) & (ch <= 0x39)
        row = np.where(still, row * 10 + ch - 0x30, row)
    return int(row.max()), int(col.max())


LETTERS = st.text(alphabet="ABCXYZaz@[", max_size=4)
DIGITS = st.text(alphabet="0123456789", max_size=12)
BEFORE = st.sampled_from([" ", "\t", "\n", "\r", "x", ":", '"', ""])
AFTER = st.sampled_from(['"', '" s="1"', "", "x", "9", ">", '"/><c r="'])
REF = st.builds(lambda b, c, d, a: f'{b}r="{c}{d}{a}', BEFORE, LETTERS, DIGITS, AFTER)
JUNK = st.sampled_from(['<c r="', "<v>12</v>", "=", '"', " r=", 'r="', '<row r="', "\x00", "é"])


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.one_of(REF, JUNK), max_size=30))
@example(['<row r="7">', ' r="XFD1048576"'])
@example([' r="A007"', ' r="B99"'])
@example([' r="A0000000000009"', ' r="ZZZ99999999999"'])
@example([' r="Z0001"', ' r="B2"'])
@example([' r="12345678901"'])
def test_max_ref_is_the_reference_scan(parts: list[str]) -> None:
    data = "".join(parts).encode()
    assert max_ref(data) == reference_max_ref(data)


def test_max_ref_on_a_real_sheet() -> None:
    rows = [
        f'<row r="{r}">' + "".join(f'<c r="{c}{r}" s="1"><v>{r}</v></c>' for c in "ABG") + "</row>"
        for r in range(1, 3000)
    ]
    data = ("<sheetData>" + "".join(rows) + '<row r="3000"><c r="AB17"/></row>').encode()
    assert max_ref(data) == reference_max_ref(data) == (3000, 28)


def _zip(sheet: bytes, lie: int | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", sheet)
    data = buf.getvalue()
    if lie is None:
        return data
    # Rewrite the sheet's uncompressed size, in its local header and the central directory.
    z = zipfile.ZipFile(io.BytesIO(data))
    info = z.getinfo("xl/worksheets/sheet1.xml")
    out = bytearray(data)
    out[info.header_offset + 22 : info.header_offset + 26] = lie.to_bytes(4, "little")
    central = data.rindex(b"PK\x01\x02")
    while data[central + 46 : central + 46 + len(info.filename)] != info.filename.encode():
        central = data.rindex(b"PK\x01\x02", 0, central)
    out[central + 24 : central + 28] = lie.to_bytes(4, "little")
    return bytes(out)


def test_a_part_bigger_than_its_zip_entry_says_is_refused(tmp_path: Path) -> None:
    """A zip whose entry understates its size: inflating stops at the stated size, and the
    check refuses the part (its CRC cannot match) instead of reading on."""
    sheet = b"<sheetData>" + b'<row r="1"><c r="A1"><v>1</v></c></row>' * 50_000 + b"</sheetData>"
    data = _zip(sheet, lie=1000)
    with pytest.raises(InputFileError) as e:
        check_workbook(io.BytesIO(data), "lie.xlsx", Limits())
    assert e.value.code == "workbook-unreadable"
    assert "cannot be unpacked" in e.value.message


def test_a_reference_across_blocks_is_read_whole() -> None:
    pad = b"x" * (_BLOCK - 7)
    sheet = b"<sheetData>" + pad + b'<row r="1"><c r="XFD1048576"/></row></sheetData>'
    with pytest.raises(InputFileError, match="reaches row 1,048,576 and column 16,384"):
        check_workbook(io.BytesIO(_zip(sheet)), "far.xlsx", Limits(max_expansion=0))
    assert np.frombuffer(sheet, np.uint8).size > _BLOCK
