"""The batch report: what report.json says about one conversion, and the statement check
(opening balance + amounts = closing balance) it records for each input."""

from __future__ import annotations

import json
from typing import Any

from .. import __version__
from ..balances import balance_check, stated_balances
from ..mapping import LoadedMapping
from ..model import FieldType, get_kind
from ..money import NumberFormat
from ..readers import SourceInfo
from ..writers import OutputFile, Target
from .files import DuplicatesFile, RejectsFile
from .ledger import Ledger, Tally, TieOut


def statement_check(lm: LoadedMapping, info: SourceInfo, read: Tally) -> dict[str, Any] | None:
    """Opening + Σ amounts = closing, for a statement that states both (transactions only)."""
    m = lm.mapping
    amount = m.fields.get("amount")
    if m.kind != "transaction" or amount is None or len(read.totals) > 1:
        return None
    cur = m.fields.get("currency")
    currency = next(iter(read.totals), None) or (cur.value.upper() if cur and cur.value else None)
    if currency is None:
        return None
    fmt = NumberFormat(m.numbers.decimal, m.numbers.thousands or None)
    found = stated_balances(info, fmt, currency)
    # An inverted amount (a card statement) means the file's balances are in its own sign.
    sign = -1 if amount.invert else 1
    totals = {c: sign * v for c, v in read.totals.items()}
    return balance_check(info.name, found, totals, read.unknown, currency)


def batch_report(
    lm: LoadedMapping,
    infos: list[SourceInfo],
    chosen: list[Target],
    target_opts: dict[str, dict[str, str]],
    produced: dict[str, list[OutputFile]],
    reject_files: list[OutputFile],
    dup_files: list[OutputFile],
    ledger: Ledger,
    tie_outs: list[TieOut],
    rejects: RejectsFile,
    dups: DuplicatesFile,
    dup_fields: tuple[str, ...],
    hold_back: bool,
) -> dict[str, Any]:
    """report.json's core: mapping, inputs, targets, ledger, tie-out, rejects, duplicates."""
    m = lm.mapping
    kind = m.kind
    date_fields = [n for n in m.fields if get_kind(kind).field(n).type is FieldType.DATE]
    return {
        "csvbridge": __version__,
        "mapping": {
            "name": m.name,
            "version": m.version,
            "kind": kind,
            "file": lm.path.name,
            "sha256": lm.sha256,
            "date_formats": {n: m.fields[n].format or m.dates for n in date_fields},
        },
        "inputs": [i.as_dict() for i in infos],
        "targets": [
            {
                "name": t.name,
                "options": target_opts[t.name],
                "files": [f.as_dict() for f in produced.get(t.name, [])],
            }
            for t in chosen
        ],
        "ledger": ledger.as_dict(),
        "tie_out": [t.as_dict() for t in tie_outs],
        "rejects": {
            "rows": rejects.count,
            "by_rule": dict(sorted(ledger.rejected_by_rule.items())),
            "files": [f.as_dict() for f in reject_files],
            "first": rejects.sample,
        },
        "duplicates": {
            "policy": "skip" if hold_back else "keep",
            "fields": list(dup_fields),
            "flagged": dups.count,
            "held_back": dups.held_back,
            "files": [f.as_dict() for f in dup_files],
            "first": dups.sample,
        },
    }


def report_json(report: dict[str, Any]) -> bytes:
    """report.json's bytes (deterministic: keys in the order built)."""
    return (json.dumps(report, indent=2, ensure_ascii=False, sort_keys=False) + "\n").encode()
