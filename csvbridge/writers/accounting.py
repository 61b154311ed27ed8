"""The base of the accounting-system writers (qbo.py, xero.py, sage.py): their shared options
and a sink that never splits a document across files."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import OutputError
from ..model import LINE_COL
from . import format as fmt
from .base import (
    CsvSink,
    CsvWriter,
    Option,
    WriteContext,
    add_written,
    csv_lines,
)
from .checks import BOM, FORMULA_START, Problem, as_mask, blank, document_ids, starts_of

DATE_ORDER = Option(
    "date_order",
    ("auto", "dmy", "mdy", "ymd"),
    "auto",
    "date order the target company uses: dmy = DD/MM/YYYY (UK, EU, AU, NZ), mdy = "
    "MM/DD/YYYY (US); auto = mdy for USD, dmy for other currencies, when the mapping's "
    "currency is a constant",
    confidence="R",
)


def bom_option(default: str, why: str) -> Option:
    """The per-target byte-order-mark switch (formats.md §0.1: contested, so an option)."""
    choices = ("auto", "on", "off") if default == "auto" else ("off", "on")
    return Option(
        "bom",
        choices,
        default,
        "start the file with a UTF-8 byte-order mark: "
        + ("auto = only when the file holds non-ASCII text; " if default == "auto" else "")
        + why,
        confidence="U",
    )


def tax_codes_option(example: str) -> Option:
    """Translate the canonical tax_type into this target's tax names or codes."""
    return Option(
        "tax_codes",
        (),
        "",
        "translate tax_type for this target, as FROM=TO pairs separated by ';' "
        f"(e.g. {example}); values not listed are written as they are",
    )


# -- what the accounting writers share ---------------------------------------------------------
class DocumentSink(CsvSink):
    """A CsvSink that never splits a document across files, caps documents per file, and
    with ``bom="auto"`` starts a file with a BOM only when it holds non-ASCII text."""

    def __init__(
        self, *args: Any, bom: str = "off", max_docs: int | None = None, **kw: Any
    ) -> None:
        super().__init__(*args, bom=bom == "on", **kw)
        self.auto_bom = bom == "auto"
        if self.auto_bom and self.max_bytes:
            self.max_bytes -= len(BOM)
        self.max_docs = max_docs
        self._docs = 0
        self._wide = False

    def sizes(self, lines: pa.Array) -> npt.NDArray[np.int64]:
        """Each line's size in bytes as written (single-byte encodings: one per character)."""
        utf8 = self.encoding.replace("-", "").lower() == "utf8"
        size = pc.binary_length(lines) if utf8 else pc.utf8_length(lines)
        return np.asarray(size, dtype=np.int64)

    def _open_part(self) -> None:
        super()._open_part()
        self._docs = 0
        self._wide = False

    def _part_prefix(self) -> bytes:
        return BOM if self.auto_bom and self._wide else b""

    def write_documents(self, lines: pa.Array, starts: npt.NDArray[np.int64]) -> None:
        """Append lines whose documents begin at ``starts``; a new part starts before a
        document that would not fit whole."""
        n = len(lines)
        if n == 0:
            return
        if self._fh is None:
            self._open_part()
        bounds = np.append(starts, n)
        # cum_*[d]: rows and bytes of the documents before document d
        cum_rows = bounds - bounds[0]
        cum_bytes = np.zeros(len(starts) + 1, dtype=np.int64)
        np.cumsum(np.add.reduceat(self.sizes(lines), starts), out=cum_bytes[1:])
        i, k = 0, len(starts)
        while i < k:
            fit = k - i
            if self.max_rows:
                room = self.max_rows - self._rows
                fit = min(fit, _fitting(cum_rows, i, room))
            if self.max_bytes:
                room = self.max_bytes - self._bytes
                fit = min(fit, _fitting(cum_bytes, i, room))
            if self.max_docs:
                fit = min(fit, self.max_docs - self._docs)
            if fit <= 0:
                if self._rows == 0:  # writers refuse such documents before they get here
                    raise OutputError(
                        "one document is larger than the target's file limits",
                        where=f"{self.stem}{self.extension}",
                        hint="this is a bug in csvbridge; please report it.",
                        code="record-too-large",
                    )
                self._open_part()
                continue
            part = lines.slice(int(bounds[i]), int(bounds[i + fit] - bounds[i]))
            self._wide = self._wide or not pc.all(pc.string_is_ascii(part)).as_py()
            super().write_lines(part)  # fits whole: the base never splits it
            self._docs += fit
            i += fit


