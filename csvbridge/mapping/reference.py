"""The mapping format's JSON Schema and Markdown reference, generated from the code that
defines it: the pydantic models (mapping/model.py), the canonical kinds (model.py), the date
tokens (dates.py) and the formula language (mapping/expressions.py).

``mappings/mapping.schema.json`` and ``mappings/README.md`` are this module's output; a test
regenerates both and fails when they are out of step. To rewrite them::

    python -m csvbridge.mapping.reference
    UPDATE_GOLDEN=1 pytest tests/test_mapping_tooling.py      # the same, from the tests
"""

from __future__ import annotations

import inspect
import json
import re
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from .. import dates
from ..model import KINDS
from . import expressions
from .model import FieldSpec, Mapping

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

_YAML_TEXT = {"type": ["string", "number"]}  # a YAML scalar csvbridge reads as text


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


def _strip(annotation: Any) -> Any:
    """The type inside ``Annotated[...]``."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def _union_args(annotation: Any) -> tuple[Any, ...] | None:
    if get_origin(annotation) in (Union, types.UnionType):
        return get_args(annotation)
    return None


def _nested(annotation: Any) -> Iterator[tuple[str, type[BaseModel]]]:
    """(path suffix, model) of the models a field's annotation holds."""
    a = _strip(annotation)
    if isinstance(a, type) and issubclass(a, BaseModel):
        yield "", a
        return
    for arg in _union_args(a) or ():
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


def _doc(model: type[BaseModel]) -> str:
    return inspect.cleandoc(model.__doc__ or "")


def _first_paragraph(model: type[BaseModel]) -> str:
    return " ".join(_doc(model).split("\n\n")[0].split())


def keys(model: type[BaseModel]) -> list[Key]:
    """The keys of a section, each with its description (the field's, else a fallback, else
    the docstring of the section it holds)."""
    out = []
    for name, info in model.model_fields.items():
        desc = info.description or FALLBACK_DESCRIPTIONS.get((model.__name__, name), "")
        if not desc:
            held = [m for _, m in _nested(info.annotation)]
            desc = _first_paragraph(held[0]) if held else ""
        out.append(Key(info.alias or name, info, _rst(desc)))
    return out


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
                prop["description"] = _plain(key.description)
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
            return {**node, **_YAML_TEXT}
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


# -- Markdown -----------------------------------------------------------------------------


def _rst(text: str) -> str:
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


def _plain(markdown: str) -> str:
    """Markdown to the plain text an editor shows on hover."""
    return re.sub(r"`([^`]*)`", r"\1", " ".join(markdown.split()))


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _anchor(path: str) -> str:
    return "section-" + (re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "top")


def _section_title(path: str) -> str:
    return f"`{path}`" if path else "Top-level keys"


def _type(annotation: Any, links: dict[type[BaseModel], str]) -> str:
    a = _strip(annotation)
    union = _union_args(a)
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
        return f"[{_section_title(path)}](#{_anchor(path)})" if path is not None else a.__name__
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


def _keys_table(model: type[BaseModel], links: dict[type[BaseModel], str]) -> list[str]:
    out = ["| key | type | default | description |", "| --- | --- | --- | --- |"]
    for k in keys(model):
        t = _type(k.info.annotation, links) + _constraints(k.info)
        cells = (f"`{k.name}`", _cell(t), _cell(_default(k.info)), _cell(k.description))
        out.append("| " + " | ".join(cells) + " |")
    return out


