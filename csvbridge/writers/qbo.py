"""QuickBooks Online 'Import data' files (formats.md §1.2, §1.4-1.7): invoices, journal
entries, customers, vendors, the chart of accounts, and products & services."""

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
    as_mask,
    blank,
    code_map,
    fixed_decimal,
    invalid_email,
    line_prices,
    money_abs,
    phone,
    translate,
    unbalanced,
    wrong_side,
)
from .generic import FORMULA_GUARD

ROWS = 999  # 1,000 rows per Import-data file, header included [R]
BYTES = 2_000_000  # 2 MB per file [R]
BOM = bom_option(
    "auto", "QBO's Import data reportedly garbles non-ASCII text (an en dash) without one"
)
NAME_CHARS = r'[\t\r\n:"]'  # not allowed in QBO list names [C]


def _none(records: pa.Table) -> pa.Array:
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
        _, _, wrong = line_prices(records)
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
        rate = fixed_decimal(fmt.column(records, "unit_price").to_pylist(), fmt.exponents(records))
        return [
            fmt.text(records, "number", guard=False),
            fmt.text(records, "contact", guard=False),
            fmt.date(records, "date", order),
            fmt.date(records, "due_date", order),
            _none(records),
            _none(records),
            fmt.text(records, "reference", guard=g),
            fmt.text(records, "item_code", guard=False),
            fmt.text(records, "description", guard=g),
            fmt.column(records, "quantity"),
            rate,
            fmt.money(records, "line_amount"),
            translate(fmt.text(records, "tax_type", guard=g), self.tax),
            fmt.money(records, "tax_amount"),
            fmt.column(records, "currency"),
            _none(records),
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
            _none(records),
            fmt.column(records, "currency"),
            _none(records),
            _none(records),
        ]


# -- customers and vendors --------------------------------------------------------------------
CONTACT_LIMITS = {  # characters, from Intuit's contact field rules [C]
    "name": 100,
    "company": 50,
    "email": 100,
    "phone": 21,
    "city": 255,
    "region": 255,
    "postal_code": 30,
    "country": 255,
}


class QboContactWriter(QboWriter):
    """Customers (or vendors): Name, Company, Email, Phone, Street, City, State, ZIP,
    Country; names unique, without tab, line break, colon or double quote."""

    stem = "qbo-customers"
    header: tuple[str, ...] = (
        "Name",
        "Company",
        "Email",
        "Phone",
        "Street",
        "City",
        "State",
        "ZIP",
        "Country",
    )
    noun = "customer"
    other = "qbo-vendors"
    needs = ("name",)
    names = ("name",)
    unique = ("name",)
    text_limits = CONTACT_LIMITS

    def problems(self, records: pa.Table, docs: npt.NDArray[np.int64]) -> list[Problem]:
        street = pc.utf8_length(self.street(records))
        return [
            *super().problems(records, docs),
            self.name_chars(records, "name", "a name"),
            Problem(
                invalid_email(records),
                "email",
                "email-invalid",
                "not an email address QuickBooks Online accepts (one @, a dot, no spaces)",
            ),
            Problem(
                as_mask(pc.greater(street, 2000)),
                "address_line1",
                "text-too-long",
                "the street address (both lines) is longer than the 2000 characters "
                "QuickBooks Online accepts; shorten it in the source",
            ),
            wrong_side(records, self.noun, self.system, self.other),
        ]

    def street(self, records: pa.Table) -> pa.Array:
        one = fmt.text(records, "address_line1", guard=False)
        two = fmt.text(records, "address_line2", guard=False)
        both = pc.binary_join_element_wise(one, two, ", ")
        return pc.if_else(pc.equal(two, ""), one, pc.if_else(pc.equal(one, ""), two, both))

    def cells(self, records: pa.Table) -> list[pa.Array]:
        g = self.guard
        street = self.street(records)
        return [
            fmt.text(records, "name", guard=False),
            fmt.text(records, "company", guard=g),
            fmt.text(records, "email", guard=g),
            phone(records, "phone", guard=g),
            guard_formula(street) if g else street,
            *(fmt.text(records, f, guard=g) for f in ("city", "region", "postal_code", "country")),
        ]


