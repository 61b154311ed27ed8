"""What a command imports: csvbridge loads a module when a run needs it, so that help, a
typo's error and a plain conversion start fast and small. Each test runs the command in a
fresh interpreter and looks at sys.modules as it exits."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import csvbridge

from .conftest import ROOT

# Prints the modules loaded, as JSON, as the last line of stdout when the command exits.
_SCRIPT = """
import atexit, json, sys
atexit.register(lambda: print("\\n" + json.dumps(sorted(sys.modules))))
from csvbridge.cli import main
main(sys.argv[1:], prog_name="csvbridge")
"""

# Writer modules of targets other than qbo-bank: Parquet, the archive's Table Schema, the
# OFX/IIF/ledger text writers. (xlsx_stream, xlsx_cells and xlsx_zip write report.xlsx too.)
OTHER_WRITERS = {
    f"csvbridge.writers.{m}"
    for m in (
        "archive",
        "archive_checks",
        "archive_schema",
        "archive_verify",
        "iif",
        "iif_lists",
        "ofx",
        "plaintext",
        "qbo",
        "qbo_lists",
        "sage",
        "sage_contacts",
        "tabular",
        "typed",
        "xero",
        "xero_contacts",
        "xlsx_table",
    )
}
# Modules of the other commands (reconcile, watch, inspect/init, check/test, verify-archive).
OTHER_COMMANDS = {
    "csvbridge.reconcile",
    "csvbridge.reconcile_match",
    "csvbridge.watch",
    "csvbridge.watch_status",
    "csvbridge.profiling",
    "csvbridge.mapping.preview",
    "csvbridge.mapping.examples",
}
HEAVY = {"numpy", "pyarrow", "pandas", "pydantic", "yaml", "jinja2", "xlsxwriter", "rapidfuzz"}


def _modules(*args: str | Path) -> set[str]:
    src = str(Path(csvbridge.__file__).parent.parent)  # the tree under test
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, *map(str, args)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": src},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode in (0, 2), done.stderr
    return set(json.loads(done.stdout.rstrip().rsplit("\n", 1)[-1]))


def test_help_loads_no_data_library() -> None:
    for args in (["--help"], ["convert", "--help"], ["reconcile", "--help"], ["--version"]):
        loaded = _modules(*args)
        assert not loaded & HEAVY, (args, sorted(loaded & HEAVY))
        assert not {m for m in loaded if m.startswith("csvbridge.writers")}, args
        assert "csvbridge.pipeline" not in loaded, args


def test_formats_list_imports_no_writer_of_a_target() -> None:
    loaded = _modules("formats")
    assert not loaded & (OTHER_WRITERS | {"csvbridge.writers.bank", "xlsxwriter"})
    assert "csvbridge.writers.bank" in _modules("formats", "qbo-bank")


def test_a_bank_conversion_loads_only_its_writer(tmp_path: Path) -> None:
    out = tmp_path / "out"
    loaded = _modules(
        "convert",
        ROOT / "sample_data" / "uk_bank_statement.csv",
        "-m",
        ROOT / "mappings" / "uk_bank.yaml",
        "--to",
        "qbo-bank",
        "-o",
        out,
        "--quiet",
        "--no-history",
    )
    assert (out / "qbo-bank.csv").exists()
    assert "csvbridge.writers.bank" in loaded
    assert not loaded & OTHER_WRITERS, sorted(loaded & OTHER_WRITERS)
    assert not loaded & OTHER_COMMANDS, sorted(loaded & OTHER_COMMANDS)
    # Parquet, and Acero with its datasets and filesystems (what Table.group_by loads)
    assert not {m for m in loaded if m.startswith(("pyarrow.parquet", "pyarrow.acero"))}
    assert "pyarrow.dataset" not in loaded and "pyarrow._fs" not in loaded
    # report.html and report.xlsx are always written: those libraries are the reports' own
    assert (out / "report.html").exists() and (out / "report.xlsx").exists()
    assert {"jinja2", "xlsxwriter"} <= loaded


def test_openblas_runs_no_thread_pool_unless_asked() -> None:
    code = "import os, csvbridge, numpy; print(os.environ['OPENBLAS_NUM_THREADS'])"
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    env["PYTHONPATH"] = str(Path(csvbridge.__file__).parent.parent)
    run = [sys.executable, "-c", code]
    assert subprocess.run(run, env=env, capture_output=True, text=True).stdout.strip() == "1"
    env["OPENBLAS_NUM_THREADS"] = "4"  # a user's own setting wins
    assert subprocess.run(run, env=env, capture_output=True, text=True).stdout.strip() == "4"
