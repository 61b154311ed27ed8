"""Sage imports (formats.md §5): the Sage 50 Accounts (UK/IE desktop) audit-trail transaction
import (Sage Accounting contacts are in sage_contacts.py)."""

from __future__ import annotations

import re

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import TargetError
from ..money import format_minor
from . import format as fmt
from .accounting import AccountingWriter, tax_codes_option
from .base import Option, Target, WriteContext, guard_formula
from .checks import (
    Problem,
    as_mask,
    blank,
    code_map,
    document_ids,
    money_abs,
    translate,
    unbalanced,
)
from .generic import FORMULA_GUARD

SAGE50_COLUMNS = (
    "Type",
    "Account Reference",
    "Nominal A/C Ref",
    "Department",
    "Date",
    "Reference",
    "Details",
    "Net Amount",
    "Tax Code",
    "Tax Amount",
    "Exchange Rate",
    "Extra Reference",
    "User Name",
    "Project Reference",
    "Cost Code Reference",
)
# Transaction type by kind: (amount >= 0, amount < 0); amounts are written positive [U].
TYPES = {
    "invoice": ("SI", "SC"),
    "bill": ("PI", "PC"),
    "transaction": ("BR", "BP"),
    "journal": ("JD", "JC"),
}
AMOUNT = {"invoice": "line_amount", "bill": "line_amount", "transaction": "amount"}
TAX_CODE = re.compile(r"^T[0-9]{1,2}$")

HEADER = Option(
    "header",
    ("on", "off"),
    "on",
    "write a header row. Whether Sage 50 expects one is unconfirmed: tick the import's "
    "header option to match; off gives the bare records of Sage's older CSV rules",
    confidence="U",
)
ENCODING = Option(
    "encoding",
    ("cp1252", "utf-8"),
    "cp1252",
    "Sage 50 UK reportedly reads Windows-1252 (ANSI) for text like £ and é; text it cannot "
    "hold is refused, never replaced",
    confidence="U",
)
ACCOUNT_REF = Option(
    "account_ref",
    ("contact", "derive"),
    "contact",
    "where an invoice's or bill's Account Reference comes from: contact = the contact field "
    "as it is (at most 8 characters, no spaces); derive = the contact's letters and digits, "
    "upper case, first 8 (Sage's own rule for new records; check the result)",
)
BANK = Option(
    "bank",
    (),
    "",
    "nominal code of the bank account for bank payments and receipts (blank: each record's "
    "account field)",
)
NOMINAL = Option(
    "nominal",
    (),
    "9999",
    "nominal code the bank payments and receipts are posted against (9999: Sage's suspense "
    "account; reallocate in Sage)",
)
CURRENCY = Option(
    "currency",
    (),
    "GBP",
    "the company's base currency; records in other currencies are refused",
)


