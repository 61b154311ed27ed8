"""Benchmark reading and writing Excel: csvbridge against python-calamine, openpyxl and pandas.

Usage::

    python benchmarks/excel.py [--rows 100000] [--repeat 3] [--workdir /tmp/csvbridge-bench]

The statement from ``generate.py`` is written as .xlsx once (cached next to the CSV), with real
dates and amounts as numbers, as a bank's Excel export has them. Reads:

- ``read-calamine``, ``read-openpyxl``, ``read-pandas``, ``read-csvbridge``: see
  ``excel_jobs.py``;
- ``convert-csvbridge``: the whole ``csvbridge convert`` of the .xlsx to qbo-bank, the same
  command as run.py's csvbridge contender.

Writes: ``write-xlsxwriter`` and ``write-openpyxl`` write the statement as .xlsx;
``write-csvbridge-xlsx`` writes it as transaction records through the ``xlsx`` target's writer.
``convert-csvbridge-xlsx`` is ``csvbridge convert`` of the CSV to the generic ``xlsx`` target
(typed cells), the whole conversion. ``write-csvbridge-report`` renders report.xlsx for a run
of the same CSV whose rows were all rejected (the mapping reads its dates as YYYY/MM/DD), so
every row is listed. That run is made once, beforehand, and not timed.

Each job runs in its own process, measured like run.py (cached bytecode: csvbridge is
compiled into the jobs' bytecode cache before the first run, as installing it would; one
unmeasured warm-up round): median wall of ``--repeat`` runs (round-robin), maximum peak RSS.
Ratios are to ``read-calamine`` for reads and to ``write-xlsxwriter`` for writes. Results go
to ``<workdir>/excel_results.json``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import run

HERE = Path(__file__).resolve().parent
JOBS = HERE / "excel_jobs.py"
READS = ["read-calamine", "read-openpyxl", "read-pandas", "read-csvbridge", "convert-csvbridge"]
WRITES = [
    "write-xlsxwriter",
    "write-openpyxl",
    "write-csvbridge-xlsx",
    "convert-csvbridge-xlsx",
    "write-csvbridge-report",
]
BASE = {"read": "read-calamine", "write": "write-xlsxwriter"}


def make_xlsx(csv_path: Path) -> Path:
    out = csv_path.with_suffix(".xlsx")
    if not out.exists():
        print(f"writing {out}", flush=True)
        tmp = out.with_name(out.stem + ".tmp.xlsx")
        subprocess.run(
            [sys.executable, str(JOBS), "write-xlsxwriter", str(csv_path), str(tmp)], check=True
        )
        tmp.rename(out)
    return out


def precompile(workdir: Path) -> None:
    """Compile csvbridge's modules into the bytecode cache the jobs use (``run.environment``
    puts it in the workdir), as installing the package would, so that no measured run spends
    its time compiling them (PYTHONDONTWRITEBYTECODE=1 in the caller's environment would
    otherwise have them compiled from source on every run)."""
    import csvbridge

    package = Path(csvbridge.__file__).resolve().parent
    env = run.environment("csvbridge", workdir)
    cmd = [sys.executable, "-m", "compileall", "-q", str(package)]
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)


def make_rejected_run(csv_path: Path, workdir: Path) -> Path:
    """A csvbridge run of the CSV where every row is rejected (its output folder)."""
    outdir = workdir / f"rejected_{csv_path.stem}"
    if (outdir / "report.json").exists():
        return outdir
    mapping = workdir / "reject_all.yaml"
    text = run.MAPPING.read_text(encoding="utf-8")
    mapping.write_text(text.replace("dates: DD/MM/YYYY", "dates: YYYY/MM/DD"), encoding="utf-8")
    shutil.rmtree(outdir, ignore_errors=True)
    print(f"making a run with every row rejected -> {outdir}", flush=True)
    cmd = [str(run.CSVBRIDGE), "convert", str(csv_path), "-m", str(mapping)]
    cmd += ["--to", "qbo-bank", "-o", str(outdir), "--quiet", "--no-history"]
    done = subprocess.run(cmd, check=False)
    if done.returncode not in (0, 1):  # 1: rows were rejected, as intended
        raise SystemExit(f"the all-rejected run failed (exit {done.returncode})")
    return outdir


def command(name: str, xlsx: Path, csv_path: Path, rejected: Path, out: Path) -> list[str]:
    if name == "convert-csvbridge":
        return run.command("csvbridge", xlsx, out)
    if name == "convert-csvbridge-xlsx":
        cmd = run.command("csvbridge", csv_path, out)
        cmd[cmd.index("--to") + 1] = "xlsx"
        return cmd
    if name.startswith("read-"):
        src = xlsx
    elif name == "write-csvbridge-report":
        src = rejected
    else:
        src = csv_path
    return [sys.executable, str(JOBS), name, str(src), str(out / "out.xlsx")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/csvbridge-bench"))
    parser.add_argument("--only", help="comma-separated job names")
    args = parser.parse_args(argv)
    method = "time" if run.TIME_BIN.exists() else "launcher"
    info = run.machine_info()
    print(
        f"machine: {info['cpu']}, {info['cores']} cores, {info['memory_gib']} GiB RAM; "
        f"python {info['python']}; rss via {method}"
    )
    names = READS + WRITES
    if args.only:
        names = [n for n in names if n in set(args.only.split(","))]
    csv_path = run.ensure_input(args.workdir, args.rows)
    xlsx = make_xlsx(csv_path)
    rejected = make_rejected_run(csv_path, args.workdir)
    precompile(args.workdir)
    runs: dict[str, dict[str, Any]] = {
        n: {"walls": [], "rss": [], "cpu": [], "loads": []} for n in names
    }
    for rnd in range(-1, args.repeat):  # round -1: a warm-up, not measured
        for name in names:
            out = args.workdir / "out" / f"excel_{name}"
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir(parents=True)
            runs[name]["loads"].append(run.load_average())
            env = run.environment("csvbridge", args.workdir)
            wall, kib, cpu = run.measure_cpu(
                command(name, xlsx, csv_path, rejected, out), method, env
            )
            shutil.rmtree(out, ignore_errors=True)
            if rnd < 0:
                runs[name]["loads"].pop()
                continue
            runs[name]["walls"].append(wall)
            runs[name]["rss"].append(kib)
            runs[name]["cpu"].append(cpu)
        print("  done one round" if rnd >= 0 else "  warmed up", flush=True)
    medians = {n: statistics.median(r["walls"]) for n, r in runs.items()}
    results = []
    print(f"\n{'job':<24} {'wall s':>8} {'cpu s':>7} {'peak RSS MiB':>13} {'x base':>8}")
    print("-" * 64)
    for name in names:
        kind = "write" if name in WRITES else "read"
        base = medians.get(BASE[kind])
        r = runs[name]
        entry = {
            "job": name,
            "rows": args.rows,
            "wall_s": round(medians[name], 4),
            "wall_s_runs": [round(w, 4) for w in r["walls"]],
            "peak_rss_mib": round(max(r["rss"]) / 1024, 1),
            "cpu_s": round(statistics.median(r["cpu"]), 3),
            "ratio": round(medians[name] / base, 3) if base else None,
            "load_1min": r["loads"],
        }
        results.append(entry)
        ratio = run.fmt(entry["ratio"], ".2f")
        print(
            f"{name:<24} {entry['wall_s']:>8.2f} {entry['cpu_s']:>7.2f} "
            f"{entry['peak_rss_mib']:>13.1f} {ratio:>8}"
        )
    loads = [x for r in runs.values() for x in r["loads"] if x is not None]
    if loads:
        print(f"\n1-minute load average before the runs: {min(loads)}-{max(loads)}")
    report = {
        "machine": info,
        "commit": run.git_commit(),
        "xlsx_bytes": xlsx.stat().st_size,
        "results": results,
    }
    (args.workdir / "excel_results.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {args.workdir / 'excel_results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
