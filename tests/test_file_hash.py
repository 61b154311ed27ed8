"""file_sha256: one read per unchanged file, a fresh hash once the file changes."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

from csvbridge.readers import file_sha256


def test_unchanged_file_is_read_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "in.csv"
    p.write_bytes(b"a,b\n1,2\n")
    assert file_sha256(p) == hashlib.sha256(b"a,b\n1,2\n").hexdigest()
    opened: list[Path] = []
    real_open = Path.open

    def spy(self: Path, *a: object, **k: object) -> object:
        opened.append(self)
        return real_open(self, *a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "open", spy)
    assert file_sha256(p) == hashlib.sha256(b"a,b\n1,2\n").hexdigest()
    assert opened == []


def test_changed_file_is_hashed_again(tmp_path: Path) -> None:
    p = tmp_path / "in.csv"
    p.write_bytes(b"a,b\n1,2\n")
    first = file_sha256(p)
    st = p.stat()
    p.write_bytes(b"a,b\n1,3\n")  # same size
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert file_sha256(p) != first
    assert file_sha256(p) == hashlib.sha256(b"a,b\n1,3\n").hexdigest()


def test_a_hash_begun_ahead_is_waited_for_not_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from csvbridge import file_hash

    p = tmp_path / "big.csv"
    p.write_bytes(b"a,b\n" + b"1,2\n" * 1000)
    release, started = threading.Event(), threading.Event()
    reads: list[str] = []
    real = file_hash._digest

    def slow(path: Path) -> str:
        reads.append(threading.current_thread().name)
        started.set()
        release.wait(5)
        return real(path)

    monkeypatch.setattr(file_hash, "_digest", slow)
    file_hash.hash_ahead([p, tmp_path / "missing.csv", tmp_path])
    assert started.wait(5)
    threading.Timer(0.2, release.set).start()
    assert file_sha256(p) == hashlib.sha256(p.read_bytes()).hexdigest()
    assert reads == ["csvbridge-hash"]  # the caller waited for the thread's read


def test_a_failed_hash_ahead_leaves_the_error_to_the_caller(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from csvbridge import file_hash

    p = tmp_path / "in.csv"
    p.write_bytes(b"a,b\n1,2\n")
    calls = []

    def failing(path: Path) -> str:
        calls.append(path)
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(file_hash, "_digest", failing)
    file_hash.hash_ahead([p])
    for _ in range(500):
        if calls:
            break
        time.sleep(0.01)
    with pytest.raises(PermissionError):
        file_sha256(p)
    assert len(calls) == 2  # tried ahead, then by the caller, who gets the error
