"""The bad-input corpus: files that are empty, binary, damaged, hostile or enormous, each
generated here (never copied in) and run through ``csvbridge convert`` in a subprocess that
cannot take the machine down with it.

Every case must end in a clear refusal (exit 2, ``error [code]``) or a conversion with the bad
rows rejected (exit 0 or 1, the tie-out balanced) — never a traceback, an internal error
(exit 3), a signal, a hang or unbounded memory — and must leave nothing half-written (no
``*.partial`` file) in the output folder. A refusal leaves the output folder empty.

How a case is bounded: a fork server imports csvbridge once and forks one child per case
(saving the ~1 s import that would otherwise dominate). The child sets its own address-space
limit (``RLIMIT_AS``) first, as a ``preexec_fn`` would, then runs the CLI's ``main()`` with the
case's arguments, as the ``csvbridge`` command does. A bare run already maps ~1.45 GB of
address space (allocator arenas, Arrow's pool), so that hard cap is ``AS_LIMIT``; the budget
that matters is resident memory, ``RSS_BUDGET``, which the parent polls (killing the child
past it) and checks again from ``wait4``'s peak. Each case has a wall-clock timeout. Big
inputs (a 100 MB line, a 1 GiB zip bomb, 10,000 columns) are written streaming. Cases run
three at a time, the heavy ones one at a time.

Fuzzing: ``tests/fuzz_reader.py`` (reader, profiler, money and date parsers) runs here on its
seeds, on random bytes (hypothesis) and, when atheris is installed, for a short bounded pass.

A case csvbridge gets wrong is marked ``xfail(strict=True)`` with ``BUG:`` and what was
measured; when it is fixed the strict xfail fails, and the marker should go.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import random
import signal
import struct
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from .conftest import SIMPLE_MAPPING

MiB = 1 << 20
GiB = 1 << 30
AS_LIMIT = 3 * GiB  # hard cap on address space (a bare run maps ~1.45 GB)
RSS_BUDGET = 1 * GiB  # resident memory a case may use
STDERR_BUDGET = 1 * MiB  # an error message is for a person: bounded
WORKERS = 3
TIMEOUT = 45.0  # seconds, unless the case says otherwise


# -- the corpus ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """One bad input of a ``kind`` (empty, binary, xlsx, ...). ``make`` writes it into a
    folder and returns its path.

    ``expect``: ``refuse`` (exit 2 with ``code`` if given), ``convert`` (exit 0 or 1) or
    ``either``. ``check`` adds assertions on the outcome. ``bug`` marks it xfail(strict).
    """

    name: str
    kind: str
    make: Callable[[Path], Path]
    expect: str = "either"
    code: str | None = None
    mapping: str = SIMPLE_MAPPING
    targets: str = "csv,qbo-bank"
    timeout: float = TIMEOUT
    heavy: bool = False
    check: Callable[[Outcome], None] | None = None
    bug: str | None = None


@dataclass
class Outcome:
    """How a case ended."""

    case: Case
    exit: int | None  # None: killed by us (timeout or memory)
    signal: int | None
    stdout: str
    stderr: str
    seconds: float
    peak_rss: int  # bytes
    outdir: Path
    killed_for: str = ""  # "timeout" or "memory"
    error: BaseException | None = None  # the generator itself failed

    @property
    def report(self) -> dict[str, Any]:
        return json.loads((self.outdir / "report.json").read_text("utf-8"))

    def text(self, name: str) -> str:
        return (self.outdir / name).read_text("utf-8")

    def summary(self) -> str:
        how = (
            f"killed ({self.killed_for})"
            if self.killed_for
            else f"signal {self.signal}"
            if self.signal
            else f"exit {self.exit}"
        )
        first = next((ln for ln in self.stderr.splitlines() if ln.strip()), "")[:160]
        return (
            f"{self.case.kind}/{self.case.name}: {how} in {self.seconds:.1f}s, peak RSS "
            f"{self.peak_rss / MiB:.0f} MB; {first}"
        )


HEADER = "Date,Description,Amount\r\n"
GOOD_ROWS = "01/02/2025,Tea,-1.00\r\n02/02/2025,Cake,-2.50\r\n"


def _file(name: str, data: bytes | str | Callable[[], bytes]) -> Callable[[Path], Path]:
    def make(d: Path) -> Path:
        p = d / name
        raw = data() if callable(data) else data
        p.write_bytes(raw.encode("utf-8") if isinstance(raw, str) else raw)
        return p

    return make


def _stream(name: str, parts: Callable[[], Iterable[bytes]]) -> Callable[[Path], Path]:
    def make(d: Path) -> Path:
        p = d / name
        with p.open("wb") as f:
            for part in parts():
                f.write(part)
        return p

    return make


def _seeded(n: int, seed: int, lo: int = 0, hi: int = 255) -> bytes:
    r = random.Random(seed)
    return bytes(r.randint(lo, hi) for _ in range(n))


# .. spreadsheets, built from their parts so that each can be damaged on purpose ..............
_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_XLSX_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f"<workbook {_NS} "
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
    ),
}
_EMPTY_SST = f'<?xml version="1.0" encoding="UTF-8"?><sst {_NS} count="0" uniqueCount="0"></sst>'
GOOD_CELLS = [["Date", "Description", "Amount"], ["01/02/2025", "Tea", "-1.00"]]
GOOD_CELLS += [["02/02/2025", "Cake", "-2.50"]]


def _col(j: int) -> str:
    name = ""
    j += 1
    while j:
        j, rem = divmod(j - 1, 26)
        name = chr(65 + rem) + name
    return name


def _rows_xml(rows: list[list[str]]) -> str:
    return "".join(
        f'<row r="{i}">'
        + "".join(
            f'<c r="{_col(j)}{i}" t="inlineStr"><is><t>{v}</t></is></c>' for j, v in enumerate(r)
        )
        + "</row>"
        for i, r in enumerate(rows, start=1)
    )


def _sheet(rows: list[list[str]], *, doctype: str = "", before: str = "", after: str = "") -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>{doctype}<worksheet {_NS}>{before}'
        f"<sheetData>{_rows_xml(rows)}{after}</sheetData></worksheet>"
    )


def _xlsx(
    name: str,
    sheet: str | Callable[[], Iterator[bytes]],
    shared: str = _EMPTY_SST,
    damage: Callable[[bytes], bytes] | None = None,
) -> Callable[[Path], Path]:
    """An xlsx from its parts; a callable ``sheet`` is streamed into the zip (a bomb)."""

    def make(d: Path) -> Path:
        p = d / name
        with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
            for part, text in _XLSX_PARTS.items():
                z.writestr(part, text)
            if isinstance(sheet, str):
                z.writestr("xl/worksheets/sheet1.xml", sheet)
            else:
                with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
                    for block in sheet():
                        f.write(block)
            z.writestr("xl/sharedStrings.xml", shared)
        if damage is not None:
            p.write_bytes(damage(p.read_bytes()))
        return p

    return make


def _bomb(filler: bytes, inside_cell: bool, size: int = GiB) -> Callable[[], Iterator[bytes]]:
    """A sheet that deflates ~1000:1: ``size`` bytes of ``filler`` between the good rows and
    the end, either as whitespace between elements or as the text of one cell."""

    def parts() -> Iterator[bytes]:
        head = f'<?xml version="1.0" encoding="UTF-8"?><worksheet {_NS}><sheetData>'
        head += _rows_xml(GOOD_CELLS)
        if inside_cell:
            head += '<row r="4"><c r="A4" t="inlineStr"><is><t>'
        yield head.encode()
        block = filler * (MiB // len(filler))
        for _ in range(size // len(block)):
            yield block
        yield (b"</t></is></c></row>" if inside_cell else b"") + b"</sheetData></worksheet>"

    return parts


def _flip_deflate(data: bytes) -> bytes:
    """Corrupt the compressed bytes of the sheet (the zip directory stays valid)."""
    z = zipfile.ZipFile(io.BytesIO(data))
    info = z.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    out = bytearray(data)
    for k in range(start + 20, min(start + 60, start + info.compress_size)):
        out[k] ^= 0x5A
    return bytes(out)


_LOL = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "' + (f"&lol{i - 1};" if i > 1 else "&lol;") * 10 + '">'
        for i in range(1, 10)
    )
    + "]>"
)
SECRET = "csvbridge-xxe-marker-7f3a91"


def _xxe(d: Path) -> Path:
    secret = d / "secret.txt"
    secret.write_text(SECRET, encoding="utf-8")
    doctype = f'<!DOCTYPE x [<!ENTITY xxe SYSTEM "{secret.resolve().as_uri()}">]>'
    rows = [*GOOD_CELLS, ["03/02/2025", "&xxe;", "-3.00"]]
    return _xlsx("xxe.xlsx", _sheet(rows, doctype=doctype))(d)


# .. OpenDocument: content.xml, whose rows and cells repeat by count ...........................
_ODS_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
)


_ODS_MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
    'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
    '<manifest:file-entry manifest:full-path="/" '
    'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
    "</manifest:manifest>"
)


def _ods_row(values: list[str]) -> str:
    cells = "".join(
        f'<table:table-cell office:value-type="string"><text:p>{v}</text:p></table:table-cell>'
        for v in values
    )
    return f"<table:table-row>{cells}</table:table-row>"


def _ods(name: str, rows: list[list[str]], after: str = "") -> Callable[[Path], Path]:
    """An .ods of ``rows`` (text cells), then ``after`` (raw rows) in its one table."""

    def make(d: Path) -> Path:
        body = "".join(_ods_row(r) for r in rows) + after
        content = (
            f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_ODS_NS} '
            'office:version="1.2"><office:body><office:spreadsheet>'
            f'<table:table table:name="Sheet1">{body}</table:table>'
            "</office:spreadsheet></office:body></office:document-content>"
        )
        p = d / name
        with zipfile.ZipFile(p, "w") as z:
            mime = "application/vnd.oasis.opendocument.spreadsheet"
            z.writestr(zipfile.ZipInfo("mimetype"), mime)
            z.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
            z.writestr("META-INF/manifest.xml", _ODS_MANIFEST, zipfile.ZIP_DEFLATED)
        return p

    return make


_ODS_REPEAT = (
    '<table:table-row table:number-rows-repeated="5000"><table:table-cell '
    'table:number-columns-repeated="10000" office:value-type="string"><text:p>x</text:p>'
    "</table:table-cell></table:table-row>"
)
_ODS_TRAILING = (
    '<table:table-row table:number-rows-repeated="1048573"><table:table-cell '
    'table:number-columns-repeated="1024"/></table:table-row>'
)


# .. legacy xls: a minimal OLE2 compound file around a BIFF8 stream .............................
_FREE, _END, _FATSECT = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD


def _dirent(name: str, kind: int, start: int, size: int, child: int = _FREE) -> bytes:
    n = (name + "\0").encode("utf-16-le")
    return (
        n.ljust(64, b"\0")
        + struct.pack("<HBBIII", len(n), kind, 1, _FREE, _FREE, child)
        + b"\0" * 36
        + struct.pack("<IQ", start, size)
    )


def _ole2(stream: bytes) -> bytes:
    """A version-3 compound file: FAT in sector 0, directory in 1, the Workbook stream after."""
    stream = stream.ljust(4096, b"\0")  # at the mini-stream cutoff: regular sectors
    n = -(-len(stream) // 512)
    fat = [_FATSECT, _END] + [3 + i if i < n - 1 else _END for i in range(n)]
    fat += [_FREE] * (128 - len(fat))
    header = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\0" * 16
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + b"\0" * 6
        + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, _END, 0, _END, 0)
        + struct.pack("<109I", 0, *([_FREE] * 108))
    )
    directory = _dirent("Root Entry", 5, _END, 0, child=1) + _dirent("Workbook", 2, 2, len(stream))
    return header + struct.pack("<128I", *fat) + directory.ljust(512, b"\0") + stream.ljust(n * 512)


def _biff(rtype: int, data: bytes = b"") -> bytes:
    return struct.pack("<HH", rtype, len(data)) + data


_LAST_CELL = '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
_BOF = _biff(0x0809, struct.pack("<HHHHII", 0x0600, 0x0005, 0x1234, 1997, 0, 6))
_EOF = _biff(0x000A)


# .. values and structure ........................................................................
def _hundred_mb_line(one_field: bool) -> Callable[[], Iterator[bytes]]:
    def parts() -> Iterator[bytes]:
        yield HEADER.encode()
        block = b"x" * MiB if one_field else b"abc," * (MiB // 4)
        yield b"01/02/2025,"
        for _ in range(100):
            yield block
        yield b",-1.00\r\n" + GOOD_ROWS.encode()

    return parts


def _wide(columns: int, rows: int) -> Callable[[], Iterator[bytes]]:
    def parts() -> Iterator[bytes]:
        names = ",".join(f"c{i}" for i in range(columns - 3))
        yield f"Date,Description,Amount,{names}\r\n".encode()
        filler = ("," + ",".join("x" for _ in range(columns - 3)) + "\r\n").encode()
        for r in range(rows):
            yield f"01/02/2025,Tea {r},-1.00".encode() + filler

    return parts


BAD_DATES = [
    "30/02/2025",
    "29/02/2023",
    "00/01/2025",
    "32/01/2025",
    "31/04/2025",
    "01/13/2025",
    "01/01/0000",
    "01/01/99999",
    "2025-01-01",
    "٠١/٠١/٢٠٢٥",  # Arabic-Indic digits
    "",
]
BAD_AMOUNTS = [
    "1e400",
    "1e5",
    "NaN",
    "nan",
    "∞",
    "-∞",
    "inf",
    "-Infinity",
    "--5",
    "1.2.3",
    "1,2,3",
    "0x10",
    "1_000",
    "١٢٣",
    "５",
    "99999999999999999999999",
    "92233720368547758.08",
    "1.005",  # more decimals than GBP has: rejected, never rounded
    "",
]


def _values_file(values: list[str], column: str) -> str:
    rows = [HEADER.rstrip()]
    for i, v in enumerate(values):
        cells = {"Date": "03/03/2025", "Description": f"bad {i}", "Amount": "-1.00"}
        cells[column] = v
        rows.append(",".join(cells[c] for c in ("Date", "Description", "Amount")))
    rows += GOOD_ROWS.splitlines()
    return "\r\n".join(rows) + "\r\n"


# .. checks ......................................................................................
def _rows(n_written: int, n_rejected: int) -> Callable[[Outcome], None]:
    def check(o: Outcome) -> None:
        t = o.report["tie_out"][0]
        assert t["outcomes"]["written"]["rows"] == n_written, t["equation"]
        assert t["outcomes"]["rejected"]["rows"] == n_rejected, t["equation"]

    return check


def _both(*checks: Callable[[Outcome], None]) -> Callable[[Outcome], None]:
    def check(o: Outcome) -> None:
        for c in checks:
            c(o)

    return check


def _no_nul_in_outputs(o: Outcome) -> None:
    for p in o.outdir.iterdir():
        if p.suffix != ".xlsx":  # a zip: NUL bytes are its structure
            assert b"\x00" not in p.read_bytes(), f"a NUL byte was written into {p.name}"


def _no_mojibake(o: Outcome) -> None:
    if o.exit == 2:
        return
    text = o.text("transaction.csv")
    warned = any("encod" in w for i in o.report["inputs"] for w in i["warnings"])
    assert warned or "CafÃ©" not in text, "UTF-8 text silently read as cp1252: " + text


def _all_rows_accounted(n: int) -> Callable[[Outcome], None]:
    def check(o: Outcome) -> None:
        if o.exit == 2:
            return
        t = o.report["tie_out"][0]
        assert t["read"]["rows"] == n, (
            f"{n} data lines, {t['read']['rows']} read; footer: {o.report['inputs'][0]['footer']}"
        )

    return check


def _dup_column_stated(o: Outcome) -> None:
    if o.exit == 2:
        return
    warnings = [w for i in o.report["inputs"] for w in i["warnings"]]
    assert any("Amount" in w for w in warnings), (
        "the mapped column 'Amount' is in the header twice; the first was used silently"
    )


def _exact_total(expected: Decimal) -> Callable[[Outcome], None]:
    def check(o: Outcome) -> None:
        if o.exit == 2:
            return
        got = Decimal(o.report["tie_out"][0]["read"]["amounts"]["GBP"])
        assert got == expected, f"read total {got}, the rows add up to {expected}"

    return check


def _secret_never_read(o: Outcome) -> None:
    everything = o.stdout + o.stderr
    for p in o.outdir.iterdir():
        everything += p.read_bytes().decode("utf-8", "replace")
    assert SECRET not in everything


DECLARED_UTF8 = SIMPLE_MAPPING + "read:\n  encoding: utf-8\n"

CASES: list[Case] = [
    # -- empty and nearly empty ----------------------------------------------------------------
    Case("empty_file", "empty", _file("in.csv", b""), "refuse", "empty-file"),
    Case("header_only", "empty", _file("in.csv", HEADER), "convert", check=_rows(0, 0)),
    Case("header_only_no_eol", "empty", _file("in.csv", HEADER.rstrip()), "convert"),
    Case("bom_only", "empty", _file("in.csv", b"\xef\xbb\xbf"), "refuse", "no-rows"),
    Case("blank_lines_only", "empty", _file("in.csv", "\r\n \r\n\t\r\n"), "refuse", "no-rows"),
    Case("delimiters_only", "empty", _file("in.csv", ",,,\r\n,,,\r\n"), "refuse", "no-rows"),
    # -- binary files named .csv ---------------------------------------------------------------
    Case("random_bytes", "binary", _file("in.csv", lambda: _seeded(20_000, 1)), "refuse"),
    Case(
        "gzip_named_csv",
        "binary",
        _file("in.csv", lambda: gzip.compress((HEADER + GOOD_ROWS).encode() * 50, mtime=0)),
        "refuse",
        "binary-file",
    ),
    Case(
        "png_named_csv",
        "binary",
        _file("in.csv", lambda: b"\x89PNG\r\n\x1a\n" + _seeded(3000, 2)),
        "refuse",
        "binary-file",
    ),
    Case(
        "pdf_named_csv",
        "binary",
        _file("in.csv", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"),
        "refuse",
        "binary-file",
    ),
    Case(
        "elf_named_csv",
        "binary",
        _file("in.csv", lambda: b"\x7fELF\x02\x01\x01" + b"\0" * 9 + _seeded(4000, 3)),
        "refuse",
        "binary-file",
    ),
    Case(
        "zip_named_csv",
        "binary",
        _file("in.csv", lambda: _zip_of({"a.txt": "hello"})),
        "refuse",
        "workbook-unreadable",
    ),
    Case("high_bytes_only", "binary", _file("in.csv", lambda: _seeded(20_000, 4, 0x80)), "refuse"),
    Case(
        "xlsx_named_csv",
        "binary",
        lambda d: _xlsx("in.xlsx", _sheet(GOOD_CELLS))(d).rename(d / "in.csv"),
        "convert",
        check=_rows(2, 0),
    ),
    # -- xlsx ----------------------------------------------------------------------------------
    Case(
        "xlsx_control", "xlsx", _xlsx("in.xlsx", _sheet(GOOD_CELLS)), "convert", check=_rows(2, 0)
    ),
    Case(
        "xlsx_truncated",
        "xlsx",
        _xlsx("in.xlsx", _sheet(GOOD_CELLS), damage=lambda b: b[: len(b) // 2]),
        "refuse",
        "workbook-unreadable",
    ),
    Case(
        "xlsx_corrupt_deflate",
        "xlsx",
        _xlsx("in.xlsx", _sheet(GOOD_CELLS * 100), damage=_flip_deflate),
        "refuse",
        "workbook-unreadable",
    ),
    Case(
        "xlsx_sheet_not_xml",
        "xlsx",
        _xlsx("in.xlsx", "hello world"),
        "refuse",
        "workbook-unreadable",
    ),
    Case(
        "xlsx_sheet_cut_short",
        "xlsx",
        _xlsx("in.xlsx", _sheet(GOOD_CELLS)[:-60]),
        "refuse",
        "workbook-unreadable",
    ),
    Case(
        "xlsx_shared_string_out_of_range",
        "xlsx",
        _xlsx(
            "in.xlsx",
            _sheet(GOOD_CELLS, after='<row r="4"><c r="A4" t="s"><v>999</v></c></row>'),
        ),
        "refuse",
        "workbook-unreadable",
    ),
    Case(
        "xlsx_bad_cell_reference",
        "xlsx",
        _xlsx(
            "in.xlsx",
            _sheet(
                GOOD_CELLS, after='<row r="4"><c r="A0" t="inlineStr"><is><t>x</t></is></c></row>'
            ),
        ),
        "refuse",
        "workbook-unreadable",
    ),
    Case(
        "xlsx_bad_boolean",
        "xlsx",
        _xlsx("in.xlsx", _sheet(GOOD_CELLS, after='<row r="4"><c r="A4" t="b"><v>7</v></c></row>')),
        "refuse",
        "workbook-unreadable",
    ),
    Case(
        "xlsx_billion_laughs",
        "xlsx",
        _xlsx("in.xlsx", _sheet([*GOOD_CELLS, ["03/02/2025", "&lol9;", "-3.00"]], doctype=_LOL)),
        "refuse",
        "workbook-unreadable",
    ),
    Case(
        "xlsx_billion_laughs_shared_strings",
        "xlsx",
        _xlsx(
            "in.xlsx",
            _sheet(GOOD_CELLS, after='<row r="4"><c r="A4" t="s"><v>0</v></c></row>'),
            shared=f'<?xml version="1.0"?>{_LOL}<sst {_NS} count="1" uniqueCount="1">'
            "<si><t>&lol9;</t></si></sst>",
        ),
        "either",
    ),
    Case(
        "xlsx_xxe",
        "xlsx",
        _xxe,
        "either",
        check=_secret_never_read,
    ),
    Case(
        "xlsx_zip_bomb_whitespace",
        "xlsx",
        _xlsx("in.xlsx", _bomb(b" ", inside_cell=False)),
        "refuse",
        "limit-exceeded",
        heavy=True,
        timeout=60,
    ),
    Case(
        "xlsx_zip_bomb_one_cell",
        "xlsx",
        _xlsx("in.xlsx", _bomb(b"A", inside_cell=True)),
        "refuse",
        "limit-exceeded",
        heavy=True,
        timeout=60,
    ),
    Case(
        "xlsx_sparse_last_cell",
        "xlsx",
        _xlsx("in.xlsx", _sheet(GOOD_CELLS, after=_LAST_CELL)),
        "refuse",
        "limit-exceeded",
    ),
    Case(
        "xlsx_merge_whole_sheet",
        "xlsx",
        _xlsx(
            "in.xlsx",
            _sheet(GOOD_CELLS).replace(
                "</sheetData>",
                '</sheetData><mergeCells count="1"><mergeCell ref="A1:XFD1048576"/></mergeCells>',
            ),
        ),
        "refuse",
        "limit-exceeded",
    ),
    # -- xls -----------------------------------------------------------------------------------
    Case(
        "xls_magic_then_garbage",
        "xls",
        _file("in.xls", lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + _seeded(5000, 5)),
        "refuse",
        "workbook-unreadable",
    ),
    Case(
        "xls_container_truncated",
        "xls",
        _file("in.xls", lambda: _ole2(_BOF + _EOF)[:700]),
        "refuse",
        "workbook-unreadable",
    ),
    Case("xls_no_sheets", "xls", _file("in.xls", lambda: _ole2(_BOF + _EOF)), "refuse"),
    Case(
        "xls_short_boundsheet_record",
        "xls",
        _file("in.xls", lambda: _ole2(_BOF + _biff(0x0085, b"\x00") + _EOF)),
        "refuse",
        "workbook-unreadable",
    ),
    Case(
        "ods_damaged",
        "xls",
        _file(
            "in.ods",
            b"PK\x03\x04"
            + b"\0" * 26
            + b"mimetypeapplication/vnd.oasis.opendocument.spreadsheet"
            + b"garbage" * 100,
        ),
        "refuse",
        "workbook-unreadable",
    ),
    Case(
        "ods_repeated_cells_50m",
        "ods",
        _ods("in.ods", GOOD_CELLS, after=_ODS_REPEAT),
        "refuse",
        "limit-exceeded",
    ),
    Case(
        "ods_trailing_empty_repeats_control",
        "ods",
        _ods("in.ods", GOOD_CELLS, after=_ODS_TRAILING),
        "convert",
        check=_rows(2, 0),
    ),
    # -- size ----------------------------------------------------------------------------------
    Case(
        "line_100mb_one_field",
        "size",
        _stream("in.csv", _hundred_mb_line(one_field=True)),
        "refuse",
        "limit-exceeded",
        heavy=True,
        timeout=90,
    ),
    Case(
        "line_100mb_many_fields",
        "size",
        _stream("in.csv", _hundred_mb_line(one_field=False)),
        "refuse",
        "limit-exceeded",
        heavy=True,
        timeout=20,
    ),
    Case(
        "field_one_million_chars",
        "size",
        _file("in.csv", HEADER + "01/02/2025," + "x" * 1_000_000 + ",-1.00\r\n" + GOOD_ROWS),
        "convert",
        targets="csv",
        check=_rows(3, 0),
    ),
    Case(
        "field_one_million_chars_qbo",
        "size",
        _file("in.csv", HEADER + "01/02/2025," + "x" * 1_000_000 + ",-1.00\r\n" + GOOD_ROWS),
        "refuse",
        "record-too-large",
        targets="qbo-bank",
    ),
    Case(
        "field_over_size_limit",
        "size",
        _stream(
            "in.csv",
            lambda: iter([HEADER.encode(), b'01/02/2025,"', b"y" * (10 * MiB + 1), b'",-1.00\r\n']),
        ),
        "refuse",
        "csv-malformed",
    ),
    Case(
        "columns_10000",
        "size",
        _stream("in.csv", _wide(10_000, 300)),
        "convert",
        targets="csv",
        heavy=True,
        check=_rows(300, 0),
    ),
    Case(
        "columns_100000",
        "size",
        _stream("in.csv", _wide(100_000, 5)),
        "refuse",
        "limit-exceeded",
        targets="csv",
        heavy=True,
    ),
    # -- encodings -----------------------------------------------------------------------------
    Case(
        "nul_in_a_cell",
        "encoding",
        _file("in.csv", HEADER + "01/02/2025,Te\x00a,-1.00\r\n" + GOOD_ROWS),
        "convert",
        check=_both(_no_nul_in_outputs, _rows(2, 1)),
    ),
    Case(
        "utf16_without_bom",
        "encoding",
        _file("in.csv", (HEADER + GOOD_ROWS).encode("utf-16-le")),
        "convert",
        check=_rows(2, 0),
    ),
    Case(
        "utf16_cut_mid_character",
        "encoding",
        _file("in.csv", (HEADER + GOOD_ROWS).encode("utf-16")[:-1]),
        "either",
    ),
    Case(
        "mixed_utf8_cp1252_shift_jis",
        "encoding",
        _file(
            "in.csv",
            HEADER.encode()
            + "01/02/2025,Café,-1.00\r\n".encode()
            + "02/02/2025,Crème,-2.00\r\n".encode("cp1252")
            + "03/02/2025,日本,-3.00\r\n".encode("shift_jis"),
        ),
        "either",
        check=_no_mojibake,
    ),
    Case(
        "mostly_utf8_one_cp1252_line",
        "encoding",
        _file(
            "in.csv",
            HEADER.encode()
            + "01/02/2025,Café,-1.00\r\n02/02/2025,Crêpe,-1.00\r\n".encode()
            + "03/02/2025,Crème,-2.00\r\n".encode("cp1252")
            + GOOD_ROWS.encode(),
        ),
        "convert",
        check=_both(_no_mojibake, _rows(4, 1)),
    ),
    Case(
        "undecodable_in_declared_utf8",
        "encoding",
        _file("in.csv", HEADER.encode() + b"01/02/2025,Cr\xe8me,-1.00\r\n" + GOOD_ROWS.encode()),
        "convert",
        mapping=DECLARED_UTF8,
        check=_rows(2, 1),
    ),
    # -- structure -----------------------------------------------------------------------------
    Case(
        "unbalanced_quote_mid_file",
        "structure",
        _file("in.csv", HEADER + '01/02/2025,"Tea,-1.00\r\n' + GOOD_ROWS * 3),
        "convert",
        check=_both(_all_rows_accounted(7), _rows(6, 1)),
    ),
    Case(
        "unbalanced_quote_last_line",
        "structure",
        _file("in.csv", HEADER + GOOD_ROWS + '03/02/2025,"Cake,-2.00'),
        "convert",
        check=_both(_all_rows_accounted(3), _rows(2, 1)),
    ),
    Case(
        "quote_closed_200_lines_later",
        "structure",
        _file(
            "in.csv",
            HEADER + '01/02/2025,"Tea,-1.00\r\n' + GOOD_ROWS * 100 + '03/02/2025,Cake",-2.00\r\n',
        ),
        "convert",
        check=_both(_all_rows_accounted(202), _rows(201, 1)),
    ),
    Case(
        "unclosed_quote_every_line",
        "structure",
        _file("in.csv", HEADER + '01/02/2025,"Tea,-1.00\r\n' * 20_000),
        "refuse",
        "csv-malformed",
    ),
    Case(
        "quoted_line_breaks_control",
        "structure",
        _file("in.csv", HEADER + '01/02/2025,"Tea\r\nwith\r\nmilk",-1.00\r\n' + GOOD_ROWS),
        "convert",
        check=_rows(3, 0),
    ),
    Case(
        "stray_quotes_in_unquoted_fields",
        "structure",
        _file("in.csv", HEADER + '01/02/2025,Tea "large" cup,-1.00\r\n' + GOOD_ROWS),
        "convert",
    ),
    Case(
        "ragged_rows",
        "structure",
        _file("in.csv", HEADER + "01/02/2025,Tea,-1.00,extra\r\n" + GOOD_ROWS + GOOD_ROWS),
        "convert",
        check=_rows(4, 1),
    ),
    Case(
        "duplicate_headers_not_mapped",
        "structure",
        _file("in.csv", "Date,Description,Amount,X,X,X\r\n01/02/2025,Tea,-1.00,1,2,3\r\n"),
        "convert",
        check=_rows(1, 0),
    ),
    Case(
        "duplicate_mapped_header",
        "structure",
        _file("in.csv", "Date,Description,Amount,Amount\r\n01/02/2025,Tea,-1.00,-9.00\r\n"),
        "refuse",
        "column-ambiguous",
        check=_dup_column_stated,
    ),
    Case("blank_headers", "structure", _file("in.csv", ",,\r\n" + GOOD_ROWS), "refuse"),
    Case(
        "cr_only_line_ends",
        "structure",
        _file("in.csv", (HEADER + GOOD_ROWS).replace("\r\n", "\r")),
        "convert",
        check=_rows(2, 0),
    ),
    Case(
        "mixed_line_ends",
        "structure",
        _file("in.csv", "Date,Description,Amount\n01/02/2025,Tea,-1.00\r02/02/2025,X,1\r\n"),
        "convert",
        check=_rows(2, 0),
    ),
    # -- values --------------------------------------------------------------------------------
    Case(
        "impossible_dates",
        "values",
        _file("in.csv", _values_file(BAD_DATES, "Date")),
        "convert",
        check=_rows(2, len(BAD_DATES)),
    ),
    Case(
        "impossible_amounts",
        "values",
        _file("in.csv", _values_file(BAD_AMOUNTS, "Amount")),
        "convert",
        check=_rows(2, len(BAD_AMOUNTS)),
    ),
    Case(
        "amount_total_past_int64",
        "values",
        _file(
            "in.csv",
            HEADER + "".join(f"01/02/2025,r{i},999999999999999.99\r\n" for i in range(100)),
        ),
        "convert",
        targets="csv",
        check=_exact_total(Decimal("999999999999999.99") * 100),
    ),
]


def _zip_of(members: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for k, v in members.items():
            z.writestr(k, v)
    return buf.getvalue()


# -- running a case -----------------------------------------------------------------------------
# A fork server: one process imports csvbridge once (single-threaded: OpenBLAS is told to
# start no threads), then forks a child per case. Each child sets its address-space limit,
# sends its output to files and runs the CLI's ``main()`` exactly as the ``csvbridge``
# command does; an uncaught exception prints a traceback and exits 1, as Python would. This
# saves the ~1 s import per case that would otherwise dominate the corpus's runtime.
ZYGOTE = r"""
import json, os, resource, select, sys, threading, traceback
from csvbridge.cli import main
# Forking is safe with no other thread but jemalloc's (Arrow's allocator, fork-aware).
others = [t for t in os.listdir("/proc/self/task") if int(t) != os.getpid()]
names = {open(f"/proc/self/task/{t}/comm").read().strip() for t in others}
assert threading.active_count() == 1 and names <= {"jemalloc_bg_thd"}, names
children, pending = {}, b""

