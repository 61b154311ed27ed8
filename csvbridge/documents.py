"""Grouping document lines (invoice, bill, journal) for writers: the lines of a document need
not be adjacent in the source, but every target wants each document whole. Records are held
in a temporary Arrow file while the batch is read, then given back grouped — documents in
order of first appearance, lines in source order — in chunks that never split a document.

Memory: the spool is on disk while reading; grouping reads it back whole, so it is bounded
by the batch's document lines (a few hundred bytes each), not by the chunk size.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .model import ROW_COL


class DocumentSpool:
    """Collects records of a document kind and gives them back grouped by ``key``."""

    def __init__(self, key: str, schema: pa.Schema) -> None:
        self.key = key
        self.schema = schema
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 - closed in groups()
        self._writer: pa.ipc.RecordBatchStreamWriter | None = pa.ipc.new_stream(self._file, schema)
        self.rows = 0

    def add(self, records: pa.Table) -> None:
        """Hold a chunk of records."""
        if records.num_rows and self._writer is not None:
            self._writer.write_table(records)
            self.rows += records.num_rows

    def groups(self, chunk_rows: int) -> Iterator[pa.Table]:
        """The held records, grouped, in chunks of about ``chunk_rows`` whole documents."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self._file.seek(0)
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
