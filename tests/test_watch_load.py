"""The watched folder under load (bounded): a running watcher fed 100 files in bursts — small
statements, a few large ones, binary junk, unrecognised and empty files, files with rejected
rows — loses none: each ends exactly once in outbox/ (and archive/) or failed/, as expected,
and the audit log agrees. Speed and memory are measured by benchmarks/watch_load.py, not
asserted here."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest

from .conftest import ROOT

pytestmark = pytest.mark.skipif(os.name != "posix", reason="signals and /proc")


def load_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "watch_load", ROOT / "benchmarks" / "watch_load.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["watch_load"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_a_hundred_files_in_bursts_none_lost(tmp_path: Path) -> None:
    wl = load_module()
    root = tmp_path / "books"
    wl.make_root(root, "[json]")
    p = wl.plan(100, large_every=25, large_rows=5_000, bad_every=10)
    assert sorted(set(p.expect.values())) == ["converted", "failed"]
    run = wl.run_load(root, p, burst=20, pause=0.3, timeout=600)
    assert run.problems == [], "\n".join(run.problems) + "\n" + run.log[-3000:]
    assert run.samples and run.samples[-1][1] == 100


def test_accounting_finds_a_lost_file(tmp_path: Path) -> None:
    """The check itself: a file that vanished, or ended twice, is reported."""
    wl = load_module()
    root = tmp_path / "books"
    wl.make_root(root, "[json]")
    (root / ".csvbridge" / "processing").mkdir(parents=True)
    for sub in ("outbox", "archive", "failed"):
        (root / sub).mkdir()
    problems = wl.account(root, {"a.csv": "converted"})
    assert any("a.csv: 0 outcomes" in x for x in problems), problems
    assert any("archive/ holds 0 entries, expected 1" in x for x in problems), problems
