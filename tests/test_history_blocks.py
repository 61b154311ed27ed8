"""Record blocks: a history written by csvbridge before blocks (tests/fixtures/history_v2.sqlite,
made by make_history_v2.py with commit c106521) is migrated on first open and converts
against as before; a run's records go into blocks as the run goes and its batch is kept only
if it finishes."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from csvbridge import convert
from csvbridge.errors import CsvbridgeError
from csvbridge.history import History

from .conftest import run_cli

FIXTURE = Path(__file__).parent / "fixtures" / "history_v2.sqlite"
MAPPING = """\
name: p
version: "1"
kind: transaction
dates: YYYY-MM-DD
fields:
  date: Date
  description: Text
  amount: Amount
  currency: {value: EUR}
"""
HEAD = "Date,Text,Amount\r\n"
A = [  # a.csv of the fixture's batch 1
    "2025-03-05,TESCO STORES 2341,-10.00",
    "2025-03-06,Salary ACME Ltd,2500.00",
    "2025-03-06,Salary ACME Ltd,2500.00",
]


def _old_history(tmp_path: Path) -> Path:
    h = tmp_path / "h.sqlite"
    shutil.copyfile(FIXTURE, h)
    return h


def _run(tmp_path: Path, name: str, rows: list[str], out: str, **kw: Any) -> Any:
    src = tmp_path / name
    src.write_text(HEAD + "".join(r + "\r\n" for r in rows), encoding="utf-8")
    m = tmp_path / "m.yaml"
    m.write_text(MAPPING + kw.pop("extra", ""), encoding="utf-8")
    return convert([src], m, ["csv"], tmp_path / out, **kw)


def _dups(tmp_path: Path, out: str) -> list[dict[str, str]]:
    text = (tmp_path / out / "duplicates.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def _tables(h: History) -> set[str]:
    return {r[0] for r in h.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_an_old_history_is_migrated_into_blocks(tmp_path: Path) -> None:
    h = _old_history(tmp_path)
    with History(h) as store:
        assert "record" not in _tables(store) and "ident_run" not in _tables(store)
        assert [(b.id, b.records) for b in store.batches()] == [(1, 3), (2, 2)]
        blocks = store.db.execute("SELECT batch_id, n FROM record_block ORDER BY id").fetchall()
        assert blocks == [(1, 3), (2, 2)]


def test_converting_against_a_migrated_history(tmp_path: Path) -> None:
    h = _old_history(tmp_path)
    # the same file again: every record is an exact duplicate of batch 1, line by line
    r = _run(tmp_path, "a2.csv", A, "o1", history=h)
    assert r.report["duplicates"]["against_history"] == 3
    got = [
        (d["line"], d["repeats_file"], d["repeats_line"], d["repeats_batch"])
        for d in _dups(tmp_path, "o1")
    ]
    assert got == [("2", "a.csv", "2", "1"), ("3", "a.csv", "3", "1"), ("4", "a.csv", "4", "1")]
    # a posted twin of batch 2's coffee: a possible duplicate found in the migrated texts
    r = _run(
        tmp_path,
        "c.csv",
        ["2025-03-11,COFFEE HOUSE LONDON,-3.20", "2025-03-12,New shop,-1.00"],
        "o2",
        history=h,
        extra="duplicates:\n  possible: {policy: hold}\n",
    )
    (d,) = _dups(tmp_path, "o2")
    assert (d["match"], d["repeats_file"], d["repeats_line"], d["repeats_batch"]) == (
        "possible",
        "b.csv",
        "3",
        "2",
    )
    assert r.report["duplicates"]["possible"]["against_history"] == 1
    with History(h) as store:
        assert [(b.id, b.records) for b in store.batches()] == [(1, 3), (2, 2), (3, 0), (4, 1)]
        store.forget(2)
    # batch 2 forgotten: its coffee is no longer a candidate, and b.csv converts again
    r = _run(tmp_path, "b.csv", ["2025-03-09,Rent March,-900.00"], "o3", history=h)
    assert r.duplicates == 0


def test_a_batch_is_kept_only_when_it_finishes(tmp_path: Path) -> None:
    h = tmp_path / "h.sqlite"
    with History(h) as store:
        store.begin()
        store.open_batch("k", ("m", "1", ""))
        store.add_records(
            np.array([1, 2], np.uint64),
            ["a.csv"],
            np.zeros(2, np.int64),
            np.array([2, 3], np.int64),
            np.array([-1, 7], np.int64),
            pa.array(["", "x"]),
        )
    with History(h) as store:  # closed without finishing: nothing of it is kept
        assert store.batches() == []
        assert store.db.execute("SELECT COUNT(*) FROM record_block").fetchone()[0] == 0
        assert store.db.execute("SELECT COUNT(*) FROM key_run").fetchone()[0] == 0


def test_forgetting_an_unknown_batch_is_refused(tmp_path: Path) -> None:
    with History(tmp_path / "h.sqlite") as store, pytest.raises(CsvbridgeError) as e:
        store.forget(9)
    assert e.value.code == "batch-unknown"


def _chunk(start: int, n: int) -> pa.Table:
    """n transactions of one file, lines from ``start``; the first one twice (a repeat)."""
    import datetime as dt

    from csvbridge.model import LINE_COL, ROW_COL, SOURCE_COL

    amounts = [1000 + i for i in range(start, start + n)]
    amounts[1] = amounts[0]
    return pa.table(
        {
            "date": pa.array([dt.date(2025, 1, 2)] * n, pa.date32()),
            "amount": pa.array(amounts, pa.int64()),
            "currency": pa.array(["EUR"] * n),
            "description": pa.array(["shop" if i < 2 else f"shop {i}" for i in range(n)]),
            SOURCE_COL: pa.array([0] * n, pa.int32()),
            LINE_COL: pa.array(range(start, start + n), pa.int64()),
            ROW_COL: pa.array(range(start, start + n), pa.int64()),
        }
    )


def test_the_stage_records_each_chunk_as_it_goes(tmp_path: Path) -> None:
    from csvbridge import history_runs
    from csvbridge.dedup import DuplicateStage

    with History(tmp_path / "h.sqlite") as h, pytest.MonkeyPatch.context() as mp:
        mp.setattr(history_runs, "FLUSH", 5)
        h.begin()
        h.open_batch("k", ("m", "1", ""))
        stage = DuplicateStage(
            fields=("date", "amount", "description"),
            hold_back=True,
            count_occurrences=False,  # the repeated first row is held back, not written
            sources=["a.csv"],
            history=h,
        )
        stage.start_file()
        held = [int(stage.apply(_chunk(s, 4))[1].sum()) for s in (2, 6)]
        assert held == [1, 1]
        # before the batch is completed: its records are already in blocks, its runs begun
        blocks = h.db.execute("SELECT n FROM record_block ORDER BY id").fetchall()
        assert blocks == [(3,), (3,)]
        assert h.db.execute("SELECT COUNT(*) FROM key_run").fetchone()[0] >= 1
        batch = h.record(batch_key="k", mapping=("m", "1", ""), inputs=[], outputs=[])
        h.finish()
    with History(tmp_path / "h.sqlite") as h:
        assert [(b.id, b.records) for b in h.batches()] == [(batch, 6)]


def test_texts_are_stored_compressed_and_uncompressed_ones_still_read(tmp_path: Path) -> None:
    """A block's possible-duplicate texts are a zstd-compressed Arrow stream; blocks written
    before that (plain streams) read the same."""
    from csvbridge import history_blocks as hb

    texts = pa.array([f"card payment to shop {i % 97} ref{i:08d}" for i in range(2000)])
    n = len(texts)
    db = sqlite3.connect(":memory:")
    db.executescript(hb.SCHEMA)
    ids = np.arange(n, dtype=np.int64)
    new = hb.write_block(db, 1, ["a.csv"], ids, np.zeros(n, np.int64), ids, ids, texts)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(hb, "_ZSTD", False)
        old = hb.write_block(db, 1, ["a.csv"], ids, np.zeros(n, np.int64), ids, ids, texts)
    sizes = dict(db.execute("SELECT id, length(text) FROM record_block").fetchall())
    assert hb._ZSTD and sizes[new] * 3 < sizes[old]
    blocks = hb.Blocks(db)
    assert blocks.column(new, "text").to_pylist() == texts.to_pylist()
    assert blocks.column(old, "text").to_pylist() == texts.to_pylist()


# -- read-only commands read an old history as it is ------------------------------------------
def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_listing_an_old_history_does_not_migrate_it(tmp_path: Path) -> None:
    h = _old_history(tmp_path)
    before = _sha(h)
    result = run_cli("history", "--history", h, "--json")
    assert result.exit_code == 0, result.output
    listed = json.loads(result.output)
    assert [(b["id"], b["records"], b["inputs"][0]["name"]) for b in listed] == [
        (1, 3, "a.csv"),
        (2, 2, "b.csv"),
    ]
    assert _sha(h) == before, "a listing changed the history"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["h.sqlite"]  # no -wal, no -shm
    with History(h) as store:  # a command that writes migrates it, as before
        assert "record" not in _tables(store)


def test_listing_a_history_that_does_not_exist_creates_nothing(tmp_path: Path) -> None:
    result = run_cli("history", "--history", tmp_path / "none" / "h.sqlite")
    assert result.exit_code == 0 and result.output == "no batches yet\n"
    assert list(tmp_path.iterdir()) == []


def test_listing_a_file_that_is_not_a_history_is_a_clear_error(tmp_path: Path) -> None:
    other = tmp_path / "other.sqlite"
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE t (x)")
    db.commit()
    db.close()
    result = run_cli("history", "--history", other)
    assert result.exit_code == 2 and "error [history-corrupt]" in result.output, result.output
    assert "not a history database" in result.output and "Traceback" not in result.output


def _as_reader(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run csvbridge with ``folder`` (and what is in it) read-only for it: chmod'ed, and when
    the tests run as root (whom chmod does not stop), as the unprivileged user nobody."""
    for p in folder.iterdir():
        p.chmod(0o444)
    folder.chmod(0o555)
    run = [sys.executable, "-m", "csvbridge", *args]
    if os.geteuid() != 0:
        return subprocess.run(run, capture_output=True, text=True, timeout=120)
    probe = [sys.executable, "-c", "import csvbridge"]
    try:
        failed = subprocess.run(probe, user=65534, group=65534, capture_output=True).returncode
    except OSError:
        failed = 1
    if failed:
        pytest.skip("as root (chmod does not stop root), and nobody cannot run csvbridge here")
    env = {**os.environ, "HOME": str(folder)}
    kw: dict[str, Any] = {"user": 65534, "group": 65534, "extra_groups": [], "env": env}
    return subprocess.run(run, capture_output=True, text=True, timeout=120, **kw)


