"""QuickBooks Desktop IIF lists (formats.md §2): accounts, customers and vendors, one row each
under a ``!KEYWORD`` header row."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import format as fmt
from .base import Target, csv_lines, guard_formula
from .iif import (
    EOL,
    GUARD_OPTION,
    NAMES_NOTE,
    PHONE,
    TEXT_DOC,
    clean,
    iif_row,
    refuse_formula_names,
)
from .plaintext import TextWriter

ACCOUNT_TYPES = {  # ACCNTTYPE: the type words (lower case, letters only) that mean it
    "BANK": "bank cash",
    "AR": "ar accountsreceivable receivable receivables debtors",
    "AP": "ap accountspayable payable payables creditors",
    "CCARD": "ccard creditcard",
    "COGS": "cogs costofgoodssold costofsales directcosts",
    "EQUITY": "equity",
    "EXEXP": "exexp otherexpense",
    "EXINC": "exinc otherincome",
    "EXP": "exp expense expenses overhead overheads",
    "FIXASSET": "fixasset fixedasset fixed noncurrentasset",
    "INC": "inc income revenue sales",
    "LTLIAB": "ltliab longtermliability termliab noncurrentliability",
    "NONPOSTING": "nonposting",
    "OASSET": "oasset otherasset",
    "OCASSET": "ocasset asset assets currentasset othercurrentasset current prepayment inventory",
    "OCLIAB": "ocliab liability liabilities currentliability othercurrentliability currliab",
}
_TYPE_OF = {alias: kw for kw, words in ACCOUNT_TYPES.items() for alias in words.split()}
CUSTOMER_WORDS = {"customer", "customers", "client", "debtor", "c"}
SUPPLIER_WORDS = {"supplier", "suppliers", "vendor", "vendors", "creditor", "s", "v"}


class IifListWriter(TextWriter):
    """One list (``!ACCNT``, ``!CUST`` or ``!VEND``): one row per record."""

    extension = ".iif"
    encoding = "cp1252"
    keyword = ""
    columns: tuple[str, ...] = ()

    def head(self) -> list[str]:
        return [iif_row("!" + self.keyword, *self.columns)]

    def values(self, records: pa.Table) -> list[pa.Array]:
        raise NotImplementedError

    def check(self, records: pa.Table) -> pa.Table:
        return refuse_formula_names(self, super().check(records))

    @staticmethod
    def _guard(column: str, col: pa.Array) -> pa.Array:
        if column == "PHONE1":  # '+44 113 496 0000' is a phone number, not a formula
            number = pc.match_substring_regex(col, PHONE)
            return pc.if_else(number, col, guard_formula(col))
        return guard_formula(col)

    def render(self, records: pa.Table) -> list[str]:
        kw = pa.array([self.keyword] * records.num_rows, pa.string())
        values = [clean(c) for c in self.values(records)]
        if self.guard:  # the first column is the name (refused in check if formula-like)
            values[1:] = [self._guard(self.columns[i], c) for i, c in enumerate(values) if i]
        lines = csv_lines([kw, *values], "\t", EOL)
        return list(lines.to_pylist())


class IifAccountsWriter(IifListWriter):
    """``!ACCNT`` rows: NAME, ACCNTTYPE (from the record's type: Revenue is INC, Overhead is
    EXP...; unknown types are refused, rule account-type-unknown), DESC, ACCNUM (the code)."""

    stem = "iif-accounts"
    keyword = "ACCNT"
    columns = ("NAME", "ACCNTTYPE", "DESC", "ACCNUM")

    def _types(self, records: pa.Table) -> list[str | None]:
        raw = pc.fill_null(fmt.column(records, "type"), "").to_pylist()
        return [_TYPE_OF.get("".join(ch for ch in t.lower() if ch.isalnum())) for t in raw]

    def check(self, records: pa.Table) -> pa.Table:
        records = super().check(records)
        bad = np.array([t is None for t in self._types(records)], dtype=bool)
        if bad.any():
            self.reject(
                records.filter(pa.array(bad)),
                "type",
                "account-type-unknown",
                "not an account type QuickBooks Desktop knows; use one of "
                + ", ".join(k.lower() for k in ACCOUNT_TYPES)
                + " (or bank, expense, income...)",
            )
            records = records.filter(pa.array(~bad))
        return records

    def values(self, records: pa.Table) -> list[pa.Array]:
        col = fmt.column
        types = pa.array(self._types(records), pa.string())
        return [col(records, "name"), types, col(records, "description"), col(records, "code")]


class _ContactsWriter(IifListWriter):
    """Contacts whose type says they belong on the other list are refused (rule contact-type):
    QuickBooks wants each name on one list only."""

    other: set[str] = set()  # noqa: RUF012
    extra: tuple[str, ...] = ()
    noun = ""

    def check(self, records: pa.Table) -> pa.Table:
        records = super().check(records)
        kinds = pc.utf8_lower(
            pc.utf8_trim_whitespace(pc.fill_null(fmt.column(records, "type"), ""))
        )
        bad = pc.is_in(kinds, value_set=pa.array(sorted(self.other)))
        if pc.any(bad).as_py():
            self.reject(
                records.filter(bad),
                "type",
                "contact-type",
                f"its type says it is not a {self.noun}"
                f"; it goes in the other list ({self.ctx.target} writes the "
                f"{self.keyword} list only)",
            )
            records = records.filter(pc.invert(bad))
        return records

    def values(self, records: pa.Table) -> list[pa.Array]:
        def col(n: str) -> pa.Array:
            return fmt.column(records, n)

        where = (pc.fill_null(col(n), "") for n in ("city", "region", "postal_code"))
        place = pc.replace_substring_regex(pc.binary_join_element_wise(*where, " "), " +", " ")
        head = pc.if_else(pc.is_valid(col("company")), col("company"), col("name"))
        names = ("name", "company", "first_name", "last_name")
        return [
            *(col(n) for n in names),
            head,
            col("address_line1"),
            col("address_line2"),
            pc.utf8_trim_whitespace(place),
            *(col(n) for n in ("country", "phone", "email", *self.extra)),
            col("notes"),
        ]


def _contact_columns(addr: str, extra: str = "") -> tuple[str, ...]:
    lines = " ".join(f"{addr}{i}" for i in range(1, 6))
    return tuple(
        f"NAME COMPANYNAME FIRSTNAME LASTNAME {lines} PHONE1 EMAIL {extra} NOTEPAD".split()
    )


class IifCustomersWriter(_ContactsWriter):
    """``!CUST`` rows: name, company, first/last name, BADDR1-5 (company or name, street
    lines, town-region-postcode, country), phone, email, notes. Contacts typed supplier or
    vendor are refused (rule contact-type): QuickBooks wants each name on one list."""

    stem = "iif-customers"
    keyword = "CUST"
    noun = "customer"
    columns = _contact_columns("BADDR")
    other = SUPPLIER_WORDS
    extra = ()


class IifVendorsWriter(_ContactsWriter):
    """``!VEND`` rows: as customers, with ADDR1-5 and TAXID (the tax number). Contacts typed
    customer or client are refused (rule contact-type): QuickBooks wants each name on one
    list."""

    stem = "iif-vendors"
    keyword = "VEND"
    noun = "vendor"
    columns = _contact_columns("ADDR", "TAXID")
    other = CUSTOMER_WORDS
    extra = ("tax_number",)


_LISTS = {  # target: (kind, title, writer — whose docstring is the target's doc)
    "iif-accounts": ("account", "chart of accounts", IifAccountsWriter),
    "iif-customers": ("contact", "customer list", IifCustomersWriter),
    "iif-vendors": ("contact", "vendor list", IifVendorsWriter),
}


TARGETS = [
    *(
        Target(
            n,
            (k,),
            f"QuickBooks Desktop IIF {t}",
            " ".join((f.__doc__ or "").split()).replace("``", "") + " " + TEXT_DOC,
            f.columns,
            ("name",),
            "none; one file",
            f,
            family="iif",
            options=(GUARD_OPTION,),
            notes=(NAMES_NOTE,),
        )
        for n, (k, t, f) in _LISTS.items()
    ),
]
