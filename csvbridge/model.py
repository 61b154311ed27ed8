"""Canonical record kinds: the one schema every reader/mapping produces and every writer reads.

Records travel between stages as pyarrow tables, one column per field:

* ``text``: UTF-8 string.
* ``date``: ``date32`` (a calendar date, no time zone).
* ``money``: ``int64`` minor units (pence, cents, yen) of the row's ``currency``. Money never
  passes through a float; the currency's exponent decides where the decimal point goes.
* ``decimal``: an exact decimal kept as normalised text (``"1.5"``, ``"-0.125"``), for
  quantities, rates and unit prices whose precision is not the currency's.
* ``currency``: ISO 4217 code, upper case.

Document kinds (invoice, bill, journal) are line-level: one record per line, with the
document's header fields repeated on each line and grouped by ``document_key``.

A transaction's ``amount`` is signed from the account holder's side: positive is money into
the account (a deposit, a card refund), negative is money out (a payment, a card purchase).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import pyarrow as pa


class FieldType(StrEnum):
    """The value type of a canonical field."""

    TEXT = "text"
    DATE = "date"
    MONEY = "money"
    DECIMAL = "decimal"
    CURRENCY = "currency"


ARROW_TYPES: dict[FieldType, pa.DataType] = {
    FieldType.TEXT: pa.string(),
    FieldType.DATE: pa.date32(),
    FieldType.MONEY: pa.int64(),
    FieldType.DECIMAL: pa.string(),
    FieldType.CURRENCY: pa.string(),
}

# Provenance columns carried by every record table alongside the canonical fields.
SOURCE_COL = "_source"  # index into the batch's list of input files
LINE_COL = "_line"  # physical line (or spreadsheet row) where the record starts
ROW_COL = "_row"  # sequence number of the row in the batch (0-based), for stable ordering


@dataclass(frozen=True)
class Field:
    """One canonical field: its name, type, whether a record needs it, and what it means."""

    name: str
    type: FieldType
    required: bool = False
    doc: str = ""


@dataclass(frozen=True)
class Kind:
    """A kind of canonical record."""

    name: str
    doc: str
    fields: tuple[Field, ...]
    amount_field: str | None = None  # the money field the ledger totals (None: counts only)
    document_key: str | None = None  # lines sharing this value form one document
    fingerprint: tuple[str, ...] = ()  # default fields that identify a duplicate

    def field(self, name: str) -> Field:
        """The field called ``name``; KeyError if the kind has none."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def arrow_schema(self) -> pa.Schema:
        """The pyarrow schema of a record table of this kind (fields, then provenance)."""
        cols = [pa.field(f.name, ARROW_TYPES[f.type]) for f in self.fields]
        cols += [
            pa.field(SOURCE_COL, pa.int32()),
            pa.field(LINE_COL, pa.int64()),
            pa.field(ROW_COL, pa.int64()),
        ]
        return pa.schema(cols)


T, D, M, DEC, CUR = (
    FieldType.TEXT,
    FieldType.DATE,
    FieldType.MONEY,
    FieldType.DECIMAL,
    FieldType.CURRENCY,
)

_CONTACT_ADDRESS = (
    Field("address_line1", T, doc="postal address, first line"),
    Field("address_line2", T),
    Field("city", T),
    Field("region", T, doc="county, state or province"),
    Field("postal_code", T),
    Field("country", T),
)


