"""Markdown pieces of the mapping reference: docstrings as Markdown, table cells, types,
constraints and defaults of keys."""

from __future__ import annotations

import json
import re
from typing import Any, Literal, get_args, get_origin

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from .reference_models import keys, strip_annotated, union_args

# -- Markdown -----------------------------------------------------------------------------


def table_cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def anchor(path: str) -> str:
    return "section-" + (re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "top")


def section_title(path: str) -> str:
    return f"`{path}`" if path else "Top-level keys"


def _type(annotation: Any, links: dict[type[BaseModel], str]) -> str:
    a = strip_annotated(annotation)
    union = union_args(a)
    if union is not None:
        parts = [_type(x, links) for x in union if x is not type(None)]
        return " or ".join(dict.fromkeys(parts))
    origin = get_origin(a)
    if origin is Literal:
        return "one of " + ", ".join(f"`{json.dumps(v)}`" for v in get_args(a))
    if origin is list:
        return f"list of {_type(get_args(a)[0], links)}"
    if origin is dict:
        k, v = get_args(a)
        return f"map of {_type(k, links)} → {_type(v, links)}"
    if isinstance(a, type) and issubclass(a, BaseModel):
        path = links.get(a)
        return f"[{section_title(path)}](#{anchor(path)})" if path is not None else a.__name__
    names = {str: "text", int: "integer", bool: "`true` or `false`", float: "number"}
    return names.get(a, getattr(a, "__name__", str(a)))


def _constraints(info: FieldInfo) -> str:
    out = []
    for m in info.metadata:
        if isinstance(m, annotated_types.Ge):
            out.append(f"≥ {m.ge}")
        elif isinstance(m, annotated_types.Le):
            out.append(f"≤ {m.le}")
        elif isinstance(m, annotated_types.Gt):
            out.append(f"> {m.gt}")
        elif isinstance(m, annotated_types.Lt):
            out.append(f"< {m.lt}")
    return (" " + ", ".join(out)) if out else ""


def _default(info: FieldInfo) -> str:
    if info.is_required():
        return "**required**"
    if info.default_factory is not None:
        value: Any = info.default_factory()  # type: ignore[call-arg]
        if isinstance(value, BaseModel):
            return "(its keys' defaults)"
    else:
        value = info.default
    if value is None or value is PydanticUndefined:
        return "—"
    return f"`{json.dumps(value, ensure_ascii=False)}`"


def keys_table(model: type[BaseModel], links: dict[type[BaseModel], str]) -> list[str]:
    out = ["| key | type | default | description |", "| --- | --- | --- | --- |"]
    for k in keys(model):
        t = _type(k.info.annotation, links) + _constraints(k.info)
        cells = (
            f"`{k.name}`",
            table_cell(t),
            table_cell(_default(k.info)),
            table_cell(k.description),
        )
        out.append("| " + " | ".join(cells) + " |")
    return out
