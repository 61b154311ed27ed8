"""Money fields of a mapping: one amount column, money in / money out columns, or a formula —
parsed to exact int64 minor units with the currency's exponent, every failure a reason."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from ..money import CURRENCY_EXPONENTS, NumberFormat, parse_money
from .fields import Columns, text_of
from .model import FieldSpec
from .rejects import Errors

if TYPE_CHECKING:
    from .expressions import Result


class MoneyFields:
    """Mixin of CompiledMapping: the money fields."""

    def number_format(self, spec: FieldSpec) -> NumberFormat:  # provided by CompiledMapping
        raise NotImplementedError

    def _formula(
        self, key: str, t: pa.Table, columns: Columns, want: str | None, errs: Errors, fld: str
    ) -> Result:
        raise NotImplementedError

    def _text(
        self, spec: FieldSpec, t: pa.Table, columns: Columns, key: str
    ) -> tuple[str, pa.Array]:
        raise NotImplementedError

    def _money(
        self,
        name: str,
        spec: FieldSpec,
        t: pa.Table,
        columns: Columns,
        exps: npt.NDArray[np.int64],
        errs: Errors,
        required: bool,
        key: str,
    ) -> tuple[pa.Array, npt.NDArray[np.bool_]]:
        fmt = self.number_format(spec)
        n = t.num_rows
        if spec.money_in is not None or spec.money_out is not None:
            parts = []
            for ref, sign, label in (
                (spec.money_in, 1, "money_in"),
                (spec.money_out, -1, "money_out"),
            ):
                if ref is None:
                    continue
                col = columns.resolve(ref, f"{key}.{label}")
                text = text_of(t, col)
                pm = parse_money(text, exps, fmt)
                self._money_errors(pm, name, col, text, errs, fmt)
                parts.append((col, text, pm, sign))
            # in - out with each cell's own sign: -5.00 paid out is 5.00 back in (a refund)
            minor = sum((pm.minor * sign for _, _, pm, sign in parts), np.zeros(n, np.int64))
            empty = np.logical_and.reduce([pm.empty for _, _, pm, _ in parts])
            bad = np.logical_or.reduce([~pm.ok & ~pm.empty for _, _, pm, _ in parts])
            if len(parts) == 2:
                both = (parts[0][2].minor != 0) & (parts[1][2].minor != 0)
                errs.add(
                    both,
                    name,
                    f"{parts[0][0]} + {parts[1][0]}",
                    pc.binary_join_element_wise(parts[0][1], " / ", parts[1][1], ""),
                    "amount-both-sides",
                    f"both '{parts[0][0]}' and '{parts[1][0]}' hold an amount; "
                    "only one side should; check the row in the source",
                )
                bad |= both
            cols = " / ".join(c for c, *_ in parts)
            if required:
                errs.add(
                    empty,
                    name,
                    cols,
                    None,
                    "required",
                    f"no amount in {' or '.join(repr(c) for c, *_ in parts)}",
                )
            ok = ~bad & ~empty
        elif spec.expr is not None:
            res = self._formula(key, t, columns, "decimal", errs, name)
            units = res.to_units(exps)
            empty = np.asarray(res.values.is_null(), dtype=bool) & ~res.error_mask()
            errs.add(
                units.too_precise,
                name,
                "(formula)",
                None,
                "amount-precision",
                "the formula gives more decimal places than the currency has: wrap it in "
                "round(..., places)",
            )
            errs.add(units.too_large, name, "(formula)", None, "amount-invalid", "too large")
            if required:
                errs.add(empty, name, "(formula)", None, "required", f"'{name}' is empty")
            minor, ok = units.units, units.ok
        else:
            col, text = self._text(spec, t, columns, key)
            pm = parse_money(text, exps, fmt)
            self._money_errors(pm, name, col, text, errs, fmt)
            if required:
                errs.add(
                    pm.empty, name, col, text, "required", f"'{name}' is empty and is required"
                )
            minor, ok = pm.minor, pm.ok
        if spec.invert:
            minor = -minor
        return pa.array(minor, pa.int64(), mask=~ok), ok

    def _money_errors(
        self,
        pm: Any,
        name: str,
        col: str,
        text: pa.Array,
        errs: Errors,
        fmt: NumberFormat,
    ) -> None:
        errs.add(
            pm.invalid,
            name,
            col,
            text,
            "amount-invalid",
            f"not an amount with decimal mark '{fmt.decimal}' and thousands separator "
            f"'{fmt.thousands or 'none'}'; fix the cell, or the mapping's numbers: if the "
            "whole file is written another way",
        )
        errs.add(
            pm.too_precise,
            name,
            col,
            text,
            "amount-precision",
            "has more decimal places than the currency has; csvbridge never rounds money",
        )


def _exponents(codes: pa.Array) -> npt.NDArray[np.int64]:
    """Each row's currency exponent (2 where the code is unknown: such rows are rejected)."""
    filled = pc.fill_null(codes, "")
    uniq = pc.unique(filled)
    exp = np.array([CURRENCY_EXPONENTS.get(c, 2) for c in uniq.to_pylist()], dtype=np.int64)
    idx = np.asarray(pc.index_in(filled, value_set=uniq), dtype=np.int64)
    result: npt.NDArray[np.int64] = exp[idx]
    return result
