"""Plain-text accounting journals — hledger (also read by ledger-cli) and beancount — and what
the non-CSV writers (OFX, IIF, these) share: a spooled text writer and journal-entry checks."""

from __future__ import annotations

import dataclasses
import re
import tempfile
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import TargetError
from ..model import LINE_COL, SOURCE_COL
from ..money import exponent_of, format_one
from . import format as fmt
from .base import CsvSink, CsvWriter, Option, OutputFile, Target, WriteContext, add_written


class TextWriter(CsvWriter):
    """Base of the text targets: ``render`` turns checked records into lines, which are
    spooled to a temporary file; ``close`` writes ``head()``, the lines and ``tail()`` to
    ``<stem><extension>`` atomically (so a head may depend on every record, e.g. OFX dates)."""

    extension = ".txt"
    encoding = "utf-8"

    def __init__(self, ctx: WriteContext) -> None:
        super().__init__(ctx)
        self.sink = CsvSink(
            ctx.outdir,
            self.stem,
            [],
            encoding=self.encoding,
            extension=self.extension,
            write_header=False,
        )
        self._body = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()/abort()

    def render(self, records: pa.Table) -> list[str]:
        """Lines (each with its line end) for checked records."""
        raise NotImplementedError

    def head(self) -> list[str]:
        note = self.ctx.mapping_note()
        return [f"; written by csvbridge ({self.ctx.target}) with {note}\n\n"] if note else []

    def tail(self) -> list[str]:
        return []

    def write(self, records: pa.Table) -> None:
        records = self.check(records)
        if records.num_rows:
            self._body.write("".join(self.render(records)).encode("utf-8"))
        add_written(self.tally, records, self.kind)

    def close(self) -> list[OutputFile]:
        self._lines(self.head())
        self._body.seek(0)
        while block := self._body.readlines(1 << 20):
            self._lines([b.decode("utf-8") for b in block])
        self._body.close()
        self._lines(self.tail())
        return [dataclasses.replace(f, rows=self.tally.count) for f in self.sink.close()]

    def abort(self) -> None:
        self._body.close()
        self.sink.abort()

    def _lines(self, lines: list[str]) -> None:
        if lines:
            self.sink.write_lines(pa.array(lines, pa.string()))

    def provenance(self, records: pa.Table) -> list[str]:
        """``file:line`` of each record."""
        names = pc.take(pa.array(self.sources, pa.string()), fmt.column(records, SOURCE_COL))
        lines = pc.cast(fmt.column(records, LINE_COL), pa.string())
        return list(pc.binary_join_element_wise(names, lines, ":").to_pylist())


def texts(records: pa.Table, name: str) -> list[str]:
    """A text field as Python strings on one line, nulls as ''."""
    col = pc.replace_substring_regex(fmt.text(records, name, guard=False), r"\s+", " ")
    return [s.strip() for s in col.to_pylist()]


def option_value(ctx: WriteContext, name: str, check: Callable[[str], bool], hint: str) -> str:
    """A target option, required and valid: TargetError (option-required or option-invalid,
    naming the option and what to write) when it is empty or ``check`` refuses it."""
    value = ctx.options.get(name, "")
    if not value:
        raise TargetError(
            f"{ctx.target} needs the option {name}",
            where=f"--to {ctx.target}",
            hint=f"add -O {ctx.target}.{name}=VALUE: {hint}",
            code="option-required",
        )
    if not check(value):
        raise TargetError(
            f"option {name} of {ctx.target} cannot be '{value}'",
            where=f"-O {ctx.target}.{name}={value}",
            hint=hint,
            code="option-invalid",
        )
    return value


# -- journal entries ----------------------------------------------------------------------
def entry_ids(records: pa.Table, key: str) -> np.ndarray:
    """0, 0, 1, 1, 1, 2, ...: which document each line belongs to (lines arrive grouped)."""
    keys = np.asarray(pc.fill_null(fmt.column(records, key), "").to_pylist(), dtype=object)
    change = np.ones(len(keys), dtype=bool)
    change[1:] = keys[1:] != keys[:-1]
    return np.cumsum(change) - 1


