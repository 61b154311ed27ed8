"""Pass 3 of reconcile's matching, many-to-one: groups sharing a key (a payout id on each
charge), then a bounded subset-sum search for what is left. See ``reconcile_match``."""

from __future__ import annotations

import bisect
import itertools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from .reconcile_core import (
    LEFT,
    MAX_GROUP_SIZE,
    MAX_PAIR_CANDIDATES,
    MAX_SUBSET_CANDIDATES,
    PASS_NAMES,
    RIGHT,
    SIDES,
    SUBSET_STEPS_PER_RECORD,
    SUBSET_STEPS_TOTAL,
    Index,
    Match,
    Proposal,
    Rec,
    Settings,
    Taken,
    closeness,
    days_text,
    lines_text,
    money,
    rival_text,
    score_of,
    similarity,
    take_best,
)


def _groups(recs: list[Rec], taken: Taken) -> list[tuple[str, list[Rec]]]:
    """Free records sharing a group value: two or more, one currency, in file order."""
    by: dict[str, list[Rec]] = defaultdict(list)
    for r in recs:
        if r.group and taken.free(r):
            by[r.group].append(r)
    out = [
        (g, sorted(rs, key=lambda r: r.pos))
        for g, rs in by.items()
        if len(rs) >= 2 and len({r.currency for r in rs}) == 1
    ]
    out.sort(key=lambda gr: gr[1][0].pos)
    return out


def _group_match(
    single: Rec,
    members: Sequence[Rec],
    s: Settings,
    pass_no: int,
    how: str,
    keyed: bool,
) -> Match:
    """The Match for ``members`` (one side) adding up to ``single`` (the other side)."""
    total = sum(r.amount for r in members)
    latest = max(r.day for r in members)
    cur = single.currency
    lefts: tuple[Rec, ...]
    rights: tuple[Rec, ...]
    if single.side == RIGHT:
        lefts, rights = tuple(members), (single,)
        da, dd = single.amount - total, single.day - latest
    else:
        lefts, rights = (single,), tuple(members)
        da, dd = total - single.amount, latest - single.day
    many, one = SIDES[members[0].side], SIDES[single.side]
    dd_one = single.day - latest
    when = (
        "same day as the latest of them"
        if dd_one == 0
        else f"{one} dated {days_text(abs(dd_one))} {'after' if dd_one > 0 else 'before'} the "
        "latest of them"
    )
    diff = "" if da == 0 else f" (differs by {money(da, cur)}, within the tolerance)"
    return Match(
        pass_no=pass_no,
        method=PASS_NAMES[pass_no],
        left=tuple(r.pos for r in lefts),
        right=tuple(r.pos for r in rights),
        score=score_of(
            [closeness(da, s.amount_tolerance_minor), closeness(dd_one, s.date_window_days), 1.0]
            if keyed
            else [
                closeness(da, s.amount_tolerance_minor),
                min(closeness(single.day - r.day, s.date_window_days) for r in members),
            ]
        ),
        reason=f"{len(members)} {many} records {how} (lines {lines_text(members)}) add up to "
        f"{money(total, cur)}, the amount of {one} line {single.line}{diff}; {when}",
        currency=cur,
        amount_delta=da,
        date_delta_days=dd,
    )


def pass_group_key(sides: tuple[list[Rec], list[Rec]], s: Settings, taken: Taken) -> list[Match]:
    if not s.group_by:
        return []
    proposals: list[Proposal] = []
    window, tol = s.date_window_days, s.amount_tolerance_minor
    for many in (LEFT, RIGHT):
        groups = _groups(sides[many], taken)
        if not groups:
            continue
        index = Index(r for r in sides[1 - many] if taken.free(r))
        for value, members in groups:
            total = sum(r.amount for r in members)
            latest = max(r.day for r in members)
            cur = members[0].currency
            found, _ = index.near(cur, total, tol, latest, window, MAX_PAIR_CANDIDATES)
            for single in found:
                text = similarity(value, single.text)
                rank = (abs(single.amount - total), abs(single.day - latest), -text, many)
                lefts = tuple(members) if many == LEFT else (single,)
                rights = (single,) if many == LEFT else tuple(members)
                proposals.append(Proposal(rank, lefts, rights, (value, many)))

    def build(p: Proposal, rivals: list[str]) -> Match:
        value, many = p.info
        members, (single,) = (p.left, p.right) if many == LEFT else (p.right, p.left)
        m = _group_match(single, members, s, 3, f"sharing {s.group_by} {value}", keyed=True)
        m.reason += rival_text(rivals)
        return m

    return take_best(proposals, taken, build)


@dataclass
class Search:
    """Step counting for the subset search."""

    total_left: int = SUBSET_STEPS_TOTAL
    steps: int = 0
    searched: int = 0
    cut: int = 0  # searches stopped at the per-record limit
    not_run: int = 0  # records not searched: the run's budget was used up
    notes: dict[tuple[int, int], str] = field(default_factory=dict)


