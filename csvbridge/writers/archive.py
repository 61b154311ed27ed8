"""The ``archive`` target: the records as a Frictionless Data Package (v2) that can be checked
years later without csvbridge's source, and ``verify_archive`` to check one.

The run writes the folder ``<outdir>/archive/``:

* ``<kind>.csv`` — every canonical field of the kind (ISO dates, money as plain decimals with
  the currency's decimals, decimals as exact text), then ``source_file`` and ``source_line``.
  UTF-8 without BOM, RFC 4180 quoting, CRLF. Text is written exactly as converted: no formula
  guard, so the archive holds the true values (open it with an import dialog, not a double
  click, if ever it must go into a spreadsheet).
* ``<kind>.parquet`` with option ``parquet=on`` — the same records with typed columns (see
  csvbridge.writers.tabular), as a second resource.
* ``datapackage.json`` — one resource per file written, each with its ``bytes``, its
  ``hash`` (``sha256:...``), its row count (``csvbridge.rows``) and a Table Schema: field
  names, types and formats, descriptions from the canonical model, ``required`` for the
  fields the model requires (when every record has them; otherwise the descriptor lists the
  field under ``csvbridge.required_but_empty``) and a ``primaryKey`` where the records prove
  one: the name (contacts) or code (accounts, items) when unique, else ``source_file`` +
  ``source_line`` when unique (a split mapping makes several records of one line). A
  ``csvbridge`` section records what the writer itself saw: csvbridge's version, the kind,
  the records written and their money per currency. The run's full reconciliation report is
  ``report.json`` beside the archive folder: the pipeline writes it after every writer has
  closed, so it cannot be inside.

The folder is built under a temporary name in the output folder and renamed into place when
the run succeeds; an archive from an earlier run is replaced (moved aside first, then
removed). No time is recorded, so the same records give the same bytes.

``verify_archive(folder)`` re-checks an archive: every file's size and SHA-256 against the
descriptor; every CSV against its Table Schema (the header names the fields in order; each
row has one cell per field; each value parses as its type — string with its pattern, date
in ISO format, number, integer; required fields are not empty; the primary key is unique);
the row counts; and the money per currency against what was recorded as written. Parquet
resources are checked for their columns, row count and that every row group decodes. Each
problem names the file, the row (and line) and the field. ``csvbridge verify-archive DIR``
runs it from the command line.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import __version__
from ..errors import OutputError
from ..model import LINE_COL, SOURCE_COL, FieldType
from ..outfiles import temp_prefix
from . import format as fmt
from .base import CsvSink, Option, OutputFile, Target, WriteContext, add_written, csv_lines
from .base import default_mode as file_mode
from .tabular import (
    ALL_KINDS,
    COMPRESSION,
    PROVENANCE,
    PROVENANCE_DOCS,
    ParquetSpool,
    TypedWriter,
    header,
    publish,
    source_files,
    temp_path,
)

FOLDER = "archive"
DESCRIPTOR = "datapackage.json"
PACKAGE_PROFILE = "https://datapackage.org/profiles/2.0/datapackage.json"
SCHEMA_PROFILE = "https://datapackage.org/profiles/2.0/tableschema.json"
DIALECT = {
    "delimiter": ",",
    "lineTerminator": "\r\n",
    "quoteChar": '"',
    "doubleQuote": True,
    "header": True,
}
REPORT_NOTE = (
    "report.json beside this folder is the run's full reconciliation report (inputs, "
    "ledger, tie-out, rejects, duplicates); it is written after the archive, so it is not "
    "inside it"
)
# The key that identifies a record of a kind, when the records prove it unique.
NATURAL_KEYS: dict[str, tuple[str, ...]] = {
    "contact": ("name",),
    "account": ("code",),
    "item": ("code",),
}
ROW_KEY = ("source_file", "source_line")
_TYPES = {
    FieldType.TEXT: "string",
    FieldType.CURRENCY: "string",
    FieldType.DATE: "date",
    FieldType.MONEY: "number",
    FieldType.DECIMAL: "number",
}


def _dir_mode() -> int:
    """The mode a plainly created folder gets under the current umask."""
    mode = file_mode()
    return mode | ((mode & 0o444) >> 2)


def _key_hashes(values: list[list[Any]]) -> np.ndarray:
    """A 64-bit hash of each row's key (the values of ``values``' columns)."""
    out = np.empty(len(values[0]) if values else 0, dtype=np.uint64)
    for i, parts in enumerate(zip(*values, strict=True)):
        blob = "\x1f".join("" if p is None else str(p) for p in parts).encode("utf-8")
        out[i] = int.from_bytes(hashlib.blake2b(blob, digest_size=8).digest(), "little")
    return out


class ArchiveWriter(TypedWriter):
    """Writes ``<outdir>/archive/``: the data files and ``datapackage.json``."""

    def __init__(self, ctx: WriteContext) -> None:
        super().__init__(ctx)
        kind = ctx.kind
        self.with_parquet = ctx.options.get("parquet", "off") == "on"
        try:
            self.workdir = Path(
                tempfile.mkdtemp(prefix=temp_prefix(FOLDER), suffix=".partial", dir=ctx.outdir)
            )
        except OSError as e:
            raise OutputError(
                f"cannot create the archive folder: {e.strerror}",
                where=str(ctx.outdir),
                hint="check the folder exists, is writable, and the disk has space.",
                code="output-unwritable",
            ) from None
        self.sink = CsvSink(self.workdir, kind.name, list(header(kind)))
        self.spool = (
            ParquetSpool(kind, ctx.sources, ctx.options.get("compression", COMPRESSION.default))
            if self.with_parquet
            else None
        )
        self.required = [f.name for f in kind.fields if f.required]
        self.empty: Counter[str] = Counter()
        natural = NATURAL_KEYS.get(kind.name)
        candidates = [natural, ROW_KEY] if natural else [ROW_KEY]
        self.keys: dict[tuple[str, ...], list[np.ndarray]] = {k: [] for k in candidates}
        self.key_nulls: Counter[tuple[str, ...]] = Counter()

    def write(self, records: pa.Table) -> None:
        if records.num_rows:
            kind = self.kind
            cells = [fmt.canonical(records, kind, f, guard=False) for f in kind.field_names]
            cells.append(source_files(records, self.sources))
            cells.append(pc.cast(fmt.column(records, LINE_COL), pa.string()))
            self.sink.write_lines(csv_lines(cells))
            for name in self.required:
                self.empty[name] += self._blank(records, name)
            self._track_keys(records)
            if self.spool is not None:
                self.spool.add(records)
        add_written(self.tally, records, self.kind)

    def _blank(self, records: pa.Table, name: str) -> int:
        col = fmt.column(records, name)
        if pa.types.is_string(col.type):
            return int(pc.sum(pc.fill_null(pc.equal(col, ""), True)).as_py() or 0)
        return int(col.null_count)

    def _track_keys(self, records: pa.Table) -> None:
        for key in self.keys:
            if key == ROW_KEY:  # exact, no hashing: file and line in one integer
                # by file name, as the CSV shows it: two inputs may share a name
                first = {name: i for i, name in reversed(list(enumerate(self.sources)))}
                by_name = np.array([first[name] for name in self.sources], dtype=np.int64)
                src = by_name[np.asarray(fmt.column(records, SOURCE_COL), dtype=np.int64)]
                line = np.asarray(fmt.column(records, LINE_COL), dtype=np.int64)
                self.keys[key].append(((src << 40) + line).astype(np.uint64))
                continue
            self.key_nulls[key] += sum(self._blank(records, n) for n in key)
            cols = [fmt.column(records, n).to_pylist() for n in key]
            self.keys[key].append(_key_hashes(cols))

    def primary_key(self) -> tuple[tuple[str, ...] | None, str]:
        """The first candidate key every record has and no two records share."""
        why = []
        for key, parts in self.keys.items():
            if self.key_nulls[key]:
                why.append(f"{' + '.join(key)}: {self.key_nulls[key]} record(s) without one")
                continue
            values = np.concatenate(parts) if parts else np.empty(0, np.uint64)
            if len(np.unique(values)) != len(values):
                why.append(f"{' + '.join(key)}: not unique")
                continue
            return key, ""
        return None, "; ".join(why)

    # -- the descriptor --
    def table_schema(self, key: tuple[str, ...] | None) -> dict[str, Any]:
        fields = []
        for f in self.kind.fields:
            d: dict[str, Any] = {"name": f.name, "type": _TYPES[f.type]}
            if f.type is FieldType.DATE:
                d["format"] = "default"
            desc = f.doc
            if f.type is FieldType.MONEY:
                desc = (desc + "; " if desc else "") + (
                    "in the record's currency, with that currency's decimals"
                )
            if f.type is FieldType.DECIMAL:
                desc = (desc + "; " if desc else "") + "an exact decimal"
            if desc:
                d["description"] = desc
            constraints: dict[str, Any] = {}
            if f.required and not self.empty[f.name]:
                constraints["required"] = True
            if f.type is FieldType.CURRENCY:
                constraints["pattern"] = "[A-Z]{3}"
                d.setdefault("description", "ISO 4217 currency code")
            if constraints:
                d["constraints"] = constraints
            fields.append(d)
        for name in PROVENANCE:
            fields.append(
                {
                    "name": name,
                    "type": "string" if name == "source_file" else "integer",
                    "description": PROVENANCE_DOCS[name],
                    "constraints": {"required": True},
                }
            )
        schema: dict[str, Any] = {
            "$schema": SCHEMA_PROFILE,
            "fields": fields,
            "missingValues": [""],
        }
        if key:
            schema["primaryKey"] = list(key)
        return schema

    def parquet_schema(self, schema: pa.Schema) -> dict[str, Any]:
        fields = []
        for f in schema:
            if pa.types.is_decimal(f.type):
                typ = "number"
            elif pa.types.is_integer(f.type):
                typ = "integer"
            elif pa.types.is_date(f.type):
                typ = "date"
            else:
                typ = "string"
            d: dict[str, Any] = {"name": f.name, "type": typ}
            desc = (f.metadata or {}).get(b"description", b"").decode("utf-8")
            if desc:
                d["description"] = desc
            fields.append(d)
        return {"$schema": SCHEMA_PROFILE, "fields": fields}

    def descriptor(
        self,
        csv_file: OutputFile,
        parquet: tuple[OutputFile, pa.Schema] | None,
    ) -> dict[str, Any]:
        kind = self.kind
        key, why = self.primary_key()
        resources: list[dict[str, Any]] = [
            {
                "name": kind.name,
                "type": "table",
                "path": csv_file.name,
                "title": f"{kind.name} records",
                "description": kind.doc,
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "bytes": csv_file.size,
                "hash": f"sha256:{csv_file.sha256}",
                "dialect": DIALECT,
                "schema": self.table_schema(key),
                "csvbridge": {"rows": csv_file.rows},
            }
        ]
        if parquet is not None:
            pf, pschema = parquet
            resources.append(
                {
                    "name": f"{kind.name}-parquet",
                    "type": "table",
                    "path": pf.name,
                    "title": f"{kind.name} records (Parquet)",
                    "description": kind.doc + " The same records as " + csv_file.name + ".",
                    "format": "parquet",
                    "mediatype": "application/vnd.apache.parquet",
                    "bytes": pf.size,
                    "hash": f"sha256:{pf.sha256}",
                    "schema": self.parquet_schema(pschema),
                    "csvbridge": {"rows": pf.rows},
                }
            )
        section: dict[str, Any] = {
            "version": __version__,
            "target": self.ctx.target or "archive",
            "kind": kind.name,
            "amount_field": kind.amount_field,
            "written": self.tally.as_dict(),
        }
        empty = {n: c for n, c in self.empty.items() if c}
        if empty:
            section["required_but_empty"] = dict(sorted(empty.items()))
        if key is None:
            section["no_primary_key"] = why
        section["report"] = REPORT_NOTE
        return {
            "$schema": PACKAGE_PROFILE,
            "name": f"csvbridge-{kind.name}",
            "title": f"{kind.name} records converted by csvbridge",
            "description": kind.doc,
            "sources": [{"title": s} for s in self.sources],
            "resources": resources,
            "csvbridge": section,
        }

    # -- publishing --
    def close(self) -> list[OutputFile]:
        kind = self.kind
        (csv_file,) = self.sink.close()
        files = [csv_file]
        parquet = None
        if self.spool is not None:
            tmp = temp_path(self.workdir, kind.name)
            schema = self.spool.finish(tmp)
            pf = publish(tmp, self.workdir / f"{kind.name}.parquet", self.spool.rows)
            parquet = (pf, schema)
            files.append(pf)
        blob = json.dumps(self.descriptor(csv_file, parquet), indent=2, ensure_ascii=False)
        data = (blob + "\n").encode("utf-8")
        tmp = temp_path(self.workdir, DESCRIPTOR)
        try:
            tmp.write_bytes(data)
        except OSError as e:
            raise OutputError(
                f"cannot write {DESCRIPTOR}: {e.strerror}",
                where=str(self.workdir),
                hint="check free disk space and permissions; no partial archive is kept.",
                code="output-write-failed",
            ) from None
        files.append(publish(tmp, self.workdir / DESCRIPTOR, 0))
        self._swap_into_place()
        return [OutputFile(f"{FOLDER}/{f.name}", f.rows, f.size, f.sha256) for f in files]

    def _swap_into_place(self) -> None:
        final = self.ctx.outdir / FOLDER
        try:
            os.chmod(self.workdir, _dir_mode())
            aside = None
            if final.exists() or final.is_symlink():
                aside = Path(
                    tempfile.mkdtemp(prefix=f".{FOLDER}.", suffix=".old", dir=final.parent)
                )
                os.replace(final, aside / FOLDER)
            os.replace(self.workdir, final)
        except OSError as e:
            raise OutputError(
                f"cannot put the archive in place: {e.strerror}",
                where=str(final),
                hint="check the output folder's permissions; the previous archive, if any, "
                "is kept.",
                code="output-write-failed",
            ) from None
        if aside is not None:
            shutil.rmtree(aside, ignore_errors=True)

    def abort(self) -> None:
        self.sink.abort()
        if self.spool is not None:
            self.spool.abort()
        shutil.rmtree(self.workdir, ignore_errors=True)


# == verification ===========================================================================
MAX_PROBLEMS = 50  # per file; the rest are counted
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|NaN|[+-]?INF")
_INTEGER = re.compile(r"[+-]?\d+")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TRUE, _FALSE = {"true", "True", "TRUE", "1"}, {"false", "False", "FALSE", "0"}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an archive: the file, where in it, and what."""

    file: str
    message: str
    row: int | None = None  # data row, 1 = the first after the header
    line: int | None = None  # physical line in the file
    field: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
            if self.line is not None and self.line != self.row + 1:
                where += f" (line {self.line})"
        if self.field:
            where += f", field {self.field}"
        return f"{where}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "row": self.row,
            "line": self.line,
            "field": self.field,
            "message": self.message,
        }


