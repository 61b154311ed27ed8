"""QuickBooks Desktop IIF (formats.md §2): TAB-separated, CRLF, no quoting. Transactions are
TRNS / SPL... / ENDTRNS blocks whose amounts sum to zero (positive = debit); the lists
(accounts, customers, vendors) are in iif_lists.py."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..money import exponent_of, format_one
from . import format as fmt
from .base import Option, Target, WriteContext, guard_formula
from .checks import FORMULA_START
from .plaintext import TextWriter, check_entries, entry_ids, option_value

EOL = "\r\n"


def clean(col: pa.Array, guard: bool = False) -> pa.Array:
    """IIF has no quoting: TAB, CR and LF become a space, '"' goes, ';' becomes ',' (a
    semicolon reportedly makes QuickBooks refuse the file, §2.7 [R]). With ``guard``, text a
    spreadsheet would run as a formula gets a leading ' (users edit IIF files in Excel)."""
    col = pc.replace_substring_regex(pc.fill_null(col, ""), r"[\t\r\n]+", " ")
    col = pc.replace_substring(pc.replace_substring(col, '"', ""), ";", ",")
    col = pc.utf8_trim_whitespace(col)
    return guard_formula(col) if guard else col


def cells(records: pa.Table, name: str, guard: bool = False) -> list[str]:
    return list(clean(fmt.column(records, name), guard).to_pylist())


PHONE = r"^[+\-]?[0-9 ().\-/]*$"

# Fields that name something QuickBooks looks up (an account, a customer or vendor, an item):
# a ' would become part of the name, so one that starts like a formula is refused instead.
NAMES = {
    "journal": ("account_code",),
    "invoice": ("contact", "account_code", "item_code"),
    "account": ("name",),
    "contact": ("name",),
}


def refuse_formula_names(writer: TextWriter, records: pa.Table) -> pa.Table:
    """Refuse records whose name fields start like a formula (rule formula-like-name)."""
    if not writer.guard:
        return records
    for f in NAMES.get(writer.kind.name, ()):
        hit = pc.fill_null(pc.match_substring_regex(fmt.column(records, f), FORMULA_START), False)
        if pc.any(hit).as_py():
            writer.reject(
                records.filter(hit),
                f,
                "formula-like-name",
                "starts with = + - or @, which a spreadsheet runs as a formula; the ' that "
                "guards other text would become part of the name in QuickBooks. Rename it in "
                "the source (or use -O formula_guard=off)",
            )
            records = records.filter(pc.invert(hit))
    return records


def _neg_decimal(text: str) -> str:
    return "" if not text else format(-Decimal(text), "f") if Decimal(text) else "0"


_COLS = "TRNSTYPE DATE ACCNT NAME AMOUNT DOCNUM MEMO"


def iif_row(*values: str) -> str:
    """One IIF line: the values TAB-separated, ending with CRLF."""
    return "\t".join(values) + EOL


