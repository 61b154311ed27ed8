"""Grouping document lines (invoice, bill, journal) for writers: the lines of a document need
not be adjacent in the source, but every target wants each document whole. Records are held
in a temporary Arrow file while the batch is read, then given back grouped — documents in
order of first appearance, lines in source order — in chunks that never split a document.

Memory: the spool is on disk while reading. When every document's lines are adjacent in
source order (an export written document by document, the usual case) the spool is read back
a batch at a time, so memory is bounded by the chunk size; only a batch whose documents are
interleaved is read back whole and sorted (a few hundred bytes a line).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from .doc_totals import StatedTotals
from .model import ROW_COL
from .money import exponent_of, format_one

__all__ = ["CONSISTENT", "DocumentProblem", "DocumentSpool", "StatedTotals", "check_documents"]


class DocumentSpool:
    """Collects records of a document kind and gives them back grouped by ``key``."""

    def __init__(self, key: str, schema: pa.Schema) -> None:
        self.key = key
        self.schema = schema
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 - closed in groups()
        self._writer: pa.ipc.RecordBatchStreamWriter | None = pa.ipc.new_stream(self._file, schema)
        self.rows = 0
        # Whether each document's lines came adjacent and in row order so far: then the
        # spool is already grouped. Documents already finished are known by hash(key); a
        # collision only sends the batch down the slower, always correct path.
        self.adjacent = True
        self._done = np.zeros(0, dtype=np.int64)  # sorted: 8 bytes a document, not a set's ~100
        self._open: str | None = None  # the key of the document the last chunk ended in
        self._last_row = -1

    def add(self, records: pa.Table) -> None:
        """Hold a chunk of records."""
        if records.num_rows and self._writer is not None:
            self._writer.write_table(records)
            self.rows += records.num_rows
            if self.adjacent:
                self._follow(records)

    def _follow(self, records: pa.Table) -> None:
        rows = np.asarray(records.column(ROW_COL), dtype=np.int64)
        if rows[0] < self._last_row or (np.diff(rows) < 0).any():
            self.adjacent = False
            return
        self._last_row = int(rows[-1])
        keys = _keys(records, self.key)
        starts = _starts(keys)
        runs: list[str] = pc.take(keys, pa.array(starts)).to_pylist()
        goes_on = runs[0] == self._open  # the document the last chunk ended in goes on
        if self._open is not None and not goes_on:
            self._finish(np.array([hash(self._open)], dtype=np.int64))
        hashes = np.fromiter(map(hash, runs), dtype=np.int64, count=len(runs))
        ordered = np.unique(hashes)  # sorted: looked up in the sorted array run by run
        checked = ordered[ordered != hashes[0]] if goes_on else ordered
        at = np.searchsorted(self._done, checked)
        known = at < len(self._done)
        known[known] = self._done[at[known]] == checked[known]
        # a document seen finished before, or twice in this chunk, is not adjacent
        if known.any() or len(ordered) < len(hashes):
            self.adjacent = False
            return
        self._finish(ordered[ordered != hashes[-1]])
        self._open = runs[-1]

    def _finish(self, hashes: npt.NDArray[np.int64]) -> None:
        """Note documents as finished (their lines may not come again); ``hashes`` sorted."""
        self._done = np.insert(self._done, np.searchsorted(self._done, hashes), hashes)

    def groups(self, chunk_rows: int) -> Iterator[pa.Table]:
        """The held records, grouped, in chunks of about ``chunk_rows`` whole documents."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self._file.seek(0)
        if self.adjacent:
            try:
                yield from self._in_order(chunk_rows)
            finally:
                self._file.close()
            return
        try:
            table = pa.ipc.open_stream(self._file).read_all()
        finally:
            self._file.close()
        if table.num_rows == 0:
            return
        keys = pc.fill_null(table.column(self.key).combine_chunks(), "")
        ordinal = pc.index_in(keys, value_set=pc.unique(keys))  # first appearance order
        order = pc.sort_indices(
            pa.table({"doc": ordinal, "row": table.column(ROW_COL)}),
            sort_keys=[("doc", "ascending"), ("row", "ascending")],
        )
        table = table.take(order)
        docs = np.asarray(pc.take(ordinal, order), dtype=np.int64)
        starts = np.flatnonzero(np.diff(docs, prepend=-1) != 0)  # first line of each document
        begin = 0
        n = table.num_rows
        while begin < n:
            want = begin + max(chunk_rows, 1)
            if want >= n:
                end = n
            else:
                nxt = np.searchsorted(starts, want)  # the next document start at or after want
                end = int(starts[nxt]) if nxt < len(starts) else n
            yield table.slice(begin, end - begin)
            begin = end

    def _in_order(self, chunk_rows: int) -> Iterator[pa.Table]:
        """The spool as it is (already grouped), re-cut at document starts, a batch at a
        time."""
        pending: list[pa.RecordBatch] = []
        held = 0
        for batch in pa.ipc.open_stream(self._file):
            if not batch.num_rows:
                continue
            pending.append(batch)
            held += batch.num_rows
            if held < max(chunk_rows, 1):
                continue
            table = pa.Table.from_batches(pending, self.schema)
            last = int(_starts(_keys(table, self.key))[-1])  # may go on in the next batch
            if last > 0:
                yield table.slice(0, last)
            rest = table.slice(last)
            pending, held = rest.to_batches(), rest.num_rows
        if held:
            yield pa.Table.from_batches(pending, self.schema)