def _kinds() -> list[str]:
    out = [
        "## Canonical kinds",
        "",
        "A mapping's `kind:` says which record every row becomes; `fields:` may give only that "
        "kind's fields and must give its required ones. Types: `text`; `date` (read with the "
        "mapping's date formats); `money` (exact, in the currency's minor units; never "
        "rounded); `decimal` (an exact number such as a quantity or unit price); `currency` "
        "(an ISO 4217 code such as GBP). `csvbridge formats` lists the kinds each target takes.",
        "",
    ]
    for kind in KINDS.values():
        out += [f"### {kind.name}", "", kind.doc, ""]
        facts = []
        if kind.amount_field:
            facts.append(f"the tie-out totals `{kind.amount_field}`")
        if kind.document_key:
            facts.append(f"lines with the same `{kind.document_key}` form one document")
        if kind.fingerprint:
            facts.append(
                "a duplicate repeats "
                + ", ".join(f"`{f}`" for f in kind.fingerprint)
                + " (change with `duplicates.fields`)"
            )
        if facts:
            out += ["Here " + "; ".join(facts) + ".", ""]
        out += ["| field | type | required | description |", "| --- | --- | --- | --- |"]
        for f in kind.fields:
            req = "yes" if f.required else ""
            out.append(f"| `{f.name}` | {f.type.value} | {req} | {_cell(f.doc)} |")
        out.append("")
    return out


_TOKEN_MEANINGS = {  # by the first token of each kind (dates._TOKENS order)
    "YYYY": "year, four digits",
    "YY": "year, two digits: 00–69 are 2000–2069, 70–99 are 1970–1999",
    "MMMM": "month name, in full or abbreviated, in English (January, Jan; any case)",
    "MMM": "month abbreviation, in English (Jan, Sept; any case; a dot may follow)",
    "MM": "month number, one or two digits",
    "DD": "day of the month, one or two digits",
    "%e": "day of the month, one or two digits; a leading space is allowed",
    "HH": "hour (checked; it moves the date only with an offset or zone: and timezone:)",
    "mm": "minute (checked)",
    "ss": "second, fractions allowed (checked)",
    "%z": "UTC offset: Z, +0000, -05:00 or +01 (see time zones above)",
}


def _date_tokens() -> list[str]:
    groups: dict[tuple[str, str], list[str]] = {}
    for token, (group, rx) in dates._TOKENS.items():
        groups.setdefault((group, rx), []).append(token)
    out = [
        "## Date formats",
        "",
        "`dates:` (for the whole mapping) and a date field's `format:` take one format or a "
        "list, tried in order. csvbridge never guesses whether 01/02 is January or February: "
        "a date field needs a stated format.",
        "",
        _rst(dates.__doc__ or "").split("\n\n", 1)[-1].strip(),
        "",
        "| tokens | meaning |",
        "| --- | --- |",
    ]
    for (group, _), tokens in groups.items():
        meaning = _TOKEN_MEANINGS.get(tokens[0], group)
        out.append(f"| {', '.join(f'`{t}`' for t in tokens)} | {_cell(meaning)} |")
    out += [
        "",
        "Any other character stands for itself; a space matches one or more spaces. "
        "Examples: `DD/MM/YYYY`, `MM/DD/YYYY`, `D MMM YYYY`, `YYYY-MM-DD`, "
        "`DD.MM.YY HH:mm`.",
        "",
    ]
    return out


FORMULA_EXAMPLE = """\
fields:
  amount:
    expr: round(Gross - Fee, 2)           # money: an exact number
  description:
    expr: upper(trim(Reference)) & " " & Payee
filters:
  - name: pending
    when: Status = 'Pending' or Amount = 0
checks:
  - name: due after issue
    rule: date(DueDate, 'DD/MM/YYYY') >= date(InvoiceDate, 'DD/MM/YYYY')
    severity: warning
"""

_FORMULA_PARAGRAPHS = ("Grammar", "Comparisons", "Types", "Numbers", "Null", "Functions")


