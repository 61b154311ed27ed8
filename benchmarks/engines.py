"""Wall time of the local engine against the Dask engine (a local cluster of --workers
processes), on one large statement and on the same rows as a folder of files.

    python benchmarks/engines.py --rows 1000000 --parts 8 --workers 2 --repeat 2

Each run is ``csvbridge convert ... --to qbo-bank --no-history`` in a fresh process (the
Dask runs include starting the cluster); the outputs of every engine are checked to be
byte-identical to the local engine's. Figures are printed as a table and as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
MAPPING = HERE / "bench_mapping.yaml"


def generate(rows: int, out: Path) -> None:
    cmd = [sys.executable, str(HERE / "generate.py"), "--rows", str(rows), "--out", str(out)]
    subprocess.run([*cmd, "--seed", "1"], check=True, capture_output=True)


def split(src: Path, parts: int, folder: Path) -> None:
    """The same rows as ``parts`` files, each with the header."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = src.read_bytes().splitlines(keepends=True)
    header, data = lines[0], lines[1:]
    size = -(-len(data) // parts)
    for i in range(parts):
        (folder / f"part_{i:03d}.csv").write_bytes(
            header + b"".join(data[i * size : (i + 1) * size])
        )


def run(inputs: Path, out: Path, engine: list[str]) -> float:
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, "-c", "from csvbridge.cli import main; main()", "convert", str(inputs)]
    cmd += ["-m", str(MAPPING), "--to", "qbo-bank", "-o", str(out), "--no-history", "-q"]
    start = time.perf_counter()
    subprocess.run(cmd + engine, check=True)
    return time.perf_counter() - start


def same(a: Path, b: Path) -> bool:
    names = sorted(p.name for p in a.iterdir())
    return names == sorted(p.name for p in b.iterdir()) and all(
        (a / n).read_bytes() == (b / n).read_bytes() for n in names
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--parts", type=int, default=8, help="files in the folder case")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--input", type=Path, help="an existing statement (default: generate)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="csvbridge-engines-"))
    try:
        big = args.input or work / "statement.csv"
        if args.input is None:
            generate(args.rows, big)
        split(big, args.parts, work / "parts")
        dask = ["--engine", "dask", "--workers", str(args.workers)]
        cases = [
            ("one file", big, "local", []),
            ("one file", big, "dask", dask),
            (f"{args.parts} files", work / "parts", "local", []),
            (f"{args.parts} files", work / "parts", "dask", dask),
            (
                f"{args.parts} files",
                work / "parts",
                "dask, read on client",
                [*dask, "--read-on", "client"],
            ),
        ]
        results = []
        for name, inputs, label, engine in cases:
            times = [
                run(inputs, work / label.replace(" ", "_"), engine) for _ in range(args.repeat)
            ]
            ok = same(work / "local", work / label.replace(" ", "_"))
            results.append({"input": name, "engine": label, "seconds": times, "identical": ok})
            print(f"{name:10} {label:22} best {min(times):6.1f}s  runs {times}  identical={ok}")
        print(json.dumps({"cpus": os.cpu_count(), "rows": args.rows, "results": results}))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
