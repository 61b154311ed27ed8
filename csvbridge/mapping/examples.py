"""The examples kept beside a mapping (``examples/<mapping stem>/<case>/input.<ext>``): each
input is converted into a temporary folder, without history, and its canonical CSV compared
with the case's ``expected.csv`` (and its rejects with ``expected_rejects.csv``)."""

from __future__ import annotations

import csv
import difflib
import io
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ..errors import CsvbridgeError
from .load import LoadedMapping, load_mapping

EXPECTED = "expected.csv"
EXPECTED_REJECTS = "expected_rejects.csv"
MAX_DIFF_ROWS = 5  # differing rows shown per file


@dataclass
class CaseResult:
    """One example: passed, failed (``details`` say how), or could not run (an error)."""

    name: str
    status: Literal["pass", "fail", "error"]
    records: int = 0
    rejected: int = 0
    details: list[str] = field(default_factory=list)


@dataclass
class ExamplesRun:
    """Every example of a mapping, run."""

    folder: Path
    cases: list[CaseResult]

    @property
    def exit_code(self) -> int:
        """0: all passed; 1: some failed; 2: some could not run."""
        if any(c.status == "error" for c in self.cases):
            return 2
        return 1 if any(c.status == "fail" for c in self.cases) else 0


def examples_folder(mapping_path: str | Path) -> Path:
    """Where a mapping's examples live: ``examples/<stem>/`` beside the mapping file."""
    p = Path(mapping_path)
    return p.parent / "examples" / p.stem


def run_examples(mapping: str | Path | LoadedMapping) -> ExamplesRun:
    """Convert each example input with the mapping (no history, into a temporary folder) and
    compare with what the case expects. A case without ``expected_rejects.csv`` expects no
    row to be rejected. CsvbridgeError when the mapping has no examples."""
    lm = mapping if isinstance(mapping, LoadedMapping) else load_mapping(mapping)
    folder = examples_folder(lm.path)
    cases = sorted(p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
    if not cases:
        raise CsvbridgeError(
            "the mapping has no examples",
            where=str(folder),
            hint=f"add a folder per case: {folder}/<case>/input.csv (a few rows of a real "
            f"export) and {folder}/<case>/{EXPECTED} (what csvbridge convert --to csv writes "
            "for it); see mappings/README.md",
            code="examples-missing",
        )
    return ExamplesRun(folder, [_run_case(lm, c) for c in cases])


def _run_case(lm: LoadedMapping, case: Path) -> CaseResult:
    from ..pipeline import convert  # the pipeline imports this package

    inputs = sorted(p for p in case.glob("input.*") if p.is_file())
    if len(inputs) != 1 or not (case / EXPECTED).is_file():
        found = ", ".join(p.name for p in sorted(case.iterdir())) or "nothing"
        return CaseResult(
            case.name,
            "error",
            details=[
                f"a case needs one input.<ext> and {EXPECTED}; {case} holds {found}",
            ],
        )
    kind = lm.mapping.kind
    with tempfile.TemporaryDirectory(prefix="csvbridge-test-") as tmp:
        try:
            result = convert(inputs, lm, ["csv"], Path(tmp) / "out", history=False)
        except CsvbridgeError as e:
            return CaseResult(case.name, "error", details=e.render().splitlines())
        out = Path(tmp) / "out"
        details = compare_csv(case / EXPECTED, out / f"{kind}.csv")
        rejects = out / "rejects.csv"
        if (case / EXPECTED_REJECTS).is_file():
            details += compare_csv(case / EXPECTED_REJECTS, rejects)
        elif result.rejected:
            details += [
                f"{result.rejected} row(s) rejected, and the case has no {EXPECTED_REJECTS}:"
            ]
            details += [f"  {line}" for line in _reject_lines(rejects)]
        records = sum(
            f.rows for f in result.outputs if re.fullmatch(rf"{kind}(-\d+)?\.csv", f.name)
        )
    status: Literal["pass", "fail"] = "fail" if details else "pass"
    return CaseResult(case.name, status, records, result.rejected, details)


def _read_csv(path: Path) -> list[list[str]]:
    text = path.read_bytes().decode("utf-8-sig")
    return [row for row in csv.reader(io.StringIO(text, newline="")) if row]


def _csv_line(cells: list[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(cells)
    return buf.getvalue()


def _reject_lines(path: Path) -> list[str]:
    rows = _read_csv(path) if path.is_file() else []
    if not rows:
        return []
    head = rows[0]
    col = {name: head.index(name) for name in ("line", "rule", "message") if name in head}
    shown = [
        " ".join(f"{n} {r[i]}" if n == "line" else r[i] for n, i in col.items())
        for r in rows[1 : MAX_DIFF_ROWS + 1]
    ]
    return shown + (["..."] if len(rows) - 1 > MAX_DIFF_ROWS else [])


def compare_csv(expected: Path, got: Path) -> list[str]:
    """How ``got`` differs from ``expected`` (empty when it does not), comparing only the
    columns ``expected`` has, so an example can leave out columns it does not care about.
    Shows the first differing rows, each with the columns that differ."""
    want_rows = _read_csv(expected)
    got_rows = _read_csv(got) if got.is_file() else []
    if not want_rows:
        return [f"{expected.name} is empty: it needs at least the header row"]
    if not got_rows:
        return [f"{got.name} was not written (or is empty)"]
    want_head, got_head = want_rows[0], got_rows[0]
    unknown = [c for c in want_head if c not in got_head]
    if unknown:
        return [
            f"{expected.name} has column(s) {', '.join(unknown)} that {got.name} does not; "
            f"its columns are: {', '.join(got_head)}"
        ]
    idx = [got_head.index(c) for c in want_head]
    got_proj = [[r[i] if i < len(r) else "" for i in idx] for r in got_rows[1:]]
    want = [r + [""] * (len(want_head) - len(r)) for r in want_rows[1:]]
    if got_proj == want:
        return []
    line_col = next((c for c in ("source_line", "line") if c in got_head), None)
    line_at = got_head.index(line_col) if line_col is not None else None
    out = [
        f"{got.name} differs from {expected.name} "
        f"({len(want)} row(s) expected, {len(got_proj)} written):"
    ]
    shown = 0
    matcher = difflib.SequenceMatcher(None, [tuple(r) for r in want], [tuple(r) for r in got_proj])
    for op, w1, w2, g1, g2 in matcher.get_opcodes():
        if op == "equal":
            continue
        pairs = list(zip(range(w1, w2), range(g1, g2), strict=False)) if op == "replace" else []
        for wi, gi in pairs:
            where = f" (input line {got_rows[gi + 1][line_at]})" if line_at is not None else ""
            out.append(f"  row {wi + 1}{where}:")
            out.append(f"    - {_csv_line(want[wi])}")
            out.append(f"    + {_csv_line(got_proj[gi])}")
            for name, a, b in zip(want_head, want[wi], got_proj[gi], strict=True):
                if a != b:
                    out.append(f"      {name}: expected {a!r}, got {b!r}")
            shown += 1
        for wi in range(w1 + len(pairs), w2):
            out.append(f"  row {wi + 1}: expected, not written:")
            out.append(f"    - {_csv_line(want[wi])}")
            shown += 1
        for gi in range(g1 + len(pairs), g2):
            where = f" (input line {got_rows[gi + 1][line_at]})" if line_at is not None else ""
            out.append(f"  written, not expected{where}:")
            out.append(f"    + {_csv_line(got_proj[gi])}")
            shown += 1
        if shown >= MAX_DIFF_ROWS:
            out.append("  ... (further differences not shown)")
            break
    return out
