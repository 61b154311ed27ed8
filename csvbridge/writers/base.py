"""What writers share: the target registry entry, the streaming atomic CSV sink with file
splitting, and vectorised CSV formatting (quoting, formula guard, line ends)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import TargetError
from ..model import Kind
from ..outfiles import default_mode as default_mode
from ..readers.arrow_buffers import text_bytes
from ..reports.ledger import Tally
from .sink import CsvSink as CsvSink
from .sink import OutputFile as OutputFile


@dataclass(frozen=True)
class Option:
    """A target option a user can set with ``-O NAME=VALUE``."""

    name: str
    choices: tuple[str, ...]
    default: str
    doc: str
    confidence: str = "C"  # C confirmed, R reported, U unconfirmed (see formats.md)


class Writer(Protocol):
    """Streams canonical records of one kind into one target's file(s). ``tally`` counts
    what it wrote and ``rejected`` what it refused (each refusal also goes to the context's
    ``reject``), so that the target's tie-out balances."""

    tally: Tally
    rejected: Tally

    def write(self, records: pa.Table) -> None: ...

    def close(self) -> list[OutputFile]: ...

    def abort(self) -> None: ...


RejectFn = Callable[[str, pa.Table, str, str, str], None]  # target, records, field, rule, msg


@dataclass
class WriteContext:
    """What a writer is given: where to write, the kind and options, the batch's source file
    names (indexed by the records' _source), and where to send records it must refuse."""

    outdir: Path
    kind: Kind
    options: dict[str, str]
    sources: list[str]
    target: str = ""
    reject: RejectFn | None = None
    # the mapping that made the records: name, version, file, sha256 (for formats with room
    # for it; report.json always carries it)
    mapping: dict[str, str] = field(default_factory=dict)

    def mapping_note(self) -> str:
        """``mapping NAME version V (sha256 H)``, or "" when the mapping is not known."""
        m = self.mapping
        if not m:
            return ""
        return f"mapping {m.get('name')} version {m.get('version')} (sha256 {m.get('sha256')})"


WriterFactory = Callable[[WriteContext], Writer]


@dataclass(frozen=True)
class Target:
    """One import format: what kind it takes and the rules it enforces."""

    name: str
    kinds: tuple[str, ...]
    title: str
    doc: str
    columns: tuple[str, ...]
    required: tuple[str, ...]
    limits: str
    factory: WriterFactory
    options: tuple[Option, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)
    family: str = ""  # the system's short name (qbo, xero): --to qbo picks by the kind

    def resolve_options(self, given: dict[str, str]) -> dict[str, str]:
        """Defaults overlaid by ``given``; TargetError on an unknown option or value."""
        known = {o.name: o for o in self.options}
        out = {o.name: o.default for o in self.options}
        for k, v in given.items():
            opt = known.get(k)
            if opt is None:
                raise TargetError(
                    f"target {self.name} has no option '{k}'",
                    where=f"-O {k}={v}",
                    hint="options: "
                    + (", ".join(known) or "none")
                    + f". See: csvbridge formats {self.name}",
                    code="option-unknown",
                )
            if opt.choices and v not in opt.choices:
                raise TargetError(
                    f"option {k} of {self.name} cannot be '{v}'",
                    where=f"-O {k}={v}",
                    hint=f"choose one of: {', '.join(opt.choices)}",
                    code="option-invalid",
                )
            out[k] = v
        return out


class CsvWriter:
    """Base of the CSV targets: a subclass names its file, header and limits, and turns
    records into cells; writing, splitting, counting for the tie-out and atomic publication
    are shared."""

    stem = ""
    header: tuple[str, ...] = ()
    max_rows: int | None = None
    max_bytes: int | None = None
    # Canonical text fields the target caps, in characters: longer ones are refused with the
    # reason rather than written into a file the target would reject or truncate.
    text_limits: dict[str, int] = {}  # noqa: RUF012 - read-only class data
    # True where cells() reads nothing but the records and the options, and check() only
    # refuses records (never changes them): the lines can then be made on the thread that
    # maps the chunks (chunk_prep.py) while this one writes.
    pure_cells: ClassVar[bool] = False

    def __init__(self, ctx: WriteContext) -> None:
        self.ctx = ctx
        self.kind = ctx.kind
        self.options = ctx.options
        self.sources = ctx.sources
        self.guard = ctx.options.get("formula_guard", "on") == "on"
        self.sink = CsvSink(
            ctx.outdir,
            self.stem or ctx.kind.name,
            list(self.header_for(ctx.kind)),
            max_rows=self.max_rows,
            max_bytes=self.max_bytes,
        )
        self.tally = Tally()
        self.rejected = Tally()

    def reject(self, records: pa.Table, field: str, rule: str, message: str) -> None:
        """Refuse ``records`` for this target, with the reason; they count as rejected in
        this target's tie-out and are listed in rejects.csv."""
        if not records.num_rows:
            return
        add_written(self.rejected, records, self.kind)
        if self.ctx.reject is not None:
            self.ctx.reject(self.ctx.target, records, field, rule, message)

    def check(self, records: pa.Table) -> pa.Table:
        """Refuse what the target cannot take; return the rest. Subclasses may extend."""
        for name, limit in self.text_limits.items():
            lengths = pc.fill_null(pc.utf8_length(records.column(name)), 0)
            over = pc.greater(lengths, limit)
            if pc.any(over).as_py():
                self.reject(
                    records.filter(over),
                    name,
                    "text-too-long",
                    f"longer than the {limit} characters {self.ctx.target or 'the target'} "
                    "accepts; shorten it in the source",
                )
                records = records.filter(pc.invert(over))
        return records

    def header_for(self, kind: Kind) -> tuple[str, ...]:
        """The header row (the class's ``header`` unless a subclass derives it from the kind)."""
        return self.header

    def cells(self, records: pa.Table) -> list[pa.Array]:
        """One text array per output column."""
        raise NotImplementedError

    def lines(self, records: pa.Table) -> pa.Array:
        """The CSV lines of ``records`` (as ``write`` writes them when ``check`` refuses
        none). Where ``pure_cells``, safe on another thread while this one writes."""
        return csv_lines(self.cells(records))

    def write(self, records: pa.Table) -> None:
        """Append records; counts them, with their money, for the tie-out."""
        self.write_prepared(records, None)

    def write_prepared(self, records: pa.Table, lines: pa.Array | None) -> None:
        """``write``, given the records' ``lines()`` when they were worked out already (a
        ``pure_cells`` writer, whose ``write`` is this)."""
        checked = self.check(records)
        if checked.num_rows:
            if lines is None or checked.num_rows != records.num_rows:
                lines = self.lines(checked)
            self.sink.write_lines(lines)
        add_written(self.tally, checked, self.kind)

    def close(self) -> list[OutputFile]:
        return self.sink.close()

    def abort(self) -> None:
        self.sink.abort()


