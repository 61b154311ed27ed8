"""report.xlsx's workbook: several sheets written by our own SpreadsheetML writer (the parts,
zip and cell XML of ``writers.xlsx_stream`` / ``xlsx_cells`` / ``xlsx_zip``), so that the long
Rejected and Duplicates sheets can be built a column at a time.

A sheet's rows are given as XML, in order, and deflated as they come into a temporary file (one
per sheet); ``Book.close`` writes the zip. The styles are a fixed set (the report's heading,
title, key, good, bad and hash looks, as XlsxWriter wrote them) plus one number format per
number of decimals, added on first use. Cells are written as XlsxWriter's constant-memory mode
writes them: inline strings, escaped the same way, numbers as their exact decimal text.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import IO, Any
from xml.sax.saxutils import escape

import pyarrow as pa

from ..writers.xlsx_cells import MAX_TEXT, column_letters, escape_control, places_format
from ..writers.xlsx_stream import (
    MAIN_NS,
    REL_NS,
    THEME_XML,
    XML_DECL,
    column_width,
    content_types,
    core_xml,
    quoted_sheet,
    root_rels,
    styled_xf,
    styles_xml,
    workbook_rels,
)
from ..writers.xlsx_zip import DeflatedStream, ZipWriter
from ..xlsx_numbers import exact_number

NAMED = ("head", "title", "h2", "key", "good", "bad", "hash")  # cell styles 1..7
_FONT = '<color theme="1"/><name val="Calibri"/><family val="2"/><scheme val="minor"/>'
_FONTS = {  # the fonts XlsxWriter wrote for render_xlsx's formats
    "head": f'<b/><sz val="11"/>{_FONT}',
    "title": f'<b/><sz val="16"/>{_FONT}',
    "h2": f'<b/><sz val="12"/>{_FONT}',
    "key": '<b/><sz val="11"/><color rgb="FF5B6470"/><name val="Calibri"/><family val="2"/>'
    '<scheme val="minor"/>',
    "good": '<b/><sz val="11"/><color rgb="FF1A6B35"/><name val="Calibri"/><family val="2"/>'
    '<scheme val="minor"/>',
    "bad": '<b/><sz val="11"/><color rgb="FFA4161A"/><name val="Calibri"/><family val="2"/>'
    '<scheme val="minor"/>',
    "hash": '<sz val="9"/><color theme="1"/><name val="Consolas"/><family val="2"/>',
}
_PRESERVE = re.compile(r"^\s|\s$")  # XlsxWriter's test for xml:space="preserve"


class BookStyles:
    """Cell styles: 0 the default, 1-7 the NAMED looks, then one per number format."""

    def __init__(self) -> None:
        self.formats: list[str] = []

    def named(self, name: str | None) -> int:
        return NAMED.index(name) + 1 if name else 0

    def number(self, places: int) -> int:
        """The style of a number with ``places`` decimals, added on first use."""
        code = places_format(places)
        if code not in self.formats:
            self.formats.append(code)
        return len(NAMED) + 1 + self.formats.index(code)

    def xml(self) -> str:
        fonts = [f'<sz val="11"/>{_FONT}', *(_FONTS[n] for n in NAMED)]
        named = [styled_xf(i, head=n == "head") for i, n in enumerate(NAMED, start=1)]
        return styles_xml(self.formats, fonts, named)


# -- what a value becomes (the rules render_xlsx has always applied, one value at a time) --


@dataclass(frozen=True)
class Cell:
    """A value as a cell: a number (its exact decimal text, and its decimals) or text; and the
    width it asks of its column."""

    number: bool
    text: str
    places: int
    shown: int


def cell_text(value: Any) -> str:
    """Text as a cell holds it: past Excel's limit, cut with a note."""
    s = "" if value is None else str(value)
    if len(s) > MAX_TEXT:
        s = s[: MAX_TEXT - 12] + " [truncated]"
    return s


def excel_text(s: str) -> str:
    """``s`` cut, as XlsxWriter cuts it, to 32,767 UTF-16 units without splitting a character."""
    if len(s) > MAX_TEXT // 2 and len(s.encode("utf-16-le", "surrogatepass")) // 2 > MAX_TEXT:
        units = 0
        for i, ch in enumerate(s):
            units += 2 if ord(ch) > 0xFFFF else 1
            if units > MAX_TEXT:
                return s[:i]
    return s


def text_value(value: Any) -> Cell:
    s = cell_text(value)
    return Cell(False, s, 0, len(s))


