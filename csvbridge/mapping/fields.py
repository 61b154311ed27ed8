"""Field sources and text operations over whole columns: column picks, constants, templates,
value maps and defaults. Everything returns text arrays; typing happens in compile.py."""

from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.compute as pc

from ..errors import MappingError
from ..readers.table import _norm
from .load import locate
from .model import ColumnRef, FieldSpec

_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]+)\}")


def is_position(ref: str) -> bool:
    """True for a column given by position: ``#1``, ``#12``."""
    return len(ref) > 1 and ref[0] == "#" and ref[1:].isdigit()


def template_columns(template: str) -> list[str]:
    """The column names a template refers to."""
    return [m.group(1) for m in _PLACEHOLDER.finditer(template) if m.group(1)]


def spec_columns(spec: FieldSpec) -> list[ColumnRef]:
    """Every column a field spec reads."""
    cols: list[ColumnRef] = []
    for ref in (spec.column, spec.money_in, spec.money_out):
        if ref is not None:
            cols.append(ref)
    if spec.template:
        cols.extend(template_columns(spec.template))
    return cols


class Columns:
    """Resolves a mapping's column references (name or 1-based number) against one file."""

    def __init__(self, names: list[str], source: str, mapping_src: str) -> None:
        self.names = names
        self.by_norm = {_norm(n): n for n in names}
        self.source = source
        self.mapping_src = mapping_src

    def resolve(self, ref: ColumnRef, key: str) -> str:
        """The file's column name for ``ref`` (a name, or ``#3`` for the third column);
        MappingError if the file has no such column."""
        if isinstance(ref, str) and is_position(ref):
            ref = int(ref[1:])
        if isinstance(ref, int):
            if 1 <= ref <= len(self.names):
                return self.names[ref - 1]
            raise MappingError(
                f"{key} asks for column {ref}, but the file has {len(self.names)} columns",
                where=f"{locate(self.mapping_src, key)}; file {self.source}",
                hint=f"columns are numbered 1 to {len(self.names)}: {', '.join(self.names)}",
                code="column-missing",
            )
        name = self.by_norm.get(_norm(ref))
        if name is None:
            raise MappingError(
                f"{key} names column '{ref}', which the file does not have",
                where=f"{locate(self.mapping_src, key)}; file {self.source}",
                hint=f"the file's columns are: {', '.join(self.names)}",
                code="column-missing",
            )
        return name


def text_of(table: pa.Table, name: str) -> pa.Array:
    """A column as trimmed text, nulls as empty strings."""
    col = table.column(name).combine_chunks()
    return pc.utf8_trim_whitespace(pc.fill_null(col, ""))


def constant(value: str, n: int) -> pa.Array:
    """A text array of ``n`` copies of ``value``."""
    return pa.nulls(n, pa.string()).fill_null(value)


def render_template(template: str, table: pa.Table, cols: Columns, key: str) -> pa.Array:
    """Fill ``{Column}`` placeholders row by row; the result is trimmed."""
    parts: list[pa.Array | str] = []
    pos = 0
    for m in _PLACEHOLDER.finditer(template):
        if m.start() > pos:
            parts.append(template[pos : m.start()])
        token = m.group()
        if token in ("{{", "}}"):
            parts.append(token[0])
        else:
            parts.append(text_of(table, cols.resolve(m.group(1), key)))
        pos = m.end()
    if pos < len(template):
        parts.append(template[pos:])
    n = table.num_rows
    arrays = [p if isinstance(p, pa.Array) else constant(p, n) for p in parts]
    if not arrays:
        return constant("", n)
    joined = pc.binary_join_element_wise(*arrays, "")
    return pc.utf8_trim_whitespace(joined)


def apply_map(values: pa.Array, spec: FieldSpec) -> pa.Array:
    """Apply ``map`` (exact match after trimming) and ``default`` (empty or unmapped cells)."""
    out = values
    if spec.map:
        keys = pa.array(list(spec.map.keys()), pa.string())
        idx = pc.index_in(values, value_set=keys)
        mapped = pc.take(pa.array(list(spec.map.values()), pa.string()), idx)
        if spec.default is not None:
            out = pc.fill_null(mapped, spec.default)
        else:
            out = pc.coalesce(mapped, values)
    elif spec.default is not None:
        out = pc.if_else(pc.equal(values, ""), spec.default, values)
    return out
