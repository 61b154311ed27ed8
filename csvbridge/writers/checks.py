"""What the accounting writers (qbo.py, xero.py, sage.py) check before writing: a record (or a
whole document) the target would choke on is refused with a Problem that says why."""

from __future__ import annotations

import decimal
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import TargetError
from ..money import format_minor, format_one
from . import format as fmt
from .base import (
    guard_formula,
)

FORMULA_START = r"^[=+\-@\t\r]"
BOM = "\ufeff".encode()
_D = decimal.Context(prec=60)


@dataclass(frozen=True)
class Problem:
    """Records a target refuses (``mask``), and why: canonical field, rule, message."""

    mask: npt.NDArray[np.bool_]
    field: str
    rule: str
    message: str


def as_mask(arr: pa.Array) -> npt.NDArray[np.bool_]:
    """A boolean array as numpy, null as False."""
    return np.asarray(pc.fill_null(arr, False).to_numpy(zero_copy_only=False), dtype=bool)


def blank(records: pa.Table, name: str) -> npt.NDArray[np.bool_]:
    """Where a field is missing (null, or text that is empty or only spaces)."""
    col = fmt.column(records, name)
    if pa.types.is_string(col.type):
        return as_mask(pc.equal(pc.utf8_trim_whitespace(pc.fill_null(col, "")), ""))
    return as_mask(pc.is_null(col))


def wrong_side(records: pa.Table, side: str, system: str, other: str) -> Problem:
    """Contacts whose type says they are only the other side (a supplier sent to a customer
    list, or the reverse); contacts typed 'both' or not typed pass."""
    words = {"customer": {"customer", "customers"}, "supplier": {"supplier", "suppliers"}}
    words["supplier"] |= {"vendor", "vendors"}
    opposite = "supplier" if side == "customer" else "customer"
    types = pc.utf8_lower(pc.utf8_trim_whitespace(pc.fill_null(fmt.column(records, "type"), "")))
    mask = as_mask(pc.is_in(types, value_set=pa.array(sorted(words[opposite]))))
    return Problem(
        mask,
        "type",
        "wrong-contact-type",
        f"this contact is a {opposite}, and {system} makes {side}s; write it with {other} "
        f"(or leave {opposite}s out with a filter in the mapping)",
    )


def phone(records: pa.Table, name: str, *, guard: bool) -> pa.Array:
    """A phone number: '+44 113 496 0000' is kept as it is; anything else that a spreadsheet
    would run as a formula is guarded like other text."""
    col = fmt.text(records, name, guard=False)
    if not guard:
        return col
    number = pc.match_substring_regex(col, r"^[+\-]?[0-9 ().\-/]*$")
    return pc.if_else(number, col, guard_formula(col))


def invalid_email(records: pa.Table) -> npt.NDArray[np.bool_]:
    """Emails given but not of the form name@domain.tld without spaces."""
    email = pc.fill_null(fmt.column(records, "email"), "")
    ok = pc.match_substring_regex(email, r"^[^\s@]+@[^\s@]+\.[^\s@]+$")
    return as_mask(pc.invert(ok)) & ~blank(records, "email")


def money_abs(records: pa.Table, name: str) -> pa.Array:
    """A money field without its sign, as ``1234.50`` (the currency's decimals)."""
    return format_minor(pc.abs(fmt.column(records, name)), fmt.exponents(records))


def fixed_decimal(values: Sequence[str | None], places: npt.NDArray[np.int64]) -> pa.Array:
    """Exact decimal text with at least ``places`` decimals ("120" → "120.00"); never rounds."""
    out: list[str | None] = []
    for v, p in zip(values, places.tolist(), strict=True):
        if not v:
            out.append(v)
            continue
        whole, _, frac = v.partition(".")
        out.append(f"{whole}.{frac.ljust(p, '0')}" if p or frac else whole)
    return pa.array(out, pa.string())