def money_value(value: Any, places: int | None = None) -> Cell:
    """An amount as a number with ``places`` decimals (default: as written); text that is not
    an amount, or that a spreadsheet number cannot hold exactly, stays text."""
    s = "" if value is None else str(value).strip()
    try:
        d = Decimal(s)
        number = exact_number(d)
    except InvalidOperation:
        number = None
    if number is None:
        return text_value(value)
    if places is None:
        places = max(-int(d.as_tuple().exponent), 0)
    return Cell(True, number.text, places, len(f"{d:,.{places}f}"))


def count_value(value: Any) -> Cell:
    """A whole number (a line or a count) as a number; anything else as text."""
    s = "" if value is None else str(value).strip()
    if s.isdigit() and len(s) < 16:
        return money_value(s, 0)
    return text_value(value)


def text_xml(ref: str, text: str, style: int) -> str:
    """An inline string cell, escaped as ``xlsx_cells`` escapes a column."""
    t = escape_control(excel_text(text))
    space = ' xml:space="preserve"' if _PRESERVE.search(t) else ""
    t = t.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    s = f' s="{style}"' if style else ""
    return f'<c r="{ref}"{s} t="inlineStr"><is><t{space}>{t}</t></is></c>'


def number_xml(ref: str, text: str, style: int) -> str:
    s = f' s="{style}"' if style else ""
    return f'<c r="{ref}"{s}><v>{text}</v></c>'


# -- sheets and the workbook --


@dataclass
class BookSheet:
    """One worksheet: its rows' XML (given in order), the cells' extent, column widths (in
    characters, by column), and whether the header row is frozen, printed on every page and
    filterable (``autofilter``: the last row and column of the table)."""

    name: str
    spool: IO[bytes] = field(default_factory=tempfile.TemporaryFile)
    body: DeflatedStream | None = None
    last_row: int = -1
    last_col: int = -1
    widths: dict[int, int] = field(default_factory=dict)
    freeze: bool = False
    autofilter: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        self.body = DeflatedStream(self.spool)

    def add(self, xml: bytes, last_row: int, last_col: int) -> None:
        """Rows' XML, ending at sheet row ``last_row`` (0-based), their cells up to column
        ``last_col`` (-1: no cells)."""
        assert self.body is not None
        if xml:
            self.body.write(xml)
        if last_col >= 0:
            self.last_row = max(self.last_row, last_row)
            self.last_col = max(self.last_col, last_col)

    def _parts(self, selected: bool) -> tuple[bytes, bytes]:
        if self.last_col < 0:
            dim = "A1"
        else:
            dim = f"A1:{column_letters(self.last_col)}{self.last_row + 1}"
        view = (
            '<sheetView tabSelected="1" workbookViewId="0"'
            if selected
            else ('<sheetView workbookViewId="0"')
        )
        if self.freeze:
            view += (
                '><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
                '<selection pane="bottomLeft"/></sheetView>'
            )
        else:
            view += "/>"
        cols = _cols(self.widths)
        head = (
            f'{XML_DECL}<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><dimension ref="{dim}"/>'
            f'<sheetViews>{view}</sheetViews><sheetFormatPr defaultRowHeight="15"/>'
            f"{cols}<sheetData>"
        )
        tail = "</sheetData>"
        if self.autofilter is not None:
            tail += f'<autoFilter ref="A1:{_ref(*self.autofilter)}"/>'
        tail += (
            '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" '
            'footer="0.3"/><pageSetup orientation="landscape"/></worksheet>'
        )
        return head.encode(), tail.encode()


def _ref(row: int, col: int) -> str:
    return f"{column_letters(col)}{row + 1}"


def _cols(widths: dict[int, int]) -> str:
    """<cols>: adjacent columns of one width as one <col>, as XlsxWriter groups them."""
    if not widths:
        return ""
    out = []
    cols = sorted(widths)
    runs: list[list[int]] = []
    for c in cols:
        if runs and runs[-1][-1] == c - 1 and widths[runs[-1][-1]] == widths[c]:
            runs[-1].append(c)
        else:
            runs.append([c])
    for run in runs:
        w = column_width(widths[run[0]])
        out.append(f'<col min="{run[0] + 1}" max="{run[-1] + 1}" width="{w}" customWidth="1"/>')
    return f"<cols>{''.join(out)}</cols>"


