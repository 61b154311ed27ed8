"""report.html: the run's report for a person, as one self-contained page (inline CSS, no
scripts, nothing fetched from the network), readable on screen and on paper.

The page is built from report.json's dict plus the first rows of rejects.csv and
duplicates.csv in the output folder. Sections whose data the report lacks are left out.
The output depends only on its inputs (no clock), so the same run gives the same bytes.
The view helpers here (tie-out figures, CSV heads, amount formatting) are shared with
render_xlsx."""

from __future__ import annotations

import contextlib
import csv
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemBytecodeCache, FileSystemLoader, StrictUndefined
from jinja2.bccache import Bucket

from ..money import exponent_of

HTML_ROWS = 500  # rows of rejects.csv and duplicates.csv shown on the page
OUTCOMES = ("written", "rejected", "filtered", "duplicate")
_TEMPLATES = Path(__file__).with_name("templates")
_DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe", " ": "space"}
LOW_CONFIDENCE = 0.8


@dataclass
class Measure:
    """One line of a tie-out: read = written + rejected + filtered + duplicate, in rows or in
    one currency's money. Amounts are exact Decimals; counts are ints held as Decimals."""

    label: str
    currency: str | None  # None: a count of rows
    read: Decimal
    outcomes: tuple[Decimal, Decimal, Decimal, Decimal]
    places: int

    @property
    def difference(self) -> Decimal:
        return self.read - sum(self.outcomes, Decimal(0))

    def text(self, value: Decimal) -> str:
        """The value with thousands separators and the measure's decimal places."""
        return f"{value:,.{self.places}f}"


def _dec(text: Any) -> Decimal:
    try:
        return Decimal(str(text))
    except InvalidOperation:
        return Decimal(0)


def places_of(currency: str, *amounts: str) -> int:
    """Decimal places to show for ``currency``: its ISO exponent, else as written."""
    exp = exponent_of(currency) if currency else None
    if exp is not None:
        return exp
    return max((len(a.partition(".")[2]) for a in amounts), default=0)


def tie_out_measures(report: dict[str, Any], target: str) -> list[Measure]:
    """The figures behind one target's tie-out, from the report's ledger (empty if none).
    Rows a target's writer refused count as rejected for that target only."""
    ledger = report.get("ledger")
    if not isinstance(ledger, dict) or "stages" not in ledger:
        return []
    stages = ledger["stages"]
    empty: dict[str, Any] = {"rows": 0, "amounts": {}, "rows_without_amount": 0}
    read = stages.get("read", empty)
    own = ledger.get("rejected_by_target", {}).get(target, empty)
    tallies = [
        [ledger.get("written", {}).get(target, empty)],
        [stages.get("rejected", empty), own],
        [stages.get("filtered", empty)],
        [stages.get("duplicate", empty)],
    ]

    def value(tally: dict[str, Any], what: str, money: bool) -> Decimal:
        return _dec((tally.get("amounts") or {}).get(what, 0) if money else tally.get(what, 0))

    def measure(label: str, what: str, money: bool = False, places: int = 0) -> Measure:
        w, r, f, d = (sum((value(p, what, money) for p in ps), Decimal(0)) for ps in tallies)
        cur = what if money else None
        return Measure(label, cur, value(read, what, money), (w, r, f, d), places)

    measures = [measure("Rows", "rows")]
    currencies = set(read.get("amounts", {}))
    for parts in tallies:
        for p in parts:
            currencies |= set(p.get("amounts", {}))
    for cur in sorted(currencies):
        written = [p.get("amounts", {}).get(cur, "") for t in [[read], *tallies] for p in t]
        measures.append(measure(cur or "(no currency)", cur, True, places_of(cur, *written)))
    if read.get("rows_without_amount"):
        measures.append(measure("Rows with no readable amount", "rows_without_amount"))
    return measures


def group_amount(text: str) -> str:
    """``-1553.50`` → ``-1,553.50`` (exact, keeps the decimals as written); other text as is."""
    try:
        return f"{Decimal(text):,}"
    except InvalidOperation:
        return text


