"""Date-times with UTC offsets or a stated zone, turned into the date of the books' time zone.
The rule is in dates.py's docstring (and the mapping reference): an offset or a field's zone
makes a date-time an instant; only the mapping's ``timezone:`` moves it to another date."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from .dates import ParsedDates, compile_format

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NAIVE_EPOCH = datetime(1970, 1, 1)
_UTC_NAMES = {"UTC", "Etc/UTC", "Etc/GMT", "GMT", "Z"}


def _ints(parts: pa.StructArray, name: str, rows: npt.NDArray[np.bool_]) -> np.ndarray:
    col = pc.fill_null(pc.struct_field(parts, name), "")
    col = pc.if_else(pa.array(rows), pc.utf8_slice_codeunits(col, 0, 2), "0")
    col = pc.if_else(pc.equal(col, ""), "0", col)
    return np.asarray(pc.cast(col, pa.int64()), dtype=np.int64)


def _offsets(text: pa.Array) -> npt.NDArray[np.int64]:
    """Minutes east of UTC of offsets written Z, +0000, -05:00 or +01."""
    t = pc.replace_substring(pc.fill_null(text, ""), ":", "")
    t = pc.if_else(pc.equal(t, "Z"), "+0000", t)
    t = pc.if_else(pc.equal(pc.utf8_length(t), 3), pc.binary_join_element_wise(t, "00", ""), t)
    t = pc.if_else(pc.equal(pc.utf8_length(t), 5), t, "+0000")
    hours = np.asarray(pc.cast(pc.utf8_slice_codeunits(t, 1, 3), pa.int64()), dtype=np.int64)
    mins = np.asarray(pc.cast(pc.utf8_slice_codeunits(t, 3, 5), pa.int64()), dtype=np.int64)
    sign = np.where(np.asarray(pc.starts_with(t, "-"), dtype=bool), -1, 1)
    result: npt.NDArray[np.int64] = sign * (hours * 60 + mins)
    return result


def _utc_offset(utc: int, tz: zoneinfo.ZoneInfo) -> int:
    off = (_EPOCH + timedelta(seconds=utc)).astimezone(tz).utcoffset()
    return int(off.total_seconds()) if off is not None else 0


def _local_offset(local: int, tz: zoneinfo.ZoneInfo) -> int:
    off = (_NAIVE_EPOCH + timedelta(seconds=local)).replace(tzinfo=tz).utcoffset()
    return int(off.total_seconds()) if off is not None else 0


def _offsets_by_hour(
    seconds: npt.NDArray[np.int64], offset_at: Callable[[int], int]
) -> npt.NDArray[np.int64]:
    """``offset_at`` of every value, asked once per distinct hour: an hour whose first and
    last second have the same offset has it throughout; the rare hour that holds a change of
    offset is asked value by value."""
    hours, inv = np.unique(np.floor_divide(seconds, 3600), return_inverse=True)
    start = np.array([offset_at(int(h) * 3600) for h in hours], dtype=np.int64)
    end = np.array([offset_at(int(h) * 3600 + 3599) for h in hours], dtype=np.int64)
    out: npt.NDArray[np.int64] = start[inv]
    changing = (start != end)[inv]
    for i in map(int, np.flatnonzero(changing)):
        out[i] = offset_at(int(seconds[i]))
    return out


def _to_utc(local: npt.NDArray[np.int64], zone: str) -> npt.NDArray[np.int64]:
    """UTC seconds of naive local seconds in ``zone`` (fold 0 in the repeated hour)."""
    if zone in _UTC_NAMES:
        return local
    tz = zoneinfo.ZoneInfo(zone)
    result: npt.NDArray[np.int64] = local - _offsets_by_hour(local, lambda s: _local_offset(s, tz))
    return result


def _local_days(utc: npt.NDArray[np.int64], zone: str) -> npt.NDArray[np.int64]:
    """Days since 1970-01-01 of the local date in ``zone`` of UTC seconds."""
    tz = None if zone in _UTC_NAMES else zoneinfo.ZoneInfo(zone)
    local = utc if tz is None else utc + _offsets_by_hour(utc, lambda s: _utc_offset(s, tz))
    result: npt.NDArray[np.int64] = np.floor_divide(local, 86400)
    return result


def book_dates(
    values: pa.Array,
    formats: tuple[str, ...],
    parsed: ParsedDates,
    timezone: str | None,
    zone: str | None,
) -> pa.Array:
    """The parsed dates as date32, moved to ``timezone`` (the books' zone) where a value is an
    instant: it has a UTC offset, or a time and the field's ``zone``. Without ``timezone``
    every date stays as written."""
    moved = _moved_days(values, formats, parsed, timezone, zone)
    if moved is None:
        return parsed.to_arrow()
    return pa.array(moved.astype(np.int32), type=pa.int32(), mask=~parsed.ok).cast(pa.date32())


def book_days(
    values: pa.Array,
    formats: tuple[str, ...],
    parsed: ParsedDates,
    timezone: str | None,
    zone: str | None = None,
) -> npt.NDArray[np.int64]:
    """``book_dates`` as days since 1970-01-01 (int64; meaningful where ``parsed.ok``): the
    same rule, for the formula function date()."""
    moved = _moved_days(values, formats, parsed, timezone, zone)
    return parsed.days.astype(np.int64) if moved is None else moved


def _moved_days(
    values: pa.Array,
    formats: tuple[str, ...],
    parsed: ParsedDates,
    timezone: str | None,
    zone: str | None,
) -> npt.NDArray[np.int64] | None:
    """The days of ``book_dates``, or None when no value is moved (no ``timezone``, or no
    instant among the values)."""
    days = parsed.days.astype(np.int64)
    if timezone is None:
        return None
    n = len(values)
    secs = np.zeros(n, dtype=np.int64)
    offset = np.zeros(n, dtype=np.int64)
    instant = np.zeros(n, dtype=bool)
    with_offset = np.zeros(n, dtype=bool)
    text = pc.fill_null(pc.cast(values, pa.string()), "")
    for i, fmt in enumerate(formats):
        cf = compile_format(fmt)
        has_offset = "z" in cf.groups
        if not (has_offset or ("H" in cf.groups and zone is not None)):
            continue
        rows = parsed.ok & (parsed.fmt_index == i)
        if not rows.any():
            continue
        parts = pc.extract_regex(text, cf.pattern)
        parts = pc.fill_null(parts, pa.scalar({g: "" for g in cf.groups}, parts.type))
        s = np.zeros(n, dtype=np.int64)
        for g, mult in (("H", 3600), ("Mi", 60), ("S", 1)):
            if g in cf.groups:
                s += _ints(parts, g, rows) * mult
        secs = np.where(rows, s, secs)
        if has_offset:
            offset = np.where(rows, _offsets(pc.struct_field(parts, "z")), offset)
            with_offset |= rows
        instant |= rows
    if not instant.any():
        return None
    local = days * 86400 + secs
    utc = local - offset * 60
    naive = instant & ~with_offset
    if naive.any() and zone is not None:
        utc = np.where(naive, _to_utc(np.where(naive, local, 0), zone), utc)
    moved: npt.NDArray[np.int64] = np.where(
        instant, _local_days(np.where(instant, utc, 0), timezone), days
    )
    return moved
