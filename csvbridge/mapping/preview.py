"""Tooling for people who write mappings: checking one (every mistake it has, with file, line
and key), previewing what the first rows of a file become (the examples kept beside a mapping are
run by ``examples.py``).

``check_mapping`` and ``preview`` write nothing: no import file, no report, no history. The
preview reads the file with the pipeline's own building blocks (``open_source``,
``read_options``, ``check_layout``, ``check_columns``, ``CompiledMapping.apply``), so what it
shows is what ``csvbridge convert`` would make of those rows.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ..dates import DateFormatError, compile_format
from ..errors import CsvbridgeError, MappingError
from ..model import FieldType, Kind, get_kind
from ..readers.base import SourceInfo
from .compile import CompiledMapping
from .expressions import ExpressionError, Frame, parse
from .fields import Columns
from .formulas import Formulas
from .load import LoadedMapping, Where, _key_path, _yaml_data, load_mapping
from .model import Mapping
from .recognise import check_layout
from .rejects import RejectedRow

# Keys whose text is a formula (field expr:, filter and split when:, check rule:).
FORMULA_KEYS = ("expr", "when", "rule")


@dataclass
class MappingCheck:
    """The outcome of checking a mapping file: the loaded mapping when it is valid, and every
    problem found (each a MappingError whose ``where`` names the file, line and key)."""

    path: Path
    problems: list[CsvbridgeError] = field(default_factory=list)
    loaded: LoadedMapping | None = None

    @property
    def ok(self) -> bool:
        return not self.problems and self.loaded is not None


def check_mapping(path: str | Path) -> MappingCheck:
    """Validate the mapping at ``path`` as far as it can be without a file: the YAML, every key
    (unknown keys, wrong types, fields the kind lacks), every formula's syntax and types, every
    date format, every filter pattern. All problems are gathered, not just the first."""
    p = Path(path)
    out = MappingCheck(p)
    where: Where = {}
    raw: Any = None
    try:
        raw, where = _yaml_data(p.read_text(encoding="utf-8-sig"), str(p))
    except (OSError, UnicodeDecodeError):
        pass  # load_mapping below says what is wrong with the file
    except MappingError as e:
        out.problems.append(e)
        return out
    syntax = list(_formula_syntax(raw, p, where)) if raw is not None else []
    try:
        out.loaded = load_mapping(p)
    except MappingError as e:
        out.problems.append(e)
    out.problems += syntax
    if out.loaded is not None and not syntax:
        out.problems += _compile_problems(out.loaded, where)
    if out.problems:
        out.loaded = None
    return out


def _where(path: Path, key: str, where: Where) -> str:
    """``file, line N, key K`` for a key such as ``filters[2].when``."""
    parts = _key_path(key)
    for depth in range(len(parts), -1, -1):
        at = where.get(parts[:depth])
        if at is not None:
            return f"{at[0]}, line {at[1]}, key {key}"
    return f"{path}, key {key}"


def _walk(data: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    """Every (dotted key, value) in YAML data; list items as ``name[1]``."""
    if isinstance(data, dict):
        for k, v in data.items():
            sub = f"{key}.{k}" if key else str(k)
            yield sub, v
            yield from _walk(v, sub)
    elif isinstance(data, list):
        for i, v in enumerate(data, start=1):
            sub = f"{key}[{i}]"
            yield sub, v
            yield from _walk(v, sub)


def _formula_syntax(raw: Any, path: Path, where: Where) -> Iterator[MappingError]:
    """Syntax errors of every formula in the file, whether or not the rest is valid."""
    for key, value in _walk(raw):
        if key.rsplit(".", 1)[-1] in FORMULA_KEYS and isinstance(value, str):
            try:
                parse(value)
            except ExpressionError as e:
                yield MappingError(
                    f"the formula is not valid: {e.message}",
                    where=_where(path, key, where),
                    hint=e.hint or "see the formula language in mappings/README.md",
                    code="expression-invalid",
                )


def _compile_problems(lm: LoadedMapping, where: Where) -> list[CsvbridgeError]:
    """What a valid mapping's compilation would refuse, all of it: date formats, filter
    patterns, formula types; then whatever else CompiledMapping itself refuses."""
    m, path = lm.mapping, lm.path
    kind = get_kind(m.kind)
    found: list[CsvbridgeError] = []
    formats: dict[str, str | list[str] | None] = {"dates": m.dates}
    for key, spec in _field_specs(m):
        if kind.field(key.rsplit(".", 1)[-1]).type is FieldType.DATE and spec.format:
            formats[f"{key}.format"] = spec.format
    for fkey, fmts in formats.items():
        for fmt in [fmts] if isinstance(fmts, str) else fmts or []:
            try:
                compile_format(fmt)
            except DateFormatError as e:
                found.append(
                    MappingError(
                        str(e),
                        where=_where(path, fkey, where),
                        hint="use tokens DD, MM, MMM, YYYY, YY, e.g. DD/MM/YYYY",
                        code="date-format-invalid",
                    )
                )
    for i, f in enumerate(m.filters, start=1):
        if f.matches is None:
            continue
        try:  # Arrow's RE2 runs the pattern: it has no lookaround or backreferences
            pc.match_substring_regex(pa.array([""], pa.string()), f.matches)
            re.compile(f.matches)
        except (pa.ArrowInvalid, re.error) as e:
            found.append(
                MappingError(
                    f"filter '{f.name}': the regular expression is invalid: {e}",
                    where=_where(path, f"filters[{i}].matches", where),
                    hint="patterns are RE2: no lookaround (?=...) or backreferences \\1; "
                    "escape special characters like ( ) . +",
                    code="mapping-invalid",
                )
            )
    try:
        found += _formula_types(Formulas(m, str(path)), kind, path, where)
    except MappingError as e:
        found.append(_with_line(e, path, where))
    if not found:
        try:
            CompiledMapping(m, str(path))
        except MappingError as e:
            found.append(_with_line(e, path, where))
    return found


def _field_specs(m: Mapping) -> Iterator[tuple[str, Any]]:
    """(key, FieldSpec) of every field the mapping gives, split entries included."""
    for name, spec in m.fields.items():
        yield f"fields.{name}", spec
    for i, entry in enumerate(getattr(m, "split", None) or [], start=1):
        for name, spec in entry.fields.items():
            yield f"split[{i}].fields.{name}", spec


def _formula_types(
    formulas: Formulas, kind: Kind, path: Path, where: Where
) -> list[CsvbridgeError]:
    """Bind every formula as a file's text columns would: type errors, and conditions or
    money formulas that give the wrong type."""
    frame = Frame({n: pa.array([], pa.string()) for n in formulas.names()}, 0)
    found: list[CsvbridgeError] = []
    for f in formulas.all():
        want: str | None = "bool"
        if f.key.endswith(".expr"):
            name = f.key.rsplit(".", 2)[-2]
            want = "decimal" if kind.field(name).type is FieldType.MONEY else None
        try:
            formulas.bound(f, frame, want)
        except MappingError as e:
            found.append(_with_line(e, path, where, f.key))
    return found


def _with_line(e: MappingError, path: Path, where: Where, key: str | None = None) -> MappingError:
    """The error with the line of its key added to ``where`` (compile errors name the key)."""
    if key is None:
        m = re.search(r"key ([\w.\[\]()]+)", e.where)
        if m is None or not re.fullmatch(r"[\w.\[\]]+", m.group(1)):
            return e
        key = m.group(1)
    return MappingError(e.message, where=_where(path, key, where), hint=e.hint, code=e.code)


# -- preview ------------------------------------------------------------------------------


@dataclass
class Preview:
    """What the first rows of a file become with a mapping, as ``convert`` would make them."""

    mapping: LoadedMapping
    source: SourceInfo
    rows_read: int
    records: pa.Table  # canonical records (kind fields and provenance) of the rows read
    rejects: list[RejectedRow]
    filtered: int
    warnings: list[tuple[str, list[int]]]  # check name, lines (warning-severity checks)

    @property
    def kind(self) -> Kind:
        return get_kind(self.mapping.mapping.kind)

    def shown_fields(self) -> list[str]:
        """Fields worth a column: those the mapping gives, and any that hold a value."""
        given = {k.rsplit(".", 1)[-1] for k, _ in _field_specs(self.mapping.mapping)}
        return [
            f
            for f in self.kind.field_names
            if f in given or self.records.column(f).null_count < self.records.num_rows
        ]


def preview(
    mapping: str | Path | LoadedMapping,
    path: str | Path,
    rows: int = 10,
    encoding: str | None = None,
) -> Preview:
    """Map the first ``rows`` data rows of the file at ``path``. Raises CsvbridgeError for
    what ``convert`` would refuse (a missing column, a changed layout, an unreadable file);
    rejected rows come back with every reason. Writes nothing."""
    from ..pipeline import check_columns, read_options  # the pipeline imports this package
    from ..readers import open_source

    lm = mapping if isinstance(mapping, LoadedMapping) else load_mapping(mapping)
    cm = CompiledMapping(lm.mapping, str(lm.path))
    opts = read_options(lm, cm, encoding)
    with ExitStack() as stack:
        finder = open_source(Path(path), 0, opts, stack)
        info = finder.info
        columns = Columns(info.columns, info.name, str(lm.path))
        check_layout(lm, info.columns, info.name)
        check_columns(cm, columns)
        chunk = next(iter(finder.chunks(max(rows, 1))), None)
        if chunk is None:
            empty = cm.kind.arrow_schema().empty_table()
            return Preview(lm, info, 0, empty, [], 0, [])
        result = cm.apply(chunk, columns, 0)
    filtered = result.ledger.stages["filtered"].count
    return Preview(
        lm,
        info,
        chunk.num_rows,
        result.records,
        result.rejects,
        int(filtered),
        [(name, lines) for name, lines in result.warnings if lines],
    )
