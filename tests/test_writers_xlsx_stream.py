"""The xlsx target's own streaming writer against the XlsxWriter-based writer it replaced
(tests/xlsx_reference.py): the same records read back by openpyxl and by python-calamine give
the same values, types, number formats, styles, widths, frozen header and filter — and in fact
every part holds the very same XML; the escapes are XlsxWriter's; the zip is sound (CRCs, the
deflate stream put together from pieces); the bytes do not depend on chunking."""

from __future__ import annotations

import errno
import os
import re
import zipfile
import zlib
from datetime import date
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import openpyxl
import pyarrow as pa
import pytest
import python_calamine
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from xlsxwriter.utility import _preserve_whitespace
from xlsxwriter.xmlwriter import XMLwriter

from csvbridge.errors import OutputError
from csvbridge.model import KINDS, get_kind
from csvbridge.writers import TARGETS, WriteContext, xlsx_stream, xlsx_zip
from csvbridge.writers.xlsx_cells import _PRESERVE, escape_control, escaped_text
from csvbridge.writers.xlsx_zip import crc32_combine

from . import xlsx_reference
from .test_writers_generic import Rejects, records

AWKWARD = st.lists(
    st.sampled_from(
        [
            *"ab _x0F-=&<>\"'\t\n\r\x00\x01\x0b\x1f\x7f\x85\xa0\u2028\u3000\ufffe\uffff☕😀",
            *("_x0041_", "_X00e9_", "_x005F_", "<r>", "</r>"),
        ]
    ),
    max_size=12,
).map("".join)


def _write(factory: Any, kind_name: str, tables: list[pa.Table], outdir: Path) -> list[Path]:
    outdir.mkdir(parents=True, exist_ok=True)
    ctx = WriteContext(
        outdir,
        get_kind(kind_name),
        TARGETS["xlsx"].resolve_options({}),
        ["in.csv"],
        "xlsx",
        Rejects(),
    )
    w = factory(ctx)
    for t in tables:
        w.write(t)
    return [outdir / f.name for f in w.close()]


def _openpyxl(path: Path) -> list[Any]:
    wb = openpyxl.load_workbook(path)
    out: list[Any] = [wb.sheetnames, wb.properties.title, wb.properties.creator]
    for ws in wb.worksheets:
        out += [ws.freeze_panes, ws.auto_filter.ref, ws.dimensions]
        out.append({k: v.width for k, v in ws.column_dimensions.items()})
        for row in ws.iter_rows():
            out.append(
                [
                    (
                        c.value,
                        c.data_type,
                        c.number_format,
                        c.font.b,
                        c.fill.fgColor.rgb,
                        c.border.bottom.style,
                    )
                    for c in row
                ]
            )
    return out


def _calamine(path: Path) -> list[Any]:
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    return [
        [(type(v).__name__, v) for v in row]
        for name in book.sheet_names
        for row in book.get_sheet_by_name(name).to_python()
    ]


def _same(
    kind_name: str, tables: list[pa.Table], tmp_path: Path, identical: bool = True
) -> list[Path]:
    new = _write(TARGETS["xlsx"].factory, kind_name, tables, tmp_path / "new")
    old = _write(xlsx_reference.XlsxTableWriter, kind_name, tables, tmp_path / "old")
    assert [p.name for p in new] == [p.name for p in old]
    for a, b in zip(new, old, strict=True):
        assert _openpyxl(a) == _openpyxl(b)
        assert _calamine(a) == _calamine(b)
        _well_formed(a)
        if identical:  # every part as XlsxWriter writes it
            assert _parts(a) == _parts(b)
    return new


def _well_formed(path: Path) -> None:
    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None  # every member's CRC-32 checks out
        for name in z.namelist():
            ElementTree.fromstring(z.read(name))


def _parts(path: Path) -> list[tuple[str, bytes, Any]]:
    with zipfile.ZipFile(path) as z:
        return [(i.filename, z.read(i), i.date_time) for i in z.infolist()]


@pytest.mark.parametrize("kind_name", sorted(KINDS))
def test_every_kind_reads_back_as_the_xlsxwriter_path_wrote_it(
    tmp_path: Path, kind_name: str
) -> None:
    kind = get_kind(kind_name)
    _same(kind_name, [records(kind, 30), records(kind, 7, start=30)], tmp_path)


def test_no_records_is_the_header_alone(tmp_path: Path) -> None:
    _same("transaction", [records(get_kind("transaction"), 0)], tmp_path)


def test_many_rows_and_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kind = get_kind("invoice")
    monkeypatch.setattr(xlsx_reference.XlsxTableWriter, "max_rows", 1100)
    monkeypatch.setattr(TARGETS["xlsx"].factory, "max_rows", 1100)
    files = _same("invoice", [records(kind, 1500), records(kind, 900, start=1500)], tmp_path)
    assert len(files) == 3  # widths are fitted on each part's own first 1,000 rows


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(AWKWARD, min_size=1, max_size=8))
@example([" lead", "trail\t", "_x0041_", "\x00", "\ufffe", "a&b<c>", "\u3000x"])
def test_awkward_text_reads_back_the_same(texts: list[str]) -> None:
    # XlsxWriter writes a text framed by <r>...</r> as raw rich-text XML (its own quirk, which
    # would break the file); ours escapes it. Such texts are left out of the comparison.
    texts = [t for t in texts if not (t.startswith("<r>") and t.endswith("</r>"))] or ["x"]
    kind = get_kind("contact")
    table = records(kind, len(texts))
    name = table.schema.get_field_index("name")
    table = table.set_column(name, "name", pa.array(texts, pa.string()))
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        _same("contact", [table], Path(d))


