"""OFX bank and card statements (formats.md §3): ``ofx`` (OFX 1.0.2 SGML), ``ofx2`` (OFX 2.2
XML) and ``qbo-webconnect`` (QuickBooks Web Connect .qbo: SGML with ``<INTU.BID>``).

One file is one statement of one account in one currency. Records in another currency than
the statement's (the ``currency`` option, else the first record's) are refused with rule
``currency-mismatch`` rather than split into more files: an importer takes one account per
file, and the user decides which account the other currency belongs to.

FITIDs are stable: the same source line gets the same FITID on every run, whatever the chunk
size and wherever the line sits in the file, so an importer that skips FITIDs it has seen
skips a re-imported line. The FITID is ``YYYYMMDD-`` and 16 hex digits of SHA-256 over the
transaction's canonical fingerprint (date, amount in minor units, currency, description,
reference, running balance) and its occurrence number — 1 for the first record in the batch
with that fingerprint, 2 for the next identical one, ... — so two identical same-day lines
(e.g. two coffees on a card with no running balance) get different FITIDs, and a line keeps
its FITID when lines above it are added or removed. Counting occurrences keeps one entry (a
12-byte key) per distinct fingerprint in memory: fine for statements, not for archives.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..dates import format_dates
from ..errors import TargetError
from ..money import exponent_of, format_one
from . import format as fmt
from .base import Option, Target, WriteContext
from .plaintext import TextWriter, option_value, texts

ACCOUNT_TYPES = ("checking", "savings", "moneymrkt", "creditline", "cd", "creditcard")
FINGERPRINT = ("date", "amount", "currency", "description", "reference", "balance")
NAME_MAX, MEMO_MAX = 32, 255
EOL = "\r\n"
SGML_HEAD = (  # the nine header lines and a blank line, then <OFX>
    "OFXHEADER:100\r\nDATA:OFXSGML\r\nVERSION:102\r\nSECURITY:NONE\r\nENCODING:USASCII\r\n"
    "CHARSET:1252\r\nCOMPRESSION:NONE\r\nOLDFILEUID:NONE\r\nNEWFILEUID:NONE\r\n\r\n"
)
XML_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\r\n'
    '<?OFX OFXHEADER="200" VERSION="220" SECURITY="NONE" OLDFILEUID="NONE" NEWFILEUID="NONE"?>\r\n'
)


def escape(text: str) -> str:
    """Text for an OFX element: control characters become spaces; & < > are entities."""
    text = re.sub(r"[\x00-\x1f\x7f]+", " ", text).strip()
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def fingerprints(records: pa.Table) -> list[str]:
    """Each record's canonical fingerprint as one string (fields joined by U+001F)."""
    parts = []
    for name in FINGERPRINT:
        col = fmt.column(records, name)
        if name == "date":
            col = format_dates(col, "YYYY-MM-DD")
        parts.append(pc.fill_null(col.cast(pa.string()), ""))
    return list(pc.binary_join_element_wise(*parts, "\x1f").to_pylist())


def fitids(records: pa.Table, seen: dict[bytes, int]) -> list[str]:
    """Stable FITIDs for ``records`` (see the module docstring); ``seen`` counts fingerprints
    across calls."""
    days = format_dates(fmt.column(records, "date"), "YYYYMMDD").to_pylist()
    out = []
    for day, key in zip(days, fingerprints(records), strict=True):
        k = key.encode("utf-8")
        short = hashlib.sha256(k).digest()[:12]
        n = seen.get(short, 0) + 1
        seen[short] = n
        digest = hashlib.sha256(k + b"\x1f%d" % n).hexdigest()
        out.append(f"{day}-{digest[:16]}")
    return out


def _when(d: date) -> str:
    # Noon, no zone: a midnight stamp shows as the previous day in zones west of UTC.
    return f"{d:%Y%m%d}120000"


def _as_of(value: str) -> bool:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return False
    with contextlib.suppress(ValueError):
        return bool(date.fromisoformat(value))
    return False


def _number(value: str) -> bool:
    return re.fullmatch(r"-?\d+(\.\d+)?", value) is not None


