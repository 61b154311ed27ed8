"""Xero contacts import (formats.md §4.5): the contact template, one row per contact."""

from __future__ import annotations

import pyarrow as pa

from . import format as fmt
from .accounting import AccountingWriter
from .base import Target
from .checks import phone
from .generic import FORMULA_GUARD
from .xero import BOM, ENCODING_DOC, NAME_NOTE, PO_ADDRESS, by_header

_SA = tuple("SA" + p[2:] for p in PO_ADDRESS)
CONTACT_COLUMNS = (
    "*ContactName",
    "AccountNumber",
    "EmailAddress",
    "FirstName",
    "LastName",
    "POAttentionTo",
    *PO_ADDRESS,
    "SAAttentionTo",
    *_SA,
    "PhoneNumber",
    "FaxNumber",
    "MobileNumber",
    "DDINumber",
    "SkypeName",
    "BankAccountName",
    "BankAccountNumber",
    "BankAccountParticulars",
    "TaxNumber",
    "AccountsReceivableTaxCodeName",
    "AccountsPayableTaxCodeName",
    "Website",
    "LegalName",
    "Discount",
    "CompanyNumber",
    "DueDateBillDay",
    "DueDateBillTerm",
    "DueDateSalesDay",
    "DueDateSalesTerm",
)


class XeroContactWriter(AccountingWriter):
    """Contacts: name mandatory and unique, account number unique and under 50 characters;
    at most 1,000 contacts per file."""

    stem = "xero-contacts"
    header = CONTACT_COLUMNS
    noun = "contact"
    needs = ("name",)
    names = ("name",)
    unique = ("name", "account_number")
    text_limits = {"account_number": 49}  # noqa: RUF012 - "< 50 characters" [C]
    max_rows = 1000  # [C]

    def cells(self, records: pa.Table) -> list[pa.Array]:
        g = self.guard
        values = {
            "*ContactName": fmt.text(records, "name", guard=False),
            "AccountNumber": fmt.text(records, "account_number", guard=g),
            "EmailAddress": fmt.text(records, "email", guard=g),
            "FirstName": fmt.text(records, "first_name", guard=g),
            "LastName": fmt.text(records, "last_name", guard=g),
            "POAddressLine1": fmt.text(records, "address_line1", guard=g),
            "POAddressLine2": fmt.text(records, "address_line2", guard=g),
            "POCity": fmt.text(records, "city", guard=g),
            "PORegion": fmt.text(records, "region", guard=g),
            "POPostalCode": fmt.text(records, "postal_code", guard=g),
            "POCountry": fmt.text(records, "country", guard=g),
            "PhoneNumber": phone(records, "phone", guard=g),
            "TaxNumber": fmt.text(records, "tax_number", guard=g),
            "LegalName": fmt.text(records, "company", guard=g),
        }
        return by_header(self.header, values, records.num_rows)


TARGETS = [
    Target(
        name="xero-contacts",
        kinds=("contact",),
        title="Xero contacts (CSV)",
        doc="Contacts → All contacts → Import. The contact template up to DueDateSalesTerm; "
        "name, account number, email, names, postal address, phone, tax number and legal "
        "name (the company) are filled." + ENCODING_DOC,
        columns=CONTACT_COLUMNS,
        required=("name",),
        limits="1,000 contacts per file [C]; larger outputs are split into "
        "xero-contacts-001.csv, ...",
        factory=XeroContactWriter,
        family="xero",
        options=(BOM, FORMULA_GUARD),
        notes=(
            "A contact cannot be renamed by import: a changed name makes a new contact [C].",
            "Refused: a repeated name or account number, an account number of 50 characters "
            "or more [C].",
            "Keep account and phone numbers as text: opening the file in Excel and saving it "
            "loses leading zeros [C].",
            NAME_NOTE,
        ),
    ),
]