def _keys(table: pa.Table, key: str) -> pa.Array:
    return pc.fill_null(table.column(key).combine_chunks(), "")


def _starts(keys: pa.Array) -> npt.NDArray[np.intp]:
    """Where each run of equal keys starts (the first is 0)."""
    n = len(keys)
    change = np.asarray(pc.not_equal(keys.slice(1), keys.slice(0, n - 1)), dtype=bool)
    return np.flatnonzero(np.r_[True, change])


# Header fields that every line of one document must agree on.
CONSISTENT: dict[str, tuple[str, ...]] = {
    "invoice": ("contact", "date", "due_date", "currency", "reference"),
    "bill": ("contact", "date", "due_date", "currency", "reference"),
    "journal": ("date",),
}


@dataclass
class DocumentProblem:
    """Lines of documents that break a rule, and why."""

    lines: pa.Table
    field: str
    rule: str
    message: str


def _total_mismatches(
    table: pa.Table,
    kind: str,
    key: str,
    keys: pa.Array,
    totals: StatedTotals,
    same_doc: npt.NDArray[np.bool_] | None,
) -> tuple[np.ndarray, dict[str, str]]:
    amounts = pc.fill_null(table.column("line_amount").combine_chunks(), 0)
    raw = table.column(key)
    if same_doc is not None and (raw.null_count == 0 or not pc.any(pc.equal(raw, "")).as_py()):
        # documents together, and no empty number beside a missing one (group_by keeps
        # those apart): each document's sum is its run's
        starts = np.flatnonzero(~same_doc)
        sums = np.add.reduceat(np.asarray(amounts, dtype=np.int64), starts)
        messages = totals.failing(kind, keys.take(pa.array(starts)), sums)
    else:
        lines = table.select([key]).append_column("amt", amounts)
        grouped = lines.group_by(key).aggregate([("amt", "sum")])
        messages = totals.failing(
            kind,
            grouped.column(key).combine_chunks(),
            np.asarray(grouped.column("amt_sum"), np.int64),
        )
    docs = pa.array(sorted(messages), pa.string())
    return np.asarray(pc.is_in(keys, value_set=docs), dtype=bool), messages


def _same_as_above(keys: pa.Array) -> npt.NDArray[np.bool_] | None:
    """Whether each line belongs to the same document as the line above, when every
    document's lines are together (as the spool gives them); None when they are not."""
    n = len(keys)
    if n == 0:
        return None
    same = np.zeros(n, dtype=bool)
    same[1:] = np.asarray(pc.equal(keys.slice(1), keys.slice(0, n - 1)), dtype=bool)
    firsts = pc.filter(keys, pa.array(~same))
    if pc.count_distinct(firsts).as_py() != len(firsts):
        return None
    return same


def _changes_within(column: pa.ChunkedArray, same_doc: npt.NDArray[np.bool_]) -> bool:
    """Whether a value differs from the line above's in the same document (null and a value
    differ; two nulls do not)."""
    v = column.combine_chunks()
    n = len(v)
    now, above = v.slice(1), v.slice(0, n - 1)
    equal = pc.fill_null(pc.equal(now, above), False)
    both_null = pc.and_(pc.is_null(now), pc.is_null(above))
    differs = ~np.asarray(pc.or_(equal, both_null), dtype=bool)
    return bool((differs & same_doc[1:]).any())


