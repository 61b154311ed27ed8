"""Property tests for strict date parsing and formatting (csvbridge.dates)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from csvbridge.dates import (
    DateFormatError,
    ParsedDates,
    civil_from_days,
    compile_format,
    days_from_civil,
    format_dates,
    parse_dates,
)

SETTINGS = settings(max_examples=200, deadline=None)

EPOCH = dt.date(1970, 1, 1).toordinal()
MONTH_ABBR = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
MONTH_FULL = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]

DATES = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2199, 12, 31))
DATES_YY = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2069, 12, 31))
DATE_LISTS = st.lists(DATES, min_size=1, max_size=25)


def d_mmm_yyyy(d: dt.date) -> str:
    return f"{d.day} {MONTH_ABBR[d.month - 1]} {d.year}"


# csvbridge format -> how Python writes a date in it (strftime, locale-free for month names)
WRITERS: dict[str, Callable[[dt.date], str]] = {
    "DD/MM/YYYY": lambda d: d.strftime("%d/%m/%Y"),
    "MM/DD/YYYY": lambda d: d.strftime("%m/%d/%Y"),
    "YYYY-MM-DD": lambda d: d.strftime("%Y-%m-%d"),
    "D MMM YYYY": d_mmm_yyyy,
    "DD-MM-YY": lambda d: d.strftime("%d-%m-%y"),
}


def check_shape(res: ParsedDates, n: int) -> None:
    for arr in (res.days, res.ok, res.empty, res.matched_shape, res.fmt_index):
        assert len(arr) == n
    assert not (res.ok & res.matched_shape).any()
    assert not (res.ok & res.empty).any()
    assert ((res.fmt_index >= 0) == res.ok).all()
    assert len(res.to_arrow()) == n


def as_days(dates: list[dt.date]) -> list[int]:
    return [d.toordinal() - EPOCH for d in dates]


# -- parsing what Python wrote ------------------------------------------------------------------


@SETTINGS
@given(
    fmt=st.sampled_from(sorted(WRITERS)),
    data=st.data(),
)
def test_python_formatted_dates_parse_exactly(fmt: str, data: st.DataObject) -> None:
    strategy = DATES_YY if fmt == "DD-MM-YY" else DATES
    dates = data.draw(st.lists(strategy, min_size=1, max_size=25), label="dates")
    cells = [WRITERS[fmt](d) for d in dates]
    res = parse_dates(pa.array(cells), (fmt,))
    check_shape(res, len(dates))
    assert res.to_arrow().to_pylist() == dates
    assert res.ok.all()
    assert (res.fmt_index == 0).all()
    assert res.days.tolist() == as_days(dates)


@SETTINGS
@given(dates=DATE_LISTS, data=st.data())
def test_unpadded_and_variant_spellings_parse(dates: list[dt.date], data: st.DataObject) -> None:
    """D and DD both take one or two digits; month names ignore case, take full names and a
    trailing dot; surrounding spaces are allowed."""
    cells = []
    for d in dates:
        style = data.draw(st.sampled_from(["dmy", "full", "upper", "dot", "pad"]))
        if style == "dmy":
            cells.append(f"{d.day}/{d.month}/{d.year}")
        elif style == "full":
            cells.append(f"{d.day} {MONTH_FULL[d.month - 1]} {d.year}")
        elif style == "upper":
            cells.append(f"{d.day:02d} {MONTH_ABBR[d.month - 1].upper()} {d.year}")
        elif style == "dot":
            cells.append(f"{d.day} {MONTH_ABBR[d.month - 1].lower()}. {d.year}")
        else:
            cells.append(f"  {d.day:02d}/{d.month:02d}/{d.year}\t")
    res = parse_dates(pa.array(cells), ("DD/MM/YYYY", "D MMMM YYYY"))
    check_shape(res, len(dates))
    assert res.to_arrow().to_pylist() == dates


@SETTINGS
@given(dates=st.lists(DATES, min_size=1, max_size=25))
def test_first_matching_format_wins(dates: list[dt.date]) -> None:
    """Ambiguous day/month values follow the first format; the rest fall to the second."""
    cells = [d.strftime("%d/%m/%Y") for d in dates]
    res = parse_dates(pa.array(cells), ("MM/DD/YYYY", "DD/MM/YYYY"))
    check_shape(res, len(dates))
    for d, got, idx in zip(dates, res.to_arrow().to_pylist(), res.fmt_index, strict=True):
        if d.day <= 12:
            assert idx == 0
            assert got == dt.date(d.year, d.day, d.month)
        else:
            assert idx == 1
            assert got == d


@SETTINGS
@given(dates=st.lists(DATES, min_size=1, max_size=25))
def test_times_are_checked_and_dropped(dates: list[dt.date]) -> None:
    cells = [
        f"{d.isoformat()} {(d.day * 7) % 24:02d}:{d.month * 4:02d}:0{d.day % 10}" for d in dates
    ]
    res = parse_dates(pa.array(cells), ("YYYY-MM-DD HH:mm:ss",))
    assert res.to_arrow().to_pylist() == dates


# -- the day arithmetic -------------------------------------------------------------------------


@SETTINGS
@given(dates=st.lists(st.dates(), min_size=1, max_size=50))
def test_days_from_civil_matches_toordinal(dates: list[dt.date]) -> None:
    y = np.array([d.year for d in dates], dtype=np.int64)
    m = np.array([d.month for d in dates], dtype=np.int64)
    d_ = np.array([d.day for d in dates], dtype=np.int64)
    days = days_from_civil(y, m, d_)
    assert days.tolist() == as_days(dates)
    y2, m2, d2 = civil_from_days(days)
    assert (y2.tolist(), m2.tolist(), d2.tolist()) == (y.tolist(), m.tolist(), d_.tolist())


@SETTINGS
@given(days=st.lists(st.integers(1 - EPOCH, dt.date.max.toordinal() - EPOCH), max_size=50))
def test_civil_from_days_matches_fromordinal(days: list[int]) -> None:
    y, m, d = civil_from_days(np.array(days, dtype=np.int64))
    want = [dt.date.fromordinal(x + EPOCH) for x in days]
    assert list(zip(y.tolist(), m.tolist(), d.tolist(), strict=True)) == [
        (w.year, w.month, w.day) for w in want
    ]


@SETTINGS
@given(days=st.lists(st.integers(-(10**9), 10**9), min_size=1, max_size=50))
def test_civil_round_trip_far_outside_python_range(days: list[int]) -> None:
    arr = np.array(days, dtype=np.int64)
    y, m, d = civil_from_days(arr)
    assert ((m >= 1) & (m <= 12) & (d >= 1) & (d <= 31)).all()
    assert days_from_civil(y, m, d).tolist() == days
    # the next day is either the next day of the month or the 1st of the next month
    y1, m1, d1 = civil_from_days(arr + 1)
    same_month = (y1 == y) & (m1 == m) & (d1 == d + 1)
    next_month = (d1 == 1) & (((y1 == y) & (m1 == m + 1)) | ((y1 == y + 1) & (m1 == 1) & (m == 12)))
    assert (same_month | next_month).all()


# -- formatting round trips ---------------------------------------------------------------------

OUT_FORMATS = ["DD/MM/YYYY", "MM/DD/YYYY", "YYYY-MM-DD", "DD MMM YYYY", "DD-MM-YY", "YYYYMMDD"]


def zero_padded(d: dt.date, fmt: str) -> str:
    return (
        fmt.replace("YYYY", f"{d.year:04d}")
        .replace("YY", f"{d.year % 100:02d}")
        .replace("MMM", MONTH_ABBR[d.month - 1])
        .replace("MM", f"{d.month:02d}")
        .replace("DD", f"{d.day:02d}")
    )


@SETTINGS
@given(fmt=st.sampled_from(OUT_FORMATS), data=st.data())
def test_format_then_parse_round_trips(fmt: str, data: st.DataObject) -> None:
    strategy = DATES_YY if "YYYY" not in fmt else DATES
    dates = data.draw(st.lists(st.one_of(st.none(), strategy), min_size=1, max_size=25))
    arr = pa.array(dates, pa.date32())
    text = format_dates(arr, fmt)
    assert text.to_pylist() == [None if d is None else zero_padded(d, fmt) for d in dates]
    res = parse_dates(text, (fmt,))
    check_shape(res, len(dates))
    assert res.to_arrow().to_pylist() == dates
    assert res.empty.tolist() == [d is None for d in dates]
    # and parse -> format gives the same text back
    assert format_dates(res.to_arrow(), fmt).to_pylist() == text.to_pylist()


# -- impossible dates and garbage ---------------------------------------------------------------


def is_leap(y: int) -> bool:
    return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)


IMPOSSIBLE = st.one_of(
    st.tuples(st.integers(1900, 2199), st.sampled_from([4, 6, 9, 11]), st.just(31)),
    st.tuples(st.integers(1900, 2199), st.just(2), st.sampled_from([30, 31])),
    st.tuples(st.integers(1900, 2199).filter(lambda y: not is_leap(y)), st.just(2), st.just(29)),
    st.tuples(st.integers(1900, 2199), st.integers(1, 12), st.sampled_from([0, 32, 99])),
    st.tuples(st.integers(1900, 2199), st.sampled_from([0, 13, 99]), st.integers(1, 28)),
)


@SETTINGS
@example(ymds=[(1900, 2, 29), (2100, 2, 29), (2023, 4, 31), (2024, 2, 30)], fmt="DD/MM/YYYY")
@given(
    ymds=st.lists(IMPOSSIBLE, min_size=1, max_size=20),
    fmt=st.sampled_from(["DD/MM/YYYY", "MM/DD/YYYY", "YYYY-MM-DD", "D MMM YYYY"]),
)
def test_impossible_dates_are_not_ok_but_match_the_shape(
    ymds: list[tuple[int, int, int]], fmt: str
) -> None:
    if fmt == "D MMM YYYY":
        ymds = [(y, m, d) for y, m, d in ymds if 1 <= m <= 12]  # a month name must exist
        cells = [f"{d} {MONTH_ABBR[m - 1]} {y}" for y, m, d in ymds]
    else:
        cells = [
            fmt.replace("YYYY", str(y)).replace("MM", f"{m:02d}").replace("DD", f"{d:02d}")
            for y, m, d in ymds
        ]
    res = parse_dates(pa.array(cells, pa.string()), (fmt,))
    check_shape(res, len(cells))
    assert not res.ok.any()
    assert res.matched_shape.all()
    assert not res.empty.any()
    assert (res.fmt_index == -1).all()


@pytest.mark.parametrize("year", [1900, 2100, 2023, 2200, 1800])
def test_feb_29_in_non_leap_years(year: int) -> None:
    res = parse_dates(pa.array([f"29/02/{year}", f"28/02/{year}"]), ("DD/MM/YYYY",))
    assert res.ok.tolist() == [False, True]
    assert res.matched_shape.tolist() == [True, False]


@pytest.mark.parametrize("year", [2000, 2024, 1904, 2196])
def test_feb_29_in_leap_years(year: int) -> None:
    res = parse_dates(pa.array([f"29/02/{year}"]), ("DD/MM/YYYY",))
    assert res.to_arrow().to_pylist() == [dt.date(year, 2, 29)]


FORMATS = [
    "DD/MM/YYYY",
    "MM/DD/YYYY",
    "YYYY-MM-DD",
    "D MMM YYYY",
    "DD-MM-YY",
    "MMMM D, YYYY",
    "%d.%m.%Y",
    "%e %b %y",
    "YYYY-MM-DD HH:mm:ss",
]


@SETTINGS
@given(
    cells=st.lists(
        st.one_of(
            st.none(),
            st.text(max_size=30),
            st.text(alphabet="0123456789/-.: ,JanFebMaySeptDec\t", max_size=25),
        ),
        max_size=25,
    ),
    formats=st.lists(st.sampled_from(FORMATS), min_size=1, max_size=3, unique=True),
)
def test_garbage_never_raises(cells: list[str | None], formats: list[str]) -> None:
    res = parse_dates(pa.array(cells, pa.string()), tuple(formats))
    check_shape(res, len(cells))
    assert res.empty.tolist() == [c is None or not c.strip() for c in cells]
    # whatever did parse is a real date that formats back to a valid ISO string
    for iso, ok in zip(format_dates(res.to_arrow(), "YYYY-MM-DD").to_pylist(), res.ok, strict=True):
        assert (iso is not None) == ok
        if iso is not None:
            dt.date.fromisoformat(iso)


@pytest.mark.parametrize(
    "fmt", ["DD/MM", "MM/YYYY", "DD/DD/YYYY", "YYYY-MM-DD-MM", "D MMM", "HH:mm"]
)
def test_unusable_formats_are_rejected(fmt: str) -> None:
    with pytest.raises(DateFormatError):
        compile_format(fmt)


@SETTINGS
@given(yy=st.integers(0, 99), month=st.integers(1, 12), day=st.integers(1, 28))
def test_two_digit_years_follow_the_posix_pivot(yy: int, month: int, day: int) -> None:
    res = parse_dates(pa.array([f"{day:02d}-{month:02d}-{yy:02d}"]), ("DD-MM-YY",))
    year = 2000 + yy if yy < 70 else 1900 + yy
    assert res.to_arrow().to_pylist() == [dt.date(year, month, day)]
