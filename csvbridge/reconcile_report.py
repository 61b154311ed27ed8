"""The reconcile report: reconcile.json (built here as a dict), rendered by
reconcile_render.py as reconcile.csv (one row per match, unmatched record or rejected row, for
filtering in a spreadsheet) and reconcile.html (one self-contained page in the look of
report.html, reusing its stylesheet).

Everything is a function of the inputs: no clock, no absolute paths, a fixed order, so the
same run gives the same bytes. The tie-out is computed from the record tables independently
of the matching, and a failed tie-out raises before any file is written.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from . import __version__
from .errors import ConservationError
from .reconcile_core import (
    MAX_GROUP_SIZE,
    MAX_PAIR_CANDIDATES,
    MAX_SUBSET_CANDIDATES,
    PASS_NAMES,
    SIDES,
    SUBSET_STEPS_PER_RECORD,
    SUBSET_STEPS_TOTAL,
    Match,
    Outcome,
    Rec,
    Settings,
    money,
)

if TYPE_CHECKING:
    from .reconcile import RecordSet

HTML_ROWS = 500  # rows of each table shown on the page; the CSV and JSON hold them all
SHOWN_FIELDS = ("description", "reference", "id")
CSV_GROUP_TEXTS = 10  # descriptions of a group shown in one reconcile.csv cell
_EPOCH = date(1970, 1, 1)

CSV_COLUMNS = (
    "status",
    "match",
    "pass",
    "method",
    "score",
    "currency",
    *(
        f"{s}_{c}"
        for s in SIDES
        for c in ("file", "lines", "date", "amount", "description", "reference")
    ),
    "amount_delta",
    "date_delta_days",
    "reason",
)


def iso(day: int) -> str:
    """Days since 1970-01-01 as YYYY-MM-DD."""
    return (_EPOCH + timedelta(days=day)).isoformat()


class _Side:
    """One side's records as report rows."""

    def __init__(self, rs: RecordSet, recs: list[Rec]) -> None:
        self.rs = rs
        self.recs = recs
        self.name = rs.info.name
        t = rs.records
        self.text = {
            f: t.column(f).to_pylist() if f in t.column_names else [None] * t.num_rows
            for f in SHOWN_FIELDS
        }

    def record(self, pos: int) -> dict[str, Any]:
        r = self.recs[pos]
        return {
            "file": self.name,
            "line": r.line,
            "date": iso(r.day),
            "amount": money(r.amount, r.currency),
            "currency": r.currency,
            **{f: self.text[f][pos] for f in SHOWN_FIELDS},
        }


def _match(m: Match, sides: tuple[_Side, _Side]) -> dict[str, Any]:
    totals = [sum(sides[s].recs[p].amount for p in ps) for s, ps in enumerate((m.left, m.right))]
    return {
        "id": m.id,
        "pass": m.pass_no,
        "method": m.method,
        "score": m.score,
        "currency": m.currency,
        "left": [sides[0].record(p) for p in m.left],
        "right": [sides[1].record(p) for p in m.right],
        "left_total": money(totals[0], m.currency),
        "right_total": money(totals[1], m.currency),
        "amount_delta": money(m.amount_delta, m.currency),
        "date_delta_days": m.date_delta_days,
        "reason": m.reason,
    }


def _money_by_currency(pairs: list[tuple[str, int]]) -> dict[str, int]:
    c: Counter[str] = Counter()
    n: Counter[str] = Counter()
    for cur, amt in pairs:
        c[cur] += amt
        n[cur] += 1
    return {k: c[k] for k in sorted(n)}


