"""The rejects and duplicates files a person opens to act on: streamed to disk during the run,
so a file full of bad rows does not fill memory."""

from __future__ import annotations

import itertools
import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..duplicates import Flags
from ..mapping.rejects import RejectedRow
from ..mask import NO_MASK, Masker
from ..model import LINE_COL, SOURCE_COL, Kind
from ..outfiles import write_error
from ..writers.base import CsvSink, OutputFile, csv_lines, guard_formula
from ..writers.format import canonical

SAMPLE = 50  # how many rejects and duplicates report.json shows in full
# duplicates.csv: these columns, then the kind's canonical fields
DUPLICATE_COLUMNS = [
    "file",
    "line",
    "match",
    "repeats_file",
    "repeats_line",
    "repeats_batch",
    "action",
    "score",
    "reason",
    "identity",
]


SPOOL = "the spool of rejected rows (a temporary file)"


class RejectsFile:
    """Collects rejected rows; ``close`` writes ``rejects.csv``: where, why, then the row's
    original cells under its original column names (the union over the batch's files)."""

    FIXED = ("file", "line", "target", "field", "column", "value", "rule", "message")

    def __init__(self, outdir: Path, sources: list[str], mask: Masker = NO_MASK) -> None:
        self.outdir = outdir
        self.sources = sources
        self.mask = mask
        try:
            self._spool = tempfile.TemporaryFile(mode="w+", encoding="utf-8")  # noqa: SIM115
        except OSError as e:
            raise write_error(e, Path(tempfile.gettempdir()), SPOOL) from e
        self._columns: dict[str, None] = {}
        self.count = 0
        self.sample: list[dict[str, Any]] = []
        self._spilled = 0
        self._sink: CsvSink | None = None

    def _spill(self, entry: dict[str, Any]) -> None:
        """Keep a rejected row in the spool (a temporary file) until ``close``."""
        line = json.dumps(entry, ensure_ascii=False) + "\n"
        try:
            self._spool.write(line)
        except OSError as e:  # the temporary folder's disk, not the output folder's
            raise write_error(e, Path(tempfile.gettempdir()), SPOOL, self._spilled) from e
        self._spilled += len(line)

    def add(self, rows: list[RejectedRow]) -> None:
        for r in rows:
            for c in r.cells:
                self._columns.setdefault(c, None)
            entry = {
                "file": self.sources[r.source],
                "line": r.line,
                "target": "",
                "errors": [
                    {
                        "field": e.field,
                        "column": e.column,
                        "value": self.mask.cell(e.column or e.field, e.value),
                        "rule": e.rule,
                        "message": self.mask.text(e.message),
                    }
                    for e in r.errors
                ],
                "cells": self.mask.row(r.cells),
            }
            self._spill(entry)
            if len(self.sample) < SAMPLE:
                self.sample.append({k: v for k, v in entry.items() if k != "cells"})
            self.count += 1

    def add_records(
        self, target: str, records: pa.Table, kind: Kind, field: str, rule: str, message: str
    ) -> None:
        """Records a target's writer refused: canonical values stand in for the source cells
        (columns ``record.<field>``), with the source file and line from provenance."""
        src = records.column(SOURCE_COL).to_pylist()
        lines = records.column(LINE_COL).to_pylist()
        texts = {f: canonical(records, kind, f, guard=False).to_pylist() for f in kind.field_names}
        for i in range(records.num_rows):
            cells = self.mask.row({f"record.{f}": texts[f][i] or "" for f in kind.field_names})
            for c in cells:
                self._columns.setdefault(c, None)
            value = cells.get(f"record.{field}", "")
            entry = {
                "file": self.sources[src[i]],
                "line": lines[i],
                "target": target,
                "errors": [
                    {"field": field, "column": "", "value": value, "rule": rule, "message": message}
                ],
                "cells": cells,
            }
            self._spill(entry)
            if len(self.sample) < SAMPLE:
                self.sample.append({k: v for k, v in entry.items() if k != "cells"})
            self.count += 1

    def close(self) -> list[OutputFile]:
        cols = [c for c in self._columns if c not in self.FIXED]
        sink = self._sink = CsvSink(self.outdir, "rejects", [*self.FIXED, *cols])
        self._spool.seek(0)
        batch: list[list[str]] = []
        for line in self._spool:
            e = json.loads(line)
            errs = e["errors"]
            row = [
                e["file"],
                str(e["line"]),
                e["target"],
                " | ".join(x["field"] for x in errs),
                " | ".join(x["column"] for x in errs),
                " | ".join(x["value"] for x in errs),
                " | ".join(x["rule"] for x in errs),
                " | ".join((f"{x['field']}: " if x["field"] else "") + x["message"] for x in errs),
                *(e["cells"].get(c, "") for c in cols),
            ]
            batch.append(row)
            if len(batch) >= 10_000:
                _flush(sink, batch)
        _flush(sink, batch)
        self._spool.close()
        return sink.close()

    def abort(self) -> None:
        """The run failed after all: remove rejects.csv if ``close`` wrote it."""
        self._spool.close()
        if self._sink is not None:
            self._sink.abort()


