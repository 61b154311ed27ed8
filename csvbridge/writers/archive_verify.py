"""``verify_archive``: re-check an archive folder written by the ``archive`` target, years later,
against its own ``datapackage.json`` (see csvbridge.writers.archive for what it holds)."""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from .archive import DESCRIPTOR, DIALECT

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


__all__ = ["Checked", "Problem", "VerifyResult", "verify_archive"]
