"""The checks verify_archive runs on one file of an archive: its CSV rows against the
descriptor's schema (types, constraints, keys) and a Parquet copy against the CSV."""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from .archive import DIALECT
from .archive_result import ProblemList

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|NaN|[+-]?INF")
_INTEGER = re.compile(r"[+-]?\d+")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TRUE, _FALSE = {"true", "True", "TRUE", "1"}, {"false", "False", "FALSE", "0"}


def file_digest(path: Path) -> tuple[str, int]:
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


def inside_folder(folder: Path, rel: Any) -> Path | None:
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


class CsvCheck:
    """One CSV resource checked against its Table Schema, streaming."""

    def __init__(
        self,
        path: Path,
        res: dict[str, Any],
        problems: ProblemList,
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


def check_parquet(
    path: Path, res: dict[str, Any], problems: ProblemList
) -> tuple[int | None, bool]:
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
