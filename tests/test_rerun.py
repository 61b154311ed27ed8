"""A batch run again into the folder where it already finished leaves that folder alone; in
another folder, or once its files there changed, it is converted (as duplicates) as before."""

from __future__ import annotations

from pathlib import Path

from csvbridge import convert
from csvbridge.history import History

from .conftest import run_cli

MAPPING = """\
name: r
version: "1"
kind: transaction
dates: YYYY-MM-DD
fields:
  date: Date
  description: Text
  amount: Amount
  currency: {value: EUR}
"""


def _setup(tmp_path: Path) -> tuple[Path, Path, Path]:
    m = tmp_path / "m.yaml"
    m.write_text(MAPPING, encoding="utf-8")
    f = tmp_path / "in.csv"
    f.write_text("Date,Text,Amount\n2025-01-02,Tea,-1.00\n2025-01-03,Cake,-2.50\n", "utf-8")
    return m, f, tmp_path / "history.sqlite"


def _files(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


def test_same_batch_into_the_same_folder_is_left_alone(tmp_path: Path) -> None:
    m, f, h = _setup(tmp_path)
    first = convert([f], m, ["xero-bank"], tmp_path / "out", history=h)
    before = _files(tmp_path / "out")
    again = convert([f], m, ["xero-bank"], tmp_path / "out", history=h)
    assert _files(tmp_path / "out") == before
    assert again.report == first.report
    assert any("already finished in" in w for w in again.warnings)
    with History(h) as store:
        assert [b.id for b in store.batches()] == [1]


def test_same_batch_elsewhere_or_after_a_change_is_converted_as_duplicates(
    tmp_path: Path,
) -> None:
    m, f, h = _setup(tmp_path)
    convert([f], m, ["xero-bank"], tmp_path / "out", history=h)
    other = convert([f], m, ["xero-bank"], tmp_path / "other", history=h)
    assert other.report["duplicates"]["held_back"] == 2
    (tmp_path / "out" / "xero-bank.csv").write_text("edited\n", "utf-8")
    changed = convert([f], m, ["xero-bank"], tmp_path / "out", history=h)
    assert changed.report["duplicates"]["held_back"] == 2
    assert not any("already finished in" in w for w in changed.warnings)


def test_cli_says_the_batch_already_finished(tmp_path: Path) -> None:
    m, f, h = _setup(tmp_path)
    args = ["convert", f, "-m", m, "--to", "xero-bank", "-o", tmp_path / "out"]
    assert run_cli(*args, "--history", h).exit_code == 0
    result = run_cli(*args, "--history", h)
    assert result.exit_code == 0, result.output
    assert "already finished in" in result.output
