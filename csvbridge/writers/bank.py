"""Bank statement imports: QuickBooks Online (3-column) and Xero bank statement CSV."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from ..model import Kind
from ..reports.ledger import Tally
from . import format as fmt
from .base import CsvSink, Option, OutputFile, Target, csv_lines
from .generic import FORMULA_GUARD, add_written

DATE_ORDER = Option(
    "date_order",
    ("auto", "dmy", "mdy", "ymd"),
    "auto",
    "date order the target company uses: dmy = DD/MM/YYYY (UK, EU, AU, NZ), mdy = "
    "MM/DD/YYYY (US); auto = mdy for USD, dmy for other currencies, when the mapping's "
    "currency is a constant",
    confidence="R",
)


class QboBankWriter:
    """QuickBooks Online 'Upload from file', 3 columns: Date, Description, Amount (signed,
    negative = money out, blank instead of 0). At most 999 data rows and 350 KB per file."""

    MAX_ROWS = 999
    MAX_BYTES = 350 * 1000

    def __init__(self, outdir: Path, kind: Kind, options: dict[str, str], sources: list[str]):
        self.kind = kind
        self.order = options["date_order"]
        self.guard = options["formula_guard"] == "on"
        self.sink = CsvSink(
            outdir,
            "qbo-bank",
            ["Date", "Description", "Amount"],
            max_rows=self.MAX_ROWS,
            max_bytes=self.MAX_BYTES,
        )
        self.tally = Tally()

    def write(self, records: pa.Table) -> None:
        if records.num_rows:
            cols = [
                fmt.date(records, "date", self.order),
                fmt.text(records, "description", guard=self.guard),
                fmt.money(records, "amount", blank_zero=True),
            ]
            self.sink.write_lines(csv_lines(cols))
        add_written(self.tally, records, self.kind)

    def close(self) -> list[OutputFile]:
        return self.sink.close()

    def abort(self) -> None:
        self.sink.abort()


class XeroBankWriter:
    """Xero 'Import a statement': *Date, *Amount (signed), Payee, Description, Reference,
    Cheque Number. At most 1,000 transactions per file."""

    MAX_ROWS = 1000

    def __init__(self, outdir: Path, kind: Kind, options: dict[str, str], sources: list[str]):
        self.kind = kind
        self.order = options["date_order"]
        self.guard = options["formula_guard"] == "on"
        self.sink = CsvSink(
            outdir,
            "xero-bank",
            ["*Date", "*Amount", "Payee", "Description", "Reference", "Cheque Number"],
            max_rows=self.MAX_ROWS,
        )
        self.tally = Tally()

    def write(self, records: pa.Table) -> None:
        if records.num_rows:
            g = self.guard
            cols = [
                fmt.date(records, "date", self.order),
                fmt.money(records, "amount"),
                fmt.text(records, "payee", guard=g),
                fmt.text(records, "description", guard=g),
                fmt.text(records, "reference", guard=g),
                fmt.text(records, "check_number", guard=g),
            ]
            self.sink.write_lines(csv_lines(cols))
        add_written(self.tally, records, self.kind)

    def close(self) -> list[OutputFile]:
        return self.sink.close()

    def abort(self) -> None:
        self.sink.abort()


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
        factory=lambda outdir, kind, options, sources: QboBankWriter(
            outdir, kind, options, sources
        ),
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
        factory=lambda outdir, kind, options, sources: XeroBankWriter(
            outdir, kind, options, sources
        ),
        options=(DATE_ORDER, FORMULA_GUARD),
        notes=("US organisations use MM/DD/YYYY: pass -O date_order=mdy or use a USD mapping.",),
    ),
]