def _problem(
    n: str,
    lines: int,
    sums: dict[str, int] | None,
    same: dict[str, list[str]],
    bad: list[str],
    target: str,
) -> tuple[str, str, str] | None:
    """(field, rule, message) for a document no ledger takes, or None."""
    off = sorted((c, v) for c, v in (sums or {}).items() if v)
    if sums is not None and (lines < 2 or off):
        why = "has one line" if lines < 2 else "does not balance: its {} lines sum to {}"
        if off:
            why = why.format(off[0][0], format_one(off[0][1], exponent_of(off[0][0]) or 0))
        msg = f"{n} {why}; debits must equal credits (it is never written unbalanced)"
        return "amount", "journal-unbalanced", msg
    for name, values in same.items():
        if len(set(values)) > 1:
            seen = ", ".join(repr(v) for v in sorted(set(values))[:3])
            msg = f"the lines of {n} disagree on {name} ({seen}); they must all have the same"
            return name, "document-inconsistent", msg
    if bad:
        msg = (
            f"account '{bad[0]}' cannot be a {target} account name; map it to a full name "
            "(Assets:..., Liabilities:..., Equity:..., Income:... or Expenses:...)"
        )
        return "account_code", "account-invalid", msg
    return None


def check_entries(
    w: CsvWriter,
    records: pa.Table,
    account: Callable[[str], str | None] | None = None,
    same: tuple[str, ...] = ("date",),
    balance: bool = True,
) -> pa.Table:
    """Refuse whole documents (journal entries, invoices) a target cannot take; return the
    others. Rules, first match wins: ``journal-unbalanced`` (with ``balance``: fewer than two
    lines, or the amounts of a currency do not sum to zero), ``document-inconsistent`` (lines
    disagree on a field of ``same``), ``account-invalid`` (``account`` refuses an
    account_code)."""
    if not records.num_rows:
        return records
    ids = entry_ids(records, "number")
    n = records.num_rows
    amount = fmt.column(records, "amount") if balance else pa.nulls(n, pa.int64())
    amounts = np.asarray(pc.fill_null(amount, 0), dtype=np.int64)
    cur = pc.fill_null(fmt.column(records, "currency"), "").to_pylist()
    nums = pc.fill_null(fmt.column(records, "number"), "").to_pylist()
    accts = pc.fill_null(fmt.column(records, "account_code"), "").to_pylist() if account else []
    values = {
        f: pc.fill_null(fmt.column(records, f).cast(pa.string()), "").to_pylist() for f in same
    }
    starts = np.flatnonzero(np.diff(ids, prepend=-1))
    ends = np.append(starts[1:], len(ids))
    keep = np.ones(len(ids), dtype=bool)
    for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
        sums: dict[str, int] | None = {} if balance else None
        for i in range(s, e):
            if sums is not None:
                sums[cur[i]] = sums.get(cur[i], 0) + int(amounts[i])
        bad = [a for a in accts[s:e] if account is not None and account(a) is None]
        same_vals = {f: v[s:e] for f, v in values.items()}
        problem = _problem(f"{w.kind.name} {nums[s]}", e - s, sums, same_vals, bad, w.ctx.target)
        if problem is None:
            continue
        keep[s:e] = False
        w.reject(records.slice(s, e - s), *problem)
    return records if keep.all() else records.filter(pa.array(keep))


# -- account names ------------------------------------------------------------------------
ROOTS = ("Assets", "Liabilities", "Equity", "Income", "Expenses")


def hledger_account(name: str) -> str | None:
    """The name with runs of spaces collapsed (two spaces end an account name); None when
    empty or when a leading ( or [ would make it a virtual posting."""
    a = " ".join(name.split())
    return a if a and a[0] not in "([" else None


def beancount_account(name: str) -> str | None:
    """A valid beancount account for ``name`` — root Assets/Liabilities/Equity/Income/Expenses,
    components of letters, digits and '-', each starting with a capital or a digit — or None.
    Spaces and punctuation become '-'; a lower-case first letter is capitalised."""
    parts = []
    for i, raw in enumerate(name.split(":")):
        p = re.sub(r"[^\w-]+|_", "-", raw.strip())
        p = re.sub(r"-{2,}", "-", p).strip("-")
        if not p or not (p[0].isalpha() or (i and p[0].isdigit())):
            return None
        parts.append(p[0].upper() + p[1:])
    roots = {r.lower(): r for r in ROOTS}
    if len(parts) < 2 or parts[0].lower() not in roots:
        return None
    parts[0] = roots[parts[0].lower()]
    return ":".join(parts)


