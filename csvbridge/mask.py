"""Masking account and card numbers in what a person reads (reports, rejects.csv,
duplicates.csv, the terminal): ``****1234``, the last four characters kept. Import files are
never masked: they must import.

What is masked (a ``Masker``):

- columns named with ``--mask COL`` (a source column's header or a canonical field, e.g.
  ``account_number``), every non-blank value;
- unless masking is off (``--no-mask``), columns whose header says they hold an account, card
  or IBAN number (``Account Number``, ``Card No``, ``IBAN``, ``PAN``, the ``account_number``
  field...), values with at least six digits (so ``Current account`` and a ledger's account
  codes such as ``6300`` stay readable);
- unless masking is off, any value that *is* a card number (13-19 digits passing the Luhn
  check) or an IBAN (its mod-97 check holds), whatever its column;
- unless masking is off, in free text (a statement's preamble and footer lines): card
  numbers, IBANs and the number after words like ``Account number:``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

KEEP = 4
MIN_DIGITS = 6  # a recognised column's value is masked from this many digits: GL codes stay

# Header words that mean an account, card or IBAN number (normalised: lower case, words).
_SENSITIVE = re.compile(
    r"^(?:(?:bank |customer |client |cust |iban |card |credit card |debit card )?"
    r"(?:account|acct|a/c|card|kontonummer|konto|rekening|rekeningnummer|compte|cuenta)"
    r"(?: (?:number|num|no\.?|nr\.?|#|id))?"
    r"|iban|pan|card|primary account number|account number|accountnumber|acctno|"
    r"card number|cardnumber|masked card|bban)$"
)
_CARD = re.compile(r"^\d(?:[ -]?\d){12,18}$")
_IBAN = re.compile(r"^[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}$")
_IN_TEXT = re.compile(
    r"(?P<card>\b\d(?:[ -]?\d){12,18}\b)"
    r"|(?P<iban>\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b)"
    r"|(?P<word>\b(?:account|acct|a/c|card|iban|konto|rekening|compte|cuenta)"
    r"(?:\s*(?:number|no\.?|nr\.?|#))?\s*[:=#;,|]?\s*)"  # a preamble line keeps its delimiter
    r"(?P<num>[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b|[A-Z0-9-]*\d[A-Z0-9-]*(?: \d+)*)",
    re.IGNORECASE,
)


def luhn_ok(digits: str) -> bool:
    """The Luhn check card numbers pass (digits only)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def is_card_number(text: str) -> bool:
    """13 to 19 digits (spaces or dashes between them allowed) passing the Luhn check."""
    t = text.strip()
    if not _CARD.match(t):
        return False
    digits = re.sub(r"[ -]", "", t)
    return len(set(digits)) > 1 and luhn_ok(digits)


def is_iban(text: str) -> bool:
    """An IBAN: country, check digits and account, whose mod-97 check holds."""
    t = text.strip().upper()
    if not _IBAN.match(t):
        return False
    t = t.replace(" ", "")
    moved = t[4:] + t[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


def mask_value(text: str) -> str:
    """``****`` and the last four characters (spaces and dashes dropped); ``****`` alone for
    four characters or fewer."""
    t = re.sub(r"[\s-]", "", text)
    return "****" + t[-KEEP:] if len(t) > KEEP else "****"


def _norm(name: str) -> str:
    name = name.removeprefix("record.")
    return " ".join(re.sub(r"[_*]+", " ", name).split()).casefold()


def sensitive_header(name: str) -> bool:
    """Whether a column's header says it holds account, card or IBAN numbers."""
    n = _norm(name)
    return bool(_SENSITIVE.match(n))


@dataclass(frozen=True)
class Masker:
    """What to mask. ``columns``: names given with --mask (masked whatever they hold);
    ``auto``: also what is recognised as account, card or IBAN numbers."""

    columns: frozenset[str] = field(default_factory=frozenset)
    auto: bool = True
    recognised: frozenset[str] = field(default_factory=frozenset)  # fields from such columns

    @classmethod
    def of(cls, columns: Iterable[str] = (), *, auto: bool = True) -> Masker:
        return cls(frozenset(_norm(c) for c in columns), auto)

    @property
    def active(self) -> bool:
        return self.auto or bool(self.columns)

    def with_mapping(self, fields: dict[str, Any]) -> Masker:
        """Also mask the canonical fields mapped from masked source columns (duplicates.csv
        shows canonical fields only): ``fields`` is the mapping's field -> spec."""
        more, recognised = set(self.columns), set(self.recognised)
        for name, spec in fields.items():
            col = getattr(spec, "column", None)
            rule = None if col is None else self._column_rule(str(col))
            if rule == "all":
                more.add(_norm(name))
            elif rule == "digits":
                recognised.add(_norm(name))
        return Masker(frozenset(more), self.auto, frozenset(recognised))

    def _column_rule(self, column: str) -> str | None:
        n = _norm(column)
        if n in self.columns:
            return "all"
        if self.auto and (n in self.recognised or sensitive_header(column)):
            return "digits"
        return None

    def cell(self, column: str, value: str) -> str:
        """One cell of ``column``, masked if it must be."""
        if not value or not self.active:
            return value
        rule = self._column_rule(column)
        if rule == "all" and value.strip():
            return mask_value(value)
        if rule == "digits" and sum(ch.isdigit() for ch in value) >= MIN_DIGITS:
            return mask_value(value)
        if self.auto and (is_card_number(value) or is_iban(value)):
            return mask_value(value)
        return value

    def row(self, cells: dict[str, str]) -> dict[str, str]:
        """A row of named cells, masked."""
        if not self.active:
            return cells
        return {k: self.cell(k, v) for k, v in cells.items()}

    def array(self, column: str, values: pa.Array) -> pa.Array:
        """A text column, masked (only the cells that need it are touched in Python)."""
        if not self.active or len(values) == 0:
            return values
        rule = self._column_rule(column)
        if rule is None and not self.auto:
            return values
        if rule is None:  # only values shaped like a card number or an IBAN can be hit
            shaped = pc.or_(
                pc.match_substring_regex(values, _CARD.pattern),
                pc.match_substring_regex(pc.utf8_upper(values), _IBAN.pattern),
            )
            if not pc.any(pc.fill_null(shaped, False)).as_py():
                return values
        return pa.array([self.cell(column, v) if v else v for v in values.to_pylist()], pa.string())

    def text(self, text: str) -> str:
        """Free text (a preamble line): card numbers, IBANs and numbers after 'account'."""
        if not self.auto or not text:
            return text

        def one(m: re.Match[str]) -> str:
            if m.group("card") is not None:
                c = m.group("card")
                return mask_value(c) if is_card_number(c) else c
            if m.group("iban") is not None:
                c = m.group("iban")
                return mask_value(c) if is_iban(c) else c
            num = m.group("num")
            if sum(ch.isdigit() for ch in num) < MIN_DIGITS:
                return m.group(0)
            return m.group("word") + mask_value(num.strip())

        return _IN_TEXT.sub(one, text)


NO_MASK = Masker(auto=False)


def mask_report(report: dict[str, Any], masker: Masker) -> None:
    """Mask what report.json carries from the inputs' own text, in place: preamble and
    footer lines and the control totals' accounts (the rejects sample is masked where it is
    made, in RejectsFile)."""
    if not masker.active:
        return
    for inp in report.get("inputs", []):
        for key in ("preamble", "footer"):
            for line in inp.get(key, []):
                line["text"] = masker.text(line.get("text", ""))
    for total in report.get("control_totals", []):  # grouped by the records' account field
        total["account"] = masker.text(masker.cell("account", str(total.get("account", ""))))
