"""Strict, vectorised date parsing from explicit formats. Nothing here guesses: a value either
matches a stated format and is a real calendar date, or it is reported as invalid.

Formats use readable tokens — ``DD/MM/YYYY``, ``D MMM YYYY``, ``YYYY-MM-DD HH:mm:ss`` — or the
strftime codes ``%d %m %Y %y %b %B %H %M %S %z``. Single-letter ``D``/``M`` and ``DD``/``MM`` both
accept one or two digits. Two-digit years ``YY`` are 2000–2069 for 00–69 and 1970–1999 for
70–99 (the POSIX rule). Times are checked; records carry dates.

Time zones. A UTC offset (``Z``, ``ZZ`` or ``%z``: ``Z``, ``+0000``, ``-05:00``, ``+01``) or a
field's ``zone:`` makes a date-time an instant. Without the mapping's ``timezone:`` its date is
the date as written, in its own offset: nothing is converted and nothing guessed. With
``timezone: Europe/London`` (the zone the books are kept in) the date is the local date of the
instant there: a Shopify order of ``2024-03-05 23:30:00 -0500`` is 6 March in London (04:30
UTC), and 5 March without ``timezone:``. A date-time without offset is in the field's
``zone:`` (e.g. ``UTC`` for Stripe's exports) when one is given, and otherwise stays as
written; a plain date (no time) is never moved. A time in the hour the clocks go back is read
as the first of the two.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

_MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
_MONTH_NAMES = pa.array(_MONTHS + [m[:3] for m in _MONTHS] + ["sept"])
_MONTH_NUMBERS = np.array(list(range(1, 13)) * 2 + [9], dtype=np.int64)

_OFFSET = r"Z|[+-](?:0\d|1[0-4])(?::?[0-5]\d)?"  # UTC offsets run from -14:00 to +14:00

# token -> (group name, regex)
_TOKENS: dict[str, tuple[str, str]] = {
    "YYYY": ("y", r"\d{4}"),
    "%Y": ("y", r"\d{4}"),
    "YY": ("yy", r"\d{2}"),
    "%y": ("yy", r"\d{2}"),
    "MMMM": ("mon", r"[A-Za-z]{3,9}\.?"),
    "%B": ("mon", r"[A-Za-z]{3,9}\.?"),
    "MMM": ("mon", r"[A-Za-z]{3,4}\.?"),
    "%b": ("mon", r"[A-Za-z]{3,4}\.?"),
    "MM": ("m", r"\d{1,2}"),
    "M": ("m", r"\d{1,2}"),
    "%m": ("m", r"\d{1,2}"),
    "DD": ("d", r"\d{1,2}"),
    "D": ("d", r"\d{1,2}"),
    "%d": ("d", r"\d{1,2}"),
    "%e": ("d", r"\s?\d{1,2}"),
    "HH": ("H", r"\d{1,2}"),
    "%H": ("H", r"\d{1,2}"),
    "mm": ("Mi", r"\d{2}"),
    "%M": ("Mi", r"\d{2}"),
    "ss": ("S", r"\d{2}(?:\.\d+)?"),
    "%S": ("S", r"\d{2}(?:\.\d+)?"),
    "%z": ("z", _OFFSET),
    "ZZ": ("z", _OFFSET),
    "Z": ("z", _OFFSET),
}
_TOKEN_RE = re.compile("|".join(sorted(map(re.escape, _TOKENS), key=len, reverse=True)))

ISO_DATE = "YYYY-MM-DD"


class DateFormatError(ValueError):
    """A date format string that cannot be used (a token twice, no day/month/year)."""


@dataclass(frozen=True)
class CompiledFormat:
    """A date format turned into an anchored regex with named groups."""

    text: str
    pattern: str
    groups: tuple[str, ...]


@lru_cache(maxsize=256)
def compile_format(fmt: str) -> CompiledFormat:
    """Turn a date format into a regex; DateFormatError if it lacks a day, month or year."""
    parts: list[str] = []
    groups: list[str] = []
    pos = 0
    for m in _TOKEN_RE.finditer(fmt):
        parts.append(re.escape(fmt[pos : m.start()]))
        name, rx = _TOKENS[m.group()]
        if name in groups:
            raise DateFormatError(f"date format {fmt!r} has {m.group()!r} twice")
        groups.append(name)
        parts.append(f"(?P<{name}>{rx})")
        pos = m.end()
    parts.append(re.escape(fmt[pos:]))
    has_year = "y" in groups or "yy" in groups
    has_month = "m" in groups or "mon" in groups
    if not (has_year and has_month and "d" in groups):
        raise DateFormatError(
            f"date format {fmt!r} needs a day (DD), a month (MM or MMM) and a year (YYYY or YY)"
        )
    pattern = r"^\s*" + "".join(parts).replace(r"\ ", r"\s+") + r"\s*$"
    return CompiledFormat(fmt, pattern, tuple(groups))


@dataclass
class ParsedDates:
    """Days since 1970-01-01 where ``ok``; ``fmt_index`` says which format matched (-1: none)."""

    days: npt.NDArray[np.int32]
    ok: npt.NDArray[np.bool_]
    empty: npt.NDArray[np.bool_]
    matched_shape: npt.NDArray[np.bool_]  # looked like the format but is not a real date
    fmt_index: npt.NDArray[np.int8]

    def to_arrow(self) -> pa.Array:
        """A date32 array, null where the value did not parse."""
        return pa.array(self.days, type=pa.int32(), mask=~self.ok).cast(pa.date32())


def days_from_civil(
    y: npt.NDArray[np.int64], m: npt.NDArray[np.int64], d: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """Days since 1970-01-01 of proleptic Gregorian dates (H. Hinnant's algorithm)."""
    y = y - (m <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    doy = (153 * (m + np.where(m > 2, -3, 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    result: npt.NDArray[np.int64] = era * 146097 + doe - 719468
    return result


def days_in_month(y: npt.NDArray[np.int64], m: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Number of days in each (year, month)."""
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    base = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)
    result: npt.NDArray[np.int64] = base[np.clip(m, 0, 12)] + ((m == 2) & leap)
    return result


def _int_field(parts: pa.StructArray, name: str, ok: npt.NDArray[np.bool_]) -> np.ndarray:
    col = pc.struct_field(parts, name)
    col = pc.if_else(pa.array(ok), col, "0")
    col = pc.utf8_trim_whitespace(col)
    col = pc.if_else(pc.equal(col, ""), "0", col)
    return np.asarray(pc.cast(col, pa.int64()), dtype=np.int64)


def _parse_one(values: pa.Array, cf: CompiledFormat) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(days, ok, shape_matched) for one format."""
    parts = pc.extract_regex(values, cf.pattern)
    shape = np.asarray(parts.is_valid(), dtype=bool)
    parts = pc.fill_null(parts, pa.scalar({g: "" for g in cf.groups}, parts.type))
    if "y" in cf.groups:
        y = _int_field(parts, "y", shape)
    else:
        yy = _int_field(parts, "yy", shape)
        y = np.where(yy < 70, 2000 + yy, 1900 + yy)
    if "m" in cf.groups:
        m = _int_field(parts, "m", shape)
    else:
        names = pc.utf8_lower(pc.utf8_rtrim(pc.struct_field(parts, "mon"), characters="."))
        idx = np.asarray(pc.fill_null(pc.index_in(names, value_set=_MONTH_NAMES), -1))
        m = np.where(idx >= 0, _MONTH_NUMBERS[np.maximum(idx, 0)], 0)
    d = _int_field(parts, "d", shape)
    ok = shape & (m >= 1) & (m <= 12) & (d >= 1) & (d <= days_in_month(y, m)) & (y >= 1)
    for g, hi in (("H", 23), ("Mi", 59)):
        if g in cf.groups:
            ok &= _int_field(parts, g, shape) <= hi
    if "S" in cf.groups:
        sec = pc.utf8_slice_codeunits(pc.struct_field(parts, "S"), 0, 2)
        ok &= _int_field(pa.StructArray.from_arrays([sec], ["S"]), "S", shape) <= 60
    days = np.where(ok, days_from_civil(y, np.where(ok, m, 1), d), 0)
    return days, ok, shape


def parse_dates(values: pa.Array, formats: tuple[str, ...]) -> ParsedDates:
    """Parse text dates against the formats in order; the first that fits a value wins."""
    n = len(values)
    values = pc.fill_null(pc.cast(values, pa.string()), "")
    few = _distinct(values)
    if few is not None:  # parse each distinct text once (a statement has few dates)
        once = parse_dates(few[0], formats)
        return ParsedDates(**{f.name: getattr(once, f.name)[few[1]] for f in fields(once)})
    empty = np.asarray(pc.equal(pc.utf8_trim_whitespace(values), ""), dtype=bool)
    days = np.zeros(n, dtype=np.int64)
    ok = np.zeros(n, dtype=bool)
    shape_any = np.zeros(n, dtype=bool)
    which = np.full(n, -1, dtype=np.int8)
    for i, fmt in enumerate(formats):
        d, good, shape = _parse_one(values, compile_format(fmt))
        take = good & ~ok
        days = np.where(take, d, days)
        which = np.where(take, i, which).astype(np.int8)
        ok |= good
        shape_any |= shape
    return ParsedDates(
        days=days.astype(np.int32),
        ok=ok,
        empty=empty,
        matched_shape=shape_any & ~ok,
        fmt_index=which,
    )


# Columns at least this long are worked on per distinct value when those are few enough.
DISTINCT_MIN_ROWS = 1024
DISTINCT_SHARE = 8  # at most one distinct value in this many rows


def _distinct(values: pa.Array) -> tuple[pa.Array, npt.NDArray[np.intp]] | None:
    """(distinct values, each row's index into them) when the column is long, has no nulls and
    repeats itself; None otherwise."""
    if not isinstance(values, pa.Array) or len(values) < DISTINCT_MIN_ROWS or values.null_count:
        return None
    encoded = values.dictionary_encode()
    if len(encoded.dictionary) * DISTINCT_SHARE > len(values):
        return None
    return encoded.dictionary, encoded.indices.to_numpy().astype(np.intp, copy=False)


def civil_from_days(
    days: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(year, month, day) of days since 1970-01-01 (H. Hinnant's algorithm, vectorised)."""
    z = days + 719468
    era = np.floor_divide(z, 146097)
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + np.where(mp < 10, 3, -9)
    y = yoe + era * 400 + (m <= 2)
    return y, m, d


_OUT_TOKEN = re.compile(r"YYYY|YY|MMM|MM|DD")
_ABBR = pa.array([m[:3].title() for m in _MONTHS])


def format_dates(days: pa.Array, fmt: str) -> pa.Array:
    """Format a date32 array with zero-padded tokens (``DD/MM/YYYY``, ``YYYY-MM-DD``,
    ``DD MMM YYYY``). Nulls stay null."""
    few = _distinct(days.cast(pa.int32()))
    if few is not None:  # format each distinct day once
        return pc.take(format_dates(few[0].cast(pa.date32()), fmt), pa.array(few[1]))
    raw = np.asarray(pc.fill_null(days.cast(pa.int32()), 0), dtype=np.int64)
    y, m, d = civil_from_days(raw)

    def pad(a: npt.NDArray[np.int64], width: int) -> pa.Array:
        return pc.utf8_lpad(pc.cast(pa.array(a), pa.string()), width=width, padding="0")

    pieces: list[pa.Array | str] = []
    pos = 0
    for tok in _OUT_TOKEN.finditer(fmt):
        if tok.start() > pos:
            pieces.append(fmt[pos : tok.start()])
        t = tok.group()
        if t == "YYYY":
            pieces.append(pad(y, 4))
        elif t == "YY":
            pieces.append(pad(y % 100, 2))
        elif t == "MMM":
            pieces.append(pc.take(_ABBR, pa.array(m - 1)))
        elif t == "MM":
            pieces.append(pad(m, 2))
        else:
            pieces.append(pad(d, 2))
        pos = tok.end()
    if pos < len(fmt):
        pieces.append(fmt[pos:])
    out = pc.binary_join_element_wise(*pieces, "")
    return pc.if_else(pc.is_null(days), pa.scalar(None, pa.string()), out)
