"""Balances a statement states above or below its table ("Opening balance;£2.345,67"), and
the check that the rows between them add up: opening + Σ amounts = closing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from .model import LINE_COL
from .money import NumberFormat, exponent_of, format_one, parse_money
from .readers.base import SourceInfo

if TYPE_CHECKING:
    from .duplicates import Flags
    from .mapping import LoadedMapping

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


MAX_BREAKS = 20


class BalanceChain:
    """Running-balance continuity, fed chunk by chunk in file order: each stated balance must
    equal the previous one plus the row's amount (oldest first) — or, for newest-first
    exports, the previous one minus the previous row's amount. A break names the two lines
    between which something is missing, doubled or mis-signed."""

    def __init__(self, currency_exponent: int, sign: int) -> None:
        self.exp = currency_exponent
        self.sign = sign  # -1 when the mapping inverts amounts (a card statement's balance)
        self.rows = 0
        self.fits = {"oldest first": 0, "newest first": 0}
        self.breaks: dict[str, list[tuple[int, int, int, int]]] = {
            "oldest first": [],
            "newest first": [],
        }
        self.counts = {"oldest first": 0, "newest first": 0}
        self._last: tuple[int, int, int] | None = None  # line, amount, balance

    def feed(
        self,
        lines: npt.NDArray[np.int64],
        amounts: npt.NDArray[np.int64],
        balances: npt.NDArray[np.int64],
    ) -> None:
        """Take rows that have both an amount and a balance, in file order."""
        if not len(lines):
            return
        amounts = amounts * self.sign
        if self._last is not None:
            lines = np.r_[self._last[0], lines]
            amounts = np.r_[self._last[1], amounts]
            balances = np.r_[self._last[2], balances]
        self._last = (int(lines[-1]), int(amounts[-1]), int(balances[-1]))
        if len(lines) < 2:
            return
        step = balances[1:] - balances[:-1]
        for order, moved in (("oldest first", amounts[1:]), ("newest first", -amounts[:-1])):
            bad = step != moved
            self.fits[order] += int((~bad).sum())
            self.counts[order] += int(bad.sum())
            room = MAX_BREAKS - len(self.breaks[order])
            for i in np.flatnonzero(bad)[: max(room, 0)]:
                self.breaks[order].append(
                    (int(lines[i]), int(lines[i + 1]), int(step[i]), int(moved[i]))
                )
        self.rows += len(step)

    def result(self, name: str, currency: str) -> dict[str, Any] | None:
        """The reconciliation entry, or None when there was nothing to check."""
        if self.rows < 2:
            return None
        order = max(self.fits, key=lambda k: self.fits[k])
        entry: dict[str, Any] = {"name": "running balance", "file": name, "order": order}
        n = self.counts[order]
        if n == 0:
            entry["status"] = "ok"
            entry["detail"] = f"every balance follows from the one before ({order}, {currency})"
            return entry
        entry["status"] = "breaks"

        def fmt(minor: int) -> str:
            return format_one(minor, self.exp)

        entry["breaks"] = [
            {
                "between_lines": [a, b],
                "balance_moved": fmt(step),
                "amount": fmt(moved),
                "difference": fmt(step - moved),
            }
            for a, b, step, moved in self.breaks[order]
        ]
        first = self.breaks[order][0]
        entry["detail"] = (
            f"{n} break(s) in the running balance ({order}); the first between lines "
            f"{first[0]} and {first[1]}: the balance moved {fmt(first[2])} but the amount is "
            f"{fmt(first[3])} — a row is missing, doubled or mis-signed there"
        )
        return entry


def balance_chain(lm: LoadedMapping) -> BalanceChain | None:
    """A continuity check for transaction files that map a running balance (one currency)."""
    m = lm.mapping
    if m.kind != "transaction" or "balance" not in m.fields or m.split:
        return None
    cur = m.fields.get("currency")
    code = cur.value.upper() if cur is not None and cur.value else None
    if code is None:
        return None  # the balance of a multi-currency file has no single chain
    amount = m.fields["amount"]
    return BalanceChain(exponent_of(code) or 2, -1 if amount.invert else 1)


def exported_twice(
    flagged: npt.NDArray[np.bool_], flags: Flags, name: str
) -> npt.NDArray[np.bool_]:
    """Records that exactly repeat an earlier row of the same file (its balance included,
    when one is mapped): the running balance skips them."""
    again = np.zeros(len(flagged), dtype=bool)
    if len(flags):
        same = (flags.match == "exact") & (flags.repeats_batch < 0) & (flags.repeats_file == name)
        again[np.flatnonzero(flagged)[same]] = True
    return again


def feed_chain(chain: BalanceChain, records: pa.Table, skip: npt.NDArray[np.bool_]) -> None:
    """Feed a file's records to its balance chain, leaving out ``skip`` and rows without an
    amount or a balance."""
    amount = records.column("amount").combine_chunks()
    balance = records.column("balance").combine_chunks()
    both = pc.and_(pc.and_(amount.is_valid(), balance.is_valid()), pa.array(~skip))
    chain.feed(
        np.asarray(pc.filter(records.column(LINE_COL).combine_chunks(), both), dtype=np.int64),
        np.asarray(pc.filter(amount, both), dtype=np.int64),
        np.asarray(pc.filter(balance, both), dtype=np.int64),
    )
