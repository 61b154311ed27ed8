"""What every engine shares: the job it runs, the events it yields in input order, and the
step that opens one input file and checks it against the mapping."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Generator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pyarrow as pa
import pyarrow.compute as pc

from ..limits import resolve as resolve_limits
from ..mapping import Columns, CompiledMapping, LoadedMapping
from ..mapping.compile import ChunkResult
from ..mapping.fields import spec_columns
from ..mapping.recognise import check_layout
from ..mapping.state import MappingState
from ..model import ROW_COL
from ..readers import RawChunk, ReadOptions, SourceInfo, TableFinder, open_source


@dataclass(frozen=True)
class MapJob:
    """The pure part of a conversion: how to read each file and how to map its chunks."""

    lm: LoadedMapping
    cm: CompiledMapping
    read_opts: ReadOptions
    chunk_rows: int
    # carried from chunk to chunk, in input order, when the mapping is stateful
    # (fill_down, unique:, stated totals); see mapping/state.py
    state: MappingState | None = None
    # pure work on each chunk's records for a later stage (the duplicate stage's fingerprints
    # and keys), done where the chunk is mapped: a read-ahead thread or a worker
    prepare: Callable[[pa.Table], object] | None = None

    def map(self, chunk: RawChunk, columns: Columns, offset: int, stateful: bool = True) -> Mapped:
        """One chunk mapped (with the job's state when ``stateful``) and prepared."""
        result = self.cm.apply(chunk, columns, offset, self.state if stateful else None)
        prepared = self.prepare(result.records) if self.prepare is not None else None
        return Mapped(chunk.num_rows, result, prepared)


@dataclass
class Opened:
    """An input file was opened and its table found. ``warnings_at_open`` is how many of
    ``info.warnings`` the reader had given by then (later ones come while reading)."""

    info: SourceInfo
    warnings_at_open: int


@dataclass
class Mapped:
    """One chunk of the current file, mapped; ``rows`` is how many data rows it had."""

    rows: int
    result: ChunkResult
    prepared: object | None = None  # MapJob.prepare's value for result.records


@dataclass
class Closed:
    """The current file was read to its end: ``info`` now holds its footer and row count."""

    info: SourceInfo


Event = Opened | Mapped | Closed


class Engine(Protocol):
    """Runs the pure part of a conversion and yields its events strictly in input order
    (files in the order given, chunks in file order), row offsets numbered across the batch."""

    name: str

    def run(self, inputs: Sequence[Path], job: MapJob) -> Generator[Event, None, None]: ...


def read_options(
    lm: LoadedMapping,
    cm: CompiledMapping,
    encoding: str | None,
    limits: Mapping[str, str] | None = None,
) -> ReadOptions:
    """How to read the inputs: the mapping's ``read`` section, the command's encoding and
    limits (over the environment's and the mapping's; see docs/limits.md)."""
    r = lm.mapping.read
    return ReadOptions(
        limits=resolve_limits(r.limits, limits),
        encoding=encoding or r.encoding,
        delimiter=r.delimiter,
        quotechar=r.quotechar,
        header_line=r.header_line,
        no_header=r.no_header,
        column_names=tuple(r.columns),
        sheet=r.sheet,
        expected_columns=()
        if r.no_header or r.header_line or r.fixed_width
        else cm.expected_columns(),
        footer=r.footer,
        fixed_widths=tuple((c.name, c.start, c.end) for c in r.fixed_width),
    )


def check_columns(cm: CompiledMapping, columns: Columns) -> None:
    """Resolve every column the mapping names before any row is read, so a missing column is
    one clear error rather than a rejected row per line."""
    for _, fields in cm.entries():
        for key, _, spec in fields:
            for ref in spec_columns(spec):
                columns.resolve(ref, key)
    for i, f in enumerate(cm.mapping.filters, start=1):
        if f.column is not None:
            columns.resolve(f.column, f"filters[{i}].column")
    for formula in cm.formulas.all():
        for name in sorted(formula.expr.columns()):
            columns.resolve(name, formula.key)


def open_input(
    path: Path, index: int, job: MapJob, stack: ExitStack
) -> tuple[TableFinder, Columns, int]:
    """Open input ``index``, find its table and check it fits the mapping: (finder, columns,
    number of reader warnings so far). The file closes with ``stack``."""
    finder = open_source(path, index, job.read_opts, stack)
    info = finder.info
    at_open = len(info.warnings)
    columns = Columns(info.columns, info.name, str(job.lm.path))
    check_layout(job.lm, info.columns, info.name)
    check_columns(job.cm, columns)
    return finder, columns, at_open


def shift_rows(result: ChunkResult, delta: int) -> ChunkResult:
    """``result`` as if its chunk had been mapped ``delta`` rows further into the batch (an
    engine that maps a chunk before it knows how many rows come before it)."""
    if delta == 0:
        return result
    records = result.records
    i = records.schema.get_field_index(ROW_COL)
    rows = pc.add(records.column(i), pa.scalar(delta, pa.int64()))
    return dataclasses.replace(
        result,
        records=records.set_column(i, records.schema.field(i), rows),
        rejects=[dataclasses.replace(r, row=r.row + delta) for r in result.rejects],
    )
