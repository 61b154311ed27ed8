"""The whitelisted functions of the expression language: type rules and vectorised bodies.
Arguments that shape the computation (places, positions, regular expressions, formats) must
be literals, so they are checked once, before any data is read."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from ..dates import DateFormatError, compile_format
from ..money import NumberFormat
from . import expr_decimal as dec
from .expr_ast import Call, Node, NumberLit, TextLit
from .expr_context import Bound, Env, ones
from .expr_ops import concat
from .expr_text import date_text, decimal_text, text_to_date, text_to_decimal
from .expr_values import (
    Mask,
    RowError,
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

_DECIMAL_MARKS = (".", ",")
_THOUSANDS = (",", ".", " ", "'", "_", "\u00a0", "")


def bind_call(b: Binder, node: Call) -> Bound:
    return _BINDERS[node.name](b, node)


def _int_lit(b: Binder, node: Node, what: str, lo: int, hi: int) -> int:
    if isinstance(node, NumberLit) and node.scale == 0 and lo <= node.coef <= hi:
        return node.coef
    raise b.err(node, f"{what} must be a whole number from {lo} to {hi}, written as a number")


def _text_lit(b: Binder, node: Node, what: str) -> str:
    if isinstance(node, TextLit):
        return node.value
    raise b.err(node, f"{what} must be written in quotes, e.g. 'DD/MM/YYYY'")


def _decimal_fn(b: Binder, node: Call, f: Callable[[V], V]) -> Bound:
    arg = b.coerce(b.bind(node.args[0]), Ty.DECIMAL, f"{node.name}()")
    return Bound(Ty.DECIMAL, lambda env: f(arg.run(env)), node)


def _round(b: Binder, node: Call) -> Bound:
    places = (
        _int_lit(b, node.args[1], "the number of places", 0, dec.DIGITS)
        if len(node.args) > 1
        else 0
    )

    def body(v: V) -> V:
        c, s = dec.round_to(v.nums(), v.scales(), places)
        return make_decimal(c, s, v.valid, v.errors)

    return _decimal_fn(b, node, body)


def _abs(b: Binder, node: Call) -> Bound:
    return _decimal_fn(
        b, node, lambda v: make_decimal(np.abs(v.nums()), v.scales(), v.valid, v.errors)
    )


def _minmax(b: Binder, node: Call) -> Bound:
    ty, args = b.unify([b.bind(a) for a in node.args], f"{node.name}()", text_ok=False)
    if ty not in (Ty.DECIMAL, Ty.DATE, Ty.NULL):
        raise b.err(node, f"{node.name}() compares numbers or dates")
    want_max = node.name == "max"

    def run(env: Env) -> V:
        vs = [a.run(env) for a in args]
        best = vs[0]
        for v in vs[1:]:
            if ty is Ty.DECIMAL:
                sign = dec.compare(v.nums(), v.scales(), best.nums(), best.scales())
            else:
                sign = np.sign(v.nums() - best.nums())
            better = v.valid & (~best.valid | ((sign > 0) if want_max else (sign < 0)))
            num = np.where(better, v.nums(), best.nums())
            valid = best.valid | v.valid
            errs = best.errors + v.errors
            if ty is Ty.DECIMAL:
                best = make_decimal(num, np.where(better, v.scales(), best.scales()), valid, errs)
            else:
                best = make_date(num, valid, errs)
        return best

    return Bound(ty, run, node)


def _coalesce(b: Binder, node: Call) -> Bound:
    ty, args = b.unify([b.bind(a) for a in node.args], "coalesce()")

    def run(env: Env) -> V:
        vs = [a.run(env) for a in args]
        looking = ones(env.n)
        pick = np.full(env.n, -1)
        errs = []
        for i, v in enumerate(vs):
            errs += errors_where(v.errors, looking)
            here = looking & _present(v)
            pick = np.where(here, i, pick)
            looking = looking & ~here
        valid = pick >= 0
        if ty is Ty.TEXT:
            text = vs[-1].texts()
            for i in range(len(vs) - 2, -1, -1):
                text = pc.if_else(pa.array(pick == i), vs[i].texts(), text)
            return make_text(text, valid, errs)
        return _choose(ty, vs, pick, valid, errs)

    return Bound(ty, run, node)


def _present(v: V) -> Mask:
    if v.ty is Ty.TEXT:
        blank = np.asarray(pc.equal(pc.utf8_trim_whitespace(v.texts()), ""), dtype=bool)
        present: Mask = v.valid & ~blank
        return present
    return v.valid


def _choose(
    ty: Ty, vs: list[V], pick: npt.NDArray[np.int64], valid: Mask, errs: list[RowError]
) -> V:
    """Row i takes vs[pick[i]] (numbers, dates, flags)."""
    if ty is Ty.NULL:
        return V(Ty.NULL, np.zeros(len(pick), bool), errors=errs)
    if ty is Ty.BOOL:
        flag = np.zeros(len(pick), dtype=bool)
        for i, v in enumerate(vs):
            flag = np.where(pick == i, v.flags(), flag)
        return make_bool(flag, valid, errs)
    num = np.zeros(len(pick), dtype=np.int64)
    scale = np.zeros(len(pick), dtype=np.int64)
    for i, v in enumerate(vs):
        num = np.where(pick == i, v.nums(), num)
        if ty is Ty.DECIMAL:
            scale = np.where(pick == i, v.scales(), scale)
    if ty is Ty.DECIMAL:
        return make_decimal(num, scale, valid, errs)
    return make_date(num, valid, errs)


def _if(b: Binder, node: Call) -> Bound:
    cond = b.condition(b.bind(node.args[0]), "if()")
    ty, (yes, no) = b.unify([b.bind(node.args[1]), b.bind(node.args[2])], "if()")

    def run(env: Env) -> V:
        c = cond.run(env)
        take = c.valid & c.flags()  # a null condition takes the 'else' value
        a, z = yes.run(env), no.run(env)
        errs = c.errors + errors_where(a.errors, take) + errors_where(z.errors, ~take)
        valid = np.where(take, a.valid, z.valid)
        if ty is Ty.TEXT:
            return make_text(pc.if_else(pa.array(take), a.texts(), z.texts()), valid, errs)
        return _choose(ty, [a, z], np.where(take, 0, 1), valid, errs)

    return Bound(ty, run, node)


def _text_fn(b: Binder, node: Call, f: Callable[[pa.Array], pa.Array]) -> Bound:
    arg = b.as_text(b.bind(node.args[0]))

    def run(env: Env) -> V:
        v = arg.run(env)
        return make_text(f(v.texts()), v.valid, v.errors)

    return Bound(Ty.TEXT, run, node)


def _upper(b: Binder, node: Call) -> Bound:
    return _text_fn(b, node, pc.utf8_upper)


def _lower(b: Binder, node: Call) -> Bound:
    return _text_fn(b, node, pc.utf8_lower)


def _trim(b: Binder, node: Call) -> Bound:
    return _text_fn(b, node, pc.utf8_trim_whitespace)


def _substr(b: Binder, node: Call) -> Bound:
    start = _int_lit(b, node.args[1], "substr()'s start (1 is the first character)", 1, 10**6)
    length = (
        _int_lit(b, node.args[2], "substr()'s length", 0, 10**6) if len(node.args) > 2 else None
    )
    stop = None if length is None else start - 1 + length
    return _text_fn(b, node, lambda t: pc.utf8_slice_codeunits(t, start - 1, stop))


def _replace(b: Binder, node: Call) -> Bound:
    rx = node.args[1]
    repl = node.args[2]
    if not isinstance(rx, TextLit):
        raise b.err(rx, "replace()'s pattern must be a regular expression in quotes")
    if not isinstance(repl, TextLit):
        raise b.err(repl, "replace()'s replacement must be text in quotes")
    pattern = b.regex(rx, repl.value)
    return _text_fn(b, node, lambda t: pc.replace_substring_regex(t, pattern, repl.value))


def _extract(b: Binder, node: Call) -> Bound:
    rx = node.args[1]
    if not isinstance(rx, TextLit):
        raise b.err(rx, "extract()'s pattern must be a regular expression in quotes")
    group = _int_lit(b, node.args[2], "extract()'s group", 0, 8) if len(node.args) > 2 else 0
    b.regex(rx)
    # The whole text matches; the user's pattern is group 1, its own groups come after.
    wrapped = TextLit(rx.start, rx.end, f"^(?s:.*?)((?:{rx.value}))(?s:.*)$")
    pattern = b.regex(wrapped, f"\\{group + 1}")
    arg = b.as_text(b.bind(node.args[0]))

    def run(env: Env) -> V:
        v = arg.run(env)
        t = v.texts()
        found = np.asarray(pc.match_substring_regex(t, rx.value), dtype=bool)
        out = pc.replace_substring_regex(t, pattern, f"\\{group + 1}")
        return make_text(out, v.valid & found, v.errors)

    return Bound(Ty.TEXT, run, node)


def _len(b: Binder, node: Call) -> Bound:
    arg = b.as_text(b.bind(node.args[0]))

    def run(env: Env) -> V:
        v = arg.run(env)
        n = np.asarray(pc.utf8_length(v.texts()), dtype=np.int64)
        return make_decimal(n, np.zeros(env.n, np.int64), v.valid, v.errors)

    return Bound(Ty.DECIMAL, run, node)


def _concat(b: Binder, node: Call) -> Bound:
    parts = [b.as_text(b.bind(a)) for a in node.args]
    return Bound(Ty.TEXT, lambda env: concat([p.run(env) for p in parts]), node)


def _text(b: Binder, node: Call) -> Bound:
    arg = b.bind(node.args[0])
    if len(node.args) == 1:
        return b.as_text(arg) if arg.ty is not Ty.TEXT else Bound(Ty.TEXT, arg.run, node)
    how = node.args[1]
    if arg.ty is Ty.TEXT:  # text read as a number (places) or as a date (a format)
        arg = b.coerce(arg, Ty.DECIMAL if isinstance(how, NumberLit) else Ty.DATE, "text()")
    if arg.ty is Ty.DECIMAL:
        places = _int_lit(b, how, "text()'s number of decimal places", 0, dec.DIGITS)

        def fixed(env: Env) -> V:
            v = arg.run(env)
            c, s = dec.round_to(v.nums(), v.scales(), places)
            return make_text(decimal_text(c, s, v.valid), v.valid, v.errors)

        return Bound(Ty.TEXT, fixed, node)
    if arg.ty is Ty.DATE:
        fmt = _text_lit(b, how, "text()'s date format")
        if not any(tok in fmt for tok in ("YYYY", "YY", "MM", "DD")):
            raise b.err(how, "a date format needs YYYY, MM, DD or MMM, e.g. 'DD/MM/YYYY'")

        def formatted(env: Env) -> V:
            v = arg.run(env)
            return make_text(date_text(v.nums(), v.valid, fmt), v.valid, v.errors)

        return Bound(Ty.TEXT, formatted, node)
    raise b.err(how, "text(x, ...) takes places for a number or a format for a date")


def _date(b: Binder, node: Call) -> Bound:
    arg = b.bind(node.args[0])
    fmts = tuple(_text_lit(b, f, "a date format") for f in node.args[1:])
    for f, src in zip(fmts, node.args[1:], strict=True):
        try:
            compile_format(f)
        except DateFormatError as e:
            raise b.err(src, str(e), hint="use tokens DD, MM, MMM, YYYY, YY") from None
    if arg.ty is Ty.DATE and not fmts:
        return Bound(Ty.DATE, arg.run, node)
    if arg.ty not in (Ty.TEXT, Ty.NULL):
        raise b.err(arg.node, f"date() reads text, but {b.show(arg.node)} is not text")
    fmts = fmts or b.date_formats(arg.node)
    if not fmts:
        raise b.err(
            node,
            "date() needs the format the dates are written in",
            hint=f"for example date({b.show(arg.node)}, 'DD/MM/YYYY')",
        )
    label = b.label(arg.node)
    tz = b.ctx.timezone  # an offset moves the date as it does a date field's
    arg = b.as_text(arg) if arg.ty is Ty.TEXT else b.coerce(arg, Ty.TEXT, "date()")
    return Bound(Ty.DATE, lambda env: text_to_date(arg.run(env), fmts, label, tz), node)


def _number(b: Binder, node: Call) -> Bound:
    arg = b.bind(node.args[0])
    opts = dict(zip(("decimal", "thousands"), node.args[1:], strict=False))
    for k, v in node.kwargs:
        if k in opts:
            raise b.err(v, f"'{k}' is given twice")
        opts[k] = v
    base = b.number_format(arg.node)
    dm = _text_lit(b, opts["decimal"], "the decimal mark") if "decimal" in opts else None
    th = _text_lit(b, opts["thousands"], "the thousands separator") if "thousands" in opts else None
    if dm is not None and dm not in _DECIMAL_MARKS:
        raise b.err(opts["decimal"], "the decimal mark is '.' or ','")
    if th is not None and th not in _THOUSANDS:
        raise b.err(opts["thousands"], "the thousands separator is one of , . ' _ or a space")
    decimal = dm if dm is not None else base.decimal
    thousands = th if th is not None else (base.thousands if dm is None else None)
    if decimal == thousands:
        raise b.err(node, "the decimal mark and the thousands separator must differ")
    fmt = NumberFormat(decimal, thousands or None)
    if arg.ty is Ty.DECIMAL and not opts:
        return Bound(Ty.DECIMAL, arg.run, node)
    if arg.ty not in (Ty.TEXT, Ty.NULL):
        raise b.err(arg.node, f"number() reads text, but {b.show(arg.node)} is not text")
    label = b.label(arg.node)
    run = arg.run if arg.ty is Ty.TEXT else b.coerce(arg, Ty.TEXT, "number()").run
    return Bound(Ty.DECIMAL, lambda env: text_to_decimal(run(env), fmt, label), node)


_BINDERS: dict[str, Callable[[Binder, Call], Bound]] = {
    "round": _round,
    "abs": _abs,
    "min": _minmax,
    "max": _minmax,
    "coalesce": _coalesce,
    "if": _if,
    "upper": _upper,
    "lower": _lower,
    "trim": _trim,
    "substr": _substr,
    "replace": _replace,
    "extract": _extract,
    "len": _len,
    "concat": _concat,
    "text": _text,
    "date": _date,
    "number": _number,
}
