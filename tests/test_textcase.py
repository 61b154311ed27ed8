"""textcase.lower: the ASCII shortcut gives exactly pyarrow's utf8_lower."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given
from hypothesis import strategies as st

from csvbridge.textcase import is_ascii, lower

values = st.lists(st.one_of(st.none(), st.text(max_size=12)), max_size=20)


@given(values, st.integers(0, 5))
def test_lower_is_utf8_lower(texts: list[str | None], cut: int) -> None:
    col = pa.array(texts, pa.string()).slice(min(cut, len(texts)))  # offsets not at 0 too
    assert lower(col).equals(pc.utf8_lower(col))
    assert is_ascii(col) == all(t is None or t.isascii() for t in col.to_pylist())


def test_non_ascii_text_takes_the_unicode_kernel() -> None:
    col = pa.array(["ÉCOLE", "STRASSE"])
    assert not is_ascii(col)
    assert lower(col).to_pylist() == ["école", "strasse"]