class Book:
    """A workbook of several sheets, written to bytes by ``close``."""

    def __init__(self, properties: dict[str, str]) -> None:
        self.properties = properties
        self.styles = BookStyles()
        self.sheets: list[BookSheet] = []

    def sheet(self, name: str) -> BookSheet:
        sh = BookSheet(name)
        self.sheets.append(sh)
        return sh

    def save(self, f: IO[bytes], created: datetime) -> None:
        """Write the workbook into ``f`` (deterministic: fixed times and order)."""
        n = len(self.sheets)
        pa.default_memory_pool().release_unused()  # the listings' batches: before the zip
        z = ZipWriter(f)
        z.add("[Content_Types].xml", content_types(n).encode())
        z.add("_rels/.rels", root_rels().encode())
        z.add("xl/_rels/workbook.xml.rels", workbook_rels(n).encode())
        for i, sh in enumerate(self.sheets):
            assert sh.body is not None
            head, tail = sh._parts(i == 0)
            sh.body.finish()
            z.add_sheet(f"xl/worksheets/sheet{i + 1}.xml", head, sh.body, tail)
            sh.spool.close()
        z.add("xl/workbook.xml", self._workbook().encode())
        z.add("xl/styles.xml", self.styles.xml().encode())
        z.add("xl/theme/theme1.xml", THEME_XML.encode())
        z.add("docProps/core.xml", core_xml(self.properties, created).encode())
        z.add("docProps/app.xml", self._app().encode())
        z.close()

    def abort(self) -> None:
        """Let the sheets' rows go."""
        for sh in self.sheets:
            if sh.body is not None:
                sh.body.abort()
            sh.spool.close()

    def _names(self) -> list[tuple[str, int, str]]:
        """Defined names (name, sheet index, formula), in XlsxWriter's order."""
        names = []
        for i, sh in enumerate(self.sheets):
            q = quoted_sheet(sh.name)
            if sh.autofilter is not None:
                row, col = sh.autofilter
                ref = f"{q}!$A$1:${column_letters(col)}${row + 1}"
                names.append(("_xlnm._FilterDatabase", i, ref))
            if sh.freeze:
                names.append(("_xlnm.Print_Titles", i, f"{q}!$1:$1"))
        return sorted(
            names,
            key=lambda x: (x[0].removeprefix("_xlnm.").lower(), self.sheets[x[1]].name.lower()),
        )

    def _workbook(self) -> str:
        q = {chr(34): "&quot;"}
        sheets = "".join(
            f'<sheet name="{escape(sh.name, q)}" sheetId="{i}" r:id="rId{i}"/>'
            for i, sh in enumerate(self.sheets, start=1)
        )
        names = "".join(
            f'<definedName name="{n}" localSheetId="{i}"'
            + (' hidden="1"' if n.endswith("FilterDatabase") else "")
            + f">{escape(ref)}</definedName>"
            for n, i, ref in self._names()
        )
        defined = f"<definedNames>{names}</definedNames>" if names else ""
        return (
            f'{XML_DECL}<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><fileVersion appName="xl" '
            'lastEdited="4" lowestEdited="4" rupBuild="4505"/><workbookPr '
            'defaultThemeVersion="124226"/><bookViews><workbookView xWindow="240" yWindow="15" '
            f'windowWidth="16095" windowHeight="9660"/></bookViews><sheets>{sheets}</sheets>'
            f'{defined}<calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>'
        )

    def _app(self) -> str:
        vt = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
        titles = [sh.name for sh in self.sheets]
        printed = [
            f"{ref.split('!')[0]}!Print_Titles"
            for n, _, ref in self._names()
            if n == "_xlnm.Print_Titles"
        ]
        pairs = (
            "<vt:variant><vt:lpstr>Worksheets</vt:lpstr></vt:variant>"
            f"<vt:variant><vt:i4>{len(titles)}</vt:i4></vt:variant>"
        )
        if printed:
            pairs += (
                "<vt:variant><vt:lpstr>Named Ranges</vt:lpstr></vt:variant>"
                f"<vt:variant><vt:i4>{len(printed)}</vt:i4></vt:variant>"
            )
        parts = "".join(f"<vt:lpstr>{escape(t)}</vt:lpstr>" for t in [*titles, *printed])
        return (
            f'{XML_DECL}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
            f'extended-properties" xmlns:vt="{vt}"><Application>Microsoft Excel</Application>'
            "<DocSecurity>0</DocSecurity><ScaleCrop>false</ScaleCrop><HeadingPairs>"
            f'<vt:vector size="{4 if printed else 2}" baseType="variant">{pairs}</vt:vector>'
            f'</HeadingPairs><TitlesOfParts><vt:vector size="{len(titles) + len(printed)}" '
            f'baseType="lpstr">{parts}</vt:vector></TitlesOfParts>'
            "<Company></Company><LinksUpToDate>false</LinksUpToDate><SharedDoc>false</SharedDoc>"
            "<HyperlinksChanged>false</HyperlinksChanged><AppVersion>12.0000</AppVersion>"
            "</Properties>"
        )
