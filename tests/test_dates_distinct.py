"""Long, repetitive date columns are parsed and formatted once per distinct value; the result
must equal the row-by-row vectorised computation."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csvbridge import dates
from csvbridge.dates import format_dates, parse_dates

TEXTS = st.sampled_from(
    ["01/02/2024", "31/12/1999", "29/02/2023", "", "  ", "1/2/24", "x", "31/04/2024", " 05/06/2020"]
)


@settings(max_examples=60, deadline=None)
@given(
    texts=st.lists(TEXTS, min_size=1, max_size=30),
    repeat=st.integers(1, 200),
    formats=st.sampled_from([("DD/MM/YYYY",), ("DD/MM/YYYY", "D/M/YY")]),
)
def test_distinct_path_equals_row_by_row(
    texts: list[str], repeat: int, formats: tuple[str, ...]
) -> None:
    values = pa.array(texts * repeat)
    fast = parse_dates(values, formats)
    days = pa.array(fast.days).cast(pa.date32())
    with pytest.MonkeyPatch.context() as m:
        m.setattr(dates, "DISTINCT_MIN_ROWS", 10**9)
        slow = parse_dates(values, formats)
        want = format_dates(days, "MM/DD/YYYY").to_pylist()
    for name in ("days", "ok", "empty", "matched_shape", "fmt_index"):
        a, b = getattr(fast, name), getattr(slow, name)
        assert a.dtype == b.dtype and np.array_equal(a, b), name
    assert format_dates(days, "MM/DD/YYYY").to_pylist() == want


def test_long_repetitive_column_takes_the_distinct_path(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []
    real = dates._distinct

    def spy(values: pa.Array) -> object:
        got = real(values)
        seen.append(-1 if got is None else len(got[0]))
        return got

    monkeypatch.setattr(dates, "_distinct", spy)
    parsed = parse_dates(pa.array(["01/02/2024", "02/02/2024"] * 2000), ("DD/MM/YYYY",))
    assert seen[0] == 2 and parsed.ok.all()
    out = format_dates(pa.array(parsed.days).cast(pa.date32()), "YYYY-MM-DD")
    assert out.to_pylist()[:2] == ["2024-02-01", "2024-02-02"]
