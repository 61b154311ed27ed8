"""Exact money: ISO 4217 exponents, and vectorised parsing/formatting of amounts as int64 minor
units. No value here ever becomes a float."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

_ZERO = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_THREE = "BHD IQD JOD KWD LYD OMR TND"
_FOUR = "CLF UYW"
_TWO = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BRL BSD BTN BWP BYN "
    "BZD CAD CDF CHF CNY COP CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS "
    "GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR "
    "LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD "
    "PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP "
    "STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD UYU UZS VES WST XCD YER ZAR ZMW "
    "ZWL"
)

CURRENCY_EXPONENTS: dict[str, int] = {
    **{c: 2 for c in _TWO.split()},
    **{c: 0 for c in _ZERO.split()},
    **{c: 3 for c in _THREE.split()},
    **{c: 4 for c in _FOUR.split()},
}

# Symbols a statement may put beside an amount; stripped, never interpreted as a currency.
_SYMBOLS = "£$€¥₹₩₽₺₪฿₫₦"
_MAX_INT_DIGITS = 15
_INT64_DIGITS = 18  # every 18-digit number fits in int64 (max 9.2e18)


def max_int_digits(exponent: int) -> int:
    """Whole-unit digits an amount may have so that its minor units fit in int64."""
    return min(_MAX_INT_DIGITS, _INT64_DIGITS - exponent)


@dataclass(frozen=True)
class NumberFormat:
    """How a source writes numbers: the decimal mark and the thousands separator (or none)."""

    decimal: str = "."
    thousands: str | None = None

    def __post_init__(self) -> None:
        if self.decimal == self.thousands:
            raise ValueError("decimal mark and thousands separator must differ")


@dataclass
class ParsedMoney:
    """Result of parsing a column of amounts. ``minor`` is valid where ``ok`` is true."""

    minor: npt.NDArray[np.int64]
    ok: npt.NDArray[np.bool_]
    empty: npt.NDArray[np.bool_]  # blank cell: no amount at all
    too_precise: npt.NDArray[np.bool_]  # more non-zero decimals than the currency has

    @property
    def invalid(self) -> npt.NDArray[np.bool_]:
        """Cells that hold text but not an amount."""
        return ~self.ok & ~self.empty & ~self.too_precise


def exponent_of(code: str) -> int | None:
    """Decimal places of an ISO 4217 currency, or None if the code is unknown."""
    return CURRENCY_EXPONENTS.get(code.upper())


def _pattern(fmt: NumberFormat) -> str:
    d = re.escape(fmt.decimal)
    sym = f"(?:[{_SYMBOLS}]|[A-Z]{{3}})"
    if fmt.thousands:
        t = re.escape(fmt.thousands)
        integer = rf"\d{{1,3}}(?:{t}\d{{3}})+|\d+"
    else:
        integer = r"\d+"
    return (
        rf"^\s*(?P<lp>\()?\s*(?P<s1>[-+])?\s*(?P<c1>{sym})?\s*(?P<s2>[-+])?\s*"
        rf"(?P<int>{integer})?(?:{d}(?P<frac>\d*))?\s*(?P<c2>{sym})?\s*(?P<ts>-)?\s*(?P<rp>\))?\s*$"
    )


def parse_money(
    values: pa.Array, exponent: int | npt.NDArray[np.int64], fmt: NumberFormat
) -> ParsedMoney:
    """Parse text amounts to int64 minor units, exactly.

    Accepts a leading or trailing minus, parentheses for negatives, a currency symbol or code
    before or after the number, and the thousands/decimal marks of ``fmt``. ``exponent`` is
    the currency's number of decimal places, one for all rows or one per row.
    """
    n = len(values)
    values = pc.cast(values, pa.string())
    stripped = pc.utf8_trim_whitespace(values)
    empty = np.asarray(pc.fill_null(pc.equal(stripped, ""), True), dtype=bool)
    exp_arr = np.asarray(exponent, dtype=np.int64)
    if exp_arr.ndim == 0 or (n and (exp_arr == exp_arr.flat[0]).all()):
        fast = _parse_plain(stripped, empty, int(exp_arr.flat[0]) if n else 2, fmt)
        if fast is not None:
            return fast
    parts = pc.extract_regex(pc.fill_null(stripped, ""), _pattern(fmt))
    matched = np.asarray(parts.is_valid(), dtype=bool) & ~empty
    parts = pc.fill_null(parts, pa.scalar({k: "" for k in _GROUPS}, parts.type))

    def part(name: str) -> pa.Array:
        return pc.struct_field(parts, name)

    int_s = part("int")
    if fmt.thousands:
        int_s = pc.replace_substring(int_s, fmt.thousands, "")
    frac_s = part("frac")
    int_len = np.asarray(pc.utf8_length(int_s), dtype=np.int64)
    frac_len = np.asarray(pc.utf8_length(frac_s), dtype=np.int64)
    lp = np.asarray(pc.equal(part("lp"), "("), dtype=bool)
    rp = np.asarray(pc.equal(part("rp"), ")"), dtype=bool)
    minus = [np.asarray(pc.equal(part(g), "-"), dtype=bool) for g in ("s1", "s2", "ts")]
    plus = [np.asarray(pc.equal(part(g), "+"), dtype=bool) for g in ("s1", "s2")]
    two_symbols = np.asarray(
        pc.and_(pc.not_equal(part("c1"), ""), pc.not_equal(part("c2"), "")), dtype=bool
    )
    n_signs = sum(m.astype(np.int64) for m in minus) + sum(p.astype(np.int64) for p in plus)
    n_signs = n_signs + lp.astype(np.int64)
    exps = np.broadcast_to(np.asarray(exponent, dtype=np.int64), (n,))
    ok = (
        matched
        & (lp == rp)
        & (n_signs <= 1)
        & ~two_symbols
        & ((int_len > 0) | (frac_len > 0))
        & (int_len <= np.minimum(_MAX_INT_DIGITS, _INT64_DIGITS - exps))
    )
    negative = lp | minus[0] | minus[1] | minus[2]

    whole = _to_int(int_s, ok & (int_len > 0))
    minor = np.zeros(n, dtype=np.int64)
    too_precise = np.zeros(n, dtype=bool)
    # pad to the widest exponent in play: a 6-place quantity "85.5" must read 85.500000
    width = int(max(frac_len.max(initial=0), exps.max(initial=0), 1))
    frac_filled = pc.utf8_rpad(frac_s, width=width, padding="0")
    for e in np.unique(exps):
        rows = exps == e
        e = int(e)
        kept = _to_int(pc.utf8_slice_codeunits(frac_filled, 0, e), ok & (e > 0))
        rest = pc.utf8_slice_codeunits(frac_s, e)
        extra_nonzero = np.asarray(pc.match_substring_regex(rest, "[1-9]"), dtype=bool)
        too_precise |= rows & ok & extra_nonzero
        minor = np.where(rows, whole * (10**e) + kept, minor)
    ok &= ~too_precise
    minor = np.where(negative, -minor, minor)
    minor = np.where(ok, minor, 0)
    return ParsedMoney(minor=minor, ok=ok, empty=empty, too_precise=too_precise)


def _parse_plain(
    stripped: pa.Array, empty: npt.NDArray[np.bool_], exponent: int, fmt: NumberFormat
) -> ParsedMoney | None:
    """The everyday shape — optional minus, digits (grouped or not), exactly the currency's
    decimals — parsed with cheap kernels; None when any cell needs the full parser."""
    d, t = re.escape(fmt.decimal), re.escape(fmt.thousands or "")
    frac = rf"{d}\d{{{exponent}}}" if exponent else ""
    grouped = rf"|\d{{1,3}}(?:{t}\d{{3}})+" if fmt.thousands else ""
    plain = rf"^-?(?:\d{{1,{max_int_digits(exponent)}}}{grouped}){frac}$"
    fits = np.asarray(pc.fill_null(pc.match_substring_regex(stripped, plain), False), dtype=bool)
    if not (fits | empty).all():
        return None
    digits = pc.fill_null(stripped, "")
    if fmt.thousands:
        digits = pc.replace_substring(digits, fmt.thousands, "")
    if exponent:
        digits = pc.replace_substring(digits, fmt.decimal, "")
    digits = pc.if_else(pa.array(empty), "0", digits)
    if fmt.thousands:  # grouped thousands may spell more whole digits than allowed
        unsigned = pc.utf8_ltrim(digits, characters="-")
        lengths = np.asarray(pc.utf8_length(unsigned), dtype=np.int64)
        if (lengths > max_int_digits(exponent) + exponent).any():
            return None
    minor = np.asarray(pc.cast(digits, pa.int64()), dtype=np.int64)
    n = len(minor)
    return ParsedMoney(
        minor=np.where(empty, 0, minor), ok=~empty, empty=empty, too_precise=np.zeros(n, bool)
    )


_GROUPS = ("lp", "s1", "c1", "s2", "int", "frac", "c2", "ts", "rp")


def _to_int(digits: pa.Array, present: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
    """Cast digit strings to int64; rows not ``present`` (empty strings) become 0."""
    filled = pc.if_else(pa.array(present), digits, "0")
    filled = pc.if_else(pc.equal(filled, ""), "0", filled)
    return np.asarray(pc.cast(filled, pa.int64()), dtype=np.int64)


def format_minor(minor: pa.Array, exponent: int | npt.NDArray[np.int64]) -> pa.Array:
    """Format int64 minor units as plain decimals: ``-1234.50``; no separators or symbols.

    Nulls stay null. ``exponent`` is one for all rows or one per row.
    """
    vals = np.asarray(pc.fill_null(minor, 0), dtype=np.int64)
    n = len(vals)
    exps = np.broadcast_to(np.asarray(exponent, dtype=np.int64), (n,))
    sign = pa.array(np.where(vals < 0, "-", ""))
    absv = np.abs(vals)
    out: pa.Array | None = None
    for e in np.unique(exps):
        e = int(e)
        scale = 10**e
        whole = pc.cast(pa.array(absv // scale), pa.string())
        if e > 0:
            frac = pc.utf8_lpad(pc.cast(pa.array(absv % scale), pa.string()), width=e, padding="0")
            text = pc.binary_join_element_wise(sign, whole, ".", frac, "")
        else:
            text = pc.binary_join_element_wise(sign, whole, "")
        out = text if out is None else pc.if_else(pa.array(exps == e), text, out)
    if out is None:
        return pa.array([], pa.string())
    return pc.if_else(pc.is_null(minor), pa.scalar(None, pa.string()), out)


def format_one(minor: int, exponent: int) -> str:
    """Format one amount in minor units (for reports)."""
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(minor), 10**exponent)
    return f"{sign}{whole}.{frac:0{exponent}d}" if exponent else f"{sign}{whole}"
