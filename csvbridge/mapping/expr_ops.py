"""The operators of the expression language: type rules and vectorised bodies for unary
minus and not, and/or, arithmetic (numbers and dates), comparisons, ~, in and is empty."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from . import expr_decimal as dec
from .expr_ast import Binary, BoolLit, DateLit, InList, IsEmpty, Node, NumberLit, TextLit, Unary
from .expr_context import ARTICLE, MAX_DAY, MIN_DAY, Bound, Env, hint, lit_type, ones
from .expr_values import (
    Mask,
    Ty,
    V,
    errors_where,
    make_bool,
    make_date,
    make_decimal,
    make_text,
)

if TYPE_CHECKING:
    from .expr_eval import Binder


def unary(bd: Binder, node: Unary) -> Bound:
    if node.op == "not":
        b = bd.condition(bd.bind(node.operand), "'not'")
        run = b.run

        def negate(env: Env) -> V:
            v = run(env)
            return make_bool(~v.flags(), v.valid, v.errors)

        return Bound(Ty.BOOL, negate, node)
    b = bd.coerce(bd.bind(node.operand), Ty.DECIMAL, "minus")
    run = b.run

    def minus(env: Env) -> V:
        v = run(env)
        return make_decimal(-v.nums(), v.scales(), v.valid, v.errors)

    return Bound(Ty.DECIMAL, minus, node)


def logical(bd: Binder, node: Binary) -> Bound:
    lb = bd.condition(bd.bind(node.left), f"'{node.op}'")
    rb = bd.condition(bd.bind(node.right), f"'{node.op}'")
    is_and = node.op == "and"

    def run(env: Env) -> V:
        a, b = lb.run(env), rb.run(env)
        a_true, a_false = a.valid & a.flags(), a.valid & ~a.flags()
        b_true, b_false = b.valid & b.flags(), b.valid & ~b.flags()
        if is_and:  # false and anything is false: the right side's errors do not count
            true, false = a_true & b_true, a_false | b_false
            errs = a.errors + errors_where(b.errors, ~a_false)
        else:
            true, false = a_true | b_true, a_false & b_false
            errs = a.errors + errors_where(b.errors, ~a_true)
        return make_bool(true, true | false, errs)

    return Bound(Ty.BOOL, run, node)


def arithmetic(bd: Binder, node: Binary) -> Bound:
    op = node.op
    lb, rb = bd.bind(node.left), bd.bind(node.right)
    what = f"'{op}'"
    if op in ("+", "-") and Ty.DATE in (lb.ty, rb.ty):
        return date_arithmetic(bd, node, lb, rb)
    lb, rb = bd.coerce(lb, Ty.DECIMAL, what), bd.coerce(rb, Ty.DECIMAL, what)
    shown = bd.show(node)

    def run(env: Env) -> V:
        a, b = lb.run(env), rb.run(env)
        ac, as_, bc, bs = a.nums(), a.scales(), b.nums(), b.scales()
        valid = a.valid & b.valid
        zero = None
        if op == "+":
            c, s, over = dec.add(ac, as_, bc, bs)
        elif op == "-":
            c, s, over = dec.add(ac, as_, -bc, bs)
        elif op == "*":
            c, s, over = dec.mul(ac, as_, bc, bs)
        else:
            c, s, over, zero = dec.div(ac, as_, bc, bs)
        out = make_decimal(c, s, valid, a.errors + b.errors)
        if zero is not None:
            out.fail(
                valid & zero,
                "expression-division-by-zero",
                f"division by zero in {shown}",
                shown,
            )
        out.fail(
            valid & over,
            "expression-overflow",
            f"{shown} is too large (more than {dec.DIGITS} digits before the point)",
            shown,
        )
        return out

    return Bound(Ty.DECIMAL, run, node)


def date_arithmetic(bd: Binder, node: Binary, lb: Bound, rb: Bound) -> Bound:
    op, shown = node.op, bd.show(node)
    if op == "-" and rb.ty is Ty.DATE:
        lb = bd.coerce(lb, Ty.DATE, "subtracting a date")

        def days_between(env: Env) -> V:
            a, b = lb.run(env), rb.run(env)
            valid = a.valid & b.valid
            return make_decimal(
                a.nums() - b.nums(), np.zeros(env.n, np.int64), valid, a.errors + b.errors
            )

        return Bound(Ty.DECIMAL, days_between, node)
    if rb.ty is Ty.TEXT and op == "-":
        raise bd.err(
            rb.node,
            f"say whether {bd.show(rb.node)} is a date or a number of days",
            hint="use date(x, 'DD/MM/YYYY') or number(x)",
        )
    date_b, days_b = (lb, rb) if lb.ty is Ty.DATE else (rb, lb)
    if days_b.ty is Ty.DATE:
        raise bd.err(node, "two dates cannot be added", hint="subtract them to get days")
    days_b = bd.coerce(days_b, Ty.DECIMAL, f"'{op}' with a date")
    sign = -1 if op == "-" else 1

    def shift(env: Env) -> V:
        d, k = date_b.run(env), days_b.run(env)
        whole, frac, _ = dec.to_units(k.nums(), k.scales(), np.zeros(env.n, np.int64))
        valid = d.valid & k.valid
        days = d.nums() + sign * np.where(np.abs(whole) < 10**7, whole, 0)
        out = make_date(days, valid, d.errors + k.errors)
        out.fail(valid & frac, "expression-days", f"{shown}: days must be whole", shown)
        out.fail(
            valid & ((days < MIN_DAY) | (days > MAX_DAY) | (np.abs(whole) >= 10**7)),
            "date-out-of-range",
            f"{shown} is outside the years 1 to 9999",
            shown,
        )
        return out

    return Bound(Ty.DATE, shift, node)


def compare(bd: Binder, node: Binary) -> Bound:
    op = node.op
    lb, rb = bd.bind(node.left), bd.bind(node.right)
    why = f"'{op}'"
    kinds = {lb.ty, rb.ty}
    if Ty.NULL in kinds:
        return bd.always_null(node, lb, rb)
    if kinds == {Ty.BOOL}:
        if op not in ("=", "!="):
            raise bd.err(node, "true/false values can only be compared with = or !=")
        ty = Ty.BOOL
    elif len(kinds) == 1 and kinds <= {Ty.TEXT, Ty.DECIMAL, Ty.DATE}:
        (ty,) = kinds
    elif kinds == {Ty.TEXT, Ty.DECIMAL}:
        ty = Ty.DECIMAL
    elif kinds == {Ty.TEXT, Ty.DATE}:
        ty = Ty.DATE
    else:
        a, b = lb.ty, rb.ty
        raise bd.err(node, f"cannot compare {ARTICLE[a]} with {ARTICLE[b]}", hint=hint(b, a))
    lb, rb = bd.coerce(lb, ty, why), bd.coerce(rb, ty, why)

    def run(env: Env) -> V:
        a, b = lb.run(env), rb.run(env)
        valid = a.valid & b.valid
        if ty is Ty.DECIMAL:
            sign = dec.compare(a.nums(), a.scales(), b.nums(), b.scales())
        elif ty is Ty.DATE:
            sign = np.sign(a.nums() - b.nums())
        elif ty is Ty.BOOL:
            sign = a.flags().astype(np.int8) - b.flags().astype(np.int8)
        else:
            return make_bool(_text_compare(op, a.texts(), b.texts()), valid, a.errors + b.errors)
        return make_bool(_sign_test(op, sign), valid, a.errors + b.errors)

    return Bound(Ty.BOOL, run, node)


def match(bd: Binder, node: Binary) -> Bound:
    if not isinstance(node.right, TextLit):
        raise bd.err(
            node.right,
            "the right side of ~ must be a regular expression in quotes",
            hint="for example: description ~ '(?i)fee'",
        )
    pattern = bd.regex(node.right)
    lb = bd.as_text(bd.bind(node.left))

    def run(env: Env) -> V:
        a = lb.run(env)
        hit = np.asarray(pc.match_substring_regex(a.texts(), pattern), dtype=bool)
        return make_bool(hit, a.valid, a.errors)

    return Bound(Ty.BOOL, run, node)


def in_list(bd: Binder, node: InList) -> Bound:
    lb = bd.bind(node.operand)
    kinds = {lit_type(i) for i in node.items}
    if len(kinds) > 1:
        raise bd.err(node, "a list cannot mix numbers, text, dates and true/false")
    (kind,) = kinds
    if lb.ty is Ty.NULL:
        return bd.always_null(node, lb)
    if not (lb.ty is kind or (lb.ty is Ty.TEXT and kind in (Ty.DECIMAL, Ty.DATE))):
        raise bd.err(
            node,
            f"{bd.show(node.operand)} is {ARTICLE[lb.ty]} but the list "
            f"holds {ARTICLE[kind]} values",
            hint=hint(kind, lb.ty),
        )
    lb = bd.coerce(lb, kind, "'in'")
    items = node.items
    negated = node.negated

    def run(env: Env) -> V:
        a = lb.run(env)
        hit = _member(a, kind, items)
        return make_bool(hit != negated, a.valid, a.errors)

    return Bound(Ty.BOOL, run, node)


def is_empty(bd: Binder, node: IsEmpty) -> Bound:
    lb = bd.bind(node.operand)
    negated = node.negated

    def run(env: Env) -> V:
        a = lb.run(env)
        empty = ~a.valid
        if a.ty is Ty.TEXT:
            blank = np.asarray(pc.equal(pc.utf8_trim_whitespace(a.texts()), ""), dtype=bool)
            empty = empty | blank
        return make_bool(empty != negated, ones(env.n), a.errors)

    return Bound(Ty.BOOL, run, node)


# -- helpers ---------------------------------------------------------------------------------
def _sign_test(op: str, sign: npt.NDArray[np.signedinteger[Any]]) -> Mask:
    tests: dict[str, Mask] = {
        "=": sign == 0,
        "!=": sign != 0,
        "<": sign < 0,
        "<=": sign <= 0,
        ">": sign > 0,
        ">=": sign >= 0,
    }
    return tests[op]


_TEXT_OPS = {
    "=": pc.equal,
    "!=": pc.not_equal,
    "<": pc.less,
    "<=": pc.less_equal,
    ">": pc.greater,
    ">=": pc.greater_equal,
}


def _text_compare(op: str, a: pa.Array, b: pa.Array) -> Mask:
    return np.asarray(pc.fill_null(_TEXT_OPS[op](a, b), False), dtype=bool)


def _member(a: V, kind: Ty, items: tuple[Node, ...]) -> Mask:
    if kind is Ty.TEXT:
        values = pa.array([i.value for i in items if isinstance(i, TextLit)], pa.string())
        return np.asarray(pc.is_in(a.texts(), value_set=values), dtype=bool)
    if kind is Ty.DATE:
        days = np.array([i.days for i in items if isinstance(i, DateLit)], dtype=np.int64)
        return np.isin(a.nums(), days)
    if kind is Ty.BOOL:
        flags = {i.value for i in items if isinstance(i, BoolLit)}
        return np.isin(a.flags(), list(flags))
    nums = [i for i in items if isinstance(i, NumberLit)]
    ic, is_ = dec.reduce(
        np.array([i.coef for i in nums], np.int64), np.array([i.scale for i in nums], np.int64)
    )
    vc, vs = dec.reduce(a.nums(), a.scales())
    hit = np.zeros(a.n, dtype=bool)
    for s in np.unique(is_):
        hit |= (vs == s) & np.isin(vc, ic[is_ == s])
    return hit


def concat(parts: list[V]) -> V:
    """Texts joined row by row; a null part counts as empty text."""
    n = parts[0].n
    errs = [e for p in parts for e in p.errors]
    joined = pc.binary_join_element_wise(*[p.texts() for p in parts], "")
    return make_text(joined, ones(n), errs)
