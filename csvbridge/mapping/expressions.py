"""Expressions in mappings: a small formula language that is safe by construction and
evaluated over whole columns at once.

Examples (in a mapping's YAML)::

    when: amount > 100 and description ~ "(?i)fee"
    expr: round(gross - fee, 2)
    expr: cents / 100
    expr: if(`Paid in` is empty, -number(`Paid out`), number(`Paid in`))
    expr: upper(trim(Reference)) & "-" & text(Date, 'YYYYMMDD')

Grammar (EBNF; keywords and function names are case-insensitive)::

    expr       = or ;
    or         = and { "or" and } ;
    and        = not { "and" not } ;
    not        = "not" not | comparison ;
    comparison = concat [ compop concat | ["not"] "in" list | "is" ["not"] "empty" ] ;
    compop     = "=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">=" | "~" ;
    concat     = sum { "&" sum } ;
    sum        = product { ("+" | "-") product } ;
    product    = unary { ("*" | "/") unary } ;
    unary      = ("-" | "+") unary | primary ;
    primary    = number | text | date | "true" | "false" | "null"
               | name | function "(" [ args ] ")" | "(" expr ")" ;
    args       = expr { "," expr } { "," keyword "=" expr } ;
    list       = "[" literal { "," literal } "]" ;
    number     = digits [ "." digits ] ;          (no exponent, at most 18 digits)
    text       = "'" { char | "''" } "'" | '"' { char | '""' } '"' ;   (no backslash escapes)
    date       = "date" text ;                    (date'2025-03-01')
    name       = letter { letter | digit | "_" } | "`" { char | "``" } "`" ;

Comparisons do not chain (``a < b < c`` is an error: write ``a < b and b < c``). ``×``,
``÷``, ``−``, ``≠``, ``≤`` and ``≥`` are accepted for ``*``, ``/``, ``-``, ``!=``, ``<=``, ``>=``.

Types: text, decimal (exact), date, bool, and null (an empty cell of a number or date column,
or the literal ``null``). A bare name reads a column (or a computed field the caller
provides); the caller's ``EvalContext`` says which columns are numbers or dates and how their
text is written. A text column next to a number is read as a number with the context's number
format (``Amount > 100`` compares numbers even when the cell is ``"1.234,50"``); next to a
date it is read with the context's date formats, and if there are none the expression is
refused (day and month are never guessed). Two texts compare as text (by code point).

Numbers are exact decimals of at most 18 digits. ``+ - *`` are exact; a result that would
need more than 18 digits keeps 18, rounding the last decimal half-even (ROUND_HALF_EVEN, as
Python's ``decimal``), and a result with more than 18 digits before the point is an overflow
error for that row. ``/`` is exact when the quotient fits in 18 digits (``cents / 100``),
otherwise it is rounded half-even to 18 digits, at most 18 decimals: write
``round(x / 3, 2)`` to get cents. Division by zero is an error for that row.
``date - date`` gives days; ``date + n`` and ``date - n`` move by whole days.

Null: arithmetic and comparisons with null give null, and a condition that is null counts as
false (``if``, ``when:``). ``and``/``or`` follow three-valued logic (``false and null`` is
false). Test emptiness with ``is empty`` (null, or text that is blank). ``&`` and
``concat()`` treat null as empty text.

Functions (``FUNCTION_HELP``): round, abs, min, max, coalesce, if, upper, lower, trim, substr,
replace, extract, len, concat, text, date, number. Regular expressions (``~``, replace,
extract) are RE2, run by Arrow: linear time, no backreferences, no lookaround; ``(?i)`` makes
them case-insensitive. Arguments that shape the work (places, positions, patterns, formats)
must be literals.

Safety: the text is read by a hand-written tokenizer and Pratt parser into a small tree; no
Python ``eval``/``exec``/``compile`` is ever used; there is no attribute access, indexing,
assignment or call outside the functions above. Limits: ``MAX_LENGTH`` characters,
``MAX_DEPTH`` levels, ``MAX_DIGITS`` digits per number, ``MAX_LIST`` list values, and
``MAX_TEXT_GROWTH`` (a text result is at most 64 times as long as the longest input cell, so
``x & x & x ...`` cannot blow a chunk up); no power operator. Bad syntax and type errors
raise ``ExpressionError`` (with the column and a caret) when the expression is parsed or
bound, before any data is read; bad data never raises: those rows come back null with a
``RowError``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from . import expr_decimal as dec
from .expr_ast import (
    FUNCTIONS,
    MAX_DEPTH,
    MAX_DIGITS,
    MAX_LENGTH,
    MAX_LIST,
    MAX_TEXT_GROWTH,
    ExpressionError,
    Name,
    Node,
    walk,
)
from .expr_eval import Binder, ColumnType, Env, EvalContext
from .expr_parser import parse_node
from .expr_values import RowError, Ty, V, to_arrow

__all__ = [
    "FUNCTIONS",
    "FUNCTION_HELP",
    "MAX_DEPTH",
    "MAX_DIGITS",
    "MAX_LENGTH",
    "MAX_LIST",
    "MAX_TEXT_GROWTH",
    "BoundExpression",
    "ColumnType",
    "EvalContext",
    "Expr",
    "ExpressionError",
    "Frame",
    "Result",
    "RowError",
    "Units",
    "bind",
    "check",
    "evaluate",
    "parse",
]

FUNCTION_HELP: dict[str, str] = {
    "round": "round(x, places=0): round half-even to 0..18 decimal places",
    "abs": "abs(x): the number without its sign",
    "min": "min(a, b, ...): the smallest number or earliest date; empty values are skipped",
    "max": "max(a, b, ...): the largest number or latest date; empty values are skipped",
    "coalesce": "coalesce(a, b, ...): the first value that is not empty",
    "if": "if(condition, then, else): 'else' also when the condition is null",
    "upper": "upper(text)",
    "lower": "lower(text)",
    "trim": "trim(text): without leading and trailing spaces",
    "substr": "substr(text, start, length?): characters from start (1 is the first)",
    "replace": "replace(text, 'regex', 'replacement'): every match; \\1 is the first group",
    "extract": "extract(text, 'regex', group=0): the match (or a group of it), empty if none",
    "len": "len(text): number of characters",
    "concat": "concat(a, b, ...): texts joined; the same as a & b & ...",
    "text": "text(x, places | 'DD/MM/YYYY'?): a number or date as text",
    "date": "date(text, 'DD/MM/YYYY', ...): text read as a date with these formats, in "
    "order; with the mapping's timezone:, a date-time with a UTC offset is the date of that "
    "instant there, as in a date field (one without an offset stays as written)",
    "number": "number(text, decimal=',', thousands='.'): text read as a number",
}
assert set(FUNCTION_HELP) == set(FUNCTIONS)


@dataclass(frozen=True)
class Expr:
    """A parsed expression: the source text and its syntax tree."""

    text: str
    root: Node

    def columns(self) -> set[str]:
        """The names the expression reads (columns or computed fields), as written (backtick
        names without their backticks)."""
        return {n.name for n in walk(self.root) if isinstance(n, Name)}

    def __str__(self) -> str:
        return self.text


def parse(text: str) -> Expr:
    """Parse an expression; ExpressionError (with column and caret) when it is not valid."""
    return Expr(text, parse_node(text))


@dataclass(frozen=True)
class Units:
    """A decimal result as whole multiples of 10**-exponent (e.g. money in minor units)."""

    units: npt.NDArray[np.int64]
    ok: npt.NDArray[np.bool_]
    too_precise: npt.NDArray[np.bool_]  # more decimals than the exponent allows: never rounded
    too_large: npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Result:
    """One chunk's values. ``values`` is string, decimal128(38, S), date32, bool or null
    typed; rows in any error are null. ``type`` is text/decimal/date/bool/null.

    For decimals S is the largest scale in this chunk, so it can differ between chunks:
    cast to one decimal type, or use ``to_units`` (exact, per-row exponents) for money.
    ``errors`` hold one entry per reason, each with its row mask."""

    values: pa.Array
    type: str
    errors: tuple[RowError, ...]
    coefficients: npt.NDArray[np.int64] | None = None  # decimal: value = c / 10**scale
    scales: npt.NDArray[np.int64] | None = None

    def error_mask(self) -> npt.NDArray[np.bool_]:
        """Rows with at least one error."""
        out = np.zeros(len(self.values), dtype=bool)
        for e in self.errors:
            out |= e.mask
        return out

    def to_units(self, exponent: int | npt.NDArray[np.int64]) -> Units:
        """Exact conversion of a decimal result to int64 units of 10**-exponent (one exponent,
        or one per row as for mixed currencies). Rows with more decimals are flagged, never
        rounded: round() in the expression says how to round."""
        if self.coefficients is None or self.scales is None:
            raise TypeError(f"to_units needs a decimal result, not {self.type}")
        n = len(self.coefficients)
        exp = np.broadcast_to(np.asarray(exponent, dtype=np.int64), (n,))
        units, precise, large = dec.to_units(self.coefficients, self.scales, exp)
        valid = np.asarray(self.values.is_valid(), dtype=bool)
        return Units(units, valid & ~precise & ~large, valid & precise, valid & large)


class Frame:
    """One chunk's columns, shared by several expressions so that a column read as a number
    or a date is parsed once."""

    def __init__(
        self, columns: Mapping[str, pa.Array | pa.ChunkedArray], num_rows: int | None = None
    ) -> None:
        if num_rows is None:
            if not columns:
                raise ValueError("num_rows is needed when there are no columns")
            num_rows = len(next(iter(columns.values())))
        self.columns = columns
        self.env = Env(columns, num_rows)

    @property
    def num_rows(self) -> int:
        return self.env.n


@dataclass(frozen=True)
class BoundExpression:
    """An expression type-checked against a context: its result ``type`` is known, and
    ``run`` evaluates it over one chunk."""

    expr: Expr
    type: str
    _run: Callable[[Env], V]

    def run(
        self,
        columns: Mapping[str, pa.Array | pa.ChunkedArray] | Frame,
        num_rows: int | None = None,
    ) -> Result:
        frame = columns if isinstance(columns, Frame) else Frame(columns, num_rows)
        missing = self.expr.columns() - set(frame.columns)
        if missing:
            node = next(
                n for n in walk(self.expr.root) if isinstance(n, Name) and n.name in missing
            )
            raise ExpressionError(
                f"there is no column or field named '{node.name}'",
                self.expr.text,
                node.start,
                node.end,
            )
        return _result(self._run(frame.env))


def bind(
    expr: Expr | str,
    context: EvalContext | None = None,
    column_types: Mapping[str, pa.DataType] | None = None,
) -> BoundExpression:
    """Type-check ``expr`` against ``context`` (and, if given, the Arrow types of the columns
    it will read). Raises ExpressionError for type errors; the result runs per chunk."""
    e = parse(expr) if isinstance(expr, str) else expr
    ctx = context or EvalContext()
    types = None
    if column_types is not None:
        types = {k: v for k, v in column_types.items() if k in e.columns()}
    b = Binder(e.text, ctx, types).bind(e.root)
    return BoundExpression(e, b.ty.value, b.run)


def check(expr: Expr | str, context: EvalContext | None = None) -> str:
    """The result type (text/decimal/date/bool/null) of ``expr``, or ExpressionError: for
    validating a mapping before any file is read."""
    return bind(expr, context).type


_CACHE: dict[tuple[object, ...], BoundExpression] = {}


def evaluate(
    expr: Expr | str,
    columns: Mapping[str, pa.Array | pa.ChunkedArray] | Frame,
    context: EvalContext | None = None,
    num_rows: int | None = None,
) -> Result:
    """Evaluate ``expr`` over one chunk: the values and the rows that failed (with reasons).
    Never raises for bad data; raises ExpressionError for bad syntax, types or names."""
    e = parse(expr) if isinstance(expr, str) else expr
    ctx = context or EvalContext()
    frame = columns if isinstance(columns, Frame) else Frame(columns, num_rows)
    types = {k: frame.columns[k].type for k in e.columns() if k in frame.columns}
    key = (e, ctx.key(), tuple(sorted((k, str(t)) for k, t in types.items())))
    bound = _CACHE.get(key)
    if bound is None:
        missing = e.columns() - set(types)
        if missing:
            bound = bind(e, ctx, {**types, **{m: pa.string() for m in missing}})
            return bound.run(frame)  # raises for the missing name, with its position
        bound = bind(e, ctx, types)
        if len(_CACHE) > 512:
            _CACHE.clear()
        _CACHE[key] = bound
    return bound.run(frame)


def _result(v: V) -> Result:
    merged: dict[tuple[object, ...], RowError] = {}
    for err in v.errors:
        k = (err.rule, err.message, err.column, id(err.values))
        old = merged.get(k)
        merged[k] = (
            err
            if old is None
            else RowError(old.mask | err.mask, err.rule, err.message, err.column, err.values)
        )
    values = to_arrow(v)
    if v.ty is Ty.DECIMAL:
        return Result(values, v.ty.value, tuple(merged.values()), v.nums(), v.scales())
    return Result(values, v.ty.value, tuple(merged.values()))