def add_written(tally: Tally, records: pa.Table, kind: Kind) -> None:
    """Count what a writer wrote, with its money, for the tie-out."""
    n = records.num_rows
    mask = np.ones(n, dtype=bool)
    if kind.amount_field is None:
        tally.add(mask, None, None, None)
        return
    amt = records.column(kind.amount_field).combine_chunks()
    known = np.asarray(amt.is_valid(), dtype=bool)
    amounts = np.asarray(pc.fill_null(amt, 0), dtype=np.int64)
    tally.add(mask, amounts, known, records.column("currency").combine_chunks())


# -- vectorised CSV formatting --------------------------------------------------------------
def guard_formula(col: pa.Array) -> pa.Array:
    """Prefix text that a spreadsheet would run as a formula (= + - @ tab CR) with ``'``.
    A plain signed number (-12.50, +3) is left alone: a spreadsheet reads it as a number,
    and a person fixing rejects.csv must see the value as it was."""
    if not _any_starts_with(col, b"=+-@\t\r"):
        return col
    starts = pc.match_substring_regex(col, r"^[=+\-@\t\r]")
    number = pc.match_substring_regex(col, r"^[-+]?\d[\d.,]*$")
    risky = pc.fill_null(pc.and_(starts, pc.invert(number)), False)
    return pc.if_else(risky, pc.binary_join_element_wise("'", col, ""), col)


def single_line(col: pa.Array) -> pa.Array:
    """Replace line breaks and tabs inside a cell with a space (import files are one line a
    record)."""
    if not _contains_any(col, (b"\r", b"\n", b"\t")):
        return col
    return pc.replace_substring_regex(col, r"[\r\n\t]+", " ")


def quote_csv(col: pa.Array, delimiter: str = ",") -> pa.Array:
    """RFC 4180 minimal quoting: quote cells holding the delimiter, a quote or a line break."""
    col = pc.fill_null(col.cast(pa.string()), "")
    if not _contains_any(col, (delimiter.encode(), b'"', b"\r", b"\n")):
        return col
    needs = pc.match_substring_regex(col, f'[{delimiter}"\r\n]')
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(col, '"', '""'), '"', "")
    return pc.if_else(needs, quoted, col)


def csv_lines(columns: list[pa.Array], delimiter: str = ",", eol: str = "\r\n") -> pa.Array:
    """One string per record: quoted cells joined by ``delimiter``, ending with ``eol``."""
    cells = [quote_csv(c, delimiter) for c in columns]
    row = pc.binary_join_element_wise(*cells, delimiter) if len(cells) > 1 else cells[0]
    return pc.binary_join_element_wise(row, eol, "")


def _contains_any(col: pa.Array, needles: tuple[bytes, ...]) -> bool:
    """Whether any cell may hold one of ``needles`` (True when it cannot tell)."""
    found = text_bytes(col)
    if found is None:
        return True
    raw = found[1].tobytes()
    return any(n in raw for n in needles)


def _any_starts_with(col: pa.Array, first: bytes) -> bool:
    """Whether any cell may start with one of the ASCII bytes ``first`` (True when it cannot
    tell)."""
    found = text_bytes(col)
    if found is None:
        return True
    offs, raw = found
    starts = offs[:-1][offs[:-1] < offs[1:]]  # non-empty cells (a null's span is empty)
    if not len(starts):
        return False
    heads = np.frombuffer(raw, dtype=np.uint8)[starts]
    return bool(np.isin(heads, np.frombuffer(first, dtype=np.uint8)).any())
