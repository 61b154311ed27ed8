"""A streaming .xlsx writer of our own: one workbook with one sheet, its rows appended as XML
built column-wise (``xlsx_cells``), packed into a zip with zlib.

The package has the parts, part names, content types and relationships XlsxWriter writes for a
one-sheet workbook (ECMA-376): ``[Content_Types].xml``, ``_rels/.rels``,
``xl/_rels/workbook.xml.rels``, ``xl/worksheets/sheet1.xml``, ``xl/workbook.xml``,
``xl/styles.xml``, ``xl/theme/theme1.xml``, ``docProps/core.xml``, ``docProps/app.xml``.
Rows are deflated as they come, in a worker thread, into a temporary file (see ``xlsx_zip``:
the sheet's ``<dimension>`` comes before them and is known only at the end); ``close`` writes
the zip. Every part's XML is what XlsxWriter writes for the same cells.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import IO
from xml.sax.saxutils import escape

import pyarrow as pa
from xlsxwriter import theme as _theme

from .xlsx_cells import Column, column_letters, rows_xml, text_column
from .xlsx_zip import LIMIT, DeflatedStream, TooLarge, ZipWriter

SHEET_XML_LIMIT = LIMIT  # past this a member needs ZIP64, which is not written
HEAD_STYLE = 1
# The Office 2007 theme XlsxWriter writes (THEME_XML_2007; plain THEME_XML as a fallback name)
THEME_XML: str = getattr(_theme, "THEME_XML_2007", None) or _theme.THEME_XML
XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-"


class Styles:
    """The workbook's cell formats: 0 the default, 1 the header (bold, shaded, a thin line
    below), then one per number format in the order asked for."""

    def __init__(self) -> None:
        self.formats: list[str] = []

    def number(self, code: str) -> int:
        """The style index of number format ``code``, added on first use."""
        if code not in self.formats:
            self.formats.append(code)
        return HEAD_STYLE + 1 + self.formats.index(code)

    def find(self, code: str) -> int | None:
        """The style index of number format ``code``, None if it is not used yet."""
        return HEAD_STYLE + 1 + self.formats.index(code) if code in self.formats else None

    def xml(self) -> str:
        font = '<sz val="11"/><color theme="1"/><name val="Calibri"/><family val="2"/>'
        font += '<scheme val="minor"/>'
        return styles_xml(self.formats, [font, f"<b/>{font}"], [styled_xf(1, head=True)])


def styled_xf(font: int, head: bool = False) -> str:
    """A cell format of font ``font``; ``head``: with the header's fill and line below."""
    if head:
        return (
            f'<xf numFmtId="0" fontId="{font}" fillId="2" borderId="1" xfId="0" applyFont="1" '
            'applyFill="1" applyBorder="1"/>'
        )
    return f'<xf numFmtId="0" fontId="{font}" fillId="0" borderId="0" xfId="0" applyFont="1"/>'


def styles_xml(formats: list[str], fonts: list[str], styled: list[str]) -> str:
    """xl/styles.xml as XlsxWriter writes it: number formats ``formats`` (ids from 164),
    ``fonts`` (the first the default), the header's fill and border, and the cell formats:
    the default, ``styled``, then one per number format."""
    q = {chr(34): "&quot;"}
    fmts = "".join(
        f'<numFmt numFmtId="{164 + i}" formatCode="{escape(c, q)}"/>' for i, c in enumerate(formats)
    )
    num_fmts = f'<numFmts count="{len(formats)}">{fmts}</numFmts>' if fmts else ""
    numbers = "".join(
        f'<xf numFmtId="{164 + i}" fontId="0" fillId="0" borderId="0" xfId="0" '
        'applyNumberFormat="1"/>'
        for i in range(len(formats))
    )
    return (
        f'{XML_DECL}<styleSheet xmlns="{MAIN_NS}">{num_fmts}'
        f'<fonts count="{len(fonts)}">{"".join(f"<font>{f}</font>" for f in fonts)}</fonts>'
        '<fills count="3"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill>'
        '<fill><patternFill patternType="solid"><fgColor rgb="FFE8ECF0"/>'
        '<bgColor indexed="64"/></patternFill></fill></fills>'
        '<borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border>'
        '<border><left/><right/><top/><bottom style="thin"><color auto="1"/></bottom>'
        "<diagonal/></border></borders>"
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
        f'</cellStyleXfs><cellXfs count="{1 + len(styled) + len(formats)}">'
        f'<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>{"".join(styled)}'
        f"{numbers}</cellXfs>"
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
        '</cellStyles><dxfs count="0"/><tableStyles count="0" '
        'defaultTableStyle="TableStyleMedium9" defaultPivotStyle="PivotStyleLight16"/>'
        "</styleSheet>"
    )


