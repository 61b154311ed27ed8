"""The duplicate stage of a run: record identities (fingerprint + occurrence in the file),
checked against the batch so far and against the history, with a person's decisions applied.
What is passed on to the writers is recorded in the history chunk by chunk (kept only if the
run commits)."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from .bloom import scramble
from .duplicates import (
    _LINE_BITS,
    MAX_RUN,
    DuplicateIndex,
    Flags,
    OccurrenceCounter,
    fingerprints,
    identities,
)
from .errors import MappingError
from .history import History
from .history_index import Found
from .mapping.model import Mapping
from .model import LINE_COL, ROW_COL, SOURCE_COL
from .near_duplicates import (
    Candidate,
    NearIndex,
    NearSettings,
    best,
    day_of,
    days_text,
    key_range,
    near_keys,
)
from .spill import RunStore

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


class IdentitySet:
    """Identities (int64) in bounded memory: sorted runs that spill to a temporary file past
    a budget (spill.RunStore). The history records a rerun repeats exactly are a million
    identities for a million-row file: ~8 MB here, ~65 MB as a Python set."""

    def __init__(self) -> None:
        self._store = RunStore(add=False)

    def add(self, ids: npt.NDArray[np.int64]) -> None:
        keys = np.unique(scramble(np.ascontiguousarray(ids).view(np.uint64)))
        new = keys[self._store.lookup(keys) < 0]
        if len(new):
            self._store.insert(new, np.zeros(len(new), np.int64), MAX_RUN)

    def contains(self, ids: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
        if not len(ids):
            return np.zeros(0, dtype=bool)
        keys = scramble(np.ascontiguousarray(ids).view(np.uint64))
        return np.asarray(self._store.lookup(keys) >= 0)


@dataclass(frozen=True)
class Prepared:
    """What the duplicate stage works out from one chunk's records alone."""

    fingerprints: npt.NDArray[np.uint64]
    keys: npt.NDArray[np.int64]  # possible-duplicate keys (-1: none), see near_duplicates
    texts: pa.Array


@dataclass(frozen=True)
class Preparer:
    """The pure part of the duplicate stage, for an engine to run where it maps the chunk
    (beside the reading, or on a worker) rather than on the thread that writes."""

    fields: tuple[str, ...]
    near: bool  # possible-duplicate keys and texts wanted

    def __call__(self, records: pa.Table) -> Prepared:
        fp = fingerprints(records, self.fields)
        keys, texts = near_keys(records) if self.near else _no_keys(records.num_rows)
        return Prepared(fp, keys, texts)