class IifWriter(TextWriter):
    """``iif.iif``: bank lines as CHECK / DEPOSIT (cards: CREDIT CARD / CCARD REFUND) with one
    SPL to the offset account; journal entries as GENERAL JOURNAL (the first line is the TRNS);
    invoices as INVOICE on the A/R account with one SPL per line (amounts and quantities
    negative) and one for the tax."""

    stem = "iif"
    extension = ".iif"
    encoding = "cp1252"

    HEADS = {  # noqa: RUF012 - read-only class data: kind -> (TRNS columns, SPL columns)
        "transaction": (f"{_COLS} CLEAR TOPRINT", _COLS),
        "journal": (_COLS, _COLS),
        "invoice": (f"{_COLS} DUEDATE", f"{_COLS} QNTY PRICE INVITEM"),
    }

    def __init__(self, ctx: WriteContext) -> None:
        super().__init__(ctx)
        self.order = ctx.options["date_order"]
        if ctx.kind.name == "transaction":
            self.bank = option_value(
                ctx,
                "bank_account",
                bool,
                "the QuickBooks account (full name, Parent:Sub) the statement belongs to; "
                "IIF creates any account it does not find, so it must match exactly",
            )

    def head(self) -> list[str]:
        trns, spl = self.HEADS[self.kind.name]
        return [iif_row("!TRNS", *trns.split()), iif_row("!SPL", *spl.split()), iif_row("!ENDTRNS")]

    def check(self, records: pa.Table) -> pa.Table:
        records = refuse_formula_names(self, super().check(records))
        if self.kind.name == "journal":
            return check_entries(self, records)
        if self.kind.name == "invoice":
            same = ("contact", "date", "due_date", "currency")
            return check_entries(self, records, same=same, balance=False)
        return records

    def render(self, records: pa.Table) -> list[str]:
        dates = fmt.date(records, "date", self.order).to_pylist()
        amt = fmt.money(records, "amount" if self.kind.name != "invoice" else "line_amount")
        amounts = amt.to_pylist()
        if self.kind.name == "transaction":
            return self._bank(records, dates, amounts)
        if self.kind.name == "journal":
            return self._journal(records, dates, amounts)
        return self._invoices(records, dates, amounts)

    def _bank(self, records: pa.Table, dates: list[str], amounts: list[str]) -> list[str]:
        card = self.options["account_kind"] == "card"
        raw = np.asarray(fmt.column(records, "amount"), dtype=np.int64).tolist()
        cur = fmt.column(records, "currency").to_pylist()
        names = ("payee", "check_number", "description")  # a payee is guarded as on bank CSVs
        payee, num, memo = (cells(records, n, self.guard) for n in names)
        out = []
        for i, v in enumerate(raw):
            kind = (
                ("CREDIT CARD" if v < 0 else "CCARD REFUND")
                if card
                else ("CHECK" if v < 0 else "DEPOSIT")
            )
            other = self.options["expense_account" if v < 0 else "income_account"]
            neg = format_one(-v, exponent_of(cur[i]) or 0)
            common = (kind, dates[i])
            out.append(
                iif_row("TRNS", *common, self.bank, payee[i], amounts[i], num[i], memo[i], "N", "N")
            )
            out.append(iif_row("SPL", *common, other, payee[i], neg, num[i], memo[i]))
            out.append(iif_row("ENDTRNS"))
        return out

    def _journal(self, records: pa.Table, dates: list[str], amounts: list[str]) -> list[str]:
        ids = entry_ids(records, "number").tolist()
        acct = cells(records, "account_code")
        names = ("number", "description", "narration")
        num, desc, narr = (cells(records, n, self.guard) for n in names)
        out = []
        for i, e in enumerate(ids):
            first = i == 0 or ids[i - 1] != e
            if first and i:
                out.append(iif_row("ENDTRNS"))
            line = ("GENERAL JOURNAL", dates[i], acct[i], "", amounts[i], num[i])
            out.append(iif_row("TRNS" if first else "SPL", *line, desc[i] or narr[i]))
        return [*out, iif_row("ENDTRNS")] if out else out

    def _invoices(self, records: pa.Table, dates: list[str], amounts: list[str]) -> list[str]:
        ids = entry_ids(records, "number")
        due = pc.fill_null(fmt.date(records, "due_date", self.order), "").to_pylist()
        line = np.asarray(fmt.column(records, "line_amount"), dtype=np.int64)
        tax = np.asarray(pc.fill_null(fmt.column(records, "tax_amount"), 0), dtype=np.int64)
        cur = fmt.column(records, "currency").to_pylist()
        contact, acct, item = (cells(records, n) for n in ("contact", "account_code", "item_code"))
        num, ref, desc = (
            cells(records, n, self.guard) for n in ("number", "reference", "description")
        )
        qty, price = (pc.fill_null(fmt.column(records, n), "").to_pylist() for n in _QP)
        starts = np.flatnonzero(np.diff(ids, prepend=-1)).tolist()
        out = []
        for s, e in zip(starts, [*starts[1:], records.num_rows], strict=True):
            exp = exponent_of(cur[s]) or 0
            total = format_one(int(line[s:e].sum() + tax[s:e].sum()), exp)
            ar = self.options["ar_account"]
            out.append(
                iif_row("TRNS", "INVOICE", dates[s], ar, contact[s], total, num[s], ref[s], due[s])
            )
            for i in range(s, e):
                account = acct[i] or self.options["income_account"]
                amount = format_one(-int(line[i]), exp)
                head = ("SPL", "INVOICE", dates[s], account, "", amount, num[s], desc[i])
                out.append(iif_row(*head, _neg_decimal(qty[i]), price[i], item[i]))
            if tax[s:e].any():
                amount = format_one(-int(tax[s:e].sum()), exp)
                tax_acct = self.options["tax_account"]
                tax_line = ("SPL", "INVOICE", dates[s], tax_acct, "", amount, num[s], "Sales tax")
                out.append(iif_row(*tax_line, "", "", ""))
            out.append(iif_row("ENDTRNS"))
        return out