def column_width(width: int) -> str:
    """A column width in characters as the sheet XML holds it (XlsxWriter's conversion
    through pixels of Calibri 11: 7 a digit, 5 of padding)."""
    pixels = int(width * 7 + 0.5) + 5
    return f"{(pixels * 256 // 7) / 256.0:.16g}"


class SheetWriter:
    """Writes one workbook of one sheet to ``path``: a header row (styled, frozen, with an
    autofilter over the table), then the rows given to ``add``."""

    def __init__(
        self, path: Path, sheet: str, header: Sequence[str], properties: dict[str, str]
    ) -> None:
        self.path = path
        self.sheet = sheet
        self.width = len(header)
        self.properties = properties
        self.styles = Styles()
        self.rows = 0  # sheet rows so far, the header included
        self._spool: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close/abort
        self._body = DeflatedStream(self._spool)
        head = [text_column(pa.array([name], pa.string())) for name in header]
        for col in head:
            col.style[:] = HEAD_STYLE
        self.add(head)

    def add(self, columns: list[Column]) -> None:
        """Append rows (one Column per sheet column, all of the same length)."""
        xml = rows_xml(columns, self.rows + 1)
        if self._body.size + len(xml) > SHEET_XML_LIMIT:
            raise TooLarge
        self._body.write(xml)
        self.rows += len(columns[0].kind)

    def close(self, widths: Sequence[int], created: datetime) -> None:
        """Write the workbook (column ``widths`` in characters) and let the rows go."""
        last = f"{column_letters(self.width - 1)}{max(self.rows, 1)}"
        cols = "".join(
            f'<col min="{i + 1}" max="{j + 1}" width="{column_width(widths[i])}" customWidth="1"/>'
            for i, j in column_runs(widths)
        )
        head = (
            f'{XML_DECL}<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">'
            f'<dimension ref="A1:{last}"/>'
            '<sheetViews><sheetView tabSelected="1" workbookViewId="0"><pane ySplit="1" '
            'topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
            '<selection pane="bottomLeft"/></sheetView></sheetViews>'
            f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols><sheetData>'
        ).encode()
        tail = (
            f'</sheetData><autoFilter ref="A1:{last}"/><pageMargins left="0.7" right="0.7" '
            'top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>'
        ).encode()
        if self._body.size + len(head) + len(tail) > SHEET_XML_LIMIT:
            raise TooLarge
        self._body.finish()
        with open(self.path, "wb") as f:
            z = ZipWriter(f)
            z.add("[Content_Types].xml", content_types().encode())
            z.add("_rels/.rels", root_rels().encode())
            z.add("xl/_rels/workbook.xml.rels", workbook_rels().encode())
            z.add_sheet("xl/worksheets/sheet1.xml", head, self._body, tail)
            z.add("xl/workbook.xml", self._workbook(last).encode())
            z.add("xl/styles.xml", self.styles.xml().encode())
            z.add("xl/theme/theme1.xml", THEME_XML.encode())
            z.add("docProps/core.xml", core_xml(self.properties, created).encode())
            z.add("docProps/app.xml", self._app().encode())
            z.close()
        self._spool.close()

    def abort(self) -> None:
        """Let the rows go; nothing is written."""
        self._body.abort()
        self._spool.close()

    def _workbook(self, last: str) -> str:
        name = quoted_sheet(self.sheet)
        ref = "$A$1:$" + "$".join(_split_ref(last))
        return (
            f'{XML_DECL}<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><fileVersion appName="xl" '
            'lastEdited="4" lowestEdited="4" rupBuild="4505"/><workbookPr '
            'defaultThemeVersion="124226"/><bookViews><workbookView xWindow="240" yWindow="15" '
            'windowWidth="16095" windowHeight="9660"/></bookViews><sheets>'
            f'<sheet name="{escape(self.sheet, {chr(34): "&quot;"})}" sheetId="1" r:id="rId1"/>'
            '</sheets><definedNames><definedName name="_xlnm._FilterDatabase" localSheetId="0" '
            f'hidden="1">{escape(name)}!{ref}</definedName></definedNames>'
            '<calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>'
        )

    def _app(self) -> str:
        vt = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
        return (
            f'{XML_DECL}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
            f'extended-properties" xmlns:vt="{vt}"><Application>Microsoft Excel</Application>'
            "<DocSecurity>0</DocSecurity><ScaleCrop>false</ScaleCrop><HeadingPairs>"
            '<vt:vector size="2" baseType="variant"><vt:variant><vt:lpstr>Worksheets</vt:lpstr>'
            "</vt:variant><vt:variant><vt:i4>1</vt:i4></vt:variant></vt:vector></HeadingPairs>"
            '<TitlesOfParts><vt:vector size="1" baseType="lpstr">'
            f"<vt:lpstr>{escape(self.sheet)}</vt:lpstr></vt:vector></TitlesOfParts>"
            "<Company></Company><LinksUpToDate>false</LinksUpToDate><SharedDoc>false</SharedDoc>"
            "<HyperlinksChanged>false</HyperlinksChanged><AppVersion>12.0000</AppVersion>"
            "</Properties>"
        )