def _document_kind(name: str, doc: str, party: str) -> Kind:
    return Kind(
        name=name,
        doc=doc,
        fields=(
            Field("number", T, True, f"{name} number; lines with the same number form one {name}"),
            Field("contact", T, True, f"the {party}'s name"),
            Field("date", D, True, f"{name} date"),
            Field("due_date", D, doc="payment due date"),
            Field("currency", CUR, True),
            Field("reference", T),
            Field("description", T, doc="line description"),
            Field("quantity", DEC, doc="line quantity"),
            Field("unit_price", DEC, doc="price per unit, exact, in currency units"),
            Field("line_amount", M, True, "line total in the invoice currency"),
            Field("tax_amount", M, doc="tax on the line"),
            Field("account_code", T, doc="income or expense account code"),
            Field("tax_type", T, doc="tax rate name as the target system knows it"),
            Field("item_code", T),
            Field("email", T, doc=f"the {party}'s email"),
        ),
        amount_field="line_amount",
        document_key="number",
        fingerprint=("number", "description", "line_amount"),
    )


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind(
            name="transaction",
            doc="A bank or card statement line. amount > 0 is money in, < 0 is money out.",
            fields=(
                Field("date", D, True, "date the transaction was made or posted"),
                Field("amount", M, True, "signed: positive = money in, negative = money out"),
                Field("currency", CUR, True, "ISO 4217 code"),
                Field("description", T, True, "text from the statement"),
                Field("payee", T, doc="counterparty name, where the source has one"),
                Field("reference", T, doc="bank or payment reference"),
                Field("check_number", T, doc="cheque / check number"),
                Field("category", T, doc="category or transaction type"),
                Field("account", T, doc="the account the line belongs to"),
                Field("balance", M, doc="running balance after this line, if stated"),
                Field("id", T, doc="the source system's own transaction id"),
                Field("memo", T),
            ),
            amount_field="amount",
            # A re-exported line repeats its running balance; two real same-day purchases of
            # the same amount do not, so a stated balance tells them apart.
            fingerprint=("date", "amount", "currency", "description", "reference", "balance"),
        ),
        _document_kind("invoice", "A sales invoice line (one record per line).", "customer"),
        _document_kind("bill", "A purchase bill line (one record per line).", "supplier"),
        Kind(
            name="journal",
            doc="A journal posting (one record per line). amount > 0 is a debit, < 0 a credit.",
            fields=(
                Field("number", T, True, "entry number; postings with the same number form one"),
                Field("date", D, True),
                Field("account_code", T, True, "account code or name"),
                Field("amount", M, True, "signed: positive = debit, negative = credit"),
                Field("currency", CUR, True),
                Field("narration", T, doc="entry description"),
                Field("description", T, doc="line description"),
                Field("tax_type", T),
                Field("reference", T),
            ),
            amount_field="amount",
            document_key="number",
            fingerprint=("number", "date", "account_code", "amount", "description"),
        ),
        Kind(
            name="contact",
            doc="A customer or supplier.",
            fields=(
                Field("name", T, True, "display name, unique in the target system"),
                Field("type", T, doc="customer, supplier or both"),
                Field("account_number", T, doc="the contact's account code in the source"),
                Field("first_name", T),
                Field("last_name", T),
                Field("company", T),
                Field("email", T),
                Field("phone", T),
                *_CONTACT_ADDRESS,
                Field("tax_number", T, doc="VAT / GST / EIN number"),
                Field("notes", T),
            ),
            fingerprint=("name",),
        ),
        Kind(
            name="account",
            doc="A chart-of-accounts entry.",
            fields=(
                Field("code", T, True, "account code; leading zeros are kept"),
                Field("name", T, True),
                Field("type", T, True, "asset, liability, equity, income, expense or finer"),
                Field("description", T),
                Field("tax_type", T),
                Field("parent", T, doc="code of the parent account"),
            ),
            fingerprint=("code",),
        ),
        Kind(
            name="item",
            doc="A product or service.",
            fields=(
                Field("code", T, True, "SKU or item code"),
                Field("name", T, True),
                Field("description", T),
                Field("sale_price", DEC),
                Field("purchase_price", DEC),
                Field("income_account", T),
                Field("expense_account", T),
                Field("tax_type", T),
            ),
            fingerprint=("code",),
        ),
    )
}


def get_kind(name: str) -> Kind:
    """The kind called ``name``; KeyError if there is none."""
    return KINDS[name]
