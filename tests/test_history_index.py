"""The history's identity index answers like a scan of the record table, across many
batches (runs merged), forgotten batches, and records written by an older csvbridge that
kept no index."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from csvbridge.history import History
from csvbridge.history_index import IdentityIndex


def _record(h: History, idents: list[int], name: str) -> int:
    arr = np.array(idents, dtype=np.uint64)
    return h.record(
        batch_key=name,
        mapping=("m", "1", ""),
        inputs=[{"name": name, "sha256": ""}],
        outputs=[],
        identities=arr,
        sources=[name],
        source_idx=np.zeros(len(arr), dtype=np.int64),
        lines=np.arange(2, 2 + len(arr), dtype=np.int64),
    )


def _expected(h: History, keys: list[int]) -> dict[int, tuple[int, str, int]]:
    out: dict[int, tuple[int, str, int]] = {}
    rows = h.db.execute(
        "SELECT identity, batch_id, source, line FROM record ORDER BY batch_id, rowid"
    )
    for ident, batch, source, line in rows:
        u = ident & (2**64 - 1)
        if u in keys and u not in out:
            out[u] = (batch, source, line)
    return out


def _got(h: History, keys: list[int]) -> dict[int, tuple[int, str, int]]:
    f = h.lookup(np.array(keys, dtype=np.uint64))
    return {
        k: (int(f.batch[i]), str(f.source[i]), int(f.line[i]))
        for i, k in enumerate(keys)
        if f.hit[i]
    }


@settings(max_examples=25, deadline=None)
@given(
    batches=st.lists(
        st.lists(st.integers(0, 40).map(lambda x: x * 0x9E3779B97F4A7C15 % 2**64), max_size=30),
        min_size=1,
        max_size=7,
    ),
    forget=st.lists(st.integers(1, 7), max_size=3),
    legacy=st.integers(0, 7),
)
def test_index_agrees_with_the_record_table(
    tmp_path_factory: object, batches: list[list[int]], forget: list[int], legacy: int
) -> None:
    path = Path(str(tmp_path_factory.mktemp("h"))) / "h.sqlite"  # type: ignore[attr-defined]
    keys = sorted({k for b in batches for k in b} | {12345})
    with History(path) as h:
        for i, idents in enumerate(batches, start=1):
            h.begin()
            _record(h, idents, f"f{i}.csv")
            if i == legacy:  # as an older csvbridge would leave it: no index
                h.db.execute("DELETE FROM ident_run")
                h.index = IdentityIndex(h.db)
            h.finish()
    for b in forget:
        with History(path) as h:
            if any(x.id == b for x in h.batches()):
                h.forget(b)
    with History(path) as h:
        h.begin()
        assert _got(h, keys) == _expected(h, keys)
        h.rollback()
