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
Where = dict[Path_, tuple[str, int]]  # key path -> (file, line): a base's keys name the base

# Lines of every loaded mapping's keys, by the mapping's path as given: compile-time errors
# (a bad date format, a column the file lacks) name the line without carrying the YAML around.
_LINES: dict[str, Where] = {}


def key_text(path: Path_) -> str:
    """A key path as mapping errors write it: ``filters[2].when`` (list items from 1)."""
    out = ""
    for p in path:
        out += f"[{p + 1}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _key_path(key: str) -> Path_:
    return tuple(
        int(piece[1:-1]) - 1 if piece.startswith("[") else piece
        for piece in re.findall(r"[^.\[\]]+|\[\d+\]", key)
    )


def locate(source: str, key: str) -> str:
    """``file, line N, key K`` for a mapping key such as ``filters[2].when`` (the nearest
    enclosing key's line when the key itself is not written, e.g. a default)."""
    where = _LINES.get(source, {})
    parts = _key_path(key)
    for depth in range(len(parts), -1, -1):
        found = where.get(parts[:depth])
        if found is not None:
            return f"{found[0]}, line {found[1]}, key {key}"
    return f"{source}, key {key}"


@dataclass(frozen=True)
class LoadedMapping:
    """A validated mapping with where it came from (for provenance)."""

    mapping: Mapping
    path: Path
    sha256: str


def _build(node: yaml.Node, loader: _Loader, path: Path_, where: Where, src: str) -> Any:
    where[path] = (src, node.start_mark.line + 1)
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


def _yaml_data(text: str, source: str) -> tuple[dict[str, Any], Where]:
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
    where: Where = {}
    data = _build(node, _Loader(""), (), where, source)
    if not isinstance(data, dict):
        raise MappingError(
            "the mapping must be a set of keys (name:, kind:, fields:, ...)",
            where=f"{source}, line 1",
            hint="see mappings/README.md for an example.",
            code="mapping-shape",
        )
    return data, where


def _merge(
    base: dict[str, Any], over: dict[str, Any], path: Path_, replaced: list[Path_]
) -> dict[str, Any]:
    """``over`` on top of ``base``: sections (dicts) merge key by key; a list (filters, checks,
    split, formats) and a field's spec replace the base's whole. ``replaced`` gathers the paths
    whose base value was dropped."""
    out = dict(base)
    for k, v in over.items():
        here = (*path, k)
        is_field = len(path) >= 1 and path[-1] == "fields"
        if isinstance(v, dict) and isinstance(out.get(k), dict) and not is_field:
            out[k] = _merge(out[k], v, here, replaced)
        else:
            out[k] = v
            replaced.append(here)
    return out


def _with_base(
    data: dict[str, Any], where: Where, source: str, seen: tuple[str, ...]
) -> tuple[dict[str, Any], Where]:
    base_ref = data.get("extends")
    if not base_ref:
        return data, where
    base_path = (Path(source).parent / str(base_ref)).resolve()
    line = where.get(("extends",), (source, 1))[1]
    if str(base_path) in seen:
        raise MappingError(
            "the mappings extend each other in a circle: " + " → ".join([*seen, str(base_path)]),
            where=f"{source}, line {line}, key extends",
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
    base, base_where = _with_base(base, base_where, str(base_path), (*seen, str(base_path)))
    replaced: list[Path_] = []
    merged = _merge(base, {k: v for k, v in data.items() if k != "extends"}, (), replaced)
    merged["extends"] = str(base_ref)
    kept = {
        p: at for p, at in base_where.items() if p and not any(p[: len(r)] == r for r in replaced)
    }
    return merged, {**kept, **where}


def parse_mapping_text(text: str, source: str) -> Mapping:
    """Validate mapping YAML text; MappingError names ``source``, the line and the key."""
    data, where = _yaml_data(text, source)
    data, where = _with_base(data, where, source, (str(Path(source).resolve()),))
    _LINES[source] = where
    try:
        return Mapping.model_validate(data)
    except ValidationError as e:
        raise _explain(e, where, source) from None


def _explain(err: ValidationError, where: Where, source: str) -> MappingError:
    problems = []
    first_line = None
    for item in err.errors():
        loc = tuple(p for p in item["loc"] if not (isinstance(p, str) and p[0].isupper()))
        key = key_text(loc) or "(top level)"
        at = None
        for depth in range(len(loc), -1, -1):
            at = where.get(loc[:depth])
            if at is not None:
                break
        here = ""
        if at is not None:
            here = f" (line {at[1]})" if at[0] == source else f" (in {at[0]}, line {at[1]})"
        first_line = first_line or (at[1] if at is not None and at[0] == source else None)
        msg = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            msg = "unknown key (a typo?)"
        elif item["type"] == "missing":
            msg = "required key is missing"
        problems.append(f"{key}: {msg}{here}")
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
