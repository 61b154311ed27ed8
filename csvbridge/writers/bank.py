"""Bank statement imports (QuickBooks Online 3- and 4-column, Xero), and what the accounting
writers (qbo.py, xero.py, sage.py) share: options, checks that refuse a record (or a whole
document) with a reason, and a sink that never splits a document across files."""

from __future__ import annotations

import decimal
import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import OutputError, TargetError
from ..model import LINE_COL
from ..money import format_minor, format_one
from . import format as fmt
from .base import (
    CsvSink,
    CsvWriter,
    Option,
    Target,
    WriteContext,
    add_written,
    csv_lines,
    guard_formula,
)
from .generic import FORMULA_GUARD

DATE_ORDER = Option(
    "date_order",
    ("auto", "dmy", "mdy", "ymd"),
    "auto",
    "date order the target company uses: dmy = DD/MM/YYYY (UK, EU, AU, NZ), mdy = "
    "MM/DD/YYYY (US); auto = mdy for USD, dmy for other currencies, when the mapping's "
    "currency is a constant",
    confidence="R",
)


def bom_option(default: str, why: str) -> Option:
    """The per-target byte-order-mark switch (formats.md §0.1: contested, so an option)."""
    choices = ("auto", "on", "off") if default == "auto" else ("off", "on")
    return Option(
        "bom",
        choices,
        default,
        "start the file with a UTF-8 byte-order mark: "
        + ("auto = only when the file holds non-ASCII text; " if default == "auto" else "")
        + why,
        confidence="U",
    )


def tax_codes_option(example: str) -> Option:
    """Translate the canonical tax_type into this target's tax names or codes."""
    return Option(
        "tax_codes",
        (),
        "",
        "translate tax_type for this target, as FROM=TO pairs separated by ';' "
        f"(e.g. {example}); values not listed are written as they are",
    )


# -- what the accounting writers share ---------------------------------------------------------
FORMULA_START = r"^[=+\-@\t\r]"
BOM = "\ufeff".encode()
_D = decimal.Context(prec=60)


@dataclass(frozen=True)
class Problem:
    """Records a target refuses (``mask``), and why: canonical field, rule, message."""

    mask: npt.NDArray[np.bool_]
    field: str
    rule: str
    message: str


def as_mask(arr: pa.Array) -> npt.NDArray[np.bool_]:
    """A boolean array as numpy, null as False."""
    return np.asarray(pc.fill_null(arr, False).to_numpy(zero_copy_only=False), dtype=bool)


def blank(records: pa.Table, name: str) -> npt.NDArray[np.bool_]:
    """Where a field is missing (null, or text that is empty or only spaces)."""
    col = fmt.column(records, name)
    if pa.types.is_string(col.type):
        return as_mask(pc.equal(pc.utf8_trim_whitespace(pc.fill_null(col, "")), ""))
    return as_mask(pc.is_null(col))


def wrong_side(records: pa.Table, side: str, system: str, other: str) -> Problem:
    """Contacts whose type says they are only the other side (a supplier sent to a customer
    list, or the reverse); contacts typed 'both' or not typed pass."""
    words = {"customer": {"customer", "customers"}, "supplier": {"supplier", "suppliers"}}
    words["supplier"] |= {"vendor", "vendors"}
    opposite = "supplier" if side == "customer" else "customer"
    types = pc.utf8_lower(pc.utf8_trim_whitespace(pc.fill_null(fmt.column(records, "type"), "")))
    mask = as_mask(pc.is_in(types, value_set=pa.array(sorted(words[opposite]))))
    return Problem(
        mask,
        "type",
        "wrong-contact-type",
        f"this contact is a {opposite}, and {system} makes {side}s; write it with {other} "
        f"(or leave {opposite}s out with a filter in the mapping)",
    )


def phone(records: pa.Table, name: str, *, guard: bool) -> pa.Array:
    """A phone number: '+44 113 496 0000' is kept as it is; anything else that a spreadsheet
    would run as a formula is guarded like other text."""
    col = fmt.text(records, name, guard=False)
    if not guard:
        return col
    number = pc.match_substring_regex(col, r"^[+\-]?[0-9 ().\-/]*$")
    return pc.if_else(number, col, guard_formula(col))