def say(msg):
    os.write(1, (json.dumps(msg) + "\n").encode())

def child(req):
    resource.setrlimit(resource.RLIMIT_AS, (req["as"], req["as"]))
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    for fd, name in ((1, "stdout"), (2, "stderr")):
        os.dup2(os.open(req[name], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), fd)
    sys.argv = ["csvbridge", *req["args"]]
    code = 1
    try:
        main()
        code = 0
    except SystemExit as e:
        if e.code is None or isinstance(e.code, int):
            code = e.code or 0
        else:
            print(e.code, file=sys.stderr)
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)

while True:
    while children:
        pid, status, usage = os.wait4(-1, os.WNOHANG)
        if not pid:
            break
        code = os.waitstatus_to_exitcode(status)
        say({"id": children.pop(pid), "status": code, "maxrss": usage.ru_maxrss * 1024})
    ready, _, _ = select.select([0], [], [], 0.01)
    if not ready:
        continue
    data = os.read(0, 65536)
    if not data:
        break
    pending += data
    while b"\n" in pending:
        line, pending = pending.split(b"\n", 1)
        req = json.loads(line)
        pid = os.fork()
        if pid == 0:
            child(req)
        children[pid] = req["id"]
        say({"id": req["id"], "pid": pid})
"""


class ForkServer:
    """Runs csvbridge commands in forked children of one pre-imported process."""

    def __init__(self) -> None:
        import subprocess

        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - its errors, if it dies; closed by close()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", ZYGOTE],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            env=env,
        )
        self.lock = threading.Lock()
        self.next_id = 0
        self.events: dict[int, tuple[threading.Event, threading.Event, dict[str, Any]]] = {}
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            msg = json.loads(line)
            started, done, state = self.events[msg["id"]]
            state.update(msg)
            (done if "status" in msg else started).set()
        for started, done, _ in self.events.values():  # the server died: wake everyone
            started.set()
            done.set()

    def start(self, args: list[str], stdout: Path, stderr: Path) -> tuple[Any, ...]:
        with self.lock:
            self.next_id += 1
            rid = self.next_id
            started, done, state = threading.Event(), threading.Event(), {}
            self.events[rid] = (started, done, state)
            req = {"id": rid, "args": args, "as": AS_LIMIT}
            req |= {"stdout": str(stdout), "stderr": str(stderr)}
            assert self.proc.stdin is not None
            try:
                self.proc.stdin.write((json.dumps(req) + "\n").encode())
                self.proc.stdin.flush()
            except BrokenPipeError:
                raise RuntimeError("the fork server died:\n" + self.errors()) from None
        started.wait(60)
        if "pid" not in state:
            raise RuntimeError("the fork server did not start the case:\n" + self.errors())
        return state["pid"], done, state

    def errors(self) -> str:
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")[-3000:]

    def close(self) -> None:
        assert self.proc.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            self.proc.stdin.close()
        self.proc.wait(30)
        self.log.close()


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def run_case(case: Case, folder: Path, server: ForkServer) -> Outcome:
    """Generate the case's input in ``folder`` and convert it in a bounded child process."""
    folder.mkdir(parents=True, exist_ok=True)
    outdir = folder / "out"
    try:
        src = case.make(folder)
    except BaseException as e:  # reported by the test, not here
        return Outcome(case, None, None, "", "", 0.0, 0, outdir, error=e)
    mapping = folder / "m.yaml"
    mapping.write_text(case.mapping, encoding="utf-8")
    args = ["convert", str(src), "-m", str(mapping), "--to", case.targets, "-o", str(outdir)]
    args += ["--history", str(folder / "h.sqlite")]
    start = time.monotonic()
    pid, done, state = server.start(args, folder / "stdout", folder / "stderr")
    killed_for = ""
    peak = 0
    while not done.wait(0.02):
        peak = max(peak, _rss(pid))
        if peak > RSS_BUDGET:
            killed_for = "memory"
        elif time.monotonic() - start > case.timeout:
            killed_for = "timeout"
        if killed_for:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            done.wait(60)
            break
    seconds = time.monotonic() - start
    code = state.get("status", -signal.SIGKILL)
    peak = max(peak, state.get("maxrss", 0))
    if src.stat().st_size > 5 * MiB:
        src.unlink()  # keep the disk free while the other cases run
    return Outcome(
        case=case,
        exit=None if killed_for else (code if code >= 0 else None),
        signal=-code if code < 0 and not killed_for else None,
        stdout=(folder / "stdout").read_bytes().decode("utf-8", "replace"),
        stderr=(folder / "stderr").read_bytes().decode("utf-8", "replace"),
        seconds=seconds,
        peak_rss=peak,
        outdir=outdir,
        killed_for=killed_for,
    )


