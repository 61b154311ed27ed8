"""Which column plays which part in a transaction file — date, description, amount (or a
money-in / money-out pair), balance, reference, currency — from header words in several
languages and from the data itself: a balance column is the one whose running sum holds,
and the same check proves the amount's sign."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from ..money import NumberFormat, parse_money
from .columns import Decision

_WORDS: dict[str, tuple[str, ...]] = {
    "date": (
        "date",
        "posted",
        "posting date",
        "transaction date",
        "trans date",
        "booking date",
        "value date",
        "datum",
        "buchungstag",
        "buchungsdatum",
        "valuta",
        "fecha",
        "data",
        "date operation",
        "date de l'opération",
        "transactiedatum",
        "dato",
        "päivämäärä",
    ),
    "description": (
        "description",
        "details",
        "narrative",
        "narration",
        "memo",
        "transaction",
        "transaction description",
        "particulars",
        "payee",
        "name",
        "merchant",
        "omschrijving",
        "verwendungszweck",
        "beschreibung",
        "buchungstext",
        "concepto",
        "libellé",
        "libelle",
        "text",
        "tekst",
        "descrizione",
        "naam / omschrijving",
    ),
    "amount": (
        "amount",
        "value",
        "sum",
        "betrag",
        "bedrag",
        "montant",
        "importe",
        "importo",
        "beløb",
        "belopp",
        "summa",
        "amount (gbp)",
        "amount (eur)",
        "amount (usd)",
        "transaction amount",
    ),
    "money_out": (
        "debit",
        "debits",
        "paid out",
        "money out",
        "withdrawal",
        "withdrawals",
        "out",
        "debit amount",
        "soll",
        "af",
        "débit",
        "cargo",
        "uitgaven",
        "spent",
    ),
    "money_in": (
        "credit",
        "credits",
        "paid in",
        "money in",
        "deposit",
        "deposits",
        "in",
        "credit amount",
        "haben",
        "bij",
        "crédit",
        "abono",
        "inkomsten",
        "received",
    ),
    "balance": ("balance", "running balance", "saldo", "solde", "kontostand", "balance (gbp)"),
    "reference": (
        "reference",
        "ref",
        "ref.",
        "referentie",
        "referenz",
        "check number",
        "cheque number",
        "transaction id",
        "id",
    ),
    "currency": ("currency", "ccy", "währung", "valuta code", "devise", "moneda", "munt"),
    "category": (
        "category",
        "type",
        "transaction type",
        "categorie",
        "kategorie",
        "categoría",
        "catégorie",
    ),
}
_CCY_IN_HEADER = re.compile(r"\((?P<c>[A-Z]{3})\)|\b(?P<d>[A-Z]{3})\b")


def _norm(name: str) -> str:
    return " ".join(name.replace("_", " ").replace("*", "").split()).casefold()


def word_role(name: str) -> str | None:
    """The role a header name suggests, if any."""
    n = _norm(name)
    for role, words in _WORDS.items():
        if n in words:
            return role
    for role, words in _WORDS.items():
        if any(w in n for w in words if len(w) > 4):
            return role
    return None


@dataclass
class Roles:
    """The assignment of columns to transaction roles, with how sure each one is."""

    columns: dict[str, str] = field(default_factory=dict)  # role -> column
    confidence: dict[str, float] = field(default_factory=dict)
    invert: bool | None = None  # None: the sign could not be proven
    sign_reason: str = ""
    # Money out written as negative numbers (-25.50 in a Paid out column): the amount is then
    # in + out, since money_in/money_out keep each cell's own sign.
    out_negative: bool = False
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "columns": self.columns,
            "confidence": {k: round(v, 3) for k, v in self.confidence.items()},
            "invert_amount": self.invert,
            "sign": self.sign_reason,
            "problems": self.problems,
        }


def assign_roles(
    names: list[str],
    dates: dict[str, Decision | None],
    numbers: dict[str, Decision | None],
    sample: pa.Table,
) -> Roles:
    """Assign transaction roles to columns; ``sample`` (the first rows) supplies the proofs."""
    r = Roles()
    words = {c: word_role(c) for c in names}
    date_cols = [c for c in names if dates.get(c) is not None]
    money_cols = [c for c in names if numbers.get(c) is not None and c not in date_cols]

    by_word = [c for c in date_cols if words[c] == "date"]
    if by_word or date_cols:
        r.columns["date"] = (by_word or date_cols)[0]
        r.confidence["date"] = 1.0 if by_word else 0.7
    else:
        r.problems.append("no column holds dates")

    def money(role: str) -> str | None:
        found = [c for c in money_cols if words[c] == role]
        return found[0] if found else None

    out_col, in_col, amount_col = money("money_out"), money("money_in"), money("amount")
    balance_col = money("balance")
    if out_col and in_col:
        r.columns["money_out"], r.columns["money_in"] = out_col, in_col
        r.confidence["amount"] = _pair_confidence(sample, in_col, out_col, numbers)
        if numbers[out_col] is not None and numbers[out_col].value is not None:  # type: ignore[union-attr]
            out = _parsed(sample, out_col, numbers)
            spent = out.minor[out.ok & (out.minor != 0)]
            r.out_negative = bool(len(spent)) and bool((spent < 0).all())
    elif amount_col:
        r.columns["amount"] = amount_col
        r.confidence["amount"] = 0.9
    else:
        spare = [c for c in money_cols if words[c] not in ("balance", "reference")]
        if len(spare) == 1:
            r.columns["amount"] = spare[0]
            r.confidence["amount"] = 0.6
        else:
            r.problems.append(
                "no amount column found (looked for Amount, Debit/Credit, Paid in/Paid out, ...)"
            )
    if balance_col:
        r.columns["balance"] = balance_col
    _prove_sign(r, sample, numbers)

    for role in ("description", "reference", "currency", "category"):
        found = [c for c in names if words[c] == role and c not in r.columns.values()]
        if found:
            r.columns[role] = found[0]
            r.confidence[role] = 1.0
    if "description" not in r.columns:
        texts = [
            c
            for c in names
            if c not in r.columns.values() and c not in date_cols and c not in money_cols
        ]
        if texts:
            r.columns["description"] = texts[0]
            r.confidence["description"] = 0.5
        else:
            r.problems.append("no description column found")
    return r


def _parsed(sample: pa.Table, col: str, numbers: dict[str, Decision | None]) -> Any:
    d = numbers[col]
    fmt = NumberFormat(**d.value) if d and d.value else NumberFormat()
    return parse_money(sample.column(col).combine_chunks(), 2, fmt)


def _pair_confidence(
    sample: pa.Table, in_col: str, out_col: str, numbers: dict[str, Decision | None]
) -> float:
    """Money-in/out columns: most rows fill exactly one of them."""
    a, b = _parsed(sample, in_col, numbers), _parsed(sample, out_col, numbers)
    one = ((a.minor != 0) ^ (b.minor != 0)).mean() if len(a.minor) else 0.0
    return float(one)


def _prove_sign(r: Roles, sample: pa.Table, numbers: dict[str, Decision | None]) -> None:
    """With a balance column: does balance[i] − balance[i−1] equal the amount as written, or
    its negation? Tried in file order and in reverse (newest-first exports)."""
    involved = [
        r.columns[k] for k in ("amount", "money_in", "money_out", "balance") if k in r.columns
    ]
    if any(numbers[c] is None or numbers[c].value is None for c in involved):  # type: ignore[union-attr]
        r.sign_reason = "the number format is not settled, so the sign cannot be checked"
        return
    if "balance" not in r.columns or not ("amount" in r.columns or "money_in" in r.columns):
        if "amount" in r.columns:
            amt = _parsed(sample, r.columns["amount"], numbers)
            vals = amt.minor[amt.ok & (amt.minor != 0)]
            pos = float((vals > 0).mean()) if len(vals) else 0.0
            hint = (
                f"; {pos:.0%} of the amounts are positive — a card export that shows charges "
                "as positive? then invert"
                if pos > 0.6
                else ""
            )
            r.sign_reason = "no balance column to prove which sign is money out" + hint
        else:
            r.invert, r.sign_reason = False, "money in and money out are separate columns"
        return
    bal = _parsed(sample, r.columns["balance"], numbers)
    if "amount" in r.columns:
        amt = _parsed(sample, r.columns["amount"], numbers)
        amount = amt.minor
        ok = amt.ok & bal.ok
    else:
        a = _parsed(sample, r.columns["money_in"], numbers)
        b = _parsed(sample, r.columns["money_out"], numbers)
        amount = np.abs(a.minor) - np.abs(b.minor)
        ok = bal.ok & (a.ok | b.ok)
    n = len(amount)
    if n < 3:
        r.sign_reason = "too few rows to check the balance"
        return
    both = ok[1:] & ok[:-1]
    if not both.any():
        return
    fwd = np.diff(bal.minor)
    rev = -np.diff(bal.minor)
    scores = {
        ("as written", False): ((fwd == amount[1:]) & both).mean(),
        ("as written, newest first", False): ((rev == amount[:-1]) & both).mean(),
        ("inverted", True): ((fwd == -amount[1:]) & both).mean(),
        ("inverted, newest first", True): ((rev == -amount[:-1]) & both).mean(),
    }
    (how, invert), best = max(scores.items(), key=lambda kv: kv[1])
    share = best / both.mean()
    nonzero = amount[ok & (amount != 0)]
    positive = float((nonzero > 0).mean()) if len(nonzero) else 0.0
    if share >= 0.9 and not invert and positive > 0.6:
        # The balance only proves amounts and balance agree. Rising with mostly positive
        # amounts is a card statement's pattern (its balance is what is owed) as much as a
        # bank account's: the data cannot tell which.
        r.confidence["balance"] = float(share)
        r.sign_reason = (
            f"the balance follows the amounts {how}, but {positive:.0%} of them are positive: "
            "on a bank account that is right; on a card statement (a balance you owe) it is "
            "inverted — say which with --sign"
        )
    elif share >= 0.9:
        r.invert = invert
        r.sign_reason = (
            f"the running balance, read as the account's own balance, confirms the amounts "
            f"{how} on {share:.0%} of rows"
        )
        r.confidence["balance"] = float(share)
    else:
        r.problems.append(
            f"the balance column does not follow the amounts (best fit {share:.0%} of rows): "
            "is it really a running balance?"
        )


def currency_hint(
    names: list[str], symbols: dict[str, int], around: list[str] | None = None
) -> tuple[str | None, str]:
    """A currency stated by the header ('Amount (GBP)'), by symbols in the cells, or by the
    lines above and below the table ('Opening balance;£2.345,67')."""
    for n in names:
        m = _CCY_IN_HEADER.search(n)
        code = m and (m.group("c") or m.group("d"))
        if code and code in {
            "GBP",
            "EUR",
            "USD",
            "JPY",
            "CHF",
            "CAD",
            "AUD",
            "NZD",
            "SEK",
            "NOK",
            "DKK",
            "PLN",
            "INR",
            "ZAR",
        }:
            return code, f"named in the header '{n}'"
    found = {c: k for c, k in symbols.items() if c != "$"}
    if len(found) == 1:
        code = next(iter(found))
        return code, "the currency symbol in the amounts"
    signs = {"£": "GBP", "€": "EUR", "¥": "JPY", "₹": "INR"}
    seen = {code for line in around or [] for s, code in signs.items() if s in line}
    if len(seen) == 1:
        return seen.pop(), "the currency symbol above or below the table"
    return None, ""
