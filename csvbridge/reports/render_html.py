"""report.html: the run's report for a person, as one self-contained page (inline CSS, no
scripts, nothing fetched from the network), readable on screen and on paper.

The page is built from report.json's dict plus the first rows of rejects.csv and
duplicates.csv in the output folder. Sections whose data the report lacks are left out.
The output depends only on its inputs (no clock), so the same run gives the same bytes.
The view helpers it shares with render_xlsx (tie-out figures, CSV heads, amount formatting)
are in report_view.py."""

from __future__ import annotations

import contextlib
import functools
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemBytecodeCache, FileSystemLoader, StrictUndefined
from jinja2.bccache import Bucket

from .report_view import (
    LOW_CONFIDENCE,
    OUTCOMES,
    check_warnings_of,
    csv_rows,
    file_names,
    group_amount,
    label,
    money_fields,
    plain,
    reject_view,
    rejects_from_sample,
    show_detected,
    status_tone,
    tie_out_measures,
    warnings_of,
)

HTML_ROWS = 500  # rows of rejects.csv and duplicates.csv shown on the page
_TEMPLATES = Path(__file__).with_name("templates")


def _head(
    outdir: Path, names: list[str], limit: int, counted: bool
) -> tuple[list[dict[str, str]], int, bool]:
    """The first ``limit`` rows as dicts, how many rows there are (read to the end only when
    the report has not ``counted`` them), and whether any file was found."""
    rows: list[dict[str, str]] = []
    count = 0
    for header, row in csv_rows(outdir, names):
        if count >= limit and counted:
            break
        if count < limit:
            rows.append(dict(zip(header, row, strict=False)))
        count += 1
    found = any((outdir / n).is_file() for n in names)
    return rows, count, found


def _rejects(report: dict[str, Any], outdir: Path) -> dict[str, Any] | None:
    section = report.get("rejects")
    if not isinstance(section, dict):
        return None
    names = file_names(section, "rejects.csv")
    rows, count, found = _head(outdir, names, HTML_ROWS, "rows" in section)
    if not found:
        rows = rejects_from_sample(section.get("first") or [])[:HTML_ROWS]
    total = int(section.get("rows", count))
    return {
        "total": total,
        "rows": [reject_view(r) for r in rows],
        "more": max(total - len(rows), 0),
        "files": names,
        "found": found,
        "by_rule": section.get("by_rule") or {},
    }


def _duplicates(report: dict[str, Any], outdir: Path) -> dict[str, Any] | None:
    section = report.get("duplicates")
    if not isinstance(section, dict):
        return None
    names = file_names(section, "duplicates.csv")
    rows, count, found = _head(outdir, names, HTML_ROWS, "flagged" in section)
    if not found:
        rows = [{k: str(v) for k, v in r.items()} for r in section.get("first") or []]
    total = int(section.get("flagged", count))
    fields = [f for f in section.get("fields") or [] if not rows or f in rows[0]]
    return {
        "total": total,
        "held_back": section.get("held_back", 0),
        "policy": section.get("policy", ""),
        "fields": fields,
        "money": [f for f in fields if f in money_fields(report)],
        "rows": rows,
        "more": max(total - len(rows), 0),
        "files": names,
        "found": found,
        "possible": (section.get("possible") or {}).get("flagged") and section["possible"],
    }