class QboVendorWriter(QboContactWriter):
    """Vendors: the customer columns plus Tax ID (≤ 20 characters)."""

    stem = "qbo-vendors"
    header = (*QboContactWriter.header, "Tax ID")
    noun = "supplier"
    other = "qbo-customers"
    text_limits = {**CONTACT_LIMITS, "tax_number": 20}  # noqa: RUF012

    def problems(self, records: pa.Table, docs: npt.NDArray[np.int64]) -> list[Problem]:
        kind = pc.utf8_lower(pc.utf8_trim_whitespace(pc.fill_null(fmt.column(records, "type"), "")))
        return [
            *super().problems(records, docs),
            Problem(
                as_mask(pc.equal(kind, "both")),
                "type",
                "name-in-both-lists",
                "this contact is a customer too, and QuickBooks Online names are unique across "
                "customers and vendors [C]: import it with qbo-customers, and add the vendor "
                "under another name (e.g. with ' (supplier)') in the source",
            ),
        ]

    def cells(self, records: pa.Table) -> list[pa.Array]:
        return [*super().cells(records), fmt.text(records, "tax_number", guard=self.guard)]


# -- chart of accounts ------------------------------------------------------------------------
SUBACCOUNTS = Option(
    "subaccounts",
    ("flat", "colon"),
    "flat",
    "flat = every account under its own name (make sub-accounts sub-accounts in QuickBooks "
    "after the import); colon = sub-accounts named Parent:Sub, parents first",
    confidence="U",
)


class QboAccountWriter(QboWriter):
    """Account Number, Account Name, Type, Detail Type (left blank: QuickBooks assigns its
    default). Numbers without a decimal point; names without a colon."""

    stem = "qbo-accounts"
    header = ("Account Number", "Account Name", "Type", "Detail Type")
    noun = "account"
    needs = ("code", "name", "type")
    names = ("code", "name")
    text_limits = {"name": 100}  # noqa: RUF012

    def __init__(self, ctx: WriteContext) -> None:
        self.colon = ctx.options["subaccounts"] == "colon"
        self.unique = ("code",) if self.colon else ("code", "name")
        super().__init__(ctx)
        self.full: dict[str, str] = {}  # code → the name written (Parent:Sub in colon mode)

    def problems(self, records: pa.Table, docs: npt.NDArray[np.int64]) -> list[Problem]:
        code = fmt.column(records, "code")
        name = fmt.column(records, "name")
        return [
            *super().problems(records, docs),
            Problem(
                as_mask(pc.match_substring(code, ".")),
                "code",
                "account-number-decimal",
                "QuickBooks Online account numbers may not hold a decimal point",
            ),
            Problem(
                as_mask(pc.match_substring(name, ":")),
                "name",
                "name-characters",
                "a colon makes QuickBooks Online read the name as Parent:Sub; change it in "
                "the source (sub-accounts: give parent, and -O subaccounts=colon)",
            ),
        ]

    def check(self, records: pa.Table) -> pa.Table:
        records = super().check(records)
        codes = fmt.column(records, "code").to_pylist()
        names = fmt.column(records, "name").to_pylist()
        parents = fmt.column(records, "parent").to_pylist()
        orphan = np.zeros(records.num_rows, dtype=bool)
        for i, (code, name, parent) in enumerate(zip(codes, names, parents, strict=True)):
            if not self.colon or not parent:
                self.full[code] = name
            elif parent in self.full:
                self.full[code] = f"{self.full[parent]}:{name}"
            else:
                orphan[i] = True
        problem = Problem(
            orphan,
            "parent",
            "parent-unknown",
            "the parent account is not among the accounts written before this one; with "
            "-O subaccounts=colon every parent must come first in the input",
        )
        keep = self.refuse(records, np.arange(records.num_rows), [problem])
        return records.filter(pa.array(keep))

    def cells(self, records: pa.Table) -> list[pa.Array]:
        codes = fmt.column(records, "code").to_pylist()
        return [
            fmt.text(records, "code", guard=False),
            pa.array([self.full[c] for c in codes], pa.string()),
            fmt.text(records, "type", guard=self.guard),
            _none(records),
        ]


