"""What the rules that carry state across chunks cost: convert one generated statement with the
benchmark mapping, then with a unique: check, a fill_down, and date-times moved to a time zone
added. Prints seconds per variant and the ratio to the plain mapping, measured in one run
(timings on a shared machine are noisy: read the ratios; each is the best of --rounds).

    python benchmarks/bench_mapping_rules.py --rows 200000
"""

from __future__ import annotations

import argparse
import csv
import random
import tempfile
import time
from pathlib import Path

from csvbridge import convert

BASE = (Path(__file__).parent / "bench_mapping.yaml").read_text(encoding="utf-8")
BASE = BASE.replace("dates: DD/MM/YYYY", "dates: [DD/MM/YYYY]").replace(
    "  date: Date\n", "  date: Date\n  id: Id\n"
)
VARIANTS = {
    "plain": BASE,
    "unique id": BASE + "checks:\n  - name: one id\n    unique: id\n",
    "fill_down": BASE + "fill_down:\n  columns: [Category]\n  within: Reference\n",
    "time zone": BASE.replace("dates: [DD/MM/YYYY]", "dates: [DD/MM/YYYY HH:mm:ss ZZ]")
    + "timezone: Europe/London\n",
}


def _statement(path: Path, rows: int, stamps: bool) -> None:
    rng = random.Random(1)
    balance = 0
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(
            ["Date", "Id", "Description", "Reference", "Debit", "Credit", "Balance", "Category"]
        )
        for i in range(rows):
            pence = rng.randint(1, 99_999)
            debit = rng.random() < 0.7
            balance += -pence if debit else pence
            day = 1 + i * 28 // rows
            date = f"{day:02d}/03/2025"
            if stamps:
                date += f" {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00 -0500"
            amount = f"{pence // 100}.{pence % 100:02d}"
            w.writerow(
                [
                    date,
                    f"T{i}",
                    f"PAYMENT {rng.randint(1, 500)}",
                    f"REF{i // 3}",
                    amount if debit else "",
                    "" if debit else amount,
                    f"{'-' if balance < 0 else ''}{abs(balance) // 100}.{abs(balance) % 100:02d}",
                    "groceries" if i % 3 == 0 else "",
                ]
            )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        plain, stamped = d / "plain.csv", d / "stamped.csv"
        _statement(plain, args.rows, False)
        _statement(stamped, args.rows, True)
        times: dict[str, float] = {}
        for _ in range(args.rounds):  # interleaved; the best of the rounds counts
            for name, text in VARIANTS.items():
                m = d / f"{name.replace(' ', '_')}.yaml"
                m.write_text(text.replace("policy: skip", "policy: keep"), encoding="utf-8")
                src = stamped if name == "time zone" else plain
                start = time.perf_counter()
                convert([src], m, ["csv"], d / "out", history=False)
                secs = time.perf_counter() - start
                times[name] = min(times.get(name, secs), secs)
        for name, secs in times.items():
            print(f"{name:10s} {secs:7.2f} s  x{secs / times['plain']:.2f}")


if __name__ == "__main__":
    main()