_QP = ("quantity", "unit_price")


_KINDS = ("bank", "card")


def _opt(name: str, default: str, doc: str, choices: tuple[str, ...] = (), c: str = "C") -> Option:
    return Option(name, choices, default, doc, confidence=c)


_DATES = "mdy = MM/DD/YYYY (US), dmy = DD/MM/YYYY; QuickBooks reads IIF dates the Windows way"
GUARD_OPTION = _opt(
    "formula_guard",
    "on",
    "prefix text starting with = + - @ with ' (names that start so are refused): users edit "
    "IIF files in Excel",
    ("on", "off"),
)
_OPTIONS = (
    GUARD_OPTION,
    _opt("date_order", "auto", _DATES + "; auto = mdy for USD", ("auto", "mdy", "dmy"), "U"),
    _opt("bank_account", "", "transactions: the bank or card account as QuickBooks names it"),
    _opt("account_kind", "bank", "CHECK/DEPOSIT, or CREDIT CARD/CCARD REFUND", _KINDS, "R"),
    _opt("expense_account", "Uncategorized Expenses", "the other side of money out"),
    _opt("income_account", "Uncategorized Income", "the other side of money in; invoice lines"),
    _opt("ar_account", "Accounts Receivable", "invoices: the A/R account"),
    _opt("tax_account", "Sales Tax Payable", "invoices: where line tax is posted"),
)
TEXT_DOC = (
    "TAB-separated, CRLF, Windows-1252 (other characters become '?'); TAB, CR, LF and '\"' "
    "are removed from values and ';' becomes ','."
)
NAMES_NOTE = (
    "QuickBooks creates any account, name or item it does not find, silently: names must "
    "match the company file exactly [R]."
)
TARGETS = [
    Target(
        name="iif",
        kinds=("transaction", "journal", "invoice"),
        title="QuickBooks Desktop IIF transactions",
        doc="File → Utilities → Import → IIF Files. Each transaction is a TRNS row, SPL rows "
        "and ENDTRNS, summing to zero (positive = debit). Bank lines: CHECK (money out) or "
        "DEPOSIT with one SPL to expense_account / income_account; journal entries: GENERAL "
        "JOURNAL, refused whole if they do not balance (rule journal-unbalanced); invoices: "
        "INVOICE on ar_account, SPL lines negative, tax to tax_account (line_amount excludes "
        f"tax). {TEXT_DOC}",
        columns=("!TRNS", "!SPL", "!ENDTRNS"),
        required=("date", "amount"),
        limits="none; one file. Importing twice makes duplicates (IIF has no duplicate check).",
        factory=IifWriter,
        family="iif",
        options=_OPTIONS,
        notes=(
            NAMES_NOTE,
            "A/R and A/P journal lines need a customer or vendor name, which journal "
            "records do not carry: post those as invoices or bills.",
        ),
    ),
]
