"""What verify_archive finds: each problem with where it is, each file checked, and the
whole result."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAX_PROBLEMS = 50  # per file; the rest are counted


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


class ProblemList:
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
