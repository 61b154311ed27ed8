"""What report.html and report.xlsx both show, worked out once: the tie-out measures, labels,
the rows of rejects.csv and duplicates.csv, the warnings and check warnings."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from ..money import exponent_of

OUTCOMES = ("written", "rejected", "filtered", "duplicate")


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


def reject_view(row: dict[str, str]) -> dict[str, str]:
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


def money_fields(report: dict[str, Any]) -> set[str]:
    from ..model import FieldType, get_kind

    try:
        kind = get_kind(str(report.get("mapping", {}).get("kind", "")))
    except KeyError:
        return set()
    return {f.name for f in kind.fields if f.type is FieldType.MONEY}


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
