"""The watched folder when its history cannot be used: busy with another conversion past the
wait, or on a full disk. That is not the file's fault: the file stays claimed in
.csvbridge/processing/ (not failed/), the watcher says why and tries again later with growing
pauses, and converts it once the history is usable; only after ``history_wait_minutes`` does
the file go to failed/, its REASON.txt saying so."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import csvbridge.history as history_mod
from csvbridge.errors import CsvbridgeError, OutputError
from csvbridge.history import History
from csvbridge.watch import watch
from csvbridge.watch_layout import read_audit
from csvbridge.watch_retry import defer, due

from .conftest import ROOT as REPO
from .conftest import run_cli
from .test_faults import fill_disk_for
from .test_watch_hostile import HEADER, ROWS, statement


@pytest.fixture
def root(tmp_path: Path) -> Path:
    r = tmp_path / "books"
    (r / "mappings").mkdir(parents=True)
    (r / "inbox").mkdir()
    shutil.copy(REPO / "mappings" / "uk_bank.yaml", r / "mappings")
    (r / "csvbridge.yaml").write_text(
        "targets:\n  uk-bank-current-account: [csv]\nreports: [json]\n"
    )
    return r


def big_statement(copies: int = 100) -> bytes:
    """28 * ``copies`` distinct records: enough that recording them needs new pages."""
    rows = [r for i in range(copies) for r in statement(f"t{i}").split(b"\r\n")[1:] if r]
    assert len(rows) == len(ROWS) * copies
    return b"\r\n".join([HEADER, *rows, b""])


def events(r: Path, kind: str) -> list[dict[str, Any]]:
    return [e for e in read_audit(r / ".csvbridge" / "audit.jsonl") if e["event"] == kind]


def claims(r: Path) -> list[Path]:
    return sorted((r / ".csvbridge" / "processing").glob("*--*"))


def batches(r: Path) -> list[int]:
    db = sqlite3.connect(r / ".csvbridge" / "history.sqlite")
    try:
        return [int(x[0]) for x in db.execute("SELECT records FROM batch ORDER BY id")]
    finally:
        db.close()


@pytest.fixture
def full_disk(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], None]]:
    """The history's disk is full: it cannot grow by one page (SQLITE_FULL, as for real).
    Calling the fixture's value frees space."""
    real = History._prepare

    def prepare(self: History) -> None:
        real(self)
        pages = self.db.execute("PRAGMA page_count").fetchone()[0]
        self.db.execute(f"PRAGMA max_page_count = {pages}")

    with monkeypatch.context() as mp:
        mp.setattr(History, "_prepare", prepare)
        yield mp.undo


def pause_over(r: Path) -> None:
    """Time passes: every waiting claim's pause is over."""
    for c in claims(r):
        j = json.loads((c / "journal.json").read_text())
        j["deferred"]["next_epoch"] = 0
        (c / "journal.json").write_text(json.dumps(j))


def _lines(r: Path, **kw: Any) -> tuple[Any, list[str]]:
    out: list[str] = []
    summary = watch(r, once=True, settle=0, echo=out.append, **kw)
    return summary, out


def test_a_full_history_disk_keeps_the_file_and_tries_again(
    root: Path, full_disk: Callable[[], None]
) -> None:
    data = big_statement()
    (root / "inbox" / "march.csv").write_bytes(data)
    summary, out = _lines(root)
    assert not list((root / "failed").iterdir()), "a full history disk sent the file to failed/"
    assert (summary.deferred, summary.failed, summary.converted) == (1, 0, 0)
    assert summary.exit_code == 1
    assert not list((root / "outbox").iterdir()) and not list((root / "inbox").iterdir())
    [claim] = claims(root)
    assert (claim / "src" / "march.csv").read_bytes() == data  # kept, untouched
    assert not (root / ".csvbridge" / "converting.json").exists()
    assert batches(root) == []  # nothing of the failed try was recorded
    [e] = events(root, "deferred")
    assert e["reason"]["code"] == "history-disk-full" and e["tries"] == 1, e
    assert e["file"] == "march.csv" and e["next"] and e["gives_up"]
    assert any(
        line.startswith("waiting    march.csv: waiting to try again (history-disk-full:")
        for line in out
    ), out
    st = run_cli("status", root)
    assert "march.csv (waiting to try again (history-disk-full: the disk holding" in st.output
    assert "tried once since" in st.output and "gives up" in st.output, st.output
    assert "last error      " in st.output and "deferred" in st.output
    data_json = json.loads(run_cli("status", root, "--json").output)
    assert data_json["processing"][0]["step"] == "waiting"
    pause_over(root)
    again = run_cli("watch", root, "--once", "--settle", "0")  # the disk is still full
    assert again.exit_code == 1, again.output
    assert "done       0 converted, 0 already imported, 0 failed, 1 waiting to try again" in (
        again.output
    )
    assert "tried 2 times since" in again.output and not list((root / "failed").iterdir())


def test_the_file_is_converted_once_the_history_has_room(
    root: Path, full_disk: Callable[[], None]
) -> None:
    (root / "inbox" / "march.csv").write_bytes(big_statement())
    assert _lines(root)[0].converted == 0 and len(claims(root)) == 1
    full_disk()  # space freed
    summary, out = _lines(root)
    assert summary.converted == 0 and len(claims(root)) == 1  # still within its pause
    pause_over(root)
    summary, out = _lines(root)
    assert (summary.converted, summary.deferred, summary.failed) == (1, 0, 0), out
    assert summary.exit_code == 0
    assert len(list((root / "outbox").iterdir())) == 1 and len(list((root / "archive").iterdir()))
    assert claims(root) == [] and batches(root) == [28 * 100]
    [conv] = events(root, "converted")
    assert conv["deferred"]["tries"] == 1  # the audit line says it waited


