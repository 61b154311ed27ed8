"""Time ``csvbridge.hashing.hash_strings`` on short and very long text values, against
``pandas.util.hash_array`` on the same values (the function whose values it must give).

Usage::

    python benchmarks/hash_long.py [--repeat 3] [--only short,one_10mb,...]

Each case runs in its own process, so the first ``hash_strings`` call pays for whatever it
imports (pandas, when a value is long enough to be hashed by it). Per case it prints the
best of ``--repeat`` timings of ``hash_strings`` (the first one, which includes any import,
is printed apart), pandas' timing on the same values (object array of str, built outside the
timing), whether pandas got imported by ``hash_strings``, and whether the values agree.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import numpy as np
import pyarrow as pa

CASES = {
    "short_1m": "1M typical values of 10-60 bytes",
    "one_10mb": "one 10 MB value",
    "mixed_1mb": "8,192 values, one of them 1 MB, the rest 10-60 bytes",
    "many_100kb": "1,000 values of 100 KB",
    "some_10kb": "10,000 values of 10 KB",
    "few_1kb": "100 values of 1 KB among 100,000 of 10-60 bytes",
}


def _array(lengths: list[int] | np.ndarray, seed: int = 1) -> pa.Array:
    """A pa.string() array of printable ASCII values of the given byte lengths."""
    lengths = np.asarray(lengths, dtype=np.int64)
    rng = np.random.default_rng(seed)
    data = rng.integers(32, 127, size=int(lengths.sum()), dtype=np.uint8)
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    kind = pa.large_string() if offsets[-1] >= 2**31 else pa.string()
    if kind == pa.string():
        offsets = offsets.astype(np.int32)
    bufs = [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    return pa.Array.from_buffers(kind, len(lengths), bufs)


def build(case: str) -> pa.Array:
    rng = np.random.default_rng(0)
    if case == "short_1m":
        return _array(rng.integers(10, 61, size=1_000_000))
    if case == "one_10mb":
        return _array([10_000_000])
    if case == "mixed_1mb":
        lengths = rng.integers(10, 61, size=8192)
        lengths[4000] = 1_000_000
        return _array(lengths)
    if case == "many_100kb":
        return _array([100_000] * 1000)
    if case == "some_10kb":
        return _array([10_000] * 10_000)
    if case == "few_1kb":
        lengths = rng.integers(10, 61, size=100_000)
        lengths[::1000] = 1000
        return _array(lengths)
    raise SystemExit(f"unknown case {case!r}; cases: {', '.join(CASES)}")


def run_one(case: str, repeat: int) -> dict[str, object]:
    """One case, in this process (which has not imported pandas yet)."""
    from csvbridge.hashing import hash_strings

    arr = build(case)
    t0 = time.perf_counter()
    got = hash_strings(arr)
    first = time.perf_counter() - t0
    imported = "pandas" in sys.modules
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        hash_strings(arr)
        times.append(time.perf_counter() - t0)
    import pandas as pd

    values = np.array(arr.to_pylist(), dtype=object)
    pd_times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        want = pd.util.hash_array(values, categorize=False)
        pd_times.append(time.perf_counter() - t0)
    return {
        "case": case,
        "first_s": first,
        "best_s": min(times),
        "pandas_s": min(pd_times),
        "imported_pandas": imported,
        "equal": bool((got == want).all()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default=",".join(CASES))
    parser.add_argument("--case", help=argparse.SUPPRESS)  # one case, in a child process
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_one(args.case, args.repeat)))
        return
    print(f"{'case':<12} {'first s':>9} {'best s':>9} {'pandas s':>9} {'ratio':>7}  pandas? equal")
    for case in args.only.split(","):
        done = subprocess.run(
            [sys.executable, __file__, "--case", case, "--repeat", str(args.repeat)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode:
            print(f"{case}: failed\n{done.stderr}")
            continue
        r = json.loads(done.stdout)
        ratio = float(r["best_s"]) / float(r["pandas_s"])  # type: ignore[arg-type]
        print(
            f"{case:<12} {r['first_s']:>9.4f} {r['best_s']:>9.4f} {r['pandas_s']:>9.4f}"
            f" {ratio:>7.2f}  {r['imported_pandas']!s:<7} {r['equal']}   # {CASES[case]}"
        )


if __name__ == "__main__":
    main()
