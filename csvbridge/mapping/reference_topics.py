"""The mapping reference's topic sections: canonical kinds, date formats, formulas, the tooling
and the worked example."""

from __future__ import annotations

import re
from pathlib import Path

from .. import dates
from ..model import KINDS
from . import expressions
from .reference_models import EXAMPLE_CASE, EXAMPLE_MAPPING, SCHEMA_NAME, markdown_of
from .reference_text import table_cell


def kinds_section() -> list[str]:
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
            out.append(f"| `{f.name}` | {f.type.value} | {req} | {table_cell(f.doc)} |")
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


def date_tokens_section() -> list[str]:
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
        markdown_of(dates.__doc__ or "").split("\n\n", 1)[-1].strip(),
        "",
        "| tokens | meaning |",
        "| --- | --- |",
    ]
    for (group, _), tokens in groups.items():
        meaning = _TOKEN_MEANINGS.get(tokens[0], group)
        out.append(f"| {', '.join(f'`{t}`' for t in tokens)} | {table_cell(meaning)} |")
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


def formulas_section() -> list[str]:
    doc = markdown_of(expressions.__doc__ or "")
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
        out.append(f"| `{table_cell(sig)}` | {table_cell(what) or '—'} |")
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


def tooling_section() -> list[str]:
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


def worked_example_section(mappings_dir: Path) -> list[str]:
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
