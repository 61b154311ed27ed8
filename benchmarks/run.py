"""Benchmark csvbridge against hand-written pandas (and polars/duckdb if installed).

Usage::

    python benchmarks/run.py --rows 100000 1000000 [--repeat 3] \\
        [--workdir /tmp/csvbridge-bench] [--only csvbridge,pandas-plain] [--chunk-rows N]

For every size the input statement is generated once with ``benchmarks/generate.py`` (cached
in ``<workdir>/inputs``). Then every contender runs ``--repeat`` times, each run in its own
subprocess so peak RSS is per contender. The repeats go round-robin (all contenders once, then
again), so a load change on a shared machine hits them alike. Peak RSS comes from
``/usr/bin/time -v`` when it exists, otherwise from a tiny Python launcher that runs the
command as its only child and reports ``getrusage(RUSAGE_CHILDREN).ru_maxrss``. Wall time is
the median of the runs, peak RSS the maximum, and the 1-minute load average before each run
is recorded. A table is printed and written to ``<workdir>/results.json``.

``--only`` takes a comma-separated subset of the contender names; ``pandas`` selects both
pandas contenders. The pandas/polars/duckdb jobs live in ``benchmarks/contenders.py``; child
processes include interpreter start-up and imports, like the csvbridge CLI does. Every
csvbridge run gets a fresh history database in the workdir, so each is a first import (as a
re-run would hold every record back as already imported). ``csvbridge-py`` is the same
command with the csv module's reader (``CSVBRIDGE_CSV_READER=python``) instead of pyarrow's;
``csvbridge-nohist`` and ``csvbridge-py-nohist`` add ``--no-history`` (no duplicate check
against, or record in, the history database).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness import (  # noqa: F401 - run.NAME is used by orders.py and excel.py
    DEFAULT_BASELINES,
    TIME_BIN,
    fmt,
    git_commit,
    load_average,
    machine_info,
    measure,
    measure_cpu,
    print_table,
)

HERE = Path(__file__).resolve().parent
GENERATE = HERE / "generate.py"
MAPPING = HERE / "bench_mapping.yaml"
CONTENDER_SCRIPT = HERE / "contenders.py"
CSVBRIDGE = Path(sys.executable).parent / "csvbridge"
CONTENDERS = [
    "pandas-plain",
    "pandas-full",
    "polars",
    "duckdb",
    "csvbridge",
    "csvbridge-py",
    "csvbridge-nohist",
    "csvbridge-py-nohist",
]
BASELINE = "pandas-plain"
BASELINES = DEFAULT_BASELINES
SEED = 1


def skip_reason(name: str) -> str | None:
    """Why contender ``name`` cannot run here, or None if it can."""
    if name.startswith("csvbridge"):
        if not CSVBRIDGE.exists():
            return f"executable {CSVBRIDGE} not found (pip install -e . first)"
        if not MAPPING.exists():
            return f"mapping {MAPPING} not found"
        return None
    module = name.split("-", maxsplit=1)[0]
    return None if importlib.util.find_spec(module) else f"module {module!r} not importable"


def command(name: str, inp: Path, outdir: Path, chunk_rows: int | None = None) -> list[str]:
    if name.startswith("csvbridge"):
        cmd = [
            str(CSVBRIDGE),
            "convert",
            str(inp),
            "-m",
            str(MAPPING),
            "--to",
            "qbo-bank",
            "-o",
            str(outdir),
            "--quiet",
        ]
        if name.endswith("-nohist"):
            cmd.append("--no-history")
        return cmd + (["--chunk-rows", str(chunk_rows)] if chunk_rows else [])
    return [sys.executable, str(CONTENDER_SCRIPT), name, str(inp), str(outdir / "out.csv")]


def environment(name: str, workdir: Path) -> dict[str, str]:
    """The contender's environment. Bytecode is cached (in the workdir, not the source tree), as
    an installed package has it. csvbridge gets a fresh history database (a first import)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(workdir / "pycache")
    if name.startswith("csvbridge"):
        history = workdir / f"history-{name}.sqlite"
        for stale in workdir.glob(f"history-{name}.sqlite*"):
            stale.unlink()
        env["CSVBRIDGE_HISTORY"] = str(history)
        env.pop("CSVBRIDGE_CSV_READER", None)
        if name.startswith("csvbridge-py"):
            env["CSVBRIDGE_CSV_READER"] = "python"
    return env


