"""Typed column values for expressions: one vector per expression node, with its per-row
errors, and the conversions between them and Arrow (decimal128 in and out); reading them from
text and writing them as text is in expr_text.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

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
