"""The Table Schemas in an archive's datapackage.json: the CSV's (the kind's fields and
provenance, types, constraints, primary key) and the Parquet copy's."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pyarrow as pa

from ..model import FieldType, Kind
from .tabular import (
    PROVENANCE,
    PROVENANCE_DOCS,
)

SCHEMA_PROFILE = "https://datapackage.org/profiles/2.0/tableschema.json"
_TYPES = {
    FieldType.TEXT: "string",
    FieldType.CURRENCY: "string",
    FieldType.DATE: "date",
    FieldType.MONEY: "number",
    FieldType.DECIMAL: "number",
}


def table_schema(kind: Kind, empty: Counter[str], key: tuple[str, ...] | None) -> dict[str, Any]:
    """The Table Schema of the archive CSV: the kind's fields, then provenance; a field is
    required when it is and no record left it empty; ``key`` the primary key, if any."""
    fields = []
    for f in kind.fields:
        d: dict[str, Any] = {"name": f.name, "type": _TYPES[f.type]}
        if f.type is FieldType.DATE:
            d["format"] = "default"
        desc = f.doc
        if f.type is FieldType.MONEY:
            desc = (desc + "; " if desc else "") + (
                "in the record's currency, with that currency's decimals"
            )
        if f.type is FieldType.DECIMAL:
            desc = (desc + "; " if desc else "") + "an exact decimal"
        if desc:
            d["description"] = desc
        constraints: dict[str, Any] = {}
        if f.required and not empty[f.name]:
            constraints["required"] = True
        if f.type is FieldType.CURRENCY:
            constraints["pattern"] = "[A-Z]{3}"
            d.setdefault("description", "ISO 4217 currency code")
        if constraints:
            d["constraints"] = constraints
        fields.append(d)
    for name in PROVENANCE:
        fields.append(
            {
                "name": name,
                "type": "string" if name == "source_file" else "integer",
                "description": PROVENANCE_DOCS[name],
                "constraints": {"required": True},
            }
        )
    schema: dict[str, Any] = {
        "$schema": SCHEMA_PROFILE,
        "fields": fields,
        "missingValues": [""],
    }
    if key:
        schema["primaryKey"] = list(key)
    return schema


def parquet_schema(schema: pa.Schema) -> dict[str, Any]:
    """The Table Schema of the Parquet copy, from its Arrow schema."""
    fields = []
    for f in schema:
        if pa.types.is_decimal(f.type):
            typ = "number"
        elif pa.types.is_integer(f.type):
            typ = "integer"
        elif pa.types.is_date(f.type):
            typ = "date"
        else:
            typ = "string"
        d: dict[str, Any] = {"name": f.name, "type": typ}
        desc = (f.metadata or {}).get(b"description", b"").decode("utf-8")
        if desc:
            d["description"] = desc
        fields.append(d)
    return {"$schema": SCHEMA_PROFILE, "fields": fields}