@dataclass
class Checked:
    """What was checked of one resource."""

    name: str
    path: str
    format: str
    rows: int | None = None
    checksum_ok: bool = False
    content_ok: bool = False


@dataclass
class VerifyResult:
    """The outcome of ``verify_archive``: ``ok`` when there are no problems."""

    folder: Path
    problems: list[Problem] = field(default_factory=list)
    resources: list[Checked] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    package: dict[str, Any] = field(default_factory=dict)  # the descriptor's csvbridge section

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "folder": str(self.folder),
            "ok": self.ok,
            "problems": [p.as_dict() for p in self.problems],
            "resources": [r.__dict__ for r in self.resources],
            "warnings": self.warnings,
        }

    def lines(self) -> list[str]:
        """The result as a person reads it."""
        out = []
        kind = self.package.get("kind")
        made = f" (csvbridge {self.package.get('version')}, {kind} records)" if kind else ""
        out.append(f"archive  {self.folder}{made}")
        for r in self.resources:
            rows = f"{r.rows:,} rows" if r.rows is not None else "rows unknown"
            check = "sha256 ok" if r.checksum_ok else "sha256 DIFFERS"
            content = "schema ok" if r.content_ok else "schema FAILED"
            out.append(f"  {r.path}: {rows}, {check}, {content}")
        for w in self.warnings:
            out.append(f"warning  {w}")
        if self.ok:
            out.append(
                "ok: every checksum matches, every row conforms to its schema, and the row "
                "counts and money totals match the descriptor"
            )
        else:
            n = len(self.problems)
            out.append(f"FAILED: {n} problem{'s' if n != 1 else ''}")
            out += [f"  {p}" for p in self.problems]
        return out