def _param(case: Case) -> Any:
    marks = [pytest.mark.xfail(strict=True, reason=case.bug)] if case.bug else []
    return pytest.param(case, id=case.name, marks=marks)


@pytest.fixture(scope="module")
def outcomes(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Outcome]:
    """Run every selected case once, in parallel (heavy cases one at a time)."""
    if not Path("/proc/self/status").exists():
        pytest.skip("needs /proc to watch a child's memory")
    selected = [
        item.callspec.params["case"]
        for item in request.session.items
        if getattr(item, "module", None) is sys.modules[__name__]
        and hasattr(item, "callspec")
        and "case" in item.callspec.params
    ]
    root = tmp_path_factory.mktemp("bad")
    heavy = threading.Semaphore(1)
    server = ForkServer()

    def one(case: Case) -> Outcome:
        if case.heavy:
            with heavy:
                return run_case(case, root / case.name, server)
        return run_case(case, root / case.name, server)

    # heavy cases first, so that they overlap the many small ones
    order = sorted(selected, key=lambda c: not c.heavy)
    try:
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            done = dict(zip([c.name for c in order], pool.map(one, order), strict=True))
    finally:
        server.close()
    (root / "summary.txt").write_text(
        "\n".join(o.summary() for o in done.values()) + "\n", encoding="utf-8"
    )
    return done