class Sage50Writer(AccountingWriter):
    """The audit-trail transaction import: one row per line, the type (SI/SC, PI/PC, BR/BP,
    JD/JC) from the kind and the amount's sign, amounts positive, DD/MM/YYYY."""

    stem = "sage50"
    header = SAGE50_COLUMNS

    def __init__(self, ctx: WriteContext) -> None:
        k = ctx.kind.name
        o = ctx.options
        self.amount = AMOUNT.get(k, "amount")
        self.document = k in ("invoice", "bill")
        self.derive = self.document and o["account_ref"] == "derive"
        self.bank = o["bank"]
        self.noun = k
        limits = {"number": 30, "reference": 30, "account_code": 8}
        needs: tuple[str, ...] = ("date", self.amount, "currency")
        names: tuple[str, ...] = ("account_code",)
        if self.document:
            needs += ("number", "contact", "account_code")
            names += () if self.derive else ("contact",)
            limits |= {} if self.derive else {"contact": 8}
            self.same_in_document = ("contact", "date", "currency")
        elif k == "journal":
            needs += ("number", "account_code")
            self.same_in_document = ("date", "currency")
        else:
            limits = {"reference": 30, "check_number": 30}
            names = ()
            if not self.bank:
                needs += ("account",)
                names = ("account",)
                limits["account"] = 8
        self.needs, self.names, self.text_limits = needs, names, limits
        for opt in ("bank", "nominal"):
            if len(o[opt]) > 8 or re.search(r"\s", o[opt]) or (opt == "nominal" and not o[opt]):
                raise TargetError(
                    f"option {opt} of sage50 must be a Sage nominal code: 1 to 8 characters, "
                    "no spaces",
                    where=f"-O sage50.{opt}={o[opt]}",
                    hint="for example -O sage50.bank=1200 or -O sage50.nominal=9999",
                    code="option-invalid",
                )
        super().__init__(ctx)
        self.tax = code_map(o["tax_codes"], "tax_codes", self.system)
        self.refs: dict[str, str] = {}  # derived account reference → the contact it stands for

    # -- what goes in the cells -----------------------------------------------------------------
    def account_refs(self, records: pa.Table) -> pa.Array:
        if self.document:
            contact = fmt.text(records, "contact", guard=False)
            return pa.array([derive(c) for c in contact.to_pylist()]) if self.derive else contact
        if self.kind.name == "journal":
            return pa.nulls(records.num_rows, pa.string())
        if self.bank:
            return pa.array([self.bank] * records.num_rows, pa.string())
        return fmt.text(records, "account", guard=False)

    def details(self, records: pa.Table) -> pa.Array:
        text = fmt.text(records, "description", guard=False)
        if self.kind.name == "journal":
            narration = fmt.text(records, "narration", guard=False)
            text = pc.if_else(pc.equal(text, ""), narration, text)
        return text

    def tax_codes(self, records: pa.Table) -> pa.Array:
        if self.kind.name == "transaction":
            return pa.array(["T9"] * records.num_rows, pa.string())
        codes = translate(fmt.text(records, "tax_type", guard=False), self.tax)
        if self.kind.name == "journal":  # outside the scope of VAT unless stated
            return pc.if_else(pc.equal(codes, ""), "T9", codes)
        return codes

    # -- rules ----------------------------------------------------------------------------------
    def problems(self, records: pa.Table, docs: npt.NDArray[np.int64]) -> list[Problem]:
        out = super().problems(records, docs)
        net = np.asarray(pc.fill_null(fmt.column(records, self.amount), 0), dtype=np.int64)
        tax = np.zeros_like(net)
        if self.document:
            tax = np.asarray(pc.fill_null(fmt.column(records, "tax_amount"), 0), dtype=np.int64)
        cap = 10 ** (8 + fmt.exponents(records))  # 8 digits before the point [C]
        codes = self.tax_codes(records).to_pylist()
        bad_code = np.array([bool(c) and not TAX_CODE.match(c) for c in codes], dtype=bool)
        currency = pc.fill_null(fmt.column(records, "currency"), "")
        out += [
            Problem(
                as_mask(pc.not_equal(currency, self.options["currency"])),
                "currency",
                "foreign-currency",
                f"Sage 50 imports in the company's base currency ({self.options['currency']}; "
                "-O sage50.currency=EUR for an Irish company); a foreign-currency record "
                "needs an exchange rate csvbridge has not got",
            ),
            Problem(
                (np.abs(net) >= cap) | (np.abs(tax) >= cap),
                self.amount,
                "amount-too-large",
                "Sage 50 takes at most 8 digits before the decimal point",
            ),
            Problem(
                bad_code,
                "tax_type",
                "tax-code",
                "Sage 50 tax codes are T0 to T99; translate the source's tax names with "
                "-O 'sage50.tax_codes=20% (VAT on Income)=T1;No VAT=T9'",
            ),
            Problem(
                np.array([not c for c in codes], dtype=bool) & (tax != 0),
                "tax_type",
                "tax-code",
                "the line has tax but no tax code, and Sage 50 would take it as T0 (zero rate)",
            ),
            Problem(
                ((tax < 0) & (net >= 0)) | ((tax > 0) & (net < 0)),
                "tax_amount",
                "tax-sign",
                "tax_amount and the line amount have opposite signs; Sage 50 takes both "
                "positive, with the type (e.g. SI or SC) carrying the direction",
            ),
            Problem(
                self._details_too_long(records),
                "description",
                "text-too-long",
                "longer than the 60 characters Sage 50 takes in Details; shorten it in the source",
            ),
        ]
        if self.kind.name == "journal":
            out += unbalanced(records, docs, self.system)
        refs = self.account_refs(records)
        if not self.derive and self.kind.name != "journal":
            out.append(
                Problem(
                    as_mask(pc.match_substring_regex(refs, r"\s")),
                    "contact" if self.document else "account",
                    "account-ref-format",
                    "a Sage 50 account reference has no spaces (at most 8 letters and "
                    "digits); map the contact's Sage reference (or -O sage50.account_ref=derive)",
                )
            )
        return out

    def _details_too_long(self, records: pa.Table) -> npt.NDArray[np.bool_]:
        return as_mask(pc.greater(pc.utf8_length(self.details(records)), 60))

    def check(self, records: pa.Table) -> pa.Table:
        records = super().check(records)
        if not self.derive or not records.num_rows:
            return records
        refs = self.account_refs(records).to_pylist()
        contacts = fmt.column(records, "contact").to_pylist()
        clash = np.zeros(records.num_rows, dtype=bool)
        for i, (ref, contact) in enumerate(zip(refs, contacts, strict=True)):
            clash[i] = not ref or self.refs.setdefault(ref, contact) != contact
        problem = Problem(
            clash,
            "contact",
            "account-ref-clash",
            "the account reference derived from this contact is empty or the same as another "
            "contact's; give contacts Sage references in the source (-O sage50.account_ref="
            "contact)",
        )
        docs = document_ids(records, self.kind.document_key)
        return records.filter(pa.array(self.refuse(records, docs, [problem])))

    def cells(self, records: pa.Table) -> list[pa.Array]:
        g = self.guard
        amount = pc.fill_null(fmt.column(records, self.amount), 0)
        plus, minus = TYPES[self.kind.name]
        none = pa.nulls(records.num_rows, pa.string())
        details = self.details(records)
        zero = format_minor(
            pa.array(np.zeros(records.num_rows, dtype=np.int64)), fmt.exponents(records)
        )
        if self.document:
            reference, extra = fmt.text(records, "number", guard=g), "reference"
            tax = pc.if_else(
                blank_array(records, "tax_amount"), zero, money_abs(records, "tax_amount")
            )
        else:
            reference = fmt.text(
                records, "number" if self.kind.name == "journal" else "reference", guard=g
            )
            extra = "reference" if self.kind.name == "journal" else "check_number"
            tax = zero
        if self.kind.name == "transaction":
            nominal = pa.array([self.options["nominal"]] * records.num_rows, pa.string())
        else:
            nominal = fmt.text(records, "account_code", guard=False)
        return [
            pc.if_else(pc.less(amount, 0), minus, plus),
            self.account_refs(records),
            nominal,
            none,
            fmt.date(records, "date", "dmy"),
            reference,
            guard_formula(details) if g else details,
            money_abs(records, self.amount),
            self.tax_codes(records),
            tax,
            none,
            fmt.text(records, extra, guard=g),
            none,
            none,
            none,
        ]


