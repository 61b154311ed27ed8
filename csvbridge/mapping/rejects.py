"""Why rows are rejected: error masks gathered per field while a chunk is mapped, turned
into RejectedRows (original cells, file, line, every reason) only for the rows that fail."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from ..readers.base import RawChunk


@dataclass
class RowError:
    """One reason a row was rejected."""

    field: str
    column: str
    value: str
    rule: str
    message: str


@dataclass
class RejectedRow:
    """A row that did not convert: where it came from, its original cells, and why."""

    source: int
    line: int
    row: int
    cells: dict[str, str]
    errors: list[RowError]


@dataclass
class Errors:
    """Error masks gathered per field; turned into RowErrors only for the rejected rows."""

    # (rows, field, column, values, rule, message: one for all rows, or one per row)
    blocks: list[tuple[npt.NDArray[np.bool_], str, str, pa.Array | None, str, str | list[str]]] = (
        field(default_factory=list)
    )
    # Rows the reader already condemned (ragged, undecodable): their field errors would only
    # be echoes of that one problem, so they are not added.
    exclude: npt.NDArray[np.bool_] | None = None

    def add(
        self,
        mask: npt.NDArray[np.bool_],
        fld: str,
        column: str,
        values: pa.Array | None,
        rule: str,
        message: str | list[str],
    ) -> None:
        if self.exclude is not None and fld:
            mask = mask & ~self.exclude
        if mask.any():
            self.blocks.append((mask, fld, column, values, rule, message))

    def any(self, n: int) -> npt.NDArray[np.bool_]:
        out = np.zeros(n, dtype=bool)
        for mask, *_ in self.blocks:
            out |= mask
        return out


def build_rejects(
    chunk: RawChunk, errs: Errors, rejected: npt.NDArray[np.bool_], offset: int
) -> list[RejectedRow]:
    """The rejected rows of a chunk, each with its original cells and every reason."""
    idx = np.flatnonzero(rejected)
    if not len(idx):
        return []
    sub = chunk.table.take(pa.array(idx)).to_pylist()
    out: list[RejectedRow] = []
    pos = {int(i): k for k, i in enumerate(idx)}
    rows: dict[int, RejectedRow] = {}
    for i in map(int, idx):
        problem = chunk.problems.get(i)
        cells = sub[pos[i]]
        if problem is not None and problem.cells is not None:
            names = list(chunk.table.column_names)
            extra = len(problem.cells) - len(names)
            names += [f"(extra {k})" for k in range(1, extra + 1)]
            cells = {k: v for k, v in zip(names, problem.cells, strict=False)}
        rows[i] = RejectedRow(chunk.source, int(chunk.lines[i]), offset + i, cells, [])
        out.append(rows[i])
    for mask, fld, col, values, rule, message in errs.blocks:
        for i in map(int, np.flatnonzero(mask & rejected)):
            value = "" if values is None else (values[i].as_py() or "")
            text = message if isinstance(message, str) else message[i]
            rows[i].errors.append(RowError(fld, col, value, rule, text))
    return out
