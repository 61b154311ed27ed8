"""How the benchmark scripts measure and report: a command's wall and CPU time and peak RSS
(/usr/bin/time or a tiny launcher), the machine and versions, and the results table."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_BASELINES = ["pandas-plain", "pandas-full", "polars", "duckdb"]  # ratios against each
TIME_BIN = Path("/usr/bin/time")


# argv: -c RESULT_FILE CMD...; writes "<max child RSS KiB> <child wall s>" to RESULT_FILE.
LAUNCHER = (
    "import resource,subprocess,sys,time;t=time.perf_counter();"
    "rc=subprocess.call(sys.argv[2:]);t=time.perf_counter()-t;"
    "u=resource.getrusage(resource.RUSAGE_CHILDREN);m=u.ru_maxrss;c=u.ru_utime+u.ru_stime;"
    "open(sys.argv[1],'w').write(f'{m} {t} {c}');sys.exit(rc)"
)


def measure(cmd: list[str], method: str, env: dict[str, str] | None = None) -> tuple[float, int]:
    """Run ``cmd`` once; return (wall seconds, peak RSS KiB).  Raises on failure."""
    wall, rss, _ = measure_cpu(cmd, method, env)
    return wall, rss


def measure_cpu(
    cmd: list[str], method: str, env: dict[str, str] | None = None
) -> tuple[float, int, float]:
    """Run ``cmd`` once; return (wall seconds, peak RSS KiB, CPU seconds: user + system, all
    threads). CPU time is what a loaded machine changes least."""
    fd, tmp = tempfile.mkstemp(prefix="csvbridge-bench-")
    os.close(fd)
    try:
        if method == "time":
            full = [str(TIME_BIN), "-v", "-o", tmp, *cmd]
        else:
            full = [sys.executable, "-c", LAUNCHER, tmp, *cmd]
        start = time.perf_counter()
        proc = subprocess.run(
            full,
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        wall = time.perf_counter() - start
        report = Path(tmp).read_text()
    finally:
        os.unlink(tmp)
    if proc.returncode != 0:
        raise RuntimeError(f"exit {proc.returncode}: {proc.stderr.strip()[-800:]}")
    if method == "time":

        def field(name: str) -> str:
            return next(ln for ln in report.splitlines() if name in ln).rsplit(":", 1)[1]

        cpu = float(field("User time (seconds)")) + float(field("System time (seconds)"))
        return wall, int(field("Maximum resident set size")), cpu
    rss, child_wall, cpu_s = report.split()
    return float(child_wall), int(rss), float(cpu_s)


def version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def proc_field(path: str, key: str) -> str | None:
    """First ``key: value`` value in a /proc text file, or None."""
    try:
        text = Path(path).read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(key) and ":" in line:
            return line.split(":", 1)[1].strip()
    return None


def machine_info() -> dict[str, Any]:
    cpu = proc_field("/proc/cpuinfo", "model name") or platform.processor() or platform.machine()
    mem_kib = int((proc_field("/proc/meminfo", "MemTotal") or "0 kB").split()[0])
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    libs = ["pandas", "numpy", "pyarrow", "polars", "duckdb", "csvbridge"]
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "memory_gib": round(mem_kib / 2**20, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": {lib: version(lib) for lib in libs},
    }


def git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(HERE), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip() or None


def fmt(value: float | None, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def load_average() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def print_table(results: list[dict[str, Any]], baselines: list[str] | None = None) -> None:
    """The results as a table, with a ratio column per baseline that has results."""
    wanted = DEFAULT_BASELINES if baselines is None else baselines
    present = [b for b in wanted if any(r["contender"] == b for r in results)]
    head = ("contender", "rows", "wall s", "cpu s", "peak RSS MiB", "rows/s", "rows out")
    ratios = "".join(f" {'x ' + b:>14}" for b in present)
    print("\n" + "{:<19} {:>10} {:>8} {:>7} {:>13} {:>11} {:>10}".format(*head) + ratios)
    print("-" * (84 + 15 * len(present)))
    for r in results:
        if r["status"] != "ok":
            print(f"{r['contender']:<19} {r['rows']:>10,} FAILED: {r['error'][:50]}")
            continue
        out = "?" if r["rows_out"] is None else f"{r['rows_out']:,}"
        cells = "".join(f" {fmt(r['ratios'].get(b), '.2f'):>14}" for b in present)
        print(
            f"{r['contender']:<19} {r['rows']:>10,} {r['wall_s']:>8.2f} {r['cpu_s']:>7.2f} "
            f"{r['peak_rss_mib']:>13.1f} {r['rows_per_s']:>11,.0f} {out:>10}" + cells
        )
    loads = [x for r in results for x in r.get("load_1min", []) if x is not None]
    if loads:
        print(f"\n1-minute load average before the runs: {min(loads)}-{max(loads)}")
