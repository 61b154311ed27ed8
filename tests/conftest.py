"""Shared test helpers: paths, running the CLI in-process, and the shared corpus."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from csvbridge.cli import main

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"


# A minimal transaction mapping for tests that need one.
SIMPLE_MAPPING = """\
name: t
version: "3"
kind: transaction
dates: DD/MM/YYYY
fields:
  date: Date
  description: Description
  amount: Amount
  currency: {value: GBP}
"""


def write_case(
    tmp_path: Path, data: bytes | str, mapping: str = SIMPLE_MAPPING, name: str = "in.csv"
) -> tuple[Path, Path]:
    """Write an input file and a mapping into ``tmp_path``; return their paths."""
    src = tmp_path / name
    src.write_bytes(data.encode() if isinstance(data, str) else data)
    m = tmp_path / "m.yaml"
    m.write_text(mapping, encoding="utf-8")
    return src, m


def run_cli(*args: str | Path) -> Result:
    """Run ``csvbridge ARGS`` in-process; exceptions surface as they would to a user."""
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def corpus() -> Path:
    """The shared real-world corpus; tests using it skip when it is absent."""
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS} (it sits beside the repo checkout)")
    return CORPUS


@pytest.fixture(autouse=True)
def _own_history(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test gets its own history database, never the user's."""
    monkeypatch.setenv("CSVBRIDGE_HISTORY", str(tmp_path_factory.mktemp("hist") / "h.sqlite"))
