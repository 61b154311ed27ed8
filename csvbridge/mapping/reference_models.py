"""The mapping models walked for the reference: its sections and the keys of each."""

from __future__ import annotations

import inspect
import re
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from .model import Mapping

MAPPINGS_DIR = Path(__file__).resolve().parents[2] / "mappings"
SCHEMA_NAME = "mapping.schema.json"
README_NAME = "README.md"
# Draft 7: what the YAML language server (and so most editors) fully supports. The schema uses
# only draft-7 keywords; its $refs are JSON pointers into $defs, as pydantic writes them.
SCHEMA_DIALECT = "http://json-schema.org/draft-07/schema#"

# The worked example at the end of the reference: a ready mapping and one of its examples.
EXAMPLE_MAPPING = "uk_bank.yaml"
EXAMPLE_CASE = "statement"

# Descriptions for keys whose model field has none (a model description always wins).
FALLBACK_DESCRIPTIONS: dict[tuple[str, str], str] = {
    ("Mapping", "kind"): "the kind of record every row becomes; see Canonical kinds",
    ("Mapping", "description"): "free text for people: which export this mapping is for",
    ("Mapping", "fields"): "canonical field name → where its value comes from; a bare column "
    "name is short for column:",
    ("FixedColumn", "name"): "the column's name, as fields: refer to it",
    ("FixedColumn", "start"): "position of its first character (the first is 1)",
    ("FixedColumn", "end"): "position of its last character (inclusive)",
}

YAML_TEXT = {"type": ["string", "number"]}  # a YAML scalar csvbridge reads as text


def markdown_of(text: str) -> str:
    """Docstring markup to Markdown: ``code`` to `code`, ``text::`` blocks to fences."""
    lines = inspect.cleandoc(text).splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.rstrip().endswith("::"):
            out.append(line.rstrip()[:-2].rstrip() + ":")
            i += 1
            block: list[str] = []
            while i < len(lines) and (not lines[i].strip() or lines[i].startswith(" ")):
                block.append(lines[i])
                i += 1
            while block and not block[-1].strip():
                block.pop()
            while block and not block[0].strip():
                block.pop(0)
            indent = min(len(b) - len(b.lstrip()) for b in block if b.strip()) if block else 0
            out += ["", "```", *(b[indent:] for b in block), "```", ""]
            continue
        out.append(line)
        i += 1
    return re.sub(r"``(.+?)``", r"`\1`", "\n".join(out))


def plain_text(markdown: str) -> str:
    """Markdown to the plain text an editor shows on hover."""
    return re.sub(r"`([^`]*)`", r"\1", " ".join(markdown.split()))


# -- the models, walked ------------------------------------------------------------------


@dataclass(frozen=True)
class Key:
    """One key of a section: its YAML name, the pydantic field, and its description."""

    name: str
    info: FieldInfo
    description: str


@dataclass(frozen=True)
class Section:
    """A model and the key path where a mapping writes it (``read``, ``filters[]``, ...)."""

    path: str
    model: type[BaseModel]


def strip_annotated(annotation: Any) -> Any:
    """The type inside ``Annotated[...]``."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def union_args(annotation: Any) -> tuple[Any, ...] | None:
    if get_origin(annotation) in (Union, types.UnionType):
        return get_args(annotation)
    return None


def _nested(annotation: Any) -> Iterator[tuple[str, type[BaseModel]]]:
    """(path suffix, model) of the models a field's annotation holds."""
    a = strip_annotated(annotation)
    if isinstance(a, type) and issubclass(a, BaseModel):
        yield "", a
        return
    for arg in union_args(a) or ():
        yield from _nested(arg)
    origin = get_origin(a)
    if origin is list:
        for suffix, m in _nested(get_args(a)[0]):
            yield "[]" + suffix, m
    elif origin is dict:
        for suffix, m in _nested(get_args(a)[1]):
            yield ".<name>" + suffix, m


def sections() -> list[Section]:
    """Every section of a mapping, in the order a mapping file lists them (a section's own
    sections right after it); a model that appears twice (a field spec under fields: and
    under split[].fields:) is listed once, where it first appears."""
    out: list[Section] = []
    seen: set[type[BaseModel]] = set()

    def visit(path: str, model: type[BaseModel]) -> None:
        seen.add(model)
        out.append(Section(path, model))
        for key in keys(model):
            for suffix, inner in _nested(key.info.annotation):
                if inner not in seen:
                    visit((f"{path}.{key.name}" if path else key.name) + suffix, inner)

    visit("", Mapping)
    return out


def model_doc(model: type[BaseModel]) -> str:
    return inspect.cleandoc(model.__doc__ or "")


def _first_paragraph(model: type[BaseModel]) -> str:
    return " ".join(model_doc(model).split("\n\n")[0].split())


def keys(model: type[BaseModel]) -> list[Key]:
    """The keys of a section, each with its description (the field's, else a fallback, else
    the docstring of the section it holds)."""
    out = []
    for name, info in model.model_fields.items():
        desc = info.description or FALLBACK_DESCRIPTIONS.get((model.__name__, name), "")
        if not desc:
            held = [m for _, m in _nested(info.annotation)]
            desc = _first_paragraph(held[0]) if held else ""
        out.append(Key(info.alias or name, info, markdown_of(desc)))
    return out