def assert_sound(o: Outcome) -> None:
    """What every case must satisfy, whatever the input."""
    case = o.case
    if o.error is not None:
        raise o.error
    assert not o.killed_for, f"{o.summary()}: over the {o.killed_for} budget"
    assert o.signal is None, f"{o.summary()}\n{o.stderr[-2000:]}"
    assert o.peak_rss <= RSS_BUDGET, o.summary()
    assert "Traceback" not in o.stderr + o.stdout, o.stderr[-3000:]
    assert o.exit in (0, 1, 2), f"{o.summary()}\n{o.stderr[-2000:]}"
    assert len(o.stderr) <= STDERR_BUDGET, f"{len(o.stderr)} characters of error message"
    leftovers = [p.name for p in o.outdir.glob("*")] if o.outdir.exists() else []
    assert not [n for n in leftovers if n.endswith(".partial")], leftovers
    if o.exit == 2:
        assert "error [" in o.stderr, o.stderr[-2000:]
        if case.code:
            assert f"error [{case.code}]" in o.stderr, o.stderr[-2000:]
        assert leftovers == [], f"a refused run left files behind: {leftovers}"
        assert case.expect in ("refuse", "either"), f"refused: {o.stderr[-1000:]}"
    else:
        assert case.expect in ("convert", "either"), f"converted: {o.stdout[-1000:]}"
        report = o.report
        assert report["tie_out"] and all(t["balanced"] for t in report["tie_out"]), report[
            "tie_out"
        ]
        assert (o.exit == 1) == (report["rejects"]["rows"] > 0), o.stdout[-1000:]
    if case.check is not None:
        case.check(o)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_bad_input(case: Case, outcomes: dict[str, Outcome]) -> None:
    o = outcomes[case.name]
    print(o.summary())
    assert_sound(o)


