"""Formulas in mappings (expr, when, checks), layout drift, extends and recognition."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from csvbridge import convert, load_mapping
from csvbridge.mapping.recognise import recognise

from .conftest import run_cli

BASE = """\
name: stripe-like
version: "1"
kind: transaction
numbers: {decimal: ",", thousands: "."}
dates: DD.MM.YYYY
fields:
  date: Posted
  description: {expr: "upper(trim(Text)) & ' #' & Ref"}
  amount: {expr: "round(Gross - Fee, 2)"}
  currency: {value: EUR}
"""
DATA = (
    "Posted;Text;Gross;Fee;Status;Ref\r\n"
    "01.03.2025; sale ;100,00;2,90;Paid;A1\r\n"
    "02.03.2025;sale;1.000,50;29,02;Pending;A2\r\n"
    "03.03.2025;refund;-50,00;0,00;Paid;A3\r\n"
)


def _run(tmp_path: Path, mapping: str, data: str = DATA, **kw):  # type: ignore[no-untyped-def]
    (tmp_path / "in.csv").write_text(data, encoding="utf-8")
    (tmp_path / "m.yaml").write_text(mapping, encoding="utf-8")
    return convert([tmp_path / "in.csv"], tmp_path / "m.yaml", ["csv"], tmp_path / "out", **kw)


def _rows(tmp_path: Path, name: str = "transaction.csv") -> list[dict[str, str]]:
    text = (tmp_path / "out" / name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def test_formulas_compute_exact_amounts_and_text(tmp_path: Path) -> None:
    r = _run(tmp_path, BASE)
    assert r.exit_code == 0
    rows = _rows(tmp_path)
    assert [x["amount"] for x in rows] == ["97.10", "971.48", "-50.00"]
    assert rows[0]["description"] == "SALE #A1"


def test_when_filter_counts_under_its_name(tmp_path: Path) -> None:
    m = BASE + "filters:\n  - name: pending\n    when: Status = 'Pending'\n"
    r = _run(tmp_path, m)
    assert r.report["ledger"]["filtered_by_rule"]["pending"]["rows"] == 1
    assert r.report["ledger"]["filtered_by_rule"]["pending"]["amounts"] == {"EUR": "971.48"}
    assert r.tie_outs[0].ok


def test_checks_error_rejects_and_warning_reports(tmp_path: Path) -> None:
    m = BASE + (
        "checks:\n"
        "  - name: no-refunds\n    rule: Gross >= 0\n"
        "    message: refunds go through the other ledger\n"
        "  - name: big-fee\n    rule: Fee < 10\n    severity: warning\n"
    )
    r = _run(tmp_path, m)
    assert r.rejected == 1 and r.report["rejects"]["by_rule"] == {"no-refunds": 1}
    assert r.report["rejects"]["first"][0]["errors"][0]["message"].startswith("refunds go")
    assert r.report["check_warnings"]["big-fee"]["rows"] == 1
    assert r.report["check_warnings"]["big-fee"]["first"] == [{"file": "in.csv", "line": 3}]


def test_a_formula_error_rejects_only_its_row(tmp_path: Path) -> None:
    m = BASE.replace("round(Gross - Fee, 2)", "round(Gross / Fee, 2)")
    r = _run(tmp_path, m)
    assert r.rejected == 1
    err = r.report["rejects"]["first"][0]
    assert err["line"] == 4 and err["errors"][0]["rule"] == "expression-division-by-zero"


def test_formula_with_too_many_decimals_is_not_rounded(tmp_path: Path) -> None:
    r = _run(tmp_path, BASE.replace("round(Gross - Fee, 2)", "Gross / 3"))
    assert r.rejected == 2  # 100/3 and -50/3; 1000.50/3 is exactly 333.50
    assert set(r.report["rejects"]["by_rule"]) == {"amount-precision"}


@pytest.mark.parametrize(
    "formula",
    ["__import__('os')", "Gross.__class__", "open('/etc/passwd')", "9**9**9", "1e400"],
)
def test_formulas_that_try_to_escape_get_a_clean_error(tmp_path: Path, formula: str) -> None:
    (tmp_path / "in.csv").write_text(DATA, encoding="utf-8")
    m = tmp_path / "m.yaml"
    m.write_text(BASE.replace('"round(Gross - Fee, 2)"', repr(formula).replace("\\\\", "\\")))
    result = run_cli("convert", tmp_path / "in.csv", "-m", m, "--to", "csv", "-o", tmp_path / "o")
    assert result.exit_code == 2, result.output
    assert "error [expression-invalid]" in result.output
    assert "fields.amount.expr" in result.output and "Traceback" not in result.output


def test_formula_reading_a_missing_column(tmp_path: Path) -> None:
    m = tmp_path / "m.yaml"
    m.write_text(BASE.replace("Gross - Fee", "Gross - Fees"), encoding="utf-8")
    (tmp_path / "in.csv").write_text(DATA, encoding="utf-8")
    result = run_cli("convert", tmp_path / "in.csv", "-m", m, "--to", "csv", "-o", tmp_path / "o")
    assert result.exit_code == 2 and "error [column-missing]" in result.output
    assert "'Fees'" in result.output


def test_layout_drift_names_the_difference(tmp_path: Path) -> None:
    m = BASE + "layout: [Posted, Text, Gross, Fee, Status, Ref]\n"
    drifted = DATA.replace("Status;Ref", "State;Ref")
    (tmp_path / "in.csv").write_text(drifted, encoding="utf-8")
    (tmp_path / "m.yaml").write_text(m, encoding="utf-8")
    result = run_cli(
        "convert",
        tmp_path / "in.csv",
        "-m",
        tmp_path / "m.yaml",
        "--to",
        "csv",
        "-o",
        tmp_path / "o",
    )
    assert result.exit_code == 2 and "error [layout-drift]" in result.output
    assert "'Status' renamed to 'State'?" in result.output
    assert _run(tmp_path, m).exit_code == 0  # the expected layout converts


def test_extends_overrides_the_base(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text(BASE, encoding="utf-8")
    child = 'extends: base.yaml\nname: child\nversion: "2"\nfields:\n  reference: Ref\n'
    (tmp_path / "child.yaml").write_text(child, encoding="utf-8")
    lm = load_mapping(tmp_path / "child.yaml")
    assert lm.mapping.name == "child" and lm.mapping.kind == "transaction"
    assert set(lm.mapping.fields) == {"date", "description", "amount", "currency", "reference"}


def test_extends_in_a_circle(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("extends: b.yaml\n" + BASE, encoding="utf-8")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\n" + BASE, encoding="utf-8")
    (tmp_path / "in.csv").write_text(DATA, encoding="utf-8")
    result = run_cli(
        "convert",
        tmp_path / "in.csv",
        "-m",
        tmp_path / "a.yaml",
        "--to",
        "csv",
        "-o",
        tmp_path / "o",
    )
    assert result.exit_code == 2 and "error [mapping-extends]" in result.output


def test_recognise_by_file_name_and_header(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text(
        BASE + "recognise:\n  filename: ['*stripe*.csv']\n", encoding="utf-8"
    )
    lm = load_mapping(tmp_path / "m.yaml")
    header = ["Posted", "Text", "Gross", "Fee", "Status", "Ref"]
    assert recognise(lm, Path("March-STRIPE.csv"), header).matches
    assert not recognise(lm, Path("bank.csv"), header).matches
    miss = recognise(lm, Path("stripe.csv"), header[:3])
    assert not miss.matches and "lacks 'Fee', 'Ref'" in "; ".join(miss.reasons)


LOOKUP = """\
name: gl-accounts
kind: transaction
dates: DD.MM.YYYY
numbers: {decimal: ",", thousands: "."}
fields:
  date: Posted
  description: Text
  amount: Gross
  currency: {value: EUR}
  category:
    column: Status
    lookup:
      file: status.csv
      key: code
      value: label