@pytest.mark.parametrize("when", ["before", "during"])
def test_a_busy_history_keeps_the_file_and_tries_again(
    root: Path, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    """Another process holds the history's write lock past the wait: from the start
    ("before": the watcher's own check of the file's bytes waits), or from just before the
    conversion records its batch ("during")."""
    monkeypatch.setattr(history_mod, "BUSY_SECONDS", 0.3)
    watch(root, once=True, settle=0)  # creates the layout and the history
    other = sqlite3.connect(root / ".csvbridge" / "history.sqlite", isolation_level=None)
    if when == "before":
        other.execute("BEGIN IMMEDIATE")
    else:
        real_begin = History.begin

        def begin(self: History) -> None:
            if not other.in_transaction:
                other.execute("BEGIN IMMEDIATE")
            real_begin(self)

        monkeypatch.setattr(History, "begin", begin)
    (root / "inbox" / "march.csv").write_bytes(statement("busy"))
    try:
        summary, out = _lines(root)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert not list((root / "failed").iterdir()), "a busy history sent the file to failed/"
    assert (summary.deferred, summary.failed, summary.errors) == (1, 0, 0), out
    [e] = events(root, "deferred")
    assert e["reason"]["code"] == "history-busy", e
    monkeypatch.undo()
    pause_over(root)
    summary, out = _lines(root)
    assert summary.converted == 1 and claims(root) == [] and batches(root) == [28], out


def test_a_waiting_file_goes_to_failed_after_the_wait(
    root: Path, full_disk: Callable[[], None]
) -> None:
    cfg = root / "csvbridge.yaml"
    cfg.write_text(cfg.read_text() + "history_wait_minutes: 0\n")
    (root / "inbox" / "march.csv").write_bytes(big_statement())
    summary, out = _lines(root)
    assert (summary.failed, summary.deferred) == (1, 0), out
    [folder] = list((root / "failed").iterdir())
    reason = (folder / "REASON.txt").read_text()
    assert "the disk holding the history database is full" in reason
    assert "tried once over 0 minutes, then gave up  [history-disk-full]" in reason, reason
    assert "The file itself is fine: csvbridge could not use the folder's history or disk" in reason
    assert "move the file back into inbox/ to convert it." in reason
    assert (folder / "march.csv").exists() and claims(root) == []
    [failed] = events(root, "failed")
    assert failed["reason"]["code"] == "history-disk-full" and failed["deferred"]["tries"] == 1


def test_giving_up_that_fails_is_an_error_not_a_crash(
    root: Path, full_disk: Callable[[], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    import csvbridge.watch as watch_mod

    cfg = root / "csvbridge.yaml"
    cfg.write_text(cfg.read_text() + "history_wait_minutes: 0\n")
    (root / "inbox" / "march.csv").write_bytes(big_statement())
    real = watch_mod.finish

    def finish(*a: Any) -> str:
        raise OSError(28, "No space left on device")  # REASON.txt cannot be written either

    monkeypatch.setattr(watch_mod, "finish", finish)
    summary, out = _lines(root)
    assert summary.errors == 1 and summary.failed == 0, out
    [claim] = claims(root)
    assert json.loads((claim / "journal.json").read_text())["outcome"] == "failed"
    monkeypatch.setattr(watch_mod, "finish", real)
    summary, out = _lines(root)  # the next start finishes it
    assert summary.failed == 1 and claims(root) == [], out
    assert len(list((root / "failed").iterdir())) == 1


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="finds file names in /proc")
def test_a_full_output_disk_keeps_the_file_too(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as mp:
        fill_disk_for(mp, ".transaction.", 10)  # the import file does not fit
        (root / "inbox" / "march.csv").write_bytes(statement("full"))
        summary, out = _lines(root)
    assert not list((root / "failed").iterdir()), "a full disk sent the file to failed/"
    assert summary.deferred == 1 and len(claims(root)) == 1, out
    [e] = events(root, "deferred")
    assert e["reason"]["code"] == "output-write-failed", e
    assert e["reason"]["message"].startswith("the disk is full"), e
    pause_over(root)
    summary, out = _lines(root)
    assert summary.converted == 1 and claims(root) == [] and batches(root) == [28], out


def test_other_output_errors_still_fail_the_file(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import csvbridge.watch_claim as wc

    def convert(*a: Any, **k: Any) -> Any:
        try:
            raise PermissionError(13, "Permission denied")
        except OSError as e:
            raise OutputError(f"cannot write x: {e.strerror}", code="output-unwritable") from None

    monkeypatch.setattr(wc, "convert", convert)
    (root / "inbox" / "march.csv").write_bytes(statement("denied"))
    summary, out = _lines(root)
    assert summary.failed == 1 and summary.deferred == 0 and claims(root) == [], out


def test_the_pause_doubles_and_the_wait_is_bounded() -> None:
    err = CsvbridgeError("busy", code="history-busy")
    j: dict[str, Any] = {}
    t0 = 1_000_000.0
    pauses = []
    now = t0
    while not defer(j, err, 60, now=now):
        pauses.append(j["deferred"]["next_epoch"] - now)
        assert not due(j, now) and due(j, j["deferred"]["next_epoch"])
        now = j["deferred"]["next_epoch"]
    assert pauses[:6] == [10, 20, 40, 80, 160, 300] and set(pauses[6:]) == {300}
    assert now - t0 >= 3600 and now - t0 < 3600 + 300  # gave up once the hour was over
    assert j["outcome"] == "failed" and j["reason"]["code"] == "history-busy"
    assert j["deferred"]["tries"] == len(pauses) + 1