@settings(max_examples=500, deadline=None)
@given(AWKWARD)
def test_escapes_are_xlsxwriters(text: str) -> None:
    assert escape_control(text) == XMLwriter._escape_control_characters(text)
    escaped = escape_control(text)
    xml, preserve = escaped_text(pa.array([text], pa.string()))
    assert preserve.to_pylist() == [bool(_preserve_whitespace(escaped))]
    want = escaped.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert xml.to_pylist() == [want]


def test_preserve_sees_what_pythons_whitespace_is() -> None:
    for cp in range(0x3001):
        c = chr(cp)
        if re.fullmatch(r"[\x00-\x08\x0b-\x1f]", c):
            continue  # escaped to _xHHHH_ before the check
        got = escaped_text(pa.array([c + "a"], pa.string()))[1].to_pylist()[0]
        assert got == bool(_preserve_whitespace(c + "a")), hex(cp)
    assert _PRESERVE.startswith("^[")


def test_the_package_has_xlsxwriters_parts(tmp_path: Path) -> None:
    kind = get_kind("transaction")
    new = _write(TARGETS["xlsx"].factory, "transaction", [records(kind, 3)], tmp_path / "n")
    old = _write(xlsx_reference.XlsxTableWriter, "transaction", [records(kind, 3)], tmp_path / "o")
    with zipfile.ZipFile(new[0]) as a, zipfile.ZipFile(old[0]) as b:
        assert a.namelist() == b.namelist()
        assert {i.date_time for i in a.infolist()} == {(1980, 1, 31, 0, 0, 0)}
        for name in ("[Content_Types].xml", "_rels/.rels", "xl/_rels/workbook.xml.rels"):
            assert a.read(name) == b.read(name), name
        for name in ("docProps/app.xml", "docProps/core.xml", "xl/theme/theme1.xml"):
            assert a.read(name) == b.read(name), name
        assert a.read("xl/workbook.xml") == b.read("xl/workbook.xml")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.binary(max_size=300))
@example(b"", b"abc")
@example(b"abc", b"")
def test_crc32_combine_is_zlibs(a: bytes, b: bytes) -> None:
    assert crc32_combine(zlib.crc32(a), zlib.crc32(b), len(b)) == zlib.crc32(a + b)


def test_a_big_sheet_reads_back_whole(tmp_path: Path) -> None:
    """Many rows, deflated in the background block by block: the zip checks out."""
    kind = get_kind("journal")
    (path,) = _write(TARGETS["xlsx"].factory, "journal", [records(kind, 20_000)], tmp_path)
    _well_formed(path)
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    assert len(book.get_sheet_by_index(0).to_python()) == 20_001


def test_same_bytes_whatever_the_chunks(tmp_path: Path) -> None:
    kind = get_kind("bill")
    whole = records(kind, 40, currencies=["JPY", "GBP", "BHD"])
    parts = [whole.slice(i, 3) for i in range(0, 40, 3)]
    a = _write(TARGETS["xlsx"].factory, "bill", [whole], tmp_path / "a")
    b = _write(TARGETS["xlsx"].factory, "bill", parts, tmp_path / "b")
    assert a[0].read_bytes() == b[0].read_bytes()


def test_a_sheet_too_large_for_a_zip_without_zip64_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(xlsx_stream, "SHEET_XML_LIMIT", 5_000)
    kind = get_kind("transaction")
    ctx = WriteContext(
        tmp_path, kind, TARGETS["xlsx"].resolve_options({}), ["in.csv"], "xlsx", Rejects()
    )
    w = TARGETS["xlsx"].factory(ctx)
    with pytest.raises(OutputError) as e:
        w.write(records(kind, 100))
    w.abort()
    assert e.value.code == "output-too-large"
    assert "4 GB" in str(e.value) and "parquet" in (e.value.hint or "")
    assert list(tmp_path.iterdir()) == []  # nothing of the run is left


def test_dates_before_excel_and_long_amounts_stay_text(tmp_path: Path) -> None:
    kind = get_kind("transaction")
    table = records(kind, 7)
    (path,) = _same("transaction", [table], tmp_path)
    values = [r for r in openpyxl.load_workbook(path).active.values][1:]
    col = list(kind.field_names).index("date")
    assert "1899-12-31" in [r[col] for r in values]
    assert date(1900, 3, 1) in [r[col].date() for r in values if hasattr(r[col], "date")]


@pytest.mark.parametrize("when", ["rows", "zip"])
def test_a_full_disk_is_a_clear_error_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    def full(*args: Any) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    target = xlsx_zip.DeflatedStream if when == "rows" else xlsx_zip.ZipWriter
    monkeypatch.setattr(target, "_work" if when == "rows" else "add", full)
    kind = get_kind("transaction")
    ctx = WriteContext(
        tmp_path, kind, TARGETS["xlsx"].resolve_options({}), ["in.csv"], "xlsx", Rejects()
    )
    w = TARGETS["xlsx"].factory(ctx)
    with pytest.raises(OutputError) as e:
        for start in range(3):  # the failure shows at the next block or at the end
            w.write(records(kind, 5, start=start * 5))
        w.close()
    w.abort()
    assert e.value.code == "output-write-failed"
    assert "No space left" in str(e.value)
    assert list(tmp_path.iterdir()) == []