class OfxWriter(TextWriter):
    """One statement: signon, the account, BANKTRANLIST (DTSTART/DTEND from the records) and
    LEDGERBAL (the closing running balance, else the ledger_balance option)."""

    stem = "ofx"
    extension = ".ofx"
    encoding = "cp1252"
    xml = False
    intuit = False
    text_limits = {"check_number": 12, "reference": 32}  # noqa: RUF012 - CHECKNUM, REFNUM

    def __init__(self, ctx: WriteContext) -> None:
        super().__init__(ctx)
        o = ctx.options
        self.card = o["account_type"] == "creditcard"
        needed = {"account_id"} if self.card else {"account_id", "bank_id"}
        for name, (ok, hint) in _CHECKS.items():
            if o.get(name) or name in needed:
                option_value(ctx, name, ok, hint)
        self.acctid, self.bankid = o["account_id"], "" if self.card else o["bank_id"]
        self.currency = o["currency"].upper() or None
        if self.currency:
            self.given_balance()
        self.seen: dict[bytes, int] = {}
        self.low: date | None = None
        self.high: date | None = None
        self.first_bal: tuple[date, int] | None = None
        self.last_bal: tuple[date, int] | None = None

    # -- elements --
    def el(self, tag: str, value: str) -> str:
        return f"<{tag}>{value}</{tag}>{EOL}" if self.xml else f"<{tag}>{value}{EOL}"

    def check(self, records: pa.Table) -> pa.Table:
        records = super().check(records)
        if not records.num_rows:
            return records
        cur = pc.fill_null(fmt.column(records, "currency"), "")
        if self.currency is None:
            self.currency = str(cur[0].as_py())
            self.given_balance()  # a bad ledger_balance fails before anything is written
        other = pc.not_equal(cur, self.currency)
        if pc.any(other).as_py():
            self.reject(
                records.filter(other),
                "currency",
                "currency-mismatch",
                f"the {self.ctx.target} statement is in {self.currency} and holds one currency; "
                f"convert this currency's lines separately (-O {self.ctx.target}.currency=...)",
            )
            records = records.filter(pc.invert(other))
        memo = self.name_memo(records)[1]
        long = np.array([len(m) > MEMO_MAX for m in memo], dtype=bool)
        if long.any():
            self.reject(
                records.filter(pa.array(long)),
                "description",
                "text-too-long",
                f"description and memo together pass the {MEMO_MAX} characters an OFX MEMO "
                "holds; shorten them in the source",
            )
            records = records.filter(pa.array(~long))
        if (
            records.num_rows
            and self.first_bal is None
            and not self.options["ledger_balance"]
            and not fmt.column(records, "balance").is_valid()[0].as_py()
        ):
            raise TargetError(
                f"{self.ctx.target} needs the statement's closing balance (LEDGERBAL), and "
                "the records carry no running balance",
                where=f"--to {self.ctx.target}",
                hint=f"map the balance column, or add -O {self.ctx.target}.ledger_balance="
                "AMOUNT (the balance after the last line)",
                code="ofx-balance-needed",
            )
        return records

    def name_memo(self, records: pa.Table) -> tuple[list[str], list[str]]:
        """NAME: the description cut to 32 characters (the OFX limit), as banks write it;
        MEMO: the whole description when it was cut, then the payee and the memo."""
        desc, payee, memo = (texts(records, n) for n in ("description", "payee", "memo"))
        names = [d[:NAME_MAX] for d in desc]
        memos = [
            " / ".join(x for x in (d if len(d) > NAME_MAX else "", p, m) if x)
            for d, p, m in zip(desc, payee, memo, strict=True)
        ]
        return names, memos

    def render(self, records: pa.Table) -> list[str]:
        ids = fitids(records, self.seen)
        days = fmt.column(records, "date")
        lo, hi = (v.as_py() for v in pc.min_max(days).values())
        self.low = lo if self.low is None else min(self.low, lo)
        self.high = hi if self.high is None else max(self.high, hi)
        bal = fmt.column(records, "balance")
        valid = np.flatnonzero(np.asarray(bal.is_valid(), dtype=bool))
        if len(valid):
            i, j = int(valid[0]), int(valid[-1])
            if self.first_bal is None:
                self.first_bal = (days[i].as_py(), bal[i].as_py())
            self.last_bal = (days[j].as_py(), bal[j].as_py())
        posted = [_when(d) for d in days.to_pylist()]
        raw = np.asarray(fmt.column(records, "amount"), dtype=np.int64).tolist()
        amt = fmt.money(records, "amount").to_pylist()
        check, ref = texts(records, "check_number"), texts(records, "reference")
        names, memos = self.name_memo(records)
        el = self.el
        out = []
        for i, v in enumerate(raw):
            kind = "CREDIT" if v > 0 else "DEBIT" if v < 0 else "OTHER"
            out += [
                "<STMTTRN>" + EOL,
                el("TRNTYPE", "CHECK" if check[i] and v < 0 else kind),
                el("DTPOSTED", posted[i]),
                el("TRNAMT", amt[i]),
                el("FITID", ids[i]),
            ]
            extra = zip(
                ("CHECKNUM", "REFNUM", "NAME", "MEMO"), (check, ref, names, memos), strict=True
            )
            out += [el(tag, escape(col[i])) for tag, col in extra if col[i]]
            out.append("</STMTTRN>" + EOL)
        return out

    # -- head and tail --
    def given_balance(self) -> int | None:
        """The ledger_balance option in minor units of the statement's currency."""
        given = self.options["ledger_balance"]
        if not given:
            return None
        minor = Decimal(given).scaleb(exponent_of(self.currency or "USD") or 0)
        if minor != minor.to_integral_value():
            raise TargetError(
                f"ledger_balance {given} has more decimals than {self.currency} has",
                where=f"-O {self.ctx.target}.ledger_balance={given}",
                hint="write the balance with the currency's decimals.",
                code="option-invalid",
            )
        return int(minor)

    def closing(self) -> tuple[int, date | None]:
        """The ledger balance in minor units and its date."""
        given = self.given_balance()
        if given is not None:
            return given, self.high
        if self.first_bal is None or self.last_bal is None:
            return 0, self.high
        # Oldest-first files end with the closing balance; newest-first files start with it.
        newest_first = self.first_bal[0] > self.last_bal[0]
        return (self.first_bal if newest_first else self.last_bal)[1], self.high

    def head(self) -> list[str]:
        el = self.el
        as_of = self.options["as_of"]
        server = date.fromisoformat(as_of) if as_of else self.high or date(1970, 1, 1)
        start, end = self.low or server, self.high or server
        out = [XML_HEAD if self.xml else SGML_HEAD]
        out += [f"<OFX>{EOL}<SIGNONMSGSRSV1>{EOL}<SONRS>{EOL}", *self.status()]
        out += [el("DTSERVER", _when(server)), el("LANGUAGE", "ENG")]
        if self.options["fi_org"]:
            out += [f"<FI>{EOL}", el("ORG", escape(self.options["fi_org"]))]
            out += [el("FID", escape(self.options["fi_id"]))] if self.options["fi_id"] else []
            out.append(f"</FI>{EOL}")
        if self.intuit:
            out.append(el("INTU.BID", self.options["intu_bid"]))
        msgs, trnrs, stmtrs = self.aggregates()
        out += [f"</SONRS>{EOL}</SIGNONMSGSRSV1>{EOL}<{msgs}>{EOL}<{trnrs}>{EOL}"]
        out += [el("TRNUID", "1"), *self.status(), f"<{stmtrs}>{EOL}"]
        out.append(el("CURDEF", self.currency or "USD"))
        if self.card:
            out += [f"<CCACCTFROM>{EOL}", el("ACCTID", escape(self.acctid)), f"</CCACCTFROM>{EOL}"]
        else:
            out += [f"<BANKACCTFROM>{EOL}", el("BANKID", escape(self.bankid))]
            branch = self.options["branch_id"]
            out += [el("BRANCHID", escape(branch))] if branch else []
            out += [el("ACCTID", escape(self.acctid))]
            out += [el("ACCTTYPE", self.options["account_type"].upper()), f"</BANKACCTFROM>{EOL}"]
        return [*out, f"<BANKTRANLIST>{EOL}", el("DTSTART", _when(start)), el("DTEND", _when(end))]

    def tail(self) -> list[str]:
        balance, when = self.closing()
        as_of = self.options["as_of"]
        when = date.fromisoformat(as_of) if as_of else when or date(1970, 1, 1)
        amount = format_one(balance, exponent_of(self.currency or "USD") or 0)
        msgs, trnrs, stmtrs = self.aggregates()
        return [
            f"</BANKTRANLIST>{EOL}<LEDGERBAL>{EOL}",
            self.el("BALAMT", amount),
            self.el("DTASOF", _when(when)),
            f"</LEDGERBAL>{EOL}</{stmtrs}>{EOL}</{trnrs}>{EOL}</{msgs}>{EOL}</OFX>{EOL}",
        ]

    def status(self) -> list[str]:
        return [
            f"<STATUS>{EOL}",
            self.el("CODE", "0"),
            self.el("SEVERITY", "INFO"),
            f"</STATUS>{EOL}",
        ]

    def aggregates(self) -> tuple[str, str, str]:
        if self.card:
            return "CREDITCARDMSGSRSV1", "CCSTMTTRNRS", "CCSTMTRS"
        return "BANKMSGSRSV1", "STMTTRNRS", "STMTRS"


