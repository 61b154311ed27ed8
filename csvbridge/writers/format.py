"""Turning canonical columns into the text a target expects: dates in the target's order,
money as plain fixed decimals, text on one line and safe to open in a spreadsheet."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..dates import format_dates
from ..model import FieldType, Kind
from ..money import CURRENCY_EXPONENTS, format_minor
from .base import guard_formula, single_line

DATE_ORDERS = {"dmy": "DD/MM/YYYY", "mdy": "MM/DD/YYYY", "ymd": "YYYY-MM-DD", "iso": "YYYY-MM-DD"}


def column(records: pa.Table, name: str) -> pa.Array:
    """One column as a single array."""
    return records.column(name).combine_chunks()


def exponents(records: pa.Table) -> np.ndarray:
    """Each record's currency exponent (2 where the kind has no currency)."""
    if "currency" not in records.column_names:
        return np.full(records.num_rows, 2, dtype=np.int64)
    codes = pc.fill_null(column(records, "currency"), "")
    uniq = pc.unique(codes)
    exp = np.array([CURRENCY_EXPONENTS.get(c, 2) for c in uniq.to_pylist()], dtype=np.int64)
    return exp[np.asarray(pc.index_in(codes, value_set=uniq), dtype=np.int64)]


def money(records: pa.Table, name: str, *, blank_zero: bool = False) -> pa.Array:
    """A money field as ``-1234.50`` (the currency's decimals); zero blank if asked."""
    col = column(records, name)
    text = format_minor(col, exponents(records))
    if blank_zero:
        text = pc.if_else(pc.equal(pc.fill_null(col, 0), 0), "", text)
    return text


def date(records: pa.Table, name: str, order: str) -> pa.Array:
    """A date field in the target's order."""
    return format_dates(column(records, name), DATE_ORDERS[order])


def text(records: pa.Table, name: str, *, guard: bool, one_line: bool = True) -> pa.Array:
    """A text field, optionally forced onto one line and guarded against formula injection."""
    col = pc.fill_null(column(records, name), "")
    if one_line:
        col = single_line(col)
    return guard_formula(col) if guard else col


def canonical(records: pa.Table, kind: Kind, name: str, *, guard: bool) -> pa.Array:
    """Any canonical field in its canonical text form (ISO dates, plain decimals)."""
    ftype = kind.field(name).type
    if ftype is FieldType.DATE:
        return date(records, name, "iso")
    if ftype is FieldType.MONEY:
        return money(records, name)
    if ftype is FieldType.TEXT:
        return text(records, name, guard=guard, one_line=False)
    return pc.fill_null(column(records, name), "")
