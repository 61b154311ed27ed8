"""Matching for ``reconcile``: pure functions over two lists of records, no I/O.

Three passes, each over what the passes before it left unmatched; no record is ever in two
matches. Every choice is made in a fixed order, so the same records give the same matches.

1. **exact-key** — the key fields (``reference`` by default, or pairs such as
   ``id=reference``) are equal and not empty, the currency is the same and the amount is
   exactly equal. The date does not have to be in the window. Pairs are taken closest date
   first.
2. **amount-date** — same currency, amount equal within ``amount_tolerance_minor``, dates at
   most ``date_window_days`` apart. Pairs are taken best first: the smallest amount
   difference, then the smallest date difference, then the most similar text (description,
   payee and reference; rapidfuzz ``token_set_ratio``, 0–100, rounded to one decimal), then
   file order. A pair whose text similarity is below ``text_threshold`` is not a candidate
   (the default, 0, lets text only break ties). Each record considers at most
   ``MAX_PAIR_CANDIDATES`` partners, the nearest in date.
3. **many-to-one** — one record equals the sum of several on the other side:

   a. *by group key*: when ``group_by`` names a field (say ``reference`` holding a payout id
      on each charge), records of one side sharing a value form a group (two or more, one
      currency); a group matches one record of the other side whose amount equals the
      group's sum (within the tolerance) and whose date is within the window of the group's
      latest date. No size limit. Taken best first like pass 2.
   b. *by subset search*: for what is still unmatched, each record — biggest amount first,
      then date, left before right, file order — looks for 2 to ``MAX_GROUP_SIZE`` records on
      the other side, each within the date window, whose amounts add up to its own (within
      the tolerance). Only the ``MAX_SUBSET_CANDIDATES`` nearest in date are searched; the
      smallest group is preferred, then the first in order of amount. The search is a
      depth-first enumeration pruned by bounds, and its time is bounded by counting steps —
      ``SUBSET_STEPS_PER_RECORD`` per record and ``SUBSET_STEPS_TOTAL`` per run — never by
      the clock, so a slower machine finds exactly the same matches. A record whose search
      was cut short says so in its reason.

Each match carries its pass, a score and a reason in words. The score (0–100) summarises how
closely the two sides agree: the mean of amount closeness (1 when equal, falling to 0 at the
tolerance + 1), date closeness (1 on the same day, falling to 0 at the window + 1 days; for a
subset-search group, its farthest member) and, except for subset search, text agreement (1
for equal keys or a shared group key; the text similarity in pass 2). It is for people to
sort and filter by; the order of choice within a pass is the one above.
"""

from __future__ import annotations

from collections import defaultdict

from .reconcile_core import (
    LEFT,
    MAX_PAIR_CANDIDATES,
    PASS_NAMES,
    RIGHT,
    SIDES,
    Index,
    Match,
    Outcome,
    Proposal,
    Rec,
    Settings,
    Taken,
    closeness,
    days_text,
    money,
    rival_text,
    score_of,
    similarity,
    take_best,
    when_text,
)
from .reconcile_groups import Search, pass_group_key, pass_subset

__all__ = ["Match", "Outcome", "Rec", "Settings", "match_records"]


# -- the passes -----------------------------------------------------------------------------
def _pass_exact(left: list[Rec], right: list[Rec], s: Settings, taken: Taken) -> list[Match]:
    if not s.keys:
        return []
    index = Index((r for r in right if r.keys is not None and taken.free(r)), lambda r: r.keys)
    names = ", ".join(a if a == b else f"left {a} = right {b}" for a, b in s.keys)
    proposals: list[Proposal] = []
    for lr in left:
        if lr.keys is None or not taken.free(lr):
            continue
        found, _ = index.near(lr.currency, lr.amount, 0, lr.day, None, MAX_PAIR_CANDIDATES, lr)
        proposals += [Proposal((abs(rr.day - lr.day),), (lr,), (rr,)) for rr in found]

    def build(p: Proposal, rivals: list[str]) -> Match:
        (lr,), (rr,) = p.left, p.right
        delta = rr.day - lr.day
        return Match(
            pass_no=1,
            method=PASS_NAMES[1],
            left=(lr.pos,),
            right=(rr.pos,),
            score=score_of([1.0, closeness(delta, s.date_window_days), 1.0]),
            reason=f"same {names} ({' / '.join(lr.keys or ())}) and amount "
            f"{money(lr.amount, lr.currency)}; {when_text(delta)}" + rival_text(rivals),
            currency=lr.currency,
            amount_delta=0,
            date_delta_days=delta,
        )

    return take_best(proposals, taken, build)


