"""QuickBooks Online 'Import data' list files (formats.md §1.5-1.7): customers, vendors,
the chart of accounts, and products & services."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from . import format as fmt
from .base import Option, Target, WriteContext, guard_formula
from .checks import (
    Problem,
    as_mask,
    blank,
    fixed_decimal,
    invalid_email,
    phone,
    wrong_side,
)
from .generic import FORMULA_GUARD
from .qbo import (
    BOM,
    BOM_NOTE,
    ENCODING_DOC,
    IMPORT_DOC,
    LIMITS_DOC,
    NAME_NOTE,
    QboWriter,
    blank_column,
)

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
            blank_column(records),
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

TARGETS = [
    *(
        Target(
            name=w.stem,
            kinds=("contact",),
            title=f"QuickBooks Online {w.stem[4:]} (Import data CSV)",
            doc=IMPORT_DOC + f"{w.stem[4:].title()}. " + ", ".join(w.header) + ". Street joins "
            "both address lines." + ENCODING_DOC,
            columns=w.header,
            required=("name",),
            limits=LIMITS_DOC + f"{w.stem}-001.csv, ...",
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
                BOM_NOTE,
                NAME_NOTE,
            ),
        )
        for w in (QboContactWriter, QboVendorWriter)
    ),
    Target(
        name="qbo-accounts",
        kinds=("account",),
        title="QuickBooks Online chart of accounts (Import data CSV)",
        doc=IMPORT_DOC
        + "Chart of accounts. Account Number, Account Name, Type, Detail Type."
        + ENCODING_DOC,
        columns=QboAccountWriter.header,
        required=QboAccountWriter.needs,
        limits=LIMITS_DOC + "qbo-accounts-001.csv, ...",
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
            BOM_NOTE,
        ),
    ),
    Target(
        name="qbo-items",
        kinds=("item",),
        title="QuickBooks Online products and services (Import data CSV)",
        doc=IMPORT_DOC + "Products and services. Name, SKU (the code), Type, Sales "
        "Description, Sales Price/Rate, Income Account." + ENCODING_DOC,
        columns=QboItemWriter.header,
        required=("name",),
        limits=LIMITS_DOC + "qbo-items-001.csv, ...",
        factory=QboItemWriter,
        family="qbo",
        options=(ITEM_TYPE, NAME_FROM, BOM, FORMULA_GUARD),
        notes=(
            "Income Account must name an existing account (blank: QuickBooks assigns one). "
            "Purchase price and expense account are not written.",
            "Refused [C]: names over 100 characters, with a tab, line break, colon or double "
            "quote, or repeated; SKU over 100; descriptions over 4,000; prices with more than "
            "11 digits before the point or 7 after.",
            BOM_NOTE,
            NAME_NOTE,
        ),
    ),
]
