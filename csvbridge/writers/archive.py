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
  the records written and their money per currency, and the mapping that made them (name,
  version, file, sha256). The run's full reconciliation report is
  ``report.json`` beside the archive folder: the pipeline writes it after every writer has
  closed, so it cannot be inside.

The folder is built under a temporary name in the output folder and renamed into place when
the run succeeds; an archive from an earlier run is replaced (moved aside first, then
removed; put back if the rename fails). A run that fails after the archive was put in place
(a later output, the history) removes it, as it removes every import file it wrote. No time
is recorded, so the same records give the same bytes.

``verify_archive(folder)`` (in csvbridge.writers.archive_verify) re-checks an archive: every
file's size and SHA-256 against the descriptor; every CSV against its Table Schema (the header
names the fields in order; each row has one cell per field; each value parses as its type —
string with its pattern, date in ISO format, number, integer; required fields are not empty;
the primary key is unique); the row counts; and the money per currency against what was
recorded as written. Parquet resources are checked for their columns, row count and that every
row group decodes. Each problem names the file, the row (and line) and the field. ``csvbridge
verify-archive DIR`` runs it from the command line.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import __version__
from ..errors import CsvbridgeError
from ..model import LINE_COL, SOURCE_COL
from ..outfiles import create_error, temp_file, temp_prefix, write_error
from . import format as fmt
from .archive_schema import parquet_schema, table_schema
from .base import CsvSink, Option, OutputFile, Target, WriteContext, add_written, csv_lines
from .base import default_mode as file_mode
from .tabular import (
    ALL_KINDS,
    COMPRESSION,
    PROVENANCE,
    ParquetSpool,
    TypedWriter,
    header,
    publish,
    source_files,
)

FOLDER = "archive"
DESCRIPTOR = "datapackage.json"
PACKAGE_PROFILE = "https://datapackage.org/profiles/2.0/datapackage.json"
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


def _dir_mode() -> int:
    """The mode a plainly created folder gets under the current umask."""
    mode = file_mode()
    return mode | ((mode & 0o444) >> 2)


class _ArchiveSink(CsvSink):
    """The archive's CSV, written in the archive's temporary folder: a failure names the
    output folder and ``archive/<kind>.csv``, not the temporary folder nobody sees."""

    def __init__(self, workdir: Path, outdir: Path, stem: str, header: list[str]) -> None:
        super().__init__(workdir, stem, header)
        self.shown_in = outdir

    def _unwritable(self, e: OSError) -> CsvbridgeError:
        self.abort()
        return create_error(e, self.shown_in)

    def _failed(self, e: OSError) -> CsvbridgeError:
        written = sum(size for _, size in self._hashes) + self._bytes
        self.abort()
        return write_error(e, self.shown_in, f"{FOLDER}/{self.stem}{self.extension}", written)


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
            raise create_error(e, ctx.outdir) from None
        self._placed = False  # the folder is renamed to archive/ (close succeeded)
        self.sink = _ArchiveSink(self.workdir, ctx.outdir, kind.name, list(header(kind)))
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
                "schema": table_schema(kind, self.empty, key),
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
                    "schema": parquet_schema(pschema),
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
        if self.ctx.mapping:
            section["mapping"] = dict(self.ctx.mapping)
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
        outdir = self.ctx.outdir
        if self.spool is not None:
            name = f"{kind.name}.parquet"
            tmp = self._temp(kind.name)
            schema = self.spool.finish(tmp, shown=f"{FOLDER}/{name}", folder=outdir)
            shown = f"{FOLDER}/{name}"
            pf = publish(tmp, self.workdir / name, self.spool.rows, shown=shown, folder=outdir)
            parquet = (pf, schema)
            files.append(pf)
        blob = json.dumps(self.descriptor(csv_file, parquet), indent=2, ensure_ascii=False)
        data = (blob + "\n").encode("utf-8")
        shown = f"{FOLDER}/{DESCRIPTOR}"
        try:
            fd, tmp = temp_file(self.workdir, DESCRIPTOR)
        except OSError as e:
            raise create_error(e, outdir) from None
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
        except OSError as e:
            raise write_error(e, outdir, shown, len(data)) from None
        files.append(publish(tmp, self.workdir / DESCRIPTOR, 0, shown=shown, folder=outdir))
        self._swap_into_place()
        return [OutputFile(f"{FOLDER}/{f.name}", f.rows, f.size, f.sha256) for f in files]

    def _temp(self, name: str) -> Path:
        """A new temporary file in the archive's folder (an error names the output folder)."""
        try:
            fd, path = temp_file(self.workdir, name)
        except OSError as e:
            raise create_error(e, self.ctx.outdir) from None
        os.close(fd)
        return path

    def _swap_into_place(self) -> None:
        final = self.ctx.outdir / FOLDER
        aside = None
        try:
            os.chmod(self.workdir, _dir_mode())
            if final.exists() or final.is_symlink():
                aside = Path(
                    tempfile.mkdtemp(prefix=f".{FOLDER}.", suffix=".old", dir=final.parent)
                )
                os.replace(final, aside / FOLDER)
            os.replace(self.workdir, final)
        except OSError as e:
            if aside is not None and os.path.lexists(aside / FOLDER):  # put the previous one back
                with contextlib.suppress(OSError):
                    os.replace(aside / FOLDER, final)
            if aside is not None:
                shutil.rmtree(aside, ignore_errors=True)
            err = write_error(e, self.ctx.outdir, f"the {FOLDER} folder")
            err.hint += " The previous archive, if any, is kept."
            raise err from None
        self._placed = True
        if aside is not None:
            shutil.rmtree(aside, ignore_errors=True)

    def abort(self) -> None:
        """Remove the archive folder, whether still temporary or already put in place by
        ``close``: nothing of a failed run stays in the output folder."""
        self.sink.abort()
        if self.spool is not None:
            self.spool.abort()
        shutil.rmtree(self.workdir, ignore_errors=True)
        if self._placed:
            shutil.rmtree(self.ctx.outdir / FOLDER, ignore_errors=True)
            self._placed = False


# == verification ===========================================================================
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

__all__ = ["TARGETS"]
