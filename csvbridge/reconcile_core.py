"""Shared pieces of reconcile's matching (see ``reconcile_match`` for the passes): the record
and match types, the search limits, text similarity, the 'nearest in date with an amount in
range' index, and the best-first one-to-one taker every pass uses."""

from __future__ import annotations

import bisect
import itertools
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz, utils

from .money import exponent_of, format_one

LEFT, RIGHT = 0, 1
SIDES = ("left", "right")

MAX_PAIR_CANDIDATES = 25  # partners one record considers in passes 1, 2 and 3a
MAX_GROUP_SIZE = 8  # records in one subset-search group
MAX_SUBSET_CANDIDATES = 24  # nearest records a subset search looks at
SUBSET_STEPS_PER_RECORD = 20_000
SUBSET_STEPS_TOTAL = 2_000_000

PASS_NAMES = {1: "exact-key", 2: "amount-date", 3: "many-to-one"}


@dataclass(frozen=True, slots=True)
class Rec:
    """One canonical transaction, as matching sees it."""

    side: int  # LEFT or RIGHT
    pos: int  # index among the side's records (file order)
    line: int  # physical line in the source file
    day: int  # days since 1970-01-01
    amount: int  # minor units
    currency: str
    text: str  # description, payee and reference, for similarity
    keys: tuple[str, ...] | None  # the key fields' values; None when any is empty
    group: str | None  # the group_by field's value, or None


@dataclass(frozen=True)
class Settings:
    """What counts as a match."""

    date_window_days: int = 3
    amount_tolerance_minor: int = 0
    text_threshold: float = 0.0
    keys: tuple[tuple[str, str], ...] = (("reference", "reference"),)  # (left, right) fields
    group_by: str | None = None


@dataclass
class Match:
    """Records of the left side matched to records of the right side."""

    pass_no: int
    method: str
    left: tuple[int, ...]  # positions, ascending
    right: tuple[int, ...]
    score: float
    reason: str
    currency: str
    amount_delta: int  # right total - left total, minor units
    date_delta_days: int  # right date - left date (a group's date is its latest)
    id: str = ""


@dataclass
class Outcome:
    """What matching found: the matches (with ids, in report order), what is left on each
    side (positions), why each of those found no partner, and counters of the search."""

    matches: list[Match]
    unmatched: tuple[list[int], list[int]]
    reasons: tuple[dict[int, str], dict[int, str]]
    stats: dict[str, int] = field(default_factory=dict)


# -- small helpers --------------------------------------------------------------------------
def similarity(a: str, b: str) -> float:
    """Text similarity 0–100 (rapidfuzz token_set_ratio, case and punctuation ignored),
    rounded to one decimal so that ties do not hang on the last bits of a float."""
    if not a or not b:
        return 0.0
    return round(fuzz.token_set_ratio(a, b, processor=utils.default_process), 1)


def money(minor: int, currency: str) -> str:
    """``12345, 'USD'`` → ``123.45``."""
    return format_one(minor, exponent_of(currency) or 0)


def closeness(delta: int, limit: int) -> float:
    return max(0.0, 1.0 - abs(delta) / (limit + 1))


def score_of(parts: Iterable[float]) -> float:
    p = list(parts)
    return round(100.0 * sum(p) / len(p), 1)


def days_text(n: int) -> str:
    return f"{n} day" if abs(n) == 1 else f"{n} days"


def when_text(delta: int) -> str:
    """Right's date relative to left's, in words."""
    if delta == 0:
        return "same day"
    return f"right dated {days_text(abs(delta))} {'later' if delta > 0 else 'earlier'}"


def lines_text(recs: Sequence[Rec]) -> str:
    return ", ".join(str(r.line) for r in recs)


