"""writers/prices.py computes the line prices column at a time: it must agree with
writers/checks.py's row-at-a-time Decimal versions on every input."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pyarrow as pa
from hypothesis import example, given, settings
from hypothesis import strategies as st

from csvbridge.writers.checks import fixed_decimal, line_prices
from csvbridge.writers.prices import fixed_decimal_column, line_prices_columns

CURRENCIES = ["GBP", "JPY", "KWD", "USD", None]  # 2, 0, 3, 2 decimals; None: no currency


def decimal_text(draw: st.DrawFn) -> str | None:
    kind = draw(st.sampled_from(["none", "empty", "small", "big", "odd"]))
    if kind == "none":
        return None
    if kind == "empty":
        return ""
    if kind == "odd":  # not plain decimal text: the slow path's business
        return draw(st.sampled_from(["1e3", "+2", "3.", ".5", " 4", "0012.50"]))
    digits = 20 if kind == "big" else 4
    whole = draw(st.integers(0, 10**digits))
    places = draw(st.integers(0, 8 if kind == "big" else 6))
    frac = draw(st.integers(0, 10**places - 1)) if places else 0
    sign = draw(st.sampled_from(["", "", "-"]))
    return f"{sign}{whole}" + (f".{frac:0{places}d}" if places else "")


@st.composite
def lines(draw: st.DrawFn) -> pa.Table:
    n = draw(st.integers(0, 30))
    qty = [decimal_text(draw) for _ in range(n)]
    price = [decimal_text(draw) for _ in range(n)]
    cur = [draw(st.sampled_from(CURRENCIES)) for _ in range(n)]
    amount: list[int | None] = []
    for q, p, c in zip(qty, price, cur, strict=True):
        e = {"JPY": 0, "KWD": 3}.get(c or "", 2)
        try:  # near quantity × price, so that both right and wrong lines occur
            exact = int((Decimal(q or "1") * Decimal(p or "0")).scaleb(e))
        except ArithmeticError:
            exact = 0
        exact = max(min(exact, 2**62), -(2**62))
        amount.append(draw(st.sampled_from([exact, exact + 1, exact - 1, 0, None])))
    return pa.table(
        {
            "quantity": pa.array(qty, pa.string()),
            "unit_price": pa.array(price, pa.string()),
            "line_amount": pa.array(amount, pa.int64()),
            "currency": pa.array(cur, pa.string()),
        }
    )


@settings(max_examples=300, deadline=None)
@given(lines())
@example(
    pa.table(
        {
            "quantity": pa.array(["3", None, "", "0.5", "2"], pa.string()),
            "unit_price": pa.array(["25.00", "14.5", "3.33", "0.01", None], pa.string()),
            "line_amount": pa.array([7500, 1450, 333, 1, 1001], pa.int64()),
            "currency": pa.array(["GBP"] * 5, pa.string()),
        }
    )
)
def test_line_prices_columns_agree_with_line_prices(records: pa.Table) -> None:
    want_q, want_p, want_bad = line_prices(records)
    got_q, got_p, got_bad = line_prices_columns(records)
    assert got_q.to_pylist() == want_q
    assert got_p.to_pylist() == want_p
    assert got_bad.tolist() == want_bad.tolist()


def test_line_prices_columns_sees_a_wrong_line_and_a_half_penny() -> None:
    records = pa.table(
        {
            "quantity": pa.array(["3", "3", "1.5", "-1.5"], pa.string()),
            "unit_price": pa.array(["25", "25", "0.01", "0.01"], pa.string()),
            "line_amount": pa.array([7500, 7501, 2, -2], pa.int64()),  # 0.015 rounds half up
            "currency": pa.array(["GBP"] * 4, pa.string()),
        }
    )
    _, _, wrong = line_prices_columns(records)
    assert wrong.tolist() == [False, True, False, False]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.one_of(st.none(), st.builds(str, st.sampled_from(["", "1e3", "12.", "x"]))),
            st.integers(0, 4),
        )
        | st.tuples(
            st.builds(
                lambda s, w, f: f"{s}{w}" + (f".{f}" if f else ""),
                st.sampled_from(["", "-"]),
                st.integers(0, 10**6),
                st.sampled_from(["", "5", "25", "000001", "1234567"]),
            ),
            st.integers(0, 4),
        ),
        max_size=20,
    )
)
def test_fixed_decimal_column_agrees_with_fixed_decimal(rows: list[tuple[str | None, int]]) -> None:
    values = [v for v, _ in rows]
    places = np.array([p for _, p in rows], dtype=np.int64)
    want = fixed_decimal(values, places).to_pylist()
    assert fixed_decimal_column(pa.array(values, pa.string()), places).to_pylist() == want
