"""Sage Accounting (Business Cloud) customer and supplier contacts (formats.md §5)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from . import format as fmt
from .accounting import AccountingWriter, bom_option
from .base import Option, Target, WriteContext, guard_formula
from .checks import (
    Problem,
    as_mask,
    blank,
    invalid_email,
    phone,
    wrong_side,
)
from .generic import FORMULA_GUARD

# -- Sage Accounting (Business Cloud) contacts ------------------------------------------------
CONTACT_COLUMNS = (
    "Reference",
    "Company Name",
    "Currency",
    "Credit Limit",
    "Main Address Type",
    "Main Address Line 1",
    "Main Address Line 2",
    "Main Address Town",
    "Main Address County",
    "Main Address Post Code",
    "Main Address Country",
    "Main Contact Name",
    "Main Contact Phone",
    "Main Contact Type",
    "Main Contact Mobile",
    "Main Contact Email",
    "Main Contact Fax",
    "Address 2 Type",
    "Address 2 Line 1",
    "Address 2 Line 2",
    "Address 2 Town",
    "Address 2 County",
    "Address 2 Post Code",
    "Address 2 Country",
    "VAT Number",
    "Ledger Account",
)
CONTACTS = Option(
    "contacts",
    ("customers", "suppliers"),
    "customers",
    "which list the file is for: Sage imports customers and suppliers from separate files "
    "(sage-customers.csv or sage-suppliers.csv)",
)


class SageContactWriter(AccountingWriter):
    """Customers or suppliers: Reference (the account number, ≤ 10, unique), Company Name,
    address with a 2-letter country code, main contact, VAT number; 0.5 MB per file."""

    header = CONTACT_COLUMNS
    needs = ("account_number", "name")
    names = ("account_number", "name")
    unique = ("account_number",)
    text_limits = {"account_number": 10, "postal_code": 10, "phone": 50}  # noqa: RUF012 [C]
    max_bytes = 500_000  # 0.5 MB [C]

    def __init__(self, ctx: WriteContext) -> None:
        self.stem = "sage-" + ctx.options["contacts"]
        self.noun = ctx.options["contacts"][:-1]
        super().__init__(ctx)

    def problems(self, records: pa.Table, docs: npt.NDArray[np.int64]) -> list[Problem]:
        country = pc.fill_null(fmt.column(records, "country"), "")
        other = "-O sage-contacts.contacts=" + (
            "suppliers" if self.noun == "customer" else "customers"
        )
        return [
            *super().problems(records, docs),
            Problem(
                as_mask(pc.invert(pc.match_substring_regex(country, r"^[A-Za-z]{2}$")))
                & ~blank(records, "country"),
                "country",
                "country-code",
                "Sage needs the country as a 2-letter code (GB, IE, US); map the names to "
                "codes in the mapping",
            ),
            Problem(
                invalid_email(records),
                "email",
                "email-invalid",
                "not an email address Sage accepts (one @, a dot, no spaces)",
            ),
            wrong_side(records, self.noun, self.system, other),
        ]

    def cells(self, records: pa.Table) -> list[pa.Array]:
        g = self.guard
        first = fmt.text(records, "first_name", guard=False)
        last = fmt.text(records, "last_name", guard=False)
        person = pc.utf8_trim_whitespace(pc.binary_join_element_wise(first, last, " "))
        values = {
            "Reference": fmt.text(records, "account_number", guard=False),
            "Company Name": fmt.text(records, "name", guard=False),
            "Main Address Line 1": fmt.text(records, "address_line1", guard=g),
            "Main Address Line 2": fmt.text(records, "address_line2", guard=g),
            "Main Address Town": fmt.text(records, "city", guard=g),
            "Main Address County": fmt.text(records, "region", guard=g),
            "Main Address Post Code": fmt.text(records, "postal_code", guard=g),
            "Main Address Country": pc.utf8_upper(fmt.text(records, "country", guard=g)),
            "Main Contact Name": guard_formula(person) if g else person,
            "Main Contact Phone": phone(records, "phone", guard=g),
            "Main Contact Email": fmt.text(records, "email", guard=g),
            "VAT Number": fmt.text(records, "tax_number", guard=g),
        }
        none = pa.nulls(records.num_rows, pa.string())
        return [values.get(h, none) for h in self.header]


TARGETS = [
    Target(
        name="sage-contacts",
        kinds=("contact",),
        title="Sage Accounting (Business Cloud) customers or suppliers (CSV)",
        doc="Contacts → Customers (or Suppliers) → Import. The template's headings, one "
        "contact per row; Reference is the contact's account number. UTF-8, CRLF.",
        columns=CONTACT_COLUMNS,
        required=("account_number", "name"),
        limits="0.5 MB per file [C]; larger outputs are split into sage-customers-001.csv, ...",
        factory=SageContactWriter,
        family="sage",
        options=(CONTACTS, bom_option("off", "Sage Accounting expects UTF-8"), FORMULA_GUARD),
        notes=(
            "Customers and suppliers are imported from separate files: the contacts option "
            "says which, and a contact typed as the other side is refused.",
            "Refused [C]: Reference missing, over 10 characters or repeated; post code over "
            "10; phone over 50; a country that is not a 2-letter code; an invalid email.",
            "Main Contact Name is the first and last name; blank means Sage's 'Main Contact'.",
        ),
    ),
]
