"""Case folding of text columns, fast for the common all-ASCII chunk: pyarrow's
``utf8_lower`` decodes every code point, ``ascii_lower`` is a byte table, and on ASCII text
the two agree."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def is_ascii(col: pa.Array) -> bool:
    """Whether every value of a string array is ASCII (nulls count as ASCII)."""
    if not pa.types.is_string(col.type) and not pa.types.is_large_string(col.type):
        return False
    bufs = col.buffers()
    if bufs[2] is None or len(col) == 0:
        return True
    width = np.int64 if pa.types.is_large_string(col.type) else np.int32
    offs = np.frombuffer(bufs[1], dtype=width)
    lo, hi = int(offs[col.offset]), int(offs[col.offset + len(col)])
    return memoryview(bufs[2])[lo:hi].tobytes().isascii()


def lower(col: pa.Array) -> pa.Array:
    """``pc.utf8_lower(col)``, taking the ASCII kernel when the text is all ASCII."""
    return pc.ascii_lower(col) if is_ascii(col) else pc.utf8_lower(col)
