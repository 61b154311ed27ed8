"""Reconcile two files: match the transactions of one export against another's — Stripe
payouts against bank deposits, Shopify orders against Stripe charges, our import file against
what the target system exports after the import — and say what matched, how, and what did not.

Both sides are read with the same readers and mappings as ``convert`` (``read_records``), so
a file is understood exactly as a conversion would understand it; rows the mapping rejects or
filters are counted and listed, never matched. Matching is in ``reconcile_match`` (three
passes, deterministic); the report files are written by ``reconcile_report``:
``reconcile.json``, ``reconcile.csv`` and ``reconcile.html``, atomically and byte for byte the
same for the same inputs. The tie-out proves every record of each side is in exactly one
match or listed as unmatched, by count and by money per currency.

Matching needs every record of both sides at once, so memory grows with the files (reading
is still chunked); tens of thousands of rows a side is the intended size.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from .atomic import ensure_outdir, write_atomic
from .errors import CsvbridgeError, MappingError
from .mapping import Columns, CompiledMapping, LoadedMapping, RejectedRow, load_mapping
from .model import LINE_COL, get_kind
from .pipeline import DEFAULT_CHUNK_ROWS, check_columns, read_options
from .readers import SourceInfo, open_source
from .reconcile_core import LEFT, RIGHT, Outcome, Rec, Settings
from .reconcile_match import match_records
from .reconcile_render import render_csv, render_html
from .reconcile_report import build_report, report_json
from .reports.ledger import Ledger

__all__ = ["ReconcileResult", "RecordSet", "read_records", "reconcile"]

TEXT_FIELDS = ("description", "payee", "reference")  # what text similarity compares


@dataclass
class RecordSet:
    """One file read through a mapping: its canonical records (one table, file order), the
    rows the mapping rejected, and the ledger of rows and money read, rejected and filtered."""

    mapping: LoadedMapping
    info: SourceInfo
    records: pa.Table
    rejects: list[RejectedRow]
    ledger: Ledger


def read_records(
    path: str | Path,
    mapping: str | Path | LoadedMapping,
    *,
    index: int = 0,
    encoding: str | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> RecordSet:
    """Read ``path`` with ``mapping`` into one table of canonical records plus rejects, the
    way ``convert`` reads it (same reader options, column checks and per-chunk mapping).
    ``index`` is the file's number in the records' ``_source`` column."""
    lm = mapping if isinstance(mapping, LoadedMapping) else load_mapping(mapping)
    cm = CompiledMapping(lm.mapping, str(lm.path))
    opts = read_options(lm, cm, encoding)
    tables: list[pa.Table] = []
    rejects: list[RejectedRow] = []
    ledger = Ledger()
    with ExitStack() as stack:
        finder = open_source(Path(path), index, opts, stack)
        info = finder.info
        columns = Columns(info.columns, info.name, str(lm.path))
        check_columns(cm, columns)
        offset = 0
        state = cm.new_state()  # fill_down and unique: carry across chunks
        for chunk in finder.chunks(chunk_rows):
            result = cm.apply(chunk, columns, offset, state)
            offset += chunk.num_rows
            tables.append(result.records)
            rejects += result.rejects
            ledger.merge(result.ledger)
    schema = cm.kind.arrow_schema()
    records = pa.concat_tables(tables) if tables else schema.empty_table()
    return RecordSet(lm, info, records.combine_chunks(), rejects, ledger)


@dataclass
class ReconcileResult:
    """What ``reconcile`` found. ``report`` is exactly what reconcile.json holds."""

    report: dict[str, Any]
    outcome: Outcome
    left: RecordSet
    right: RecordSet
    files: list[Path] = field(default_factory=list)

    @property
    def matched(self) -> int:
        return len(self.outcome.matches)

    @property
    def unmatched(self) -> tuple[int, int]:
        return len(self.outcome.unmatched[LEFT]), len(self.outcome.unmatched[RIGHT])

    @property
    def exit_code(self) -> int:
        """0: every record on both sides matched; 1: something is unmatched or rejected."""
        rejected = self.left.rejects or self.right.rejects
        return 1 if (rejected or any(self.unmatched)) else 0


def _key_pairs(keys: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """``["reference", "id=reference"]`` → ``(("reference", "reference"), ("id", "reference"))``."""
    kind = get_kind("transaction")
    out: list[tuple[str, str]] = []
    for k in keys:
        left, _, right = k.partition("=")
        pair = (left.strip(), (right or left).strip())
        for name in pair:
            if name not in kind.field_names or name in {"date", "amount", "currency"}:
                raise CsvbridgeError(
                    f"'{name}' cannot be a matching key",
                    where=f"key {k}",
                    hint="use a text field of a transaction (reference, id, description, payee, "
                    "check_number, ...), or LEFT=RIGHT to compare two fields, e.g. id=reference",
                    code="reconcile-key-invalid",
                )
        out.append(pair)
    return tuple(out)


def _check_kind(lm: LoadedMapping, side: str) -> None:
    if lm.mapping.kind != "transaction":
        raise MappingError(
            f"reconcile matches transactions; the {side} mapping makes {lm.mapping.kind} records",
            where=str(lm.path),
            hint="use a mapping with kind: transaction (a date, a signed amount, a currency "
            "and a description per row).",
            code="reconcile-kind",
        )


def _recs(rs: RecordSet, side: int, key_fields: Sequence[str], group_by: str | None) -> list[Rec]:
    t = rs.records
    n = t.num_rows

    def col(name: str) -> list[Any]:
        return t.column(name).to_pylist() if name in t.column_names else [None] * n

    days = t.column("date").cast(pa.int32()).to_pylist()
    amounts = col("amount")
    currencies = col("currency")
    lines = col(LINE_COL)
    texts = [col(f) for f in TEXT_FIELDS]
    keys = [col(f) for f in key_fields]
    groups = col(group_by) if group_by else [None] * n
    out: list[Rec] = []
    for i in range(n):
        key_values = tuple((k[i] or "").strip() for k in keys)
        group = (groups[i] or "").strip()
        out.append(
            Rec(
                side=side,
                pos=i,
                line=int(lines[i]),
                day=int(days[i]),
                amount=int(amounts[i]),
                currency=str(currencies[i]),
                text=" ".join(str(x[i]) for x in texts if x[i]),
                keys=key_values if key_fields and all(key_values) else None,
                group=group or None,
            )
        )
    return out


def reconcile(
    left: str | Path,
    left_mapping: str | Path | LoadedMapping,
    right: str | Path,
    right_mapping: str | Path | LoadedMapping,
    outdir: str | Path,
    *,
    date_window_days: int = 3,
    amount_tolerance_minor: int = 0,
    text_threshold: float = 0.0,
    keys: Sequence[str] = ("reference",),
    group_by: str | None = None,
    encoding: str | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> ReconcileResult:
    """Match the transactions of ``left`` (read with ``left_mapping``) against those of
    ``right`` and write reconcile.json, reconcile.csv and reconcile.html to ``outdir``.

    ``keys``: fields that identify the same transaction on both sides (pass 1), each a field
    name or ``LEFT=RIGHT`` (``id=reference``); empty to skip pass 1. ``date_window_days``:
    how far apart two dates may be (passes 2 and 3). ``amount_tolerance_minor``: how far
    apart two amounts may be, in minor units (0: exact). ``text_threshold``: the least text
    similarity (0–100) a pass-2 pair needs (0: text only breaks ties). ``group_by``: a field
    whose shared value groups records for many-to-one matches (a payout id on each charge).
    Amounts are compared as signed: map both sides from the same point of view (use the
    mapping's ``invert`` where one side shows money out as positive).
    """
    if date_window_days < 0 or amount_tolerance_minor < 0:
        raise CsvbridgeError(
            "the date window and the amount tolerance cannot be negative",
            where=f"date_window_days={date_window_days}, "
            f"amount_tolerance_minor={amount_tolerance_minor}",
            hint="give 0 or more (0: same day / exact amount).",
            code="reconcile-option",
        )
    if not 0 <= text_threshold <= 100:
        raise CsvbridgeError(
            "the text threshold is a similarity from 0 to 100",
            where=f"text_threshold={text_threshold}",
            hint="0 lets text only break ties; 60 or so asks descriptions to look alike.",
            code="reconcile-option",
        )
    pairs = _key_pairs(keys)
    if group_by is not None:
        _key_pairs([group_by])
    settings = Settings(
        date_window_days=date_window_days,
        amount_tolerance_minor=amount_tolerance_minor,
        text_threshold=float(text_threshold),
        keys=pairs,
        group_by=group_by or None,
    )
    lms = [
        m if isinstance(m, LoadedMapping) else load_mapping(m)
        for m in (left_mapping, right_mapping)
    ]
    for lm, side in zip(lms, ("left", "right"), strict=True):
        _check_kind(lm, side)
    out = ensure_outdir(Path(outdir))
    sets = [
        read_records(p, lm, index=0, encoding=encoding, chunk_rows=chunk_rows)
        for p, lm in zip((left, right), lms, strict=True)
    ]
    recs = [
        _recs(rs, side, [p[side] for p in pairs], settings.group_by) for side, rs in enumerate(sets)
    ]
    outcome = match_records(recs[LEFT], recs[RIGHT], settings)
    report = build_report(sets[LEFT], sets[RIGHT], recs, outcome, settings)
    files = [out / "reconcile.json", out / "reconcile.csv", out / "reconcile.html"]
    write_atomic(files[0], report_json(report))
    write_atomic(files[1], render_csv(report))
    write_atomic(files[2], render_html(report))
    return ReconcileResult(report, outcome, sets[LEFT], sets[RIGHT], files)
