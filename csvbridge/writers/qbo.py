"""QuickBooks Online 'Import data' files (formats.md §1.2, §1.4-1.7): invoices and journal
entries, and what every QBO writer shares (customers, vendors, accounts and items are in
qbo_lists.py)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from . import format as fmt
from .accounting import DATE_ORDER, AccountingWriter, bom_option, tax_codes_option
from .base import Target, WriteContext
from .checks import (
    Problem,
    as_mask,
    blank,
    code_map,
    money_abs,
    translate,
    unbalanced,
)
from .generic import FORMULA_GUARD
from .prices import fixed_decimal_column, line_prices_columns

ROWS = 999  # 1,000 rows per Import-data file, header included [R]
BYTES = 2_000_000  # 2 MB per file [R]
BOM = bom_option(
    "auto", "QBO's Import data reportedly garbles non-ASCII text (an en dash) without one"
)
NAME_CHARS = r'[\t\r\n:"]'  # not allowed in QBO list names [C]


def blank_column(records: pa.Table) -> pa.Array:
    """An empty cell for every record (a column the target has and csvbridge leaves blank)."""
    return pa.nulls(records.num_rows, pa.string())


class QboWriter(AccountingWriter):
    """QBO Import data: 1,000 rows (header included) and 2 MB per file."""

    max_rows = ROWS
    max_bytes = BYTES

    def name_chars(self, records: pa.Table, name: str, what: str) -> Problem:
        """Names QBO refuses: a tab, line break, colon or double quote [C]."""
        return Problem(
            as_mask(pc.match_substring_regex(fmt.column(records, name), NAME_CHARS)),
            name,
            "name-characters",
            f"{what} may not hold a tab, line break, colon or double quote in QuickBooks Online; "
            "change it in the source",
        )


# -- invoices ---------------------------------------------------------------------------------
INVOICE_COLUMNS = (
    "InvoiceNo",
    "Customer",
    "InvoiceDate",
    "DueDate",
    "Terms",
    "Location",
    "Memo",
    "Item(Product/Service)",
    "ItemDescription",
    "ItemQuantity",
    "ItemRate",
    "ItemAmount",
    "ItemTaxCode",
    "ItemTaxAmount",
    "Currency",
    "Service Date",
)


class QboInvoiceWriter(QboWriter):
    """One row per invoice line, header fields repeated on every line; at most 100 invoices
    per file."""

    stem = "qbo-invoices"
    header = INVOICE_COLUMNS
    noun = "invoice"
    needs = ("number", "contact", "date", "due_date", "currency", "line_amount")
    names = ("number", "contact", "item_code")
    text_limits = {"number": 21, "contact": 100}  # noqa: RUF012
    same_in_document = ("contact", "date", "due_date", "currency")
    max_docs = 100

    def __init__(self, ctx: WriteContext) -> None:
        super().__init__(ctx)
        self.tax = code_map(self.options["tax_codes"], "tax_codes", self.system)

    def problems(self, records: pa.Table, docs: npt.NDArray[np.int64]) -> list[Problem]:
        out = super().problems(records, docs)
        amount = fmt.column(records, "line_amount")
        out.append(
            Problem(
                as_mask(pc.less(amount, 0)),
                "line_amount",
                "negative-line",
                "QuickBooks Online's invoice import does not take negative lines (discounts, "
                "credits) [R]; enter them in QuickBooks, or import credit memos separately",
            )
        )
        _, _, wrong = line_prices_columns(records)
        given = ~blank(records, "quantity") & ~blank(records, "unit_price")
        out.append(
            Problem(
                wrong & given,
                "line_amount",
                "amount-not-quantity-times-price",
                "quantity × unit_price, rounded to the currency's decimals, is not line_amount; "
                "QuickBooks Online would refuse the line or change its amount",
            )
        )
        return out

    def cells(self, records: pa.Table) -> list[pa.Array]:
        g, order = self.guard, self.options["date_order"]
        rate = fixed_decimal_column(fmt.column(records, "unit_price"), fmt.exponents(records))
        return [
            fmt.text(records, "number", guard=False),
            fmt.text(records, "contact", guard=False),
            fmt.date(records, "date", order),
            fmt.date(records, "due_date", order),
            blank_column(records),
            blank_column(records),
            fmt.text(records, "reference", guard=g),
            fmt.text(records, "item_code", guard=False),
            fmt.text(records, "description", guard=g),
            fmt.column(records, "quantity"),
            rate,
            fmt.money(records, "line_amount"),
            translate(fmt.text(records, "tax_type", guard=g), self.tax),
            fmt.money(records, "tax_amount"),
            fmt.column(records, "currency"),
            blank_column(records),
        ]


# -- journal entries --------------------------------------------------------------------------
JOURNAL_COLUMNS = (
    "Journal No",
    "Journal Date",
    "Account Name",
    "Debits",
    "Credits",
    "Description",
    "Name",
    "Currency",
    "Location",
    "Class",
)


class QboJournalWriter(QboWriter):
    """One row per posting: amount > 0 in Debits, < 0 in Credits (positive), the other blank.
    Every entry must balance and sit on one date."""

    stem = "qbo-journals"
    header = JOURNAL_COLUMNS
    noun = "journal"
    needs = ("number", "date", "account_code", "amount", "currency")
    names = ("number", "account_code")
    text_limits = {"number": 21}  # noqa: RUF012
    same_in_document = ("date", "currency")

    def problems(self, records: pa.Table, docs: npt.NDArray[np.int64]) -> list[Problem]:
        return super().problems(records, docs) + unbalanced(records, docs, self.system)

    def cells(self, records: pa.Table) -> list[pa.Array]:
        g = self.guard
        amount = pc.fill_null(fmt.column(records, "amount"), 0)
        size = money_abs(records, "amount")
        empty = pa.scalar("", pa.string())
        line = fmt.text(records, "description", guard=g)
        memo = pc.if_else(
            blank(records, "description"), fmt.text(records, "narration", guard=g), line
        )
        return [
            fmt.text(records, "number", guard=False),
            fmt.date(records, "date", self.options["date_order"]),
            fmt.text(records, "account_code", guard=False),
            pc.if_else(pc.greater(amount, 0), size, empty),
            pc.if_else(pc.less(amount, 0), size, empty),
            memo,
            blank_column(records),
            fmt.column(records, "currency"),
            blank_column(records),
            blank_column(records),
        ]


# -- customers and vendors --------------------------------------------------------------------

IMPORT_DOC = "Settings → Import data → "
LIMITS_DOC = "1,000 rows (header included) and 2 MB per file [R]; larger outputs are split into "
ENCODING_DOC = " UTF-8 (BOM as the bom option says), CRLF."
DATE_NOTE = (
    "QuickBooks reads dates in the company's format: US companies MM/DD/YYYY, others "
    "DD/MM/YYYY (date_order=auto decides from a constant currency: mdy for USD)."
)
BOM_NOTE = (
    "BOM [U]: by default a file starts with a UTF-8 BOM only when it holds non-ASCII text, "
    "as formats.md §0.1 advises for Import data; -O bom=on|off overrides."
)
NAME_NOTE = (
    "Names that start with = + - @ are refused (with formula_guard=on) rather than prefixed "
    "with ': QuickBooks would import the ' as part of the name."
)


TARGETS = [
    Target(
        name="qbo-invoices",
        kinds=("invoice",),
        title="QuickBooks Online invoices (Import data CSV)",
        doc=IMPORT_DOC + "Invoices. One row per line; InvoiceNo, Customer, dates and Memo "
        "(the reference) repeated on every line of an invoice. ItemAmount is the line amount; "
        "ItemRate the exact unit price (at least the currency's decimals)." + ENCODING_DOC,
        columns=INVOICE_COLUMNS,
        required=QboInvoiceWriter.needs,
        limits="100 invoices per import [R], " + LIMITS_DOC + "qbo-invoices-001.csv, ...; an "
        "invoice is never split across files",
        factory=QboInvoiceWriter,
        family="qbo",
        options=(DATE_ORDER, tax_codes_option("'20% (VAT on Income)=20.0% S'"), BOM, FORMULA_GUARD),
        notes=(
            "Customer and Item(Product/Service) must match existing QuickBooks names exactly; "
            "turn on custom transaction numbers, or QuickBooks renumbers the invoices [R].",
            "Refused [R]: negative lines, InvoiceNo over 21 characters, an invoice whose lines "
            "disagree on customer, dates or currency, quantity × rate ≠ amount.",
            DATE_NOTE,
            BOM_NOTE,
            NAME_NOTE,
        ),
    ),
    Target(
        name="qbo-journals",
        kinds=("journal",),
        title="QuickBooks Online journal entries (Import data CSV)",
        doc=IMPORT_DOC + "Journal entries. One row per posting: amount > 0 in Debits, < 0 in "
        "Credits (as a positive number), the other cell blank. Description is the line "
        "description, or the narration." + ENCODING_DOC,
        columns=JOURNAL_COLUMNS,
        required=QboJournalWriter.needs,
        limits=LIMITS_DOC + "qbo-journals-001.csv, ...; an entry is never split across files",
        factory=QboJournalWriter,
        family="qbo",
        options=(DATE_ORDER, BOM, FORMULA_GUARD),
        notes=(
            "Account Name must be the exact QuickBooks account name (Parent:Sub for a "
            "sub-account), and account numbers must be turned off during the import [C].",
            "Name (the customer or vendor) is required on A/R and A/P lines [C] and has no "
            "canonical field: fill it in before importing such entries.",
            "Refused: an entry that does not balance, or whose lines disagree on date or "
            "currency; Journal No over 21 characters [R].",
            DATE_NOTE,
            BOM_NOTE,
        ),
    ),
]