# -- products and services --------------------------------------------------------------------
ITEM_TYPE = Option(
    "item_type",
    ("service", "non-inventory"),
    "service",
    "the QuickBooks product type of every item (inventory items need stock figures the "
    "canonical item has not got)",
)
NAME_FROM = Option(
    "name_from",
    ("name", "code"),
    "name",
    "which canonical field becomes the product's Name; QuickBooks invoices find products by "
    "Name, so use code when your invoices carry item codes",
)
PRICE = r"^-?[0-9]{1,11}(\.[0-9]{1,7})?$"  # ≤ 11 digits before the point, ≤ 7 after [C]


class QboItemWriter(QboWriter):
    """Name, SKU, Type, Sales Description, Sales Price/Rate, Income Account."""

    stem = "qbo-items"
    header = ("Name", "SKU", "Type", "Sales Description", "Sales Price/Rate", "Income Account")
    noun = "item"
    text_limits = {"name": 100, "code": 100, "description": 4000}  # noqa: RUF012

    def __init__(self, ctx: WriteContext) -> None:
        self.key = ctx.options["name_from"]
        self.needs = (self.key,)
        self.names = (self.key, "income_account")
        self.unique = (self.key,)
        super().__init__(ctx)

    def problems(self, records: pa.Table, docs: npt.NDArray[np.int64]) -> list[Problem]:
        price = pc.fill_null(fmt.column(records, "sale_price"), "")
        wrong = pc.invert(pc.match_substring_regex(price, PRICE))
        return [
            *super().problems(records, docs),
            self.name_chars(records, self.key, "a product name"),
            Problem(
                as_mask(wrong) & ~blank(records, "sale_price"),
                "sale_price",
                "price-digits",
                "QuickBooks Online takes at most 11 digits before the point and 7 after in "
                "Sales Price/Rate",
            ),
        ]

    def cells(self, records: pa.Table) -> list[pa.Array]:
        g = self.guard
        kind = {"service": "Service", "non-inventory": "Non-inventory"}[self.options["item_type"]]
        prices = fmt.column(records, "sale_price").to_pylist()
        return [
            fmt.text(records, self.key, guard=False),
            fmt.text(records, "code", guard=g),
            pa.array([kind] * records.num_rows, pa.string()),
            fmt.text(records, "description", guard=g),
            fixed_decimal(prices, np.full(records.num_rows, 2, dtype=np.int64)),
            fmt.text(records, "income_account", guard=False),
        ]


# -- the targets ------------------------------------------------------------------------------
_IMPORT = "Settings → Import data → "
_LIMITS = "1,000 rows (header included) and 2 MB per file [R]; larger outputs are split into "
_ENC = " UTF-8 (BOM as the bom option says), CRLF."
_DATE_NOTE = (
    "QuickBooks reads dates in the company's format: US companies MM/DD/YYYY, others "
    "DD/MM/YYYY (date_order=auto decides from a constant currency: mdy for USD)."
)
_BOM_NOTE = (
    "BOM [U]: by default a file starts with a UTF-8 BOM only when it holds non-ASCII text, "
    "as formats.md §0.1 advises for Import data; -O bom=on|off overrides."
)
_NAME_NOTE = (
    "Names that start with = + - @ are refused (with formula_guard=on) rather than prefixed "
    "with ': QuickBooks would import the ' as part of the name."
)

