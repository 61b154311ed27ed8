"""The duplicate check in bounded memory: spilled runs give the same answers as runs kept in
memory, the temporary files never show up anywhere, and a full disk says so."""

from __future__ import annotations

import errno
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csvbridge import spill
from csvbridge.bloom import Bloom, scramble
from csvbridge.duplicates import DuplicateIndex, OccurrenceCounter
from csvbridge.errors import CsvbridgeError, OutputError
from csvbridge.model import LINE_COL, ROW_COL, SOURCE_COL

# A few raw values, unmixed and mixed, so streams repeat keys within and across chunks.
_MIXED = scramble(np.arange(1, 41, dtype=np.uint64)).tolist()
POOL = list(dict.fromkeys([0, 1, 2, 3, 2**63, 2**64 - 1, *_MIXED]))


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of 4 entries and merge steps of 8, so tiny runs span many blocks and steps."""
    monkeypatch.setattr(spill, "BLOCK", 4)
    monkeypatch.setattr(spill, "_CHUNK", 8)


def _records(keys: list[int], source: int, start: int) -> tuple[pa.Table, np.ndarray[Any, Any]]:
    n = len(keys)
    table = pa.table(
        {
            SOURCE_COL: pa.array(np.full(n, source, dtype=np.int32)),
            LINE_COL: pa.array(np.arange(start, start + n, dtype=np.int64)),
            ROW_COL: pa.array(np.arange(n, dtype=np.int64)),
        }
    )
    return table, np.array(keys, dtype=np.uint64)


streams = st.lists(
    st.lists(st.lists(st.sampled_from(POOL), max_size=30), max_size=12),  # files of chunks
    min_size=1,
    max_size=3,
)


@settings(max_examples=120, deadline=None)
@given(files=streams, budget=st.integers(1, 20))
@pytest.mark.usefixtures("small_blocks")
def test_spilled_index_and_counter_match_in_memory(
    files: list[list[list[int]]], budget: int
) -> None:
    spilled, memory = DuplicateIndex(budget=budget), DuplicateIndex(budget=10**9)
    for source, chunks in enumerate(files):
        count_s, count_m = OccurrenceCounter(budget=budget), OccurrenceCounter(budget=10**9)
        line = 2
        for chunk in chunks:
            table, keys = _records(chunk, source, line)
            line += len(chunk)
            occ = count_s.occurrences(keys)
            assert occ.tolist() == count_m.occurrences(keys).tolist()
            got = spilled.check_keys(table, keys)
            assert got.tolist() == memory.check_keys(table, keys).tolist()
        assert not count_m._store.spilled
        count_s.close()
    assert len(spilled) == len(memory)
    assert not memory._store.spilled
    spilled.close()


@pytest.mark.usefixtures("small_blocks")
def test_spilling_happens_and_repeats_across_spills_are_found() -> None:
    index = DuplicateIndex(budget=3)
    counter = OccurrenceCounter(budget=3)
    seen_first: dict[int, int] = {}
    for rnd in range(6):  # the same keys again in every round, plus new ones
        keys = [*POOL[:10], *POOL[10 + rnd * 4 : 14 + rnd * 4]]
        table, arr = _records(keys, 0, 2 + rnd * 100)
        occ = counter.occurrences(arr)
        assert occ[:10].tolist() == [rnd + 1] * 10
        got = index.check_keys(table, arr)
        for i, k in enumerate(keys):
            line = 2 + rnd * 100 + i
            assert got[i] == seen_first.get(k, -1)
            seen_first.setdefault(k, line)
        assert counter._store.spilled and index._store.spilled
        assert len(index._store.spilled) <= 3  # similar-sized spilled runs are merged


@settings(max_examples=60, deadline=None)
@given(
    runs=st.lists(
        st.lists(st.tuples(st.sampled_from(POOL), st.integers(1, 5)), max_size=40), max_size=5
    ),
    add=st.booleans(),
)
@pytest.mark.usefixtures("small_blocks")
def test_merge_stream_matches_a_sort(runs: list[list[tuple[int, int]]], add: bool) -> None:
    sources: list[Iterator[tuple[Any, Any]]] = []
    expect: dict[int, int] = {}
    for run in runs:
        uniq = dict(run)  # unique keys within a run
        keys = np.array(sorted(uniq), dtype=np.uint64)
        values = np.array([uniq[int(k)] for k in keys], dtype=np.int64)
        sources.append(spill._slices((keys, values)))
        for k, v in uniq.items():
            expect[k] = expect.get(k, 0) + v if add else expect.get(k, v)
    out = list(spill.merge_stream(sources, add))
    keys = np.concatenate([k for k, _ in out]) if out else np.zeros(0, np.uint64)
    values = np.concatenate([v for _, v in out]) if out else np.zeros(0, np.int64)
    assert keys.tolist() == sorted(expect)
    assert values.tolist() == [expect[k] for k in sorted(expect)]


def test_bloom_has_no_false_negatives_and_few_false_positives() -> None:
    rng = np.random.default_rng(7)
    keys = np.sort(scramble(rng.integers(0, 2**62, 50_000, dtype=np.uint64)))
    bloom = Bloom(len(keys))
    bloom.add(keys)
    assert bloom.test(keys).all()
    others = scramble(rng.integers(2**62, 2**63, 100_000, dtype=np.uint64))
    assert bloom.test(others).mean() < 0.01


def test_temporary_files_have_no_name_anywhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_blocks: None
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    index = DuplicateIndex(budget=2)
    for start in range(0, 40, 10):
        index.check_keys(*_records(POOL[start : start + 10], 0, start))
    assert index._store.spilled
    assert list(tmp_path.iterdir()) == []  # nothing to clean up, even if the process is killed
    index.close()
    assert not index._store.spilled


_TEMPORARY_FILE = tempfile.TemporaryFile


class _FullDisk:
    """A temporary file on a disk that fills up after ``room`` bytes."""

    def __init__(self, room: int) -> None:
        self._file = _TEMPORARY_FILE()
        self._room = room
        self.closed = False

    def write(self, data: bytes) -> int:
        if len(data) > self._room:
            raise OSError(errno.ENOSPC, "No space left on device")
        self._room -= len(data)
        return self._file.write(data)

    def flush(self) -> None:
        self._file.flush()

    def fileno(self) -> int:
        return self._file.fileno()

    def close(self) -> None:
        self.closed = True
        self._file.close()


def test_disk_full_while_spilling_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[_FullDisk] = []

    def temporary_file(**_: Any) -> _FullDisk:
        opened.append(_FullDisk(room=100))
        return opened[-1]

    monkeypatch.setattr(spill.tempfile, "TemporaryFile", temporary_file)
    index = DuplicateIndex(budget=10)
    with pytest.raises(OutputError) as err:
        index.check_keys(*_records(POOL[:30], 0, 2))
    assert "the disk is full" in err.value.message
    assert "a temporary file of the duplicate check could not be written" in err.value.message
    assert err.value.code == "output-write-failed"
    assert opened and all(f.closed for f in opened)  # the half-written file is dropped


def test_budget_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(spill.BUDGET_ENV, " 7 ")
    assert DuplicateIndex()._store.budget == 7
    monkeypatch.delenv(spill.BUDGET_ENV)
    assert OccurrenceCounter()._store.budget == spill.DEFAULT_ENTRIES


@pytest.mark.parametrize("value", ["lots", "0", "-5", "1e6"])
def test_a_bad_budget_in_the_environment_says_so(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(spill.BUDGET_ENV, value)
    with pytest.raises(CsvbridgeError) as err:
        DuplicateIndex()
    assert err.value.message == (
        f"CSVBRIDGE_DUP_MEMORY_ENTRIES is '{value}', not a whole number of entries above 0"
    )
    assert err.value.where == "environment variable CSVBRIDGE_DUP_MEMORY_ENTRIES"
    assert "unset it" in err.value.hint
    assert err.value.code == "setting-invalid"


def test_no_room_for_a_temporary_file_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_room(**_: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(spill.tempfile, "TemporaryFile", no_room)
    with pytest.raises(OutputError) as err:
        DuplicateIndex(budget=2).check_keys(*_records(POOL[:5], 0, 2))
    assert "the disk is full" in err.value.message


ROOT = Path(__file__).resolve().parent.parent


def _statements(tmp_path: Path) -> list[Path]:
    """Two bank statements with rows repeated within each file and across them."""
    lines = ["Date,Description,Reference,Debit,Credit,Balance,Category"]
    for i in range(600):
        date = f"{1 + i % 28:02d}/0{1 + i % 9}/2024"
        lines.append(f"{date},SHOP {i % 97},REF{i % 13:08d},{i % 50}.25,,0,FEES")
    first = lines + lines[1:200] + lines[150:160]  # repeats in the file, some three times
    second = lines[:1] + lines[100:400] + lines[390:420]
    paths = []
    for name, rows in (("a.csv", first), ("b.csv", second)):
        path = tmp_path / name
        path.write_text("\n".join(rows) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


@pytest.mark.parametrize("within", ["duplicate", "real"])  # real: occurrences counted
def test_convert_with_a_tiny_budget_writes_the_same_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, within: str
) -> None:
    from tests.conftest import run_cli

    inputs = _statements(tmp_path)
    mapping = tmp_path / "m.yaml"
    text = (ROOT / "benchmarks" / "bench_mapping.yaml").read_text(encoding="utf-8")
    mapping.write_text(text + f"  within_file: {within}\n", encoding="utf-8")
    outputs = {}
    for budget in ("", "16"):
        monkeypatch.setenv(spill.BUDGET_ENV, budget)
        out = tmp_path / f"out{budget}"
        args = ["convert", *inputs, "-m", mapping]
        args += ["--to", "qbo-bank", "-o", out, "--chunk-rows", "37"]
        result = run_cli(*args, "--history", tmp_path / f"h{budget}.sqlite")
        assert result.exit_code in (0, 1), result.output
        outputs[budget] = {p.relative_to(out): p.read_bytes() for p in out.rglob("*")}
    assert outputs[""] == outputs["16"]
    duplicates = [v for k, v in outputs[""].items() if k.name.startswith("duplicates")]
    assert duplicates and duplicates[0].count(b"\n") > 300  # the check had work to do
    report = outputs[""][Path("report.json")].decode()
    assert f'"within_file": "{within}"' in report


def test_convert_on_a_full_temporary_disk_stops_with_the_disk_full_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import run_cli

    monkeypatch.setattr(spill.tempfile, "TemporaryFile", lambda **_: _FullDisk(room=0))
    monkeypatch.setenv(spill.BUDGET_ENV, "16")
    out = tmp_path / "out"
    args = ["convert", *_statements(tmp_path), "-m", ROOT / "benchmarks" / "bench_mapping.yaml"]
    result = run_cli(*args, "--to", "qbo-bank", "-o", out, "--chunk-rows", "37")
    assert result.exit_code != 0
    assert "the disk is full" in result.output
    assert "set TMPDIR to a folder on a disk with room" in result.output
    assert not out.exists() or not any(out.iterdir())
