"""Typed column values for expressions: one vector per expression node, with its per-row
errors, and the conversions between them and Arrow (text to number and date, number and date
to text, decimal128 in and out)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from ..dates import format_dates, parse_dates
from ..money import NumberFormat
from ..zones import book_days
from . import expr_decimal as dec

Mask = npt.NDArray[np.bool_]
I64 = npt.NDArray[np.int64]


class Ty(StrEnum):
    """The five value types of the expression language."""

    TEXT = "text"
    DECIMAL = "decimal"
    DATE = "date"
    BOOL = "bool"
    NULL = "null"


@dataclass(frozen=True, eq=False)
class RowError:
    """Rows that failed for one reason. ``column``/``values`` name the column (or expression)
    and hold its cells, so a reject can show the offending value."""

    mask: Mask
    rule: str
    message: str
    column: str | None = None
    values: pa.Array | None = None


@dataclass(eq=False)
class V:
    """One typed vector. ``valid`` is False for null rows (and for every row in ``errors``).
    DECIMAL: ``num`` coefficients and ``scale``; DATE: ``num`` days since 1970-01-01;
    BOOL: ``flag``; TEXT: ``text`` (no nulls: "" where not valid)."""

    ty: Ty
    valid: Mask
    num: I64 | None = None
    scale: I64 | None = None
    flag: Mask | None = None
    text: pa.Array | None = None
    errors: list[RowError] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.valid)

    def nums(self) -> I64:
        assert self.num is not None
        return self.num

    def scales(self) -> I64:
        assert self.scale is not None
        return self.scale

    def flags(self) -> Mask:
        assert self.flag is not None
        return self.flag

    def texts(self) -> pa.Array:
        assert self.text is not None
        return self.text

    def fail(
        self,
        mask: Mask,
        rule: str,
        message: str,
        column: str | None = None,
        values: pa.Array | None = None,
    ) -> V:
        """Record an error for ``mask`` rows (if any) and make them null."""
        if mask.any():
            self.errors.append(RowError(mask.copy(), rule, message, column, values))
            self.valid = self.valid & ~mask
            self._sanitise()
        return self

    def _sanitise(self) -> None:
        ok = self.valid
        if self.num is not None:
            self.num = np.where(ok, self.num, 0)
        if self.scale is not None:
            self.scale = np.where(ok, self.scale, 0)
        if self.flag is not None:
            self.flag = self.flag & ok
        if self.text is not None and not ok.all():
            self.text = pc.if_else(pa.array(ok), self.text, "")


def errors_where(errors: list[RowError], keep: Mask) -> list[RowError]:
    """The errors restricted to ``keep`` rows (a branch not taken reports nothing)."""
    out = []
    for e in errors:
        m = e.mask & keep
        if m.any():
            out.append(RowError(m, e.rule, e.message, e.column, e.values))
    return out


def make_decimal(c: I64, s: I64, valid: Mask, errors: list[RowError] | None = None) -> V:
    return V(
        Ty.DECIMAL, valid, np.where(valid, c, 0), np.where(valid, s, 0), errors=list(errors or [])
    )


def make_date(days: I64, valid: Mask, errors: list[RowError] | None = None) -> V:
    return V(Ty.DATE, valid, np.where(valid, days, 0), errors=list(errors or []))


def make_bool(flag: Mask, valid: Mask, errors: list[RowError] | None = None) -> V:
    return V(Ty.BOOL, valid, flag=flag & valid, errors=list(errors or []))


def make_text(text: pa.Array, valid: Mask, errors: list[RowError] | None = None) -> V:
    text = pc.fill_null(text.cast(pa.string()), "")
    if not valid.all():
        text = pc.if_else(pa.array(valid), text, "")
    return V(Ty.TEXT, valid, text=text, errors=list(errors or []))


def make_null(n: int) -> V:
    return V(Ty.NULL, np.zeros(n, dtype=bool))


def null_of(ty: Ty, n: int) -> V:
    """An all-null vector of a type."""
    none = np.zeros(n, dtype=bool)
    zeros = np.zeros(n, dtype=np.int64)
    if ty is Ty.DECIMAL:
        return make_decimal(zeros, zeros, none)
    if ty is Ty.DATE:
        return make_date(zeros, none)
    if ty is Ty.BOOL:
        return make_bool(none, none)
    if ty is Ty.TEXT:
        return make_text(pa.nulls(n, pa.string()), none)
    return make_null(n)


# -- text -> decimal ------------------------------------------------------------------------
_SYMBOLS = "£$€¥₹₩₽₺₪฿₫₦"


@lru_cache(maxsize=64)
def _full_pattern(decimal: str, thousands: str | None) -> str:
    d = re.escape(decimal)
    sym = f"(?:[{_SYMBOLS}]|[A-Z]{{3}})"
    integer = r"[0-9]+"
    if thousands:
        integer = rf"[0-9]{{1,3}}(?:{re.escape(thousands)}[0-9]{{3}})+|[0-9]+"
    return (
        rf"^(?P<lp>\()?\s*(?P<s1>[-+])?\s*(?P<c1>{sym})?\s*(?P<s2>[-+])?\s*"
        rf"(?P<int>{integer})?(?:{d}(?P<frac>[0-9]*))?\s*(?P<c2>{sym})?\s*(?P<ts>-)?\s*"
        rf"(?P<rp>\))?$"
    )


@dataclass
class ParsedNumbers:
    """Numbers read from text: exact where ``ok``; ``empty`` cells are null, not errors;
    ``too_long`` cells are numbers with more than 18 digits."""

    coef: I64
    scale: I64
    ok: Mask
    empty: Mask
    too_long: Mask

    @property
    def invalid(self) -> Mask:
        return ~self.ok & ~self.empty & ~self.too_long


def parse_numbers(values: pa.Array, fmt: NumberFormat) -> ParsedNumbers:
    """Read numbers written with ``fmt``'s marks: an optional sign (leading or trailing minus,
    or parentheses), an optional currency symbol or code, grouped thousands when ``fmt`` has a
    separator. Exact: the result is a coefficient and a scale per row, never a float."""
    text = pc.utf8_trim_whitespace(pc.fill_null(values.cast(pa.string()), ""))
    empty = np.asarray(pc.equal(text, ""), dtype=bool)
    n = len(text)
    d, th = fmt.decimal, fmt.thousands
    grouped = rf"[0-9]{{1,3}}(?:{re.escape(th)}[0-9]{{3}})+|" if th else ""
    plain = rf"^-?(?:{grouped}[0-9]*)(?:{re.escape(d)}[0-9]*)?$"
    if np.asarray(pc.match_substring_regex(text, plain), dtype=bool).all():
        if th:
            text = pc.replace_substring(text, th, "")
        digits = pc.replace_substring(text, d, "")
        filled = pc.if_else(pa.array(empty), "0", digits)
        try:
            coef = np.asarray(pc.cast(filled, pa.int64()), dtype=np.int64)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            coef = None
        if coef is not None:
            at = np.asarray(pc.find_substring(text, d), dtype=np.int64)
            length = np.asarray(pc.binary_length(text), dtype=np.int64)
            scale = np.where(at >= 0, length - at - 1, 0)
            return _checked(coef, scale, ~empty, empty)
    parts = pc.extract_regex(text, _full_pattern(d, fmt.thousands))
    matched = np.asarray(parts.is_valid(), dtype=bool) & ~empty
    names = ("lp", "s1", "c1", "s2", "int", "frac", "c2", "ts", "rp")
    parts = pc.fill_null(parts, pa.scalar({k: "" for k in names}, parts.type))

    def part(name: str) -> pa.Array:
        return pc.struct_field(parts, name)

    def has(name: str, value: str | None = None) -> Mask:
        p = part(name)
        m = pc.not_equal(p, "") if value is None else pc.equal(p, value)
        return np.asarray(m, dtype=bool)

    whole = part("int")
    if fmt.thousands:
        whole = pc.replace_substring(whole, fmt.thousands, "")
    frac = part("frac")
    digits = pc.binary_join_element_wise(whole, frac, "")
    digits = pc.utf8_ltrim(digits, characters="0")
    n_digits = np.asarray(pc.utf8_length(digits), dtype=np.int64)
    scale = np.asarray(pc.utf8_length(frac), dtype=np.int64)
    signs = sum(has(g, "-").astype(np.int64) + has(g, "+") for g in ("s1", "s2")) + has("ts")
    shaped = (
        matched
        & (has("lp") == has("rp"))
        & (signs + has("lp") <= 1)
        & ~(has("c1") & has("c2"))
        & (has("int") | has("frac"))
    )
    too_long = shaped & ((n_digits > dec.DIGITS) | (scale > dec.DIGITS))
    good = shaped & ~too_long
    filled = pc.if_else(pa.array(good & (n_digits > 0)), digits, "0")
    coef = np.asarray(pc.cast(filled, pa.int64()), dtype=np.int64)
    negative = has("lp") | has("s1", "-") | has("s2", "-") | has("ts")
    coef = np.where(negative, -coef, coef)
    out = ParsedNumbers(coef, scale, good, empty, too_long)
    out.coef = np.where(good, coef, 0)
    out.scale = np.where(good, scale, 0)
    assert len(out.coef) == n
    return out


def _checked(coef: I64, scale: I64, present: Mask, empty: Mask) -> ParsedNumbers:
    too_long = present & ((np.abs(coef) >= dec.LIMIT) | (scale > dec.DIGITS))
    ok = present & ~too_long
    return ParsedNumbers(np.where(ok, coef, 0), np.where(ok, scale, 0), ok, empty, too_long)


def number_message(fmt: NumberFormat) -> str:
    th = {None: "none", "": "none", " ": "space", "\u00a0": "no-break space"}.get(
        fmt.thousands, f"'{fmt.thousands}'"
    )
    return f"is not a number written with decimal mark '{fmt.decimal}' and thousands separator {th}"


def text_to_decimal(v: V, fmt: NumberFormat, label: str) -> V:
    """TEXT -> DECIMAL; unreadable cells become row errors naming ``label``."""
    p = parse_numbers(v.texts(), fmt)
    out = make_decimal(p.coef, p.scale, v.valid & p.ok, v.errors)
    out.fail(
        v.valid & p.invalid, "number-invalid", f"'{label}' {number_message(fmt)}", label, v.text
    )
    out.fail(
        v.valid & p.too_long,
        "number-too-long",
        f"'{label}' has more than {dec.DIGITS} digits",
        label,
        v.text,
    )
    return out


def text_to_date(v: V, formats: tuple[str, ...], label: str, timezone: str | None = None) -> V:
    """TEXT -> DATE with explicit formats; unreadable cells become row errors. With the
    mapping's ``timezone`` a date-time with a UTC offset becomes its date in that zone, as a
    date field's does (csvbridge.zones)."""
    p = parse_dates(v.texts(), formats)
    shown = " or ".join(formats)
    present = v.valid & ~p.empty
    days = book_days(v.texts(), formats, p, timezone) if timezone else p.days.astype(np.int64)
    out = make_date(days, present & p.ok, v.errors)
    out.fail(
        present & p.matched_shape,
        "date-invalid",
        f"'{label}' is not a real calendar date (read as {shown})",
        label,
        v.text,
    )
    out.fail(
        present & ~p.ok & ~p.matched_shape,
        "date-format",
        f"'{label}' does not match the date format {shown}",
        label,
        v.text,
    )
    return out


