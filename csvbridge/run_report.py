"""A conversion's report: the tie-out that must hold before its import files are published;
then report.json, report.html and report.xlsx, made once those files, rejects.csv and
duplicates.csv are closed (and the batch recorded), from what the run counted on the way."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .atomic import write_atomic, write_atomic_with
from .dedup import DuplicateStage
from .errors import ConservationError
from .mapping import ChunkResult, LoadedMapping
from .mask import Masker, mask_report
from .readers import SourceInfo
from .reports.batch import batch_report, report_json
from .reports.control import ControlTotals
from .reports.files import DuplicatesFile, RejectsFile
from .reports.ledger import Ledger, TieOut
from .reports.render_html import render_html
from .reports.render_xlsx import save_xlsx
from .writers import OutputFile, Target


def add_check_warnings(tallies: dict[str, dict[str, Any]], file: str, result: ChunkResult) -> None:
    """Add a chunk's lines that checks warned about to ``tallies`` (by check: how many rows,
    and the first 20 as file, line and note)."""
    for rule, at in result.warnings:
        tally = tallies.setdefault(rule, {"rows": 0, "first": []})
        tally["rows"] += len(at)
        room = 20 - len(tally["first"])
        notes = result.notes.get(rule, {})
        tally["first"] += [
            {"file": file, "line": ln, **({"note": notes[ln]} if ln in notes else {})}
            for ln in at[:room]
        ]


def tie_out(ledger: Ledger, targets: Sequence[str]) -> list[TieOut]:
    """Each target's tie-out. Raises ConservationError when one fails: the run must then
    publish no import file."""
    tie_outs = [ledger.tie_out(t) for t in targets]
    failed = [t for t in tie_outs if not t.ok]
    if failed:
        raise ConservationError(
            "the tie-out failed: " + "; ".join(p for t in failed for p in t.problems),
            where="targets " + ", ".join(t.target for t in failed),
            hint="this is a bug in csvbridge; no import file was written. Please report "
            "it with report.json.",
        )
    return tie_outs


@dataclass(frozen=True)
class RunFacts:
    """What a finished conversion's report is made of. ``check_warnings`` is by check name
    (rows, first lines); ``doc_warnings`` the messages of document rules that only warn."""

    lm: LoadedMapping
    infos: list[SourceInfo]
    chosen: list[Target]
    target_opts: dict[str, dict[str, str]]
    produced: dict[str, list[OutputFile]]
    reject_files: list[OutputFile]
    dup_files: list[OutputFile]
    ledger: Ledger
    tie_outs: list[TieOut]
    rejects: RejectsFile
    dups: DuplicatesFile
    dup_fields: tuple[str, ...]
    hold_back: bool
    within: str
    stage: DuplicateStage
    control: ControlTotals
    reconciliation: list[dict[str, Any]]
    check_warnings: dict[str, dict[str, Any]]
    doc_warnings: dict[str, list[str]]
    masker: Masker
    batch_id: int | None


def build_report(f: RunFacts) -> dict[str, Any]:
    """The run's report (what report.json holds), masked."""
    report = batch_report(
        f.lm,
        f.infos,
        f.chosen,
        f.target_opts,
        f.produced,
        f.reject_files,
        f.dup_files,
        f.ledger,
        f.tie_outs,
        f.rejects,
        f.dups,
        f.dup_fields,
        f.hold_back,
    )
    report["reconciliation"] = f.reconciliation
    if f.doc_warnings:
        report["document_warnings"] = {k: v[:50] for k, v in sorted(f.doc_warnings.items())}
    rules = {c.name: c.rule or "unique: " + ", ".join(c.unique_fields) for c in f.lm.mapping.checks}
    report["check_warnings"] = {
        name: {"rule": rules.get(name, "value not in the lookup table"), **tally}
        for name, tally in sorted(f.check_warnings.items())
        if tally["rows"]
    }
    report["duplicates"]["against_history"] = f.stage.against_history
    report["duplicates"]["decisions_applied"] = f.stage.overridden
    report["duplicates"]["within_file"] = f.within
    report["duplicates"]["possible"] = f.stage.possible_report()
    report["control_totals"] = f.control.as_list()
    mask_report(report, f.masker)
    report["history"] = {"batch": f.batch_id} if f.batch_id is not None else None
    return report


def write_reports(report: dict[str, Any], out: Path) -> None:
    """Write ``report`` to ``out`` as report.json, report.html and report.xlsx, each atomically."""
    write_atomic(out / "report.json", report_json(report))
    write_atomic(out / "report.html", render_html(report, out))
    write_atomic_with(out / "report.xlsx", lambda f: save_xlsx(report, out, f))
