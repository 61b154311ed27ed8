"""Bank statement imports: QuickBooks Online (3-column) and Xero bank statement CSV."""

from __future__ import annotations

import pyarrow as pa

from . import format as fmt
from .base import CsvWriter, Option, Target
from .generic import FORMULA_GUARD

DATE_ORDER = Option(
    "date_order",
    ("auto", "dmy", "mdy", "ymd"),
    "auto",
    "date order the target company uses: dmy = DD/MM/YYYY (UK, EU, AU, NZ), mdy = "
    "MM/DD/YYYY (US); auto = mdy for USD, dmy for other currencies, when the mapping's "
    "currency is a constant",
    confidence="R",
)


class QboBankWriter(CsvWriter):
    """QuickBooks Online 'Upload from file', 3 columns: Date, Description, Amount (signed,
    negative = money out, blank instead of 0). At most 999 data rows and 350 KB per file."""

    stem = "qbo-bank"
    header = ("Date", "Description", "Amount")
    max_rows = 999
    max_bytes = 350 * 1000
    MAX_BYTES = max_bytes

    def cells(self, records: pa.Table) -> list[pa.Array]:
        return [
            fmt.date(records, "date", self.options["date_order"]),
            fmt.text(records, "description", guard=self.guard),
            fmt.money(records, "amount", blank_zero=True),
        ]


class XeroBankWriter(CsvWriter):
    """Xero 'Import a statement': *Date, *Amount (signed), Payee, Description, Reference,
    Cheque Number. At most 1,000 transactions per file."""

    stem = "xero-bank"
    header = ("*Date", "*Amount", "Payee", "Description", "Reference", "Cheque Number")
    max_rows = 1000

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
