"""The vectorised fingerprint equals the one identities were first defined by (a pandas frame of
the normalised fields through hash_pandas_object): identities in history databases and in
duplicates.csv must not change when the computation gets faster."""

from __future__ import annotations

import datetime as dt

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from csvbridge.duplicates import fingerprints


def reference(records: pa.Table, fields: tuple[str, ...]) -> npt.NDArray[np.uint64]:
    """The fingerprint as first written (row by row through a pandas DataFrame)."""
    cols: dict[str, object] = {}
    for name in fields:
        col = records.column(name).combine_chunks()
        if pa.types.is_string(col.type):
            norm = pc.utf8_trim_whitespace(col)
            if pc.any(pc.match_substring_regex(norm, r"\s\s|[\t\r\n\x{a0}]")).as_py():
                norm = pc.replace_substring_regex(norm, r"\s+", " ")
            cols[name] = pc.utf8_lower(pc.fill_null(norm, "\x00")).to_numpy(zero_copy_only=False)
        elif pa.types.is_date32(col.type):
            cols[name] = pc.fill_null(col.cast(pa.int32()), -(2**31)).to_numpy()
        else:
            cols[name] = pc.fill_null(col.cast(pa.int64()), -(2**63)).to_numpy()
    hashed = pd.util.hash_pandas_object(pd.DataFrame(cols), index=False)
    return np.asarray(hashed, dtype=np.uint64)


TEXT = st.one_of(
    st.none(),
    st.text(alphabet=" \t\r\n\xa0\u2003aAbBéÉ€日\x00,", max_size=8),
    st.sampled_from(["", "Coffee", "COFFEE ", " coffee", "co  ffee", "\x00"]),
)


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            TEXT,
            TEXT,
            st.one_of(st.none(), st.integers(-(2**63) + 1, 2**63 - 1)),
            st.one_of(st.none(), st.dates(dt.date(1900, 1, 1), dt.date(2100, 1, 1))),
        ),
        max_size=40,
    ),
    order=st.permutations(["description", "reference", "amount", "date"]),
    take=st.integers(1, 4),
)
def test_fingerprints_equal_the_pandas_frame_hash(
    rows: list[tuple[str | None, str | None, int | None, dt.date | None]],
    order: list[str],
    take: int,
) -> None:
    table = pa.table(
        {
            "description": pa.array([r[0] for r in rows], pa.string()),
            "reference": pa.array([r[1] for r in rows], pa.string()),
            "amount": pa.array([r[2] for r in rows], pa.int64()),
            "date": pa.array([r[3] for r in rows], pa.date32()),
        }
    )
    fields = tuple(order[:take])
    got = fingerprints(table, fields)
    assert got.dtype == np.uint64
    assert got.tolist() == reference(table, fields).tolist()


def test_chunked_and_sliced_columns() -> None:
    col = pa.chunked_array([["a", None, " B"], ["b", "a  a", None]])
    table = pa.table({"description": col, "amount": pa.array([1, 2, 3, 4, 5, 6])}).slice(1)
    fields = ("description", "amount")
    assert fingerprints(table, fields).tolist() == reference(table, fields).tolist()