def line_prices(records: pa.Table) -> tuple[list[str], list[str], npt.NDArray[np.bool_]]:
    """Each invoice/bill line's quantity and unit price, derived where missing (quantity 1;
    price = amount ÷ quantity when exact), and where quantity × price, rounded half-up to the
    currency's decimals, is not the line amount (or no exact price exists)."""
    qty = fmt.column(records, "quantity").to_pylist()
    price = fmt.column(records, "unit_price").to_pylist()
    amount = fmt.column(records, "line_amount").to_pylist()
    exps = fmt.exponents(records).tolist()
    quantities, prices, bad = [], [], np.zeros(records.num_rows, dtype=bool)
    for i, (q, p, a, e) in enumerate(zip(qty, price, amount, exps, strict=True)):
        q = q or "1"
        total = decimal.Decimal(a or 0).scaleb(-e)
        if not p:
            if decimal.Decimal(q) == 0:
                bad[i] = total != 0
                p = "0"
            else:
                d = _D.divide(total, decimal.Decimal(q))
                p = _plain(d.quantize(decimal.Decimal(1).scaleb(-6), context=_D))
                bad[i] = _D.multiply(decimal.Decimal(p), decimal.Decimal(q)) != total
        else:
            step = decimal.Decimal(1).scaleb(-e)
            made = _D.multiply(decimal.Decimal(q), decimal.Decimal(p))
            bad[i] = made.quantize(step, decimal.ROUND_HALF_UP, context=_D) != total
        quantities.append(q)
        prices.append(p)
    return quantities, prices, bad


def _plain(d: decimal.Decimal) -> str:
    text = f"{d:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def document_ids(records: pa.Table, key: str | None) -> npt.NDArray[np.int64]:
    """0, 0, 1, 2, 2, ...: which document each record belongs to (documents arrive whole and
    contiguous); every record is its own document for kinds without a document key."""
    n = records.num_rows
    if key is None or n < 2:
        return np.arange(n, dtype=np.int64)
    keys = pc.fill_null(fmt.column(records, key), "")
    change = as_mask(pc.not_equal(keys.slice(1), keys.slice(0, n - 1)))
    return np.concatenate([[0], np.cumsum(change)]).astype(np.int64)


def starts_of(docs: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Index of each document's first record."""
    return np.flatnonzero(np.diff(docs, prepend=-1) != 0)


def document_sums(
    records: pa.Table, docs: npt.NDArray[np.int64], name: str
) -> npt.NDArray[np.int64]:
    """Per document, the exact int64 sum of a money field (nulls count 0)."""
    if not len(docs):
        return np.zeros(0, dtype=np.int64)
    vals = np.asarray(pc.fill_null(fmt.column(records, name), 0), dtype=np.int64)
    return np.add.reduceat(vals, starts_of(docs))


def unbalanced(records: pa.Table, docs: npt.NDArray[np.int64], system: str) -> list[Problem]:
    """Journals whose postings do not sum to zero (debits ≠ credits)."""
    sums = document_sums(records, docs, "amount")
    if not sums.any():
        return []
    amounts = np.asarray(pc.fill_null(fmt.column(records, "amount"), 0), dtype=np.int64)
    numbers = fmt.column(records, "number").to_pylist()
    exps = fmt.exponents(records)
    starts = starts_of(docs)
    out = []
    for d in np.flatnonzero(sums != 0):
        m = docs == d
        e = int(exps[starts[d]])
        debit = format_one(int(amounts[m & (amounts > 0)].sum()), e)
        credit = format_one(-int(amounts[m & (amounts < 0)].sum()), e)
        out.append(
            Problem(
                m,
                "amount",
                "journal-unbalanced",
                f"journal {numbers[starts[d]]} does not balance: debits {debit}, credits "
                f"{credit}; {system} refuses an entry whose debits and credits differ",
            )
        )
    return out


def code_map(text: str, option: str, target: str) -> dict[str, str]:
    """Parse a ``FROM=TO;FROM=TO`` option value."""
    out: dict[str, str] = {}
    for pair in filter(None, (p.strip() for p in text.split(";"))):
        src, eq, dst = pair.rpartition("=")
        if not eq or not src.strip():
            raise TargetError(
                f"option {option} of {target} needs FROM=TO pairs separated by ';'",
                where=f"-O {target}.{option}={text}",
                hint=f"for example -O '{target}.{option}=20% (VAT on Income)=T1;No VAT=T9'",
                code="option-invalid",
            )
        out[src.strip()] = dst.strip()
    return out


def translate(col: pa.Array, table: dict[str, str]) -> pa.Array:
    """Replace values found in ``table``; others stay."""
    if not table:
        return col
    return pa.array([table.get(v, v) if v else v for v in col.to_pylist()], pa.string())
