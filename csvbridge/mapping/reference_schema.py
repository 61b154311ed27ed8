"""The mapping format's JSON Schema (mappings/mapping.schema.json), from the pydantic models."""

from __future__ import annotations

import json
from typing import Any

from ..model import KINDS
from .model import FieldSpec, Mapping
from .reference_models import SCHEMA_DIALECT, YAML_TEXT, keys, plain_text, sections

# -- JSON Schema --------------------------------------------------------------------------


def mapping_json_schema() -> dict[str, Any]:
    """The JSON Schema of a mapping file, for editors (completion, hover, validation).

    It is ``Mapping.model_json_schema()`` with what YAML and the loader add: a bare column
    name stands for a field's ``column:``; scalars are read as text (``version: 2`` is
    ``"2"``); a mapping that ``extends:`` another need not repeat its required keys; and a
    kind's field names (with their descriptions) under ``fields:``. Checks that need more
    than a schema (one source per field, a kind's required fields) are ``csvbridge check``'s.
    """
    schema = Mapping.model_json_schema()
    defs: dict[str, Any] = schema["$defs"]
    for section in sections():
        target = schema if section.model is Mapping else defs.get(section.model.__name__)
        if target is None:
            continue
        for key in keys(section.model):
            prop = target.get("properties", {}).get(key.name)
            if prop is not None and "description" not in prop and key.description:
                prop["description"] = plain_text(key.description)
    schema = _shorthand(schema)
    if "extends" in schema["properties"] and schema.get("required"):
        required = schema.pop("required")
        schema["if"] = {"required": ["extends"]}
        schema["then"] = {}
        schema["else"] = {"required": required}
    schema["allOf"] = [_kind_fields(name) for name in KINDS]
    schema = _text_scalars(schema)
    return {
        "$schema": SCHEMA_DIALECT,
        "$comment": "Generated from csvbridge/mapping/model.py by csvbridge.mapping.reference "
        "(python -m csvbridge.mapping.reference); do not edit by hand.",
        **schema,
    }


def schema_text() -> str:
    """``mapping.schema.json`` as written to disk."""
    return json.dumps(mapping_json_schema(), indent=2, ensure_ascii=False) + "\n"


def _shorthand(node: Any) -> Any:
    """A field spec may be a bare column name: ``date: Date`` is ``date: {column: Date}``."""
    ref = {"$ref": f"#/$defs/{FieldSpec.__name__}"}
    if isinstance(node, dict):
        out = {k: _shorthand(v) for k, v in node.items()}
        if out.get("additionalProperties") == ref:
            out["additionalProperties"] = _field_source()
        return out
    if isinstance(node, list):
        return [_shorthand(v) for v in node]
    return node


def _field_source(description: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"description": description} if description else {}
    out["anyOf"] = [
        {"type": "string", "description": "a column name (short for column:)"},
        {"$ref": f"#/$defs/{FieldSpec.__name__}"},
    ]
    return out


def _text_scalars(node: Any) -> Any:
    """Text-typed values also accept YAML numbers: the loader reads every scalar but
    true/false/null as text, so ``value: 0`` and ``version: 2`` are text to csvbridge."""
    if isinstance(node, dict):
        if node.get("type") == "string" and not {"enum", "const", "pattern"} & set(node):
            return {**node, **YAML_TEXT}
        return {k: v if k == "propertyNames" else _text_scalars(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_text_scalars(v) for v in node]
    return node


def _kind_fields(kind_name: str) -> dict[str, Any]:
    """For a mapping of one kind: the field names it may give, each described."""
    kind = KINDS[kind_name]
    props = {
        f.name: _field_source(
            f"{f.type.value}{', required' if f.required else ''}" + (f": {f.doc}" if f.doc else "")
        )
        for f in kind.fields
    }
    fields = {"propertyNames": {"enum": list(kind.field_names)}, "properties": props}
    then: dict[str, Any] = {"properties": {"fields": fields}}
    split = Mapping.model_fields.get("split")
    if split is not None:
        then["properties"]["split"] = {"items": {"properties": {"fields": fields}}}
    return {
        "if": {"properties": {"kind": {"const": kind_name}}, "required": ["kind"]},
        "then": then,
    }