class OutOfSteps(Exception):
    pass


def subset_sum(
    values: list[int], lo: int, hi: int, max_size: int, budget: int
) -> tuple[list[int] | None, int]:
    """Indices (into ``values``, sorted ascending) of the smallest group of 2..max_size whose
    sum is in [lo, hi], the first in lexicographic order; and the steps used. Raises
    OutOfSteps(steps) past ``budget``."""
    n = len(values)
    pre = [0, *itertools.accumulate(values)]
    steps = 0
    chosen: list[int] = []

    def dfs(start: int, r: int, acc: int) -> bool:
        nonlocal steps
        if r == 0:
            return lo <= acc <= hi
        for i in range(start, n - r + 1):
            steps += 1
            if steps > budget:
                raise OutOfSteps(steps)
            new = acc + values[i]
            rest = r - 1
            if new + pre[i + 1 + rest] - pre[i + 1] > hi:
                break  # the smallest completion is already too big, and grows with i
            if new + pre[n] - pre[n - rest] < lo:
                continue  # the largest completion is too small
            chosen.append(i)
            if dfs(i + 1, rest, new):
                return True
            chosen.pop()
        return False

    for size in range(2, min(max_size, n) + 1):
        if dfs(0, size, 0):
            return chosen, steps
    return None, steps


def pass_subset(
    sides: tuple[list[Rec], list[Rec]], s: Settings, taken: Taken, search: Search
) -> list[Match]:
    window, tol = s.date_window_days, s.amount_tolerance_minor
    by_day: list[dict[str, tuple[list[int], list[Rec]]]] = []
    for recs in sides:
        per: dict[str, list[Rec]] = defaultdict(list)
        for r in recs:
            if taken.free(r):
                per[r.currency].append(r)
        sorted_per: dict[str, tuple[list[int], list[Rec]]] = {}
        for cur, rs in per.items():
            rs.sort(key=lambda r: (r.day, r.pos))
            sorted_per[cur] = ([r.day for r in rs], rs)
        by_day.append(sorted_per)
    singles = sorted(
        (r for recs in sides for r in recs if taken.free(r)),
        key=lambda r: (-abs(r.amount), r.day, r.side, r.pos),
    )
    out: list[Match] = []
    for single in singles:
        if not taken.free(single):
            continue
        days, recs = by_day[1 - single.side].get(single.currency, ([], []))
        lo = bisect.bisect_left(days, single.day - window)
        hi = bisect.bisect_right(days, single.day + window)
        cands = [r for r in recs[lo:hi] if taken.free(r)]
        where = (single.side, single.pos)
        other = SIDES[1 - single.side]
        if len(cands) < 2:
            search.notes[where] = (
                f"fewer than 2 unmatched {other} records within ±{days_text(window)}, so no "
                "group could add up to it"
            )
            continue
        if search.total_left <= 0:
            search.not_run += 1
            search.notes[where] = "no subset search: the run's search budget was used up"
            continue
        within = f"±{days_text(window)}"
        searched = f"{len(cands)} {other} records within {within}"
        how = f"within {within}"
        if len(cands) > MAX_SUBSET_CANDIDATES:
            cands.sort(key=lambda r: (abs(r.day - single.day), r.pos))
            searched = f"the {MAX_SUBSET_CANDIDATES} nearest of {len(cands)} {other} records "
            searched += f"within {within}"
            how += f" (among the {MAX_SUBSET_CANDIDATES} nearest of {len(cands)})"
            cands = cands[:MAX_SUBSET_CANDIDATES]
        cands.sort(key=lambda r: (r.amount, r.day, r.pos))
        budget = min(SUBSET_STEPS_PER_RECORD, search.total_left)
        search.searched += 1
        try:
            idx, steps = subset_sum(
                [r.amount for r in cands],
                single.amount - tol,
                single.amount + tol,
                MAX_GROUP_SIZE,
                budget,
            )
        except OutOfSteps:
            steps, idx = budget, None
            search.cut += 1
            search.notes[where] = (
                f"the subset search over {searched} stopped at its limit of {budget:,} steps "
                "without finding a group that adds up to it"
            )
        search.steps += steps
        search.total_left -= steps
        if idx is None:
            some = (
                f"no combination of the {searched}"
                if len(cands) <= MAX_GROUP_SIZE
                else f"no group of 2 to {MAX_GROUP_SIZE} among {searched}"
            )
            search.notes.setdefault(where, f"{some} adds up to it")
            continue
        members = sorted((cands[i] for i in idx), key=lambda r: r.pos)
        taken.take((single, *members))
        out.append(_group_match(single, members, s, 3, how, keyed=False))
    return out
