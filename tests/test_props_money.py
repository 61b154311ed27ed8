"""Property tests for exact money parsing and formatting (csvbridge.money).

Amounts are int64 minor units end to end; every expected value here is computed with Python
ints and string formatting, never with floats.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from csvbridge.money import (
    NumberFormat,
    ParsedMoney,
    _parse_plain,
    format_minor,
    format_one,
    parse_money,
)

SETTINGS = settings(max_examples=200, deadline=None)

PLAIN = NumberFormat(".", None)
LIMIT = 10**15
EXPONENTS = st.sampled_from([0, 2, 3])
MINOR = st.integers(min_value=-(LIMIT - 1), max_value=LIMIT - 1)
MINOR_LISTS = st.lists(MINOR, min_size=1, max_size=30)

# (thousands, decimal) pairs a source may use; None: no thousands separator.
FORMATS = st.sampled_from(
    [
        NumberFormat(".", None),
        NumberFormat(",", None),
        NumberFormat(".", ","),
        NumberFormat(",", "."),
        NumberFormat(",", " "),
        NumberFormat(".", "'"),
    ]
)


def parse(values: Sequence[str | None], exponent: int, fmt: NumberFormat = PLAIN) -> ParsedMoney:
    return parse_money(pa.array(values, pa.string()), exponent, fmt)


def check_shape(res: ParsedMoney, n: int) -> None:
    """Every result array has the input's length, and each cell is exactly one of ok, empty,
    too precise or invalid; minor is 0 wherever the cell is not ok."""
    for arr in (res.minor, res.ok, res.empty, res.too_precise, res.invalid):
        assert len(arr) == n
    assert res.minor.dtype == np.int64
    kinds = (
        res.ok.astype(int) + res.empty.astype(int) + res.too_precise.astype(int)
    ) + res.invalid.astype(int)
    assert (kinds == 1).all()
    assert (res.minor[~res.ok] == 0).all()


def group(digits: str, sep: str | None) -> str:
    """Group an integer's digits in threes from the right: 1234567 -> 1.234.567."""
    if not sep:
        return digits
    head = len(digits) % 3 or 3
    parts = [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
    return sep.join(parts)


def render(
    minor: int,
    exponent: int,
    fmt: NumberFormat,
    *,
    grouped: bool = True,
    negative_style: str = "-",
    symbol: str = "",
    pad: str = "",
) -> str:
    """Write an amount the way a statement might, with Python ints only."""
    whole, frac = divmod(abs(minor), 10**exponent)
    number = group(str(whole), fmt.thousands if grouped else None)
    if exponent:
        number += fmt.decimal + str(frac).rjust(exponent, "0")
    # a currency code goes after the number, a symbol before it
    body = f"{number} {symbol}" if symbol.isalpha() else symbol + number
    if minor < 0:
        if negative_style == "()":
            body = f"({body})"
        elif negative_style == "trailing":
            body = f"{body}-"
        elif negative_style == "after-symbol" and symbol and not symbol.isalpha():
            body = f"{symbol}-{number}"
        else:
            body = f"-{body}"
    return f"{pad}{body}{pad}"


# -- round trips --------------------------------------------------------------------------------


@SETTINGS
@given(values=MINOR_LISTS, exponent=EXPONENTS)
def test_format_minor_then_parse_round_trips(values: list[int], exponent: int) -> None:
    text = format_minor(pa.array(values, pa.int64()), exponent)
    assert text.to_pylist() == [format_one(v, exponent) for v in values]
    res = parse_money(text, exponent, PLAIN)
    check_shape(res, len(values))
    assert res.ok.all()
    assert res.minor.tolist() == values


@SETTINGS
@given(rows=st.lists(st.tuples(st.one_of(st.none(), MINOR), EXPONENTS), min_size=1, max_size=30))
def test_format_minor_per_row_exponents_round_trip(rows: list[tuple[int | None, int]]) -> None:
    values = [v for v, _ in rows]
    exps = np.array([e for _, e in rows], dtype=np.int64)
    text = format_minor(pa.array(values, pa.int64()), exps)
    expected = [None if v is None else format_one(v, int(e)) for v, e in rows]
    assert text.to_pylist() == expected
    res = parse_money(text, exps, PLAIN)
    check_shape(res, len(rows))
    assert res.ok.tolist() == [v is not None for v in values]
    assert res.empty.tolist() == [v is None for v in values]
    assert res.minor.tolist() == [v or 0 for v in values]


@SETTINGS
@given(
    values=MINOR_LISTS,
    exponent=EXPONENTS,
    fmt=FORMATS,
    negative_style=st.sampled_from(["-", "()", "trailing", "after-symbol"]),
    symbol=st.sampled_from(["", "£", "$", "€", "EUR", "GBP"]),
    pad=st.sampled_from(["", " ", "   ", "\t"]),
    grouped=st.booleans(),
)
def test_rendered_amounts_parse_back_exactly(
    values: list[int],
    exponent: int,
    fmt: NumberFormat,
    negative_style: str,
    symbol: str,
    pad: str,
    grouped: bool,
) -> None:
    cells = [
        render(
            v,
            exponent,
            fmt,
            grouped=grouped,
            negative_style=negative_style,
            symbol=symbol,
            pad=pad,
        )
        for v in values
    ]
    res = parse(cells, exponent, fmt)
    check_shape(res, len(values))
    assert res.ok.all(), [c for c, ok in zip(cells, res.ok, strict=True) if not ok]
    assert res.minor.tolist() == values


@pytest.mark.parametrize(
    ("cell", "fmt", "exponent", "minor"),
    [
        ("1.234.567,89", NumberFormat(",", "."), 2, 123456789),
        ("(12,00)", NumberFormat(",", "."), 2, -1200),
        ("12,00-", NumberFormat(",", "."), 2, -1200),
        ("£1,234.50", NumberFormat(".", ","), 2, 123450),
        ("  -£0.07  ", PLAIN, 2, -7),
        ("(£1 234,56)", NumberFormat(",", " "), 2, -123456),
        ("1'234.567 KWD", NumberFormat(".", "'"), 3, 1234567),
        ("1.234.567", NumberFormat(",", "."), 0, 1234567),
        ("12.5", PLAIN, 2, 1250),
        (".5", PLAIN, 2, 50),
        ("-0.00", PLAIN, 2, 0),
    ],
)
def test_known_renderings(cell: str, fmt: NumberFormat, exponent: int, minor: int) -> None:
    res = parse([cell], exponent, fmt)
    assert res.ok.tolist() == [True]
    assert res.minor.tolist() == [minor]


@SETTINGS
@given(values=MINOR_LISTS, exponent=EXPONENTS, zeros=st.integers(1, 4))
def test_extra_zero_decimals_are_exact(values: list[int], exponent: int, zeros: int) -> None:
    cells = [format_one(v, exponent) + ("" if exponent else ".") + "0" * zeros for v in values]
    res = parse(cells, exponent)
    assert res.ok.all()
    assert res.minor.tolist() == values


# -- fast path and general path agree -----------------------------------------------------------


def plain_cells(values: list[int], exponent: int, fmt: NumberFormat, grouped: bool) -> list[str]:
    return [render(v, exponent, fmt, grouped=grouped) for v in values]


@SETTINGS
@given(
    values=st.lists(st.one_of(MINOR, st.none()), min_size=1, max_size=30),
    exponent=EXPONENTS,
    fmt=FORMATS,
    grouped=st.booleans(),
    pad=st.sampled_from(["", " ", "  "]),
)
def test_fast_and_general_paths_agree(
    values: list[int | None], exponent: int, fmt: NumberFormat, grouped: bool, pad: str
) -> None:
    cells: list[str | None] = [
        None if v is None else pad + render(v, exponent, fmt, grouped=grouped) + pad for v in values
    ]
    arr = pa.array(cells, pa.string())
    stripped = pc.utf8_trim_whitespace(arr)
    empty = np.array([c is None for c in cells])
    # The plain column really is taken by the fast path ...
    assert _parse_plain(stripped, empty, exponent, fmt) is not None
    fast = parse_money(arr, exponent, fmt)
    # ... and a parenthesised negative forces the general parser on the same cells.
    forcing = "(" + render(100, exponent, fmt) + ")"
    general = parse_money(pa.array([*cells, forcing], pa.string()), exponent, fmt)
    n = len(cells)
    check_shape(fast, n)
    check_shape(general, n + 1)
    assert general.ok[n] and general.minor[n] == -100
    for name in ("minor", "ok", "empty", "too_precise"):
        assert getattr(fast, name).tolist() == getattr(general, name)[:n].tolist(), name
    assert fast.minor.tolist() == [v or 0 for v in values]


@SETTINGS
@given(
    cells=st.lists(
        st.one_of(
            st.from_regex(r"\A-?[0-9]{1,15}(\.[0-9]{0,5})?\Z"),
            st.from_regex(r"\A-?[0-9]{1,3}(,[0-9]{3}){0,4}(\.[0-9]{0,5})?\Z"),
            st.sampled_from(["", " ", "-", ".", "1.2.3", "--5", "12,34.00"]),
        ),
        min_size=1,
        max_size=20,
    ),
    exponent=EXPONENTS,
    thousands=st.sampled_from([None, ","]),
)
def test_paths_agree_on_near_plain_text(
    cells: list[str], exponent: int, thousands: str | None
) -> None:
    fmt = NumberFormat(".", thousands)
    alone = [parse([c], exponent, fmt) for c in cells]  # each cell on its own (maybe fast)
    general = parse([*cells, "(1)"], exponent, fmt)  # all together, forced general
    for i, one in enumerate(alone):
        got = (bool(one.ok[0]), int(one.minor[0]), bool(one.empty[0]))
        want = (bool(general.ok[i]), int(general.minor[i]), bool(general.empty[i]))
        assert got == want, cells[i]


# Regressions: each of these failed against commit 8a1861f's money.py (see the report).

UNICODE_SPACE = st.sampled_from(["\xa0", "\u2007", "\u202f", "\u3000", "\x0b", "\x0c", " ", "\t"])


@SETTINGS
@example(values=[1200], exponent=2, left="", right="\xa0")
@given(
    values=MINOR_LISTS,
    exponent=EXPONENTS,
    left=st.lists(UNICODE_SPACE, max_size=3).map("".join),
    right=st.lists(UNICODE_SPACE, max_size=3).map("".join),
)
def test_unicode_whitespace_padding_is_ignored_on_both_paths(
    values: list[int], exponent: int, left: str, right: str
) -> None:
    """'12.00\xa0' was ok on the fast path (Unicode trim) but invalid on the general path
    (RE2's \\s is ASCII-only) — the verdict depended on the other cells of the column."""
    cells = [left + format_one(v, exponent) + right for v in values]
    alone = parse(cells, exponent)
    mixed = parse([*cells, "(1)"], exponent)
    assert alone.ok.all() and mixed.ok.all()
    assert alone.minor.tolist() == values
    assert mixed.minor.tolist()[:-1] == values


@SETTINGS
@example(digits="1" + "0" * 15, exponent=2, grouped=True)  # 16 digits, grouped: fast path ok
@example(digits="922337203685478", exponent=4, grouped=False)  # wrapped silently to negative
@example(digits="9" * 19, exponent=2, grouped=False)  # raised ArrowInvalid
@example(digits="1" + "0" * 20, exponent=2, grouped=True)  # raised ArrowInvalid
@given(
    digits=st.from_regex(r"\A[1-9][0-9]{0,29}\Z"),
    exponent=st.sampled_from([0, 2, 3, 4]),
    grouped=st.booleans(),
)
def test_any_number_of_digits_is_exact_or_rejected_never_raises(
    digits: str, exponent: int, grouped: bool
) -> None:
    """However many integer digits a cell has, parsing never raises, both paths agree, and an
    amount reported ok is exact (so it fits int64 and has at most 15 whole digits)."""
    fmt = NumberFormat(".", "," if grouped else None)
    cell = group(digits, fmt.thousands) + ("." + "0" * exponent if exponent else "")
    alone = parse([cell, "-" + cell], exponent, fmt)
    mixed = parse([cell, "-" + cell, "(1)"], exponent, fmt)
    check_shape(alone, 2)
    check_shape(mixed, 3)
    assert alone.ok.tolist() == mixed.ok.tolist()[:2]
    assert alone.minor.tolist() == mixed.minor.tolist()[:2]
    want = int(digits) * 10**exponent
    if alone.ok[0]:
        assert len(digits) <= 15
        assert alone.minor.tolist() == [want, -want]
    else:
        assert alone.invalid.all()
    if len(digits) <= 14:  # comfortably inside every exponent's range
        assert alone.ok.all()


# -- invalid text -------------------------------------------------------------------------------

NO_DIGITS = st.text(
    alphabet=st.characters(blacklist_categories=("Nd", "Cs"), blacklist_characters="0123456789"),
    max_size=20,
)


@SETTINGS
@given(cells=st.lists(NO_DIGITS, min_size=1, max_size=20), exponent=EXPONENTS, fmt=FORMATS)
def test_text_without_digits_never_parses(
    cells: list[str], exponent: int, fmt: NumberFormat
) -> None:
    res = parse(cells, exponent, fmt)
    check_shape(res, len(cells))
    assert not res.ok.any()
    assert not res.too_precise.any()


INVALID = [
    ("--5", PLAIN),
    ("-+5", PLAIN),
    ("(-5)", PLAIN),
    ("(5", PLAIN),
    ("5)", PLAIN),
    ("-5-", PLAIN),
    ("1.2.3", PLAIN),
    ("1e400", PLAIN),
    ("1E5", PLAIN),
    ("NaN", PLAIN),
    ("nan", PLAIN),
    ("inf", PLAIN),
    ("-Infinity", PLAIN),
    ("∞", PLAIN),
    ("-∞", PLAIN),
    ("£12.00 USD", PLAIN),
    ("0x1F", PLAIN),
    ("12 34", PLAIN),
    ("12,34.00", NumberFormat(".", ",")),
    ("1,2345.00", NumberFormat(".", ",")),
    ("1234,567.00", NumberFormat(".", ",")),
    (",123.00", NumberFormat(".", ",")),
    ("12.34,00", NumberFormat(",", ".")),
    ("12,00", PLAIN),
    ("1234567890123456", PLAIN),  # 16 integer digits: beyond the supported range
]


@pytest.mark.parametrize(("cell", "fmt"), INVALID)
def test_invalid_strings_are_not_ok(cell: str, fmt: NumberFormat) -> None:
    for exponent in (0, 2, 3):
        res = parse([cell], exponent, fmt)
        check_shape(res, 1)
        assert not res.ok[0], (cell, exponent)
        assert res.invalid[0], (cell, exponent)


@SETTINGS
@given(
    values=MINOR_LISTS,
    bad=st.lists(st.sampled_from([c for c, f in INVALID if f == PLAIN]), min_size=1, max_size=5),
    exponent=EXPONENTS,
    data=st.data(),
)
def test_invalid_strings_among_valid_ones(
    values: list[int], bad: list[str], exponent: int, data: st.DataObject
) -> None:
    cells = [format_one(v, exponent) for v in values]
    for b in bad:
        cells.insert(data.draw(st.integers(0, len(cells))), b)
    res = parse(cells, exponent)
    check_shape(res, len(cells))
    is_bad = [c in bad for c in cells]
    assert res.ok.tolist() == [not b for b in is_bad]
    assert [int(m) for m, b in zip(res.minor, is_bad, strict=True) if not b] == values


@SETTINGS
@given(
    values=MINOR_LISTS,
    exponent=EXPONENTS,
    extra=st.from_regex(r"\A[0-9]{0,3}[1-9][0-9]{0,3}\Z"),
    fmt=FORMATS,
)
def test_too_many_decimals_is_too_precise(
    values: list[int], exponent: int, extra: str, fmt: NumberFormat
) -> None:
    cells = []
    for v in values:
        text = render(v, exponent, fmt)
        cells.append(text + ("" if exponent else fmt.decimal) + extra)
    res = parse(cells, exponent, fmt)
    check_shape(res, len(cells))
    assert res.too_precise.all()
    assert not res.ok.any()


# -- never raises -------------------------------------------------------------------------------


@SETTINGS
@given(
    cells=st.lists(st.one_of(st.none(), st.text(max_size=30)), max_size=20),
    exponent=st.sampled_from([0, 2, 3, 4]),
    fmt=FORMATS,
)
def test_arbitrary_text_never_raises(
    cells: list[str | None], exponent: int, fmt: NumberFormat
) -> None:
    res = parse(cells, exponent, fmt)
    check_shape(res, len(cells))
    res2 = parse([*cells, "(1)"], exponent, fmt)  # and through the general path
    check_shape(res2, len(cells) + 1)


@SETTINGS
@given(
    cells=st.lists(st.text(alphabet="0123456789.,-() £$'", max_size=24), min_size=1, max_size=20),
    exponent=EXPONENTS,
    fmt=FORMATS,
)
def test_amount_like_text_never_raises(cells: list[str], exponent: int, fmt: NumberFormat) -> None:
    check_shape(parse(cells, exponent, fmt), len(cells))
    check_shape(parse([*cells, "(1)"], exponent, fmt), len(cells) + 1)


@pytest.mark.parametrize(
    ("text", "minor"),
    [("85.5", 85_500_000), ("0.125", 125_000), ("(1.5)", -1_500_000), ("12", 12_000_000)],
)
def test_six_place_decimals_pad_to_their_exponent(text: str, minor: int) -> None:
    # regression: the general path padded fractions to 4 digits, so 85.5 read as 85.005
    mixed = pa.array([text, "(0.1)"])  # the parenthesis forces the general path
    assert int(parse_money(mixed, 6, NumberFormat()).minor[0]) == minor
