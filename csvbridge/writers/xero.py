"""Xero CSV imports (formats.md §4.1, 4.2, 4.4): sales invoices, bills and manual journals
(contacts are in xero_contacts.py). Xero finds columns by header name; dates follow the
organisation's region."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from . import format as fmt
from .accounting import DATE_ORDER, AccountingWriter, bom_option, tax_codes_option
from .base import Option, Target, WriteContext, guard_formula
from .checks import (
    Problem,
    blank,
    code_map,
    document_ids,
    document_sums,
    starts_of,
    translate,
    unbalanced,
)
from .generic import FORMULA_GUARD
from .prices import fixed_decimal_column, line_prices_columns

BOM = bom_option("off", "Xero reportedly strips one, so none is needed")
TAX_CODES = tax_codes_option("'T1=20% (VAT on Income)'")
PO_ADDRESS = tuple(
    f"PO{p}" for p in ("AddressLine1", "AddressLine2", "AddressLine3", "AddressLine4")
)
PO_ADDRESS += ("POCity", "PORegion", "POPostalCode", "POCountry")
_TRACKING = ("TrackingName1", "TrackingOption1", "TrackingName2", "TrackingOption2")

INVOICE_COLUMNS = (
    "*ContactName",
    "EmailAddress",
    *PO_ADDRESS,
    "*InvoiceNumber",
    "Reference",
    "*InvoiceDate",
    "*DueDate",
    "InventoryItemCode",
    "*Description",
    "*Quantity",
    "*UnitAmount",
    "Discount",
    "*AccountCode",
    "*TaxType",
    *_TRACKING,
    "Currency",
    "BrandingTheme",
)
BILL_COLUMNS = (
    "*ContactName",
    "EmailAddress",
    *PO_ADDRESS,
    "*InvoiceNumber",
    "*InvoiceDate",
    "*DueDate",
    "Total",
    "InventoryItemCode",
    "Description",
    "*Quantity",
    "*UnitAmount",
    "*AccountCode",
    "*TaxType",
    "TaxAmount",
    *_TRACKING,
    "Currency",
)
NEGATIVE = Option(
    "negative_totals",
    ("refuse", "allow"),
    "refuse",
    "a document whose lines sum below zero: refuse it (import credit notes separately), or "
    "write it and let Xero decide",
    confidence="U",
)


def by_header(header: tuple[str, ...], values: dict[str, pa.Array], n: int) -> list[pa.Array]:
    """The cells in header order; columns without a value are blank."""
    none = pa.nulls(n, pa.string())
    return [values.get(h, none) for h in header]


class XeroInvoiceWriter(AccountingWriter):
    """Sales invoices: one row per line, the invoice's fields repeated; Quantity × UnitAmount
    must give the line amount exactly, because Xero computes the line from them."""

    stem = "xero-invoices"
    header = INVOICE_COLUMNS
    noun = "invoice"
    needs = ("number", "contact", "date", "due_date", "currency", "line_amount", "tax_type")
    names = ("number", "contact", "item_code", "account_code", "tax_type")
    same_in_document = ("contact", "date", "due_date", "currency")
    max_rows = 500  # 500 invoices per file [C-ish]; some count lines [R]: 500 lines holds both
    max_docs = 500

    def __init__(self, ctx: WriteContext) -> None:
        super().__init__(ctx)
        self.tax = code_map(self.options["tax_codes"], "tax_codes", self.system)

    def problems(self, records: pa.Table, docs: npt.NDArray[np.int64]) -> list[Problem]:
        out = super().problems(records, docs)
        out.append(
            Problem(
                blank(records, "account_code") & blank(records, "item_code"),
                "account_code",
                "target-required",
                f"{self.system} needs an account code on every line (or an item code whose "
                "item has an account); map account_code",
            )
        )
        _, _, wrong = line_prices_columns(records)
        out.append(
            Problem(
                wrong,
                "line_amount",
                "amount-not-quantity-times-price",
                "Xero computes each line as Quantity × UnitAmount (rounded to the currency's "
                "decimals), and that is not line_amount here (or no exact unit price gives "
                "it); the total in Xero would differ. Fix quantity, unit_price or line_amount",
            )
        )
        if self.options["negative_totals"] == "refuse":
            sums = document_sums(records, docs, "line_amount")
            numbers = fmt.column(records, "number").to_pylist()
            starts = starts_of(docs)
            for d in np.flatnonzero(sums < 0):
                out.append(
                    Problem(
                        docs == d,
                        "line_amount",
                        "negative-total",
                        f"{self.noun} {numbers[starts[d]]} totals below zero; whether Xero "
                        "takes it as a credit note is unconfirmed, so it is refused. Import "
                        "credit notes separately (or -O negative_totals=allow)",
                    )
                )
        return out

    def values(self, records: pa.Table) -> dict[str, pa.Array]:
        """Cells by header name."""
        g = self.guard
        quantity, price, _ = line_prices_columns(records)
        return {
            "*ContactName": fmt.text(records, "contact", guard=False),
            "EmailAddress": fmt.text(records, "email", guard=g),
            "*InvoiceNumber": fmt.text(records, "number", guard=False),
            "Reference": fmt.text(records, "reference", guard=g),
            "*InvoiceDate": fmt.date(records, "date", self.options["date_order"]),
            "*DueDate": fmt.date(records, "due_date", self.options["date_order"]),
            "InventoryItemCode": fmt.text(records, "item_code", guard=False),
            "*Description": fmt.text(records, "description", guard=g),
            "Description": fmt.text(records, "description", guard=g),
            "*Quantity": quantity,
            "*UnitAmount": fixed_decimal_column(price, fmt.exponents(records)),
            "*AccountCode": fmt.text(records, "account_code", guard=False),
            "*TaxType": translate(fmt.text(records, "tax_type", guard=False), self.tax),
            "Currency": fmt.column(records, "currency"),
        }

    def cells(self, records: pa.Table) -> list[pa.Array]:
        return by_header(self.header, self.values(records), records.num_rows)


class XeroBillWriter(XeroInvoiceWriter):
    """Bills: the purchase template (no Reference column; Total and TaxAmount left for Xero
    to compute)."""

    stem = "xero-bills"
    header = BILL_COLUMNS
    noun = "bill"


# -- manual journals --------------------------------------------------------------------------
JOURNAL_COLUMNS = (
    "*Narration",
    "*Date",
    "Description",
    "*AccountCode",
    "*TaxRate",
    "*Amount",
    *_TRACKING,
)
NARRATION = Option(
    "narration",
    ("numbered", "as-is"),
    "numbered",
    "Xero makes one journal of the rows sharing Narration and Date: numbered writes "
    "'narration (number)', which keeps every journal apart and traceable; as-is writes the "
    "narration alone and refuses a journal that would merge with an earlier one",
)


class XeroJournalWriter(AccountingWriter):
    """Manual journals: amount > 0 debit, < 0 credit, each journal netting to zero; at most
    300 lines per file, a journal never split."""

    stem = "xero-journals"
    header = JOURNAL_COLUMNS
    noun = "journal"
    needs = ("number", "date", "account_code", "amount", "currency", "tax_type")
    names = ("account_code", "tax_type")
    same_in_document = ("date", "currency", "narration")
    max_rows = 300  # [C]

    def __init__(self, ctx: WriteContext) -> None:
        super().__init__(ctx)
        self.tax = code_map(self.options["tax_codes"], "tax_codes", self.system)
        self.journals: dict[tuple[str, str], str] = {}  # (narration, date) → journal number

    def problems(self, records: pa.Table, docs: npt.NDArray[np.int64]) -> list[Problem]:
        return super().problems(records, docs) + unbalanced(records, docs, self.system)

    def narrations(self, records: pa.Table) -> pa.Array:
        """What Xero groups by, with the date."""
        narr = fmt.text(records, "narration", guard=False)
        number = fmt.text(records, "number", guard=False)
        if self.options["narration"] == "numbered":
            both = pc.binary_join_element_wise(narr, " (", number, ")", "")
            return pc.if_else(pc.equal(narr, ""), number, both)
        return pc.if_else(pc.equal(narr, ""), number, narr)

    def check(self, records: pa.Table) -> pa.Table:
        records = super().check(records)
        if not records.num_rows:
            return records
        docs = document_ids(records, "number")
        narr = self.narrations(records).to_pylist()
        dates = pc.cast(fmt.column(records, "date"), pa.string()).to_pylist()
        numbers = fmt.column(records, "number").to_pylist()
        problems = []
        for s in starts_of(docs):
            key, number = (narr[s], dates[s]), numbers[s]
            other = self.journals.setdefault(key, number)
            if other != number:
                problems.append(
                    Problem(
                        docs == docs[s],
                        "narration",
                        "journal-would-merge",
                        f"journal {number} has the same narration and date as journal {other}, "
                        "and Xero would merge them; make the narrations differ (or use "
                        "-O narration=numbered)",
                    )
                )
        return records.filter(pa.array(self.refuse(records, docs, problems)))

    def cells(self, records: pa.Table) -> list[pa.Array]:
        g = self.guard
        narration = self.narrations(records)
        return [
            guard_formula(narration) if g else narration,
            fmt.date(records, "date", self.options["date_order"]),
            fmt.text(records, "description", guard=g),
            fmt.text(records, "account_code", guard=False),
            translate(fmt.text(records, "tax_type", guard=False), self.tax),
            fmt.money(records, "amount"),
            *(pa.nulls(records.num_rows, pa.string()) for _ in _TRACKING),
        ]


# -- the targets ------------------------------------------------------------------------------
ENCODING_DOC = " UTF-8 (no BOM unless -O bom=on), CRLF."
_DATES = (
    "Dates follow the organisation's region: UK/AU/NZ DD/MM/YYYY, US MM/DD/YYYY "
    "(date_order=auto decides from a constant currency: mdy for USD) [R]."
)
NAME_NOTE = (
    "Names and codes that start with = + - @ are refused (with formula_guard=on) rather than "
    "prefixed with ': Xero would import the ' as part of the name."
)
_DOC_NOTES = (
    "ContactName must match an existing contact exactly, or Xero creates a new one [C-ish]; "
    "AccountCode is the code (200), TaxType the org's tax rate name exactly "
    "('20% (VAT on Income)'); translate canonical values with -O tax_codes=... .",
    "Quantity is 1 and UnitAmount the line amount where the source has no quantity or price. "
    "Choose 'tax exclusive' at import when unit prices exclude tax; Xero computes the tax, "
    "so tax_amount is not written.",
    "Refused: a line missing tax_type or account code, quantity × price ≠ line amount, "
    "lines of one document that disagree on contact, dates or currency, and (by default) a "
    "negative total, whose handling is unconfirmed [U].",
    _DATES,
    NAME_NOTE,
)

TARGETS = [
    Target(
        name="xero-invoices",
        kinds=("invoice",),
        title="Xero sales invoices (CSV)",
        doc="Business → Invoices → Import. The 27-column template: one row per line, the "
        "invoice number, contact and dates repeated on each; imported as drafts." + ENCODING_DOC,
        columns=INVOICE_COLUMNS,
        required=XeroInvoiceWriter.needs,
        limits="500 invoices and 500 lines per file [C-ish/R]; larger outputs are split into "
        "xero-invoices-001.csv, ...; an invoice is never split across files",
        factory=XeroInvoiceWriter,
        family="xero",
        options=(DATE_ORDER, TAX_CODES, NEGATIVE, BOM, FORMULA_GUARD),
        notes=(*_DOC_NOTES, "InvoiceNumber must be unique in the organisation."),
    ),
    Target(
        name="xero-bills",
        kinds=("bill",),
        title="Xero bills (CSV)",
        doc="Business → Bills → Import. The purchase template as seen in public code [R/U]: "
        "one row per line; Total and TaxAmount left blank for Xero to compute; there is no "
        "Reference column, so the canonical reference is not written." + ENCODING_DOC,
        columns=BILL_COLUMNS,
        required=XeroBillWriter.needs,
        limits="500 bills and 500 lines per file; larger outputs are split into "
        "xero-bills-001.csv, ...; a bill is never split across files",
        factory=XeroBillWriter,
        family="xero",
        options=(DATE_ORDER, TAX_CODES, NEGATIVE, BOM, FORMULA_GUARD),
        notes=(
            *_DOC_NOTES,
            "Bill numbers repeat across suppliers; csvbridge groups lines by number, so two "
            "suppliers' bills with one number are refused as disagreeing on contact.",
        ),
    ),
    Target(
        name="xero-journals",
        kinds=("journal",),
        title="Xero manual journals (CSV)",
        doc="Accounting → Manual journals → Import (Adviser role). One row per line: amount "
        "> 0 debit, < 0 credit; rows sharing Narration and Date form one journal, which must "
        "net to zero. Imported as drafts." + ENCODING_DOC,
        columns=JOURNAL_COLUMNS,
        required=XeroJournalWriter.needs,
        limits="300 lines per file [C]; larger outputs are split into xero-journals-001.csv, "
        "...; a journal is never split across files (one over 300 lines is refused)",
        factory=XeroJournalWriter,
        family="xero",
        options=(DATE_ORDER, NARRATION, TAX_CODES, BOM, FORMULA_GUARD),
        notes=(
            "Every line needs a tax rate name as the org shows it (No VAT, Tax Exempt, BAS "
            "Excluded ...) [C]: map tax_type, or translate with -O tax_codes=... .",
            "Refused: a journal that does not net to zero, whose lines disagree on date, "
            "currency or narration, or (narration=as-is) that would merge with another.",
            _DATES,
            NAME_NOTE,
        ),
    ),
]