def test_xxe_never_leaks(outcomes: dict[str, Outcome]) -> None:
    """Whatever the exit code, the file an external entity names is never read into any
    output or message."""
    if "xlsx_xxe" not in outcomes:
        pytest.skip("run with the xlsx_xxe case")
    _secret_never_read(outcomes["xlsx_xxe"])


def test_corpus_covers_every_kind_the_issue_names() -> None:
    names = {c.name for c in CASES}
    for needed in (
        "empty_file",
        "header_only",
        "random_bytes",
        "xlsx_truncated",
        "xls_container_truncated",
        "xlsx_zip_bomb_whitespace",
        "xlsx_billion_laughs",
        "xlsx_xxe",
        "line_100mb_one_field",
        "field_one_million_chars",
        "mixed_utf8_cp1252_shift_jis",
        "nul_in_a_cell",
        "unbalanced_quote_mid_file",
        "columns_10000",
        "duplicate_mapped_header",
        "blank_headers",
        "impossible_dates",
        "impossible_amounts",
    ):
        assert needed in names
    assert "30/02/2025" not in BAD_AMOUNTS and "30/02/2025" in BAD_DATES
    assert {"1e400", "NaN", "∞", "--5", "1.2.3"} <= set(BAD_AMOUNTS)
    assert len(names) == len(CASES)


