"""Golden cases: input + mapping + expected outputs, compared byte for byte.

Each folder in tests/golden/ has a ``case.yaml`` (inputs, mapping, targets, options, exit
code) and an ``expected/`` folder holding every file the run must write. To accept new
outputs after a deliberate change: ``UPDATE_GOLDEN=1 pytest tests/test_golden.py`` and review
the diff.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml

from csvbridge import convert

from .conftest import ROOT, run_cli

GOLDEN = ROOT / "tests" / "golden"
CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "case.yaml").is_file())


def _load(case: str) -> dict:
    return yaml.safe_load((GOLDEN / case / "case.yaml").read_text(encoding="utf-8"))


def _resolve(case: str, rel: str) -> Path:
    here = GOLDEN / case / rel
    return here if here.exists() else ROOT / rel


@pytest.mark.parametrize("case", CASES)
def test_golden_case(case: str, tmp_path: Path) -> None:
    spec = _load(case)
    out = tmp_path / "out"
    args: list[str | Path] = ["convert", *(_resolve(case, i) for i in spec["inputs"])]
    args += ["-m", _resolve(case, spec["mapping"]), "--to", ",".join(spec["to"]), "-o", out]
    for k, v in (spec.get("options") or {}).items():
        args += ["-O", f"{k}={v}"]
    result = run_cli(*args)
    assert result.exit_code == spec.get("exit_code", 0), result.output
    expected = GOLDEN / case / "expected"
    if os.environ.get("UPDATE_GOLDEN"):
        shutil.rmtree(expected, ignore_errors=True)
        shutil.copytree(out, expected)
    got = sorted(p.name for p in out.iterdir())
    want = sorted(p.name for p in expected.iterdir())
    assert got == want, "the run wrote a different set of files"
    for name in want:
        if name.endswith(".xlsx"):  # zip bytes depend on the zlib build: compare the cells
            assert _cells(out / name) == _cells(expected / name), f"{case}/{name} differs"
            continue
        assert (out / name).read_bytes() == (expected / name).read_bytes(), (
            f"{case}/{name} differs from the golden file"
        )


def _cells(path: Path) -> dict[str, list[tuple[object, ...]]]:
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True)
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in wb.worksheets}


@pytest.mark.parametrize("case", CASES)
def test_golden_report_ties_out(case: str) -> None:
    """Every golden report carries a balanced tie-out for every target."""
    import json

    report = json.loads((GOLDEN / case / "expected" / "report.json").read_text("utf-8"))
    assert report["tie_out"], "no tie-out in the report"
    for t in report["tie_out"]:
        assert t["balanced"] is True, t
        # rows, or records when the mapping splits rows into several records
        assert t["equation"][0].startswith(("rows: ", "records: "))


def test_same_inputs_give_identical_bytes(tmp_path: Path) -> None:
    """Same inputs, mapping and history state: the same bytes (each run gets a fresh history,
    since a shared one would — rightly — hold the second run's records back)."""
    inputs = [ROOT / "sample_data" / "uk_bank_statement.csv"]
    mapping = ROOT / "mappings" / "uk_bank.yaml"
    targets = ["qbo-bank", "xero-bank", "csv"]
    convert(inputs, mapping, targets, tmp_path / "a", history=tmp_path / "ha.sqlite")
    convert(inputs, mapping, targets, tmp_path / "b", history=tmp_path / "hb.sqlite")
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "b").iterdir())
    for n in names:
        assert (tmp_path / "a" / n).read_bytes() == (tmp_path / "b" / n).read_bytes(), n


@pytest.mark.parametrize("chunk_rows", [1, 2, 7])
def test_chunk_size_does_not_change_outputs(tmp_path: Path, chunk_rows: int) -> None:
    """Streaming in tiny chunks gives the same bytes as one chunk (duplicates across chunk
    boundaries included)."""
    case = "uk_bank_all_targets"
    spec = _load(case)
    inputs = [_resolve(case, i) for i in spec["inputs"]]
    mapping = _resolve(case, spec["mapping"])
    convert(inputs, mapping, spec["to"], tmp_path / "small", chunk_rows=chunk_rows)
    expected = GOLDEN / case / "expected"
    for p in expected.iterdir():
        assert (tmp_path / "small" / p.name).read_bytes() == p.read_bytes(), p.name