def show_detected(name: str, value: Any) -> str:
    """A detected value in words: the delimiter ``;`` reads ``semicolon ( ; )``."""
    if name == "delimiter" and isinstance(value, str):
        word = _DELIMITERS.get(value)
        return f"{word} ( {value} )" if word and value.strip() else (word or repr(value))
    return "(none)" if value is None else str(value)


def label(name: str) -> str:
    """A field or column name as a heading: ``repeats_line`` → ``Repeats line``."""
    return name.replace("_", " ").capitalize()


def csv_rows(outdir: Path, names: list[str]) -> Iterator[tuple[list[str], list[str]]]:
    """Stream (header, row) pairs from the named CSV files in ``outdir`` (parts of one file
    share a header); files that are missing are skipped."""
    for name in names:
        path = outdir / name
        if not path.is_file():
            continue
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is None:
                continue
            for row in reader:
                yield header, row


def file_names(section: Any, default: str) -> list[str]:
    """Names of the files a report section lists (``rejects``/``duplicates``), or ``default``."""
    files = section.get("files") if isinstance(section, dict) else None
    names = [f["name"] for f in files or [] if isinstance(f, dict) and f.get("name")]
    return names or [default]


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


def _reject_view(row: dict[str, str]) -> dict[str, str]:
    field = row.get("field", "")
    message = row.get("message", "")
    if field and "|" not in field and message.startswith(field + ": "):
        message = message[len(field) + 2 :]
    return {**row, "message": message}


def rejects_from_sample(first: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Rows shaped like rejects.csv from report.json's sample (when the file is absent)."""
    out = []
    for r in first:
        errs = r.get("errors") or [{}]
        out.append(
            {
                "file": str(r.get("file", "")),
                "line": str(r.get("line", "")),
                "target": str(r.get("target", "")),
                **{
                    k: " | ".join(str(e.get(k, "")) for e in errs)
                    for k in ("field", "column", "value", "rule", "message")
                },
            }
        )
    return out


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
        "rows": [_reject_view(r) for r in rows],
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


def money_fields(report: dict[str, Any]) -> set[str]:
    from ..model import FieldType, get_kind

    try:
        kind = get_kind(str(report.get("mapping", {}).get("kind", "")))
    except KeyError:
        return set()
    return {f.name for f in kind.fields if f.type is FieldType.MONEY}


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


def status_tone(status: str) -> str:
    """good / bad / warn / plain, for colouring a check's status word."""
    s = status.lower()
    if s in {"ok", "pass", "passed", "balanced", "true", "match", "matched"}:
        return "good"
    if s in {"fail", "failed", "error", "mismatch", "false", "broken", "not balanced"}:
        return "bad"
    if s.startswith("warn") or s in {"skipped", "unknown", "not checked"}:
        return "warn"
    return "plain"


def plain(v: Any) -> str:
    if isinstance(v, dict):
        return "; ".join(f"{k}: {plain(x)}" for k, x in v.items())
    if isinstance(v, list):
        return "; ".join(plain(x) for x in v)
    return "" if v is None else str(v)


def warnings_of(report: dict[str, Any]) -> list[str]:
    """Every warning in the report: each input's, then any run-wide ones."""
    out = [
        f"{i.get('name', '')}: {w}"
        for i in report.get("inputs") or []
        for w in i.get("warnings") or []
    ]
    out += [str(w) for w in report.get("warnings") or []]
    return out


def check_warnings_of(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The mapping's ``checks:`` with severity warning that rows broke: name, rule, rows, and
    the first rows (file, line and note: for ``unique:``, where the value was first seen)."""
    out = []
    for name, c in (report.get("check_warnings") or {}).items():
        if not isinstance(c, dict):
            continue
        first = [
            {"file": str(x.get("file", "")), "line": x.get("line", ""), "note": x.get("note", "")}
            for x in c.get("first") or []
            if isinstance(x, dict)
        ]
        rows = int(c.get("rows", len(first)))
        out.append({"name": name, "rule": c.get("rule", ""), "rows": rows, "first": first})
    return out


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
def _environment() -> Environment:
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
        _environment()
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
