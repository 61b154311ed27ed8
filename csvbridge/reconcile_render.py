"""reconcile.csv and reconcile.html, rendered from the reconcile report's dict (built in
reconcile_report.py). Deterministic: the same report gives the same bytes."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from .reconcile_core import (
    SIDES,
    money,
)
from .reconcile_report import CSV_COLUMNS, CSV_GROUP_TEXTS, HTML_ROWS
from .reports.render_html import environment
from .writers.base import csv_lines, guard_formula


# -- reconcile.csv ----------------------------------------------------------------------------
def _cells(records: list[dict[str, Any]]) -> list[str]:
    """file, lines, date, amount, description, reference for one side of a row."""
    if not records:
        return [""] * 6
    dates = sorted({r["date"] for r in records})
    cur = records[0]["currency"]
    total = sum(_minor(r["amount"]) for r in records)
    refs = list(dict.fromkeys(r["reference"] for r in records if r.get("reference")))
    return [
        records[0]["file"],
        " ".join(str(r["line"]) for r in records),
        dates[0] if len(dates) == 1 else f"{dates[0]} to {dates[-1]}",
        money(total, cur),
        _joined([r.get("description") or "" for r in records]),
        " | ".join(refs),
    ]


def _joined(texts: list[str], shown: int = CSV_GROUP_TEXTS) -> str:
    """Texts joined with `` | ``; past ``shown`` of them, how many more (a spreadsheet cell
    holds 32,767 characters; a payout can hold hundreds of charges)."""
    more = f" | … {len(texts) - shown} more" if len(texts) > shown else ""
    return " | ".join(texts[:shown]) + more


def _minor(text: str) -> int:
    """``-12.34`` → ``-1234`` (the text money() wrote; no float)."""
    neg = text.startswith("-")
    digits = text.lstrip("-").replace(".", "")
    return -int(digits) if neg else int(digits)


def csv_rows(report: dict[str, Any]) -> list[list[str]]:
    """reconcile.csv's data rows, in order: matches, unmatched left, unmatched right, rejected."""
    rows: list[list[str]] = []
    for m in report["matches"]:
        rows.append(
            [
                "matched",
                m["id"],
                str(m["pass"]),
                m["method"],
                f"{m['score']:g}",
                m["currency"],
                *_cells(m["left"]),
                *_cells(m["right"]),
                m["amount_delta"],
                str(m["date_delta_days"]),
                m["reason"],
            ]
        )
    for side in SIDES:
        for u in report["unmatched"][side]:
            mine = _cells([u])
            cells = [*mine, *[""] * 6] if side == "left" else [*[""] * 6, *mine]
            rows.append(["unmatched", "", "", "", "", u["currency"], *cells, "", "", u["reason"]])
    for x in rejected_rows(report):
        where = [x["file"], str(x["line"]), "", "", "", ""]
        cells = [*where, *[""] * 6] if x["side"] == "left" else [*[""] * 6, *where]
        rows.append(["rejected", "", "", "", "", "", *cells, "", "", x["reason"]])
    return rows


def rejected_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Both sides' rejected rows: side, file, line and every reason."""
    return [
        {
            "side": side,
            "file": report[side]["file"],
            "line": r["line"],
            "reason": " | ".join(f"{e['field'] or 'row'}: {e['message']}" for e in r["errors"]),
        }
        for side in SIDES
        for r in report[side]["rejects"]["list"]
    ]


def render_csv(report: dict[str, Any]) -> bytes:
    """reconcile.csv: UTF-8, CRLF, a header, formula-like text guarded with a quote."""
    rows = csv_rows(report)
    head = csv_lines([pa.array([c]) for c in CSV_COLUMNS])
    body = b""
    if rows:
        columns = [
            guard_formula(pa.array(list(col), pa.string())) for col in zip(*rows, strict=True)
        ]
        body = "".join(csv_lines(columns).to_pylist()).encode("utf-8")
    return "".join(head.to_pylist()).encode("utf-8") + body


# -- reconcile.html ---------------------------------------------------------------------------
def render_html(report: dict[str, Any]) -> bytes:
    """reconcile.html: one self-contained page (inline CSS from report.css, no scripts)."""
    rejected = rejected_rows(report)
    page = (
        environment()
        .get_template("reconcile.html.j2")
        .render(
            r=report,
            s=report["summary"],
            sides=SIDES,
            matches=report["matches"][:HTML_ROWS],
            unmatched={k: v[:HTML_ROWS] for k, v in report["unmatched"].items()},
            rejected=rejected,
            shown=HTML_ROWS,
        )
    )
    return page.encode("utf-8")
