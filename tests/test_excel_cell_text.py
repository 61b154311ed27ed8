"""Spreadsheet numbers read as text: the shortcut through repr() gives exactly what rounding to
15 significant digits through Decimal gives, for every float."""

from __future__ import annotations

import math
import struct
from decimal import Decimal

from hypothesis import example, given, settings
from hypothesis import strategies as st

from csvbridge.readers.excel import cell_text


def reference(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    text = format(Decimal(format(value, ".15g")), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


@settings(max_examples=3000, deadline=None)
@given(
    st.one_of(
        st.floats(allow_nan=True, allow_infinity=True),
        st.integers(-(10**17), 10**17).map(lambda n: n / 100),
        st.integers(0, 2**64 - 1).map(lambda b: struct.unpack("<d", b.to_bytes(8, "little"))[0]),
    )
)
@example(0.1 + 0.2)
@example(-0.0)
@example(1e16)
@example(123456789012345.6)
@example(0.000123)
@example(1234.5)
@example(100.0)
def test_float_text_equals_the_decimal_rounding(value: float) -> None:
    assert cell_text(value) == reference(value)


def test_text_cells_are_themselves() -> None:
    assert cell_text("01/02/2024") == "01/02/2024"
    assert cell_text(None) == ""
    assert cell_text(True) == "TRUE"
