"""Exact duplicate detection against a brute-force reference, across chunks and runs."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csvbridge import duplicates
from csvbridge.duplicates import DuplicateIndex, fingerprints, unpack
from csvbridge.model import LINE_COL, ROW_COL, SOURCE_COL


def _table(texts: list[str], start_line: int) -> pa.Table:
    n = len(texts)
    return pa.table(
        {
            "description": pa.array(texts, pa.string()),
            SOURCE_COL: pa.array(np.zeros(n, dtype=np.int32)),
            LINE_COL: pa.array(np.arange(start_line, start_line + n, dtype=np.int64)),
            ROW_COL: pa.array(np.arange(n, dtype=np.int64)),
        }
    )


@settings(max_examples=150, deadline=None)
@given(
    values=st.lists(st.sampled_from(["a", "b", "c", "d", "e", "f", "A ", " b"]), max_size=120),
    chunk=st.integers(1, 17),
)
def test_index_matches_brute_force(values: list[str], chunk: int) -> None:
    old = duplicates.MAX_RUN
    duplicates.MAX_RUN = 8  # force many runs and capped merges
    try:
        index = DuplicateIndex()
        first_line: dict[str, int] = {}
        for start in range(0, len(values), chunk):
            part = values[start : start + chunk]
            got = index.check(_table(part, start + 2), ("description",))
            for i, v in enumerate(part):
                key = v.strip().lower()  # text compares case- and space-insensitively
                line = start + 2 + i
                if key in first_line:
                    assert got[i] >= 0 and unpack(int(got[i])) == (0, first_line[key])
                else:
                    assert got[i] == -1
                    first_line[key] = line
        assert len(index) == len(first_line)
    finally:
        duplicates.MAX_RUN = old


def test_fingerprint_treats_nulls_and_empty_text_apart() -> None:
    t = pa.table({"description": pa.array([None, "", "x"], pa.string())})
    fp = fingerprints(t, ("description",))
    assert len(set(fp.tolist())) == 3


@pytest.mark.parametrize("col", [pa.array([1, 1, 2], pa.int64()), pa.array([0, 0, 1], pa.int32())])
def test_fingerprint_exact_on_numbers(col: pa.Array) -> None:
    fp = fingerprints(pa.table({"amount": col}), ("amount",))
    assert fp[0] == fp[1] != fp[2]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 3), st.sampled_from(["a", "b"])), max_size=30),
    st.integers(1, 7),
)
def test_one_file_with_real_repeats_needs_no_batch_index(
    rows: list[tuple[int, str]], chunk: int
) -> None:
    """One input whose identical rows are real: what the stage flags and holds is what it
    flags and holds with the batch index consulted (identities in one file all differ), and
    the index stays empty."""
    import datetime as dt

    from csvbridge.dedup import DuplicateStage
    from csvbridge.model import LINE_COL, ROW_COL, SOURCE_COL

    def table(part: list[tuple[int, str]], start: int) -> pa.Table:
        n = len(part)
        return pa.table(
            {
                "date": pa.array([dt.date(2025, 1, 2)] * n, pa.date32()),
                "amount": pa.array([a for a, _ in part], pa.int64()),
                "description": pa.array([d for _, d in part]),
                SOURCE_COL: pa.array([0] * n, pa.int32()),
                LINE_COL: pa.array(range(start, start + n), pa.int64()),
                ROW_COL: pa.array(range(start, start + n), pa.int64()),
            }
        )

    def run(lone: bool) -> tuple[list[list[bool]], int]:
        stage = DuplicateStage(
            fields=("date", "amount", "description"),
            hold_back=True,
            count_occurrences=True,
            sources=["a.csv"],
            lone=lone,
        )
        stage.start_file()
        out = []
        for s in range(0, len(rows), chunk):
            flagged, held, _ = stage.apply(table(rows[s : s + chunk], s))
            out.append(flagged.tolist() + held.tolist())
        return out, len(stage.index)

    got, entries = run(lone=True)
    want, _ = run(lone=False)
    assert got == want and entries == 0
