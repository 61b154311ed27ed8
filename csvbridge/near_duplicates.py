"""Possible duplicates: a transaction that is probably another file's record again, though not
identically — the same amount in the same currency (and account, when mapped), dated within
a few days either way, with a description, payee or reference that reads alike (a pending
line and its posted twin, a late-posting line dated earlier in the next download).

Records are never matched within their own file (identical rows in one file are real, see
duplicates.py) and each earlier record pairs with at most one later one, so two payments of
the same amount are never both matched to one. Look-ups are by a sortable key that packs a
46-bit hash of (currency, amount, account) above the day number: the candidates of a record
are one contiguous key range, so the work grows with the number of candidates, not the batch
squared.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from .duplicates import MAX_RUN, merge_runs
from .hashing import hash_strings
from .reconcile_core import similarity
from .textcase import lower

DAY_BITS = 17  # days 1900-01-01 .. 2258: later or earlier dates are not checked
_DAY_BASE = -25567  # 1900-01-01 as days since 1970-01-01
_DAY_MASK = (1 << DAY_BITS) - 1
TEXT_FIELDS = ("description", "payee", "reference")
MAX_TEXT = 200  # characters of normalised text kept per record
MAX_CANDIDATES = 64  # per record and run: a pathological bucket cannot make the work quadratic


@dataclass(frozen=True)
class NearSettings:
    """The mapping's ``duplicates.possible`` settings."""

    window_days: int = 3
    threshold: float = 85.0
    hold: bool = False


def near_keys(records: pa.Table) -> tuple[npt.NDArray[np.int64], pa.Array]:
    """(key, normalised text) of each record; key -1 where the record has no date or
    amount."""
    n = records.num_rows
    names = set(records.column_names)
    if n == 0 or not {"date", "amount"} <= names:
        return np.full(n, -1, dtype=np.int64), pa.array([""] * n, pa.string())
    amount = records.column("amount").combine_chunks()
    date = records.column("date").combine_chunks()
    bucket = pc.fill_null(amount.cast(pa.int64()), 0).to_numpy().astype(np.uint64)
    for name in ("currency", "account"):
        if name in names:
            bucket = _mix(bucket ^ _text_hash(records.column(name).combine_chunks()))
    bucket = _mix(bucket)
    day = pc.fill_null(date.cast(pa.int32()), -(2**31)).to_numpy().astype(np.int64) - _DAY_BASE
    ok = (
        np.asarray(amount.is_valid(), dtype=bool)
        & np.asarray(date.is_valid(), dtype=bool)
        & (day >= 0)
        & (day <= _DAY_MASK)
    )
    keys = ((bucket >> np.uint64(64 - 46)).astype(np.int64) << DAY_BITS) | np.where(ok, day, 0)
    return np.where(ok, keys, -1), _texts(records, names)


def _text_hash(col: pa.Array) -> npt.NDArray[np.uint64]:
    """A stable 64-bit hash of each value (trimmed, case-insensitive), hashing each distinct
    value once."""
    norm = lower(pc.utf8_trim_whitespace(pc.fill_null(col.cast(pa.string()), "")))
    enc = pc.dictionary_encode(norm)
    hashed = hash_strings(enc.dictionary)
    out: npt.NDArray[np.uint64] = hashed[enc.indices.to_numpy(zero_copy_only=False)]
    return out


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    with np.errstate(over="ignore"):
        x = (x + _GOLDEN) ^ (x >> np.uint64(30))
        x = (x * np.uint64(0xBF58476D1CE4E5B9)) ^ (x >> np.uint64(27))
        return (x * np.uint64(0x94D049BB133111EB)) ^ (x >> np.uint64(31))


def _texts(records: pa.Table, names: set[str]) -> pa.Array:
    parts = [
        pc.fill_null(records.column(name).combine_chunks().cast(pa.string()), "")
        for name in TEXT_FIELDS
        if name in names
    ]
    if not parts:
        return pa.array([""] * records.num_rows, pa.string())
    joined = parts[0]
    for part in parts[1:]:
        joined = _join_nonempty(joined, part)
    # Runs of whitespace become one space, only in the rows that have any (\s is RE2's ASCII
    # [\t\n\f\r ]): replacing over every row costs ~1.5 s a million rows for a few changes.
    need = pc.match_substring_regex(joined, r"\s\s|[\t\n\f\r]")
    if pc.any(need).as_py():
        fixed = pc.replace_substring_regex(joined.filter(need), r"\s+", " ")
        joined = pc.replace_with_mask(joined, need, fixed)
    norm = lower(pc.utf8_trim_whitespace(joined))
    if (pc.max(pc.binary_length(norm)).as_py() or 0) <= MAX_TEXT:
        return norm  # bytes >= code points: nothing to cut
    return pc.utf8_slice_codeunits(norm, 0, MAX_TEXT)


def _join_nonempty(left: pa.Array, right: pa.Array) -> pa.Array:
    """``left + " " + right``, or the one that is not empty. An empty field joined as "" would
    put two spaces in every record of a mapping without, say, a payee, and send every row
    through the whitespace replace (pyarrow's null_handling="skip" drops all-null rows)."""
    has_left = pc.greater(pc.binary_length(left), 0)
    has_right = pc.greater(pc.binary_length(right), 0)
    one = pc.if_else(has_left, left, right)
    return pc.if_else(
        pc.and_(has_left, has_right), pc.binary_join_element_wise(left, right, " "), one
    )


def key_range(keys: npt.NDArray[np.int64], window: int) -> tuple[npt.NDArray[np.int64], ...]:
    """The lowest and highest key a record's candidates may have (same bucket, ±window)."""
    day = keys & _DAY_MASK
    base = keys - day
    return base + np.maximum(day - window, 0), base + np.minimum(day + window, _DAY_MASK)


