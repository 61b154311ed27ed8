"""Applying a mapping to a chunk of raw text: a function from (mapping, raw chunk, carried
state) to canonical records, rejected rows with every reason, filtered rows and the chunk's
ledger. The state (mapping/state.py) is touched only by fill_down, unique: checks and stated
document totals. A record shape's field values are computed in values.py."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from ..dates import ParsedDates
from ..errors import MappingError
from ..model import ROW_COL, FieldType, Kind, get_kind
from ..money import NumberFormat
from ..readers.base import RawChunk
from ..reports.ledger import Ledger, Tally
from .checks import RowChecks
from .expressions import Frame, Result
from .fields import Columns, is_position, spec_columns
from .filters import RowFilters
from .formulas import Formulas
from .load import locate
from .lookups import Lookup, load_lookup
from .model import FieldSpec, Mapping
from .rejects import Errors, RejectedRow, build_rejects
from .state import MappingState, fill_down
from .values import FieldValues


@dataclass
class ChunkResult:
    """What one chunk became."""

    records: pa.Table
    rejects: list[RejectedRow]
    ledger: Ledger
    warnings: list[tuple[str, list[int]]] = field(default_factory=list)  # check, lines
    # document numbers of rejected rows (document kinds): the rest of those documents must
    # not be imported without them
    rejected_documents: set[str] = field(default_factory=set)
    # check -> line -> what to tell a person about that line (unique: names the first line)
    notes: dict[str, dict[int, str]] = field(default_factory=dict)


class CompiledMapping(FieldValues, RowFilters, RowChecks):
    """A mapping bound to its kind, ready to apply to chunks from any file it fits."""

    def __init__(self, mapping: Mapping, source: str = "mapping") -> None:
        self.mapping = mapping
        self.source = source
        self.kind: Kind = get_kind(mapping.kind)
        self._check_formats()
        self.formulas = Formulas(mapping, source)
        self.lookups: dict[str, Lookup] = {
            key: load_lookup(spec.lookup, source, key)
            for _, fields in self.entries()
            for key, _, spec in fields
            if spec.lookup is not None
        }
        self._frame: Frame | None = None
        self._lookup_warnings: list[tuple[str, npt.NDArray[np.bool_]]] = []
        self._frame_of: pa.Table | None = None  # the chunk _frame was built for

    # -- set-up -----------------------------------------------------------------------------
    def _check_formats(self) -> None:
        for name, spec in self.mapping.fields.items():
            ftype = self.kind.field(name).type
            if ftype is FieldType.DATE:
                self._check_date_formats(name, spec)
            if (spec.money_in is not None or spec.money_out is not None) and (
                ftype is not FieldType.MONEY
            ):
                raise MappingError(
                    f"money_in/money_out only fit money fields; '{name}' is {ftype.value}",
                    where=locate(self.source, f"fields.{name}"),
                    hint="use column: for this field",
                    code="mapping-invalid",
                )
            for i, f in enumerate(self.mapping.filters, start=1):
                if f.matches is not None:
                    try:  # checked by the engine that runs it (RE2: no lookaround)
                        pc.match_substring_regex(pa.array([""], pa.string()), f.matches)
                    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
                        raise MappingError(
                            f"filter '{f.name}': the regular expression cannot be used: {e}",
                            where=locate(self.source, f"filters[{i}].matches"),
                            hint="check the pattern; escape special characters like ( ) . + — "
                            "lookahead, lookbehind and backreferences are not supported",
                            code="mapping-invalid",
                        ) from None

    def expected_columns(self) -> tuple[str, ...]:
        """Column names (not numbers) the mapping reads: the reader uses them to find the
        header row."""
        names: list[str] = []
        for _, fields in self.entries():
            for _, _, spec in fields:
                names += [
                    c for c in spec_columns(spec) if isinstance(c, str) and not is_position(c)
                ]
        names += [
            f.column
            for f in self.mapping.filters
            if isinstance(f.column, str) and not is_position(f.column)
        ]
        names += sorted(self.formulas.names())
        fill = self.mapping.fill_down
        extra = [*(fill.columns if fill else []), fill.within if fill else None]
        extra.append(self.mapping.documents.total_column)
        names += [c for c in extra if isinstance(c, str) and not is_position(c)]
        return tuple(dict.fromkeys(names))

    def _formula(
        self, key: str, t: pa.Table, columns: Columns, want: str | None, errs: Errors, fld: str
    ) -> Result:
        """Evaluate the formula at ``key`` over this chunk; its row errors become rejects."""
        f = self.formulas.fields[key]
        frame = self._chunk_frame(t, columns)
        res = self.formulas.bound(f, frame, want).run(frame)
        for e in res.errors:
            errs.add(e.mask, fld, e.column or "(formula)", e.values, e.rule, e.message)
        return res

    def number_format(self, spec: FieldSpec) -> NumberFormat:
        base = self.mapping.numbers
        dec = spec.decimal or base.decimal
        th = spec.thousands if spec.thousands is not None else base.thousands
        return NumberFormat(dec, th or None)

    # -- applying ---------------------------------------------------------------------------
    def apply(
        self,
        chunk: RawChunk,
        columns: Columns,
        row_offset: int,
        state: MappingState | None = None,
    ) -> ChunkResult:
        """Map one chunk. ``row_offset`` numbers its rows within the batch; ``state`` is what
        the batch's earlier chunks left (``new_state()`` for a batch; None: a fresh one)."""
        state = state if state is not None else self.new_state()
        source = chunk  # rejects show the cells as the file has them
        if self.mapping.fill_down is not None:
            filled = fill_down(chunk.table, columns, self.mapping.fill_down, chunk.source, state)
            chunk = replace(chunk, table=filled)
        n = chunk.num_rows
        t = chunk.table
        errs = Errors()
        for i, problem in chunk.problems.items():
            mask = np.zeros(n, dtype=bool)
            mask[i] = True
            errs.add(mask, "", "", None, problem.rule, problem.message)
        if chunk.problems:
            errs.exclude = np.zeros(n, dtype=bool)
            errs.exclude[list(chunk.problems)] = True

        filtered = self._filters(t, columns)
        outs = []
        row_rejected = errs.any(n)
        parsed_dates: dict[tuple[str, tuple[str, ...]], tuple[pa.Array, ParsedDates]] = {}
        for idx, fields in self.entries():
            entry_errs = Errors()
            entry_errs.exclude = errs.exclude
            values, amounts, known = self._map_fields(
                fields, chunk, columns, entry_errs, parsed_dates
            )
            active = self._active(idx, t, columns)
            row_rejected |= entry_errs.any(n) & active
            for mask, fld, col, vals, rule, msg in entry_errs.blocks:
                errs.add(mask & active, fld, col, vals, rule, msg)  # inactive: not an error
            outs.append((values, amounts, known, active))
        warnings = self._checks(t, columns, errs) + self._lookup_warnings
        self._lookup_warnings = []
        compared = ~filtered.any if errs.exclude is None else ~filtered.any & ~errs.exclude
        unique_warnings, notes = self._unique(outs[0][0], chunk, columns, compared, errs, state)
        warnings += unique_warnings
        totals = self._stated_total(t, columns, outs[0][0], errs)
        row_rejected |= errs.any(n)
        rejected = row_rejected & ~filtered.any
        kept = ~rejected & ~filtered.any
        # A row every record of which is switched off by when: still counts once when it was
        # rejected or filtered, so the tie-out shows it.
        silent = ~np.logical_or.reduce([o[3] for o in outs]) & (rejected | filtered.any)
        if silent.any():
            values0, amounts0, known0, active0 = outs[0]
            outs[0] = (values0, amounts0, known0, active0 | silent)
        ledger = Ledger()
        tables = []
        for i, (values, amounts, known, active) in enumerate(outs):
            cur = values.get("currency")
            ledger.stages["read"].add(active, amounts, known, cur)
            ledger.stages["rejected"].add(active & rejected, amounts, known, cur)
            ledger.stages["filtered"].add(active & filtered.any, amounts, known, cur)
            for fname, fmask in filtered.by_name.items():
                ledger.filtered_by_rule.setdefault(fname, Tally()).add(
                    active & fmask, amounts, known, cur
                )
            table = self._records(values, chunk, active & kept, row_offset)
            tables.append(table.append_column("_entry", pa.array(np.full(table.num_rows, i))))
        rejected_docs: set[str] = set()
        key = self.kind.document_key
        if key is not None and rejected.any():
            for values, *_ in outs:
                if key in values:
                    docs = pc.filter(values[key], pa.array(rejected))
                    rejected_docs.update(d for d in docs.to_pylist() if d)
        if totals is not None:
            self._note_totals(totals, outs[0][0], chunk, columns.source, kept, state)
        rejects = build_rejects(source, errs, rejected, row_offset)
        for r in rejects:
            ledger.rejected_by_rule.update({e.rule for e in r.errors})
        records = pa.concat_tables(tables) if len(tables) > 1 else tables[0]
        if len(tables) > 1:  # each row's records together, in the order of the split entries
            records = records.sort_by([(ROW_COL, "ascending"), ("_entry", "ascending")])
        records = records.drop_columns(["_entry"])
        return ChunkResult(
            records=records,
            rejects=rejects,
            ledger=ledger,
            rejected_documents=rejected_docs,
            notes=notes,
            warnings=[
                (name, [int(chunk.lines[i]) for i in np.flatnonzero(m & kept)])
                for name, m in warnings
            ],
        )

    def entries(self) -> list[tuple[int | None, list[tuple[str, str, FieldSpec]]]]:
        """The record shapes each row becomes: (split entry index or None, [(key, field,
        spec)]) — the mapping's fields, with each split entry's on top."""
        base = {n: (f"fields.{n}", n, s) for n, s in self.mapping.fields.items()}
        if not self.mapping.split:
            return [(None, list(base.values()))]
        out: list[tuple[int | None, list[tuple[str, str, FieldSpec]]]] = []
        for i, entry in enumerate(self.mapping.split):
            fields = dict(base)
            for n, s in entry.fields.items():
                fields[n] = (f"split[{i + 1}].fields.{n}", n, s)
            out.append((i, list(fields.values())))
        return out

    def _active(self, idx: int | None, t: pa.Table, columns: Columns) -> npt.NDArray[np.bool_]:
        """Rows for which split entry ``idx`` makes a record (its when: holds)."""
        if idx is None or idx not in self.formulas.split_when:
            return np.ones(t.num_rows, dtype=bool)
        holds, _ = self.formulas.condition(
            self.formulas.split_when[idx], self._chunk_frame(t, columns)
        )
        return holds

    def _chunk_frame(self, t: pa.Table, columns: Columns) -> Frame:
        """The formulas' frame for this chunk, built once per chunk."""
        # Keyed by the table itself, held: an id() alone may be a freed chunk's, reused.
        if self._frame is None or self._frame_of is not t:
            self._frame = self.formulas.frame(t, columns)
            self._frame_of = t
        return self._frame
