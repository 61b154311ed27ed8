"""Benchmark csvbridge grouping an orders export into Xero invoices, against polars/duckdb/pandas.

Usage::

    python benchmarks/orders.py --rows 100000 1000000 [--repeat 3] \\
        [--workdir /tmp/csvbridge-bench] [--only csvbridge,polars] [--chunk-rows N]

The input is ``generate.py --kind orders`` (a Shopify-style export: an order is 1-5
consecutive line rows sharing its Name, its totals on the first row only), generated once per
size and cached in ``<workdir>/inputs``. ``csvbridge`` runs ``csvbridge convert INPUT -m
benchmarks/orders_mapping.yaml --to xero-invoices -o OUT --quiet`` with a fresh history
database; ``csvbridge-nohist`` adds ``--no-history``. ``polars``, ``duckdb`` and ``pandas`` run
the same job hand-written (``benchmarks/contenders_orders.py``), writing the same rows into one
file. The measuring (subprocess per run, round-robin repeats, peak RSS, medians, ratios, JSON)
is run.py's; the results go to ``<workdir>/results-orders.json``.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import run

HERE = Path(__file__).resolve().parent
MAPPING = HERE / "orders_mapping.yaml"
CONTENDER_SCRIPT = HERE / "contenders_orders.py"
TARGET = "xero-invoices"
CONTENDERS = ["csvbridge", "csvbridge-nohist", "polars", "duckdb", "pandas"]
BASELINES = ["polars", "duckdb", "pandas"]  # ratios against each


def skip_reason(name: str) -> str | None:
    """Why contender ``name`` cannot run here, or None if it can."""
    if name.startswith("csvbridge"):
        if not run.CSVBRIDGE.exists():
            return f"executable {run.CSVBRIDGE} not found (pip install -e . first)"
        return None if MAPPING.exists() else f"mapping {MAPPING} not found"
    return None if importlib.util.find_spec(name) else f"module {name!r} not importable"


def command(name: str, inp: Path, outdir: Path, chunk_rows: int | None = None) -> list[str]:
    """The command line of one run of contender ``name``."""
    if name.startswith("csvbridge"):
        cmd = [str(run.CSVBRIDGE), "convert", str(inp), "-m", str(MAPPING), "--to", TARGET]
        cmd += ["-o", str(outdir), "--quiet"]
        if name.endswith("-nohist"):
            cmd.append("--no-history")
        return cmd + (["--chunk-rows", str(chunk_rows)] if chunk_rows else [])
    return [sys.executable, str(CONTENDER_SCRIPT), name, str(inp), str(outdir / "out.csv")]


def main(argv: list[str] | None = None) -> int:
    parser = run.common_parser(__doc__.splitlines()[0], CONTENDERS)
    args = parser.parse_args(argv)
    wanted = {n.strip() for n in args.only.split(",") if n.strip()}
    if wanted - set(CONTENDERS):
        parser.error(f"unknown contender(s): {', '.join(sorted(wanted - set(CONTENDERS)))}")
    method = run.rss_method(args)
    info, contenders, skipped = run.start(args, method, CONTENDERS, wanted, skip_reason)
    results: list[dict[str, Any]] = []
    for rows in args.rows:
        inp = run.ensure_input(args.workdir, rows, kind="orders")
        if rows == min(args.rows):
            run.warm_up(contenders, inp, args, method, command)
        results += run.measure_size(contenders, rows, inp, args, method, command, BASELINES)

    run.print_table(results, BASELINES)
    outs = {(r["rows"], r.get("rows_out")) for r in results if r["status"] == "ok"}
    if len({rows for rows, _ in outs}) != len(outs):
        print("note: the contenders wrote different numbers of rows for the same input")
    report = {
        "benchmark": "orders",
        "target": TARGET,
        "machine": info,
        "baselines": BASELINES,
        "repeat": args.repeat,
        "rss_method": method,
        "chunk_rows": args.chunk_rows,
        "commit": run.git_commit(),
        "seed": run.SEED,
        "skipped": skipped,
        "results": results,
    }
    args.workdir.mkdir(parents=True, exist_ok=True)
    path = args.workdir / "results-orders.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {path}")
    return 0 if all(r["status"] == "ok" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