def invalid_email(records: pa.Table) -> npt.NDArray[np.bool_]:
    """Emails given but not of the form name@domain.tld without spaces."""
    email = pc.fill_null(fmt.column(records, "email"), "")
    ok = pc.match_substring_regex(email, r"^[^\s@]+@[^\s@]+\.[^\s@]+$")
    return as_mask(pc.invert(ok)) & ~blank(records, "email")


def money_abs(records: pa.Table, name: str) -> pa.Array:
    """A money field without its sign, as ``1234.50`` (the currency's decimals)."""
    return format_minor(pc.abs(fmt.column(records, name)), fmt.exponents(records))


def fixed_decimal(values: Sequence[str | None], places: npt.NDArray[np.int64]) -> pa.Array:
    """Exact decimal text with at least ``places`` decimals ("120" → "120.00"); never rounds."""
    out: list[str | None] = []
    for v, p in zip(values, places.tolist(), strict=True):
        if not v:
            out.append(v)
            continue
        whole, _, frac = v.partition(".")
        out.append(f"{whole}.{frac.ljust(p, '0')}" if p or frac else whole)
    return pa.array(out, pa.string())


def line_prices(records: pa.Table) -> tuple[list[str], list[str], npt.NDArray[np.bool_]]:
    """Each invoice/bill line's quantity and unit price, derived where missing (quantity 1;
    price = amount ÷ quantity when exact), and where quantity × price, rounded half-up to the
    currency's decimals, is not the line amount (or no exact price exists)."""
    qty = fmt.column(records, "quantity").to_pylist()
    price = fmt.column(records, "unit_price").to_pylist()
    amount = fmt.column(records, "line_amount").to_pylist()
    exps = fmt.exponents(records).tolist()
    quantities, prices, bad = [], [], np.zeros(records.num_rows, dtype=bool)
    for i, (q, p, a, e) in enumerate(zip(qty, price, amount, exps, strict=True)):
        q = q or "1"
        total = decimal.Decimal(a or 0).scaleb(-e)
        if not p:
            if decimal.Decimal(q) == 0:
                bad[i] = total != 0
                p = "0"
            else:
                d = _D.divide(total, decimal.Decimal(q))
                p = _plain(d.quantize(decimal.Decimal(1).scaleb(-6), context=_D))
                bad[i] = _D.multiply(decimal.Decimal(p), decimal.Decimal(q)) != total
        else:
            step = decimal.Decimal(1).scaleb(-e)
            made = _D.multiply(decimal.Decimal(q), decimal.Decimal(p))
            bad[i] = made.quantize(step, decimal.ROUND_HALF_UP, context=_D) != total
        quantities.append(q)
        prices.append(p)
    return quantities, prices, bad


def _plain(d: decimal.Decimal) -> str:
    text = f"{d:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def document_ids(records: pa.Table, key: str | None) -> npt.NDArray[np.int64]:
    """0, 0, 1, 2, 2, ...: which document each record belongs to (documents arrive whole and
    contiguous); every record is its own document for kinds without a document key."""
    n = records.num_rows
    if key is None or n < 2:
        return np.arange(n, dtype=np.int64)
    keys = pc.fill_null(fmt.column(records, key), "")
    change = as_mask(pc.not_equal(keys.slice(1), keys.slice(0, n - 1)))
    return np.concatenate([[0], np.cumsum(change)]).astype(np.int64)


