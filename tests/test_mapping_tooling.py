"""Mapping tooling: ``csvbridge check`` (every mistake, and a preview that writes nothing),
``csvbridge test`` (the examples kept beside a mapping), and the generated JSON Schema and
reference page, kept in step with the models (``UPDATE_GOLDEN=1`` rewrites them)."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
import yaml

from csvbridge.mapping.examples import run_examples
from csvbridge.mapping.expressions import FUNCTION_HELP
from csvbridge.mapping.preview import check_mapping, preview
from csvbridge.mapping.reference import reference_markdown
from csvbridge.mapping.reference_models import README_NAME, SCHEMA_NAME, keys, sections
from csvbridge.mapping.reference_schema import mapping_json_schema, schema_text
from csvbridge.mapping.reference_topics import FORMULA_EXAMPLE
from csvbridge.model import KINDS

from .conftest import ROOT, SIMPLE_MAPPING, run_cli, write_case

MAPPINGS = ROOT / "mappings"

GOOD_AND_BAD = """\
Date,Description,Amount
01/03/2025,Coffee,-3.20
31/02/2025,No such day,-1.00
02/03/2025,Refund,4.50
"""


def _files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


# -- check --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["uk_bank.yaml", "us_card.yaml"])
def test_check_valid_mapping(name: str) -> None:
    result = run_cli("check", MAPPINGS / name)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"valid    {MAPPINGS / name}: ")


def test_check_lists_every_mistake_with_line_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        """\
name: bad
kind: transaction
dates: DD/MM/YYYY
fields:
  date: Date
  description: Description
  amount:
    colum: Amount
  currency: {value: GBP}
  memo:
    expr: upper(Memo
filters:
  - name: pending
    when: Status = 'P' and
""",
        encoding="utf-8",
    )
    result = run_cli("check", bad)
    assert result.exit_code == 2
    out = result.output
    assert "fields.amount.colum: unknown key (a typo?) (line 8)" in out
    assert f"where: {bad}, line 11, key fields.memo.expr" in out
    assert f"where: {bad}, line 14, key filters[1].when" in out
    assert f"invalid  {bad}: 3 problems" in out


def test_check_reports_compile_mistakes_all_at_once(tmp_path: Path) -> None:
    """Date formats, RE2 patterns and formula types are only found by compiling: check finds
    them all, each with its line, where convert stops at the first."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        """\
name: bad
kind: transaction
dates: DD/MM
fields:
  date: {column: Date, format: [DD/MM/YYYY, YYYY/DD]}
  description: Description
  amount:
    expr: upper(Amount)
  currency: {value: GBP}
filters:
  - name: lookahead
    column: Description
    matches: "(?=x)foo"
  - name: not a condition
    when: upper(Description)
""",
        encoding="utf-8",
    )
    chk = check_mapping(bad)
    assert not chk.ok
    found = sorted((e.code, e.where.split(", ", 1)[1]) for e in chk.problems)
    assert found == [
        ("date-format-invalid", "line 3, key dates"),
        ("date-format-invalid", "line 5, key fields.date.format"),
        ("expression-invalid", "line 15, key filters[2].when"),
        ("expression-invalid", "line 8, key fields.amount.expr"),
        ("mapping-invalid", "line 13, key filters[1].matches"),
    ]


def test_check_missing_mapping_is_exit_2(tmp_path: Path) -> None:
    result = run_cli("check", tmp_path / "nope.yaml")
    assert result.exit_code == 2
    assert "mapping-not-found" in result.output


def test_check_previews_rows_and_rejects_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src, m = write_case(tmp_path, GOOD_AND_BAD)
    monkeypatch.chdir(tmp_path)
    before = _files(tmp_path)
    history = Path(os.environ["CSVBRIDGE_HISTORY"])
    result = run_cli("check", m, src, "--rows", "3")
    assert result.exit_code == 1, result.output  # a previewed row is rejected
    lines = result.output.splitlines()
    assert "rows     first 3 data rows: 2 records, 1 rejected, 0 filtered" in lines
    header = next(i for i, ln in enumerate(lines) if ln.startswith("line  date"))
    assert lines[header].split() == ["line", "date", "amount", "currency", "description"]
    assert lines[header + 1].split() == ["2", "2025-03-01", "-3.20", "GBP", "Coffee"]
    assert lines[header + 2].split() == ["4", "2025-03-02", "4.50", "GBP", "Refund"]
    assert any(
        ln.startswith("  line 3: date (Date: '31/02/2025'): date-invalid: not a real calendar")
        for ln in lines
    ), result.output
    assert _files(tmp_path) == before, "check wrote files"
    assert not history.exists(), "check touched the history"


def test_preview_reads_only_the_first_rows(tmp_path: Path) -> None:
    rows = "".join(f"{d:02d}/03/2025,Row {d},-{d}.00\n" for d in range(1, 29))
    src, m = write_case(tmp_path, "Date,Description,Amount\n" + rows)
    pv = preview(m, src, rows=5)
    assert pv.rows_read == 5
    assert pv.records.column("_line").to_pylist() == [2, 3, 4, 5, 6]
    assert pv.records.column("amount").to_pylist() == [-100, -200, -300, -400, -500]
    assert pv.rejects == []


def test_check_preview_of_a_file_without_data_rows(tmp_path: Path) -> None:
    src, m = write_case(tmp_path, "Date,Description,Amount\n")
    result = run_cli("check", m, src)
    assert result.exit_code == 0, result.output
    assert "note     the file has a header but no data rows" in result.output
    assert "rows     first 0 data rows: 0 records, 0 rejected, 0 filtered" in result.output


def test_check_preview_names_a_missing_column(tmp_path: Path) -> None:
    src, m = write_case(tmp_path, "Date,Details,Amount\n01/03/2025,Coffee,-3.20\n")
    result = run_cli("check", m, src)
    assert result.exit_code == 2
    assert "column-missing" in result.output and "'Description'" in result.output


def test_check_preview_of_a_ready_mapping_and_its_sample() -> None:
    result = run_cli(
        "check", MAPPINGS / "uk_bank.yaml", ROOT / "sample_data" / "uk_bank_statement.csv"
    )
    assert result.exit_code == 0, result.output
    assert "encoding 'cp1252' (detected), delimiter ';', header on line 7" in result.output
    assert "British Gas – Energy" in result.output


# -- test ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["uk_bank.yaml", "us_card.yaml"])
def test_ready_mapping_examples_pass(name: str) -> None:
    result = run_cli("test", MAPPINGS / name)
    assert result.exit_code == 0, result.output
    assert " passed, 0 failed" in result.output


def _copy_examples(tmp_path: Path, stem: str = "uk_bank") -> Path:
    shutil.copy(MAPPINGS / f"{stem}.yaml", tmp_path / f"{stem}.yaml")
    shutil.copytree(MAPPINGS / "examples" / stem, tmp_path / "examples" / stem)
    return tmp_path / f"{stem}.yaml"


def test_failing_example_shows_the_differing_rows(tmp_path: Path) -> None:
    m = _copy_examples(tmp_path)
    expected = tmp_path / "examples" / "uk_bank" / "statement" / "expected.csv"
    expected.write_text(
        expected.read_text(encoding="utf-8").replace("-84.50", "-84.05"), encoding="utf-8"
    )
    result = run_cli("test", m)
    assert result.exit_code == 1, result.output
    out = result.output
    assert "FAIL     statement" in out
    assert "transaction.csv differs from expected.csv (7 row(s) expected, 7 written):" in out
    assert "row 1 (input line 8):" in out
    assert "- 2025-03-03,-84.05,GBP,British Gas – Energy," in out
    assert "+ 2025-03-03,-84.50,GBP,British Gas – Energy," in out
    assert "amount: expected '-84.05', got '-84.50'" in out
    assert "pass     bad_rows" in out
    assert "1 passed, 1 failed" in out


def test_example_compares_only_the_expected_columns(tmp_path: Path) -> None:
    m = _copy_examples(tmp_path)
    expected = tmp_path / "examples" / "uk_bank" / "statement" / "expected.csv"
    rows = expected.read_text(encoding="utf-8").splitlines()
    expected.write_text(
        "\n".join(",".join(r.split(",")[:3]) for r in rows) + "\n", encoding="utf-8"
    )
    assert run_examples(m).exit_code == 0
    expected.write_text("date,amount,vat\n", encoding="utf-8")
    case = next(c for c in run_examples(m).cases if c.name == "statement")
    assert case.status == "fail"
    assert case.details[0].startswith("expected.csv has column(s) vat that transaction.csv")


def test_unexpected_rejects_fail_the_case(tmp_path: Path) -> None:
    m = _copy_examples(tmp_path)
    (tmp_path / "examples" / "uk_bank" / "bad_rows" / "expected_rejects.csv").unlink()
    case = next(c for c in run_examples(m).cases if c.name == "bad_rows")
    assert case.status == "fail"
    assert case.details[0] == "6 row(s) rejected, and the case has no expected_rejects.csv:"
    assert case.details[1].startswith("  line 3 date-invalid date: not a real calendar date")


def test_missing_rejected_row_is_shown(tmp_path: Path) -> None:
    m = _copy_examples(tmp_path)
    rej = tmp_path / "examples" / "uk_bank" / "bad_rows" / "expected_rejects.csv"
    rej.write_text(
        "".join(ln for ln in rej.read_text("utf-8").splitlines(True) if not ln.startswith("7,")),
        encoding="utf-8",
    )
    result = run_cli("test", m)
    assert result.exit_code == 1
    assert "written, not expected (input line 7):" in result.output
    assert "+ 7,amount,Credit / Debit,,required" in result.output


def test_broken_case_and_no_examples_are_exit_2(tmp_path: Path) -> None:
    m = tmp_path / "m.yaml"
    m.write_text(SIMPLE_MAPPING, encoding="utf-8")
    result = run_cli("test", m)
    assert result.exit_code == 2
    assert "the mapping has no examples" in result.output
    case = tmp_path / "examples" / "m" / "one"
    case.mkdir(parents=True)
    (case / "input.csv").write_text("Date,Description,Amount\n", encoding="utf-8")
    result = run_cli("test", m)
    assert result.exit_code == 2
    assert "a case needs one input.<ext> and expected.csv" in result.output


def test_example_whose_input_the_mapping_cannot_read_is_exit_2(tmp_path: Path) -> None:
    m = tmp_path / "m.yaml"
    m.write_text(SIMPLE_MAPPING, encoding="utf-8")
    case = tmp_path / "examples" / "m" / "renamed"
    case.mkdir(parents=True)
    (case / "input.csv").write_text("Date,Details,Amount\n01/03/2025,x,1\n", encoding="utf-8")
    (case / "expected.csv").write_text("date,amount\n2025-03-01,1.00\n", encoding="utf-8")
    result = run_cli("test", m)
    assert result.exit_code == 2
    assert "ERROR    renamed" in result.output
    assert "column-missing" in result.output and "'Description'" in result.output


# -- schema and reference -----------------------------------------------------------------

jsonschema = pytest.importorskip("jsonschema")  # in the test extras


class _Yaml12(yaml.SafeLoader):
    """YAML 1.2 core scalars, as an editor's YAML language server reads them: yes/no/on/off
    are text, 0020 is a number (csvbridge itself reads both as text)."""


_Yaml12.yaml_implicit_resolvers = {}
for _tag, _rx, _first in (
    ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    ("float", r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?)$", "-+.0123456789"),
):
    _Yaml12.add_implicit_resolver(f"tag:yaml.org,2002:{_tag}", re.compile(_rx), list(_first))


def _as_json(data: object) -> object:
    """What the editor validates: JSON, whose keys are text."""
    if isinstance(data, dict):
        return {str(k): _as_json(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_as_json(v) for v in data]
    return data


def _yaml12(text: str) -> object:
    return _as_json(yaml.load(text, Loader=_Yaml12))  # a SafeLoader


def _validator() -> object:
    schema = json.loads((MAPPINGS / SCHEMA_NAME).read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def _in_step(path: Path, text: str) -> None:
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8", newline="\n")
    assert path.read_text(encoding="utf-8") == text, (
        f"{path.relative_to(ROOT)} is out of step with the code it is generated from; "
        "run: python -m csvbridge.mapping.reference (or UPDATE_GOLDEN=1 pytest "
        "tests/test_mapping_tooling.py) and review the diff"
    )


def test_schema_in_step() -> None:
    _in_step(MAPPINGS / SCHEMA_NAME, schema_text())


def test_reference_in_step() -> None:
    _in_step(MAPPINGS / README_NAME, reference_markdown())


ALL_MAPPINGS = sorted(MAPPINGS.glob("*.yaml")) + sorted(
    (ROOT / "tests" / "golden").glob("*/mapping.yaml")
)


@pytest.mark.parametrize("path", ALL_MAPPINGS, ids=lambda p: str(p.relative_to(ROOT)))
def test_schema_validates_every_mapping(path: Path) -> None:
    errors = [
        f"{'.'.join(map(str, e.absolute_path))}: {e.message}"
        for e in _validator().iter_errors(_yaml12(path.read_text(encoding="utf-8")))
    ]
    assert errors == []


def _both(text: str, tmp_path: Path) -> tuple[list[str], bool]:
    """(schema errors, whether csvbridge check accepts it) for one mapping text."""
    m = tmp_path / "m.yaml"
    m.write_text(text, encoding="utf-8")
    errors = [e.message for e in _validator().iter_errors(_yaml12(text))]
    return errors, check_mapping(m).ok


@pytest.mark.parametrize(
    ("change", "bad"),
    [
        ("read:", "raed:"),  # a top-level typo
        ("{delimiter: ','}", "{delimitter: ','}"),  # a typo inside a section
        ("  amount: Amount", "  amount: {colum: Amount}"),  # a typo inside a field
        ("  amount: Amount", "  amount: Amount\n  vat: VAT"),  # no such transaction field
        ("dates: DD/MM/YYYY", "dates: DD/MM/YYYY\nduplicates: {policy: drop}"),  # a bad value
    ],
)
def test_schema_rejects_what_csvbridge_rejects(change: str, bad: str, tmp_path: Path) -> None:
    good = SIMPLE_MAPPING + "read: {delimiter: ','}\n"
    assert _both(good, tmp_path) == ([], True)
    errors, accepted = _both(good.replace(change, bad), tmp_path)
    assert errors, "the schema accepted it"
    assert not accepted, "csvbridge accepted it"


def test_schema_rejects_an_unknown_key() -> None:
    errors = list(_validator().iter_errors(_yaml12(SIMPLE_MAPPING + "colour: blue\n")))
    assert [e.message for e in errors] == [
        "Additional properties are not allowed ('colour' was unexpected)"
    ]


@pytest.mark.parametrize(
    "extra",
    [
        "version: 2\n",  # YAML numbers are text to csvbridge
        "fields:\n  date: Date\n  description: Description\n  amount: Amount\n"
        "  currency: {value: GBP}\n  memo: {value: 0}\n",
    ],
)
def test_schema_accepts_what_csvbridge_accepts(extra: str, tmp_path: Path) -> None:
    text = SIMPLE_MAPPING.replace('version: "3"\n', "")
    if extra.startswith("fields:"):
        text = text[: text.index("fields:")] + extra
    else:
        text += extra
    assert _both(text, tmp_path) == ([], True)


def test_schema_lets_an_extending_mapping_leave_out_its_base_keys(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text(SIMPLE_MAPPING, encoding="utf-8")
    child = "name: child\nextends: base.yaml\nread: {delimiter: ';'}\n"
    assert _both(child, tmp_path) == ([], True)
    assert list(_validator().iter_errors(_yaml12("read: {delimiter: ';'}\n")))


def test_every_key_is_described() -> None:
    schema = mapping_json_schema()
    bare = [
        f"{where}.{name}"
        for where, props in [("", schema["properties"])]
        + [(n, d.get("properties", {})) for n, d in schema["$defs"].items()]
        for name, prop in props.items()
        if not prop.get("description")
    ]
    assert bare == []


def test_reference_lists_every_key_of_every_section() -> None:
    text = reference_markdown()
    for sec in sections():
        assert f"## {'`' + sec.path + '`' if sec.path else 'Top-level keys'}" in text
        for key in keys(sec.model):
            assert f"| `{key.name}` |" in text, f"{sec.path}.{key.name} is missing"
    for kind in KINDS.values():
        assert f"### {kind.name}" in text
    for fn in FUNCTION_HELP:
        assert f"| `{fn}(" in text


def test_reference_formula_example_is_a_valid_mapping(tmp_path: Path) -> None:
    data = yaml.safe_load(FORMULA_EXAMPLE)
    data.update(name="x", kind="transaction", dates="DD/MM/YYYY")
    data["fields"].update(date="Date", currency={"value": "GBP"})
    m = tmp_path / "m.yaml"
    m.write_text(yaml.safe_dump(data), encoding="utf-8")
    chk = check_mapping(m)
    assert chk.ok, [e.render() for e in chk.problems]


def test_editor_modeline_resolves() -> None:
    text = (MAPPINGS / README_NAME).read_text(encoding="utf-8")
    line = next(ln for ln in text.splitlines() if ln.startswith("# yaml-language-server:"))
    target = line.split("$schema=", 1)[1]
    assert (MAPPINGS / target).resolve() == (MAPPINGS / SCHEMA_NAME).resolve()
