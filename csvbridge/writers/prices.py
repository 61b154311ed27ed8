"""Invoice and bill line prices, column at a time: ``checks.line_prices`` and
``checks.fixed_decimal`` give the same results with a Python Decimal per row, which was a
tenth of an orders conversion's CPU. Here the usual rows (plain decimals small enough for
exact int64 arithmetic) are worked out with numpy; any other row (no unit price, long or
unusual numbers) goes through ``checks.line_prices`` itself, so both always agree."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from . import format as fmt
from .checks import fixed_decimal, line_prices

_NUMBER = r"^(?P<sign>-?)(?P<int>[0-9]+)(?:\.(?P<frac>[0-9]+))?$"
_PLAIN = r"^-?[0-9]+(\.[0-9]+)?$"
_MAX_DIGITS = 18  # 10**18 < 2**63: a product of numbers with 18 digits between them fits
_POW10 = np.array([10**i for i in range(_MAX_DIGITS + 1)], dtype=np.int64)


def _digits(text: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(ok, value as an integer of all its digits, number of digits, decimal places) for plain
    decimal text; ok is False for anything else or for more than 18 digits."""
    text = pc.fill_null(text, "")
    ok = np.asarray(pc.match_substring_regex(text, _PLAIN), dtype=bool)
    dot = np.asarray(pc.find_substring(text, "."), dtype=np.int64)
    length = np.asarray(pc.binary_length(text), dtype=np.int64)  # ASCII where ok
    negative = np.asarray(pc.starts_with(text, "-"), dtype=bool)
    has_dot = dot >= 0
    places = np.where(has_dot & ok, length - dot - 1, 0)
    ndigits = np.where(ok, length - has_dot - negative, 0)
    ok &= ndigits <= _MAX_DIGITS
    joined = pc.if_else(pa.array(ok), pc.replace_substring(text, ".", "", max_replacements=1), "0")
    return ok, np.asarray(pc.cast(joined, pa.int64()), dtype=np.int64), ndigits, places


def line_prices_columns(
    records: pa.Table,
) -> tuple[pa.Array, pa.Array, npt.NDArray[np.bool_]]:
    """``checks.line_prices`` as columns: (quantity text, unit price text, wrong), where wrong
    marks lines whose quantity × price, rounded half-up to the currency's decimals, is not the
    line amount (or that have no exact unit price)."""
    n = records.num_rows
    qty = pc.fill_null(fmt.column(records, "quantity"), "")
    qty = pc.if_else(pc.equal(qty, ""), "1", qty)
    price = fmt.column(records, "unit_price")
    amount = np.asarray(pc.fill_null(fmt.column(records, "line_amount"), 0), dtype=np.int64)
    exps = np.asarray(fmt.exponents(records), dtype=np.int64)
    q_ok, q, q_digits, q_places = _digits(qty)
    p_ok, p, p_digits, p_places = _digits(price)
    places = q_places + p_places
    fast = q_ok & p_ok & (q_digits + p_digits <= _MAX_DIGITS) & (exps >= 0)
    fast &= (exps <= places) | (q_digits + p_digits + exps - places <= _MAX_DIGITS)
    product = np.where(fast, q, 0) * np.where(fast, p, 0)  # exact: 18 digits between them
    up = np.clip(exps - places, 0, _MAX_DIGITS)  # more decimals wanted than the product has
    down = np.clip(places - exps, 0, _MAX_DIGITS)
    scaled = product * _POW10[up]
    mag = np.abs(scaled)
    div = _POW10[down]
    whole, rest = np.divmod(mag, div)
    rounded = np.where(rest * 2 >= div, whole + 1, whole)  # half-up: away from zero
    made = np.where(scaled < 0, -rounded, rounded)
    wrong = np.where(fast, made != amount, False)
    slow = np.flatnonzero(~fast)
    if not len(slow):
        return qty, price, wrong
    s_qty, s_price, s_wrong = line_prices(records.take(pa.array(slow)))
    wrong[slow] = s_wrong
    qty = _put(qty, slow, s_qty, n)
    price = _put(pc.fill_null(price, ""), slow, s_price, n)
    return qty, price, wrong


def _put(col: pa.Array, at: npt.NDArray[np.intp], values: list[str], n: int) -> pa.Array:
    """``col`` with the rows ``at`` replaced by ``values``."""
    where = np.full(n, -1, dtype=np.int64)
    where[at] = np.arange(len(at))
    take = pa.array(np.maximum(where, 0))
    replaced = pc.take(pa.array(values, pa.string()), take) if len(values) else col
    return pc.if_else(pa.array(where >= 0), replaced, col)


def fixed_decimal_column(values: pa.Array, places: npt.NDArray[np.int64]) -> pa.Array:
    """``checks.fixed_decimal`` as a column: exact decimal text with at least ``places``
    decimals ("120" -> "120.00"); never rounds."""
    values = pc.cast(values, pa.string())
    places = np.asarray(places, dtype=np.int64)
    text = pc.fill_null(values, "")
    empty = pc.equal(text, "")
    plain = pc.or_(empty, pc.match_substring_regex(text, _PLAIN))
    if not pc.all(plain).as_py() or (places < 0).any():
        return fixed_decimal(values.to_pylist(), places)
    parts = pc.extract_regex(pc.if_else(empty, "0", text), _NUMBER)
    whole = pc.binary_join_element_wise(
        pc.struct_field(parts, "sign"), pc.struct_field(parts, "int"), ""
    )
    frac = pc.fill_null(pc.struct_field(parts, "frac"), "")
    padded = frac
    for p in np.unique(places):
        if p > 0:
            rows = pa.array(places == p)
            padded = pc.if_else(rows, pc.utf8_rpad(frac, int(p), "0"), padded)
    no_frac = np.asarray(pc.equal(frac, ""), dtype=bool) & (places == 0)
    out = pc.if_else(pa.array(no_frac), whole, pc.binary_join_element_wise(whole, padded, "."))
    return pc.if_else(empty, values, out)
