"""The CSV sink's parts: small parts are written whole on background threads, big ones
stream to their file; either way the bytes, the hashes and the clean-up are the same."""

from __future__ import annotations

import errno
import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from csvbridge.errors import CsvbridgeError
from csvbridge.writers import sink
from csvbridge.writers.accounting import DocumentSink
from csvbridge.writers.sink import CsvSink


def _lines(n: int, text: str = "row") -> pa.Array:
    return pa.array([f"{i},{text} {i}\r\n" for i in range(n)])


def _write(out: Path, lines: pa.Array, **kw: Any) -> list[Any]:
    s = CsvSink(out, "t", ["n", "text"], **kw)
    s.write_lines(lines)
    return s.close()


@pytest.fixture
def out(tmp_path: Path) -> Path:
    folder = tmp_path / "o"
    folder.mkdir()
    return folder


def _leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if p.name.endswith(".partial"))


@pytest.mark.parametrize("buffer_bytes", [1 << 20, 64])
def test_parts_have_the_same_bytes_buffered_or_streamed(
    out: Path, monkeypatch: pytest.MonkeyPatch, buffer_bytes: int
) -> None:
    monkeypatch.setattr(sink, "BUFFER_BYTES", buffer_bytes)
    files = _write(out, _lines(2500), max_rows=999)
    assert [f.name for f in files] == ["t-001.csv", "t-002.csv", "t-003.csv"]
    assert [f.rows for f in files] == [999, 999, 502]
    for f in files:
        data = (out / f.name).read_bytes()
        assert data.startswith(b"n,text\r\n")
        assert f.size == len(data) and f.sha256 == hashlib.sha256(data).hexdigest()
    body = b"".join((out / f.name).read_bytes()[len(b"n,text\r\n") :] for f in files)
    assert body == "".join(_lines(2500).to_pylist()).encode()
    assert _leftovers(out) == []


def test_a_later_part_the_folder_refuses_is_a_clear_error(
    out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = tempfile.mkstemp
    calls = [0]

    def mkstemp(*a: Any, **k: Any) -> Any:
        calls[0] += 1
        if calls[0] > 1:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS))
        return real(*a, **k)

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    with pytest.raises(CsvbridgeError) as e:
        _write(out, _lines(3000), max_rows=999)
    assert e.value.code == "output-unwritable"
    assert list(out.iterdir()) == []


def test_disk_full_in_a_background_part_leaves_nothing(
    out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = os.fdopen
    opened = [0]

    class Full:
        def __init__(self, f: Any) -> None:
            self.f = f

        def write(self, data: bytes) -> int:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        def __enter__(self) -> Full:
            return self

        def __exit__(self, *exc: object) -> None:
            self.f.close()

        def __getattr__(self, name: str) -> Any:
            return getattr(self.f, name)

    def fdopen(fd: int, mode: str = "r", *a: Any, **k: Any) -> Any:
        f = real(fd, mode, *a, **k)
        opened[0] += 1
        return Full(f) if opened[0] == 3 else f  # the third part: written on a pool thread

    monkeypatch.setattr(sink.os, "fdopen", fdopen)
    with pytest.raises(CsvbridgeError) as e:
        _write(out, _lines(5000), max_rows=999)
    assert e.value.code == "output-write-failed" and "No space left" in str(e.value)
    assert list(out.iterdir()) == []


def test_bom_when_needed_only_on_the_parts_with_non_ascii_text(out: Path) -> None:
    s = DocumentSink(out, "d", ["a"], bom="auto", max_rows=2)
    lines = pa.array(["x\r\n", "y\r\n", "caf\u00e9\r\n", "z\r\n", "w\r\n"])
    s.write_documents(lines, pa.array(range(5)).to_numpy())
    files = s.close()
    data = [(out / f.name).read_bytes() for f in files]
    assert [d.startswith(b"\xef\xbb\xbf") for d in data] == [False, True, False]
    assert [f.sha256 for f in files] == [hashlib.sha256(d).hexdigest() for d in data]
    assert [f.size for f in files] == [len(d) for d in data]


def test_finished_background_parts_are_forgotten_as_the_sink_goes(out: Path) -> None:
    s = CsvSink(out, "t", ["n", "text"], max_rows=1)
    most = 0
    for start in range(0, 2000, 50):
        s.write_lines(_lines(50, f"chunk {start}"))
        most = max(most, len(s._syncs))
    files = s.close()
    assert most < 2 * sink.MAX_PENDING + 256 + 50  # not one job per part (2,000)
    assert len(files) == 2000 and len(list(out.iterdir())) == 2000
    assert (out / "t-2000.csv").read_bytes().endswith(b"\r\n49,chunk 1950 49\r\n")


def test_a_background_part_failing_after_others_were_forgotten_is_still_raised(
    out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = sink._write_part
    calls = [0]

    def write_part(outdir: Path, stem: str, data: bytes) -> Path:
        calls[0] += 1
        if calls[0] == 1500:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(outdir, stem, data)

    monkeypatch.setattr(sink, "_write_part", write_part)
    s = CsvSink(out, "t", ["n", "text"], max_rows=1)
    with pytest.raises(CsvbridgeError) as e:
        for _ in range(0, 2000, 50):
            s.write_lines(_lines(50))
        s.close()
    assert e.value.code == "output-write-failed" and "No space left" in str(e.value)
    assert list(out.iterdir()) == []
