"""The spooled documents' way to the writers once a batch is read: each document whole, lines
in source order; documents some of whose lines were rejected are held back, the rest checked
(balance, consistent header fields, stated totals) and written or rejected."""

from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa
import pyarrow.compute as pc

from .documents import DocumentSpool, StatedTotals, check_documents
from .mapping.sections import DocumentsSpec
from .model import Kind
from .reports.files import RejectsFile
from .reports.ledger import Ledger
from .writers import Writer
from .writers.base import add_written


def flush_documents(
    spool: DocumentSpool,
    *,
    chunk_rows: int,
    kind: Kind,
    docs: DocumentsSpec,
    totals: StatedTotals | None,
    incomplete: set[str],
    rejects: RejectsFile,
    ledger: Ledger,
    writers: Iterable[Writer],
    doc_warnings: dict[str, list[str]],
) -> None:
    """Give ``spool``'s documents to ``writers`` in groups of about ``chunk_rows`` lines.
    Refused lines go to ``rejects`` and ``ledger``; warnings to ``doc_warnings`` by rule."""
    for group in spool.groups(chunk_rows):
        group = hold_incomplete(group, kind, incomplete, rejects, ledger)
        passed, refused, warned = check_documents(
            group,
            kind.name,
            kind.document_key or "number",
            balance=docs.balance,
            consistent=docs.consistent,
            totals=totals,
        )
        for p in refused:
            _reject(p.lines, kind, p.field, p.rule, p.message, rejects, ledger)
        for p in warned:
            doc_warnings.setdefault(p.rule, []).append(p.message)
        for w in writers:
            w.write(passed)


def hold_incomplete(
    group: pa.Table, kind: Kind, incomplete: set[str], rejects: RejectsFile, ledger: Ledger
) -> pa.Table:
    """Lines of documents some of whose lines were rejected are held back as well: a partial
    invoice or journal entry is never imported."""
    key = kind.document_key
    if not incomplete or key is None:
        return group
    docs = pc.fill_null(group.column(key).combine_chunks(), "")
    hit = pc.is_in(docs, value_set=pa.array(sorted(incomplete), pa.string()))
    if not pc.any(hit).as_py():
        return group
    held = group.filter(hit)
    message = (
        f"another line of this {kind.name} was rejected (see rejects.csv); its other lines "
        f"are held back so that no partial {kind.name} is imported"
    )
    _reject(held, kind, key, "document-incomplete", message, rejects, ledger)
    return group.filter(pc.invert(hit))


def _reject(
    lines: pa.Table,
    kind: Kind,
    fld: str,
    rule: str,
    message: str,
    rejects: RejectsFile,
    ledger: Ledger,
) -> None:
    """Document lines refused before any target: into rejects.csv, and counted (with their
    money) as rejected by ``rule`` in the ledger."""
    rejects.add_records("", lines, kind, fld, rule, message)
    ledger.rejected_by_rule[rule] += lines.num_rows
    add_written(ledger.stages["rejected"], lines, kind)
