"""The ledger of counts and money per stage, and the tie-out that proves conservation:
every row read ends written, rejected, filtered or held back as a duplicate — by count and by
amount in each currency. Tallies add up, so chunks (or machines) can be merged."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from ..money import exponent_of, format_one

STAGES = ("read", "rejected", "filtered", "duplicate")
OUTCOMES = ("written", "rejected", "filtered", "duplicate")


@dataclass
class Tally:
    """Rows and money in one stage. ``unknown`` counts rows whose amount could not be read
    (they cannot be totalled, so they are counted apart and must balance too)."""

    count: int = 0
    totals: Counter[str] = field(default_factory=Counter)
    unknown: int = 0

    def add(
        self,
        mask: npt.NDArray[np.bool_],
        amounts: npt.NDArray[np.int64] | None,
        known: npt.NDArray[np.bool_] | None,
        currency: pa.Array | None,
    ) -> None:
        """Count the rows in ``mask``; total their amounts per currency where ``known``."""
        self.count += int(mask.sum())
        if amounts is None or known is None or currency is None:
            return
        counted = mask & known
        self.unknown += int((mask & ~known).sum())
        if not counted.any():
            return
        cur = pc.fill_null(currency, "")
        sel = pc.filter(cur, pa.array(counted))
        amt = amounts[counted]
        codes = pc.unique(sel).to_pylist()
        if len(codes) == 1:
            self.totals[codes[0]] += exact_sum(amt)
            return
        sel_np = np.asarray(sel.to_numpy(zero_copy_only=False), dtype=object)
        for code in codes:
            self.totals[code] += exact_sum(amt[sel_np == code])

    def merge(self, other: Tally) -> None:
        """Add another tally into this one."""
        self.count += other.count
        self.totals.update(other.totals)
        self.unknown += other.unknown

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.count,
            "amounts": {c: _fmt(c, v) for c, v in sorted(self.totals.items())},
            "rows_without_amount": self.unknown,
        }


def exact_sum(amounts: npt.NDArray[np.int64]) -> int:
    """The exact sum of minor units: int64 while it cannot overflow, Python integers (no
    limit) when it could — a total must never wrap around."""
    if not len(amounts):
        return 0
    biggest = int(np.abs(amounts).max())
    if biggest * len(amounts) < 2**62:
        return int(amounts.sum(dtype=np.int64))
    return sum(int(a) for a in amounts.tolist())


def _fmt(currency: str, minor: int) -> str:
    return format_one(minor, exponent_of(currency) or 0)


@dataclass
class Ledger:
    """Tallies for each stage, each target written, each filter rule and each reject rule."""

    stages: dict[str, Tally] = field(default_factory=lambda: {s: Tally() for s in STAGES})
    written: dict[str, Tally] = field(default_factory=dict)
    target_rejected: dict[str, Tally] = field(default_factory=dict)  # refused by one writer
    filtered_by_rule: dict[str, Tally] = field(default_factory=dict)
    rejected_by_rule: Counter[str] = field(default_factory=Counter)
    duplicates_flagged: int = 0
    unit: str = "rows"  # "records" when a mapping splits rows into several records

    def merge(self, other: Ledger) -> None:
        """Add another ledger (another chunk's, another worker's) into this one."""
        for s in STAGES:
            self.stages[s].merge(other.stages[s])
        for target, t in other.written.items():
            self.written.setdefault(target, Tally()).merge(t)
        for target, t in other.target_rejected.items():
            self.target_rejected.setdefault(target, Tally()).merge(t)
        for name, t in other.filtered_by_rule.items():
            self.filtered_by_rule.setdefault(name, Tally()).merge(t)
        self.rejected_by_rule.update(other.rejected_by_rule)
        self.duplicates_flagged += other.duplicates_flagged

    def outcome(self, target: str, stage: str) -> Tally:
        """The tally of one outcome as seen from one target: rows the target's writer refused
        count as rejected for that target only."""
        if stage == "written":
            return self.written.get(target, Tally())
        if stage == "rejected" and target in self.target_rejected:
            both = Tally()
            both.merge(self.stages["rejected"])
            both.merge(self.target_rejected[target])
            return both
        return self.stages[stage]

    def tie_out(self, target: str) -> TieOut:
        """Check read = written + rejected + filtered + duplicate for one target, by count and
        by money in each currency."""
        read = self.stages["read"]
        out = Tally()
        for s in OUTCOMES:
            out.merge(self.outcome(target, s))
        problems = []
        if read.count != out.count:
            problems.append(f"rows: read {read.count}, accounted for {out.count}")
        if read.unknown != out.unknown:
            problems.append(
                f"rows without amount: read {read.unknown}, accounted for {out.unknown}"
            )
        for cur in sorted(set(read.totals) | set(out.totals)):
            if read.totals[cur] != out.totals[cur]:
                problems.append(
                    f"{cur}: read {_fmt(cur, read.totals[cur])}, "
                    f"accounted for {_fmt(cur, out.totals[cur])}"
                )
        return TieOut(target=target, ok=not problems, problems=problems, ledger=self)

    def as_dict(self) -> dict[str, Any]:
        return {
            "stages": {s: self.stages[s].as_dict() for s in STAGES},
            "written": {k: v.as_dict() for k, v in sorted(self.written.items())},
            "rejected_by_target": {
                k: v.as_dict() for k, v in sorted(self.target_rejected.items()) if v.count
            },
            "filtered_by_rule": {k: v.as_dict() for k, v in sorted(self.filtered_by_rule.items())},
            "rejected_by_rule": dict(sorted(self.rejected_by_rule.items())),
            "duplicates_flagged": self.duplicates_flagged,
        }


@dataclass
class TieOut:
    """The conservation check's verdict for one target."""

    target: str
    ok: bool
    problems: list[str]
    ledger: Ledger

    def equation(self) -> list[str]:
        """Human lines: read = written + rejected + filtered + duplicate, per measure."""
        read = self.ledger.stages["read"]
        outs = [self.ledger.outcome(self.target, s) for s in OUTCOMES]
        lines = [
            "{}: {} = {} written + {} rejected + {} filtered + {} duplicate".format(
                self.ledger.unit, read.count, *(t.count for t in outs)
            )
        ]
        for cur in sorted(set(read.totals).union(*(t.totals for t in outs))):
            parts = [_fmt(cur, t.totals[cur]) for t in outs]
            lines.append(
                f"{cur}: {_fmt(cur, read.totals[cur])} = {parts[0]} written + "
                f"{parts[1]} rejected + {parts[2]} filtered + {parts[3]} duplicate"
            )
        if read.unknown:
            lines.append(
                "rows with no readable amount: {} = {} written + {} rejected + {} filtered + "
                "{} duplicate".format(read.unknown, *(t.unknown for t in outs))
            )
        return lines

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "balanced": self.ok,
            "equation": self.equation(),
            "read": self.ledger.stages["read"].as_dict(),
            "outcomes": {s: self.ledger.outcome(self.target, s).as_dict() for s in OUTCOMES},
            "problems": self.problems,
        }
