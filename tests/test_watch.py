"""The watched folder: real ``csvbridge watch`` processes with files dropped into them.

Every test checks where each file ended (outbox/, archive/, failed/), the history, and that
every input row is accounted for (read = written + rejected + filtered + duplicate, and the
history holds exactly the rows written). Waits poll with a deadline; every process started
is killed by the fixture's finalizer."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from csvbridge.watch import Scanner, watch
from csvbridge.watch_config import load_config
from csvbridge.watch_layout import ignored, safe_name

from .conftest import ROOT as REPO
from .conftest import run_cli

UK = (REPO / "sample_data" / "uk_bank_statement.csv").read_bytes()
US = (REPO / "sample_data" / "us_card_activity.csv").read_bytes()
UK_LINES = UK.split(b"\r\n")
UK_HEADER = UK_LINES[6]
UK_ROWS = UK_LINES[7:35]  # 28 data rows
assert len(UK_ROWS) == 28 and UK_ROWS[0].startswith(b"03/03/2025")
US_ROWS = 13

CONFIG = """\
targets:
  uk-bank-current-account: [xero-bank]
  us-card-activity: qbo-bank
duplicates: skip
reports: [json, html]
"""
WAIT = 45.0  # the longest any single wait may take, on a slow, loaded machine


# -- helpers ---------------------------------------------------------------------------------
def wait_for(what: str, check: Callable[[], Any], timeout: float = WAIT) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.05)


def uk_file(rows: list[bytes], tag: str = "") -> bytes:
    """A UK statement (header and the given rows); ``tag`` makes every record different."""
    if tag:
        rows = [_tag(r, tag) for r in rows]
    return b"\r\n".join([UK_HEADER, *rows, b""])


def _tag(row: bytes, tag: str) -> bytes:
    cells = row.split(b";")
    cells[2] = cells[2] + f" {tag}".encode()
    return b";".join(cells)


def drop(root: Path, name: str, data: bytes) -> Path:
    """Put a file into inbox/ whole (written aside under an ignored name, then renamed)."""
    tmp = root / "inbox" / f".{name}.tmp"
    tmp.write_bytes(data)
    dest = root / "inbox" / name
    os.rename(tmp, dest)
    return dest


def cmd(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "csvbridge", *(str(a) for a in args)]


def run_once(
    root: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cmd("watch", root, "--once", "--settle", "0.3", *args),
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def batches(root: Path) -> list[dict[str, Any]]:
    db = root / ".csvbridge" / "history.sqlite"
    if not db.exists():
        return []
    con = sqlite3.connect(db)
    try:
        rows = con.execute("SELECT id, inputs, records FROM batch ORDER BY id").fetchall()
        per_batch = dict(con.execute("SELECT batch_id, SUM(n) FROM record_block GROUP BY batch_id"))
    finally:
        con.close()
    out = []
    for i, inputs, records in rows:
        assert per_batch.get(i, 0) == records  # no record rows without their batch, or beyond
        out.append({"id": i, "inputs": json.loads(inputs), "records": records})
    return out


def entries(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if not p.name.startswith("."))


def audit(root: Path) -> list[dict[str, Any]]:
    path = root / ".csvbridge" / "audit.jsonl"
    whole = path.read_text().split("\n")[:-1]  # a last line still being written is left out
    return [json.loads(line) for line in whole if line.strip()]


def events(root: Path, kind: str) -> list[dict[str, Any]]:
    return [e for e in audit(root) if e["event"] == kind]


def data_rows(path: Path) -> int:
    """Data rows in an import file (its header line left out)."""
    return len([ln for ln in path.read_text(encoding="utf-8-sig").splitlines() if ln]) - 1


def accounted(out: Path, read_rows: int) -> dict[str, int]:
    """The outbox folder's tie-out balances and reads ``read_rows`` rows; returns the counts."""
    report = json.loads((out / "report.json").read_text())
    (tie,) = report["tie_out"]
    assert tie["balanced"], tie
    counts = {k: v["rows"] for k, v in tie["outcomes"].items()}
    assert tie["read"]["rows"] == read_rows == sum(counts.values()), (read_rows, counts)
    return counts