def core_xml(p: dict[str, str], created: datetime) -> str:
    """docProps/core.xml: title, author and comments of ``p``, created and modified at
    ``created``."""
    when = created.strftime("%Y-%m-%dT%H:%M:%SZ")
    w3 = 'xsi:type="dcterms:W3CDTF"'
    return (
        f'{XML_DECL}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
        'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:dcterms="http://purl.org/dc/terms/" xmlns:dcmitype="http://purl.org/dc/'
        'dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<dc:title>{escape(p['title'])}</dc:title>"
        f"<dc:creator>{escape(p['author'])}</dc:creator>"
        f"<dc:description>{escape(p['comments'])}</dc:description>"
        f"<cp:lastModifiedBy>{escape(p['author'])}</cp:lastModifiedBy>"
        f"<dcterms:created {w3}>{when}</dcterms:created>"
        f"<dcterms:modified {w3}>{when}</dcterms:modified></cp:coreProperties>"
    )


def column_runs(widths: Sequence[int]) -> list[tuple[int, int]]:
    """(first, last) of each run of adjacent columns of one width, as XlsxWriter groups them."""
    runs: list[tuple[int, int]] = []
    for i, w in enumerate(widths):
        if runs and widths[runs[-1][1]] == w and runs[-1][1] == i - 1:
            runs[-1] = (runs[-1][0], i)
        else:
            runs.append((i, i))
    return runs


def _split_ref(ref: str) -> tuple[str, str]:
    letters = ref.rstrip("0123456789")
    return letters, ref[len(letters) :]


def quoted_sheet(sheet: str) -> str:
    """A sheet name as a formula refers to it: quoted unless letters, digits and _."""
    if sheet.replace("_", "a").isalnum() and sheet.isascii() and not sheet[0].isdigit():
        return sheet
    return "'" + sheet.replace("'", "''") + "'"


def content_types(sheets: int = 1) -> str:
    """[Content_Types].xml of a workbook of ``sheets`` worksheets."""
    over = [
        ("/docProps/app.xml", "officedocument.extended-properties+xml"),
        ("/docProps/core.xml", "package.core-properties+xml"),
        ("/xl/styles.xml", "officedocument.spreadsheetml.styles+xml"),
        ("/xl/theme/theme1.xml", "officedocument.theme+xml"),
        ("/xl/workbook.xml", "officedocument.spreadsheetml.sheet.main+xml"),
    ]
    over += [
        (f"/xl/worksheets/sheet{i}.xml", "officedocument.spreadsheetml.worksheet+xml")
        for i in range(1, sheets + 1)
    ]
    parts = "".join(f'<Override PartName="{p}" ContentType="{_CT}{t}"/>' for p, t in over)
    return (
        f'{XML_DECL}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        f'<Default Extension="rels" ContentType="{_CT}package.relationships+xml"/>'
        f'<Default Extension="xml" ContentType="application/xml"/>{parts}</Types>'
    )


def rels(items: list[tuple[str, str]]) -> str:
    rels = "".join(
        f'<Relationship Id="rId{i}" Type="{t}" Target="{target}"/>'
        for i, (t, target) in enumerate(items, start=1)
    )
    return f'{XML_DECL}<Relationships xmlns="{_PKG_REL}">{rels}</Relationships>'


def root_rels() -> str:
    return rels(
        [
            (f"{REL_NS}/officeDocument", "xl/workbook.xml"),
            (f"{_PKG_REL}/metadata/core-properties", "docProps/core.xml"),
            (f"{REL_NS}/extended-properties", "docProps/app.xml"),
        ]
    )


def workbook_rels(sheets: int = 1) -> str:
    """xl/_rels/workbook.xml.rels of a workbook of ``sheets`` worksheets."""
    items = [(f"{REL_NS}/worksheet", f"worksheets/sheet{i}.xml") for i in range(1, sheets + 1)]
    items += [(f"{REL_NS}/theme", "theme/theme1.xml"), (f"{REL_NS}/styles", "styles.xml")]
    return rels(items)
