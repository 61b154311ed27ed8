"""Cells of a SpreadsheetML sheet built as XML a whole column at a time (pyarrow compute), the
way XlsxWriter's constant-memory mode writes them one by one: text as inline strings, numbers
as ``<v>`` with their exact text, each with its cell reference and style.

Text is escaped exactly as XlsxWriter escapes it: control characters (other than tab and line
feed) become ``_xHHHH_``, a literal ``_xHHHH_`` in the text gets its underscore escaped
(``_x005F_xHHHH_``) so that it reads back as itself, U+FFFE and U+FFFF become ``_xFFFE_`` and
``_xFFFF_``; then ``&``, ``<`` and ``>`` become entities, and a text with leading or trailing
white space (as Python's ``\\s`` sees it, after the control escapes) is marked
``xml:space="preserve"``. One difference, on purpose: XlsxWriter writes a text that starts with
``<r>`` and ends with ``</r>`` as raw rich-text XML; here every text is escaped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from ..readers.fast_chunks import PY_WHITESPACE

EMPTY, TEXT, NUMBER = 0, 1, 2
MAX_TEXT = 32_767  # Excel's characters (UTF-16 code units) per cell
MAX_WIDTH = 60  # widest fitted column, in characters


def places_format(places: int) -> str:
    """The number format showing ``places`` decimals, with thousands separators."""
    return "#,##0" + ("." + "0" * places if places else "")


_ESCAPED_ESCAPE = re.compile("(_x[0-9a-fA-F]{4}_)")
_CONTROL = re.compile(r"([\x00-\x08\x0b-\x1f])")
# What makes a text need the Python escape above (RE2 syntax)
_NEEDS_CONTROL = r"_x[0-9a-fA-F]{4}_|[\x00-\x08\x0b-\x1f\x{fffe}\x{ffff}]"
# Anything escaped at all (one pass: most columns have nothing to escape)
_NEEDS_ANY = r"_x[0-9a-fA-F]{4}_|[\x00-\x08\x0b-\x1f\x{fffe}\x{ffff}&<>]"
_WS = "".join(f"\\x{{{ord(c):x}}}" for c in PY_WHITESPACE)
_PRESERVE = f"^[{_WS}]|[{_WS}]$"


def escape_control(text: str) -> str:
    """XlsxWriter's ``_xHHHH_`` escapes of one text (see the module's docstring)."""
    text = _ESCAPED_ESCAPE.sub(r"_x005F\1", text)
    text = _CONTROL.sub(lambda m: f"_x{ord(m.group(1)):04X}_", text)
    return text.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")


def _any(mask: pa.Array) -> bool:
    return bool(pc.any(mask).as_py())


def escaped_text(col: pa.Array) -> tuple[pa.Array, pa.Array]:
    """(the XML text of each string, whether it needs ``xml:space="preserve"``)."""
    if not _any(pc.fill_null(pc.match_substring_regex(col, _NEEDS_ANY), False)):
        return col, pc.fill_null(pc.match_substring_regex(col, _PRESERVE), False)
    special = pc.fill_null(pc.match_substring_regex(col, _NEEDS_CONTROL), False)
    if _any(special):  # escape_control, a column at a time
        col = pc.replace_substring_regex(col, _ESCAPED_ESCAPE.pattern, r"_x005F\1")
        found: set[str] = set()
        for text in col.filter(special).to_pylist():
            found.update(_CONTROL.findall(text))
            found.update(c for c in "\ufffe\uffff" if c in text)
        for c in sorted(found):
            col = pc.replace_substring(col, c, f"_x{ord(c):04X}_")
    preserve = pc.fill_null(pc.match_substring_regex(col, _PRESERVE), False)
    if _any(pc.fill_null(pc.match_substring_regex(col, "[&<>]"), False)):
        col = pc.replace_substring(col, "&", "&amp;")
        col = pc.replace_substring(col, "<", "&lt;")
        col = pc.replace_substring(col, ">", "&gt;")
    return col, preserve


@dataclass
class Column:
    """One column's cells for a run of rows: what each cell is (EMPTY, TEXT or NUMBER), its
    text (the string, or the number's exact text), and for numbers the style index (0: none)."""

    kind: npt.NDArray[np.int8]
    text: pa.Array
    style: npt.NDArray[np.int64]


def text_column(col: pa.Array) -> Column:
    """Strings as text cells; null or empty strings as empty cells."""
    filled = pc.fill_null(col, "")
    kind = np.where(np.asarray(pc.utf8_length(filled)) > 0, TEXT, EMPTY).astype(np.int8)
    return Column(kind, filled, np.zeros(len(col), dtype=np.int64))


def column_letters(index: int) -> str:
    """The letters of a 0-based column (0: A, 26: AA)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def cells_xml(col: Column, letters: str, rows: pa.Array) -> pa.Array:
    """Each row's cell of ``col`` as XML ('' for an empty cell); ``rows`` are the 1-based
    sheet row numbers as strings."""
    n = len(col.kind)
    ref = pc.binary_join_element_wise('<c r="' + letters, rows, "")
    styles = np.unique(col.style)
    if len(styles) == 1:
        style: pa.Array | str = f' s="{styles[0]}"' if styles[0] else ""
    else:
        names = pa.array([f' s="{s}"' if s else "" for s in range(int(styles.max()) + 1)])
        style = names.take(pa.array(col.style))
    out = pa.nulls(n, pa.string())
    is_text = col.kind == TEXT
    is_number = col.kind == NUMBER
    if not is_number.any() and is_text.any():  # text and empty cells: one pass fewer
        escaped, preserve = escaped_text(col.text)
        t_open = pc.if_else(preserve, '<t xml:space="preserve">', "<t>")
        text = pc.binary_join_element_wise(
            ref, '"', style, ' t="inlineStr"><is>', t_open, escaped, "</t></is></c>", ""
        )
        return text if is_text.all() else pc.if_else(pa.array(is_text), text, "")
    if is_number.any():
        number = pc.binary_join_element_wise(ref, '"', style, "><v>", col.text, "</v></c>", "")
        out = pc.if_else(pa.array(is_number), number, out)
    if is_text.any():
        escaped, preserve = escaped_text(col.text)
        t_open = pc.if_else(preserve, '<t xml:space="preserve">', "<t>")
        text = pc.binary_join_element_wise(
            ref, '"', style, ' t="inlineStr"><is>', t_open, escaped, "</t></is></c>", ""
        )
        out = pc.if_else(pa.array(is_text), text, out)
    return pc.fill_null(out, "")


def rows_xml(columns: list[Column], first_row: int) -> bytes:
    """The ``<row>`` elements of a run of rows (sheet rows ``first_row``, ...) as UTF-8."""
    n = len(columns[0].kind)
    if not n:
        return b""
    rows = pa.array(np.arange(first_row, first_row + n, dtype=np.int64)).cast(pa.string())
    parts = [cells_xml(c, column_letters(j), rows) for j, c in enumerate(columns)]
    joined = pc.binary_join_element_wise('<row r="', rows, '">', *parts, "</row>", "")
    if isinstance(joined, pa.ChunkedArray):
        joined = joined.combine_chunks()
    return _data(joined)


def _data(arr: pa.Array) -> bytes:
    """The concatenated bytes of a string array's values."""
    buffers = arr.buffers()
    offsets = np.frombuffer(buffers[1], dtype=np.int32)[arr.offset : arr.offset + len(arr) + 1]
    lo, hi = int(offsets[0]), int(offsets[-1])
    return b"" if buffers[2] is None else buffers[2].slice(lo, hi - lo).to_pybytes()
