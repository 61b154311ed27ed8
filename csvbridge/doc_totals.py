"""Documents' stated totals (``documents.total_column``), kept as columns: an orders export
states one total per order, and a dict of Python tuples held about 220 bytes per order for
the whole batch (74 MB for 333,000 orders). Here they are numpy arrays and one Arrow string
array, about 40 bytes per order, and looked up a group of documents at a time through a
sorted 64-bit hash of the document key (every hit is confirmed on the key itself, so a hash
collision costs time, never a wrong total)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from .money import format_one

_I64_MAX = 2**63 - 1
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLD = np.uint64(0x9E3779B97F4A7C15)


def _mix(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """splitmix64's finaliser (wrapping uint64 arithmetic)."""
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * _M1
        x = (x ^ (x >> np.uint64(27))) * _M2
        return x ^ (x >> np.uint64(31))


def key_hashes(keys: pa.Array) -> npt.NDArray[np.uint64]:
    """A 64-bit hash of each string (null hashes as the empty string), computed by numpy over
    the Arrow buffers: each byte weighted by a pseudo-random number of its position. Blocks
    of keys at a time bound the temporary arrays (a few int64s per byte)."""
    step = 1 << 15
    if len(keys) <= step:
        return _block_hashes(keys)
    parts = [_block_hashes(keys.slice(i, step)) for i in range(0, len(keys), step)]
    return np.concatenate(parts)


def _block_hashes(keys: pa.Array) -> npt.NDArray[np.uint64]:
    raw = pc.cast(pc.fill_null(keys, ""), pa.large_binary())
    n = len(raw)
    offsets = np.frombuffer(raw.buffers()[1], dtype=np.int64)[raw.offset : raw.offset + n + 1]
    lens = np.diff(offsets).astype(np.uint64)
    out = _mix(lens + _GOLD)
    total = int(offsets[-1] - offsets[0]) if n else 0
    if not total:
        return out
    data_buf = raw.buffers()[2]
    assert data_buf is not None
    data = np.frombuffer(data_buf, dtype=np.uint8)[int(offsets[0]) : int(offsets[-1])]
    starts = (offsets[:-1] - offsets[0]).astype(np.int64)
    pos = np.arange(total, dtype=np.int64) - np.repeat(starts, lens.astype(np.int64))
    with np.errstate(over="ignore"):
        weights = _mix(pos.astype(np.uint64) * _GOLD + _M2)
        contrib = (data.astype(np.uint64) + np.uint64(1)) * weights
        filled = lens > 0
        sums = np.add.reduceat(contrib, starts[filled]) if filled.any() else contrib[:0]
        out[filled] = _mix(out[filled] ^ sums)
    return out


def _group_order(hashes: npt.NDArray[np.uint64], keys: pa.Array) -> npt.NDArray[np.int64]:
    """An order that sorts by hash and puts equal keys together, each key's rows in their
    original order (a stable sort; keys that share a hash are sorted apart in Python)."""
    order = np.argsort(hashes, kind="stable")
    h = hashes[order]
    n = len(order)
    if n < 2:
        return order
    tied = np.flatnonzero(h[1:] == h[:-1]) + 1
    if not len(tied):
        return order
    tied_keys = keys.take(pa.array(order[tied]))
    before = keys.take(pa.array(order[tied - 1]))
    clash = tied[~np.asarray(pc.equal(tied_keys, before), dtype=bool)]
    for at in clash.tolist():  # a run of one hash holding more than one key: rare
        lo = int(np.searchsorted(h, h[at], side="left"))
        hi = int(np.searchsorted(h, h[at], side="right"))
        run = order[lo:hi].tolist()
        texts = keys.take(pa.array(run)).to_pylist()
        order[lo:hi] = [r for _, r in sorted(zip(texts, run, strict=True))]
    return order