class _Problems:
    """Problems of one file, the first MAX_PROBLEMS kept and the rest counted."""

    def __init__(self, result: VerifyResult, file: str) -> None:
        self.result = result
        self.file = file
        self.count = 0

    def add(
        self,
        message: str,
        row: int | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.count += 1
        if self.count <= MAX_PROBLEMS:
            self.result.problems.append(Problem(self.file, message, row, line, field))

    def finish(self) -> None:
        if self.count > MAX_PROBLEMS:
            more = self.count - MAX_PROBLEMS
            self.result.problems.append(
                Problem(self.file, f"... and {more:,} more problem(s) in this file")
            )


def _sha256(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def _show(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:37] + "...")


def _value_error(value: str, spec: dict[str, Any]) -> str | None:
    """Why ``value`` (not missing) does not conform to the field ``spec``, or None."""
    typ = spec.get("type", "string")
    if typ == "string":
        pass
    elif typ == "number":
        if not _NUMBER.fullmatch(value):
            return f"{_show(value)} is not a number"
    elif typ == "integer":
        if not _INTEGER.fullmatch(value):
            return f"{_show(value)} is not an integer"
    elif typ == "date":
        ok = bool(_DATE.fullmatch(value))
        if ok:
            try:
                date.fromisoformat(value)
            except ValueError:
                ok = False
        if not ok:
            return f"{_show(value)} is not a date (YYYY-MM-DD)"
    elif typ == "boolean":
        if value not in _TRUE | _FALSE:
            return f"{_show(value)} is not a boolean"
    else:
        return f"type {typ!r} is not one verify-archive checks"
    cons = spec.get("constraints") or {}
    pattern = cons.get("pattern")
    if pattern is not None and not re.fullmatch(pattern, value):
        return f"{_show(value)} does not match the pattern {pattern}"
    enum = cons.get("enum")
    if enum is not None and value not in [str(e) for e in enum]:
        return f"{_show(value)} is not one of {', '.join(map(str, enum))}"
    return None


def _inside(folder: Path, rel: Any) -> Path | None:
    """``rel`` as a file inside ``folder``, or None if it points anywhere else."""
    if not isinstance(rel, str) or not rel or rel.startswith(("/", "\\")) or "://" in rel:
        return None
    p = Path(rel)
    if p.is_absolute() or ".." in p.parts:
        return None
    full = folder / p
    try:
        full.resolve().relative_to(folder.resolve())
    except ValueError:
        return None
    return full


class _CsvCheck:
    """One CSV resource checked against its Table Schema, streaming."""

    def __init__(
        self,
        path: Path,
        res: dict[str, Any],
        problems: _Problems,
        amount_field: str | None,
    ) -> None:
        self.path = path
        self.res = res
        self.problems = problems
        schema = res.get("schema") if isinstance(res.get("schema"), dict) else {}
        self.fields: list[dict[str, Any]] = [
            f for f in (schema or {}).get("fields") or [] if isinstance(f, dict)
        ]
        self.names = [str(f.get("name", "")) for f in self.fields]
        self.missing = set((schema or {}).get("missingValues", [""]))
        pk = (schema or {}).get("primaryKey") or []
        self.pk = [pk] if isinstance(pk, str) else list(pk)
        self.amount_field = amount_field
        self.totals: dict[str, Decimal] = {}
        self.without_amount = 0
        self.rows = 0
        self.ok = True

    def _rows(self) -> Iterator[tuple[int, list[str]]]:
        dialect = self.res.get("dialect") if isinstance(self.res.get("dialect"), dict) else {}
        d = {**DIALECT, **(dialect or {})}
        encoding = str(self.res.get("encoding") or "utf-8")
        with open(self.path, encoding=encoding, newline="") as f:
            reader = csv.reader(
                f,
                delimiter=str(d["delimiter"]),
                quotechar=str(d["quoteChar"]),
                doublequote=bool(d["doubleQuote"]),
                strict=True,
            )
            start = 1
            for row in reader:
                yield start, row
                start = reader.line_num + 1

    def run(self) -> None:
        add = self.problems.add
        rows = self._rows()
        try:
            first = next(rows, None)
            if first is None:
                add("the file is empty: no header row")
                self.ok = False
                return
            self._header(first[1])
            pk_idx = [self.names.index(n) for n in self.pk if n in self.names]
            hashes: list[int] = []
            for line, row in rows:
                self.rows += 1
                self._row(self.rows, line, row)
                if pk_idx and len(row) == len(self.names):
                    hashes.append(self._pk_hash(row, pk_idx))
        except UnicodeDecodeError as e:
            add(
                f"not valid {self.res.get('encoding') or 'utf-8'} after row {self.rows}: {e.reason}"
            )
            self.ok = False
            return
        except csv.Error as e:
            add(f"not valid CSV after row {self.rows}: {e}", self.rows + 1)
            self.ok = False
            return
        if pk_idx:
            self._unique(hashes, pk_idx)

    def _header(self, head: list[str]) -> None:
        if head == self.names:
            return
        self.ok = False
        missing = [n for n in self.names if n not in head]
        extra = [h for h in head if h not in self.names]
        parts = []
        if missing:
            parts.append("missing " + ", ".join(missing))
        if extra:
            parts.append("not in the schema " + ", ".join(extra))
        if not parts:
            parts.append("the columns are in another order than the schema's fields")
        self.problems.add("the header does not match the schema: " + "; ".join(parts), line=1)

    def _row(self, n: int, line: int, row: list[str]) -> None:
        if len(row) != len(self.fields):
            self.ok = False
            self.problems.add(
                f"has {len(row)} cells, the schema has {len(self.fields)} fields", n, line
            )
            return
        values = dict(zip(self.names, row, strict=True))
        for spec, value in zip(self.fields, row, strict=True):
            name = str(spec.get("name", ""))
            if value in self.missing:
                if (spec.get("constraints") or {}).get("required") or name in self.pk:
                    self.ok = False
                    self.problems.add("is empty, and the schema requires it", n, line, name)
                continue
            why = _value_error(value, spec)
            if why is not None:
                self.ok = False
                self.problems.add(why, n, line, name)
        if self.amount_field in values:
            amount = values[str(self.amount_field)]
            cur = values.get("currency", "")
            try:
                if amount in self.missing:
                    raise InvalidOperation
                self.totals[cur] = self.totals.get(cur, Decimal(0)) + Decimal(amount)
            except InvalidOperation:
                self.without_amount += 1

    def _pk_hash(self, row: list[str], idx: list[int]) -> int:
        blob = "\x1f".join(row[i] for i in idx).encode("utf-8")
        return int.from_bytes(hashlib.blake2b(blob, digest_size=8).digest(), "little")

    def _unique(self, hashes: list[int], idx: list[int]) -> None:
        arr = np.array(hashes, dtype=np.uint64)
        uniq, counts = np.unique(arr, return_counts=True)
        dup = set(uniq[counts > 1].tolist())
        if not dup:
            return
        seen: dict[tuple[str, ...], int] = {}  # only rows whose hash repeats: a second pass
        rows = self._rows()
        next(rows, None)
        for n, (line, row) in enumerate(rows, start=1):
            if len(row) != len(self.names) or self._pk_hash(row, idx) not in dup:
                continue
            key = tuple(row[i] for i in idx)
            if key in seen:
                self.ok = False
                self.problems.add(
                    f"primary key {' + '.join(self.pk)} = {', '.join(map(_show, key))} repeats "
                    f"row {seen[key]}",
                    n,
                    line,
                )
            else:
                seen[key] = n


_ARROW_TYPES: dict[str, Callable[[pa.DataType], bool]] = {
    "string": lambda t: pa.types.is_string(t) or pa.types.is_large_string(t),
    "number": lambda t: pa.types.is_decimal(t) or pa.types.is_floating(t) or pa.types.is_integer(t),
    "integer": pa.types.is_integer,
    "date": pa.types.is_date,
    "boolean": pa.types.is_boolean,
}


def _check_parquet(path: Path, res: dict[str, Any], problems: _Problems) -> tuple[int | None, bool]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(str(path))
    except (pa.ArrowException, OSError) as e:
        problems.add(f"not a readable Parquet file: {e}")
        return None, False
    ok = True
    schema = res.get("schema") if isinstance(res.get("schema"), dict) else {}
    fields = [f for f in (schema or {}).get("fields") or [] if isinstance(f, dict)]
    names = [str(f.get("name", "")) for f in fields]
    arrow = pf.schema_arrow
    if arrow.names != names:
        ok = False
        problems.add(
            "the columns do not match the schema: the file has "
            + ", ".join(arrow.names)
            + "; the schema lists "
            + ", ".join(names)
        )
    else:
        for f in fields:
            test = _ARROW_TYPES.get(str(f.get("type")))
            typ = arrow.field(str(f["name"])).type
            if test is not None and not test(typ):
                ok = False
                problems.add(f"is {typ}, the schema says {f.get('type')}", field=str(f["name"]))
    rows = 0
    try:
        for i in range(pf.num_row_groups):
            table = pf.read_row_group(i)
            for f in fields:
                if (f.get("constraints") or {}).get("required") and f["name"] in table.column_names:
                    nulls = table.column(f["name"]).null_count
                    if nulls:
                        ok = False
                        problems.add(
                            f"{nulls} empty value(s) in row group {i + 1}; the schema requires it",
                            field=str(f["name"]),
                        )
            rows += table.num_rows
    except (pa.ArrowException, OSError) as e:
        problems.add(f"a row group does not decode: {e}")
        return None, False
    return rows, ok


def verify_archive(folder: str | Path) -> VerifyResult:
    """Re-check an archive written by the ``archive`` target (see the module docstring)."""
    root = Path(folder)
    result = VerifyResult(root)
    top = _Problems(result, DESCRIPTOR)
    desc_path = root / DESCRIPTOR
    if not root.is_dir():
        top.add(f"{root} is not a folder")
        return result
    if not desc_path.is_file():
        top.add("missing: without it nothing can be checked (is this an archive folder?)")
        return result
    try:
        desc = json.loads(desc_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        top.add(f"not valid JSON: {e}")
        return result
    if not isinstance(desc, dict) or not isinstance(desc.get("resources"), list):
        top.add("not a Data Package descriptor: it has no list of resources")
        return result
    section = desc.get("csvbridge") if isinstance(desc.get("csvbridge"), dict) else {}
    result.package = dict(section or {})
    amount_field = result.package.get("amount_field")
    listed = {DESCRIPTOR}
    main: _CsvCheck | None = None
    for i, res in enumerate(desc["resources"], start=1):
        if not isinstance(res, dict):
            top.add(f"resource {i} is not an object")
            continue
        rel = res.get("path")
        name = str(res.get("name") or rel or f"resource {i}")
        path = _inside(root, rel)
        if path is None:
            top.add(f"resource {name}: path {rel!r} is not a file inside the archive")
            continue
        listed.add(Path(str(rel)).as_posix())
        label = str(rel)
        probs = _Problems(result, label)
        fmt_name = str(res.get("format") or Path(label).suffix.lstrip(".")).lower()
        checked = Checked(name, label, fmt_name)
        result.resources.append(checked)
        if not path.is_file():
            probs.add("missing: the descriptor lists it, the folder does not have it")
            probs.finish()
            continue
        checked.checksum_ok = _check_checksum(path, res, probs)
        expected_rows = (res.get("csvbridge") or {}).get("rows")
        rows: int | None
        if fmt_name == "csv":
            check = _CsvCheck(path, res, probs, amount_field if main is None else None)
            check.run()
            rows, content_ok = check.rows, check.ok
            if main is None:
                main = check
                content_ok &= _check_written(check, result.package, expected_rows)
        elif fmt_name == "parquet":
            rows, content_ok = _check_parquet(path, res, probs)
        else:
            rows, content_ok = None, True
            result.warnings.append(f"{label}: format {fmt_name!r} is checked by checksum only")
        checked.rows = rows
        if rows is not None and isinstance(expected_rows, int) and rows != expected_rows:
            content_ok = False
            probs.add(f"{rows:,} data rows, the descriptor says {expected_rows:,}")
        checked.content_ok = content_ok
        probs.finish()
    top.finish()
    for p in sorted(root.rglob("*")):
        rel_p = p.relative_to(root).as_posix()
        if p.is_file() and rel_p not in listed:
            result.warnings.append(f"{rel_p}: in the folder, not in the descriptor (not checked)")
    return result


def _check_checksum(path: Path, res: dict[str, Any], probs: _Problems) -> bool:
    digest, size = _sha256(path)
    ok = True
    want_size = res.get("bytes")
    if isinstance(want_size, int) and want_size != size:
        ok = False
        probs.add(f"{size:,} bytes, the descriptor says {want_size:,}")
    want = str(res.get("hash") or "")
    algo, _, value = want.rpartition(":")
    if not want:
        probs.add("the descriptor has no hash for it")
        return False
    if (algo or "md5") != "sha256":
        probs.add(f"the descriptor's hash is {algo or 'md5'}, verify-archive checks sha256")
        return False
    if value.lower() != digest:
        ok = False
        probs.add(
            "the SHA-256 differs from the descriptor's: the file changed after it was "
            f"archived (descriptor {value[:16]}..., file {digest[:16]}...)"
        )
    return ok


def _check_written(check: _CsvCheck, section: dict[str, Any], resource_rows: Any) -> bool:
    """The records and money the descriptor recorded as written, against the CSV (a count
    the resource already states is checked there, not twice)."""
    written = section.get("written") if isinstance(section.get("written"), dict) else None
    if not written:
        return True
    add = check.problems.add
    ok = True
    rows = written.get("rows")
    if isinstance(rows, int) and rows != check.rows and rows != resource_rows:
        ok = False
        add(f"{check.rows:,} records; the descriptor's csvbridge.written records {rows:,}")
    amounts = written.get("amounts")
    if not check.amount_field or not isinstance(amounts, dict):
        return ok
    for cur in sorted(set(amounts) | set(check.totals)):
        want = amounts.get(cur)
        got = check.totals.get(cur, Decimal(0))
        try:
            same = want is not None and Decimal(str(want)) == got
        except InvalidOperation:
            same = False
        if not same:
            ok = False
            add(
                f"the {cur or '(no currency)'} total of {check.amount_field} is {got}; the "
                f"descriptor's csvbridge.written records {want if want is not None else 'none'}",
                field=check.amount_field,
            )
    blank = written.get("rows_without_amount")
    if isinstance(blank, int) and blank != check.without_amount:
        ok = False
        add(
            f"{check.without_amount:,} record(s) without a readable {check.amount_field}; the "
            f"descriptor's csvbridge.written records {blank:,}",
            field=check.amount_field,
        )
    return ok


PARQUET = Option(
    "parquet",
    ("on", "off"),
    "off",
    "also write the records as <kind>.parquet (a second resource)",
)

TARGETS = [
    Target(
        name="archive",
        kinds=ALL_KINDS,
        title="Frictionless Data Package (archive folder)",
        doc="The folder archive/ in the output folder: <kind>.csv (every canonical field, "
        "ISO dates, plain decimals, source_file and source_line; UTF-8, CRLF, no formula "
        "guard) and datapackage.json describing it — Table Schema with types, formats, "
        "descriptions, required fields and a primary key where the records prove one; size "
        "and SHA-256 of every file; rows and money written. Check it any time with "
        "csvbridge verify-archive DIR.",
        columns=("<the kind's fields>", *PROVENANCE),
        required=(),
        limits="none",
        factory=ArchiveWriter,
        options=(PARQUET, COMPRESSION),
        notes=(
            "report.json beside the archive folder is the run's full reconciliation report "
            "(written after the archive, so not inside it).",
            "An archive from an earlier run in the same output folder is replaced.",
        ),
    )
]

__all__ = ["TARGETS", "Checked", "Problem", "VerifyResult", "verify_archive"]