def _flush(sink: CsvSink, rows: list[list[str]]) -> None:
    if rows:
        columns = [
            guard_formula(pa.array(list(col), pa.string())) for col in zip(*rows, strict=True)
        ]
        sink.write_lines(csv_lines(columns))
        rows.clear()


class DuplicatesFile:
    """Streams ``duplicates.csv``: each flagged record, the earlier record it repeats, what
    was done with it, and its canonical fields."""

    def __init__(
        self, outdir: Path, kind: Kind, sources: list[str], mask: Masker = NO_MASK
    ) -> None:
        self.kind = kind
        self.sources = sources
        self.mask = mask
        self.sink = CsvSink(
            outdir,
            "duplicates",
            [*DUPLICATE_COLUMNS, *kind.field_names],
        )
        self.count = 0
        self.held_back = 0
        self.possible = 0
        self.sample: list[dict[str, Any]] = []

    def add(self, records: pa.Table, flags: Flags) -> None:
        if not len(flags):
            return
        for f in itertools.islice(flags, max(SAMPLE - len(self.sample), 0)):
            self.sample.append(
                {
                    "file": self.sources[f.source],
                    "line": f.line,
                    "match": f.match,
                    "repeats_file": f.repeats_file,
                    "repeats_line": f.repeats_line,
                    "repeats_batch": f.repeats_batch,
                    "action": "held back" if f.held_back else "written",
                    "score": f.score,
                    "reason": f.reason,
                }
            )
        self.count += len(flags)
        self.held_back += int(flags.held_back.sum())
        self.possible += int((flags.match == "possible").sum())
        names = np.array(self.sources, dtype=object)
        score = [f"{s:g}" if s == s else "" for s in flags.score.tolist()]
        cols = [
            pa.array(names[flags.source], pa.string()),
            pc.cast(pa.array(flags.line), pa.string()),
            pa.array(flags.match, pa.string()),
            pa.array(flags.repeats_file, pa.string()),
            pc.cast(pa.array(flags.repeats_line), pa.string()),
            pa.array(
                np.where(flags.repeats_batch < 0, "", flags.repeats_batch.astype(str)),
                pa.string(),
            ),
            pa.array(np.where(flags.held_back, "held back", "written"), pa.string()),
            pa.array(score, pa.string()),
            pa.array(flags.reason, pa.string()),
            pa.array(np.char.mod("%016x", flags.identity), pa.string()),
            *(
                self.mask.array(name, canonical(records, self.kind, name, guard=True))
                for name in self.kind.field_names
            ),
        ]
        self.sink.write_lines(csv_lines(cols))

    def close(self) -> list[OutputFile]:
        return self.sink.close()

    def abort(self) -> None:
        self.sink.abort()
