"""The CSV formatters skip their regex work when one scan of the bytes shows no cell needs it;
their output must equal the plain regex computation for any text, nulls and slices."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from csvbridge.writers.base import guard_formula, quote_csv, single_line


def guard_reference(col: pa.Array) -> pa.Array:
    starts = pc.match_substring_regex(col, r"^[=+\-@\t\r]")
    number = pc.match_substring_regex(col, r"^[-+]?\d[\d.,]*$")
    risky = pc.fill_null(pc.and_(starts, pc.invert(number)), False)
    return pc.if_else(risky, pc.binary_join_element_wise("'", col, ""), col)


def quote_reference(col: pa.Array, delimiter: str) -> pa.Array:
    col = pc.fill_null(col.cast(pa.string()), "")
    needs = pc.match_substring_regex(col, f'[{delimiter}"\r\n]')
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(col, '"', '""'), '"', "")
    return pc.if_else(needs, quoted, col)


CELLS = st.lists(
    st.one_of(st.none(), st.text(alphabet='ab1.,;"=+-@\t\r\n é€', max_size=6)), max_size=30
)


@settings(max_examples=300, deadline=None)
@given(
    cells=CELLS,
    start=st.integers(0, 5),
    delimiter=st.sampled_from([",", ";", "\t", "|", "€"]),
)
def test_formatters_equal_the_regex_computation(
    cells: list[str | None], start: int, delimiter: str
) -> None:
    col = pa.array(cells, pa.string()).slice(start)
    assert guard_formula(col).to_pylist() == guard_reference(col).to_pylist()
    assert single_line(col).to_pylist() == (
        pc.replace_substring_regex(col, r"[\r\n\t]+", " ").to_pylist()
    )
    got = quote_csv(col, delimiter)
    assert got.type == pa.string()
    assert got.to_pylist() == quote_reference(col, delimiter).to_pylist()


def test_plain_text_is_left_as_it_is() -> None:
    col = pa.array(["Coffee", None, "Tea 2"])
    assert guard_formula(col).to_pylist() == ["Coffee", None, "Tea 2"]
    assert quote_csv(col).to_pylist() == ["Coffee", "", "Tea 2"]
    assert guard_formula(pa.array(["=1+1", "x"])).to_pylist() == ["'=1+1", "x"]
    assert quote_csv(pa.array(['a"b', "x"])).to_pylist() == ['"a""b"', "x"]