def test_xfail_reasons_name_a_bug() -> None:
    for c in CASES:
        assert c.bug is None or c.bug.startswith("BUG: "), c.name


# -- fuzzing: the seeds, random bytes (hypothesis) and a short atheris pass ------------------------
def _fuzz() -> Any:
    sys.path.insert(0, str(Path(__file__).parent))
    import fuzz_reader

    return fuzz_reader


def test_fuzz_reader_seeds_run_clean() -> None:
    fuzz = _fuzz()
    for seed in fuzz.SEEDS:
        fuzz.run_one(seed)


FUZZ_TOKENS = [b",", b";", b"\t", b'"', b"\r\n", b"\n", b"\r", b"|", b" ", b"\x00", b"\xef\xbb\xbf"]
FUZZ_TOKENS += [b"Date", b"Amount", b"01/02/2025", b"-1.00", b"1,234.50", b"(5)", b"\xe9", b"x"]
FUZZ_EXAMPLES = int(os.environ.get("CSVBRIDGE_PROPERTY_EXAMPLES", "150"))


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(
    target=st.sampled_from(["reader", "profiler", "money", "dates"]),
    data=st.one_of(
        st.binary(max_size=600),
        st.lists(
            st.sampled_from(FUZZ_TOKENS),
            max_size=80,
        ).map(b"".join),
    ),
)
def test_random_bytes_never_escape_as_anything_but_a_csvbridge_error(
    target: str, data: bytes
) -> None:
    fuzz = _fuzz()
    fuzz.run_one(bytes([fuzz.TARGETS.index(target)]) + data)