class Ofx2Writer(OfxWriter):
    """OFX 2.2: the same statement as well-formed XML (every element closed), UTF-8."""

    stem = "ofx2"
    encoding = "utf-8"
    xml = True


class QboWriter(OfxWriter):
    """QuickBooks Web Connect: OFX 1.0.2 SGML with ``<INTU.BID>`` in the signon."""

    stem = "qbo-webconnect"
    extension = ".qbo"
    intuit = True


_CHECKS: dict[str, tuple[Callable[[str], bool], str]] = {
    "account_id": (lambda v: len(v) <= 22, "the account number, at most 22 characters (ACCTID)"),
    "bank_id": (
        lambda v: len(v) <= 9,
        "the routing number / sort code, at most 9 characters (BANKID); not needed with "
        "account_type=creditcard",
    ),
    "branch_id": (lambda v: len(v) <= 22, "at most 22 characters (BRANCHID)"),
    "ledger_balance": (_number, "the closing balance as a plain number, e.g. -1234.50"),
    "as_of": (_as_of, "a date as YYYY-MM-DD"),
    "currency": (lambda v: exponent_of(v) is not None, "an ISO 4217 code such as USD"),
    "intu_bid": (lambda v: v.isdigit() and len(v) <= 10, "digits (Intuit's bank id)"),
}
_OPTIONS = {  # name: (default, doc)
    "account_id": ("", "ACCTID, the account number (required)"),
    "bank_id": ("", "BANKID, routing number / sort code (required unless creditcard)"),
    "account_type": ("checking", "ACCTTYPE; creditcard: a card statement (no bank_id)"),
    "branch_id": ("", "BRANCHID (optional)"),
    "currency": ("", "CURDEF; empty: the first record's; other currencies are refused"),
    "ledger_balance": ("", "LEDGERBAL; empty: the latest running balance (needed if none)"),
    "as_of": ("", "YYYY-MM-DD of DTSERVER and DTASOF; empty: the latest transaction date"),
    "fi_org": ("", "FI ORG (optional; the FI block is written when set)"),
    "fi_id": ("", "FI FID (optional)"),
}
_BID = (
    "INTU.BID, Intuit's id of the bank: QuickBooks Desktop refuses ids not on Intuit's list, "
    "Online is reported lenient; 3000 is the id converters commonly use — set your bank's own"
)