class Index:
    """Records of one side in buckets (currency, amount[, extra]), each sorted by (day, pos),
    for 'nearest in date with an amount in range' look-ups."""

    def __init__(self, recs: Iterable[Rec], extra: Callable[[Rec], Hashable] | None = None) -> None:
        self.extra = extra
        buckets: dict[tuple[Hashable, ...], list[Rec]] = defaultdict(list)
        amounts: dict[tuple[Hashable, ...], set[int]] = defaultdict(set)
        for r in recs:
            group = (r.currency, *self._extra(r))
            buckets[(*group, r.amount)].append(r)
            amounts[group].add(r.amount)
        self.recs: dict[tuple[Hashable, ...], list[Rec]] = {}
        self.days: dict[tuple[Hashable, ...], list[int]] = {}
        for k, rs in buckets.items():
            rs.sort(key=lambda r: (r.day, r.pos))
            self.recs[k] = rs
            self.days[k] = [r.day for r in rs]
        self.amounts = {k: sorted(v) for k, v in amounts.items()}

    def _extra(self, r: Rec | None) -> tuple[Hashable, ...]:
        return () if self.extra is None or r is None else (self.extra(r),)

    def near(
        self,
        currency: str,
        amount: int,
        tolerance: int,
        day: int,
        window: int | None,
        k: int,
        like: Rec | None = None,
    ) -> tuple[list[Rec], int]:
        """Up to ``k`` records with the currency (and ``like``'s extra key), an amount within
        ``tolerance`` and a date within ``window`` days of ``day`` (None: any date), nearest
        in date first; and how many qualified in all."""
        group = (currency, *self._extra(like))
        amounts = self.amounts.get(group, [])
        lo_a = bisect.bisect_left(amounts, amount - tolerance)
        hi_a = bisect.bisect_right(amounts, amount + tolerance)
        found: list[Rec] = []
        total = 0
        for a in amounts[lo_a:hi_a]:
            key = (*group, a)
            days, recs = self.days[key], self.recs[key]
            lo = 0 if window is None else bisect.bisect_left(days, day - window)
            hi = len(days) if window is None else bisect.bisect_right(days, day + window)
            total += hi - lo
            found += _nearest(days, recs, day, lo, hi, k)
        found.sort(key=lambda r: (abs(r.day - day), r.pos))
        return found[:k], total


def _nearest(days: list[int], recs: list[Rec], day: int, lo: int, hi: int, k: int) -> list[Rec]:
    """Up to ``k`` of ``recs[lo:hi]`` (sorted by day) nearest to ``day``, walking outwards."""
    start = min(max(bisect.bisect_left(days, day, lo, hi), lo), hi)
    j, i = start - 1, start
    out: list[Rec] = []
    while len(out) < k and (j >= lo or i < hi):
        if i < hi and (j < lo or days[i] - day <= day - days[j]):
            out.append(recs[i])
            i += 1
        else:
            out.append(recs[j])
            j -= 1
    return out


@dataclass(slots=True)
class Proposal:
    """A candidate match: its rank (smaller is better), its records, and what the pass needs
    to describe it (``info``)."""

    rank: tuple[float, ...]
    left: tuple[Rec, ...]
    right: tuple[Rec, ...]
    info: tuple[Any, ...] = ()

    def order(self) -> tuple[tuple[float, ...], tuple[int, ...], tuple[int, ...]]:
        return (self.rank, tuple(r.pos for r in self.left), tuple(r.pos for r in self.right))


class Taken:
    """Which positions of each side are in a match."""

    def __init__(self) -> None:
        self.sides: tuple[set[int], set[int]] = (set(), set())

    def free(self, r: Rec) -> bool:
        return r.pos not in self.sides[r.side]

    def all_free(self, recs: Iterable[Rec]) -> bool:
        return all(self.free(r) for r in recs)

    def take(self, recs: Iterable[Rec]) -> None:
        for r in recs:
            self.sides[r.side].add(r.pos)


def take_best(
    proposals: list[Proposal], taken: Taken, build: Callable[[Proposal, list[str]], Match]
) -> list[Match]:
    """Accept proposals best first (rank, then file order) while all their records are free.
    A proposal accepted while an equally ranked rival for one of its records was still free
    says so: the choice between them was made by file order alone. ``build`` makes the Match
    of an accepted proposal, given those rivals."""
    proposals.sort(key=Proposal.order)
    out: list[Match] = []
    for _, run_iter in itertools.groupby(proposals, key=lambda p: p.rank):
        run = list(run_iter)
        by_rec: dict[tuple[int, int], list[Proposal]] = defaultdict(list)
        if len(run) > 1:
            for p in run:
                for r in (*p.left, *p.right):
                    by_rec[(r.side, r.pos)].append(p)
        for p in run:
            members = (*p.left, *p.right)
            if not taken.all_free(members):
                continue
            rivals: list[str] = []
            for r in members:
                for q in by_rec.get((r.side, r.pos), []):
                    if q is p or not taken.all_free((*q.left, *q.right)):
                        continue
                    other = [x for x in (*q.left, *q.right) if x.side != r.side]
                    note = f"{SIDES[other[0].side]} line {lines_text(other)}"
                    if note not in rivals:
                        rivals.append(note)
            taken.take(members)
            out.append(build(p, rivals))
    return out


def rival_text(rivals: list[str]) -> str:
    if not rivals:
        return ""
    return (
        "; as good a partner was "
        + " and ".join(rivals)
        + " (chosen by file order: check this pair by eye)"
    )