@dataclass
class StatedTotals:
    """Documents' stated totals, gathered while their lines are read: document -> (total in
    minor units, exponent, file, line). A document that states two different totals keeps
    the first and notes the other (its first different value and line)."""

    column: str
    severity: str  # error or warning
    tolerance: Decimal  # in currency units
    files: list[str] = field(default_factory=list)
    # stated rows not yet merged, in reading order: (keys, minor, exponent, file, line)
    _pending: list[tuple[pa.Array, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = field(
        default_factory=list
    )
    # one entry per document, sorted by (hash, key)
    _hash: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint64))
    _keys: pa.Array = field(default_factory=lambda: pa.array([], pa.string()))
    _minor: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    _exp: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    _file: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    _line: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    _other: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    _other_line: np.ndarray = field(default_factory=lambda: np.full(0, -1, np.int64))

    def __len__(self) -> int:
        self._merge()
        return len(self._hash)

    def add(
        self,
        docs: pa.Array | Sequence[str],
        minor: npt.ArrayLike,
        exps: npt.ArrayLike,
        file: str,
        lines: npt.ArrayLike,
    ) -> None:
        """Note the totals stated on some rows (in reading order)."""
        keys = docs if isinstance(docs, pa.Array) else pa.array(list(docs), pa.string())
        if not len(keys):
            return
        if file not in self.files:
            self.files.append(file)
        at = self.files.index(file)
        self._pending.append(
            (
                pc.fill_null(pc.cast(keys, pa.string()), ""),
                np.asarray(minor, dtype=np.int64),
                np.asarray(exps, dtype=np.int8),
                np.full(len(keys), at, dtype=np.int32),
                np.asarray(lines, dtype=np.int64),
            )
        )

    def _merge(self) -> None:
        """Fold the pending rows into the per-document arrays."""
        if not self._pending:
            return
        have = self._other_line >= 0
        keys = pa.concat_arrays(
            [self._keys, self._keys.filter(pa.array(have)), *(p[0] for p in self._pending)]
        )
        minor = np.concatenate([self._minor, self._other[have], *(p[1] for p in self._pending)])
        exp = np.concatenate([self._exp, self._exp[have], *(p[2] for p in self._pending)])
        file = np.concatenate([self._file, self._file[have], *(p[3] for p in self._pending)])
        line = np.concatenate([self._line, self._other_line[have], *(p[4] for p in self._pending)])
        self._pending = []
        held = len(self._hash) + int(have.sum())
        hashes = np.concatenate([self._hash, self._hash[have], key_hashes(keys.slice(held))])
        # reading order: each document's first, then its conflict, then the new rows
        order = _group_order(hashes, keys)
        sorted_hash = hashes[order]
        del hashes
        n = len(order)
        # which sorted rows start a document (same hash and same key as the row before: not)
        new_doc = np.ones(n, dtype=bool)
        if n > 1:
            new_doc[1:] = sorted_hash[1:] != sorted_hash[:-1]
            tied = np.flatnonzero(~new_doc[1:]) + 1
            if len(tied):  # equal hashes: the keys decide
                now = keys.take(pa.array(order[tied]))
                before = keys.take(pa.array(order[tied - 1]))
                new_doc[tied] = ~np.asarray(pc.equal(now, before), dtype=bool)
        firsts = np.flatnonzero(new_doc)
        first_rows = order[firsts]  # rows (reading order) of each document's first total
        # a later row of a document with another value: its first is the conflict
        sorted_minor = minor[order]
        starts_of_doc = np.cumsum(new_doc) - 1
        differs = np.flatnonzero(sorted_minor != sorted_minor[firsts][starts_of_doc])
        del sorted_minor, starts_of_doc, new_doc
        docs_hit, first_hit = np.unique(
            np.searchsorted(firsts, differs, side="right") - 1, return_index=True
        )
        other_rows = order[differs[first_hit]]
        del order
        self._hash = sorted_hash[firsts]
        self._keys = keys.take(pa.array(first_rows))
        self._minor, self._exp = minor[first_rows], exp[first_rows]
        self._file, self._line = file[first_rows], line[first_rows]
        self._other = np.zeros(len(firsts), dtype=np.int64)
        self._other_line = np.full(len(firsts), -1, dtype=np.int64)
        self._other[docs_hit] = minor[other_rows]
        self._other_line[docs_hit] = line[other_rows]

    def find(self, docs: pa.Array) -> npt.NDArray[np.int64]:
        """Each document's index in the arrays (-1: it states no total)."""
        self._merge()
        keys = pc.fill_null(pc.cast(docs, pa.string()), "")
        n = len(keys)
        out = np.full(n, -1, dtype=np.int64)
        if not n or not len(self._hash):
            return out
        h = key_hashes(keys)
        at = np.searchsorted(self._hash, h)
        pending = np.arange(n)
        while len(pending):  # the next entry with the same hash, until the key matches
            cand = at[pending]
            live = cand < len(self._hash)
            live[live] = self._hash[cand[live]] == h[pending[live]]
            pending, cand = pending[live], cand[live]
            if not len(pending):
                break
            same = np.asarray(
                pc.equal(keys.take(pa.array(pending)), self._keys.take(pa.array(cand))),
                dtype=bool,
            )
            out[pending[same]] = cand[same]
            pending = pending[~same]
            at[pending] += 1
        return out

    def failing(self, kind: str, docs: pa.Array, totals: npt.NDArray[np.int64]) -> dict[str, str]:
        """Documents (whose lines add up to ``totals``) that fail their stated total, and
        why; documents that state none pass."""
        idx = self.find(docs)
        stated = idx >= 0
        if not stated.any():
            return {}
        at = idx[stated]
        names = pc.fill_null(pc.cast(docs, pa.string()), "").filter(pa.array(stated))
        sums = np.asarray(totals, dtype=np.int64)[stated]
        exp = self._exp[at].astype(np.int64)
        allowed = np.zeros(len(at), dtype=np.int64)
        for e in np.unique(exp):
            tol = self.tolerance.scaleb(int(e)).to_integral_value(rounding=ROUND_FLOOR)
            allowed[exp == e] = min(max(int(tol), -1), _I64_MAX)
        minor = self._minor[at]
        small = (np.abs(sums.clip(-(2**62), 2**62)) < 2**62) & (
            np.abs(minor.clip(-(2**62), 2**62)) < 2**62
        )
        if small.all():
            over = np.abs(sums - minor) > allowed
        else:  # amounts near int64's limits: the exact comparison row by row
            rows = zip(sums.tolist(), minor.tolist(), allowed.tolist(), strict=True)
            over = np.array([abs(a - b) > t for a, b, t in rows], dtype=bool)
        bad = np.flatnonzero(over | (self._other_line[at] >= 0))
        out = {}
        for j in bad.tolist():
            why = self.message(kind, names[j].as_py(), int(sums[j]), int(at[j]))
            if why is not None:
                out[names[j].as_py()] = why
        return out

    def message(self, kind: str, doc: str, total: int, at: int) -> str | None:
        """Why ``doc`` (entry ``at``), whose lines add up to ``total``, fails its stated
        total (None: it does not)."""
        v, exp = int(self._minor[at]), int(self._exp[at])
        file, line = self.files[int(self._file[at])], int(self._line[at])
        if self._other_line[at] >= 0:
            other, ln = int(self._other[at]), int(self._other_line[at])
            return (
                f"{kind} {doc} states two totals in {self.column}: {format_one(v, exp)} "
                f"(line {line}) and {format_one(other, exp)} (line {ln}); fix the source"
            )
        diff = total - v
        if abs(Decimal(diff).scaleb(-exp)) <= self.tolerance:
            return None
        return (
            f"the lines of {kind} {doc} add up to {format_one(total, exp)}, and its stated "
            f"total ({self.column}, {file} line {line}) is {format_one(v, exp)}: a difference "
            f"of {format_one(diff, exp)}; check for a missing or mistyped line (or set "
            f"documents.total_tolerance for a source that rounds each line)"
        )
