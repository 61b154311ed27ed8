"""Balances a statement states above or below its table ("Opening balance;£2.345,67"), and
the check that the rows between them add up: opening + Σ amounts = closing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from .money import NumberFormat, exponent_of, format_one, parse_money
from .readers.base import SourceInfo

_OPENING = (
    "opening balance",
    "balance brought forward",
    "brought forward",
    "previous balance",
    "start balance",
    "starting balance",
    "beginning balance",
    "balance b/f",
    "anfangssaldo",
    "alter kontostand",
    "saldo inicial",
    "saldo anterior",
    "solde initial",
    "solde précédent",
    "solde precedent",
    "ancien solde",
    "beginsaldo",
    "saldo iniziale",
)
_CLOSING = (
    "closing balance",
    "balance carried forward",
    "carried forward",
    "new balance",
    "ending balance",
    "end balance",
    "final balance",
    "balance c/f",
    "endsaldo",
    "schlusssaldo",
    "neuer kontostand",
    "saldo final",
    "solde final",
    "nouveau solde",
    "eindsaldo",
    "saldo finale",
)
_AMOUNT = re.compile(r"[-+(]?\s*(?:[£$€¥]|[A-Z]{3})?\s*\d[\d.,' ]*\d(?:\)|-|\s*CR|\s*DR)?|\d")


@dataclass
class StatedBalance:
    """A balance the file states, where, and its amount in minor units."""

    kind: str  # opening or closing
    line: int
    text: str
    minor: int

    def as_dict(self, currency: str) -> dict[str, Any]:
        return {
            "line": self.line,
            "text": self.text,
            "amount": format_one(self.minor, exponent_of(currency) or 2),
        }


def stated_balances(info: SourceInfo, fmt: NumberFormat, currency: str) -> dict[str, StatedBalance]:
    """Opening and closing balances found in the preamble and footer (first of each)."""
    found: dict[str, StatedBalance] = {}
    exp = exponent_of(currency) or 2
    for line, text in info.preamble + info.footer:
        low = text.casefold()
        for kind, words in (("opening", _OPENING), ("closing", _CLOSING)):
            if kind in found or not any(w in low for w in words):
                continue
            candidates = [m.group().strip() for m in _AMOUNT.finditer(text)]
            for cand in reversed(candidates):  # the amount is usually last on the line
                parsed = parse_money(pa.array([cand]), exp, fmt)
                if parsed.ok[0]:
                    minor = int(parsed.minor[0])
                    if cand.upper().endswith("DR"):
                        minor = -abs(minor)
                    found[kind] = StatedBalance(kind, line, text, minor)
                    break
    return found


def balance_check(
    name: str, found: dict[str, StatedBalance], total: dict[str, int], unknown: int, currency: str
) -> dict[str, Any] | None:
    """The reconciliation entry for one statement: does opening + Σ amounts = closing?"""
    if not found:
        return None
    entry: dict[str, Any] = {
        "name": "statement balances",
        "file": name,
        "stated": {k: v.as_dict(currency) for k, v in sorted(found.items())},
    }
    exp = exponent_of(currency) or 2
    if "opening" not in found or "closing" not in found:
        entry["status"] = "not checked"
        entry["detail"] = "the file states only one of its opening and closing balances"
        return entry
    if unknown:
        entry["status"] = "not checked"
        entry["detail"] = f"{unknown} row(s) have no readable amount, so the sum is incomplete"
        return entry
    if set(total) - {currency}:
        entry["status"] = "not checked"
        entry["detail"] = "the rows are in more than one currency"
        return entry
    opening, closing = found["opening"].minor, found["closing"].minor
    movement = total.get(currency, 0)
    diff = opening + movement - closing
    entry["movement"] = format_one(movement, exp)
    if diff == 0:
        entry["status"] = "ok"
        entry["detail"] = (
            f"opening {format_one(opening, exp)} + movements {format_one(movement, exp)} = "
            f"closing {format_one(closing, exp)} {currency}"
        )
    else:
        entry["status"] = "mismatch"
        entry["difference"] = format_one(diff, exp)
        entry["detail"] = (
            f"opening {format_one(opening, exp)} + movements {format_one(movement, exp)} = "
            f"{format_one(opening + movement, exp)}, but the statement's closing balance is "
            f"{format_one(closing, exp)} {currency} (difference {format_one(diff, exp)}): rows "
            "are missing, doubled or mis-signed"
        )
    return entry