def _tie_outs(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Tie-outs grouped: targets with the same figures share one table."""
    groups: list[dict[str, Any]] = []
    for t in report.get("tie_out") or []:
        measures = tie_out_measures(report, t.get("target", ""))
        key = (t.get("balanced"), t.get("equation"), t.get("problems"))
        for g in groups:
            if g["key"] == key:
                g["targets"].append(t.get("target", ""))
                break
        else:
            groups.append(
                {
                    "key": key,
                    "targets": [t.get("target", "")],
                    "balanced": bool(t.get("balanced")),
                    "equation": t.get("equation") or [],
                    "problems": t.get("problems") or [],
                    "measures": measures,
                }
            )
    return groups


def _checks(report: dict[str, Any]) -> dict[str, Any] | None:
    """report["reconciliation"], rendered generically: a list of checks (name, status,
    detail), or a dict holding ``checks`` beside other facts."""
    rec = report.get("reconciliation")
    if rec is None:
        return None
    checks = rec.get("checks", []) if isinstance(rec, dict) else rec
    facts = {k: v for k, v in rec.items() if k != "checks"} if isinstance(rec, dict) else {}
    rows = []
    for c in checks if isinstance(checks, list) else []:
        c = c if isinstance(c, dict) else {"detail": c}
        status = str(c.get("status", ""))
        rows.append(
            {
                "name": str(c.get("name", "")),
                "status": status,
                "tone": status_tone(status),
                "detail": plain(c.get("detail", "")),
                "extra": {
                    k: plain(v) for k, v in c.items() if k not in {"name", "status", "detail"}
                },
            }
        )
    return {"checks": rows, "facts": {k: plain(v) for k, v in facts.items()}}


def _summary(report: dict[str, Any], ties: list[dict[str, Any]]) -> dict[str, Any]:
    stages = (report.get("ledger") or {}).get("stages") or {}
    written = {
        t["target"]: int(m[0].outcomes[0])
        for t in report.get("tie_out") or []
        if (m := tie_out_measures(report, t.get("target", "")))
    }
    rejects = report.get("rejects") or {}
    dups = report.get("duplicates") or {}
    return {
        "balanced": bool(ties) and all(g["balanced"] for g in ties),
        "has_tie_out": bool(ties),
        "read": (stages.get("read") or {}).get("rows"),
        "written": written,
        "written_same": len(set(written.values())) <= 1,
        "rejected": rejects.get("rows", (stages.get("rejected") or {}).get("rows")),
        "filtered": (stages.get("filtered") or {}).get("rows"),
        "duplicates": dups.get("flagged"),
        "held_back": dups.get("held_back", 0),
        "low": [
            (i.get("name", ""), k, d)
            for i in report.get("inputs") or []
            for k, d in (i.get("detected") or {}).items()
            if d.get("method") != "given" and float(d.get("confidence", 1)) < LOW_CONFIDENCE
        ],
    }


class _QuietCache(FileSystemBytecodeCache):
    """Jinja's per-user cache of compiled templates (keyed by the template's source): saves
    compiling the report template on every run. A cache that cannot be read or written (a full
    or read-only temp folder) is skipped, never a reason for a conversion to fail."""

    def load_bytecode(self, bucket: Bucket) -> None:
        with contextlib.suppress(OSError):
            super().load_bytecode(bucket)

    def dump_bytecode(self, bucket: Bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


def _bytecode_cache() -> FileSystemBytecodeCache | None:
    try:
        return _QuietCache()
    except (OSError, RuntimeError):  # no safe per-user folder for it
        return None


@functools.cache
def environment() -> Environment:
    """The Jinja environment of the report pages (report.html and reconcile.html): the
    templates folder, autoescaping, and the filters the templates use."""
    env = Environment(
        loader=FileSystemLoader(_TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        bytecode_cache=_bytecode_cache(),
    )
    env.filters["amount"] = group_amount
    env.filters["detected"] = lambda v, name: show_detected(name, v)
    env.filters["num"] = lambda v: f"{int(v):,}" if isinstance(v, int) else str(v)
    env.filters["label"] = label
    env.filters["words"] = lambda xs: (
        ", ".join(xs[:-1]) + (" and " if len(xs) > 1 else "") + (xs[-1] if xs else "")
    )
    return env


def render_html(report: dict[str, Any], outdir: Path) -> bytes:
    """The report as a self-contained HTML page (UTF-8 bytes); reads the first rows of the
    rejects and duplicates files in ``outdir``."""
    ties = _tie_outs(report)
    page = (
        environment()
        .get_template("report.html.j2")
        .render(
            r=report,
            mapping=report.get("mapping"),
            inputs=report.get("inputs") or [],
            targets=report.get("targets") or [],
            summary=_summary(report, ties),
            ties=ties,
            rejects=_rejects(report, Path(outdir)),
            duplicates=_duplicates(report, Path(outdir)),
            filtered=(report.get("ledger") or {}).get("filtered_by_rule") or {},
            checks=_checks(report),
            control=[c for c in report.get("control_totals") or [] if isinstance(c, dict)],
            warnings=warnings_of(report),
            check_warnings=check_warnings_of(report),
            outcomes=OUTCOMES,
            low_confidence=LOW_CONFIDENCE,
            shown=HTML_ROWS,
        )
    )
    return page.encode("utf-8")
