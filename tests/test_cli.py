"""The command line: help, examples, the formats listing, exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest

from csvbridge import TARGETS
from csvbridge.cli import main

from .conftest import ROOT, run_cli

COMMANDS = sorted(main.commands)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(command: str) -> None:
    result = run_cli(command, "--help")
    assert result.exit_code == 0
    assert "Example" in result.output, f"csvbridge {command} --help shows no example"


def test_top_level_help_and_version() -> None:
    assert "Example" in run_cli("--help").output
    assert run_cli("--version").output.startswith("csvbridge, version ")


def test_formats_lists_every_target_and_kind() -> None:
    out = run_cli("formats").output
    for name in TARGETS:
        assert name in out
    for kind in ("transaction", "invoice", "bill", "journal", "contact", "account", "item"):
        assert kind in out


def test_formats_shows_one_target_with_limits_and_options() -> None:
    out = run_cli("formats", "qbo-bank").output
    assert "Date, Description, Amount" in out
    assert "350 KB" in out and "999" in out
    assert "date_order = auto|dmy|mdy|ymd" in out


def test_formats_unknown_target() -> None:
    result = run_cli("formats", "sage")
    assert result.exit_code == 2
    assert "error [target-unknown]" in result.output


def test_convert_exit_code_1_when_rows_rejected(tmp_path: Path) -> None:
    case = ROOT / "tests" / "golden" / "bad_rows"
    args = ["convert", case / "statement.csv", "-m", case / "mapping.yaml"]
    result = run_cli(*args, "--to", "qbo-bank", "-o", tmp_path, "--date-order", "dmy")
    assert result.exit_code == 1
    assert "rejected 11 row(s)" in result.output  # 10 by the mapping, 1 by qbo-bank (JPY)


def test_quiet_prints_nothing_on_success(tmp_path: Path) -> None:
    result = run_cli(
        "convert",
        ROOT / "sample_data" / "us_card_activity.csv",
        "-m",
        ROOT / "mappings" / "us_card.yaml",
        "--to",
        "csv",
        "-o",
        tmp_path,
        "-q",
    )
    assert result.exit_code == 0
    assert result.output == ""


def test_python_dash_m(tmp_path: Path) -> None:
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "csvbridge", "formats"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0 and "qbo-bank" in proc.stdout


def test_summary_names_a_long_split_by_its_first_and_last_part(tmp_path: Path) -> None:
    """QBO takes 999 rows a file: 4,500 rows are five parts, shown as a range and a count."""
    rows = "".join(
        f"{d % 28 + 1:02d}/01/2025,Item {i},-{i}.00\r\n" for i, d in enumerate(range(4500))
    )
    src = tmp_path / "big.csv"
    src.write_text("Date,Description,Amount\r\n" + rows, encoding="utf-8")
    m = tmp_path / "m.yaml"
    m.write_text(
        'name: t\nversion: "1"\nkind: transaction\ndates: DD/MM/YYYY\nfields:\n  date: Date\n'
        "  description: Description\n  amount: Amount\n  currency: {value: GBP}\n"
    )
    result = run_cli(
        "convert", src, "-m", m, "--to", "qbo-bank", "-o", tmp_path / "out", "--no-history"
    )
    assert result.exit_code == 0, result.output
    assert "qbo-bank-001.csv … qbo-bank-005.csv (5 files, 4,500 rows)" in result.output