def _pass_amount_date(left: list[Rec], right: list[Rec], s: Settings, taken: Taken) -> list[Match]:
    index = Index(r for r in right if taken.free(r))
    tol, window = s.amount_tolerance_minor, s.date_window_days
    proposals: list[Proposal] = []
    for lr in left:
        if not taken.free(lr):
            continue
        found, _ = index.near(lr.currency, lr.amount, tol, lr.day, window, MAX_PAIR_CANDIDATES)
        for rr in found:
            text = similarity(lr.text, rr.text)
            if text >= s.text_threshold:
                rank = (abs(rr.amount - lr.amount), abs(rr.day - lr.day), -text)
                proposals.append(Proposal(rank, (lr,), (rr,), (text,)))

    def build(p: Proposal, rivals: list[str]) -> Match:
        (lr,), (rr,), (text,) = p.left, p.right, p.info
        da, dd = rr.amount - lr.amount, rr.day - lr.day
        amount = (
            f"amount {money(lr.amount, lr.currency)} equal"
            if da == 0
            else f"amounts differ by {money(da, lr.currency)} (tolerance {money(tol, lr.currency)})"
        )
        return Match(
            pass_no=2,
            method=PASS_NAMES[2],
            left=(lr.pos,),
            right=(rr.pos,),
            score=score_of([closeness(da, tol), closeness(dd, window), text / 100.0]),
            reason=f"{amount}; {when_text(dd)} (window ±{days_text(window)}); "
            f"text similarity {text:g}%" + rival_text(rivals),
            currency=lr.currency,
            amount_delta=da,
            date_delta_days=dd,
        )

    return take_best(proposals, taken, build)


# -- reasons for what is left ---------------------------------------------------------------
def _why(
    r: Rec,
    s: Settings,
    others: Index,
    other_keys: dict[tuple[str, tuple[str, ...]], list[Rec]],
    match_of: dict[tuple[int, int], str],
    search: Search,
) -> str:
    other = SIDES[1 - r.side]
    parts: list[str] = []
    if r.keys is not None:
        for o in other_keys.get((r.currency, r.keys), []):
            if (o.side, o.pos) in match_of:
                continue
            diff = money((o.amount - r.amount) * (1 if r.side == LEFT else -1), r.currency)
            parts.append(
                f"{other} line {o.line} has the same {' / '.join(b for _, b in s.keys)} "
                f"({' / '.join(r.keys)}) but amount {money(o.amount, r.currency)} "
                f"(right minus left: {diff})"
            )
    tol, window = s.amount_tolerance_minor, s.date_window_days
    amount = money(r.amount, r.currency)
    close, _ = others.near(r.currency, r.amount, tol, r.day, window, MAX_PAIR_CANDIDATES)
    free = [o for o in close if (o.side, o.pos) not in match_of]
    if free:
        o = free[0]
        text = similarity(r.text, o.text)
        parts.append(
            f"{other} line {o.line} has amount {money(o.amount, r.currency)} within the "
            f"window, but their text similarity ({text:g}%) is below the threshold "
            f"({s.text_threshold:g}%)"
            if text < s.text_threshold
            else f"{other} line {o.line} has amount {money(o.amount, r.currency)} within the "
            f"window but was not among the {MAX_PAIR_CANDIDATES} nearest candidates"
        )
    elif close:
        taken_by = ", ".join(f"line {o.line} (in {match_of[(o.side, o.pos)]})" for o in close[:3])
        more = f" and {len(close) - 3} more" if len(close) > 3 else ""
        parts.append(
            f"every {other} record with amount {amount} within ±{days_text(window)} is matched "
            f"already: {taken_by}{more}"
        )
    else:
        found, _ = others.near(r.currency, r.amount, tol, r.day, None, 1)
        if found:
            o = found[0]
            dd = o.day - r.day
            parts.append(
                f"the nearest {other} record with amount {money(o.amount, r.currency)} is line "
                f"{o.line}, {days_text(abs(dd))} {'later' if dd > 0 else 'earlier'} (the window "
                f"is ±{days_text(window)})"
            )
        else:
            same = "this amount" if not tol else f"an amount within {money(tol, r.currency)}"
            parts.append(f"no {other} record in {r.currency} has {same} ({amount})")
    note = search.notes.get((r.side, r.pos))
    if note:
        parts.append(note)
    return "; ".join(parts)


# -- the whole match ------------------------------------------------------------------------
def match_records(left: list[Rec], right: list[Rec], s: Settings) -> Outcome:
    """Run the passes over ``left`` and ``right`` (each in file order, ``pos`` = index)."""
    sides = (left, right)
    taken = Taken()
    search = Search()
    matches = _pass_exact(left, right, s, taken)
    matches += _pass_amount_date(left, right, s, taken)
    matches += pass_group_key(sides, s, taken)
    matches += pass_subset(sides, s, taken, search)
    matches.sort(key=lambda m: (m.pass_no, m.left, m.right))
    width = max(3, len(str(len(matches))))
    match_of: dict[tuple[int, int], str] = {}
    for i, m in enumerate(matches, start=1):
        m.id = f"M{i:0{width}d}"
        for p in m.left:
            match_of[(LEFT, p)] = m.id
        for p in m.right:
            match_of[(RIGHT, p)] = m.id
    unmatched = (
        [r.pos for r in left if taken.free(r)],
        [r.pos for r in right if taken.free(r)],
    )
    reasons: tuple[dict[int, str], dict[int, str]] = ({}, {})
    for side in (LEFT, RIGHT):
        if not unmatched[side]:
            continue
        others = sides[1 - side]
        index = Index(others)
        keyed: dict[tuple[str, tuple[str, ...]], list[Rec]] = defaultdict(list)
        for o in others:
            if o.keys is not None:
                keyed[(o.currency, o.keys)].append(o)
        for pos in unmatched[side]:
            reasons[side][pos] = _why(sides[side][pos], s, index, keyed, match_of, search)
    stats = {
        "subset_searches": search.searched,
        "subset_steps": search.steps,
        "subset_searches_cut": search.cut,
        "subset_searches_not_run": search.not_run,
    }
    return Outcome(matches=matches, unmatched=unmatched, reasons=reasons, stats=stats)
