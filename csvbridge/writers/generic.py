"""The canonical CSV: every field of the kind, ISO dates, plain decimals, and provenance."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from ..model import LINE_COL, SOURCE_COL, Kind
from . import format as fmt
from .base import CsvWriter, Option, Target


class CanonicalCsvWriter(CsvWriter):
    """Writes ``<kind>.csv``: the kind's fields in order, then source_file and source_line."""

    def header_for(self, kind: Kind) -> tuple[str, ...]:
        return (*kind.field_names, "source_file", "source_line")

    def cells(self, records: pa.Table) -> list[pa.Array]:
        cols = [
            fmt.canonical(records, self.kind, f, guard=self.guard) for f in self.kind.field_names
        ]
        cols.append(pc.take(pa.array(self.sources, pa.string()), fmt.column(records, SOURCE_COL)))
        cols.append(pc.cast(fmt.column(records, LINE_COL), pa.string()))
        return cols


FORMULA_GUARD = Option(
    "formula_guard",
    ("on", "off"),
    "on",
    "prefix text cells starting with = + - @ with ' so a spreadsheet does not run them "
    "(text only, never amounts)",
)

TARGETS = [
    Target(
        name="csv",
        kinds=("transaction", "invoice", "bill", "journal", "contact", "account", "item"),
        title="Canonical CSV",
        doc="Every canonical field of the kind, ISO 8601 dates, plain decimals (minus sign, "
        "point, the currency's decimals), then source_file and source_line. UTF-8, CRLF.",
        columns=("<the kind's fields>", "source_file", "source_line"),
        required=(),
        limits="none",
        factory=CanonicalCsvWriter,
        options=(FORMULA_GUARD,),
    )
]
