"""Loading mapping files: YAML in, a validated Mapping out, and every mistake reported with the
file, the line and the key path."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ..errors import MappingError
from .model import Mapping


class _Loader(yaml.SafeLoader):
    """YAML with only true/false/null resolved: every other scalar stays text, so account
    code 0020 keeps its zeros and a map key NO (Norway) is not the boolean false."""


_Loader.yaml_implicit_resolvers = {}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]
)

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class LoadedMapping:
    """A validated mapping with where it came from (for provenance)."""

    mapping: Mapping
    path: Path
    sha256: str


def _build(node: yaml.Node, loader: _Loader, path: Path_, where: dict[Path_, int], src: str) -> Any:
    where[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if key in out:
                raise MappingError(
                    f"key '{key}' appears twice",
                    where=f"{src}, line {key_node.start_mark.line + 1}",
                    hint="YAML keeps only the last one; remove or merge the repeats.",
                    code="mapping-duplicate-key",
                )
            out[key] = _build(value_node, loader, (*path, str(key)), where, src)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(n, loader, (*path, i), where, src) for i, n in enumerate(node.value)]
    return loader.construct_object(node, deep=True)


def _yaml_data(text: str, source: str) -> tuple[dict[str, Any], dict[Path_, int]]:
    """The mapping's keys as data, and the line of every key path."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f", line {mark.line + 1}" if mark else ""
        raise MappingError(
            f"the mapping is not valid YAML: {getattr(e, 'problem', None) or e}",
            where=f"{source}{line}",
            hint="check indentation and quoting; values with ':' or '#' need quotes.",
            code="mapping-yaml",
        ) from None
    finally:
        loader.dispose()
    if node is None:
        raise MappingError(
            "the mapping file is empty",
            where=source,
            hint="see mappings/README.md for the keys a mapping needs.",
            code="mapping-empty",
        )
    where: dict[Path_, int] = {}
    data = _build(node, _Loader(""), (), where, source)
    if not isinstance(data, dict):
        raise MappingError(
            "the mapping must be a set of keys (name:, kind:, fields:, ...)",
            where=f"{source}, line 1",
            hint="see mappings/README.md for an example.",
            code="mapping-shape",
        )
    return data, where


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` on top of ``base``: nested keys merge, anything else (lists too) replaces."""
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _with_base(
    data: dict[str, Any], where: dict[Path_, int], source: str, seen: tuple[str, ...]
) -> dict[str, Any]:
    base_ref = data.get("extends")
    if not base_ref:
        return data
    base_path = (Path(source).parent / str(base_ref)).resolve()
    line = where.get(("extends",), 1)
    if str(base_path) in seen:
        raise MappingError(
            "the mappings extend each other in a circle: " + " → ".join([*seen, str(base_path)]),
            where=f"{source}, line {line}",
            hint="remove one of the extends: keys.",
            code="mapping-extends",
        )
    try:
        text = base_path.read_text(encoding="utf-8-sig")
    except OSError as e:
        raise MappingError(
            f"the base mapping cannot be read: {e.strerror}",
            where=f"{source}, line {line}, key extends",
            hint="extends: takes a path relative to this mapping file.",
            code="mapping-extends",
        ) from None
    base, base_where = _yaml_data(text, str(base_path))
    base = _with_base(base, base_where, str(base_path), (*seen, str(base_path)))
    merged = _merge(base, {k: v for k, v in data.items() if k != "extends"})
    merged["extends"] = str(base_ref)
    return merged


def parse_mapping_text(text: str, source: str) -> Mapping:
    """Validate mapping YAML text; MappingError names ``source``, the line and the key."""
    data, where = _yaml_data(text, source)
    data = _with_base(data, where, source, (str(Path(source).resolve()),))
    try:
        return Mapping.model_validate(data)
    except ValidationError as e:
        raise _explain(e, where, source) from None


def _explain(err: ValidationError, where: dict[Path_, int], source: str) -> MappingError:
    problems = []
    first_line = None
    for item in err.errors():
        loc = tuple(p for p in item["loc"] if not (isinstance(p, str) and p[0].isupper()))
        key = ".".join(str(p) for p in loc) or "(top level)"
        line = None
        for depth in range(len(loc), -1, -1):
            line = where.get(loc[:depth])
            if line is not None:
                break
        first_line = first_line or line
        msg = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            msg = "unknown key (a typo?)"
        elif item["type"] == "missing":
            msg = "required key is missing"
        problems.append(f"{key}: {msg}" + (f" (line {line})" if line else ""))
    return MappingError(
        "the mapping has "
        + ("a mistake" if len(problems) == 1 else f"{len(problems)} mistakes")
        + ":\n    "
        + "\n    ".join(problems),
        where=f"{source}" + (f", line {first_line}" if first_line else ""),
        hint="see mappings/README.md for the keys each section takes.",
        code="mapping-invalid",
    )


def load_mapping(path: str | Path) -> LoadedMapping:
    """Read and validate a mapping file."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise MappingError(
            "the mapping file does not exist",
            where=str(p),
            hint="give the path of a .yaml mapping, e.g. -m mappings/uk_bank.yaml",
            code="mapping-not-found",
        ) from None
    except (IsADirectoryError, PermissionError) as e:
        raise MappingError(
            f"the mapping file cannot be read: {e.strerror}",
            where=str(p),
            hint="give the path of a .yaml mapping file.",
            code="mapping-not-found",
        ) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise MappingError(
            f"the mapping file is not UTF-8 text (byte {e.start})",
            where=str(p),
            hint="save the mapping as UTF-8.",
            code="mapping-yaml",
        ) from None
    return LoadedMapping(parse_mapping_text(text, str(p)), p, hashlib.sha256(raw).hexdigest())
