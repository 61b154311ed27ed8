"""Type checking and vectorised evaluation of expression trees.

``Binder`` walks the AST once per (expression, typing context) and returns a ``Bound``: the
static result type and a closure that evaluates the tree over one chunk of columns. Every
type error is found here, before any data is read, as an ExpressionError with a position.
At run time nothing raises for bad data: rows that fail carry a RowError and become null.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..money import NumberFormat
from . import expr_ops as ops
from .expr_ast import (
    Binary,
    BoolLit,
    Call,
    DateLit,
    ExpressionError,
    InList,
    IsEmpty,
    Name,
    Node,
    NullLit,
    NumberLit,
    TextLit,
    Unary,
)
from .expr_context import (
    ARTICLE,
    Bound,
    ColumnType,
    Env,
    EvalContext,
    arrow_kind,
    const_text,
    hint,
    load_column,
    ones,
)
from .expr_functions import bind_call
from .expr_text import text_to_date, text_to_decimal, to_text
from .expr_values import Ty, V, make_bool, make_date, make_decimal, null_of

__all__ = ["Binder", "Bound", "ColumnType", "Env", "EvalContext"]


class Binder:
    """Type-checks an AST against a context and builds its evaluator."""

    def __init__(
        self, text: str, ctx: EvalContext, array_types: Mapping[str, pa.DataType] | None = None
    ) -> None:
        self.text = text
        self.ctx = ctx
        self.array_types = array_types

    # -- helpers ------------------------------------------------------------------------------
    def err(self, node: Node, reason: str, hint: str = "") -> ExpressionError:
        return ExpressionError(reason, self.text, node.start, node.end, hint)

    def show(self, node: Node) -> str:
        s = self.text[node.start : node.end].strip()
        return s if len(s) <= 40 else s[:37] + "..."

    def label(self, node: Node) -> str:
        return node.name if isinstance(node, Name) else self.show(node)

    def bind(self, node: Node) -> Bound:
        b = self._bind(node)
        run = b.run

        def settled(env: Env) -> V:
            v = run(env)
            if v.errors:  # rows with an error are null, whatever a combinator made of them
                bad = np.logical_or.reduce([e.mask for e in v.errors])
                if (bad & v.valid).any():
                    v = replace(v, valid=v.valid & ~bad, errors=list(v.errors))
                    v._sanitise()
            return v

        return Bound(b.ty, settled, node)

    def _bind(self, node: Node) -> Bound:
        if isinstance(node, NumberLit):
            c, s = node.coef, node.scale
            return Bound(
                Ty.DECIMAL,
                lambda env: make_decimal(
                    np.full(env.n, c, np.int64), np.full(env.n, s, np.int64), ones(env.n)
                ),
                node,
            )
        if isinstance(node, TextLit):
            value = node.value
            return Bound(Ty.TEXT, lambda env: const_text(value, env.n), node)
        if isinstance(node, DateLit):
            days = node.days
            return Bound(
                Ty.DATE, lambda env: make_date(np.full(env.n, days, np.int64), ones(env.n)), node
            )
        if isinstance(node, BoolLit):
            flag = node.value
            return Bound(Ty.BOOL, lambda env: make_bool(np.full(env.n, flag), ones(env.n)), node)
        if isinstance(node, NullLit):
            return Bound(Ty.NULL, lambda env: null_of(Ty.NULL, env.n), node)
        if isinstance(node, Name):
            return self.name(node)
        if isinstance(node, Unary):
            return ops.unary(self, node)
        if isinstance(node, Binary):
            if node.op in ("and", "or"):
                return ops.logical(self, node)
            if node.op in ("+", "-", "*", "/"):
                return ops.arithmetic(self, node)
            if node.op == "&":
                parts = [self.as_text(self.bind(node.left)), self.as_text(self.bind(node.right))]
                return Bound(Ty.TEXT, lambda env: ops.concat([p.run(env) for p in parts]), node)
            if node.op == "~":
                return ops.match(self, node)
            return ops.compare(self, node)
        if isinstance(node, InList):
            return ops.in_list(self, node)
        if isinstance(node, IsEmpty):
            return ops.is_empty(self, node)
        if isinstance(node, Call):
            return bind_call(self, node)
        raise AssertionError(f"unknown node {node!r}")  # pragma: no cover

    # -- coercions ----------------------------------------------------------------------------
    def number_format(self, node: Node) -> NumberFormat:
        if isinstance(node, Name):
            decl = self.ctx.columns.get(node.name)
            if decl is not None and decl.number_format is not None:
                return decl.number_format
        return self.ctx.number_format

    def date_formats(self, node: Node) -> tuple[str, ...]:
        if isinstance(node, Name):
            decl = self.ctx.columns.get(node.name)
            if decl is not None and decl.date_formats:
                return decl.date_formats
        return self.ctx.date_formats

    def coerce(self, b: Bound, want: Ty, why: str) -> Bound:
        """``b`` as type ``want``: null becomes a typed null, text is read as a number or date
        with the context's formats; anything else is a type error at ``b``'s position."""
        if b.ty is want:
            return b
        if b.ty is Ty.NULL:
            return Bound(want, lambda env: null_of(want, env.n), b.node)
        if b.ty is Ty.TEXT and want is Ty.DECIMAL:
            if isinstance(b.node, Name):
                return self.load(b.node, Ty.DECIMAL)
            fmt, label, run = self.number_format(b.node), self.label(b.node), b.run
            if isinstance(b.node, TextLit):
                self.literal_check(b.node, text_to_decimal(const_text(b.node.value, 1), fmt, label))
            return Bound(want, lambda env: text_to_decimal(run(env), fmt, label), b.node)
        if b.ty is Ty.TEXT and want is Ty.DATE:
            if not self.date_formats(b.node):
                raise self.err(
                    b.node,
                    f"{why}: {self.show(b.node)} is text, and the mapping does not say how its "
                    "dates are written",
                    hint=f"write date({self.show(b.node)}, 'DD/MM/YYYY') with the file's own "
                    "order; csvbridge never guesses day and month",
                )
            if isinstance(b.node, Name):
                return self.load(b.node, Ty.DATE)
            fmts, label, run = self.date_formats(b.node), self.label(b.node), b.run
            tz = self.ctx.timezone
            if isinstance(b.node, TextLit):
                self.literal_check(b.node, text_to_date(const_text(b.node.value, 1), fmts, label))
            return Bound(want, lambda env: text_to_date(run(env), fmts, label, tz), b.node)
        raise self.err(
            b.node,
            f"{why}: expected {ARTICLE[want]}, but {self.show(b.node)} is {ARTICLE[b.ty]}",
            hint=hint(b.ty, want),
        )

    def literal_check(self, node: TextLit, v: V) -> None:
        """A quoted literal used as a number or date must read as one: refuse it now rather
        than fail every row."""
        if v.errors:
            raise self.err(
                node,
                v.errors[0].message,
                hint="numbers and dates are written without quotes: 100, date'2025-03-01'",
            )

    def as_text(self, b: Bound) -> Bound:
        if b.ty is Ty.TEXT:
            return b
        run = b.run
        return Bound(Ty.TEXT, lambda env: to_text(run(env)), b.node)

    def unify(self, bs: list[Bound], why: str, text_ok: bool = True) -> tuple[Ty, list[Bound]]:
        """One type for several values (if branches, coalesce, min/max): null fits anything;
        text next to numbers (or dates) is read as numbers (or dates)."""
        kinds = {b.ty for b in bs} - {Ty.NULL}
        if not kinds:
            return Ty.NULL, bs
        if len(kinds) == 1:
            (ty,) = kinds
            if ty is Ty.TEXT and not text_ok:
                ty = Ty.DECIMAL
        elif kinds <= {Ty.TEXT, Ty.DECIMAL}:
            ty = Ty.DECIMAL
        elif kinds <= {Ty.TEXT, Ty.DATE}:
            ty = Ty.DATE
        else:
            a, b = sorted(kinds, key=str)[:2]
            first = next(x for x in bs if x.ty is b)
            raise self.err(first.node, f"{why}: cannot mix {ARTICLE[a]} and {ARTICLE[b]}")
        return ty, [self.coerce(b, ty, why) for b in bs]

    # -- names --------------------------------------------------------------------------------
    def name(self, node: Name) -> Bound:
        decl = self.ctx.columns.get(node.name)
        if self.array_types is not None and node.name not in self.array_types:
            raise self.err(
                node,
                f"there is no column or field named '{node.name}'",
                hint="names are the file's column headers; put names with spaces in "
                "backticks: `Paid in`",
            )
        base = None
        if self.array_types is not None:
            base = arrow_kind(self.array_types[node.name])
        if decl is not None:
            want = Ty(decl.kind)
            if base is not None and base not in (want, Ty.TEXT, Ty.NULL):
                raise TypeError(
                    f"column {node.name!r} is declared {decl.kind} but holds {base.value}"
                )
            if want is Ty.DATE and (base in (None, Ty.TEXT)) and not self.date_formats(node):
                raise self.err(node, f"'{node.name}' is declared a date without date formats")
        else:
            want = base if base is not None else Ty.TEXT
        return self.load(node, want)

    def load(self, node: Name, want: Ty) -> Bound:
        name = node.name
        fmt = self.number_format(node)
        fmts = self.date_formats(node)
        tz = self.ctx.timezone

        def run(env: Env) -> V:
            key = (name, want, fmt, fmts)
            hit = env.cache.get(key)
            if hit is None:
                hit = env.cache[key] = load_column(env.column(name), name, want, fmt, fmts, tz)
            return hit

        return Bound(want, run, node)

    # -- operators ----------------------------------------------------------------------------

    def condition(self, b: Bound, where: str) -> Bound:
        if b.ty in (Ty.BOOL, Ty.NULL):
            return self.coerce(b, Ty.BOOL, where)
        raise self.err(
            b.node,
            f"{where} needs a true/false condition, but {self.show(b.node)} is {ARTICLE[b.ty]}",
            hint=f"compare it with something, e.g. {self.show(b.node)} = 'yes' or "
            f"{self.show(b.node)} is not empty",
        )

    def always_null(self, node: Node, *parts: Bound) -> Bound:
        """A comparison with null: null on every row (the operands' errors still count)."""

        def run(env: Env) -> V:
            none = np.zeros(env.n, dtype=bool)
            return make_bool(none, none, [e for p in parts for e in p.run(env).errors])

        return Bound(Ty.BOOL, run, node)

    def regex(self, node: TextLit, rewrite: str | None = None) -> str:
        """Check a regular expression with RE2 (Arrow's engine) before any data is read."""
        try:
            if rewrite is None:
                pc.match_substring_regex(pa.array([""]), node.value)
            else:
                pc.replace_substring_regex(pa.array([""]), node.value, rewrite)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
            raise self.err(
                node,
                f"this regular expression cannot be used: {str(e).splitlines()[0]}",
                hint="regular expressions follow RE2 syntax (no backreferences or lookaround)",
            ) from None
        return node.value