def blank_array(records: pa.Table, name: str) -> pa.Array:
    return pa.array(blank(records, name))


def derive(contact: str | None) -> str:
    """Sage's rule for a new record's reference: letters and digits, upper case, first 8."""
    return re.sub(r"[^0-9A-Za-z]", "", contact or "").upper()[:8]


# -- the targets ------------------------------------------------------------------------------
TARGETS = [
    Target(
        name="sage50",
        kinds=("invoice", "bill", "transaction", "journal"),
        title="Sage 50 Accounts (UK/IE) audit-trail transactions (CSV)",
        doc="File → Import → Audit trail transactions. Columns A-O in Sage's order, one row "
        "per line. Type from the kind and the sign: invoices SI (SC below zero), bills PI "
        "(PC), bank transactions BR (BP for money out), journals JD (JC for credits); every "
        "amount positive. Dates DD/MM/YYYY. Invoice and bill lines share account, date and "
        "reference (the number), so Sage groups them. CRLF.",
        columns=SAGE50_COLUMNS,
        required=("date", "amount or line_amount", "currency"),
        limits="none known; one file",
        factory=Sage50Writer,
        family="sage",
        options=(
            ACCOUNT_REF,
            tax_codes_option("'20% (VAT on Income)=T1;No VAT=T9'"),
            BANK,
            NOMINAL,
            CURRENCY,
            HEADER,
            ENCODING,
            FORMULA_GUARD,
        ),
        notes=(
            "Sign [U]: Sage's docs do not say whether Net Amount may be negative, so amounts "
            "are written positive and the type carries the direction (a negative invoice "
            "line becomes an SC line, a credit posting a JC line).",
            "Header row [U]: on by default, so a mismatch fails loudly on record 1 instead of "
            "silently skipping the first transaction; -O sage50.header=off for a bare file.",
            "Encoding [R/U]: Windows-1252 by default; text it cannot hold is refused.",
            "Account References, nominal codes, customers and suppliers must already exist in "
            "Sage; keep leading zeros (don't round-trip the file through Excel) [C].",
            "Bank payments and receipts post against the nominal option (9999 suspense) from "
            "the bank option's account (or the record's account field); reallocate in Sage. "
            "Sage cannot import SR/PP or foreign bank transactions [C].",
            "Refused: references over 30 characters, Details over 60, codes over 8 [C]; "
            "amounts of 9 or more digits before the point; tax codes not T0-T99; foreign "
            "currencies; an unbalanced journal or one spread over several dates [C].",
        ),
    ),
]
