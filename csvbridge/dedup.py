"""The duplicate stage of a run: record identities (fingerprint + occurrence in the file),
checked against the batch so far and against the history, with a person's decisions applied.
It remembers what was written so the history can record it when the run commits."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from .duplicates import (
    DuplicateFlag,
    DuplicateIndex,
    OccurrenceCounter,
    fingerprints,
    identities,
    unpack,
)
from .errors import MappingError
from .history import History, PastRecord
from .model import LINE_COL, ROW_COL, SOURCE_COL

DECISIONS = {"not duplicate": False, "duplicate": True}


def load_decisions(path: Path) -> dict[int, bool]:
    """A person's decisions: identity (hex, as in duplicates.csv) → is it a duplicate."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return {}
    out: dict[int, bool] = {}
    for n, row in enumerate(csv.DictReader(text.splitlines()), start=2):
        ident = (row.get("identity") or "").strip()
        decision = (row.get("decision") or "").strip().lower()
        if not ident and not decision:
            continue
        if decision not in DECISIONS:
            raise MappingError(
                f"decision '{decision}' is not one of: {', '.join(DECISIONS)}",
                where=f"{path}, line {n}",
                hint="each row: identity (copied from duplicates.csv), decision, note",
                code="decisions-invalid",
            )
        try:
            out[int(ident, 16)] = DECISIONS[decision]
        except ValueError:
            raise MappingError(
                f"identity '{ident}' is not the hexadecimal identity from duplicates.csv",
                where=f"{path}, line {n}",
                hint="copy the identity column of duplicates.csv",
                code="decisions-invalid",
            ) from None
    return out


@dataclass
class DuplicateStage:
    """Flags repeats; holds back what the policy says; remembers what was written."""

    fields: tuple[str, ...]
    hold_back: bool
    count_occurrences: bool  # False: identical rows in one file are repeats too
    sources: list[str]
    history: History | None = None
    decisions: dict[int, bool] = field(default_factory=dict)
    index: DuplicateIndex = field(default_factory=DuplicateIndex)
    _counter: OccurrenceCounter = field(default_factory=OccurrenceCounter)
    _written: list[tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64], npt.NDArray[np.int64]]] = (
        field(default_factory=list)
    )
    against_history: int = 0
    overridden: int = 0

    def start_file(self) -> None:
        """Occurrences count from 1 again in each file."""
        self._counter = OccurrenceCounter()

    def apply(self, records: pa.Table) -> tuple[npt.NDArray[np.bool_], list[DuplicateFlag]]:
        """(flagged mask, flags) for a chunk of records of one file."""
        n = records.num_rows
        if n == 0:
            return np.zeros(0, dtype=bool), []
        fp = fingerprints(records, self.fields)
        occ = self._counter.occurrences(fp) if self.count_occurrences else np.ones(n, np.int64)
        ident = identities(fp, occ)
        repeats = self.index.check_keys(records, ident)
        past: dict[int, PastRecord] = {}
        if self.history is not None:
            fresh = repeats < 0
            past = self.history.lookup(ident[fresh])
        signed = ident.view(np.int64)
        flagged = repeats >= 0
        if past:
            in_past = np.fromiter((int(s) in past for s in signed), dtype=bool, count=n)
            flagged |= in_past
            self.against_history += int((in_past & (repeats < 0)).sum())
        for ident_value, is_dup in self.decisions.items():
            hit = ident == np.uint64(ident_value)
            if hit.any():
                self.overridden += int((flagged[hit] != is_dup).sum())
                flagged[hit] = is_dup
        flags = self._flags(records, flagged, repeats, signed, past)
        if self.history is not None:  # only the history records them (24 bytes a record)
            written = ~flagged if self.hold_back else np.ones(n, dtype=bool)
            self._written.append(
                (
                    ident[written],
                    records.column(SOURCE_COL).to_numpy()[written].astype(np.int64),
                    records.column(LINE_COL).to_numpy()[written].astype(np.int64),
                )
            )
        return flagged, flags

    def _flags(
        self,
        records: pa.Table,
        flagged: npt.NDArray[np.bool_],
        repeats: npt.NDArray[np.int64],
        signed: npt.NDArray[np.int64],
        past: dict[int, PastRecord],
    ) -> list[DuplicateFlag]:
        idx = np.flatnonzero(flagged)
        if not len(idx):
            return []
        src = records.column(SOURCE_COL).to_numpy()
        line = records.column(LINE_COL).to_numpy()
        row = records.column(ROW_COL).to_numpy()
        out = []
        for i in map(int, idx):
            ident = int(signed[i]) & (2**64 - 1)
            if repeats[i] >= 0:
                s, ln = unpack(int(repeats[i]))
                where, batch = (self.sources[s], ln), None
            elif int(signed[i]) in past:
                p = past[int(signed[i])]
                where, batch = (p.source, p.line), p.batch
            else:  # flagged by a person's decision alone
                where, batch = ("(decision)", 0), None
            out.append(
                DuplicateFlag(
                    int(src[i]),
                    int(line[i]),
                    int(row[i]),
                    where[0],
                    where[1],
                    self.hold_back,
                    ident,
                    batch,
                )
            )
        return out

    def written(
        self,
    ) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """(identity, source, line) of every record passed on to the writers (kept only when
        the stage has a history to record them in)."""
        if not self._written:
            e = np.zeros(0, dtype=np.int64)
            return np.zeros(0, dtype=np.uint64), e, e
        return (
            np.concatenate([w[0] for w in self._written]),
            np.concatenate([w[1] for w in self._written]),
            np.concatenate([w[2] for w in self._written]),
        )
