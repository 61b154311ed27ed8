"""Formula values from and to text: numbers and dates read from text cells with explicit
formats (unreadable cells become row errors), and decimals and dates written as text."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..dates import format_dates, parse_dates
from ..money import NumberFormat
from ..zones import book_days
from . import expr_decimal as dec
from .expr_values import I64, Mask, Ty, V, make_date, make_decimal, make_text

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
