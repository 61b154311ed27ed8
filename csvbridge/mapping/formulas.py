"""The formulas of a mapping — field ``expr:``, filter ``when:`` and ``checks:`` rules — parsed
once, bound to the file's columns, and evaluated per chunk over one shared frame."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import MappingError
from ..money import NumberFormat
from .expressions import BoundExpression, EvalContext, Expr, ExpressionError, Frame, bind, parse
from .fields import Columns, text_of
from .load import locate
from .model import Mapping


@dataclass(frozen=True)
class Formula:
    """One formula, with the mapping key it came from."""

    key: str
    expr: Expr


def _parse(text: str, key: str, source: str) -> Formula:
    try:
        return Formula(key, parse(text))
    except ExpressionError as e:
        raise MappingError(
            f"the formula is not valid: {e.message}",
            where=locate(source, key),
            hint=e.hint or "see the expression reference in mappings/README.md",
            code="expression-invalid",
        ) from None


class Formulas:
    """Every formula in a mapping; ``for_file`` binds them to one file's columns."""

    def __init__(self, mapping: Mapping, source: str) -> None:
        self.source = source
        # keyed by the mapping key of the field: fields.<name> or split[<i>].fields.<name>
        self.fields = {
            f"fields.{name}": _parse(spec.expr, f"fields.{name}.expr", source)
            for name, spec in mapping.fields.items()
            if spec.expr is not None
        }
        for i, entry in enumerate(mapping.split):
            for name, spec in entry.fields.items():
                if spec.expr is not None:
                    key = f"split[{i + 1}].fields.{name}"
                    self.fields[key] = _parse(spec.expr, f"{key}.expr", source)
        self.split_when = {
            i: _parse(e.when, f"split[{i + 1}].when", source)
            for i, e in enumerate(mapping.split)
            if e.when is not None
        }
        self.filters = {
            i: _parse(f.when, f"filters[{i + 1}].when", source)
            for i, f in enumerate(mapping.filters)
            if f.when is not None
        }
        self.checks = {  # by the check's index; unique: checks have no formula
            i: _parse(c.rule, f"checks[{i + 1}].rule", source)
            for i, c in enumerate(mapping.checks)
            if c.rule is not None
        }
        dates = mapping.dates
        self.context = EvalContext(
            number_format=NumberFormat(mapping.numbers.decimal, mapping.numbers.thousands or None),
            date_formats=((dates,) if isinstance(dates, str) else tuple(dates or ())),
            timezone=mapping.timezone,
        )
        self._bound: dict[str, BoundExpression] = {}

    def all(self) -> list[Formula]:
        return [
            *self.fields.values(),
            *self.filters.values(),
            *self.split_when.values(),
            *self.checks.values(),
        ]

    def names(self) -> set[str]:
        """Column names the formulas read (for finding the header)."""
        return {n for f in self.all() for n in f.expr.columns()}

    def frame(self, table: pa.Table, columns: Columns) -> Frame:
        """The chunk's columns the formulas read, under the names the formulas use."""
        arrays = {name: text_of(table, columns.resolve(name, "a formula")) for name in self.names()}
        return Frame(arrays, table.num_rows)

    def bound(self, formula: Formula, frame: Frame, want: str | None = None) -> BoundExpression:
        b = self._bound.get(formula.key)
        if b is None:
            types = {k: v.type for k, v in frame.columns.items()}
            try:
                b = bind(formula.expr, self.context, types)
            except ExpressionError as e:
                raise MappingError(
                    f"the formula cannot be used: {e.message}",
                    where=locate(self.source, formula.key),
                    hint=e.hint or "see the expression reference in mappings/README.md",
                    code="expression-invalid",
                ) from None
            if want is not None and b.type not in (want, "null"):
                raise MappingError(
                    f"the formula gives {b.type}, and this needs {want}",
                    where=locate(self.source, formula.key),
                    hint="conditions compare (=, <, ~, in, is empty); a field's formula gives "
                    "its type (text, a number for money, a date)",
                    code="expression-invalid",
                )
            self._bound[formula.key] = b
        return b

    def condition(self, formula: Formula, frame: Frame) -> tuple[npt.NDArray[np.bool_], object]:
        """Rows where the condition holds (null counts as false), and the result (errors)."""
        res = self.bound(formula, frame, "bool").run(frame)
        mask = np.asarray(pc.fill_null(res.values.cast(pa.bool_()), False), dtype=bool)
        return mask, res
