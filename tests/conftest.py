"""Shared test helpers: paths, running the CLI in-process, and the shared corpus."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from csvbridge.cli import main

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"


def run_cli(*args: str | Path) -> Result:
    """Run ``csvbridge ARGS`` in-process; exceptions surface as they would to a user."""
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def corpus() -> Path:
    """The shared real-world corpus; tests using it skip when it is absent."""
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS} (it sits beside the repo checkout)")
    return CORPUS
