"""The typing context of expressions (how columns are read), one chunk's columns while
evaluating, and the typed node (``Bound``) that the binder produces."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..money import NumberFormat
from .expr_ast import DateLit, Node, NumberLit, TextLit
from .expr_text import text_to_date, text_to_decimal, to_text
from .expr_values import (
    Mask,
    Ty,
    V,
    days_from_arrow,
    decimal_from_arrow,
    make_bool,
    make_text,
    null_of,
)

MIN_DAY = -719162  # 0001-01-01
MAX_DAY = 2932896  # 9999-12-31


@dataclass(frozen=True)
class ColumnType:
    """How to read one column (or computed field): its kind, and for text that is read as a
    number or a date, the number format or date formats (default: the context's)."""

    kind: Literal["text", "decimal", "date", "bool"] = "text"
    number_format: NumberFormat | None = None
    date_formats: tuple[str, ...] = ()


@dataclass(frozen=True)
class EvalContext:
    """The typing context: how text becomes numbers and dates.

    ``columns`` declares names whose cells are numbers, dates or booleans; any other text
    column stays text, and is read with ``number_format`` / ``date_formats`` where an operator
    needs a number or a date (``Amount > 100``). With no ``date_formats``, text is never
    guessed to be a date: write ``date(x, 'DD/MM/YYYY')``."""

    number_format: NumberFormat = field(default_factory=NumberFormat)
    date_formats: tuple[str, ...] = ()
    columns: Mapping[str, ColumnType] = field(default_factory=dict)
    timezone: str | None = None  # the mapping's timezone: where dates with an offset land

    def key(self) -> tuple[object, ...]:
        cols = tuple(sorted(self.columns.items()))
        return (self.number_format, self.date_formats, cols, self.timezone)


class Env:
    """One chunk's columns while evaluating, with typed columns cached by how they were read."""

    def __init__(self, arrays: Mapping[str, pa.Array | pa.ChunkedArray], n: int) -> None:
        self.arrays = arrays
        self.n = n
        self.cache: dict[tuple[object, ...], V] = {}

    def column(self, name: str) -> pa.Array:
        arr = self.arrays[name]
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        if len(arr) != self.n:
            raise ValueError(f"column {name!r} has {len(arr)} rows, expected {self.n}")
        return arr


Run = Callable[[Env], V]


@dataclass(frozen=True)
class Bound:
    """A type-checked node: its static type and how to evaluate it."""

    ty: Ty
    run: Run
    node: Node


ARTICLE = {
    Ty.TEXT: "text",
    Ty.DECIMAL: "a number",
    Ty.DATE: "a date",
    Ty.BOOL: "a true/false condition",
    Ty.NULL: "null",
}


def arrow_kind(t: pa.DataType) -> Ty:
    """The expression type of an Arrow column type."""
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return Ty.TEXT
    if pa.types.is_decimal(t) or pa.types.is_integer(t):
        return Ty.DECIMAL
    if pa.types.is_date(t):
        return Ty.DATE
    if pa.types.is_boolean(t):
        return Ty.BOOL
    if pa.types.is_null(t):
        return Ty.NULL
    raise TypeError(
        f"a {t} column cannot be used in expressions (text, decimal, integer, date or bool; "
        "never float: money never passes through a float)"
    )


def ones(n: int) -> Mask:
    return np.ones(n, dtype=bool)


def const_text(value: str, n: int) -> V:
    return make_text(pa.nulls(n, pa.string()).fill_null(value), ones(n))


def hint(have: Ty, want: Ty) -> str:
    if have is Ty.TEXT and want is Ty.DECIMAL:
        return "numbers are written without quotes: 100, not '100'"
    if want is Ty.TEXT:
        return "text goes in quotes: 'abc'; to turn a value into text use text(x)"
    if want is Ty.DATE:
        return "dates are written date'2025-03-01'"
    return ""


def lit_type(node: Node) -> Ty:
    if isinstance(node, NumberLit):
        return Ty.DECIMAL
    if isinstance(node, TextLit):
        return Ty.TEXT
    if isinstance(node, DateLit):
        return Ty.DATE
    return Ty.BOOL


def load_column(
    arr: pa.Array,
    name: str,
    want: Ty,
    fmt: NumberFormat,
    fmts: tuple[str, ...],
    timezone: str | None = None,
) -> V:
    """A column read as ``want`` (text read as dates moved to ``timezone``, see text_to_date)."""
    have = arrow_kind(arr.type)
    n = len(arr)
    if have is Ty.NULL:
        return null_of(want, n)
    if have is Ty.TEXT:
        v = make_text(arr, np.asarray(arr.is_valid(), dtype=bool))
        if want is Ty.DECIMAL:
            return text_to_decimal(v, fmt, name)
        if want is Ty.DATE:
            return text_to_date(v, fmts, name, timezone)
        if want is Ty.BOOL:
            raise TypeError(f"column {name!r} is declared bool but holds text")
        return v
    if have is Ty.DECIMAL:
        v = decimal_from_arrow(arr, name)
    elif have is Ty.DATE:
        v = days_from_arrow(arr)
    else:
        valid = np.asarray(arr.is_valid(), dtype=bool)
        v = make_bool(np.asarray(pc.fill_null(arr, False), dtype=bool), valid)
    if want is Ty.TEXT:
        return to_text(v)
    if want is not have:
        raise TypeError(f"column {name!r} holds {have.value}, not {want.value}")
    return v
