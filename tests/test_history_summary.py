"""The in-memory summary of the history's index runs: stored with each run, rebuilt for a run
stored without one (an older history) or with one that does not fit it, and enough for a
look-up, which reads only the blocks its filter lets through."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import numpy as np
import pyarrow as pa

from csvbridge import history_probe, history_runs, history_summary
from csvbridge.bloom import Bloom
from csvbridge.history import History

from .test_history_index import _got_lookup, _record

IDENTS = [x * 0x9E3779B97F4A7C15 % 2**64 for x in range(1, 3000)]


def _history(path: Path) -> None:
    with History(path) as h:
        _record(h, [IDENTS[:1500], IDENTS[1500:]], "a.csv")


def test_a_run_stored_without_a_summary_gets_one_when_looked_up(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    _history(path)
    with History(path) as h:
        want = _got_lookup(h, [*IDENTS[::7], 12345])
        assert len(want) == len(IDENTS[::7])
        h.db.execute("DELETE FROM key_run_summary")  # as a history from before summaries
        h.db.commit()
    with History(path) as h:
        h.begin()
        assert _got_lookup(h, [*IDENTS[::7], 12345]) == want
        assert h.near(np.array([10], dtype=np.int64), np.array([12], dtype=np.int64))
        h.db.commit()
        assert h.db.execute("SELECT count(*) FROM key_run_summary").fetchone()[0] == 2
        assert h.db.execute("SELECT count(*) FROM key_run").fetchone()[0] == 2


def test_a_summary_that_does_not_fit_its_run_is_not_used(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    _history(path)
    with History(path) as h:
        rid, n = h.db.execute("SELECT id, length(keys) / 8 FROM key_run LIMIT 1").fetchone()
        assert history_summary.load(h.db, rid, n) is not None
        assert history_summary.load(h.db, rid, n + history_summary.FENCE) is None  # other run
        with mock.patch.object(history_summary, "FENCE", 64):  # made with other fences
            assert history_summary.load(h.db, rid, n) is None
        with mock.patch.object(history_summary, "VERSION", 2):  # filters of another kind
            assert history_summary.load(h.db, rid, n) is None


def test_a_look_up_reads_only_the_blocks_it_needs(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    with mock.patch.object(history_summary, "FENCE", 16):
        _history(path)
        reads: list[int] = []
        real = history_probe._Blocks.__init__

        def spy(self: history_probe._Blocks, *a: object) -> None:
            real(self, *a)  # type: ignore[arg-type]
            reads.append(len(self.blocks))

        with History(path) as h, mock.patch.object(history_probe._Blocks, "__init__", spy):
            h.begin()
            found = _got_lookup(h, [IDENTS[5], IDENTS[2000], 777])
            assert set(found) == {IDENTS[5], IDENTS[2000]}
            assert reads and all(blocks <= 2 for blocks in reads)
            for runs in (h.index.identity.runs(), h.index.near_keys.runs()):
                assert all(r.keys is None and r.refs is None for r in runs)


def test_a_bloom_filter_comes_back_from_its_words() -> None:
    keys = np.sort(np.array(IDENTS, dtype=np.uint64))
    bloom = Bloom(len(keys))
    bloom.add(keys)
    again = Bloom.from_words(bloom.words.copy())
    assert again.blocks == bloom.blocks
    probe = np.array([*IDENTS, 1, 2, 3], dtype=np.uint64)
    assert (again.test(probe) == bloom.test(probe)).all()
    assert again.test(keys).all()


def test_a_finished_batch_leaves_every_run_with_a_summary(tmp_path: Path) -> None:
    """Summaries are made for the runs a batch leaves (not for each run merged on the way),
    and ``missing`` finds exactly the runs without a fitting one."""
    path = tmp_path / "h.sqlite"
    with mock.patch.object(history_runs, "RUN_CAP", 8), mock.patch.object(history_runs, "FLUSH", 4):
        _history(path)
    with History(path) as h:
        runs = h.db.execute("SELECT id FROM key_run").fetchall()
        assert len(runs) > 2
        assert history_summary.missing(h.db, "identity") == []
        assert history_summary.missing(h.db, "near") == []
        rid, n = h.db.execute("SELECT id, length(keys) / 8 FROM key_run LIMIT 1").fetchone()
        h.db.execute("DELETE FROM key_run_summary WHERE run_id = ?", (rid,))
        kind = h.db.execute("SELECT kind FROM key_run WHERE id = ?", (rid,)).fetchone()[0]
        assert history_summary.missing(h.db, kind) == [(rid, n)]
        with mock.patch.object(history_summary, "VERSION", 2):
            assert len(history_summary.missing(h.db, "identity")) == len(
                h.db.execute("SELECT id FROM key_run WHERE kind = 'identity'").fetchall()
            )


def test_look_ups_between_the_blocks_a_batch_records_and_across_batches(tmp_path: Path) -> None:
    """As convert does: each chunk is looked up (BLOB handles left open on the earlier
    batches' runs) and then recorded (new runs written and merged in the same table), one
    History for several batches; every look-up answers from the batches finished before."""
    path = tmp_path / "h.sqlite"
    firsts = IDENTS[:900]
    seconds = IDENTS[900:1800]
    with (
        mock.patch.object(history_runs, "RUN_CAP", 64),
        mock.patch.object(history_runs, "FLUSH", 16),
        mock.patch.object(history_summary, "FENCE", 8),
        History(path) as h,
    ):
        _record(h, [firsts[i : i + 100] for i in range(0, 900, 100)], "a.csv")
        h.begin()
        batch = h.open_batch("b.csv", ("m", "1", ""))
        for i in range(0, 900, 100):
            probe = firsts[i : i + 50] + seconds[i : i + 100]
            found = _got_lookup(h, probe)
            assert set(found) == set(firsts[i : i + 50])  # never the batch's own records
            arr = np.array(seconds[i : i + 100], dtype=np.uint64)
            h.add_records(
                arr,
                ["b.csv"],
                np.zeros(len(arr), np.int64),
                np.arange(i + 2, i + 102, dtype=np.int64),
                (arr % np.uint64(50)).astype(np.int64),
                pa.array(["t"] * len(arr)),
            )
        h.record(batch_key="b.csv", mapping=("m", "1", ""), inputs=[], outputs=[])
        h.finish()
        h.begin()
        found = _got_lookup(h, firsts[::10] + seconds[::10])
        assert set(found) == set(firsts[::10] + seconds[::10])
        assert {found[x][0] for x in seconds[::10]} == {batch}
        h.rollback()