def count_rows(outdir: Path) -> int | None:
    """Data rows (lines minus one header) over the import files written to ``outdir`` (not
    csvbridge's rejects.csv and duplicates.csv, which are reports)."""
    reports = {"rejects.csv", "duplicates.csv"}
    files = sorted(f for f in outdir.rglob("*.csv") if f.name not in reports)
    if not files:
        return None
    total = 0
    for f in files:
        with f.open("rb") as fh:
            total += sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b"")) - 1
    return total


def ensure_input(workdir: Path, rows: int, kind: str = "bank") -> Path:
    """The generated input of ``rows`` rows (``kind``: generate.py's --kind), cached in
    ``<workdir>/inputs`` by row count, seed and a hash of generate.py."""
    tag = hashlib.sha1(GENERATE.read_bytes()).hexdigest()[:8]
    stem = "statement" if kind == "bank" else kind
    path = workdir / "inputs" / f"{stem}_{rows}_s{SEED}_{tag}.csv"
    if not path.exists():
        for stale in path.parent.glob(f"{stem}_{rows}_s{SEED}_*.csv"):
            stale.unlink()  # made by an older generate.py
        print(f"generating {rows:,} rows -> {path}", flush=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        subprocess.run(
            [
                sys.executable,
                str(GENERATE),
                "--rows",
                str(rows),
                "--out",
                str(tmp),
                "--seed",
                str(SEED),
                "--kind",
                kind,
            ],
            check=True,
        )
        tmp.rename(path)
    return path


Command = Callable[[str, Path, Path, int | None], list[str]]


def warm_up(
    contenders: list[str],
    inp: Path,
    args: argparse.Namespace,
    method: str,
    make_command: Command = command,
) -> None:
    """Unmeasured runs: bytecode compiled and cached, the input in the page cache."""
    for _ in range(args.warmup):
        for name in contenders:
            outdir = args.workdir / "out" / f"warmup_{name}"
            shutil.rmtree(outdir, ignore_errors=True)
            outdir.mkdir(parents=True)
            with contextlib.suppress(RuntimeError):  # the measured runs report it
                measure(
                    make_command(name, inp, outdir, None), method, environment(name, args.workdir)
                )
            shutil.rmtree(outdir, ignore_errors=True)


def measure_size(
    contenders: list[str],
    rows: int,
    inp: Path,
    args: argparse.Namespace,
    method: str,
    make_command: Command = command,
    baselines: list[str] | None = None,
) -> list[dict[str, Any]]:
    """Run every contender ``args.repeat`` times on ``inp`` (``rows`` rows), round-robin; one
    result per contender: median wall and CPU time, max peak RSS, ratios to each baseline (the
    first one also as ``ratio_vs_baseline``), rows written. Uses ``args.workdir``,
    ``args.chunk_rows`` and ``args.keep_outputs``."""
    ratio_to = BASELINES if baselines is None else baselines
    results: list[dict[str, Any]] = []
    runs: dict[str, dict[str, Any]] = {
        name: {"walls": [], "rss": [], "cpu": [], "loads": [], "error": None} for name in contenders
    }
    for _ in range(args.repeat):  # round-robin: a load change hits every contender
        for name in contenders:
            run = runs[name]
            if run["error"]:
                continue
            outdir = args.workdir / "out" / f"{name}_{rows}"
            shutil.rmtree(outdir, ignore_errors=True)
            outdir.mkdir(parents=True)
            run["loads"].append(load_average())
            try:
                wall, kib, cpu = measure_cpu(
                    make_command(name, inp, outdir, args.chunk_rows),
                    method,
                    environment(name, args.workdir),
                )
            except RuntimeError as exc:
                run["error"] = str(exc)
                print(f"note: {name} failed at {rows:,} rows: {exc}", file=sys.stderr)
                continue
            run["walls"].append(wall)
            run["rss"].append(kib)
            run["cpu"].append(cpu)
            run["rows_out"] = count_rows(outdir)
            if not args.keep_outputs:
                shutil.rmtree(outdir, ignore_errors=True)
        print(f"  done one round of {rows:,} rows", flush=True)
    medians = {n: statistics.median(r["walls"]) for n, r in runs.items() if r["walls"]}
    for name in contenders:
        run = runs[name]
        entry: dict[str, Any] = {"contender": name, "rows": rows, "status": "ok"}
        if run["error"]:
            entry.update(status="failed", error=run["error"])
        else:
            wall = medians[name]
            ratios = {b: round(wall / medians[b], 3) for b in ratio_to if b in medians}
            entry.update(
                wall_s=round(wall, 4),
                wall_s_runs=[round(w, 4) for w in run["walls"]],
                peak_rss_mib=round(max(run["rss"]) / 1024, 1),
                cpu_s=round(statistics.median(run["cpu"]), 3),
                cpu_s_runs=[round(c, 3) for c in run["cpu"]],
                rows_per_s=round(rows / wall),
                ratio_vs_baseline=ratios.get(ratio_to[0]) if ratio_to else None,
                ratios=ratios,
                rows_out=run["rows_out"],
                load_1min=run["loads"],
            )
        results.append(entry)
    return results


def common_parser(
    description: str, contenders: list[str], extra: str = ""
) -> argparse.ArgumentParser:
    """The options every CSV benchmark takes (--rows, --repeat, --workdir, --only, ...)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--rows", type=int, nargs="+", required=True)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/csvbridge-bench"))
    parser.add_argument(
        "--only",
        default=",".join(contenders),
        help=f"comma-separated subset of: {', '.join(contenders)}{extra}",
    )
    parser.add_argument("--rss-method", choices=["auto", "time", "launcher"], default="auto")
    parser.add_argument("--keep-outputs", action="store_true")
    parser.add_argument("--chunk-rows", type=int, help="passed to csvbridge convert")
    parser.add_argument(
        "--warmup",
        type=int,
        default=1,
        help="unmeasured runs of each contender first, on the smallest input (default 1)",
    )
    return parser


def rss_method(args: argparse.Namespace) -> str:
    """``--rss-method`` with auto resolved: /usr/bin/time when it exists."""
    if args.rss_method == "auto":
        return "time" if TIME_BIN.exists() else "launcher"
    return str(args.rss_method)


def start(
    args: argparse.Namespace,
    method: str,
    ordered: list[str],
    wanted: set[str],
    why_not: Callable[[str], str | None],
) -> tuple[dict[str, Any], list[str], dict[str, str]]:
    """Print the machine and settings; return the machine info, the contenders of ``ordered``
    in ``wanted`` that can run here, and the skipped ones with the reason."""
    info = machine_info()
    print(
        f"machine: {info['cpu']}, {info['cores']} cores ({info['usable_cores']} usable), "
        f"{info['memory_gib']} GiB RAM, {info['platform']}"
    )
    print(
        "python "
        + info["python"]
        + "; "
        + ", ".join(f"{k} {v}" for k, v in info["versions"].items() if v)
    )
    print(f"repeat={args.repeat} (median wall, max RSS), rss via {method}, workdir={args.workdir}")
    contenders, skipped = [], {}
    for name in (c for c in ordered if c in wanted):
        reason = why_not(name)
        if reason:
            skipped[name] = reason
            print(f"note: skipping {name}: {reason}")
        else:
            contenders.append(name)
    load = load_average()
    if load is not None and load > 0.5 * (info["usable_cores"] or 1):
        print(f"note: the 1-minute load average is {load}: other work competes for the cores")
    return info, contenders, skipped


def main(argv: list[str] | None = None) -> int:
    parser = common_parser(__doc__.splitlines()[0], CONTENDERS, ", pandas")
    args = parser.parse_args(argv)

    wanted = {n.strip() for n in args.only.split(",") if n.strip()}
    if "pandas" in wanted:
        wanted = (wanted - {"pandas"}) | {"pandas-plain", "pandas-full"}
    if wanted - set(CONTENDERS):
        parser.error(f"unknown contender(s): {', '.join(sorted(wanted - set(CONTENDERS)))}")
    method = rss_method(args)
    info, contenders, skipped = start(args, method, CONTENDERS, wanted, skip_reason)
    results: list[dict[str, Any]] = []
    for rows in args.rows:
        inp = ensure_input(args.workdir, rows)
        if rows == min(args.rows):
            warm_up(contenders, inp, args, method)
        results += measure_size(contenders, rows, inp, args, method)

    print_table(results)
    report = {
        "machine": info,
        "baseline": BASELINE,
        "repeat": args.repeat,
        "rss_method": method,
        "chunk_rows": args.chunk_rows,
        "commit": git_commit(),
        "seed": SEED,
        "skipped": skipped,
        "results": results,
    }
    args.workdir.mkdir(parents=True, exist_ok=True)
    (args.workdir / "results.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {args.workdir / 'results.json'}")
    return 0 if all(r["status"] == "ok" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