def _account_options(default_bank: str, for_what: str) -> tuple[Option, ...]:
    return (
        Option("bank_account", (), default_bank, f"the {for_what} account of bank lines"),
        Option("expense_account", (), "Expenses:Unknown", "the other side of money out"),
        Option("income_account", (), "Income:Unknown", "the other side of money in (and 0)"),
    )


# -- writers --------------------------------------------------------------------------------
class _LedgerWriter(TextWriter):
    """Shared by hledger and beancount: bank lines become two-posting transactions (bank
    account and a counter-account chosen by sign); journal entries keep their postings."""

    valid: Callable[[str], str | None] = staticmethod(hledger_account)

    def __init__(self, ctx: WriteContext) -> None:
        super().__init__(ctx)
        self.accounts: dict[str, None] = {}
        self.first_date: str | None = None
        hint = f"a {ctx.target} account name such as Assets:Bank:Current"
        self.bank, self.expense, self.income = (
            option_value(ctx, n, lambda v: self.valid(v) == v, hint)
            for n in ("bank_account", "expense_account", "income_account")
        )

    def check(self, records: pa.Table) -> pa.Table:
        records = super().check(records)
        if self.kind.name == "journal":
            records = check_entries(self, records, self.valid)
        return records

    def postings(self, records: pa.Table) -> list[list[tuple[str, str, str]]]:
        """Per transaction: (account, amount text, line note) for each posting."""
        amt = fmt.money(records, "amount").to_pylist()
        cur = fmt.column(records, "currency").to_pylist()
        raw = np.asarray(fmt.column(records, "amount"), dtype=np.int64)
        if self.kind.name == "journal":
            ids = entry_ids(records, "number")
            accts = [self.valid(a) or "" for a in texts(records, "account_code")]
            notes = texts(records, "description")
            out: list[list[tuple[str, str, str]]] = [[] for _ in range(int(ids[-1]) + 1)]
            for i, e in enumerate(ids.tolist()):
                out[e].append((accts[i], f"{amt[i]} {cur[i]}", notes[i]))
            return out
        neg = [
            f"{format_one(-int(v), exponent_of(c) or 0)} {c}" for v, c in zip(raw, cur, strict=True)
        ]
        memo = texts(records, "memo")
        return [
            [(self.bank, f"{a} {c}", m), (self.expense if v < 0 else self.income, n, "")]
            for a, c, v, n, m in zip(amt, cur, raw.tolist(), neg, memo, strict=True)
        ]

    def firsts(self, records: pa.Table) -> pa.Table:
        """The first line of each transaction (journal entries: of each entry)."""
        if self.kind.name != "journal":
            return records
        ids = entry_ids(records, "number")
        return records.take(pa.array(np.flatnonzero(np.diff(ids, prepend=-1))))

    def note(self, posts: list[list[tuple[str, str, str]]], dates: list[str]) -> None:
        for p in posts:
            for a, _, _ in p:
                self.accounts.setdefault(a, None)
        if dates:
            low = min(dates)
            self.first_date = low if self.first_date is None else min(low, self.first_date)


def _code(text: str) -> str:
    return text.replace("(", "").replace(")", "")


