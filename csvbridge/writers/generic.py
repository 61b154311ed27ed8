"""The canonical CSV: every field of the kind, ISO dates, plain decimals, and provenance."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from ..model import LINE_COL, SOURCE_COL, Kind
from ..reports.ledger import Tally
from . import format as fmt
from .base import CsvSink, Option, OutputFile, Target, csv_lines


class CanonicalCsvWriter:
    """Writes ``<kind>.csv``: the kind's fields in order, then source_file and source_line."""

    def __init__(self, outdir: Path, kind: Kind, options: dict[str, str], sources: list[str]):
        self.kind = kind
        self.guard = options.get("formula_guard", "on") == "on"
        self.sources = sources
        header = [*kind.field_names, "source_file", "source_line"]
        self.sink = CsvSink(outdir, kind.name, header)
        self.tally = Tally()

    def write(self, records: pa.Table) -> None:
        cols = [
            fmt.canonical(records, self.kind, f, guard=self.guard) for f in self.kind.field_names
        ]
        src = fmt.column(records, SOURCE_COL)
        cols.append(pc.take(pa.array(self.sources, pa.string()), src))
        cols.append(pc.cast(fmt.column(records, LINE_COL), pa.string()))
        if records.num_rows:
            self.sink.write_lines(csv_lines(cols))
        add_written(self.tally, records, self.kind)

    def close(self) -> list[OutputFile]:
        return self.sink.close()

    def abort(self) -> None:
        self.sink.abort()


def add_written(tally: Tally, records: pa.Table, kind: Kind) -> None:
    """Count what a writer wrote, with its money, for the tie-out."""
    import numpy as np

    n = records.num_rows
    mask = np.ones(n, dtype=bool)
    if kind.amount_field is None:
        tally.add(mask, None, None, None)
        return
    amt = fmt.column(records, kind.amount_field)
    known = np.asarray(amt.is_valid(), dtype=bool)
    amounts = np.asarray(pc.fill_null(amt, 0), dtype=np.int64)
    tally.add(mask, amounts, known, fmt.column(records, "currency"))


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
        factory=lambda outdir, kind, options, sources: CanonicalCsvWriter(
            outdir, kind, options, sources
        ),
        options=(FORMULA_GUARD,),
    )
]