def check_documents(
    table: pa.Table,
    kind: str,
    key: str,
    *,
    balance: str,
    consistent: str,
    totals: StatedTotals | None = None,
) -> tuple[pa.Table, list[DocumentProblem], list[DocumentProblem]]:
    """(lines that pass, problems that reject, problems that only warn) for whole documents:
    journal entries must balance per currency; lines of one document must agree on its
    header fields; lines add up to the document's stated total (``totals``). ``balance`` and
    ``consistent`` are error, warning or off."""
    rejected: list[DocumentProblem] = []
    warned: list[DocumentProblem] = []
    bad = np.zeros(table.num_rows, dtype=bool)
    keys = pc.fill_null(table.column(key).combine_chunks(), "")

    def record(
        doc_mask: np.ndarray, field: str, rule: str, messages: dict[str, str], severity: str
    ) -> None:
        nonlocal bad
        if not doc_mask.any():
            return
        docs = pc.filter(keys, pa.array(doc_mask)).to_pylist()
        for doc in dict.fromkeys(docs):
            rows = np.asarray(pc.equal(keys, doc), dtype=bool)
            problem = DocumentProblem(table.filter(pa.array(rows)), field, rule, messages[doc])
            (rejected if severity == "error" else warned).append(problem)
            if severity == "error":
                bad |= rows

    if kind == "journal" and balance != "off":
        amount = pc.fill_null(table.column("amount").combine_chunks(), 0)
        sided = (
            table.select([key, "currency"])
            .append_column("debit", pc.max_element_wise(amount, 0))
            .append_column("credit", pc.negate(pc.min_element_wise(amount, 0)))
            .append_column("lines", pa.array(np.ones(table.num_rows, dtype=np.int64)))
        )
        sums = sided.group_by([key, "currency"]).aggregate(
            [("debit", "sum"), ("credit", "sum"), ("lines", "sum")]
        )
        off = sums.filter(
            pc.or_(
                pc.not_equal(sums.column("debit_sum"), sums.column("credit_sum")),
                pc.less(sums.column("lines_sum"), 2),
            )
        )
        messages = {}
        for doc, cur, d, c, n in zip(
            off.column(key).to_pylist(),
            off.column("currency").to_pylist(),
            off.column("debit_sum").to_pylist(),
            off.column("credit_sum").to_pylist(),
            off.column("lines_sum").to_pylist(),
            strict=True,
        ):
            exp = exponent_of(cur or "") or 2
            what = (
                "has one line"
                if n < 2
                else f"does not balance in {cur}: debits {format_one(int(d), exp)}, "
                f"credits {format_one(int(c), exp)}"
            )
            messages[doc or ""] = (
                f"journal {doc} {what}; debits must equal credits (it is never written unbalanced)"
            )
        mask = np.asarray(pc.is_in(keys, value_set=pc.fill_null(off.column(key), "")), dtype=bool)
        record(mask, "amount", "journal-unbalanced", messages, balance)
    same_doc = _same_as_above(keys)
    if consistent != "off":
        for field in CONSISTENT.get(kind, ()):
            if field not in table.column_names:
                continue
            if same_doc is not None and not _changes_within(table.column(field), same_doc):
                continue  # every document's lines agree: nothing to count
            counts = table.group_by(key).aggregate(
                [(field, "count_distinct", pc.CountOptions("all"))]
            )
            split = counts.filter(pc.greater(counts.column(f"{field}_count_distinct"), 1))
            if not split.num_rows:
                continue
            docs = pc.fill_null(split.column(key), "")
            mask = np.asarray(pc.is_in(keys, value_set=docs), dtype=bool) & ~bad
            messages = {}
            for doc in docs.to_pylist():
                rows = table.filter(pc.equal(keys, doc))
                seen = [repr(str(v)) for v in dict.fromkeys(rows.column(field).to_pylist())]
                messages[doc] = (
                    f"the lines of {kind} {doc} disagree on {field} ({', '.join(seen[:4])}); "
                    f"every line of one {kind} must have the same {field}"
                )
            record(mask, field, "document-inconsistent", messages, consistent)
    if totals is not None and len(totals) and "line_amount" in table.column_names:
        mask, messages = _total_mismatches(table, kind, key, keys, totals, same_doc)
        record(mask & ~bad, "line_amount", "document-total", messages, totals.severity)
    return table.filter(pa.array(~bad)), rejected, warned