def _formulas() -> list[str]:
    doc = _rst(expressions.__doc__ or "")
    paragraphs: list[str] = []
    for para in re.split(r"\n\s*\n(?!```)", doc):
        text = para.strip()
        if text.startswith("Functions"):
            text = text.split(". ", 1)[-1]  # the list of names: the table below has them
        elif not text.startswith(_FORMULA_PARAGRAPHS):
            continue
        paragraphs.append(text)
    out = [
        "## Formulas",
        "",
        "A field's `expr:`, a filter's `when:`, a split entry's `when:` and a check's `rule:` "
        "are formulas: a small language that is safe by construction (no Python runs) and "
        "that reads columns by name (write `` `Paid in` `` for a name with spaces). "
        "Conditions (`when:`, `rule:`) give true or false; a money field's formula gives a "
        "number with no more decimals than the currency has (use `round`).",
        "",
        "```yaml",
        FORMULA_EXAMPLE.rstrip(),
        "```",
        "",
    ]
    for p in paragraphs:
        out += [p, ""]
    out += ["### Functions", "", "| function | what it does |", "| --- | --- |"]
    for help_text in expressions.FUNCTION_HELP.values():
        sig, _, what = help_text.partition(": ")
        out.append(f"| `{_cell(sig)}` | {_cell(what) or '—'} |")
    out += [
        "",
        f"Limits: a formula is at most {expressions.MAX_LENGTH} characters and "
        f"{expressions.MAX_DEPTH} levels deep; a number has at most {expressions.MAX_DIGITS} "
        f"digits; a list (`in [...]`) at most {expressions.MAX_LIST} values; a text result is "
        f"at most {expressions.MAX_TEXT_GROWTH} times as long as the longest cell it is made "
        "from. A mistake in a formula is reported (with the column and a caret) before any "
        "row is read; a row whose data a formula cannot use (a number that is not one) is "
        "rejected with the reason.",
        "",
    ]
    return out


def _tooling() -> list[str]:
    return [
        "## Writing a mapping: editor, check, test",
        "",
        "**Editor completion.** `mappings/mapping.schema.json` is the JSON Schema of this "
        "format. With an editor that speaks the YAML language server (VS Code with the Red Hat "
        "YAML extension, Neovim, Helix, JetBrains IDEs), a first line naming it gives key "
        "completion, the descriptions below on hover, and mistakes underlined as you type:",
        "",
        "```yaml",
        f"# yaml-language-server: $schema=./{SCHEMA_NAME}",
        "name: my-bank",
        "```",
        "",
        "The path is relative to the mapping file (for a mapping elsewhere, give the path to "
        f"`mappings/{SCHEMA_NAME}` or its URL). The schema cannot see everything: "
        "`csvbridge check` does the rest.",
        "",
        "**`csvbridge check MAPPING [FILE] [--rows N]`** lists every mistake in the mapping, "
        "each with its file, line and key: unknown keys, wrong values, fields the kind does "
        "not have, formulas that do not parse or give the wrong type, date formats, filter "
        "patterns. A key is written the way every mapping error writes it: "
        "`filters[2].when` is the `when:` of the second filter (list items count from 1); a "
        "mistake in a base mapping (`extends:`) names the base file's line. Given a FILE, it "
        "also shows what the first N rows become (the canonical "
        "records) and which rows would be rejected, and why. It writes nothing. Exit code 0: "
        "valid; 1: valid, but previewed rows are rejected; 2: invalid, or it does not fit "
        "FILE.",
        "",
        "**`csvbridge test MAPPING`** runs the examples kept beside a mapping, one folder per "
        "case:",
        "",
        "```",
        "mappings/uk_bank.yaml",
        "mappings/examples/uk_bank/statement/input.csv            a few rows of a real export",
        "mappings/examples/uk_bank/statement/expected.csv         what convert --to csv writes",
        "mappings/examples/uk_bank/bad_rows/expected_rejects.csv  rows to be rejected (optional)",
        "```",
        "",
        "The input (`input.csv`, `input.xlsx`, ...) is converted with the mapping into a "
        "temporary folder, without history, and the canonical CSV (`<kind>.csv`) is compared "
        "with `expected.csv`; `rejects.csv` with `expected_rejects.csv`, and a case without "
        "one expects no rejected row. Only the columns the expected file has are compared, so "
        "an example can leave out what it does not care about (`line,field,rule` is enough "
        "for rejects). The first differing rows are shown with the columns that differ. "
        "Exit code 0: all pass; 1: some fail; 2: some cannot run. To make `expected.csv`, "
        "convert the input with `--to csv --no-history` and check the output by hand before "
        "you keep it.",
        "",
    ]