# -- to text --------------------------------------------------------------------------------
def decimal_text(c: I64, s: I64, valid: Mask) -> pa.Array:
    """Plain decimals as text: -1234.50 (the scale is kept, no separators, no exponent)."""
    n = len(c)
    mag = np.abs(c)
    sign = pa.array(np.where(c < 0, "-", ""))
    out = pa.nulls(n, pa.string()).fill_null("") if n else pa.array([], pa.string())
    for k in np.unique(s[valid]) if valid.any() else []:
        k = int(k)
        whole = pc.cast(pa.array(mag // dec.POW10[k]), pa.string())
        if k:
            frac = pc.utf8_lpad(pc.cast(pa.array(mag % dec.POW10[k]), pa.string()), k, "0")
            txt = pc.binary_join_element_wise(sign, whole, ".", frac, "")
        else:
            txt = pc.binary_join_element_wise(sign, whole, "")
        out = pc.if_else(pa.array((s == k) & valid), txt, out)
    return out


def date_text(days: I64, valid: Mask, fmt: str = "YYYY-MM-DD") -> pa.Array:
    arr = pa.array(days.astype(np.int32), pa.int32(), mask=~valid).cast(pa.date32())
    return pc.fill_null(format_dates(arr, fmt), "")


def to_text(v: V) -> V:
    """Any value as text: numbers plain (1234.50), dates ISO (2025-03-01), true/false."""
    if v.ty is Ty.TEXT:
        return v
    n = v.n
    if v.ty is Ty.DECIMAL:
        txt = decimal_text(v.nums(), v.scales(), v.valid)
    elif v.ty is Ty.DATE:
        txt = date_text(v.nums(), v.valid)
    elif v.ty is Ty.BOOL:
        txt = pa.array(np.where(v.flags(), "true", "false"))
    else:
        txt = pa.nulls(n, pa.string())
    return make_text(txt, v.valid, v.errors)


# -- Arrow in and out -----------------------------------------------------------------------
def _bitmap(valid: Mask) -> pa.Buffer:
    return pa.py_buffer(np.packbits(valid, bitorder="little").tobytes())


def decimal_to_arrow(c: I64, s: I64, valid: Mask) -> pa.Array:
    """A decimal128(38, S) array, S the largest scale among the valid rows."""
    n = len(c)
    top = int(s[valid].max()) if valid.any() else 0
    shift = np.where(valid, top - s, 0)
    if (np.abs(c) < dec.POW10[dec.DIGITS - shift]).all():
        v = c * dec.POW10[shift]
        low, high = v.view(np.uint64), (v >> 63).view(np.uint64)
    else:
        low, high = dec.to_u128(c, shift)
    words = np.empty(2 * n, dtype=np.uint64)
    words[0::2], words[1::2] = low, high
    return pa.Array.from_buffers(
        pa.decimal128(38, top),
        n,
        [_bitmap(valid), pa.py_buffer(words.tobytes())],
        null_count=int(n - valid.sum()),
    )


def decimal_from_arrow(arr: pa.Array, label: str) -> V:
    """decimal128 (or integer) arrays as decimals; values over 18 digits are row errors."""
    n = len(arr)
    valid = np.asarray(arr.is_valid(), dtype=bool)
    if pa.types.is_integer(arr.type):
        raw = np.asarray(pc.fill_null(arr.cast(pa.int64()), 0), dtype=np.int64)
        out = make_decimal(raw, np.zeros(n, np.int64), valid)
        return out.fail(
            valid & (np.abs(raw) >= dec.LIMIT),
            "number-too-long",
            f"'{label}' has more than {dec.DIGITS} digits",
            label,
        )
    t = arr.type
    if not pa.types.is_decimal128(t):
        raise TypeError(
            f"column {label!r} is {t}; expressions take text, decimal128, integer, "
            "date32 or bool columns (never floats)"
        )
    words = np.frombuffer(arr.buffers()[1], dtype=np.uint64)[2 * arr.offset : 2 * (arr.offset + n)]
    low = words[0::2].view(np.int64)
    high = words[1::2].view(np.int64)
    c = low.copy()
    s = np.full(n, t.scale, dtype=np.int64)
    fast = valid & (high == (low >> 63)) & (np.abs(low) < dec.LIMIT) & (0 <= t.scale <= dec.DIGITS)
    bad = np.zeros(n, dtype=bool)
    slow = valid & ~fast
    if slow.any():  # rare: too many digits, or a scale outside 0..18; reduce exactly
        for i in np.flatnonzero(slow):
            got = _from_python(arr[int(i)].as_py())
            if got is None:
                bad[i] = True
            else:
                c[i], s[i] = got
    out = make_decimal(c, s, valid)
    return out.fail(bad, "number-too-long", f"'{label}' has more than {dec.DIGITS} digits", label)


def _from_python(value: Decimal) -> tuple[int, int] | None:
    sign, digits, exp = value.normalize().as_tuple()
    assert isinstance(exp, int)
    coef = int("".join(map(str, digits)) or "0")
    scale = -exp
    if scale < 0:
        coef, scale = coef * 10**-scale, 0
    if scale > dec.DIGITS or coef >= dec.LIMIT:
        return None
    return (-coef if sign else coef), scale


def days_from_arrow(arr: pa.Array) -> V:
    valid = np.asarray(arr.is_valid(), dtype=bool)
    days = np.asarray(pc.fill_null(arr.cast(pa.date32()).cast(pa.int32()), 0), dtype=np.int64)
    return make_date(days, valid)


def to_arrow(v: V) -> pa.Array:
    """The vector as an Arrow array: string, decimal128(38, S), date32, bool or null."""
    n = v.n
    if v.ty is Ty.DECIMAL:
        return decimal_to_arrow(v.nums(), v.scales(), v.valid)
    if v.ty is Ty.DATE:
        return pa.array(v.nums().astype(np.int32), pa.int32(), mask=~v.valid).cast(pa.date32())
    if v.ty is Ty.BOOL:
        return pa.array(v.flags(), pa.bool_(), mask=~v.valid)
    if v.ty is Ty.TEXT:
        return pc.if_else(pa.array(v.valid), v.texts(), pa.scalar(None, pa.string()))
    return pa.nulls(n)
