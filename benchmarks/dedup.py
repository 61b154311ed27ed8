"""Benchmark the duplicate stage: a batch of ``--rows`` records checked against a history of
``--history`` recorded records (exact identities, and possible duplicates when asked).

Usage::

    python benchmarks/dedup.py [--rows 1000000] [--history 10000000] [--overlap 0.5]
        [--workdir /tmp/csvbridge-bench-dedup] [--possible] [--chunk 25000]

The history database is built once and cached in ``<workdir>`` (building 10 million records
takes a few minutes). Record ``i`` is the same synthetic transaction whichever side makes
it, so the batch (records ``H - overlap*N`` to ``H + (1-overlap)*N``) repeats
``overlap * N`` recorded records exactly; the rest are new. Each measurement runs in its own
process; it prints wall time of the check (the pipeline's ``DuplicateStage.apply`` over
chunks, history look-ups included) and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import resource
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from csvbridge.dedup import DuplicateStage
from csvbridge.duplicates import fingerprints, identities
from csvbridge.history import History
from csvbridge.model import KINDS, LINE_COL, ROW_COL, SOURCE_COL
from csvbridge.near_duplicates import NearSettings, near_keys

FIELDS = KINDS["transaction"].fingerprint
EPOCH = dt.date(2016, 1, 1)
PER_DAY = 3_000  # records a day: 10 million records span about nine years


def records(start: int, stop: int, source: int = 0) -> pa.Table:
    """Synthetic transactions ``start`` .. ``stop - 1`` (the same ``i`` is the same record)."""
    i = np.arange(start, stop, dtype=np.int64)
    mixed = (i * 0x9E3779B1) % 2_147_483_647
    days = (i // PER_DAY).astype(np.int32) + np.int32((EPOCH - dt.date(1970, 1, 1)).days)
    n = len(i)
    return pa.table(
        {
            "date": pa.array(days, pa.int32()).cast(pa.date32()),
            "amount": pa.array(mixed % 200_000 - 100_000, pa.int64()),
            "currency": pa.array(np.full(n, "GBP", dtype=object), pa.string()),
            "description": pa.array(
                [f"card payment shop {m % 5000} ref {k}" for m, k in zip(mixed, i, strict=True)],
                pa.string(),
            ),
            "reference": pa.nulls(n, pa.string()),
            "balance": pa.nulls(n, pa.int64()),
            SOURCE_COL: pa.array(np.full(n, source, dtype=np.int32)),
            LINE_COL: pa.array(i - start + 2, pa.int64()),
            ROW_COL: pa.array(i - start, pa.int64()),
        }
    )


def build_history(path: Path, size: int, chunk: int = 500_000) -> None:
    """A history holding records 0 .. size - 1 as one batch (with near keys and texts),
    recorded a block of ``chunk`` records at a time as a run records them."""
    tmp = path.with_suffix(".building")
    tmp.unlink(missing_ok=True)
    t0 = time.perf_counter()
    with History(tmp) as h:
        h.begin()
        h.open_batch("bench", ("bench", "1", ""))
        for start in range(0, size, chunk):
            recs = records(start, min(start + chunk, size))
            ident = identities(fingerprints(recs, FIELDS), np.ones(recs.num_rows, np.int64))
            keys, texts = near_keys(recs)
            lines = recs.column(LINE_COL).to_numpy().astype(np.int64)
            src = np.zeros(recs.num_rows, dtype=np.int64)
            h.add_records(ident, ["history.csv"], src, lines, keys, texts)
            print(f"  history: {start + recs.num_rows:,} records", flush=True)
        h.record(batch_key="bench", mapping=("bench", "1", ""), inputs=[], outputs=[])
        h.finish()
    tmp.rename(path)
    print(f"built {path} in {time.perf_counter() - t0:.0f} s", flush=True)


def ensure_index(path: Path) -> None:
    """Read the history's index once outside the timed check (the file into the OS cache;
    an index lost or migrated, or runs stored without their summaries, made here)."""
    t0 = time.perf_counter()
    with History(path) as h:
        h.begin()
        h.lookup(np.zeros(1, dtype=np.uint64))
        h.near(np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64))
        h.finish()
    print(f"identity index ready in {time.perf_counter() - t0:.1f} s", flush=True)


def check(args: tuple[str, int, int, float, bool, int]) -> dict[str, Any]:
    """Run the duplicate stage over the batch in chunks (in a fresh process)."""
    path, rows, history, overlap, possible, chunk = args
    first = history - int(overlap * rows)
    batches = [records(s, min(s + chunk, first + rows)) for s in range(first, first + rows, chunk)]
    with History(Path(path)) as h:
        h.begin()
        h.open_batch("check", ("bench", "1", ""))  # as convert: written records are recorded
        stage = DuplicateStage(
            fields=FIELDS,
            hold_back=True,
            count_occurrences=False,
            sources=["batch.csv"],
            history=h,
            near=NearSettings() if possible else None,
        )
        t0 = time.perf_counter()
        flagged = 0
        for recs in batches:
            mask, _, _ = stage.apply(recs)
            flagged += int(mask.sum())
        wall = time.perf_counter() - t0
        h.rollback()
    return {
        "rows": rows,
        "history": history,
        "possible": possible,
        "flagged": flagged,
        "possible_flagged": stage.possible,
        "wall_s": round(wall, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--history", type=int, default=10_000_000)
    ap.add_argument("--overlap", type=float, default=0.5)
    ap.add_argument("--chunk", type=int, default=25_000)
    ap.add_argument("--possible", action="store_true", help="also check possible duplicates")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/csvbridge-bench-dedup"))
    a = ap.parse_args()
    a.workdir.mkdir(parents=True, exist_ok=True)
    db = a.workdir / f"history-{a.history}.v3.sqlite"  # v3: record blocks
    if not db.exists():
        build_history(db, a.history)
    ensure_index(db)
    runs = [False, True] if a.possible else [False]
    ctx = multiprocessing.get_context("spawn")
    for possible in runs:
        with ctx.Pool(1) as pool:
            job = (str(db), a.rows, a.history, a.overlap, possible, a.chunk)
            print(json.dumps(pool.apply(check, (job,))), flush=True)


if __name__ == "__main__":
    main()
