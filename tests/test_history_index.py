"""The history's index answers like a scan of every record recorded, across many batches
(runs capped and merged), several blocks per batch, forgotten batches, and an index lost (it
is rebuilt from the blocks): exact look-ups (earliest record of an identity) and near-key
ranges (every record in range, in the order recorded). A run never sees its own records."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from csvbridge import history_merge, history_probe, history_runs, history_summary
from csvbridge.history import History
from csvbridge.history_blocks import POS_BITS

# one recorded record: (identity, source name, line, near key, text)
Rec = tuple[int, str, int, int, str]


def _record(h: History, blocks: list[list[int]], name: str) -> tuple[int, list[Rec]]:
    """Record a batch made of these blocks of identities (near key derived from each)."""
    h.begin()
    batch = h.open_batch(name, ("m", "1", ""))
    recs: list[Rec] = []
    for block in blocks:
        arr = np.array(block, dtype=np.uint64)
        keys = (arr % np.uint64(50)).astype(np.int64) - 5  # some -1..-5: no near key
        keys[keys < 0] = -1
        lines = np.arange(len(recs) + 2, len(recs) + 2 + len(arr), dtype=np.int64)
        texts = [f"t{x % 7}" for x in block]
        h.add_records(
            arr, [name, "other.csv"], np.zeros(len(arr), np.int64), lines, keys, pa.array(texts)
        )
        recs += [
            (x, name, int(ln), int(k), t if k >= 0 else "")
            for x, ln, k, t in zip(block, lines, keys, texts, strict=True)
        ]
    h.record(batch_key=name, mapping=("m", "1", ""), inputs=[], outputs=[])
    h.finish()
    return batch, recs


def _expected_lookup(
    kept: dict[int, list[Rec]], keys: list[int]
) -> dict[int, tuple[int, str, int]]:
    out: dict[int, tuple[int, str, int]] = {}
    for batch in sorted(kept):
        for ident, name, line, _, _ in kept[batch]:
            if ident in keys and ident not in out:
                out[ident] = (batch, name, line)
    return out


def _got_lookup(h: History, keys: list[int]) -> dict[int, tuple[int, str, int]]:
    f = h.lookup(np.array(keys, dtype=np.uint64))
    return {
        k: (int(f.batch[i]), str(f.source[i]), int(f.line[i]))
        for i, k in enumerate(keys)
        if f.hit[i]
    }


idents = st.integers(0, 60).map(lambda x: x * 0x9E3779B97F4A7C15 % 2**64)


@settings(max_examples=25, deadline=None)
@given(
    batches=st.lists(
        st.lists(st.lists(idents, min_size=1, max_size=12), min_size=1, max_size=3),
        min_size=1,
        max_size=6,
    ),
    forget=st.lists(st.integers(1, 6), max_size=3),
    lose_index=st.booleans(),
    fence=st.sampled_from([1, 2, 3, 512]),
    window=st.sampled_from([1, 2, 256]),
)
def test_index_agrees_with_a_scan_of_the_records(
    tmp_path_factory: object,
    batches: list[list[list[int]]],
    forget: list[int],
    lose_index: bool,
    fence: int,
    window: int,
) -> None:
    path = Path(str(tmp_path_factory.mktemp("h"))) / "h.sqlite"  # type: ignore[attr-defined]
    kept: dict[int, list[Rec]] = {}
    with (  # many runs: written while the batch is recorded, merged up to the cap
        mock.patch.object(history_runs, "RUN_CAP", 8),
        mock.patch.object(history_runs, "FLUSH", 4),
        mock.patch.object(history_merge, "CHUNK", 3),  # merges take several steps
        mock.patch.object(history_summary, "FENCE", fence),  # look-ups read some blocks
        mock.patch.object(history_probe, "WINDOW", window),  # a few blocks at a time
    ):
        with History(path) as h:
            for i, blocks in enumerate(batches, start=1):
                batch, recs = _record(h, blocks, f"f{i}.csv")
                kept[batch] = recs
        for b in forget:
            with History(path) as h:
                if b in kept:
                    h.forget(b)
                    del kept[b]
        if lose_index:
            with History(path) as h:
                h.db.execute("DELETE FROM key_run")
        keys = sorted({r[0] for recs in kept.values() for r in recs} | {12345, 7})
        with History(path) as h:
            h.begin()
            assert _got_lookup(h, keys) == _expected_lookup(kept, keys)
            lo = np.array([0, 10, 30, 49], dtype=np.int64)
            hi = np.array([3, 10, 60, 49], dtype=np.int64)
            got = [
                (i, ident & (2**64 - 1), b, src, line, key, text)
                for i, _, ident, b, src, line, key, text in h.near(lo, hi)
            ]
            want = [
                (i, ident, b, src, line, key, text)
                for i in range(len(lo))
                for b in sorted(kept)
                for ident, src, line, key, text in kept[b]
                if lo[i] <= key <= hi[i]
            ]
            assert got == want
            for row in h.near(lo, hi):  # a stable id of the history record: block, position
                assert row[1] >> POS_BITS > 0
            h.rollback()


def test_a_run_never_finds_its_own_records(tmp_path: Path) -> None:
    with History(tmp_path / "h.sqlite") as h:
        _record(h, [[95, 96]], "a.csv")  # near keys 40, 41
        h.begin()
        h.open_batch("b", ("m", "1", ""))
        h.add_records(
            np.array([3, 4], np.uint64),
            ["b.csv"],
            np.zeros(2, np.int64),
            np.array([2, 3], np.int64),
            np.array([45, 46], np.int64),
            pa.array(["x", "y"]),
        )
        assert _got_lookup(h, [95, 96, 3, 4]) == {95: (1, "a.csv", 2), 96: (1, "a.csv", 3)}
        assert [r[2] for r in h.near(np.array([40]), np.array([50]))] == [95, 96]
        h.rollback()
        h.begin()
        assert _got_lookup(h, [3, 4]) == {}  # rolled back: nothing of it was kept
        h.rollback()