def starts_of(docs: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Index of each document's first record."""
    return np.flatnonzero(np.diff(docs, prepend=-1) != 0)


def document_sums(
    records: pa.Table, docs: npt.NDArray[np.int64], name: str
) -> npt.NDArray[np.int64]:
    """Per document, the exact int64 sum of a money field (nulls count 0)."""
    if not len(docs):
        return np.zeros(0, dtype=np.int64)
    vals = np.asarray(pc.fill_null(fmt.column(records, name), 0), dtype=np.int64)
    return np.add.reduceat(vals, starts_of(docs))


def unbalanced(records: pa.Table, docs: npt.NDArray[np.int64], system: str) -> list[Problem]:
    """Journals whose postings do not sum to zero (debits ≠ credits)."""
    sums = document_sums(records, docs, "amount")
    if not sums.any():
        return []
    amounts = np.asarray(pc.fill_null(fmt.column(records, "amount"), 0), dtype=np.int64)
    numbers = fmt.column(records, "number").to_pylist()
    exps = fmt.exponents(records)
    starts = starts_of(docs)
    out = []
    for d in np.flatnonzero(sums != 0):
        m = docs == d
        e = int(exps[starts[d]])
        debit = format_one(int(amounts[m & (amounts > 0)].sum()), e)
        credit = format_one(-int(amounts[m & (amounts < 0)].sum()), e)
        out.append(
            Problem(
                m,
                "amount",
                "journal-unbalanced",
                f"journal {numbers[starts[d]]} does not balance: debits {debit}, credits "
                f"{credit}; {system} refuses an entry whose debits and credits differ",
            )
        )
    return out


def code_map(text: str, option: str, target: str) -> dict[str, str]:
    """Parse a ``FROM=TO;FROM=TO`` option value."""
    out: dict[str, str] = {}
    for pair in filter(None, (p.strip() for p in text.split(";"))):
        src, eq, dst = pair.rpartition("=")
        if not eq or not src.strip():
            raise TargetError(
                f"option {option} of {target} needs FROM=TO pairs separated by ';'",
                where=f"-O {target}.{option}={text}",
                hint=f"for example -O '{target}.{option}=20% (VAT on Income)=T1;No VAT=T9'",
                code="option-invalid",
            )
        out[src.strip()] = dst.strip()
    return out


def translate(col: pa.Array, table: dict[str, str]) -> pa.Array:
    """Replace values found in ``table``; others stay."""
    if not table:
        return col
    return pa.array([table.get(v, v) if v else v for v in col.to_pylist()], pa.string())


class DocumentSink(CsvSink):
    """A CsvSink that never splits a document across files, caps documents per file, and
    with ``bom="auto"`` starts a file with a BOM only when it holds non-ASCII text."""

    def __init__(
        self, *args: Any, bom: str = "off", max_docs: int | None = None, **kw: Any
    ) -> None:
        super().__init__(*args, bom=bom == "on", **kw)
        self.auto_bom = bom == "auto"
        if self.auto_bom and self.max_bytes:
            self.max_bytes -= len(BOM)
        self.max_docs = max_docs
        self._docs = 0
        self._wide = False

    def sizes(self, lines: pa.Array) -> npt.NDArray[np.int64]:
        """Each line's size in bytes as written (single-byte encodings: one per character)."""
        utf8 = self.encoding.replace("-", "").lower() == "utf8"
        size = pc.binary_length(lines) if utf8 else pc.utf8_length(lines)
        return np.asarray(size, dtype=np.int64)

    def _open_part(self) -> None:
        super()._open_part()
        self._docs = 0
        self._wide = False

    def _finish_part(self) -> None:
        if self._fh is None:
            return
        wide = self._wide
        super()._finish_part()
        if self.auto_bom and wide:
            path, _ = self._parts[-1]
            data = BOM + path.read_bytes()
            with open(path, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            self._hashes[-1] = (hashlib.sha256(data).hexdigest(), len(data))

    def write_documents(self, lines: pa.Array, starts: npt.NDArray[np.int64]) -> None:
        """Append lines whose documents begin at ``starts``; a new part starts before a
        document that would not fit whole."""
        n = len(lines)
        if n == 0:
            return
        if self._fh is None:
            self._open_part()
        bounds = np.append(starts, n)
        doc_rows = np.diff(bounds)
        doc_bytes = np.add.reduceat(self.sizes(lines), starts)
        i, k = 0, len(starts)
        while i < k:
            fit = k - i
            if self.max_rows:
                room = self.max_rows - self._rows
                fit = min(fit, int(np.searchsorted(np.cumsum(doc_rows[i:]), room, "right")))
            if self.max_bytes:
                room = self.max_bytes - self._bytes
                fit = min(fit, int(np.searchsorted(np.cumsum(doc_bytes[i:]), room, "right")))
            if self.max_docs:
                fit = min(fit, self.max_docs - self._docs)
            if fit <= 0:
                if self._rows == 0:  # writers refuse such documents before they get here
                    raise OutputError(
                        "one document is larger than the target's file limits",
                        where=f"{self.stem}{self.extension}",
                        hint="this is a bug in csvbridge; please report it.",
                        code="record-too-large",
                    )
                self._open_part()
                continue
            part = lines.slice(int(bounds[i]), int(bounds[i + fit] - bounds[i]))
            self._wide = self._wide or not pc.all(pc.string_is_ascii(part)).as_py()
            super().write_lines(part)  # fits whole: the base never splits it
            self._docs += fit
            i += fit


class AccountingWriter(CsvWriter):
    """Base of the accounting-system targets. A subclass declares what it needs and what it
    caps; every record the target would choke on is refused with its reason (for a document
    kind, with every other line of its document: a document is written whole or not at all),
    and the file is split between documents, never inside one."""

    noun = "record"  # what a person calls one document (or row) of this target
    needs: tuple[str, ...] = ()  # canonical fields required on every record
    names: tuple[str, ...] = ()  # must match the target's lists exactly: refused, never '-prefixed
    unique: tuple[str, ...] = ()  # may appear once per run (compared ignoring case)
    same_in_document: tuple[str, ...] = ()  # header fields every line of a document repeats
    max_docs: int | None = None
    encoding = "utf-8"
    sink: DocumentSink

    def __init__(self, ctx: WriteContext) -> None:
        super().__init__(ctx)
        self.system = ctx.target or "the target"
        self.encoding = self.options.get("encoding", self.encoding)
        self.sink = DocumentSink(
            ctx.outdir,
            self.stem or ctx.kind.name,
            list(self.header_for(ctx.kind)),
            encoding=self.encoding,
            bom=self.options.get("bom", "off"),
            max_rows=self.max_rows,
            max_bytes=self.max_bytes,
            max_docs=self.max_docs,
            write_header=self.options.get("header", "on") == "on",
        )
        self.seen: dict[str, set[str]] = {f: set() for f in self.unique}

    # -- rules ---------------------------------------------------------------------------------
    def problems(self, records: pa.Table, docs: npt.NDArray[np.int64]) -> list[Problem]:
        """What this target refuses, in the order reasons are given. Subclasses extend it."""
        out = [
            Problem(
                blank(records, f),
                f,
                "target-required",
                f"{self.system} needs {f} on every {self.noun}; map it (or give a default) "
                "in the mapping",
            )
            for f in self.needs
        ]
        if self.guard:
            out += [
                Problem(
                    as_mask(pc.match_substring_regex(fmt.column(records, f), FORMULA_START)),
                    f,
                    "formula-like-name",
                    "starts with = + - or @, which a spreadsheet runs as a formula; the ' "
                    f"that guards other text would become part of the name in {self.system}. "
                    "Rename it in the source (or use -O formula_guard=off)",
                )
                for f in self.names
            ]
        for f, limit in self.text_limits.items():
            lengths = pc.fill_null(pc.utf8_length(fmt.column(records, f)), 0)
            out.append(
                Problem(
                    as_mask(pc.greater(lengths, limit)),
                    f,
                    "text-too-long",
                    f"longer than the {limit} characters {self.system} accepts; shorten it "
                    "in the source",
                )
            )
        for f in self.same_in_document:
            out += self._disagreements(records, docs, f)
        return out

    def _disagreements(
        self, records: pa.Table, docs: npt.NDArray[np.int64], name: str
    ) -> list[Problem]:
        vals = pc.fill_null(pc.cast(fmt.column(records, name), pa.string()), "")
        codes = np.asarray(pc.dictionary_encode(vals).indices, dtype=np.int64)
        width = int(codes.max()) + 1 if len(codes) else 1
        pairs = np.unique(docs * width + codes)
        counts = np.bincount(pairs // width, minlength=int(docs.max()) + 1 if len(docs) else 0)
        bad = np.flatnonzero(counts > 1)
        if not len(bad):
            return []
        numbers = fmt.column(records, self.kind.document_key or name).to_pylist()
        out = []
        for d in bad:
            m = docs == d
            seen = sorted(set(vals.filter(pa.array(m)).to_pylist()))
            out.append(
                Problem(
                    m,
                    name,
                    "document-inconsistent",
                    f"the lines of {self.noun} {numbers[int(np.argmax(m))]} disagree on "
                    f"{name} ({', '.join(repr(s) for s in seen[:3])}); every line of one "
                    f"{self.noun} must have the same {name}. Give each {self.noun} its own "
                    "number",
                )
            )
        return out

    def refuse(
        self, records: pa.Table, docs: npt.NDArray[np.int64], problems: list[Problem]
    ) -> npt.NDArray[np.bool_]:
        """Reject what the problems name (first reason wins) and, for documents, the other
        lines of each refused document; return what is kept."""
        n = records.num_rows
        taken = np.zeros(n, dtype=bool)
        if not any(p.mask.any() for p in problems):
            return ~taken
        first: dict[int, tuple[int, str]] = {}  # document → (line, rule) of its first refusal
        lines = fmt.column(records, LINE_COL).to_pylist()
        for p in problems:
            m = p.mask & ~taken
            if not m.any():
                continue
            self.reject(records.filter(pa.array(m)), p.field, p.rule, p.message)
            for i in np.flatnonzero(m):
                first.setdefault(int(docs[i]), (lines[i], p.rule))
            taken |= m
        key = self.kind.document_key
        if key and taken.any():
            numbers = fmt.column(records, key).to_pylist()
            for d in sorted(first):
                m = (docs == d) & ~taken
                if m.any():
                    line, rule = first[d]
                    self.reject(
                        records.filter(pa.array(m)),
                        key,
                        "document-incomplete",
                        f"line {line} of {self.noun} {numbers[int(np.argmax(m))]} was refused "
                        f"({rule}), so the whole {self.noun} is left out; fix that line and "
                        "convert again",
                    )
                    taken |= m
        return ~taken

    def _unencodable(self, records: pa.Table) -> Problem:
        bad = np.zeros(records.num_rows, dtype=bool)
        for cell in self.cells(records):
            wide = np.flatnonzero(~as_mask(pc.string_is_ascii(pc.fill_null(cell, ""))))
            texts = cell.to_pylist()
            for i in wide:
                try:
                    texts[i].encode(self.encoding)
                except UnicodeEncodeError:
                    bad[i] = True
        return Problem(
            bad,
            "",
            "not-encodable",
            f"holds characters that {self.encoding} cannot represent, the encoding "
            f"{self.system} reads; change the text (or choose -O encoding=utf-8)",
        )

    def _repeats(self, records: pa.Table) -> list[Problem]:
        out = []
        for f in self.unique:
            m = np.zeros(records.num_rows, dtype=bool)
            for i, v in enumerate(fmt.column(records, f).to_pylist()):
                key = (v or "").strip().casefold()
                if key and key in self.seen[f]:
                    m[i] = True
                elif key:
                    self.seen[f].add(key)
            out.append(
                Problem(
                    m,
                    f,
                    "not-unique",
                    f"{f} repeats an earlier record's (ignoring case); {self.system} needs "
                    f"each {f} once",
                )
            )
        return out

    def check(self, records: pa.Table) -> pa.Table:
        docs = document_ids(records, self.kind.document_key)
        keep = self.refuse(records, docs, self.problems(records, docs))
        records, docs = records.filter(pa.array(keep)), docs[keep]
        if self.encoding.replace("-", "").lower() != "utf8" and records.num_rows:
            keep = self.refuse(records, docs, [self._unencodable(records)])
            records, docs = records.filter(pa.array(keep)), docs[keep]
        if self.unique and records.num_rows:  # last: only records otherwise fine claim a key
            records = records.filter(pa.array(self.refuse(records, docs, self._repeats(records))))
        return records

    def write(self, records: pa.Table) -> None:
        records = self.check(records)
        if records.num_rows:
            lines = csv_lines(self.cells(records))
            docs = document_ids(records, self.kind.document_key)
            keep = self.refuse(records, docs, self._oversize(lines, docs))
            if not keep.all():
                records, lines, docs = (
                    records.filter(pa.array(keep)),
                    lines.filter(pa.array(keep)),
                    docs[keep],
                )
            self.sink.write_documents(lines, starts_of(docs))
        add_written(self.tally, records, self.kind)

    def _oversize(self, lines: pa.Array, docs: npt.NDArray[np.int64]) -> list[Problem]:
        starts = starts_of(docs)
        rows = np.diff(np.append(starts, len(docs)))
        size = np.add.reduceat(self.sink.sizes(lines), starts)
        out = []
        if self.max_rows:
            out.append(
                Problem(
                    (rows > self.max_rows)[docs],
                    "",
                    "document-too-long",
                    f"this {self.noun} has more lines than one {self.system} file takes "
                    f"({self.max_rows}); split it in the source",
                )
            )
        if self.sink.max_bytes:
            room = self.sink.max_bytes - len(self.sink.head)
            out.append(
                Problem(
                    (size > room)[docs],
                    "",
                    "document-too-large",
                    f"this {self.noun} is larger than one {self.system} file may be "
                    f"({self.sink.max_bytes} bytes); shorten its text",
                )
            )
        return out


DESCRIPTION_LIMIT = {"description": 250}  # QBO bank upload: practical maximum [R]


class OneCurrency(CsvWriter):
    """A bank statement file is one account in one currency: records in another currency
    than the first one written are refused with the reason, never mixed into the file."""

    _currency: str | None = None

    def check(self, records: pa.Table) -> pa.Table:
        records = super().check(records)
        if not records.num_rows:
            return records
        cur = pc.fill_null(records.column("currency").combine_chunks(), "")
        if self._currency is None:
            self._currency = str(cur[0].as_py())
        other = pc.not_equal(cur, self._currency)
        if pc.any(other).as_py():
            self.reject(
                records.filter(other),
                "currency",
                "currency-mismatch",
                f"{self.ctx.target} files hold one currency, and this file is in "
                f"{self._currency}; convert the other currencies separately (a filter on the "
                "currency in a copy of the mapping)",
            )
            records = records.filter(pc.invert(other))
        return records


class QboBankWriter(OneCurrency):
    """QuickBooks Online 'Upload from file', 3 columns: Date, Description, Amount (signed,
    negative = money out, blank instead of 0). At most 999 data rows and 350 KB per file."""

    stem = "qbo-bank"
    header: tuple[str, ...] = ("Date", "Description", "Amount")
    max_rows = 999
    max_bytes = 350 * 1000
    MAX_BYTES = max_bytes

    def cells(self, records: pa.Table) -> list[pa.Array]:
        return [
            fmt.date(records, "date", self.options["date_order"]),
            fmt.text(records, "description", guard=self.guard),
            fmt.money(records, "amount", blank_zero=True),
        ]


class QboBank4Writer(QboBankWriter):
    """QuickBooks Online 'Upload from file', 4 columns: Date, Description, Credit, Debit, each
    amount positive with the other cell blank. Which column is money in is an option."""

    stem = "qbo-bank4"
    header = ("Date", "Description", "Credit", "Debit")
    text_limits = DESCRIPTION_LIMIT

    def cells(self, records: pa.Table) -> list[pa.Array]:
        amount = fmt.column(records, "amount")
        size = money_abs(records, "amount")
        money_in = pc.fill_null(pc.greater(amount, 0), False)
        money_out = pc.fill_null(pc.less(amount, 0), False)
        blank = pa.scalar("", pa.string())
        into = pc.if_else(money_in, size, blank)
        out = pc.if_else(money_out, size, blank)
        credit, debit = (into, out) if self.options["direction"] == "statement" else (out, into)
        return [
            fmt.date(records, "date", self.options["date_order"]),
            fmt.text(records, "description", guard=self.guard),
            credit,
            debit,
        ]


class XeroBankWriter(OneCurrency):
    """Xero 'Import a statement': *Date, *Amount (signed), Payee, Description, Reference,
    Cheque Number. At most 1,000 transactions per file."""

    stem = "xero-bank"
    header = ("*Date", "*Amount", "Payee", "Description", "Reference", "Cheque Number")
    max_rows = 1000

    def cells(self, records: pa.Table) -> list[pa.Array]:
        g = self.guard
        return [
            fmt.date(records, "date", self.options["date_order"]),
            fmt.money(records, "amount"),
            fmt.text(records, "payee", guard=g),
            fmt.text(records, "description", guard=g),
            fmt.text(records, "reference", guard=g),
            fmt.text(records, "check_number", guard=g),
        ]


DIRECTION = Option(
    "direction",
    ("statement", "books"),
    "statement",
    "which column holds money in: statement = Credit is money in, Debit is money out (the "
    "bank statement's view, used by most guides); books = Credit is money out, Debit is "
    "money in (the labels of Intuit's UK article)",
    confidence="U",
)

TARGETS = [
    Target(
        name="qbo-bank",
        kinds=("transaction",),
        title="QuickBooks Online bank transactions (3-column CSV)",
        doc="Banking → Upload from file. Date, Description, Amount: negative = money out, "
        "positive = money in, blank instead of 0. No thousands separators or symbols. UTF-8 "
        "without BOM, CRLF.",
        columns=("Date", "Description", "Amount"),
        required=("date", "description", "amount"),
        limits="999 data rows and 350 KB per file; larger outputs are split into "
        "qbo-bank-001.csv, qbo-bank-002.csv, ...",
        factory=QboBankWriter,
        family="qbo",
        options=(DATE_ORDER, FORMULA_GUARD),
        notes=(
            "The upload wizard asks which date format the file uses: answer with the "
            "date_order written in the run summary.",
            "The 1,000-line cap is reported by third parties [R]; the 350 KB cap is Intuit's [C].",
        ),
    ),
    Target(
        name="qbo-bank4",
        kinds=("transaction",),
        title="QuickBooks Online bank transactions (4-column CSV: Credit, Debit)",
        doc="Banking → Upload from file, the two-amount layout: Date, Description, Credit, "
        "Debit. Each amount positive, the other cell blank (both blank for 0). No thousands "
        "separators or symbols. UTF-8 without BOM, CRLF. Prefer qbo-bank (one signed column) "
        "unless you need this layout.",
        columns=("Date", "Description", "Credit", "Debit"),
        required=("date", "description", "amount"),
        limits="999 data rows and 350 KB per file; larger outputs are split into "
        "qbo-bank4-001.csv, ...; descriptions over 250 characters are refused",
        factory=QboBank4Writer,
        options=(DATE_ORDER, DIRECTION, FORMULA_GUARD),
        notes=(
            "Direction is unconfirmed [U]: Intuit's UK article labels Credit as money out and "
            "Debit as money in, most other guides the opposite. The default (direction="
            "statement: Credit = money in) follows the bank statement and formats.md's "
            "example; whichever you choose, map Credit and Debit to 'money received' and "
            "'money spent' on the upload screen exactly as the summary's direction says.",
            "Not chosen by --to qbo (that is qbo-bank, the layout without the question).",
        ),
    ),
    Target(
        name="xero-bank",
        kinds=("transaction",),
        title="Xero bank statement (CSV)",
        doc="Accounting → Bank accounts → Import a statement. Amount signed: negative = money "
        "spent. Payee, Description, Reference and Cheque Number help Xero's matching. UTF-8, "
        "CRLF.",
        columns=("*Date", "*Amount", "Payee", "Description", "Reference", "Cheque Number"),
        required=("date", "amount"),
        limits="1,000 transactions per file; larger outputs are split into xero-bank-001.csv, ...",
        factory=XeroBankWriter,
        family="xero",
        options=(DATE_ORDER, FORMULA_GUARD),
        notes=("US organisations use MM/DD/YYYY: pass -O date_order=mdy or use a USD mapping.",),
    ),
]