@pytest.mark.parametrize("layout", ["old", "new"])
def test_a_read_only_history_is_listed(tmp_path: Path, layout: str) -> None:
    folder = Path(tempfile.mkdtemp(prefix="ro-history-"))  # reachable by another user
    try:
        h = folder / "h.sqlite"
        if layout == "old":
            shutil.copyfile(FIXTURE, h)
        else:  # the current layout, in WAL mode, closed cleanly (no -shm file left)
            shutil.copyfile(FIXTURE, tmp_path / "h.sqlite")
            History(tmp_path / "h.sqlite").close()
            shutil.copyfile(tmp_path / "h.sqlite", h)
        before = _sha(h)
        result = _as_reader(folder, "history", "--history", str(h))
        assert result.returncode == 0, result.stdout + result.stderr
        lines = result.stdout.splitlines()
        assert [line.split("  ")[0] for line in lines if line.startswith("batch")] == [
            "batch 1",
            "batch 2",
        ], result.stdout
        assert _sha(h) == before
    finally:
        folder.chmod(0o755)
        shutil.rmtree(folder)


@pytest.mark.parametrize("policy", ["skip", "keep"])
def test_the_same_files_again_say_what_happened_to_their_records(
    tmp_path: Path, policy: str
) -> None:
    """Converting the same bytes again: held back (skip) or written again and flagged (keep),
    and the note says which."""
    from .conftest import SIMPLE_MAPPING, write_case

    mapping = SIMPLE_MAPPING + f"duplicates:\n  policy: {policy}\n"
    src, m = write_case(tmp_path, "Date,Description,Amount\n02/01/2025,Shop,1.50\n", mapping)
    history = tmp_path / "h.sqlite"
    convert([src], m, ["csv"], tmp_path / "o1", history=history)
    again = convert([src], m, ["csv"], tmp_path / "o2", history=history)
    note = next(w for w in again.warnings if "converted with this mapping before" in w)
    if policy == "skip":
        assert "held back as duplicates" in note and "csvbridge forget 1" in note
    else:
        assert "written again and flagged in duplicates.csv" in note
        assert "held back" not in note