def _tie_out(
    side: int, rs: RecordSet, recs: list[Rec], outcome: Outcome
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(totals, tie-out) for one side, recomputed from the record table itself."""
    label = SIDES[side]
    t = rs.records
    stages = rs.ledger.stages
    read, rejected, filtered = (stages[s].count for s in ("read", "rejected", "filtered"))
    problems: list[str] = []
    if read != t.num_rows + rejected + filtered:
        problems.append(
            f"{read} rows read but {t.num_rows} records + {rejected} rejected + {filtered} filtered"
        )
    in_matches = Counter(p for m in outcome.matches for p in (m.left, m.right)[side])
    twice = sorted(p for p, k in in_matches.items() if k > 1)
    if twice:
        problems.append(f"records in more than one match: positions {twice[:10]}")
    unmatched = outcome.unmatched[side]
    seen = set(in_matches) | set(unmatched)
    if (
        len(seen) != t.num_rows
        or set(in_matches) & set(unmatched)
        or len(set(unmatched)) != len(unmatched)
    ):
        problems.append("matched and unmatched records do not partition the side's records")
    grouped = (
        t.group_by("currency").aggregate([("amount", "sum"), ("amount", "count")]).to_pylist()
        if t.num_rows
        else []
    )
    total = {g["currency"]: (g["amount_count"], g["amount_sum"]) for g in grouped}
    matched = _money_by_currency([(recs[p].currency, recs[p].amount) for p in in_matches])
    matched_n = Counter(recs[p].currency for p in in_matches)
    left_over = _money_by_currency([(recs[p].currency, recs[p].amount) for p in unmatched])
    left_n = Counter(recs[p].currency for p in unmatched)
    totals: dict[str, Any] = {}
    equation = [
        f"rows: {read} read = {t.num_rows} records + {rejected} rejected + {filtered} filtered",
        f"records: {t.num_rows} = {len(in_matches)} matched + {len(unmatched)} unmatched",
    ]
    for cur in sorted(total):
        count, amount = total[cur]
        m_amt, u_amt = matched.get(cur, 0), left_over.get(cur, 0)
        if amount != m_amt + u_amt or count != matched_n[cur] + left_n[cur]:
            problems.append(f"{cur}: {money(amount, cur)} ≠ matched + unmatched")
        totals[cur] = {
            "records": {"count": count, "amount": money(amount, cur)},
            "matched": {"count": matched_n[cur], "amount": money(m_amt, cur)},
            "unmatched": {"count": left_n[cur], "amount": money(u_amt, cur)},
        }
        equation.append(
            f"{cur}: {money(amount, cur)} = {money(m_amt, cur)} matched + "
            f"{money(u_amt, cur)} unmatched"
        )
    if problems:
        raise ConservationError(
            f"the {label} side's tie-out failed: " + "; ".join(problems),
            where=rs.info.name,
            hint="this is a bug in csvbridge; no reconcile file was written. Please report it.",
        )
    return totals, {"balanced": True, "equation": equation}


def _side_info(rs: RecordSet) -> dict[str, Any]:
    m = rs.mapping
    stages = rs.ledger.stages
    return {
        "file": rs.info.name,
        "mapping": {
            "name": m.mapping.name,
            "version": m.mapping.version,
            "file": m.path.name,
            "sha256": m.sha256,
        },
        "input": rs.info.as_dict(),
        "read": {
            "rows": stages["read"].count,
            "records": rs.records.num_rows,
            "rejected": stages["rejected"].count,
            "filtered": stages["filtered"].count,
            "filtered_by_rule": {k: v.count for k, v in sorted(rs.ledger.filtered_by_rule.items())},
            "ledger": {s: stages[s].as_dict() for s in ("read", "rejected", "filtered")},
        },
        "rejects": {
            "rows": len(rs.rejects),
            "list": [
                {
                    "line": r.line,
                    "errors": [
                        {"field": e.field, "value": e.value, "rule": e.rule, "message": e.message}
                        for e in r.errors
                    ],
                }
                for r in rs.rejects
            ],
        },
    }


def _notes(
    sets: tuple[RecordSet, RecordSet], recs: list[list[Rec]], s: Settings, outcome: Outcome
) -> tuple[list[str], list[str]]:
    """(notes, warnings): facts about how the passes could work on these mappings, and
    things a person should look at."""
    notes: list[str] = []
    warnings: list[str] = []
    fields = [rs.mapping.mapping.fields for rs in sets]
    for side in (0, 1):
        missing = [p[side] for p in s.keys if p[side] not in fields[side]]
        if missing:
            notes.append(
                f"pass 1 (exact keys) could match nothing: the {SIDES[side]} mapping has no "
                f"{', '.join(missing)} field"
            )
        if not recs[side]:
            warnings.append(f"the {SIDES[side]} side has no records to match")
    if s.group_by:
        have = [SIDES[i] for i in (0, 1) if s.group_by in fields[i]]
        if have:
            notes.append(f"groups by {s.group_by} come from the {' and '.join(have)} side")
        else:
            warnings.append(f"neither mapping has a {s.group_by} field to group by")
    cur = [{r.currency for r in rs} for rs in recs]
    if cur[0] and cur[1] and not cur[0] & cur[1]:
        warnings.append(
            f"the sides share no currency (left {', '.join(sorted(cur[0]))}; right "
            f"{', '.join(sorted(cur[1]))}): records only match in the same currency"
        )
    cut = outcome.stats.get("subset_searches_cut", 0) + outcome.stats.get(
        "subset_searches_not_run", 0
    )
    if cut:
        warnings.append(
            f"the many-to-one subset search was cut short or not run for {cut} record(s) "
            "(see their reasons); a group key (group_by) makes payouts match without a search"
        )
    return notes, warnings


def build_report(
    left: RecordSet,
    right: RecordSet,
    recs: list[list[Rec]],
    outcome: Outcome,
    s: Settings,
) -> dict[str, Any]:
    """reconcile.json as a dict. Raises ConservationError if a side does not tie out."""
    sides = (_Side(left, recs[0]), _Side(right, recs[1]))
    notes, warnings = _notes((left, right), recs, s, outcome)
    ties = [_tie_out(i, rs, recs[i], outcome) for i, rs in enumerate((left, right))]
    matches = [_match(m, sides) for m in outcome.matches]
    by_pass = Counter(m.method for m in outcome.matches)
    delta: Counter[str] = Counter()
    for m in outcome.matches:
        delta[m.currency] += m.amount_delta
    unmatched = {
        SIDES[i]: [
            {**sides[i].record(p), "reason": outcome.reasons[i].get(p, "")}
            for p in outcome.unmatched[i]
        ]
        for i in (0, 1)
    }
    return {
        "csvbridge": __version__,
        "report": "reconcile",
        "settings": {
            "date_window_days": s.date_window_days,
            "amount_tolerance_minor": s.amount_tolerance_minor,
            "text_threshold": s.text_threshold,
            "keys": [a if a == b else f"{a}={b}" for a, b in s.keys],
            "group_by": s.group_by,
            "limits": {
                "pair_candidates": MAX_PAIR_CANDIDATES,
                "group_size": MAX_GROUP_SIZE,
                "subset_candidates": MAX_SUBSET_CANDIDATES,
                "subset_steps_per_record": SUBSET_STEPS_PER_RECORD,
                "subset_steps_total": SUBSET_STEPS_TOTAL,
            },
        },
        "left": _side_info(left),
        "right": _side_info(right),
        "summary": {
            "balanced": True,
            "matches": len(matches),
            "by_pass": {name: by_pass[name] for name in PASS_NAMES.values()},
            "records": {SIDES[i]: len(recs[i]) for i in (0, 1)},
            "matched": {SIDES[i]: len(recs[i]) - len(outcome.unmatched[i]) for i in (0, 1)},
            "unmatched": {SIDES[i]: len(outcome.unmatched[i]) for i in (0, 1)},
            "rejected": {"left": len(left.rejects), "right": len(right.rejects)},
        },
        "tie_out": {"balanced": True, "left": ties[0][1], "right": ties[1][1]},
        "totals": {"left": ties[0][0], "right": ties[1][0]},
        "differences": {
            "matched_amount_delta": {c: money(v, c) for c, v in sorted(delta.items())},
            "matches": [
                {
                    "match": m["id"],
                    "amount_delta": m["amount_delta"],
                    "date_delta_days": m["date_delta_days"],
                }
                for m, raw in zip(matches, outcome.matches, strict=True)
                if raw.amount_delta or raw.date_delta_days
            ],
        },
        "matches": matches,
        "unmatched": unmatched,
        "search": outcome.stats,
        "notes": notes,
        "warnings": warnings,
    }


def report_json(report: dict[str, Any]) -> bytes:
    """reconcile.json's bytes: indented UTF-8, keys in the order built, a final newline."""
    return (json.dumps(report, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