class HledgerWriter(_LedgerWriter):
    """``hledger.journal``: ``DATE * (CODE) DESCRIPTION  ; source: FILE:LINE``, postings
    indented four spaces with two spaces before ``AMOUNT CUR``. ``;`` in text would start a
    comment, so it becomes ``,``."""

    stem = "hledger"
    extension = ".journal"

    def render(self, records: pa.Table) -> list[str]:
        posts = self.postings(records)
        heads = self.firsts(records)
        dates = fmt.date(heads, "date", "iso").to_pylist()
        self.note(posts, dates)
        journal = self.kind.name == "journal"
        desc = texts(heads, "narration" if journal else "description")
        alt = texts(heads, "description")
        code = texts(heads, "number") if journal else texts(heads, "check_number")
        ref = texts(heads, "reference")
        payee = [""] * heads.num_rows if journal else texts(heads, "payee")
        src = self.provenance(heads)
        out = []
        for i, p in enumerate(posts):
            text = (desc[i] or alt[i]).replace(";", ",")
            if payee[i]:
                text = f"{payee[i].replace(';', ',').replace('|', '/')} | {text}"
            c = _code(code[i] or ref[i])
            lead = f"({c}) " if c or text.startswith("(") else ""
            out.append(f"{dates[i]} * {lead}{text}  ; source: {src[i]}\n")
            for acct, amount, line_note in p:
                tail = f"  ; {line_note}" if line_note else ""
                out.append(f"    {acct:<38}  {amount:>16}{tail}\n")
            out.append("\n")
        return out


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class BeancountWriter(_LedgerWriter):
    """``beancount.beancount``: an ``open`` for every account used (dated the earliest
    transaction), then ``DATE * "PAYEE" "NARRATION"`` with source/reference metadata and
    indented postings. Account names are made valid or the record is refused."""

    stem = "beancount"
    extension = ".beancount"
    valid = staticmethod(beancount_account)

    def head(self) -> list[str]:
        note = self.ctx.mapping_note()
        out = [f"; written by csvbridge ({self.ctx.target}){f' with {note}' if note else ''}\n\n"]
        out += [f"{self.first_date} open {a}\n" for a in sorted(self.accounts)]
        return [*out, "\n"] if self.accounts else out

    def render(self, records: pa.Table) -> list[str]:
        posts = self.postings(records)
        heads = self.firsts(records)
        dates = fmt.date(heads, "date", "iso").to_pylist()
        self.note(posts, dates)
        journal = self.kind.name == "journal"
        desc = texts(heads, "narration" if journal else "description")
        alt = texts(heads, "description")
        payee = [""] * heads.num_rows if journal else texts(heads, "payee")
        meta = {
            "number": texts(heads, "number") if journal else [""] * heads.num_rows,
            "reference": texts(heads, "reference"),
            "check-number": [""] * heads.num_rows if journal else texts(heads, "check_number"),
            "source": self.provenance(heads),
        }
        out = []
        for i, p in enumerate(posts):
            who = f"{_q(payee[i])} " if payee[i] else ""
            out.append(f"{dates[i]} * {who}{_q(desc[i] or alt[i])}\n")
            out += [f"  {k}: {_q(v[i])}\n" for k, v in meta.items() if v[i]]
            for acct, amount, line_note in p:
                out.append(f"  {acct:<38}  {amount:>16}\n")
                if line_note:
                    out.append(f"    note: {_q(line_note)}\n")
            out.append("\n")
        return out


_KINDS = ("transaction", "journal")
_LIMITS = "none; one file"

TARGETS = [
    Target(
        name="hledger",
        kinds=_KINDS,
        title="hledger / ledger-cli journal",
        doc="A plain-text journal hledger and ledger-cli read: ISO dates, cleared (*) "
        "transactions, 4-space indented postings, two spaces before 'AMOUNT CUR'. Bank lines "
        "post to bank_account and to expense_account (money out) or income_account (money "
        "in); journal entries keep their lines and must balance per currency. UTF-8, LF.",
        columns=("date", "code", "description", "postings"),
        required=("date", "amount", "currency"),
        limits=_LIMITS,
        factory=HledgerWriter,
        family="ledger",
        options=_account_options("Assets:Bank", "hledger"),
        notes=(
            "';' in descriptions becomes ',' (it would start a comment) [C].",
            "Running balances are not written as balance assertions: they only hold from the "
            "account's opening balance, which a statement export does not carry.",
        ),
    ),
    Target(
        name="beancount",
        kinds=_KINDS,
        title="beancount ledger",
        doc="A beancount file: an 'open' for every account used, then transactions with "
        "payee/narration strings (escaped), source metadata and postings. Account names must "
        "start with Assets, Liabilities, Equity, Income or Expenses; other characters are "
        "made valid (spaces become '-'), and records whose account cannot be are refused "
        "(rule account-invalid). UTF-8, LF.",
        columns=("date", "payee", "narration", "postings"),
        required=("date", "amount", "currency"),
        limits=_LIMITS,
        factory=BeancountWriter,
        options=_account_options("Assets:Bank", "beancount"),
        notes=("Two source names that differ only in punctuation become one account.",),
    ),
]