TARGETS = [
    Target(
        name="qbo-invoices",
        kinds=("invoice",),
        title="QuickBooks Online invoices (Import data CSV)",
        doc=_IMPORT + "Invoices. One row per line; InvoiceNo, Customer, dates and Memo "
        "(the reference) repeated on every line of an invoice. ItemAmount is the line amount; "
        "ItemRate the exact unit price (at least the currency's decimals)." + _ENC,
        columns=INVOICE_COLUMNS,
        required=QboInvoiceWriter.needs,
        limits="100 invoices per import [R], " + _LIMITS + "qbo-invoices-001.csv, ...; an "
        "invoice is never split across files",
        factory=QboInvoiceWriter,
        family="qbo",
        options=(DATE_ORDER, tax_codes_option("'20% (VAT on Income)=20.0% S'"), BOM, FORMULA_GUARD),
        notes=(
            "Customer and Item(Product/Service) must match existing QuickBooks names exactly; "
            "turn on custom transaction numbers, or QuickBooks renumbers the invoices [R].",
            "Refused [R]: negative lines, InvoiceNo over 21 characters, an invoice whose lines "
            "disagree on customer, dates or currency, quantity × rate ≠ amount.",
            _DATE_NOTE,
            _BOM_NOTE,
            _NAME_NOTE,
        ),
    ),
    Target(
        name="qbo-journals",
        kinds=("journal",),
        title="QuickBooks Online journal entries (Import data CSV)",
        doc=_IMPORT + "Journal entries. One row per posting: amount > 0 in Debits, < 0 in "
        "Credits (as a positive number), the other cell blank. Description is the line "
        "description, or the narration." + _ENC,
        columns=JOURNAL_COLUMNS,
        required=QboJournalWriter.needs,
        limits=_LIMITS + "qbo-journals-001.csv, ...; an entry is never split across files",
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
            _DATE_NOTE,
            _BOM_NOTE,
        ),
    ),
    *(
        Target(
            name=w.stem,
            kinds=("contact",),
            title=f"QuickBooks Online {w.stem[4:]} (Import data CSV)",
            doc=_IMPORT + f"{w.stem[4:].title()}. " + ", ".join(w.header) + ". Street joins "
            "both address lines." + _ENC,
            columns=w.header,
            required=("name",),
            limits=_LIMITS + f"{w.stem}-001.csv, ...",
            factory=w,
            family="qbo",
            options=(BOM, FORMULA_GUARD),
            notes=(
                "Refused [C]: a name over 100 characters, holding a tab, line break, colon or "
                "double quote, or repeating an earlier one (names are unique across "
                "customers, vendors and employees); an email without @ and a dot; fields "
                "over Intuit's lengths (Company 50, Phone 21, ZIP 30, Tax ID 20 ...).",
                f"A contact whose type is the other side is refused; use {w.other} for it."
                + (" One typed 'both' goes to qbo-customers only." if w.noun == "supplier" else ""),
                "Not chosen by --to qbo (customers or vendors: name the target).",
                _BOM_NOTE,
                _NAME_NOTE,
            ),
        )
        for w in (QboContactWriter, QboVendorWriter)
    ),
    Target(
        name="qbo-accounts",
        kinds=("account",),
        title="QuickBooks Online chart of accounts (Import data CSV)",
        doc=_IMPORT + "Chart of accounts. Account Number, Account Name, Type, Detail Type." + _ENC,
        columns=QboAccountWriter.header,
        required=QboAccountWriter.needs,
        limits=_LIMITS + "qbo-accounts-001.csv, ...",
        factory=QboAccountWriter,
        family="qbo",
        options=(SUBACCOUNTS, BOM, FORMULA_GUARD),
        notes=(
            "Type must match QuickBooks' account types exactly (Bank, Expenses, ...) [C]: map "
            "your source's types to them in the mapping. Detail Type has no canonical field "
            "and is left blank: QuickBooks assigns the type's default [R]; change it on the "
            "review screen.",
            "Sub-accounts [U]: Intuit's current article allows Parent:Sub names, an older one "
            "forbids colons. The default (subaccounts=flat) imports every account flat.",
            "Refused: account numbers with a decimal point, names with a colon or over 100 "
            "characters, repeated numbers (and names, when flat). The import cannot be undone.",
            _BOM_NOTE,
        ),
    ),
    Target(
        name="qbo-items",
        kinds=("item",),
        title="QuickBooks Online products and services (Import data CSV)",
        doc=_IMPORT + "Products and services. Name, SKU (the code), Type, Sales "
        "Description, Sales Price/Rate, Income Account." + _ENC,
        columns=QboItemWriter.header,
        required=("name",),
        limits=_LIMITS + "qbo-items-001.csv, ...",
        factory=QboItemWriter,
        family="qbo",
        options=(ITEM_TYPE, NAME_FROM, BOM, FORMULA_GUARD),
        notes=(
            "Income Account must name an existing account (blank: QuickBooks assigns one). "
            "Purchase price and expense account are not written.",
            "Refused [C]: names over 100 characters, with a tab, line break, colon or double "
            "quote, or repeated; SKU over 100; descriptions over 4,000; prices with more than "
            "11 digits before the point or 7 after.",
            _BOM_NOTE,
            _NAME_NOTE,
        ),
    ),
]
