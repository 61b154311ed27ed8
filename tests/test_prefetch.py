"""Reading ahead on a thread gives the same items in the same order, raises the source's
error where the source raised it, and closing early stops the thread and closes the source."""

from __future__ import annotations

import threading
from collections.abc import Generator
from pathlib import Path

import pytest

from csvbridge.engines.prefetch import prefetched
from csvbridge.pipeline import convert

from .conftest import write_case


def test_same_items_in_order() -> None:
    assert list(prefetched(iter(range(1000)))) == list(range(1000))


def test_error_arrives_after_the_items_before_it() -> None:
    def source() -> Generator[int, None, None]:
        yield 1
        yield 2
        raise ValueError("bad row")

    got: list[int] = []
    with pytest.raises(ValueError, match="bad row"):
        for item in prefetched(source()):
            got.append(item)
    assert got == [1, 2]


def test_closing_early_closes_the_source_on_its_thread() -> None:
    closed: list[str] = []

    def source() -> Generator[int, None, None]:
        try:
            yield from range(10_000)
        finally:
            closed.append(threading.current_thread().name)

    gen = prefetched(source())
    assert next(gen) == 0
    gen.close()
    assert closed == ["csvbridge-read-ahead"]
    assert not any(t.name == "csvbridge-read-ahead" for t in threading.enumerate())


def test_convert_gives_the_same_files_with_and_without_reading_ahead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [f"{1 + i % 28:02d}/01/2025,Item {i},{i}.50" for i in range(3000)]
    rows[1500] = "31/02/2025,bad date,1.00"
    src, m = write_case(tmp_path, "Date,Description,Amount\n" + "\n".join(rows) + "\n")
    outs = {}
    for flag in ("0", "1"):
        monkeypatch.setenv("CSVBRIDGE_PREFETCH", flag)
        out = tmp_path / f"out{flag}"
        convert([src], m, ["csv", "qbo-bank"], out, history=False, chunk_rows=500)
        outs[flag] = {
            p.name: p.read_bytes() for p in out.iterdir() if p.name not in ("report.html",)
        }
    assert outs["0"].keys() == outs["1"].keys()
    for name in outs["0"]:
        if name in ("report.json", "report.xlsx"):
            continue  # they hold the run's time
        assert outs["0"][name] == outs["1"][name], name
    assert b"bad date" in outs["1"]["rejects.csv"]
