"""Case folding of text columns, fast for the common all-ASCII chunk: pyarrow's
``utf8_lower`` decodes every code point, ``ascii_lower`` is a byte table, and on ASCII text
the two agree."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from .readers.arrow_buffers import text_bytes


def is_ascii(col: pa.Array) -> bool:
    """Whether every value of a string array is ASCII (nulls count as ASCII)."""
    found = text_bytes(col)
    return found is not None and found[1].tobytes().isascii()


def lower(col: pa.Array) -> pa.Array:
    """``pc.utf8_lower(col)``, taking the ASCII kernel when the text is all ASCII."""
    return pc.ascii_lower(col) if is_ascii(col) else pc.utf8_lower(col)