def _fitting(cum: npt.NDArray[np.int64], i: int, room: int) -> int:
    """How many documents from document ``i`` fit in ``room`` (``cum``: running totals)."""
    return int(np.searchsorted(cum, cum[i] + room, side="right")) - 1 - i


class AccountingWriter(CsvWriter):
    """Base of the accounting-system targets. A subclass declares what it needs and what it
    caps; every record the target would choke on is refused with its reason (for a document
    kind, with every other line of its document: a document is written whole or not at all),
    and the file is split between documents, never inside one."""

    noun = "record"  # what a person calls one document (or row) of this target
    needs: tuple[str, ...] = ()  # canonical fields required on every record
    names: tuple[str, ...] = ()  # must match the target's lists exactly: refused, never '-prefixed
    unique: tuple[str, ...] = ()  # may appear once per run (compared ignoring case)
    same_in_document: tuple[str, ...] = ()  # header fields every line of a document repeats
    max_docs: int | None = None
    encoding = "utf-8"
    sink: DocumentSink

    def __init__(self, ctx: WriteContext) -> None:
        super().__init__(ctx)
        self.system = ctx.target or "the target"
        self.encoding = self.options.get("encoding", self.encoding)
        self.sink = DocumentSink(
            ctx.outdir,
            self.stem or ctx.kind.name,
            list(self.header_for(ctx.kind)),
            encoding=self.encoding,
            bom=self.options.get("bom", "off"),
            max_rows=self.max_rows,
            max_bytes=self.max_bytes,
            max_docs=self.max_docs,
            write_header=self.options.get("header", "on") == "on",
        )
        self.seen: dict[str, set[str]] = {f: set() for f in self.unique}

    # -- rules ---------------------------------------------------------------------------------
    def problems(self, records: pa.Table, docs: npt.NDArray[np.int64]) -> list[Problem]:
        """What this target refuses, in the order reasons are given. Subclasses extend it."""
        out = [
            Problem(
                blank(records, f),
                f,
                "target-required",
                f"{self.system} needs {f} on every {self.noun}; map it (or give a default) "
                "in the mapping",
            )
            for f in self.needs
        ]
        if self.guard:
            out += [
                Problem(
                    as_mask(pc.match_substring_regex(fmt.column(records, f), FORMULA_START)),
                    f,
                    "formula-like-name",
                    "starts with = + - or @, which a spreadsheet runs as a formula; the ' "
                    f"that guards other text would become part of the name in {self.system}. "
                    "Rename it in the source (or use -O formula_guard=off)",
                )
                for f in self.names
            ]
        for f, limit in self.text_limits.items():
            lengths = pc.fill_null(pc.utf8_length(fmt.column(records, f)), 0)
            out.append(
                Problem(
                    as_mask(pc.greater(lengths, limit)),
                    f,
                    "text-too-long",
                    f"longer than the {limit} characters {self.system} accepts; shorten it "
                    "in the source",
                )
            )
        for f in self.same_in_document:
            out += self._disagreements(records, docs, f)
        return out

    def _disagreements(
        self, records: pa.Table, docs: npt.NDArray[np.int64], name: str
    ) -> list[Problem]:
        vals = pc.fill_null(pc.cast(fmt.column(records, name), pa.string()), "")
        n = len(vals)
        if n < 2:
            return []
        # a document's lines are together: it disagrees where a line differs from the one above
        changed = ~as_mask(pc.equal(vals.slice(1), vals.slice(0, n - 1)))
        bad = np.unique(docs[1:][changed & (docs[1:] == docs[:-1])])
        if not len(bad):
            return []
        numbers = fmt.column(records, self.kind.document_key or name).to_pylist()
        out = []
        for d in bad:
            m = docs == d
            seen = sorted(set(vals.filter(pa.array(m)).to_pylist()))
            out.append(
                Problem(
                    m,
                    name,
                    "document-inconsistent",
                    f"the lines of {self.noun} {numbers[int(np.argmax(m))]} disagree on "
                    f"{name} ({', '.join(repr(s) for s in seen[:3])}); every line of one "
                    f"{self.noun} must have the same {name}. Give each {self.noun} its own "
                    "number",
                )
            )
        return out

    def refuse(
        self, records: pa.Table, docs: npt.NDArray[np.int64], problems: list[Problem]
    ) -> npt.NDArray[np.bool_]:
        """Reject what the problems name (first reason wins) and, for documents, the other
        lines of each refused document; return what is kept."""
        n = records.num_rows
        taken = np.zeros(n, dtype=bool)
        if not any(p.mask.any() for p in problems):
            return ~taken
        first: dict[int, tuple[int, str]] = {}  # document → (line, rule) of its first refusal
        lines = fmt.column(records, LINE_COL).to_pylist()
        for p in problems:
            m = p.mask & ~taken
            if not m.any():
                continue
            self.reject(records.filter(pa.array(m)), p.field, p.rule, p.message)
            for i in np.flatnonzero(m):
                first.setdefault(int(docs[i]), (lines[i], p.rule))
            taken |= m
        key = self.kind.document_key
        if key and taken.any():
            numbers = fmt.column(records, key).to_pylist()
            for d in sorted(first):
                m = (docs == d) & ~taken
                if m.any():
                    line, rule = first[d]
                    self.reject(
                        records.filter(pa.array(m)),
                        key,
                        "document-incomplete",
                        f"line {line} of {self.noun} {numbers[int(np.argmax(m))]} was refused "
                        f"({rule}), so the whole {self.noun} is left out; fix that line and "
                        "convert again",
                    )
                    taken |= m
        return ~taken

    def _unencodable(self, records: pa.Table) -> Problem:
        bad = np.zeros(records.num_rows, dtype=bool)
        for cell in self.cells(records):
            wide = np.flatnonzero(~as_mask(pc.string_is_ascii(pc.fill_null(cell, ""))))
            texts = cell.to_pylist()
            for i in wide:
                try:
                    texts[i].encode(self.encoding)
                except UnicodeEncodeError:
                    bad[i] = True
        return Problem(
            bad,
            "",
            "not-encodable",
            f"holds characters that {self.encoding} cannot represent, the encoding "
            f"{self.system} reads; change the text (or choose -O encoding=utf-8)",
        )

    def _repeats(self, records: pa.Table) -> list[Problem]:
        out = []
        for f in self.unique:
            m = np.zeros(records.num_rows, dtype=bool)
            for i, v in enumerate(fmt.column(records, f).to_pylist()):
                key = (v or "").strip().casefold()
                if key and key in self.seen[f]:
                    m[i] = True
                elif key:
                    self.seen[f].add(key)
            out.append(
                Problem(
                    m,
                    f,
                    "not-unique",
                    f"{f} repeats an earlier record's (ignoring case); {self.system} needs "
                    f"each {f} once",
                )
            )
        return out

    def check(self, records: pa.Table) -> pa.Table:
        docs = document_ids(records, self.kind.document_key)
        keep = self.refuse(records, docs, self.problems(records, docs))
        records, docs = records.filter(pa.array(keep)), docs[keep]
        if self.encoding.replace("-", "").lower() != "utf8" and records.num_rows:
            keep = self.refuse(records, docs, [self._unencodable(records)])
            records, docs = records.filter(pa.array(keep)), docs[keep]
        if self.unique and records.num_rows:  # last: only records otherwise fine claim a key
            records = records.filter(pa.array(self.refuse(records, docs, self._repeats(records))))
        return records

    def write(self, records: pa.Table) -> None:
        records = self.check(records)
        if records.num_rows:
            lines = csv_lines(self.cells(records))
            docs = document_ids(records, self.kind.document_key)
            keep = self.refuse(records, docs, self._oversize(lines, docs))
            if not keep.all():
                records, lines, docs = (
                    records.filter(pa.array(keep)),
                    lines.filter(pa.array(keep)),
                    docs[keep],
                )
            self.sink.write_documents(lines, starts_of(docs))
        add_written(self.tally, records, self.kind)

    def _oversize(self, lines: pa.Array, docs: npt.NDArray[np.int64]) -> list[Problem]:
        starts = starts_of(docs)
        rows = np.diff(np.append(starts, len(docs)))
        size = np.add.reduceat(self.sink.sizes(lines), starts)
        out = []
        if self.max_rows:
            out.append(
                Problem(
                    (rows > self.max_rows)[docs],
                    "",
                    "document-too-long",
                    f"this {self.noun} has more lines than one {self.system} file takes "
                    f"({self.max_rows}); split it in the source",
                )
            )
        if self.sink.max_bytes:
            room = self.sink.max_bytes - len(self.sink.head)
            out.append(
                Problem(
                    (size > room)[docs],
                    "",
                    "document-too-large",
                    f"this {self.noun} is larger than one {self.system} file may be "
                    f"({self.sink.max_bytes} bytes); shorten its text",
                )
            )
        return out