def settled(root: Path) -> bool:
    """Nothing waiting in inbox/ and nothing claimed."""
    return not entries(root / "inbox") and not list((root / ".csvbridge" / "processing").iterdir())


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A watched folder with the UK bank and US card mappings and a config."""
    r = tmp_path / "books"
    (r / "mappings").mkdir(parents=True)
    (r / "inbox").mkdir()
    shutil.copy(REPO / "mappings" / "uk_bank.yaml", r / "mappings")
    shutil.copy(REPO / "mappings" / "us_card.yaml", r / "mappings")
    (r / "csvbridge.yaml").write_text(CONFIG)
    return r


class Services:
    """Watcher processes started by a test; all are killed at its end."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(
        self, root: Path, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        log = (self.tmp_path / f"watcher-{len(self.procs)}.log").open("wb")
        proc = subprocess.Popen(
            cmd("watch", root, "--interval", "0.2", *args),
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        log.close()
        self.procs.append(proc)
        wait_for(
            "the watcher to start", lambda: _started(root, proc.pid) or proc.poll() is not None
        )
        assert proc.poll() is None, f"the watcher exited at start: {self.log(len(self.procs) - 1)}"
        return proc

    def log(self, i: int) -> str:
        return (self.tmp_path / f"watcher-{i}.log").read_text(errors="replace")

    def close(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait(timeout=30)
        for i in range(len(self.procs)):  # shown by pytest when the test failed
            print(f"--- watcher {i} ---\n{self.log(i)}")


def _started(root: Path, pid: int) -> bool:
    path = root / ".csvbridge" / "audit.jsonl"
    if not path.exists():
        return False
    return any(e["event"] == "started" and e.get("pid") == pid for e in audit(root))


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    s = Services(tmp_path)
    try:
        yield s
    finally:
        s.close()


def failpoint_env(name: str) -> dict[str, str]:
    return {**os.environ, "CSVBRIDGE_WATCH_FAILPOINT": name}


# -- tests -----------------------------------------------------------------------------------
def test_first_run_creates_the_layout_and_a_commented_config(tmp_path: Path) -> None:
    r = tmp_path / "new-root"
    result = run_cli("watch", r, "--once", "--settle", "0")
    assert result.exit_code == 0, result.output
    for d in ("inbox", "outbox", "archive", "failed", "mappings", ".csvbridge/processing"):
        assert (r / d).is_dir(), d
    cfg = load_config(r / "csvbridge.yaml")
    assert cfg.duplicates == "skip" and cfg.default_targets == ["csv"] and cfg.events
    assert "targets:" in (r / "csvbridge.yaml").read_text()
    assert [e["event"] for e in audit(r)] == ["started", "stopped"]
    st = run_cli("status", r)
    assert (
        st.exit_code == 0 and "none running" in st.output and "last success    never" in st.output
    )


def test_once_routes_each_file_by_its_mapping_and_archives_it(root: Path) -> None:
    drop(root, "statement March.csv", UK)
    drop(root, "card.csv", US)
    result = run_once(root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 converted" in result.stdout
    outs = entries(root / "outbox")
    assert len(outs) == 2
    uk = next(o for o in outs if "statement" in o.name)
    us = next(o for o in outs if "card" in o.name)
    assert {p.name for p in uk.iterdir()} == {
        "xero-bank.csv",
        "rejects.csv",
        "duplicates.csv",
        "report.json",
        "report.html",
    }  # report.xlsx left out: reports: [json, html]
    assert accounted(uk, 28)["written"] == 28 and data_rows(uk / "xero-bank.csv") == 28
    assert accounted(us, US_ROWS)["written"] == US_ROWS and (us / "qbo-bank.csv").exists()
    archived = entries(root / "archive")
    assert sorted(p.read_bytes() for p in archived) == sorted([UK, US])
    assert any(
        p.name.endswith("_statement March_" + uk.name.rsplit("_", 1)[1] + ".csv") for p in archived
    )
    assert [b["records"] for b in batches(root)] == [28, US_ROWS] or [
        b["records"] for b in batches(root)
    ] == [US_ROWS, 28]
    assert not entries(root / "failed") and settled(root)
    conv = events(root, "converted")
    assert {e["sha256"] for e in conv} == {e["sha256"] for e in events(root, "claimed")}
    assert all(e["outputs"] and e["rows"] for e in conv)
    st = run_cli("status", root, "--json")
    data = json.loads(st.output)
    assert st.exit_code == 0 and data["health"]["last_success"]["event"] == "converted"
    assert data["history"] == {"batches": 2, "records": 28 + US_ROWS}


def test_a_file_written_slowly_is_taken_only_when_complete(root: Path, services: Services) -> None:
    proc = services.start(root, "--settle", "2")
    # partial and temporary names are never touched
    for junk in ("~$ledger.xlsx", "report.csv.part", "x.crdownload", "y.tmp", ".hidden.csv"):
        (root / "inbox" / junk).write_bytes(UK)
    # a file locked by the program writing it is left until the lock goes
    locked = root / "inbox" / "card.csv"
    with locked.open("wb") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        f.write(US)
        f.flush()
        # written in parts, each within the settle time of the last
        slow = root / "inbox" / "slow.csv"
        data = uk_file(UK_ROWS)
        with slow.open("wb") as s:
            for i in range(0, len(data), len(data) // 4 + 1):
                s.write(data[i : i + len(data) // 4 + 1])
                s.flush()
                time.sleep(0.25)
        assert slow.exists() and locked.exists() and not events(root, "claimed")
        time.sleep(2.5)  # the card file is stable, but still locked
        assert locked.exists()
        fcntl.flock(f, fcntl.LOCK_UN)
    wait_for("both files converted", lambda: len(events(root, "converted")) == 2)
    out = next(o for o in entries(root / "outbox") if "slow" in o.name)
    assert accounted(out, 28)["written"] == 28
    assert len(events(root, "claimed")) == 2 and len(batches(root)) == 2
    assert sorted(p.read_bytes() for p in entries(root / "archive")) == sorted([data, US])
    assert len(entries(root / "outbox")) == 2 and not entries(root / "failed")
    assert sorted(p.name for p in entries(root / "inbox")) == [
        "report.csv.part",
        "x.crdownload",
        "y.tmp",
        "~$ledger.xlsx",
    ]
    assert (root / "inbox" / ".hidden.csv").exists()
    assert proc.poll() is None


def test_unrecognised_and_ambiguous_files_go_to_failed_with_the_reason(root: Path) -> None:
    # a second mapping for the same layout makes the UK file ambiguous
    text = (root / "mappings" / "uk_bank.yaml").read_text()
    (root / "mappings" / "uk_copy.yaml").write_text(
        text.replace("uk-bank-current-account", "uk-copy")
    )
    # the card mapping also wants a file name with "amex" in it
    with (root / "mappings" / "us_card.yaml").open("a") as f:
        f.write("recognise:\n  filename: ['*amex*']\n")
    odd = b"Posted,Payee,Value\n2025-01-01,Shop,1.00\n"
    drop(root, "odd.csv", odd)
    drop(root, "uk.csv", UK)
    drop(root, "card.csv", US)
    result = run_once(root)
    assert result.returncode == 1 and "3 failed" in result.stdout
    failed = {p.name.split("_")[1]: p for p in entries(root / "failed")}
    assert set(failed) == {"odd", "uk", "card"}
    reason = (failed["odd"] / "REASON.txt").read_text()
    assert "no mapping recognises this file" in reason
    assert "uk_bank.yaml (uk-bank-current-account)" in reason and "us_card.yaml" in reason
    assert "csvbridge init" in reason and "'Debit'" in reason
    ambiguous = (failed["uk"] / "REASON.txt").read_text()
    assert "several mappings recognise this file" in ambiguous and "uk-copy" in ambiguous
    card = json.loads((failed["card"] / "reason.json").read_text())
    assert any(
        "file name matches none of *amex*" in r
        for t in card["reason"]["tried"]
        for r in t["reasons"]
    )
    # each source kept, byte for byte; nothing imported, nothing archived
    assert (failed["odd"] / "odd.csv").read_bytes() == odd
    assert (failed["uk"] / "uk.csv").read_bytes() == UK
    assert (failed["card"] / "card.csv").read_bytes() == US
    assert batches(root) == [] and not entries(root / "outbox") and not entries(root / "archive")
    assert len(events(root, "failed")) == 3 and settled(root)
    st = run_cli("status", root)
    assert st.exit_code == 1 and "failed          3" in st.output and "no-mapping" in st.output


def test_malformed_files_fail_or_reject_rows_and_hostile_names_are_made_safe(root: Path) -> None:
    junk = bytes(range(256)) * 4
    drop(root, "junk.csv", junk)
    rows = list(UK_ROWS)
    rows[3] = rows[3].replace(b"04/03/2025", b"31/02/2025")  # no such date
    rows[5] = rows[5].replace(b"43,12", b"43,1x2")  # not an amount
    hostile = "x..\x07bank\nstatement " + "é" * 110 + ".csv"
    drop(root, hostile, uk_file(rows))
    result = run_once(root)
    assert result.returncode == 1, result.stdout + result.stderr
    (failed,) = entries(root / "failed")
    assert json.loads((failed / "reason.json").read_text())["reason"]["code"] == "unreadable"
    assert (failed / "junk.csv").read_bytes() == junk
    (out,) = entries(root / "outbox")
    counts = accounted(out, 28)
    assert counts["written"] == 26 and counts["rejected"] == 2
    rejects = (out / "rejects.csv").read_text(encoding="utf-8-sig")
    assert "31/02/2025" in rejects and "43,1x2" in rejects
    assert [b["records"] for b in batches(root)] == [26]
    # names made from the hostile one: no control characters, no '..', bounded length
    (archived,) = entries(root / "archive")
    for name in (out.name, archived.name):
        assert name.isprintable() and ".." not in name and len(name.encode()) < 120, name
        assert "bank_statement" in name
    assert archived.read_bytes() == uk_file(rows)
    conv = events(root, "converted")[0]
    assert conv["file"] == "x..\\x07bank\\x0astatement " + "é" * 110 + ".csv"
    assert settled(root)


def test_the_same_file_twice_is_recognised_and_not_imported_again(
    root: Path, services: Services
) -> None:
    services.start(root, "--settle", "0.3")
    drop(root, "statement.csv", UK)
    wait_for("the first conversion", lambda: events(root, "converted"))
    drop(root, "statement.csv", UK)
    drop(root, "statement (1).csv", UK)
    wait_for("two repeats", lambda: len(events(root, "already-imported")) == 2)
    wait_for("the folder to settle", lambda: settled(root))
    assert "already    statement (1).csv" in services.log(0)
    outs = entries(root / "outbox")
    assert len(outs) == 3
    notices = [o for o in outs if (o / "ALREADY-IMPORTED.txt").exists()]
    assert len(notices) == 2
    for o in notices:
        assert not (o / "xero-bank.csv").exists()
        assert "batch 1" in (o / "ALREADY-IMPORTED.txt").read_text()
        assert "csvbridge forget 1" in (o / "ALREADY-IMPORTED.txt").read_text()
    archived = entries(root / "archive")
    assert len(archived) == 3 and all(p.read_bytes() == UK for p in archived)
    assert [b["records"] for b in batches(root)] == [28]  # one batch: no second history entry
    assert len(events(root, "already-imported")) == 2 and settled(root)
    assert not entries(root / "failed")


def test_an_overlapping_download_adds_only_the_new_rows(root: Path, services: Services) -> None:
    services.start(root, "--settle", "0.3")
    drop(root, "march-1.csv", uk_file(UK_ROWS[:18]))
    wait_for("the first download", lambda: events(root, "converted"))
    drop(root, "march-2.csv", uk_file(UK_ROWS[10:]))  # rows 11-18 again, then 10 new
    wait_for("the second download", lambda: len(events(root, "converted")) == 2)
    wait_for("the folder to settle", lambda: settled(root))
    first, second = (
        next(o for o in entries(root / "outbox") if f"march-{i}" in o.name) for i in (1, 2)
    )
    assert accounted(first, 18)["written"] == 18
    counts = accounted(second, 18)
    assert counts["written"] == 10 and counts["duplicate"] == 8
    assert data_rows(second / "xero-bank.csv") == 10
    dups = (second / "duplicates.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(dups) == 1 + 8
    assert [b["records"] for b in batches(root)] == [18, 10]  # 28 distinct rows, each once
    assert len(entries(root / "archive")) == 2 and settled(root)
    assert not entries(root / "failed")


@pytest.mark.parametrize("step", ["chunk", "converted", "published"])
def test_kill_9_during_processing_then_restart_finishes_exactly_once(
    root: Path, services: Services, step: str
) -> None:
    proc = services.start(root, "--settle", "0.3", env=failpoint_env(step))
    drop(root, "statement.csv", UK)
    wait_for(f"the watcher to reach {step}", (root / ".csvbridge" / f"failpoint-{step}").exists)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert list((root / ".csvbridge" / "processing").iterdir())  # a claim was left behind
    summary = watch(root, once=True, settle=0.3)  # the restart (in this process: faster)
    assert summary.converted == 1 and summary.exit_code == 0
    (out,) = entries(root / "outbox")
    assert accounted(out, 28)["written"] == 28
    assert data_rows(out / "xero-bank.csv") == 28
    assert not [p for p in out.iterdir() if p.name.endswith(".partial")]
    (archived,) = entries(root / "archive")
    assert archived.read_bytes() == UK
    assert [b["records"] for b in batches(root)] == [28]  # one history entry, 28 records
    assert (
        json.loads((out / "report.json").read_text())["history"]["batch"] == batches(root)[0]["id"]
    )
    assert events(root, "recovered") and len(events(root, "converted")) == 1
    if step == "converted":  # killed after the history commit: that batch was undone, then redone
        assert events(root, "rolled-back")[0]["batches"] == [1]
    assert settled(root) and not entries(root / "failed")


def test_two_watchers_on_one_root_never_take_the_same_file(root: Path, services: Services) -> None:
    a = services.start(root, "--settle", "0.5")
    b = services.start(root, "--settle", "0.5", "--poll")
    files = {f"stmt-{i}.csv": uk_file(UK_ROWS, tag=f"V{i}") for i in range(6)}
    for name, data in files.items():
        drop(root, name, data)
    wait_for("six conversions", lambda: len(events(root, "converted")) == 6)
    wait_for("the folder to settle", lambda: settled(root))
    claimed = events(root, "claimed")
    assert sorted(e["file"] for e in claimed) == sorted(files)  # each claimed exactly once
    assert len(entries(root / "outbox")) == 6 and len(entries(root / "archive")) == 6
    assert sorted(p.read_bytes() for p in entries(root / "archive")) == sorted(files.values())
    assert [b["records"] for b in batches(root)] == [28] * 6
    assert not entries(root / "failed")
    for out in entries(root / "outbox"):
        assert accounted(out, 28)["written"] == 28
    a.send_signal(signal.SIGTERM)
    b.send_signal(signal.SIGINT)
    assert a.wait(timeout=30) == 0 and b.wait(timeout=30) == 0
    assert len(events(root, "stopped")) == 2
    assert not list((root / ".csvbridge" / "watchers").glob("*.lock"))


def test_sigterm_during_a_conversion_gives_the_file_back(root: Path, services: Services) -> None:
    proc = services.start(root, "--settle", "0.3", env=failpoint_env("chunk"))
    drop(root, "statement.csv", UK)
    wait_for("the conversion to start", (root / ".csvbridge" / "failpoint-chunk").exists)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    assert (root / "inbox" / "statement.csv").read_bytes() == UK  # released, intact
    assert batches(root) == [] and not entries(root / "outbox")
    assert not entries(root / "archive") and not entries(root / "failed")
    assert events(root, "released") and events(root, "stopped")
    assert not list((root / ".csvbridge" / "processing").iterdir())
    assert watch(root, once=True, settle=0.3).converted == 1  # the next start converts it
    assert [b["records"] for b in batches(root)] == [28] and settled(root)
    assert len(entries(root / "archive")) == 1 and len(entries(root / "outbox")) == 1


def test_symbolic_links_in_inbox_are_not_followed(root: Path, tmp_path: Path) -> None:
    secret = tmp_path / "outside.csv"
    secret.write_bytes(UK)
    os.symlink(secret, root / "inbox" / "link.csv")
    summary = watch(root, once=True, settle=0)
    assert summary.failed == 1 and summary.exit_code == 1
    (failed,) = entries(root / "failed")
    assert (failed / "link.csv").is_symlink() and secret.read_bytes() == UK
    reason = json.loads((failed / "reason.json").read_text())["reason"]
    assert reason["code"] == "not-a-file"
    assert batches(root) == [] and not entries(root / "outbox")


def test_a_config_mistake_is_an_error_with_a_hint(root: Path) -> None:
    (root / "csvbridge.yaml").write_text("targets: {}\ndupliactes: skip\n")
    result = run_cli("watch", root, "--once")
    assert result.exit_code == 2
    assert "dupliactes: unknown key" in result.output and "docs/watch.md" in result.output


def test_names_are_made_safe_and_partial_names_ignored() -> None:
    assert safe_name("../../etc/passwd") == "etc_passwd"
    assert safe_name("a\x00b\x1bc.csv") == "a_b_c.csv"
    assert safe_name("CON.csv") == "_CON.csv"
    assert safe_name("..") == "file"
    assert safe_name("x" * 500 + ".csv") == "x" * 80 + ".csv"
    assert safe_name("report.csv\udcff") == "report.csv"
    for name in ("~$book.xlsx", "a.csv.part", "b.crdownload", "c.tmp", ".x.csv", "d.csv~"):
        assert ignored(name), name
    assert not ignored("statement.csv")


def test_scanner_waits_for_a_settled_file(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("x")
    s = Scanner(tmp_path, settle=0.2)
    assert s.scan()[:2] == ([], ["a.csv"])
    time.sleep(0.25)
    assert s.scan()[:2] == (["a.csv"], [])
    (tmp_path / "a.csv").write_text("xy")
    assert s.scan()[:2] == ([], ["a.csv"])


def test_a_claim_killed_before_its_journal_is_finished_by_the_next_start(root: Path) -> None:
    watch(root, once=True, settle=0)  # the layout
    processing = root / ".csvbridge" / "processing"
    left = processing / "wdead--20250101T000000-0badf00d"
    (left / "src").mkdir(parents=True)
    (left / "src" / "statement.csv").write_bytes(UK)  # renamed in, then killed
    (processing / "wdead--20250101T000000-00000000" / "src").mkdir(parents=True)  # empty
    st = run_cli("status", root)
    assert st.exit_code == 1 and "watcher gone" in st.output
    summary = watch(root, once=True, settle=0)
    assert summary.converted == 1 and not list(processing.iterdir())
    (out,) = entries(root / "outbox")
    assert out.name.endswith("_statement_0badf00d") and accounted(out, 28)["written"] == 28
    assert [b["records"] for b in batches(root)] == [28]
    assert events(root, "recovered")[0]["from_watcher"] == "wdead"
    assert run_cli("status", root).exit_code == 0
