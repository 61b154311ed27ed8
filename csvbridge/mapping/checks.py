"""A mapping's checks: ``rule:`` conditions over each row, ``unique:`` values across the batch,
and the document total stated in a column (gathered here, compared in documents.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from ..documents import StatedTotals
from ..money import NumberFormat, parse_money
from ..readers.base import RawChunk
from .amounts import _exponents
from .expressions import Frame
from .fields import Columns, spec_columns, text_of
from .formulas import Formulas
from .model import FieldSpec, Mapping
from .rejects import Errors
from .state import MappingState

Warnings = list[tuple[str, npt.NDArray[np.bool_]]]


class RowChecks:
    """Mixin of CompiledMapping: the checks."""

    mapping: Mapping
    formulas: Formulas

    def _chunk_frame(self, t: pa.Table, columns: Columns) -> Frame:
        raise NotImplementedError

    def number_format(self, spec: FieldSpec) -> NumberFormat:
        raise NotImplementedError

    @property
    def stateful(self) -> bool:
        """True when chunks must be mapped in order with one MappingState (fill_down,
        unique: checks, a stated document total); False: any order, a fresh state each."""
        m = self.mapping
        return (
            m.fill_down is not None
            or any(c.unique is not None for c in m.checks)
            or m.documents.total_column is not None
        )

    def new_state(self) -> MappingState:
        """A fresh state for a batch (see mapping/state.py)."""
        docs = self.mapping.documents
        totals = None
        if docs.total_column is not None:
            totals = StatedTotals(str(docs.total_column), docs.total, Decimal(docs.total_tolerance))
        return MappingState(totals=totals)

    def _checks(self, t: pa.Table, columns: Columns, errs: Errors) -> Warnings:
        """Run the mapping's rule: checks: errors reject, warnings are returned (rule, rows)."""
        warnings: Warnings = []
        for i, f in self.formulas.checks.items():
            spec = self.mapping.checks[i]
            holds, _ = self.formulas.condition(f, self._chunk_frame(t, columns))
            failing = ~holds
            message = spec.message or f"breaks the rule {spec.rule}"
            if spec.severity == "error":
                errs.add(failing, "", "(check)", None, spec.name, message)
            else:
                warnings.append((spec.name, failing))
        return warnings

    def _unique(
        self,
        values: dict[str, pa.Array],
        chunk: RawChunk,
        columns: Columns,
        compared: npt.NDArray[np.bool_],
        errs: Errors,
        state: MappingState,
    ) -> tuple[Warnings, dict[str, dict[int, str]]]:
        """The unique: checks over the ``compared`` rows: a value already seen (earlier in the
        chunk, or in ``state`` from earlier chunks and files) breaks the rule. Errors reject;
        warnings are returned with a note per line naming the first occurrence."""
        warnings: Warnings = []
        notes: dict[str, dict[int, str]] = {}
        n = chunk.num_rows
        file = columns.source
        for i, spec in enumerate(self.mapping.checks):
            names = spec.unique_fields
            if not names:
                continue
            seen = state.seen.setdefault(i, {})
            valid = compared.copy()
            for f in names:  # an empty value is not compared
                valid &= np.asarray(values[f].is_valid(), dtype=bool)
            rows = np.flatnonzero(valid)
            take = pa.array(rows)
            cols = [pc.take(values[f], take).to_numpy(zero_copy_only=False) for f in names]
            keys: list[Any] = list(cols[0]) if len(cols) == 1 else list(zip(*cols, strict=True))
            lines = chunk.lines[rows].tolist()
            # the first row of each value in this chunk (a dict keeps the last write: reversed)
            first_here = dict(zip(reversed(keys), range(len(keys) - 1, -1, -1), strict=True))
            at = np.fromiter((first_here[k] for k in keys), np.int64, len(keys))
            before = np.fromiter((k in seen for k in keys), bool, len(keys))
            repeat = before | (at != np.arange(len(keys)))
            dup = np.zeros(n, dtype=bool)
            dup[rows[repeat]] = True
            firsts: list[str] = [""] * n
            what = spec.message or (
                f"{' + '.join(names)} must be unique in the batch, and the first row with this "
                "value is kept; if both rows are real, the source repeats an id that should not "
                "repeat"
            )
            for j in map(int, np.flatnonzero(repeat)):
                first = seen.get(keys[j]) or (file, lines[int(at[j])])
                where = f"line {first[1]}" + ("" if first[0] == file else f" of {first[0]}")
                firsts[int(rows[j])] = f"{what}; this value was first on {where}"
            seen.update((k, (file, lines[a])) for k, a in first_here.items() if k not in seen)
            if not dup.any():
                continue
            cols_of = [spec_columns(self.mapping.fields[f]) for f in names]
            pairs = list(zip(cols_of, names, strict=True))
            column = " + ".join(str(c[0]) if len(c) == 1 else f for c, f in pairs)
            shown = pc.binary_join_element_wise(  # as the file has it, where one column gives it
                *[
                    text_of(chunk.table, columns.resolve(c[0], f"fields.{f}"))
                    if len(c) == 1
                    else pc.cast(values[f], pa.string()).fill_null("")
                    for c, f in pairs
                ],
                " / ",
            )
            if spec.severity == "error":
                errs.add(dup, names[0], column, shown, spec.name, firsts)
            else:
                warnings.append((spec.name, dup))
                notes[spec.name] = {
                    int(chunk.lines[r]): firsts[r] for r in map(int, np.flatnonzero(dup))
                }
        return warnings, notes

    def _stated_total(
        self, t: pa.Table, columns: Columns, values: dict[str, pa.Array], errs: Errors
    ) -> pa.Array | None:
        """The documents' stated totals in minor units (null where the cell is empty or not
        an amount; the latter rejects the row)."""
        ref = self.mapping.documents.total_column
        if ref is None:
            return None
        col = columns.resolve(ref, "documents.total_column")
        text = text_of(t, col)
        exps = _exponents(values["currency"]) if "currency" in values else 2
        fmt = self.number_format(FieldSpec(column=col))
        pm = parse_money(text, exps, fmt)
        errs.add(
            pm.invalid | pm.too_precise,
            "line_amount",
            col,
            text,
            "amount-invalid",
            f"the stated total is not an amount with decimal mark '{fmt.decimal}' (or has "
            "more decimal places than the currency)",
        )
        return pa.array(pm.minor, pa.int64(), mask=~pm.ok)

    def _note_totals(
        self,
        totals: pa.Array,
        values: dict[str, pa.Array],
        chunk: RawChunk,
        file: str,
        kept: npt.NDArray[np.bool_],
        state: MappingState,
    ) -> None:
        """Hand the kept rows' stated totals to the batch's StatedTotals."""
        key = "number"
        if state.totals is None or key not in values:
            return
        take = pa.array(kept & np.asarray(totals.is_valid(), dtype=bool))
        exps = _exponents(values["currency"]) if "currency" in values else np.full(len(kept), 2)
        state.totals.add(
            pc.filter(values[key], take),
            np.asarray(pc.filter(totals, take), dtype=np.int64),
            np.asarray(exps)[np.asarray(take)],
            file,
            chunk.lines[np.asarray(take)],
        )
