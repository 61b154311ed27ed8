"""Load on the watched folder: a running ``csvbridge watch`` fed many files — most small
statements, some large (50,000 rows), some bad (binary junk, no mapping, empty, rows that
are rejected) — in bursts while it runs. It must keep up and lose none: every file ends in
outbox/ (and archive/) or failed/, exactly once, and the audit log says the same; and its
memory must stay flat (its RSS is sampled through the run).

    python benchmarks/watch_load.py                      # 1,000 files, 1% of them large
    python benchmarks/watch_load.py --files 200 --large-rows 20000

Prints files/minute, the watcher's RSS at start (idle, after start-up), middle (half the
files done), end and peak, and the files lost (must be 0). Linux (reads /proc). The test
version (tests/test_watch_load.py) runs 100 files and asserts only that none is lost.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HEADER = b"Date;Type;Description;Debit;Credit;Balance"
CONFIG = """\
targets:
  uk-bank-current-account: [xero-bank]
duplicates: skip
reports: {reports}
interval: 0.5
settle: 0.2
events: false
"""
OUTCOMES = ("converted", "failed", "already-imported")


# -- the files ---------------------------------------------------------------------------------
def statement(rows: int, seed: int, bad_rows: int = 0) -> bytes:
    """A UK bank statement (the uk_bank mapping's layout) of ``rows`` distinct rows, with a
    running balance that holds; ``bad_rows`` of them have an impossible date (rejected)."""
    r = random.Random(seed)
    balance = 10**12  # large enough never to go below zero
    lines = [HEADER]
    for i in range(rows):
        cents = r.randint(1, 200_000)
        out = r.random() < 0.5
        balance += -cents if out else cents
        day = f"{r.randint(1, 28):02d}/{i % 12 + 1:02d}/2024"
        if i < bad_rows:
            day = "31/02/2024"
        amount = f"{cents // 100},{cents % 100:02d}"
        bal = f"{balance // 100},{balance % 100:02d}"
        debit, credit = (amount, "") if out else ("", amount)
        lines.append(f"{day};DEB;Shop {seed} #{i};{debit};{credit};{bal}".encode("cp1252"))
    return b"\r\n".join([*lines, b""])


@dataclass
class Plan:
    """The files to drop, by name, and what each should become."""

    files: dict[str, bytes] = field(default_factory=dict)
    expect: dict[str, str] = field(default_factory=dict)  # name -> converted | failed


def plan(n: int, large_every: int, large_rows: int, bad_every: int, seed: int = 1) -> Plan:
    p = Plan()
    for i in range(n):
        name = f"f{i:05d}.csv"
        if bad_every and i % bad_every == bad_every - 1:
            kind = (i // bad_every) % 4
            if kind == 0:
                p.files[name] = bytes(random.Random(i).randrange(256) for _ in range(4096))
                p.expect[name] = "failed"  # binary junk
            elif kind == 1:
                p.files[name] = b"Foo,Bar\r\n1,2\r\n"
                p.expect[name] = "failed"  # no mapping recognises it
            elif kind == 2:
                p.files[name] = b""
                p.expect[name] = "failed"  # empty
            else:
                p.files[name] = statement(40, seed * 100_000 + i, bad_rows=5)
                p.expect[name] = "converted"  # converted, 5 rows rejected
        elif large_every and i % large_every == large_every // 2:
            p.files[name] = statement(large_rows, seed * 100_000 + i)
            p.expect[name] = "converted"
        else:
            p.files[name] = statement(30, seed * 100_000 + i)
            p.expect[name] = "converted"
    return p


# -- the watched folder --------------------------------------------------------------------------
def make_root(root: Path, reports: str = "[json, html, xlsx]") -> None:
    (root / "mappings").mkdir(parents=True)
    (root / "inbox").mkdir()
    shutil.copy(REPO / "mappings" / "uk_bank.yaml", root / "mappings")
    (root / "csvbridge.yaml").write_text(CONFIG.format(reports=reports))


def drop(root: Path, name: str, data: bytes) -> None:
    """Whole files only: written under an ignored name, then renamed into inbox/."""
    tmp = root / "inbox" / f".{name}.tmp"
    tmp.write_bytes(data)
    os.rename(tmp, root / "inbox" / name)


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def done_count(root: Path) -> int:
    """Files finished so far: archived sources plus failed folders."""
    n = 0
    for sub in ("archive", "failed"):
        with contextlib.suppress(FileNotFoundError):
            n += len(os.listdir(root / sub))
    return n


def audit_outcomes(root: Path) -> list[dict[str, object]]:
    out = []
    for p in sorted((root / ".csvbridge").glob("audit.jsonl*")):
        for line in p.read_text().splitlines():
            if line.strip():
                e = json.loads(line)
                if e.get("event") in OUTCOMES:
                    out.append(e)
    return out


def account(root: Path, expect: dict[str, str]) -> list[str]:
    """Problems: every file must have ended exactly once where it should, and the audit log,
    outbox/, archive/ and failed/ must agree. An empty list: nothing lost."""
    problems: list[str] = []
    left = sorted(p.name for p in (root / "inbox").iterdir() if not p.name.startswith("."))
    if left:
        problems.append(f"{len(left)} still in inbox/: {left[:5]}")
    claimed = list((root / ".csvbridge" / "processing").iterdir())
    if claimed:
        problems.append(f"{len(claimed)} claims left in processing/")
    events = audit_outcomes(root)
    by_file: dict[str, list[dict[str, object]]] = {}
    for e in events:
        by_file.setdefault(str(e["file"]), []).append(e)
    for name, want in expect.items():
        got = by_file.get(name, [])
        if len(got) != 1:
            problems.append(f"{name}: {len(got)} outcomes in the audit log")
            continue
        e = got[0]
        if e["event"] != want:
            problems.append(f"{name}: {e['event']}, expected {want}")
        paths = [e.get("outbox"), e.get("archive")] if want == "converted" else [e.get("failed")]
        for rel in paths:
            if not rel or not (root / str(rel)).exists():
                problems.append(f"{name}: {rel} named by the audit log does not exist")
    extra = set(by_file) - set(expect)
    if extra:
        problems.append(f"outcomes for files never dropped: {sorted(extra)[:5]}")
    conv = sum(1 for w in expect.values() if w == "converted")
    for sub, n in (("outbox", conv), ("archive", conv), ("failed", len(expect) - conv)):
        found = len(list((root / sub).iterdir()))
        if found != n:
            problems.append(f"{sub}/ holds {found} entries, expected {n}")
    return problems


@dataclass
class Run:
    files: int
    seconds: float
    samples: list[tuple[float, int, int]]  # (seconds since first drop, files done, RSS kB)
    start_rss: int
    problems: list[str]
    log: str

    @property
    def files_per_minute(self) -> float:
        return self.files / self.seconds * 60 if self.seconds else 0.0

    def rss_at(self, fraction: float) -> int:
        """RSS when ``fraction`` of the files were done."""
        for _, done, rss in self.samples:
            if done >= fraction * self.files:
                return rss
        return self.samples[-1][2] if self.samples else 0

    @property
    def peak_rss(self) -> int:
        return max([self.start_rss, *(s[2] for s in self.samples)])


def run_load(
    root: Path,
    p: Plan,
    *,
    burst: int = 50,
    pause: float = 1.0,
    timeout: float = 3600.0,
    sample_every: float = 0.5,
) -> Run:
    """Start a watcher on ``root``, drop the plan's files in bursts while it runs, wait until
    every file is done (or ``timeout``), stop it with SIGTERM, and account for every file."""
    log_path = root.parent / "watcher.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "csvbridge", "watch", str(root), "--poll"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while not (root / ".csvbridge" / "audit.jsonl").exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the watcher did not start: " + log_path.read_text())
            time.sleep(0.1)
        time.sleep(1.0)
        start_rss = rss_kb(proc.pid)
        samples: list[tuple[float, int, int]] = []
        t0 = time.monotonic()
        stop_sampling = threading.Event()

        def sample() -> None:
            while not stop_sampling.is_set():
                samples.append((time.monotonic() - t0, done_count(root), rss_kb(proc.pid)))
                stop_sampling.wait(sample_every)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        names = list(p.files)
        for i in range(0, len(names), burst):
            for name in names[i : i + burst]:
                drop(root, name, p.files[name])
            time.sleep(pause)
        end = t0 + timeout
        while done_count(root) < len(names) and time.monotonic() < end:
            if proc.poll() is not None:
                break
            time.sleep(0.2)
        seconds = time.monotonic() - t0
        stop_sampling.set()
        sampler.join()
        samples.append((seconds, done_count(root), rss_kb(proc.pid)))
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    problems = account(root, p.expect)
    return Run(len(names), seconds, samples, start_rss, problems, log_path.read_text())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--large-every", type=int, default=100, help="one file in N is large")
    ap.add_argument("--large-rows", type=int, default=50_000)
    ap.add_argument("--bad-every", type=int, default=25, help="one file in N is bad")
    ap.add_argument("--burst", type=int, default=50, help="files dropped at a time")
    ap.add_argument("--pause", type=float, default=1.0, help="seconds between bursts")
    ap.add_argument("--reports", default="[json, html, xlsx]")
    ap.add_argument("--keep", action="store_true", help="keep the watched folder")
    a = ap.parse_args()
    if not Path("/proc/self/status").exists():
        raise SystemExit("needs Linux (/proc) to sample memory")
    work = Path(tempfile.mkdtemp(prefix="watch-load-"))
    root = work / "books"
    make_root(root, a.reports)
    p = plan(a.files, a.large_every, a.large_rows, a.bad_every)
    size = sum(len(b) for b in p.files.values())
    large = sum(1 for b in p.files.values() if len(b) > 1_000_000)
    bad = sum(1 for w in p.expect.values() if w == "failed")
    print(
        f"files      {a.files} ({large} of {a.large_rows:,} rows, {bad} that must fail, "
        f"{size / 1e6:.1f} MB), dropped {a.burst} every {a.pause:g}s"
    )
    r = run_load(root, p, burst=a.burst, pause=a.pause)
    mb = 1024
    print(f"time       {r.seconds:.1f} s for {r.files} files: {r.files_per_minute:.0f} files/min")
    print(
        f"RSS        start {r.start_rss / mb:.0f} MB, middle {r.rss_at(0.5) / mb:.0f} MB, "
        f"end {r.rss_at(1.0) / mb:.0f} MB, peak {r.peak_rss / mb:.0f} MB"
    )
    quarters = [f"{q:.0%} {r.rss_at(q) / mb:.0f} MB" for q in (0.25, 0.5, 0.75, 1.0)]
    print("RSS by progress  " + ", ".join(quarters))
    print(f"lost       {len(r.problems)} problem(s)")
    for line in r.problems[:20]:
        print(f"           {line}")
    if a.keep:
        print(f"folder     {root}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    if r.problems:
        sys.exit(1)


if __name__ == "__main__":
    main()
