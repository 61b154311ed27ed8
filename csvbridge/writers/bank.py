"""Bank statement imports: QuickBooks Online 3- and 4-column, and Xero."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from . import format as fmt
from .accounting import DATE_ORDER
from .base import (
    CsvWriter,
    Option,
    Target,
)
from .checks import money_abs
from .generic import FORMULA_GUARD

DESCRIPTION_LIMIT = {"description": 250}  # QBO bank upload: practical maximum [R]


class OneCurrency(CsvWriter):
    """A bank statement file is one account in one currency: records in another currency
    than the first one written are refused with the reason, never mixed into the file."""

    _currency: str | None = None

    def check(self, records: pa.Table) -> pa.Table:
        records = super().check(records)
        if not records.num_rows:
            return records
        cur = pc.fill_null(records.column("currency").combine_chunks(), "")
        if self._currency is None:
            self._currency = str(cur[0].as_py())
        other = pc.not_equal(cur, self._currency)
        if pc.any(other).as_py():
            self.reject(
                records.filter(other),
                "currency",
                "currency-mismatch",
                f"{self.ctx.target} files hold one currency, and this file is in "
                f"{self._currency}; convert the other currencies separately (a filter on the "
                "currency in a copy of the mapping)",
            )
            records = records.filter(pc.invert(other))
        return records


class QboBankWriter(OneCurrency):
    """QuickBooks Online 'Upload from file', 3 columns: Date, Description, Amount (signed,
    negative = money out, blank instead of 0). At most 999 data rows and 350 KB per file."""

    stem = "qbo-bank"
    header: tuple[str, ...] = ("Date", "Description", "Amount")
    max_rows = 999
    max_bytes = 350 * 1000
    MAX_BYTES = max_bytes

    pure_cells = True

    def cells(self, records: pa.Table) -> list[pa.Array]:
        return [
            fmt.date(records, "date", self.options["date_order"]),
            fmt.text(records, "description", guard=self.guard),
            fmt.money(records, "amount", blank_zero=True),
        ]


class QboBank4Writer(QboBankWriter):
    """QuickBooks Online 'Upload from file', 4 columns: Date, Description, Credit, Debit, each
    amount positive with the other cell blank. Which column is money in is an option."""

    stem = "qbo-bank4"
    header = ("Date", "Description", "Credit", "Debit")
    text_limits = DESCRIPTION_LIMIT

    def cells(self, records: pa.Table) -> list[pa.Array]:
        amount = fmt.column(records, "amount")
        size = money_abs(records, "amount")
        money_in = pc.fill_null(pc.greater(amount, 0), False)
        money_out = pc.fill_null(pc.less(amount, 0), False)
        blank = pa.scalar("", pa.string())
        into = pc.if_else(money_in, size, blank)
        out = pc.if_else(money_out, size, blank)
        credit, debit = (into, out) if self.options["direction"] == "statement" else (out, into)
        return [
            fmt.date(records, "date", self.options["date_order"]),
            fmt.text(records, "description", guard=self.guard),
            credit,
            debit,
        ]


class XeroBankWriter(OneCurrency):
    """Xero 'Import a statement': *Date, *Amount (signed), Payee, Description, Reference,
    Cheque Number. At most 1,000 transactions per file."""

    stem = "xero-bank"
    header = ("*Date", "*Amount", "Payee", "Description", "Reference", "Cheque Number")
    max_rows = 1000

    pure_cells = True

    def cells(self, records: pa.Table) -> list[pa.Array]:
        g = self.guard
        return [
            fmt.date(records, "date", self.options["date_order"]),
            fmt.money(records, "amount"),
            fmt.text(records, "payee", guard=g),
            fmt.text(records, "description", guard=g),
            fmt.text(records, "reference", guard=g),
            fmt.text(records, "check_number", guard=g),
        ]


DIRECTION = Option(
    "direction",
    ("statement", "books"),
    "statement",
    "which column holds money in: statement = Credit is money in, Debit is money out (the "
    "bank statement's view, used by most guides); books = Credit is money out, Debit is "
    "money in (the labels of Intuit's UK article)",
    confidence="U",
)

TARGETS = [
    Target(
        name="qbo-bank",
        kinds=("transaction",),
        title="QuickBooks Online bank transactions (3-column CSV)",
        doc="Banking → Upload from file. Date, Description, Amount: negative = money out, "
        "positive = money in, blank instead of 0. No thousands separators or symbols. UTF-8 "
        "without BOM, CRLF.",
        columns=("Date", "Description", "Amount"),
        required=("date", "description", "amount"),
        limits="999 data rows and 350 KB per file; larger outputs are split into "
        "qbo-bank-001.csv, qbo-bank-002.csv, ...",
        factory=QboBankWriter,
        family="qbo",
        options=(DATE_ORDER, FORMULA_GUARD),
        notes=(
            "The upload wizard asks which date format the file uses: answer with the "
            "date_order written in the run summary.",
            "The 1,000-line cap is reported by third parties [R]; the 350 KB cap is Intuit's [C].",
        ),
    ),
    Target(
        name="qbo-bank4",
        kinds=("transaction",),
        title="QuickBooks Online bank transactions (4-column CSV: Credit, Debit)",
        doc="Banking → Upload from file, the two-amount layout: Date, Description, Credit, "
        "Debit. Each amount positive, the other cell blank (both blank for 0). No thousands "
        "separators or symbols. UTF-8 without BOM, CRLF. Prefer qbo-bank (one signed column) "
        "unless you need this layout.",
        columns=("Date", "Description", "Credit", "Debit"),
        required=("date", "description", "amount"),
        limits="999 data rows and 350 KB per file; larger outputs are split into "
        "qbo-bank4-001.csv, ...; descriptions over 250 characters are refused",
        factory=QboBank4Writer,
        options=(DATE_ORDER, DIRECTION, FORMULA_GUARD),
        notes=(
            "Direction is unconfirmed [U]: Intuit's UK article labels Credit as money out and "
            "Debit as money in, most other guides the opposite. The default (direction="
            "statement: Credit = money in) follows the bank statement and formats.md's "
            "example; whichever you choose, map Credit and Debit to 'money received' and "
            "'money spent' on the upload screen exactly as the summary's direction says.",
            "Not chosen by --to qbo (that is qbo-bank, the layout without the question).",
        ),
    ),
    Target(
        name="xero-bank",
        kinds=("transaction",),
        title="Xero bank statement (CSV)",
        doc="Accounting → Bank accounts → Import a statement. Amount signed: negative = money "
        "spent. Payee, Description, Reference and Cheque Number help Xero's matching. UTF-8, "
        "CRLF.",
        columns=("*Date", "*Amount", "Payee", "Description", "Reference", "Cheque Number"),
        required=("date", "amount"),
        limits="1,000 transactions per file; larger outputs are split into xero-bank-001.csv, ...",
        factory=XeroBankWriter,
        family="xero",
        options=(DATE_ORDER, FORMULA_GUARD),
        notes=("US organisations use MM/DD/YYYY: pass -O date_order=mdy or use a USD mapping.",),
    ),
]
