"""Readers turn input files into raw text tables. ``open_source`` picks one by file content."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import BinaryIO

from ..errors import InputFileError
from ..file_hash import file_sha256
from ..limits import exceeded
from .base import Detection, RawChunk, ReadOptions, RowProblem, SourceInfo
from .detect import sniff_format
from .table import TableFinder

Reader = Callable[[BinaryIO, SourceInfo, ReadOptions], TableFinder]


# Each reader's module is imported when a file needs it: a spreadsheet does not load the
# delimited readers (pyarrow.csv, ...), nor a CSV calamine.
def open_delimited(f: BinaryIO, info: SourceInfo, options: ReadOptions) -> TableFinder:
    """``delimited.open_delimited``."""
    from .delimited import open_delimited

    return open_delimited(f, info, options)


def open_spreadsheet(f: BinaryIO, info: SourceInfo, options: ReadOptions) -> TableFinder:
    """``excel.open_spreadsheet``."""
    from .excel import open_spreadsheet

    return open_spreadsheet(f, info, options)


def open_fixed_width(f: BinaryIO, info: SourceInfo, options: ReadOptions) -> TableFinder:
    """``fixed_width.open_fixed_width``."""
    from .fixed_width import open_fixed_width

    return open_fixed_width(f, info, options)


READERS: dict[str, Reader] = {
    "csv": open_delimited,
    "xlsx": open_spreadsheet,
    "xls": open_spreadsheet,
    "ods": open_spreadsheet,
}

__all__ = [
    "READERS",
    "Detection",
    "RawChunk",
    "ReadOptions",
    "RowProblem",
    "SourceInfo",
    "TableFinder",
    "file_sha256",
    "open_source",
]


def open_source(path: Path, index: int, options: ReadOptions, stack: ExitStack) -> TableFinder:
    """Open ``path`` with the reader its content calls for; the file closes with ``stack``."""
    try:
        f = stack.enter_context(path.open("rb"))
        size = path.stat().st_size
    except FileNotFoundError:
        raise InputFileError(
            "the input file does not exist",
            where=str(path),
            hint="check the path and the spelling.",
            code="file-not-found",
        ) from None
    except IsADirectoryError:
        raise InputFileError(
            "the input is a folder, not a file",
            where=str(path),
            hint="name the files inside it, for example folder/*.csv",
            code="file-not-found",
        ) from None
    except PermissionError:
        raise InputFileError(
            "the input file cannot be read (permission denied)",
            where=str(path),
            hint="check the file's permissions.",
            code="file-unreadable",
        ) from None
    cap = options.limits.max_file_bytes
    if cap and size > cap:
        raise exceeded(options.limits, "max_file_bytes", f"the file is {size:,} bytes", path.name)
    fmt = sniff_format(f.read(4096), path.name)
    f.seek(0)
    info = SourceInfo(
        index=index,
        name=display_name(path),
        size=size,
        sha256=file_sha256(path),
        format=fmt,
        path=path,
    )
    suffix = path.suffix.lower()
    expected = {"xlsx": (".xlsx", ".xlsm", ".xlsb"), "xls": (".xls",), "ods": (".ods",)}
    if fmt in expected and suffix not in expected[fmt]:
        info.warnings.append(f"the file is named {suffix or 'without extension'} but is {fmt}")
    if options.fixed_widths and fmt == "csv":
        info.format = "fixed-width"
        return open_fixed_width(f, info, options)
    return READERS[fmt](f, info, options)


def display_name(path: Path) -> str:
    """The file's name as reports and outputs show it. A name that is not valid UTF-8 (bytes
    from another system's encoding) shows its undecodable bytes as U+FFFD."""
    return path.name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
