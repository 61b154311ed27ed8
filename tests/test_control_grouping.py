"""Control totals group records with numpy (not pyarrow's group_by, whose Acero engine costs
~60 ms of import on every run): the totals must equal a row-by-row count with Python ints."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from csvbridge.model import SOURCE_COL
from csvbridge.reports.control import ControlTotals

SOURCES = ["a.csv", "b.csv"]

row = st.fixed_dictionaries(
    {
        "account": st.one_of(st.none(), st.sampled_from(["", " ", "1234", " 1234 ", "x"])),
        "date": st.one_of(st.none(), st.dates(dt.date(2024, 11, 1), dt.date(2025, 2, 28))),
        "currency": st.one_of(st.none(), st.sampled_from(["GBP", "EUR", ""])),
        "amount": st.one_of(st.none(), st.integers(-(10**12), 10**12)),
        "source": st.integers(0, len(SOURCES) - 1),
        "held": st.booleans(),
    }
)


def _table(rows: list[dict[str, Any]]) -> pa.Table:
    return pa.table(
        {
            "account": pa.array([r["account"] for r in rows], pa.string()),
            "date": pa.array([r["date"] for r in rows], pa.date32()),
            "currency": pa.array([r["currency"] for r in rows], pa.string()),
            "amount": pa.array([r["amount"] for r in rows], pa.int64()),
            SOURCE_COL: pa.array([r["source"] for r in rows], pa.int32()),
        }
    )


def _by_hand(chunks: list[list[dict[str, Any]]]) -> dict[tuple[str, int, str], list[int]]:
    cells: dict[tuple[str, int, str], list[int]] = {}
    for r in (r for chunk in chunks for r in chunk):
        account = (r["account"] or "").strip() or SOURCES[r["source"]]
        period = r["date"].year * 100 + r["date"].month if r["date"] else 0
        value = r["amount"] or 0
        c = cells.setdefault((account, period, r["currency"] or ""), [0] * 6)
        c[0] += 1
        c[1] += max(value, 0)
        c[2] += max(-value, 0)
        c[3] += r["amount"] is None
        c[4] += r["held"]
        c[5] += value if r["held"] else 0
    return cells


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(row, min_size=0, max_size=40), min_size=1, max_size=3))
def test_control_totals_equal_a_count_by_hand(chunks: list[list[dict[str, Any]]]) -> None:
    ct = ControlTotals(SOURCES)
    for chunk in chunks:
        ct.add(_table(chunk), np.array([r["held"] for r in chunk], dtype=bool))
    got = {
        key: [c.rows, c.money_in, c.money_out, c.no_amount, c.held_rows, c.held_net]
        for key, c in ct._cells.items()
    }
    assert got == _by_hand(chunks)
