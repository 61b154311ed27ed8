"""Time and peak memory of the batch duplicate index alone (``DuplicateIndex.check_keys``),
in memory or spilling to temporary files past a budget of entries.

Usage::

    python benchmarks/spill_index.py --rows 10000000 --budget 262144 [--budget 0]

``--budget 0`` keeps the default (``CSVBRIDGE_DUP_MEMORY_ENTRIES`` or 262,144 entries). Keys
are random identities in chunks of 25,000 rows, about 0.1% repeating a key of the chunk
before (like benchmarks/generate.py's doubled bank lines). Prints CPU seconds spent in the
index, the repeats found, the spilled runs left and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pyarrow as pa

from csvbridge.duplicates import DuplicateIndex, identities
from csvbridge.model import LINE_COL, ROW_COL, SOURCE_COL

CHUNK = 25_000


def run(rows: int, budget: int | None) -> str:
    """One measurement, as a line of text."""
    rng = np.random.default_rng(3)
    index = DuplicateIndex(budget=budget)
    spent, found = 0.0, 0
    prev = np.zeros(CHUNK, dtype=np.uint64)
    for start in range(0, rows, CHUNK):
        fp = rng.integers(0, 2**63, CHUNK, dtype=np.uint64)
        again = rng.random(CHUNK) < 0.001
        if start:
            fp[again] = prev[rng.integers(0, CHUNK, int(again.sum()))]
        prev = fp
        keys = identities(fp, np.ones(CHUNK, dtype=np.int64))
        table = pa.table(
            {
                SOURCE_COL: pa.array(np.zeros(CHUNK, dtype=np.int32)),
                LINE_COL: pa.array(np.arange(start, start + CHUNK, dtype=np.int64)),
                ROW_COL: pa.array(np.arange(CHUNK, dtype=np.int64)),
            }
        )
        t = time.process_time()
        found += int((index.check_keys(table, keys) >= 0).sum())
        spent += time.process_time() - t
    runs = len(index._store.spilled)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    index.close()
    return (
        f"rows {rows:,} budget {index._store.budget:,}: index cpu {spent:.2f} s, "
        f"{found:,} repeats, {runs} spilled runs, peak RSS {peak} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--budget", type=int, default=0, help="entries in memory (0: default)")
    args = parser.parse_args()
    print(run(args.rows, args.budget or None))


if __name__ == "__main__":
    main()
