"""Profiling a file: what it is, where its table is, and what each column holds — the basis
of ``csvbridge inspect`` and of the draft mappings ``csvbridge init`` writes."""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from ..readers import ReadOptions, SourceInfo, open_source
from .columns import ColumnStats, Decision, decide_date, decide_number, negative_style
from .roles import Roles, assign_roles, currency_hint

SAMPLE_ROWS = 20_000  # rows kept for proofs (balance continuity, debit/credit pairs)
SCHEMA_VERSION = 1


@dataclass
class FileProfile:
    """Everything inspect knows about one file."""

    info: SourceInfo
    stats: dict[str, ColumnStats]
    dates: dict[str, Decision | None]
    numbers: dict[str, Decision | None]
    roles: Roles
    currency: tuple[str | None, str]
    notes: list[str] = field(default_factory=list)

    def column_type(self, name: str) -> str:
        if self.dates.get(name) is not None:
            return "date"
        if self.numbers.get(name) is not None:
            return "number"
        return "text" if self.stats[name].values else "empty"

    def as_dict(self) -> dict[str, Any]:
        """The JSON of ``csvbridge inspect --json`` (schema: docs/inspect-schema.md)."""
        cols = []
        for name, st in self.stats.items():
            entry: dict[str, Any] = {
                "name": name,
                "type": self.column_type(name),
                "filled": st.values,
                "examples": st.examples,
                "max_length": st.max_len,
            }
            if self.dates.get(name) is not None:
                entry["date_format"] = self.dates[name].as_dict()  # type: ignore[union-attr]
            if self.numbers.get(name) is not None and self.dates.get(name) is None:
                entry["number_format"] = self.numbers[name].as_dict()  # type: ignore[union-attr]
                entry["negatives"] = negative_style(st)
            cols.append(entry)
        code, why = self.currency
        return {
            "schema": SCHEMA_VERSION,
            "file": self.info.as_dict(),
            "columns": cols,
            "transaction_roles": self.roles.as_dict(),
            "currency": {"value": code, "reason": why},
            "notes": self.notes,
        }


def profile_file(path: Path, options: ReadOptions | None = None) -> FileProfile:
    """Read the whole file once: detect its layout, profile every column from all its values,
    and assign transaction roles."""
    opts = options or ReadOptions()
    with ExitStack() as stack:
        finder = open_source(path, 0, opts, stack)
        info = finder.info
        stats = {c: ColumnStats(c) for c in info.columns}
        samples: list[pa.Table] = []
        kept = 0
        for chunk in finder.chunks(25_000):
            for c in info.columns:
                stats[c].add(chunk.table.column(c))
            if kept < SAMPLE_ROWS:
                part = chunk.table.slice(0, SAMPLE_ROWS - kept)
                samples.append(part)
                kept += part.num_rows
    sample = (
        pa.concat_tables(samples)
        if samples
        else pa.table({c: pa.array([], pa.string()) for c in info.columns})
    )
    dates = {c: decide_date(s) for c, s in stats.items()}
    numbers = {c: decide_number(s) for c, s in stats.items()}
    found_numbers: dict[str, Decision | None] = {c: d for c, d in numbers.items() if d is not None}
    roles = assign_roles(info.columns, dates, found_numbers, sample)
    symbols: dict[str, int] = {}
    for s in stats.values():
        for k, v in s.symbols.items():
            symbols[k] = symbols.get(k, 0) + v
    around = [t for _, t in info.preamble + info.footer]
    currency = currency_hint(info.columns, symbols, around)
    notes = []
    for c, d in numbers.items():
        if d is not None and d.value is None and c in roles.columns.values():
            notes.append(f"column '{c}': {d.reason}")
    return FileProfile(info, stats, dates, numbers, roles, currency, notes)