@dataclass
class DuplicateStage:
    """Flags repeats, exact and possible; holds back what the policy says; records what is
    written in the history."""

    fields: tuple[str, ...]
    hold_back: bool
    count_occurrences: bool  # False: identical rows in one file are repeats too
    sources: list[str]
    history: History | None = None
    decisions: dict[int, bool] = field(default_factory=dict)
    near: NearSettings | None = None  # None: no possible-duplicate check
    # One input file and no history: nothing can be a possible duplicate (never within a
    # file), so the keys and texts are not worked out at all.
    lone: bool = False
    index: DuplicateIndex = field(default_factory=DuplicateIndex)
    near_index: NearIndex = field(default_factory=NearIndex)
    _counter: OccurrenceCounter = field(default_factory=OccurrenceCounter)
    _history_taken: set[int] = field(default_factory=set)  # refs paired with a record
    _history_exact: IdentitySet = field(default_factory=IdentitySet)
    against_history: int = 0
    overridden: int = 0
    possible: int = 0
    possible_held: int = 0
    possible_against_history: int = 0

    def possible_report(self) -> dict[str, Any]:
        """report.json's duplicates.possible."""
        near = self.near
        return {
            "policy": "off" if near is None else "hold" if near.hold else "flag",
            "window_days": None if near is None else near.window_days,
            "similarity": None if near is None else near.threshold,
            "flagged": self.possible,
            "held_back": self.possible_held,
            "against_history": self.possible_against_history,
        }

    def start_file(self) -> None:
        """Occurrences count from 1 again in each file."""
        self._counter = OccurrenceCounter()

    def preparer(self) -> Preparer:
        """The chunk-by-chunk work ``apply`` can be given ready made."""
        return Preparer(self.fields, self._near() is not None or self.history is not None)

    def _near(self) -> NearSettings | None:
        return None if self.lone and self.history is None else self.near

    def apply(
        self, records: pa.Table, prepared: Prepared | None = None
    ) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_], Flags]:
        """(flagged mask, held-back mask, flags) for a chunk of records of one file;
        ``prepared`` is ``preparer()(records)`` when the engine worked it out already."""
        n = records.num_rows
        if n == 0:
            e = np.zeros(0, dtype=bool)
            return (
                e,
                e,
                self._flags(
                    records,
                    e,
                    e,
                    np.zeros(0, np.int64),
                    np.zeros(0, np.uint64),
                    Found.empty(0),
                    {},
                    np.zeros(0, np.int64),
                ),
            )
        ready = prepared if prepared is not None else self.preparer()(records)
        fp = ready.fingerprints
        occ = self._counter.occurrences(fp) if self.count_occurrences else np.ones(n, np.int64)
        ident = identities(fp, occ)
        if self.lone and self.count_occurrences:
            # One file whose identical rows are real: occurrence numbers make every identity
            # in it different, so a batch index could only ever answer "not seen".
            repeats = np.full(n, -1, dtype=np.int64)
        else:
            repeats = self.index.check_keys(records, ident)
        past = Found.empty(n)
        if self.history is not None:
            fresh = np.flatnonzero(repeats < 0)
            got = self.history.lookup(ident[fresh])
            past.hit[fresh], past.batch[fresh] = got.hit, got.batch
            past.source[fresh], past.line[fresh] = got.source, got.line
        signed = ident.view(np.int64)
        in_past = past.hit
        exact = (repeats >= 0) | in_past
        self.against_history += int(in_past.sum())
        decided = np.zeros(n, dtype=np.int8)  # 1: a person said duplicate, -1: not
        for ident_value, is_dup in self.decisions.items():
            decided[ident == np.uint64(ident_value)] = 1 if is_dup else -1
        src = records.column(SOURCE_COL).to_numpy().astype(np.int64)
        line = records.column(LINE_COL).to_numpy().astype(np.int64)
        near = self._near()
        keys, texts = ready.keys, ready.texts
        possible: dict[int, tuple[Candidate, float]] = {}
        if near is not None:
            self.near_index.take_loc(repeats[repeats >= 0])
            self._history_exact.add(signed[in_past])
            todo = np.flatnonzero(~exact & (keys >= 0) & (decided >= 0))
            possible = self._match(todo, keys, texts, int(src[0]))
            if not self.lone:  # later files of the batch may repeat these
                self.near_index.add(keys, texts, src, (src << 40) | line)
        held = exact & self.hold_back
        flagged = exact.copy()
        flagged[list(possible)] = True
        if possible and self.near is not None and self.near.hold:
            held[list(possible)] = True
        self.overridden += int((decided != 0).sum())
        flagged[decided < 0] = False
        held[decided < 0] = False
        flagged[decided > 0] = True
        held[decided > 0] = True  # a person's "duplicate" is never imported
        flags = self._flags(records, flagged, held, repeats, ident, past, possible, keys)
        if self.history is not None:  # recorded as the run goes: kept only if it commits
            written = ~held
            self.history.add_records(
                ident[written],
                self.sources,
                src[written],
                line[written],
                keys[written],
                texts.filter(pa.array(written)),
            )
        return flagged, held, flags

    def _match(
        self,
        todo: npt.NDArray[np.intp],
        keys: npt.NDArray[np.int64],
        texts: pa.Array,
        source: int,
    ) -> dict[int, tuple[Candidate, float]]:
        """Pair records (positions ``todo``) one-to-one with the best earlier record of
        another file or batch, each earlier record taken once."""
        assert self.near is not None
        if not len(todo):
            return {}
        window, threshold = self.near.window_days, self.near.threshold
        in_batch = self.near_index.candidates(keys[todo], source, window)
        in_history: dict[int, list[Candidate]] = {}
        if self.history is not None:
            lo, hi = key_range(keys[todo], window)
            rows = self.history.near(lo, hi)
            repeated = self._history_exact.contains(np.array([r[2] for r in rows], np.int64))
            for (j, ref, _, batch, hsource, hline, key, text), gone in zip(
                rows, repeated, strict=True
            ):
                if gone or ref in self._history_taken:
                    continue
                c = Candidate(day_of(key), text or "", hsource, hline, rowid=ref, batch=batch)
                in_history.setdefault(j, []).append(c)
        found: dict[int, tuple[Candidate, float]] = {}
        taken = self.near_index.taken
        for j in sorted(set(in_batch) | set(in_history)):
            r = int(todo[j])
            cands = [self.near_index.candidate(g, self.sources) for g in in_batch.get(j, [])]
            cands += in_history.get(j, [])
            cands = [
                c
                for c in cands
                if (c.gid < 0 or not taken[c.gid]) and c.rowid not in self._history_taken
            ]
            got = best(str(texts[r].as_py()), day_of(int(keys[r])), cands, threshold)
            if got is None:
                continue
            c = got[0]
            if c.gid >= 0:
                taken[c.gid] = 1
            else:
                self._history_taken.add(c.rowid)
                self.possible_against_history += 1
            found[r] = got
        self.possible += len(found)
        if self.near.hold:
            self.possible_held += len(found)
        return found

    def _flags(
        self,
        records: pa.Table,
        flagged: npt.NDArray[np.bool_],
        held: npt.NDArray[np.bool_],
        repeats: npt.NDArray[np.int64],
        ident: npt.NDArray[np.uint64],
        past: Found,
        possible: dict[int, tuple[Candidate, float]],
        keys: npt.NDArray[np.int64],
    ) -> Flags:
        idx = np.flatnonzero(flagged)
        m = len(idx)
        rep = repeats[idx]
        in_batch = rep >= 0
        in_past = past.hit[idx] & ~in_batch
        names = np.array(self.sources, dtype=object)
        file = np.full(m, "(decision)", dtype=object)  # flagged by a person's decision alone
        file[in_batch] = names[rep[in_batch] >> _LINE_BITS]
        file[in_past] = past.source[idx][in_past]
        line = np.where(in_batch, rep & ((1 << _LINE_BITS) - 1), 0)
        line = np.where(in_past, past.line[idx], line)
        batch = np.where(in_past, past.batch[idx], -1)
        match = np.where(in_batch | in_past, "exact", "decision").astype(object)
        reason = np.where(in_batch | in_past, "identical " + ", ".join(self.fields), "")
        reason = reason.astype(object)
        score = np.full(m, np.nan)
        for k in np.flatnonzero(~in_batch & ~in_past).tolist():
            i = int(idx[k])
            if i in possible:
                c, score[k] = possible[i]
                file[k], line[k], batch[k] = c.source, c.line, -1 if c.batch is None else c.batch
                match[k] = "possible"
                reason[k] = _near_reason(day_of(int(keys[i])) - c.day, float(score[k]))
        return Flags(
            records.column(SOURCE_COL).to_numpy()[idx].astype(np.int64),
            records.column(LINE_COL).to_numpy()[idx].astype(np.int64),
            records.column(ROW_COL).to_numpy()[idx].astype(np.int64),
            file,
            line.astype(np.int64),
            held[idx],
            ident[idx],
            batch.astype(np.int64),
            match,
            score,
            reason,
        )


def _near_reason(delta: int, score: float) -> str:
    when = "same day" if delta == 0 else f"dated {days_text(abs(delta))} "
    when += "" if delta == 0 else ("later" if delta > 0 else "earlier")
    return f"same amount, {when}, text {score:g}% alike"


def near_settings(mapping: Mapping) -> NearSettings | None:
    """The mapping's possible-duplicate settings; None when off or the kind has no dated
    amounts (only transactions are checked)."""
    spec = mapping.duplicates.possible
    if spec.policy == "off" or mapping.kind != "transaction":
        return None
    return NearSettings(spec.window_days, float(spec.similarity), spec.policy == "hold")


def _no_keys(n: int) -> tuple[npt.NDArray[np.int64], pa.Array]:
    return np.full(n, -1, dtype=np.int64), pa.nulls(n, pa.string())
