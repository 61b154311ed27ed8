"""file_sha256: one read per unchanged file, a fresh hash once the file changes."""

from __future__ import annotations

import hashlib
import os
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