"""


@pytest.mark.parametrize(
    ("policy", "rejected", "categories"),
    [
        ("not_found: reject", 1, ["Paid out", "Paid out"]),
        ("not_found: warn", 0, ["Paid out", "Pending", "Paid out"]),
        ("not_found: default\n      default: Other", 0, ["Paid out", "Other", "Paid out"]),
    ],
)
def test_lookup_file_with_each_not_found_policy(
    tmp_path: Path, policy: str, rejected: int, categories: list[str]
) -> None:
    (tmp_path / "status.csv").write_text("code,label\r\nPaid,Paid out\r\n", encoding="utf-8")
    r = _run(tmp_path, LOOKUP + f"      {policy}\n")
    assert r.rejected == rejected
    assert [x["category"] for x in _rows(tmp_path)] == categories
    if "warn" in policy:
        assert r.report["check_warnings"]["lookup-not-found (category)"]["rows"] == 1


def test_lookup_file_outside_the_mapping_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "secret.csv").write_text("a,b\r\nx,y\r\n", encoding="utf-8")
    mapping = LOOKUP.replace("file: status.csv", "file: ../secret.csv")
    (tmp_path / "m" / "m.yaml").write_text(mapping, encoding="utf-8")
    (tmp_path / "in.csv").write_text(DATA, encoding="utf-8")
    result = run_cli(
        "convert",
        tmp_path / "in.csv",
        "-m",
        tmp_path / "m" / "m.yaml",
        "--to",
        "csv",
        "-o",
        tmp_path / "o",
    )
    assert result.exit_code == 2 and "error [lookup-outside]" in result.output
