"""Output files: temporary files a killed run left are removed (only csvbridge's, only when
their run is over), outputs are no more open than the inputs, and a broken history database
gives a clear error."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from csvbridge import convert
from csvbridge.outfiles import STALE_HOURS, remove_stale_partials, stale_partials, temp_prefix

from .conftest import run_cli

MAPPING = """\
name: perms
version: "1"
kind: transaction
dates: DD/MM/YYYY
fields:
  date: Date
  description: Description
  amount: Amount
  currency: {value: GBP}
duplicates: {policy: skip, within_file: duplicate}
"""
DATA = (
    "Date,Description,Amount\r\n01/02/2025,Tea,-1.00\r\n30/02/2025,Bad,-2.00\r\n"
    "03/02/2025,Cake,-2.50\r\n03/02/2025,Cake,-2.50\r\n"
)
posix = pytest.mark.skipif(os.name != "posix", reason="POSIX processes and permissions")


def dead_pid() -> int:
    """The id of a process that has ended."""
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def partial_of(folder: Path, name: str, pid: int, age_hours: float = 0) -> Path:
    prefix = temp_prefix(name).replace(f".cb{os.getpid()}@", f".cb{pid}@")
    path = folder / f"{prefix}abc123_x.partial"
    path.write_bytes(b"half")
    if age_hours:
        t = time.time() - age_hours * 3600
        os.utime(path, (t, t))
    return path


@posix
def test_only_partials_of_dead_runs_are_removed(tmp_path: Path) -> None:
    dead = partial_of(tmp_path, "qbo-bank", dead_pid())
    alive_other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        live = partial_of(tmp_path, "qbo-bank", alive_other.pid)
        mine = partial_of(tmp_path, "report.json", os.getpid())
        old_live = partial_of(tmp_path, "rejects", alive_other.pid, age_hours=STALE_HOURS + 1)
        others = [
            tmp_path / ".qbo-bank.abcdefgh.partial",  # not our pattern (no owner): kept
            tmp_path / "notes.partial",
            tmp_path / "qbo-bank.csv",
        ]
        for p in others:
            p.write_text("keep me")
        assert stale_partials(tmp_path) == sorted([dead, old_live])
        remove_stale_partials(tmp_path)
        left = {p.name for p in tmp_path.iterdir()}
        assert left == {live.name, mine.name, *(p.name for p in others)}
    finally:
        alive_other.kill()
        alive_other.wait()


@posix
def test_a_run_removes_what_a_killed_run_left(tmp_path: Path) -> None:
    src, m, out = _case(tmp_path)
    out.mkdir()
    stale = partial_of(out, "qbo-bank", dead_pid())
    result = convert([src], m, ["qbo-bank"], out, history=False)
    assert result.rejected == 1
    assert not stale.exists()
    assert not [p for p in out.iterdir() if p.name.endswith(".partial")]


def _case(tmp_path: Path) -> tuple[Path, Path, Path]:
    src = tmp_path / "in.csv"
    src.write_text(DATA, encoding="utf-8")
    m = tmp_path / "m.yaml"
    m.write_text(MAPPING, encoding="utf-8")
    return src, m, tmp_path / "out"


# -- permissions ------------------------------------------------------------------------------
def modes(out: Path) -> dict[str, int]:
    return {p.name: stat.S_IMODE(p.stat().st_mode) for p in out.iterdir()}


@posix
@pytest.mark.parametrize(
    ("input_mode", "widest"),
    [(0o600, 0o600), (0o640, 0o640), (0o644, 0o644), (0o444, 0o644)],
)
def test_outputs_are_no_more_open_than_the_input(
    tmp_path: Path, input_mode: int, widest: int
) -> None:
    src, m, out = _case(tmp_path)
    src.chmod(input_mode)
    old = os.umask(0o022)
    try:
        convert([src], m, ["qbo-bank", "csv", "xlsx"], out, history=False)
    finally:
        os.umask(old)
    found = modes(out)
    assert {"qbo-bank.csv", "transaction.csv", "rejects.csv", "report.json", "report.html"} <= set(
        found
    )
    too_open = {n: oct(md) for n, md in found.items() if md & ~widest}
    assert too_open == {}, too_open
    # the owner can still read and replace them
    assert all(md & 0o600 == 0o600 for md in found.values()), found
    # a folder csvbridge created is no more open either
    allowed = widest | (widest & 0o444) >> 2  # read, and search where read
    assert stat.S_IMODE(out.stat().st_mode) & ~allowed == 0, oct(out.stat().st_mode)


@posix
def test_the_most_private_input_wins_and_rerun_keeps_it(tmp_path: Path) -> None:
    src, m, out = _case(tmp_path)
    other = tmp_path / "b.csv"
    other.write_text(DATA.replace("Tea", "Coffee"), encoding="utf-8")
    src.chmod(0o644)
    other.chmod(0o600)
    old = os.umask(0o022)
    try:
        out.mkdir(mode=0o755)
        convert([src, other], m, ["qbo-bank"], out, history=False)
        first = modes(out)
        convert([src, other], m, ["qbo-bank"], out, history=False)  # atomic replace
    finally:
        os.umask(old)
    assert set(first.values()) == {0o600}
    assert modes(out) == first


@posix
def test_watched_folder_outputs_keep_the_input_mode(tmp_path: Path) -> None:
    """Through the watcher: claimed, converted, renamed into outbox/ — still 0600."""
    from csvbridge.watch import watch

    root = tmp_path / "root"
    (root / "mappings").mkdir(parents=True)
    (root / "mappings" / "m.yaml").write_text(MAPPING, encoding="utf-8")
    (root / "inbox").mkdir()
    f = root / "inbox" / "statement.csv"
    f.write_text(DATA, encoding="utf-8")
    f.chmod(0o600)
    summary = watch(root, once=True, settle=0, poll=True)
    assert summary.converted == 1, summary
    outs = [p for p in (root / "outbox").rglob("*") if p.is_file()]
    assert outs, list(root.rglob("*"))
    assert {oct(stat.S_IMODE(p.stat().st_mode)) for p in outs} == {oct(0o600)}


# -- history errors -------------------------------------------------------------------------------
def _convert_with_history(tmp_path: Path, history: Path) -> tuple[int, str]:
    src, m, out = _case(tmp_path)
    r = run_cli("convert", src, "-m", m, "--to", "qbo-bank", "-o", out, "--history", history)
    return r.exit_code, r.output


def test_corrupt_history_gives_a_clear_error(tmp_path: Path) -> None:
    h = tmp_path / "h.sqlite"
    h.write_bytes(b"this is not a database, just some text " * 200)
    code, text = _convert_with_history(tmp_path, h)
    assert code == 2, text
    assert "error [history-corrupt]" in text and "Traceback" not in text
    assert f"where: {h}" in text and "move the file aside" in text


@posix
def test_read_only_history_gives_a_clear_error(tmp_path: Path) -> None:
    h = tmp_path / "h.sqlite"
    sqlite3.connect(h).close()
    _convert_with_history(tmp_path, h)  # creates the tables
    h.chmod(0o400)
    if os.access(h, os.W_OK):
        h.chmod(0o600)
        pytest.skip("running as root: permissions do not stop writes")
    code, text = _convert_with_history(tmp_path, h)
    h.chmod(0o600)
    assert code == 2, text
    assert "error [history-read-only]" in text and "Traceback" not in text
    assert "--no-history" in text


def test_history_errors_are_translated() -> None:
    from csvbridge.history import history_error

    full = sqlite3.OperationalError("database or disk is full")
    assert history_error(full, Path("h")).code == "history-disk-full"
    locked = sqlite3.OperationalError("database is locked")
    assert history_error(locked, Path("h")).code == "history-busy"
    ro = sqlite3.OperationalError("attempt to write a readonly database")
    assert history_error(ro, Path("h")).code == "history-read-only"
    other = sqlite3.OperationalError("something else")
    e = history_error(other, Path("h"))
    assert e.code == "history-failed" and e.hint