def test_atheris_reader_short_pass(tmp_path: Path) -> None:
    import subprocess

    pytest.importorskip("atheris")
    script = Path(__file__).with_name("fuzz_reader.py")
    args = [sys.executable, str(script), "-runs=1500", "-max_total_time=25"]
    args += [f"-artifact_prefix={tmp_path}/", "-seed=1"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=180, cwd=tmp_path)
    found = [p.read_bytes() for p in tmp_path.glob("crash-*")]
    assert done.returncode == 0, f"{found}\n{done.stderr[-3000:]}"


def test_detection_does_not_depend_on_the_previous_file(tmp_path: Path) -> None:
    import csv as csv_module
    from contextlib import ExitStack

    from csvbridge.readers import ReadOptions, open_source

    small = tmp_path / "small.csv"
    small.write_bytes(b"a,b\n1,2\n")
    text = tmp_path / "semi.csv"
    text.write_bytes(b"j" * 70 + b";x\n" + b"1;2\n" * 3)
    limit = csv_module.field_size_limit()

    def columns(path: Path, options: ReadOptions) -> list[str]:
        with ExitStack() as stack:
            finder = open_source(path, 0, options, stack)
            for _ in finder.chunks(10):
                pass
            return list(finder.info.columns)

    try:
        alone = columns(text, ReadOptions())
        columns(small, ReadOptions(max_field_size=64))
        after = columns(text, ReadOptions())
    finally:
        csv_module.field_size_limit(limit)
    assert alone == ["j" * 70, "x"]
    assert after == alone
