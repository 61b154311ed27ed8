"""What the generic typed targets (xlsx, jsonl, parquet, archive) share: their columns, the
provenance of each record, refusing records with a reason, and publishing a finished file."""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from ..model import LINE_COL, SOURCE_COL, Kind
from ..outfiles import create_error, temp_file, write_error
from ..reports.ledger import Tally
from . import format as fmt
from .base import OutputFile, WriteContext, add_written, default_mode

ALL_KINDS = ("transaction", "invoice", "bill", "journal", "contact", "account", "item")
PROVENANCE = ("source_file", "source_line")
PROVENANCE_DOCS = {
    "source_file": "the input file the record came from",
    "source_line": "the line (or spreadsheet row) in that file where the record starts",
}


def header(kind: Kind) -> tuple[str, ...]:
    """The columns of a generic target: the kind's fields, then the provenance."""
    return (*kind.field_names, *PROVENANCE)


def source_files(records: pa.Table, sources: list[str]) -> pa.Array:
    """Each record's input file name."""
    return pc.take(pa.array(sources, pa.string()), fmt.column(records, SOURCE_COL))


def source_lines(records: pa.Table) -> pa.Array:
    """Each record's line in its input file, as int64."""
    return pc.cast(fmt.column(records, LINE_COL), pa.int64())


class TypedWriter:
    """What the generic typed writers share: the context, the tallies for the tie-out, and
    refusing records with a reason."""

    def __init__(self, ctx: WriteContext) -> None:
        self.ctx = ctx
        self.kind = ctx.kind
        self.sources = ctx.sources
        self.tally = Tally()
        self.rejected = Tally()

    def reject(self, records: pa.Table, field: str, rule: str, message: str) -> None:
        """Refuse ``records`` for this target; they count as rejected in its tie-out and are
        listed in rejects.csv."""
        if not records.num_rows:
            return
        add_written(self.rejected, records, self.kind)
        if self.ctx.reject is not None:
            self.ctx.reject(self.ctx.target, records, field, rule, message)


def publish(
    tmp: Path, path: Path, rows: int, *, shown: str = "", folder: Path | None = None
) -> OutputFile:
    """Flush ``tmp`` to disk, give it a plain file's mode, rename it to ``path``; describe it.
    A failure is reported as writing ``shown`` (default: the file's name) in ``folder``
    (default: its folder), a full disk as such."""
    digest = hashlib.sha256()
    size = 0
    try:
        with open(tmp, "rb+") as f:
            while block := f.read(1 << 20):
                digest.update(block)
                size += len(block)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, default_mode())
        os.replace(tmp, path)
    except OSError as e:
        raise write_error(e, folder or path.parent, shown or path.name, size) from None
    return OutputFile(path.name, rows, size, digest.hexdigest())


def unlink_all(paths: list[Path]) -> None:
    """Remove files a writer published: the run failed after all, and nothing of it stays."""
    for p in paths:
        with contextlib.suppress(OSError):
            p.unlink()


def written_size(path: Path | None) -> int:
    """Bytes written so far to ``path`` (0 when it cannot be told), for a disk-full message."""
    try:
        return path.stat().st_size if path is not None else 0
    except OSError:
        return 0


def temp_path(outdir: Path, stem: str) -> Path:
    """A new, empty temporary file beside the output (renamed into place by ``publish``)."""
    try:
        fd, path = temp_file(outdir, stem)
    except OSError as e:
        raise create_error(e, outdir) from None
    os.close(fd)
    return path
