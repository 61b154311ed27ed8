"""The watched folder against hostile files and names: it never follows a symbolic link out of
its root (links to files or folders, outside or inside), never looks into sub-folders, and never
trusts a file's name — separators, '..', control characters, undecodable bytes, names at the
filesystem's length limit, names that collide once made safe. Every file dropped ends in
outbox/ (and archive/) or failed/, and nothing is written outside the root. Also: the audit
log is rotated by size without losing a line and is no more open than the folder and the files
it names, and a manual convert that shares the folder's history takes its turn with the
watchers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from csvbridge.watch import watch
from csvbridge.watch_fs import FileLock
from csvbridge.watch_layout import Audit, read_audit, safe_name

from .conftest import ROOT as REPO

UK = (REPO / "sample_data" / "uk_bank_statement.csv").read_bytes()
LINES = UK.split(b"\r\n")
HEADER, ROWS = LINES[6], LINES[7:35]
posix = pytest.mark.skipif(os.name != "posix", reason="POSIX names and links")


def statement(tag: str) -> bytes:
    """A UK statement whose every record is new (``tag`` in each description)."""
    rows = []
    for r in ROWS:
        cells = r.split(b";")
        cells[2] += f" {tag}".encode()
        rows.append(b";".join(cells))
    return b"\r\n".join([HEADER, *rows, b""])


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


def tree(folder: Path) -> dict[str, bytes | str]:
    """Every path under ``folder`` (links not followed): file bytes, or where a link points."""
    out: dict[str, bytes | str] = {}
    for dirpath, dirs, files in os.walk(folder):
        for n in dirs + files:
            p = Path(dirpath) / n
            rel = str(p.relative_to(folder))
            if p.is_symlink():
                out[rel] = "-> " + os.readlink(p)
            elif p.is_file():
                out[rel] = p.read_bytes()
    return out


def outcome_events(root: Path) -> list[dict[str, object]]:
    return [
        e
        for e in read_audit(root / ".csvbridge" / "audit.jsonl")
        if e["event"] in ("converted", "failed", "already-imported")
    ]


@posix
def test_links_are_never_followed_out_of_the_root(root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    (outside / "deep").mkdir(parents=True)
    (outside / "secret.csv").write_bytes(statement("secret"))
    (outside / "deep" / "also.csv").write_bytes(statement("deep"))
    before = tree(outside)
    inbox = root / "inbox"
    os.symlink(outside / "secret.csv", inbox / "to-file.csv")  # a link to a file outside
    os.symlink(outside, inbox / "to-folder.csv")  # a link to a folder outside
    os.symlink(outside / "missing.csv", inbox / "dangling.csv")  # a link to nothing
    os.symlink("../mappings/uk_bank.yaml", inbox / "inside.csv")  # a link within the root
    (inbox / "sub").mkdir()  # sub-folders are not looked into
    (inbox / "sub" / "nested.csv").write_bytes(statement("nested"))
    os.symlink(outside, inbox / "sub" / "escape")
    summary = watch(root, once=True, settle=0)
    assert summary.failed == 4 and summary.converted == 0, summary
    assert tree(outside) == before  # nothing read-and-moved, nothing written there
    failed = sorted((root / "failed").iterdir())
    reasons = {json.loads((f / "reason.json").read_text())["reason"]["code"] for f in failed}
    assert reasons == {"not-a-file"}
    for f in failed:  # each link itself was moved, still a link, never its target
        (link,) = [p for p in f.iterdir() if p.name not in ("REASON.txt", "reason.json")]
        assert link.is_symlink()
    assert (root / "mappings" / "uk_bank.yaml").is_file()
    assert (inbox / "sub" / "nested.csv").is_file() and (inbox / "sub" / "escape").is_symlink()
    assert not list((root / "outbox").iterdir()) and not list((root / "archive").iterdir())


IGNORED = ["..\\..\\windows\\evil.csv", "..csv", ".hidden.csv"]  # dot-files: never taken
HOSTILE = [
    "x\\..\\..\\windows\\evil.csv",  # backslash separators and '..' (a plain name on POSIX)
    " .. .csv",
    "-rf --no-preserve-root.csv",
    "tab\tnew\nline\rcr\x1b[31mred.csv",
    "CON.csv",
    "nul.csv",
    "same?.csv",  # these two collide once made safe
    "same*.csv",
    "a" * 251 + ".csv",  # 255 bytes: the longest name a Linux filesystem takes
    "é" * 125 + ".csv",  # 254 bytes of two-byte characters
    "right-to-left \u202egnp.csv",
    "zero\u200bwidth.csv",
]


@posix
def test_hostile_names_never_escape_and_nothing_is_lost(root: Path, tmp_path: Path) -> None:
    inbox = root / "inbox"
    names = list(HOSTILE)
    for i, name in enumerate(names):
        (inbox / name).write_bytes(statement(f"h{i}"))
    for name in IGNORED:
        (inbox / name).write_bytes(statement(name))
    raw = b"bad-\xff\xfe-utf8.csv"  # not valid UTF-8
    with open(os.path.join(os.fsencode(inbox), raw), "wb") as f:
        f.write(statement("raw"))
    names.append(os.fsdecode(raw))
    siblings = sorted(p.name for p in tmp_path.iterdir())
    summary = watch(root, once=True, settle=0)
    assert summary.converted == len(names) and summary.failed == 0, summary
    assert sorted(p.name for p in tmp_path.iterdir()) == siblings  # nothing beside the root
    assert sorted(p.name for p in inbox.iterdir()) == sorted(IGNORED)  # left alone, as documented
    outbox, archive = sorted((root / "outbox").iterdir()), sorted((root / "archive").iterdir())
    assert len(outbox) == len(archive) == len(names)  # colliding names: both kept
    for p in [*outbox, *archive]:
        n = p.name
        assert n.isprintable() and ".." not in n and "\\" not in n, repr(n)
        assert len(n.encode()) <= 120 and not n.startswith(("-", ".", " ")), repr(n)
        assert p.resolve().parent in ((root / "outbox").resolve(), (root / "archive").resolve())
    # every file accounted for in the audit log, by its escaped original name, once
    shown = sorted(str(e["file"]) for e in outcome_events(root))
    assert len(shown) == len(names) and all(s.isprintable() for s in shown)
    assert "bad-\\udcff\\udcfe-utf8.csv" in shown, shown
    want = sorted([*(statement(f"h{i}") for i in range(len(HOSTILE))), statement("raw")])
    assert sorted(p.read_bytes() for p in archive) == want


def test_safe_names_for_separators_and_limits() -> None:
    assert "/" not in safe_name("a/b.csv") and "\\" not in safe_name("..\\..\\x.csv")
    assert safe_name("..\\..\\x.csv").lstrip("_") == "x.csv"
    assert len(safe_name("é" * 200 + ".csv").encode()) <= 84
    assert safe_name("nul.csv") == "_nul.csv"
    assert safe_name("\x00\x01.csv") == "file.csv"


# -- the audit log ------------------------------------------------------------------------------
def test_audit_log_rotates_by_size_and_keeps_n(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    a = Audit(path, "w1", max_bytes=2_000, keep=3)
    for i in range(400):
        a.log("seen", file=f"f{i:04d}.csv", pad="x" * 40)
    rotated = sorted(p.name for p in tmp_path.glob("audit.jsonl.*"))
    assert rotated == ["audit.jsonl.1", "audit.jsonl.2", "audit.jsonl.3"]
    assert all(p.stat().st_size <= 2_200 for p in tmp_path.glob("audit.jsonl*"))
    # the newest lines are all there, in order, across the kept logs
    kept = []
    for name in ["audit.jsonl.3", "audit.jsonl.2", "audit.jsonl.1", "audit.jsonl"]:
        kept += [json.loads(x)["file"] for x in (tmp_path / name).read_text().splitlines()]
    assert kept == [f"f{i:04d}.csv" for i in range(400 - len(kept), 400)]


def test_audit_rotation_loses_no_line_with_two_writers(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    writers = [Audit(path, f"w{i}", max_bytes=5_000, keep=1000) for i in range(2)]

    def write(a: Audit) -> None:
        for i in range(500):
            a.log("seen", n=i)

    threads = [threading.Thread(target=write, args=(a,)) for a in writers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines = [
        json.loads(x) for p in tmp_path.glob("audit.jsonl*") for x in p.read_text().splitlines()
    ]
    assert len(lines) == 1000
    assert sorted((e["watcher"], e["n"]) for e in lines) == sorted(
        (f"w{w}", n) for w in range(2) for n in range(500)
    )


def test_audit_rotation_is_set_in_the_config(root: Path) -> None:
    cfg = root / "csvbridge.yaml"
    cfg.write_text(cfg.read_text() + "audit_max_mb: 0.001\naudit_keep: 2\n")
    for i in range(3):
        (root / "inbox" / f"s{i}.csv").write_bytes(statement(f"c{i}"))
    assert watch(root, once=True, settle=0).converted == 3
    state = root / ".csvbridge"
    assert sorted(p.name for p in state.glob("audit.jsonl.*")) == ["audit.jsonl.1", "audit.jsonl.2"]


def _modes(state: Path) -> dict[str, str]:
    return {p.name: oct(p.stat().st_mode & 0o777) for p in sorted(state.glob("audit.jsonl*"))}


@posix
def test_a_private_folder_gets_a_private_audit_log(root: Path) -> None:
    old = os.umask(0o022)
    try:
        root.chmod(0o700)
        cfg = root / "csvbridge.yaml"
        cfg.write_text(cfg.read_text() + "audit_max_mb: 0.001\naudit_keep: 2\n")
        for i in range(3):
            (root / "inbox" / f"s{i}.csv").write_bytes(statement(f"p{i}"))
        assert watch(root, once=True, settle=0).converted == 3
    finally:
        os.umask(old)
    modes = _modes(root / ".csvbridge")
    assert set(modes) == {"audit.jsonl", "audit.jsonl.1", "audit.jsonl.2"}, modes
    assert set(modes.values()) == {"0o600"}, modes


@posix
def test_a_private_file_narrows_the_audit_log_and_it_stays_narrow(root: Path) -> None:
    old = os.umask(0o022)
    try:
        root.chmod(0o755)
        (root / "inbox" / "open.csv").write_bytes(statement("open"))
        watch(root, once=True, settle=0)
        state = root / ".csvbridge"
        assert _modes(state) == {"audit.jsonl": "0o644"}  # umask 022, nothing private
        (state / "audit.jsonl.1").write_text("")  # an old log, written by an older csvbridge
        (state / "audit.jsonl.1").chmod(0o644)
        private = root / "inbox" / "client.csv"
        private.write_bytes(statement("private"))
        private.chmod(0o600)  # a client's file, readable by its owner only
        watch(root, once=True, settle=0)
        assert _modes(state) == {"audit.jsonl": "0o600", "audit.jsonl.1": "0o600"}
        (state / "audit.jsonl").unlink()  # rotated away: the next log is no wider
        (root / "inbox" / "open2.csv").write_bytes(statement("open2"))
        watch(root, once=True, settle=0)
        assert _modes(state)["audit.jsonl"] == "0o600"
    finally:
        os.umask(old)


def test_the_audit_log_keeps_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o077)
    try:
        Audit(tmp_path / "audit.jsonl", "w1").log("started")
    finally:
        os.umask(old)
    assert _modes(tmp_path) == {"audit.jsonl": "0o600"}


# -- a manual convert sharing the folder's history ----------------------------------------------
def test_manual_convert_on_a_watched_history_waits_for_the_watchers_turn(root: Path) -> None:
    watch(root, once=True, settle=0)  # creates the layout and the history
    state = root / ".csvbridge"
    src = root.parent / "manual.csv"
    src.write_bytes(statement("manual"))
    lock = FileLock(state / "convert.lock")
    assert lock.acquire()  # a watcher converting
    cmd = [
        sys.executable,
        "-m",
        "csvbridge",
        "convert",
        str(src),
        "-m",
        str(REPO / "mappings" / "uk_bank.yaml"),
        "--to",
        "csv",
        "-o",
        str(root.parent / "manual-out"),
        "--history",
        str(state / "history.sqlite"),
        "-q",
    ]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        time.sleep(3)
        assert p.poll() is None, p.communicate()[0]  # waiting for its turn
        assert not (root.parent / "manual-out" / "report.json").exists()
    finally:
        lock.release()
    out, _ = p.communicate(timeout=120)
    assert p.returncode == 0, out
    assert (root.parent / "manual-out" / "report.json").exists()


@posix
def test_a_private_file_gets_a_private_claim_journal(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The claim's journal (the file's name, hash and outcome) is no more open than the file."""
    from csvbridge import watch_journal

    seen: list[str] = []
    real = watch_journal.Claim.save

    def save(self: watch_journal.Claim) -> None:
        real(self)
        seen.append(oct((self.dir / watch_journal.JOURNAL).stat().st_mode & 0o777))

    monkeypatch.setattr(watch_journal.Claim, "save", save)
    old = os.umask(0o022)
    try:
        private = root / "inbox" / "client.csv"
        private.write_bytes(statement("private"))
        private.chmod(0o600)
        assert watch(root, once=True, settle=0).converted == 1
    finally:
        os.umask(old)
    assert seen and set(seen) == {"0o600"}, seen