def _options(intuit: bool) -> tuple[Option, ...]:
    opts = [
        Option(n, ACCOUNT_TYPES if n == "account_type" else (), d, doc)
        for n, (d, doc) in _OPTIONS.items()
    ]
    return (*opts, Option("intu_bid", (), "3000", _BID, confidence="U")) if intuit else tuple(opts)


_DOC = (
    "TRNAMT signed (negative = money out), NAME the description cut to 32 characters, MEMO "
    "the whole description when cut, the payee and the memo, CHECKNUM (≤ 12) and REFNUM (≤ 32; "
    "longer ones are refused), stable FITIDs (a hash of the line's fingerprint and "
    "occurrence), DTSTART/DTEND from the records, LEDGERBAL from the closing running "
    "balance or the ledger_balance option."
)
_LIMITS = "one statement: one account, one currency; QuickBooks Online takes ≤ 350 KB [C]"
_NOTE = "Dates are written at 12:00 with no time zone so no importer shifts them a day."
_VARIANTS = {  # name: (title, doc, writer, options)
    "ofx": (
        "OFX 1.0.2 bank statement (SGML)",
        "Open Financial Exchange 1.0.2: the 9-line header, SGML body with unclosed leaf "
        "elements, Windows-1252 (other characters are written as '?'), CRLF.",
        OfxWriter,
        _options(False),
    ),
    "ofx2": (
        "OFX 2.2 bank statement (XML)",
        "Open Financial Exchange 2.2: XML declaration and OFX processing instruction, every "
        "element closed, UTF-8, CRLF.",
        Ofx2Writer,
        _options(False),
    ),
    "qbo-webconnect": (
        "QuickBooks Web Connect (.qbo)",
        "An OFX 1.0.2 SGML statement with Intuit's <INTU.BID>, for QuickBooks Desktop and "
        "Online 'Web Connect' imports (also how to load more than 90 days); Windows-1252.",
        QboWriter,
        _options(True),
    ),
}

TARGETS = [
    Target(
        n,
        ("transaction",),
        t,
        f"{d} {_DOC}",
        ("STMTTRN",),
        ("date", "amount"),
        _LIMITS,
        f,
        options=o,
        notes=(_NOTE,),
    )
    for n, (t, d, f, o) in _VARIANTS.items()
]
