"""Lookup tables: a field's value translated through a table kept in the mapping or in a CSV
file beside it. A lookup file must lie inside the mapping's own folder — no ``..``, absolute
paths or links out of it — so a mapping cannot read files it was not given."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import MappingError
from .load import locate
from .model import LookupSpec


@dataclass(frozen=True)
class Lookup:
    """A loaded lookup table."""

    keys: pa.Array
    values: pa.Array
    spec: LookupSpec
    where: str

    def apply(self, text: pa.Array) -> tuple[pa.Array, npt.NDArray[np.bool_]]:
        """(looked-up values, rows whose non-empty value is not in the table)."""
        idx = pc.index_in(text, value_set=self.keys)
        found = pc.take(self.values, idx)
        missing = np.asarray(pc.and_(pc.is_null(idx), pc.not_equal(text, "")), dtype=bool)
        if self.spec.not_found == "default":
            out = pc.if_else(pa.array(missing), self.spec.default or "", pc.coalesce(found, text))
        else:  # reject and warn keep the value as it was; the caller reports the rows
            out = pc.coalesce(found, text)
        return out, missing


def load_lookup(spec: LookupSpec, mapping_path: str, key: str) -> Lookup:
    """Read the lookup's table (inline, or the CSV file beside the mapping)."""
    if spec.table is not None:
        return Lookup(
            pa.array(list(spec.table), pa.string()),
            pa.array(list(spec.table.values()), pa.string()),
            spec,
            key,
        )
    assert spec.file is not None
    folder = Path(mapping_path).resolve().parent
    path = (folder / spec.file).resolve()
    if not path.is_relative_to(folder):
        raise MappingError(
            f"the lookup file {spec.file!r} is outside the mapping's folder",
            where=locate(mapping_path, f"{key}.lookup.file"),
            hint="keep lookup files beside the mapping (or in a folder under it); a mapping "
            "may not read other files.",
            code="lookup-outside",
        )
    try:
        rows = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
    except OSError as e:
        raise MappingError(
            f"the lookup file cannot be read: {e.strerror}",
            where=locate(mapping_path, f"{key}.lookup.file"),
            hint="check the file name; it is read relative to the mapping.",
            code="lookup-unreadable",
        ) from None
    if not rows:
        raise MappingError(
            "the lookup file is empty",
            where=locate(mapping_path, f"{key}.lookup.file"),
            hint="give a header row and a row per value.",
            code="lookup-unreadable",
        )
    header = [h.strip() for h in rows[0]]
    k = header.index(spec.key) if spec.key in header else 0
    v = header.index(spec.value) if spec.value in header else min(1, len(header) - 1)
    for name in (spec.key, spec.value):
        if name is not None and name not in header:
            raise MappingError(
                f"the lookup file has no column {name!r}",
                where=f"{locate(mapping_path, f'{key}.lookup')}; file {spec.file}",
                hint=f"its columns are: {', '.join(header)}",
                code="lookup-unreadable",
            )
    body = [r for r in rows[1:] if len(r) > max(k, v)]
    return Lookup(
        pa.array([r[k].strip() for r in body], pa.string()),
        pa.array([r[v].strip() for r in body], pa.string()),
        spec,
        key,
    )