def day_of(key: int) -> int:
    return key & _DAY_MASK


@dataclass
class Candidate:
    """An earlier record a new one may repeat: in this batch (``gid``) or in the history
    (``rowid``, with the batch it came in)."""

    day: int
    text: str
    source: str
    line: int
    gid: int = -1
    rowid: int = -1
    batch: int | None = None


def best(
    text: str, day: int, candidates: list[Candidate], threshold: float
) -> tuple[Candidate, float] | None:
    """The candidate most alike, then nearest in date, then earliest (the history before
    the batch, then in the order recorded or read), if alike enough."""
    found: tuple[tuple[float, int, int, int], Candidate, float] | None = None
    for c in candidates:
        score = similarity(text, c.text)
        if score < threshold:
            continue
        history = c.batch is not None
        rank = (-score, abs(c.day - day), 0 if history else 1, c.rowid if history else c.gid)
        if found is None or rank < found[0]:
            found = (rank, c, score)
    return None if found is None else (found[1], found[2])


class _Grow:
    """An int64 array that grows by doubling."""

    def __init__(self) -> None:
        self.a = np.zeros(1024, dtype=np.int64)
        self.n = 0

    def extend(self, v: npt.NDArray[np.int64]) -> None:
        while self.n + len(v) > len(self.a):
            self.a = np.concatenate([self.a, np.zeros(len(self.a), dtype=np.int64)])
        self.a[self.n : self.n + len(v)] = v
        self.n += len(v)

    @property
    def view(self) -> npt.NDArray[np.int64]:
        return self.a[: self.n]


@dataclass
class NearIndex:
    """The batch's records so far, for possible-duplicate look-ups: sorted runs of (key, gid)
    merged like an LSM tree, and per gid its source, location, text and whether an earlier
    match already took it."""

    _runs: list[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]] = field(default_factory=list)
    _src: _Grow = field(default_factory=_Grow)
    _loc: _Grow = field(default_factory=_Grow)
    _key: _Grow = field(default_factory=_Grow)
    _texts: list[pa.Array] = field(default_factory=list)  # per chunk added
    _starts: list[int] = field(default_factory=list)  # the first gid of each chunk
    taken: bytearray = field(default_factory=bytearray)
    _sources: set[int] = field(default_factory=set)

    def __len__(self) -> int:
        return len(self.taken)

    def add(
        self,
        keys: npt.NDArray[np.int64],
        texts: pa.Array,
        src: npt.NDArray[np.int64],
        locs: npt.NDArray[np.int64],
    ) -> None:
        """Add a chunk's records (keys -1 are kept for numbering but never found)."""
        start = len(self.taken)
        self._src.extend(src)
        self._loc.extend(locs)
        self._key.extend(keys)
        self._texts.append(texts)
        self._starts.append(start)
        self.taken += bytes(len(texts))
        self._sources.update(np.unique(src).tolist())
        ok = np.flatnonzero(keys >= 0)
        order = np.argsort(keys[ok], kind="stable")
        run = (keys[ok][order], ok[order].astype(np.int64) + start)
        while (
            self._runs
            and len(self._runs[-1][0]) <= len(run[0])
            and len(self._runs[-1][0]) + len(run[0]) <= MAX_RUN
        ):
            run = merge_runs(self._runs.pop(), run)  # earlier gids stay first among equal keys
        self._runs.append(run)

    def take_loc(self, locs: npt.NDArray[np.int64]) -> None:
        """Mark the records at these packed locations as taken (an exact repeat took them)."""
        allocs = self._loc.view
        for loc in locs.tolist():
            g = int(np.searchsorted(allocs, loc))
            while g < len(allocs) and allocs[g] == loc:
                if not self.taken[g]:
                    self.taken[g] = 1
                    break
                g += 1

    def candidates(
        self, keys: npt.NDArray[np.int64], src: int, window: int
    ) -> dict[int, list[int]]:
        """For each position with a key, the gids in range from other sources, not taken."""
        out: dict[int, list[int]] = {}
        if not self._sources - {src}:
            return out  # only this file's records so far: none can be repeated
        lo, hi = key_range(keys, window)
        allsrc = self._src.view
        for run_keys, run_gids in self._runs:
            a = np.searchsorted(run_keys, lo, side="left")
            b = np.minimum(np.searchsorted(run_keys, hi, side="right"), a + MAX_CANDIDATES)
            hit = np.flatnonzero((b > a) & (keys >= 0))
            if not len(hit):
                continue
            counts = b[hit] - a[hit]
            pos = np.repeat(a[hit] - np.cumsum(np.r_[0, counts[:-1]]), counts) + np.arange(
                counts.sum()
            )
            gids = run_gids[pos]
            rows = np.repeat(hit, counts)
            keep = allsrc[gids] != src
            for r, g in zip(rows[keep].tolist(), gids[keep].tolist(), strict=True):
                if not self.taken[g]:
                    out.setdefault(r, []).append(g)
        return out

    def text(self, gid: int) -> str:
        chunk = bisect.bisect_right(self._starts, gid) - 1
        return str(self._texts[chunk][gid - self._starts[chunk]].as_py())

    def candidate(self, gid: int, sources: list[str]) -> Candidate:
        loc = int(self._loc.view[gid])
        return Candidate(
            day_of(int(self._key.view[gid])),
            self.text(gid),
            sources[int(self._src.view[gid])],
            loc & ((1 << 40) - 1),
            gid=gid,
        )


def days_text(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"
