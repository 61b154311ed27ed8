"""What every reader produces: raw text tables in chunks, and what it learned about the file."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from ..limits import DEFAULT_LIMITS, Limits


@dataclass(frozen=True)
class ReadOptions:
    """How to read a file. ``None`` means detect it; the report says what was detected."""

    encoding: str | None = None
    delimiter: str | None = None
    quotechar: str = '"'
    header_line: int | None = None  # 1-based physical line (or sheet row) of the header
    no_header: bool = False  # the file has no header row; columns are named by ``column_names``
    column_names: tuple[str, ...] = ()
    sheet: str | int | None = None  # xlsx: sheet name or 1-based index; None: the first
    expected_columns: tuple[str, ...] = ()  # names the mapping uses: they locate the header
    footer: bool = True  # treat short rows at the end of the file as a footer
    max_field_size: int = 10_000_000
    fixed_widths: tuple[tuple[str, int, int], ...] = ()  # (name, first, last) 1-based columns
    limits: Limits = DEFAULT_LIMITS  # see csvbridge/limits.py and docs/limits.md


@dataclass
class RowProblem:
    """Why a row the reader saw cannot be trusted as it stands (it is rejected, never dropped)."""

    rule: str
    message: str
    cells: list[str] | None = None  # the original cells, when they do not fit the table


@dataclass
class Detection:
    """One detected property of a file, with how sure we are and how it was decided."""

    value: Any
    confidence: float
    method: str

    def as_dict(self) -> dict[str, Any]:
        return {"value": self.value, "confidence": round(self.confidence, 3), "method": self.method}


@dataclass
class SourceInfo:
    """What a reader found in one input file; reported in full in report.json."""

    index: int
    name: str
    size: int
    sha256: str
    format: str
    detections: dict[str, Detection] = field(default_factory=dict)
    header_line: int | None = None
    columns: list[str] = field(default_factory=list)
    preamble: list[tuple[int, str]] = field(default_factory=list)
    footer: list[tuple[int, str]] = field(default_factory=list)
    blank_lines: int = 0
    rows: int = 0
    warnings: list[str] = field(default_factory=list)
    path: Path | None = None  # where it was read from (not reported: names stay relative)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready description of the file and what was detected."""
        return {
            "name": self.name,
            "size": self.size,
            "sha256": self.sha256,
            "format": self.format,
            "detected": {k: v.as_dict() for k, v in sorted(self.detections.items())},
            "header_line": self.header_line,
            "columns": self.columns,
            "preamble": [{"line": n, "text": t} for n, t in self.preamble],
            "footer": [{"line": n, "text": t} for n, t in self.footer],
            "blank_lines": self.blank_lines,
            "data_rows": self.rows,
            "warnings": self.warnings,
        }


@dataclass
class RawChunk:
    """A block of data rows as text: one string column per source column.

    ``lines`` holds each row's physical line (or sheet row); ``problems`` maps a row's
    position in the chunk to what is wrong with it as read.
    """

    source: int
    table: pa.Table
    lines: npt.NDArray[np.int64]
    problems: dict[int, RowProblem] = field(default_factory=dict)
    native_dates: bool = False  # spreadsheet cells that were real dates are ISO text

    @property
    def num_rows(self) -> int:
        return int(self.table.num_rows)