def _worked_example(mappings_dir: Path) -> list[str]:
    mapping = mappings_dir / EXAMPLE_MAPPING
    case = mappings_dir / "examples" / Path(EXAMPLE_MAPPING).stem / EXAMPLE_CASE
    src = next(iter(sorted(case.glob("input.*"))))
    raw = src.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
        encoding = "UTF-8"
    except UnicodeDecodeError:
        text, encoding = raw.decode("cp1252"), "Windows-1252"
    rel = f"mappings/examples/{mapping.stem}/{EXAMPLE_CASE}"
    return [
        "## Worked example",
        "",
        f"`mappings/{EXAMPLE_MAPPING}` reads a UK bank's export: {encoding} text, "
        "semicolons, decimal commas, account details above the table, and separate Debit "
        "and Credit columns.",
        "",
        f"`{rel}/{src.name}`:",
        "",
        "```",
        *text.replace("\r\n", "\n").rstrip("\n").split("\n"),
        "```",
        "",
        f"`mappings/{EXAMPLE_MAPPING}`:",
        "",
        "```yaml",
        mapping.read_text(encoding="utf-8").rstrip("\n"),
        "```",
        "",
        f"`{rel}/expected.csv`, what `csvbridge convert {rel}/{src.name} "
        f"-m mappings/{EXAMPLE_MAPPING} --to csv` writes (dates ISO, amounts signed from the "
        "account holder's side, the preamble and the closing balance line left out):",
        "",
        "```",
        (case / "expected.csv").read_text(encoding="utf-8").replace("\r\n", "\n").rstrip("\n"),
        "```",
        "",
        f"`csvbridge test mappings/{EXAMPLE_MAPPING}` checks that this still holds.",
        "",
    ]


def reference_markdown(mappings_dir: Path = MAPPINGS_DIR) -> str:
    """``mappings/README.md``: every section and key of a mapping (type, default,
    description), the canonical kinds, date formats, formulas and a worked example."""
    secs = sections()
    links = {s.model: s.path for s in secs}
    out = [
        "<!-- Generated by `python -m csvbridge.mapping.reference` from "
        "csvbridge/mapping/model.py, csvbridge/model.py, csvbridge/dates.py and "
        "csvbridge/mapping/expressions.py. Do not edit: change those and regenerate "
        "(tests/test_mapping_tooling.py fails while this page is out of step). -->",
        "",
        "# Mapping reference",
        "",
        _doc(Mapping),
        "",
        "A mapping is YAML, and it is data, never code. Every value is read as text except "
        "`true`, `false` and `null`: account code `0020` keeps its zeros, and `NO` (Norway) is "
        "not false. Unknown keys are mistakes, never ignored.",
        "",
        "Contents: [editor, check and test](#writing-a-mapping-editor-check-test) · "
        + " · ".join(f"[{_section_title(s.path)}](#{_anchor(s.path)})" for s in secs)
        + " · [canonical kinds](#canonical-kinds) · [date formats](#date-formats) · "
        "[formulas](#formulas) · [worked example](#worked-example)",
        "",
        *_tooling(),
    ]
    for s in secs:
        out += [f'<a id="{_anchor(s.path)}"></a>', ""]
        out += [f"## {_section_title(s.path)}", ""]
        if s.model is not Mapping:
            out += [_rst(_doc(s.model)), ""]
        out += [*_keys_table(s.model, links), ""]
    out += _kinds()
    out += _date_tokens()
    out += _formulas()
    out += _worked_example(mappings_dir)
    return "\n".join(out).rstrip("\n") + "\n"


def write(mappings_dir: Path = MAPPINGS_DIR) -> list[Path]:
    """Write the schema and the reference page into ``mappings_dir``."""
    schema = mappings_dir / SCHEMA_NAME
    readme = mappings_dir / README_NAME
    schema.write_text(schema_text(), encoding="utf-8", newline="\n")
    readme.write_text(reference_markdown(mappings_dir), encoding="utf-8", newline="\n")
    return [schema, readme]


if __name__ == "__main__":
    for p in write(Path(sys.argv[1]) if len(sys.argv) > 1 else MAPPINGS_DIR):
        print(f"wrote {p}")
