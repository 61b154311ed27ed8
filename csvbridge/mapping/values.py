"""A record shape's field values computed from a chunk: text, currency, date, decimal and
(through MoneyFields) money fields, with lookups and every failure a reason; and the records
table they make."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from ..dates import ParsedDates
from ..model import LINE_COL, ROW_COL, SOURCE_COL, FieldType, Kind
from ..money import CURRENCY_EXPONENTS, format_minor, parse_money
from ..readers.base import RawChunk
from .amounts import MoneyFields, _exponents
from .datefields import DateFields
from .fields import Columns, apply_map, constant, render_template, text_of
from .lookups import Lookup
from .model import FieldSpec
from .rejects import Errors

_DECIMAL_PLACES = 6  # exact decimals (quantities, unit prices) keep up to this many places
_KNOWN_CURRENCIES = pa.array(sorted(CURRENCY_EXPONENTS))


class FieldValues(MoneyFields, DateFields):
    """Mixin of CompiledMapping: the values of a record shape's fields, and its records."""

    kind: Kind
    lookups: dict[str, Lookup]
    _lookup_warnings: list[tuple[str, npt.NDArray[np.bool_]]]

    def _map_fields(
        self,
        fields: list[tuple[str, str, FieldSpec]],
        chunk: RawChunk,
        columns: Columns,
        errs: Errors,
        parsed_dates: dict[tuple[str, tuple[str, ...]], tuple[pa.Array, ParsedDates]],
    ) -> tuple[dict[str, pa.Array], npt.NDArray[np.int64] | None, npt.NDArray[np.bool_] | None]:
        """Compute every field of one record shape: (values, amounts, amount known).
        ``parsed_dates``: the chunk's date columns parsed so far (shared by its shapes)."""
        n = chunk.num_rows
        t = chunk.table
        values: dict[str, pa.Array] = {}
        raw: dict[str, tuple[str, pa.Array]] = {}
        order = sorted(fields, key=lambda f: f[1] != "currency")  # money needs its exponent
        exps: npt.NDArray[np.int64] = np.full(n, 2, dtype=np.int64)
        cur_ok = np.ones(n, dtype=bool)
        amounts: npt.NDArray[np.int64] | None = None
        amount_known: npt.NDArray[np.bool_] | None = None
        for key, name, spec in order:
            fld = self.kind.field(name)
            required = spec.required if spec.required is not None else fld.required
            if fld.type is FieldType.MONEY:
                arr, ok = self._money(name, spec, t, columns, exps, errs, required, key)
                ok &= cur_ok
                values[name] = arr
                if name == self.kind.amount_field:
                    amounts = np.asarray(pc.fill_null(arr, 0), dtype=np.int64)
                    amount_known = ok
                continue
            formula_dates = None
            if spec.expr is not None:
                res = self._formula(key, t, columns, None, errs, name)
                col = "(formula)"
                if res.type == "date":
                    formula_dates = res.values.cast(pa.date32())
                    text = pc.fill_null(pc.cast(formula_dates, pa.string()), "")
                else:
                    text = pc.fill_null(pc.cast(res.values, pa.string()), "")
                text = apply_map(text, spec)
            else:
                col, text = self._text(spec, t, columns, key)
            lookup = self.lookups.get(key)
            if lookup is not None:
                text, missing = lookup.apply(text)
                if lookup.spec.not_found == "reject":
                    errs.add(
                        missing,
                        name,
                        col,
                        text,
                        "lookup-not-found",
                        "not in the lookup table; add it to the table, or set not_found: "
                        "default or warn",
                    )
                elif lookup.spec.not_found == "warn":
                    self._lookup_warnings.append((f"lookup-not-found ({name})", missing))
            raw[name] = (col, text)
            empty = np.asarray(pc.equal(text, ""), dtype=bool)
            if required:
                errs.add(empty, name, col, text, "required", f"'{name}' is empty and is required")
            if fld.type is FieldType.TEXT:
                values[name] = pc.if_else(pa.array(empty), pa.scalar(None, pa.string()), text)
            elif fld.type is FieldType.CURRENCY:
                code = pc.utf8_upper(text)
                known = np.asarray(pc.is_in(code, value_set=_KNOWN_CURRENCIES), dtype=bool)
                bad = ~known & ~empty
                errs.add(
                    bad,
                    name,
                    col,
                    text,
                    "currency-unknown",
                    "not an ISO 4217 currency code (GBP, EUR, USD, ...); add a map: to the "
                    "currency field if the source uses its own codes",
                )
                cur_ok = known
                values[name] = pc.if_else(pa.array(known), code, pa.scalar(None, pa.string()))
                exps = _exponents(code)
            elif fld.type is FieldType.DATE and formula_dates is not None:
                values[name] = formula_dates
            elif fld.type is FieldType.DATE:
                values[name] = self._date_field(
                    name, spec, col, text, empty, chunk.native_dates, errs, parsed_dates
                )
            elif fld.type is FieldType.DECIMAL:
                pm = parse_money(text, _DECIMAL_PLACES, self.number_format(spec))
                errs.add(
                    pm.invalid | pm.too_precise, name, col, text, "number-invalid", "not a number"
                )
                formatted = format_minor(pa.array(pm.minor), _DECIMAL_PLACES)
                trimmed = pc.replace_substring_regex(formatted, r"\.?0+$", "")
                trimmed = pc.if_else(pc.equal(trimmed, ""), "0", trimmed)
                trimmed = pc.if_else(pc.equal(trimmed, "-"), "0", trimmed)
                values[name] = pc.if_else(pa.array(pm.ok), trimmed, pa.scalar(None, pa.string()))

        return values, amounts, amount_known

    def _text(
        self, spec: FieldSpec, t: pa.Table, columns: Columns, key: str
    ) -> tuple[str, pa.Array]:
        n = t.num_rows
        if spec.column is not None:
            col = columns.resolve(spec.column, f"{key}.column")
            text = text_of(t, col)
        elif spec.template is not None:
            col = spec.template
            text = render_template(spec.template, t, columns, f"{key}.template")
        else:
            col = "(constant)"
            text = constant(spec.value or "", n)
        return col, apply_map(text, spec)

    def _records(
        self,
        values: dict[str, pa.Array],
        chunk: RawChunk,
        kept: npt.NDArray[np.bool_],
        offset: int,
    ) -> pa.Table:
        schema = self.kind.arrow_schema()
        n = chunk.num_rows
        keep = pa.array(kept)
        arrays = []
        for f in schema:
            if f.name in values:
                arr = values[f.name].cast(f.type)
            elif f.name == SOURCE_COL:
                arr = pa.array(np.full(n, chunk.source, dtype=np.int32))
            elif f.name == LINE_COL:
                arr = pa.array(chunk.lines)
            elif f.name == ROW_COL:
                arr = pa.array(np.arange(offset, offset + n, dtype=np.int64))
            else:
                arr = pa.nulls(n, f.type)
            arrays.append(pc.filter(arr, keep))
        return pa.Table.from_arrays(arrays, schema=schema)
