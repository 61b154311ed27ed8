"""Sorted runs of (64-bit key, int64 value) in bounded memory: past a budget of entries the
runs held in memory are merged into a temporary file, and only a Bloom filter and fence keys
(every BLOCK-th key) of each file stay in memory. A lookup the filters reject is certainly
absent; the rare positives read just the block they need. Files are merged (streaming, a chunk
at a time) so lookups visit few of them.

The temporary files are anonymous (``tempfile.TemporaryFile``: no name in any folder, the
system removes them when closed or when the process ends, even killed) and live in the system
temporary folder, never in the output folder.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TypeVar

import numpy as np
import numpy.typing as npt

from .bloom import Bloom
from .errors import CsvbridgeError
from .outfiles import write_error

BLOCK = 512  # entries per block on disk: 4 KiB of keys, then 4 KiB of values
_CHUNK = 1 << 16  # entries per step of a streaming merge
DEFAULT_ENTRIES = 1 << 18  # entries held in memory per structure (4 MiB)
BUDGET_ENV = "CSVBRIDGE_DUP_MEMORY_ENTRIES"

Keys = npt.NDArray[np.uint64]
Values = npt.NDArray[np.int64]
Run = tuple[Keys, Values]
_K = TypeVar("_K", np.uint64, np.int64)


def budget_entries() -> int:
    """Entries a structure keeps in memory before spilling (``CSVBRIDGE_DUP_MEMORY_ENTRIES``
    overrides the default, mainly so tests can force spilling)."""
    raw = os.environ.get(BUDGET_ENV, "").strip()
    if not raw:
        return DEFAULT_ENTRIES
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        raise CsvbridgeError(
            f"{BUDGET_ENV} is '{raw}', not a whole number of entries above 0",
            where=f"environment variable {BUDGET_ENV}",
            hint=f"unset it (the default keeps {DEFAULT_ENTRIES:,} entries, 16 bytes each, in "
            "memory per index), or give a number such as 1000000",
            code="setting-invalid",
        )
    return int(raw)


def merge_runs(
    a: tuple[npt.NDArray[_K], Values], b: tuple[npt.NDArray[_K], Values]
) -> tuple[npt.NDArray[_K], Values]:
    """Merge two sorted runs (keys, payload) in linear time and one output allocation (no
    re-sort); among equal keys, ``a``'s entries come first."""
    n = len(a[0]) + len(b[0])
    pos_b = np.searchsorted(a[0], b[0], side="right") + np.arange(len(b[0]))
    in_b = np.zeros(n, dtype=bool)
    in_b[pos_b] = True
    keys = np.empty(n, dtype=a[0].dtype)
    locs = np.empty(n, dtype=np.int64)
    keys[in_b], locs[in_b] = b
    keys[~in_b], locs[~in_b] = a
    return keys, locs


def combine(keys: Keys, values: Values, add: bool) -> Run:
    """Sorted keys with one entry each: equal keys' values summed (``add``) or the first kept.
    ``keys`` must be sorted; among equal keys the order of ``values`` is the age order."""
    if not len(keys):
        return keys, values
    first = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    if len(first) == len(keys):
        return keys, values
    return keys[first], np.add.reduceat(values, first) if add else values[first]


def _disk_error(e: OSError) -> Exception:
    """The project's disk-full (or cannot-write) error, with a hint about the temporary
    folder: the output folder is not where the room is missing."""
    folder = tempfile.gettempdir()
    err = write_error(e, Path(folder), "a temporary file of the duplicate check")
    err.hint = (
        "a large batch keeps part of its duplicate check in temporary files (about 16 bytes "
        f"per row) in {folder}; free space there, or set TMPDIR to a folder on a disk with "
        "room, then run again. No partial output is kept."
    )
    return err


class SpilledRun:
    """One sorted run in an anonymous temporary file, block by block (each block's keys, then
    its values); in memory only its Bloom filter and each block's first key."""

    def __init__(self, file: IO[bytes], n: int, fences: Keys, bloom: Bloom) -> None:
        self._file = file
        self.n = n
        self.fences = fences
        self.bloom = bloom

    def close(self) -> None:
        """Release the file (the system deletes it)."""
        self._file.close()

    def _read(self, first: int, last: int) -> Run:
        """Entries of blocks [first, last)."""
        start = first * BLOCK
        stop = min(last * BLOCK, self.n)
        try:
            data = os.pread(self._file.fileno(), (stop - start) * 16, start * 16)
        except OSError as e:
            raise _disk_error(e) from e
        raw = np.frombuffer(data, dtype=np.int64)
        full = (stop - start) // BLOCK
        blocks = raw[: full * BLOCK * 2].reshape(full, 2, BLOCK)
        keys = blocks[:, 0].ravel().view(np.uint64)
        values = blocks[:, 1].ravel()
        rest = stop - start - full * BLOCK
        if rest:
            tail = raw[full * BLOCK * 2 :]
            keys = np.concatenate([keys, tail[:rest].view(np.uint64)])
            values = np.concatenate([values, tail[rest:]])
        return keys, values

    def chunks(self) -> Iterator[Run]:
        """The whole run in order, a chunk at a time."""
        step = _CHUNK // BLOCK
        for first in range(0, len(self.fences), step):
            yield self._read(first, first + step)

    def _read_blocks(self, blocks: npt.NDArray[np.intp]) -> Run:
        """Entries of the given blocks (ascending, distinct), one read each, concatenated:
        blocks hold disjoint ascending key ranges, so the result is sorted."""
        last = len(self.fences) - 1
        partial = bool(self.n - last * BLOCK < BLOCK and len(blocks) and blocks[-1] == last)
        full = blocks[:-1] if partial else blocks
        size = BLOCK * 16
        buf = np.empty(len(full) * BLOCK * 2, dtype=np.int64)
        view = buf.data.cast("B")
        fd = self._file.fileno()
        try:
            for i, b in enumerate(full.tolist()):
                if os.preadv(fd, [view[i * size : (i + 1) * size]], b * size) != size:
                    raise OSError(f"a temporary file of the duplicate check ended early ({b})")
        except OSError as e:
            raise _disk_error(e) from e
        rows = buf.reshape(-1, 2, BLOCK)
        keys, values = rows[:, 0].ravel().view(np.uint64), rows[:, 1].ravel()
        if partial:
            tail_keys, tail_values = self._read(last, last + 1)
            keys = np.concatenate([keys, tail_keys])
            values = np.concatenate([values, tail_values])
        return keys, values

    def lookup(self, keys: Keys) -> tuple[npt.NDArray[np.intp], Values]:
        """(positions in ``keys`` found in this run, their values)."""
        cand = np.flatnonzero(self.bloom.test(keys))
        want = keys[cand]
        block = np.searchsorted(self.fences, want, side="right") - 1
        keep = block >= 0
        if not keep.all():
            cand, want, block = cand[keep], want[keep], block[keep]
        if not len(cand):
            return cand, np.zeros(0, dtype=np.int64)
        run_keys, run_values = self._read_blocks(np.unique(block))
        pos = np.minimum(np.searchsorted(run_keys, want), len(run_keys) - 1)
        hit = run_keys[pos] == want
        return cand[hit], run_values[pos[hit]]


class _Writer:
    """Writes a sorted run given in order, chunk by chunk, into a new SpilledRun."""

    def __init__(self, capacity: int) -> None:
        try:  # anonymous: no name to clean up, gone when closed or when the process dies
            self._file: IO[bytes] = tempfile.TemporaryFile(prefix="csvbridge-dup-")  # noqa: SIM115
        except OSError as e:
            raise _disk_error(e) from e
        self._bloom = Bloom(capacity)
        self._fences: list[Keys] = []
        self._keys = np.zeros(0, dtype=np.uint64)
        self._values = np.zeros(0, dtype=np.int64)
        self._n = 0

    def _write(self, keys: Keys, values: Values) -> None:
        m = len(keys)
        full = m // BLOCK * BLOCK
        parts = []
        if full:
            k = keys[:full].view(np.int64).reshape(-1, 1, BLOCK)
            v = values[:full].reshape(-1, 1, BLOCK)
            parts.append(np.concatenate([k, v], axis=1).tobytes())
        if m > full:
            parts += [keys[full:].tobytes(), values[full:].tobytes()]
        self._fences.append(keys[::BLOCK].copy())  # a view would keep all of keys alive
        self._bloom.add(keys)
        try:
            for part in parts:
                self._file.write(part)
        except OSError as e:
            self.abort()
            raise _disk_error(e) from e
        self._n += m

    def add(self, keys: Keys, values: Values) -> None:
        """Append entries, all greater than those appended before."""
        if len(self._keys):
            keys = np.concatenate([self._keys, keys])
            values = np.concatenate([self._values, values])
        full = len(keys) // BLOCK * BLOCK
        if full:
            self._write(keys[:full], values[:full])
        self._keys, self._values = keys[full:], values[full:]

    def finish(self) -> SpilledRun:
        """The written run (the last, partial block written now)."""
        if len(self._keys):
            self._write(self._keys, self._values)
        try:
            self._file.flush()
        except OSError as e:
            self.abort()
            raise _disk_error(e) from e
        fences = np.concatenate(self._fences) if self._fences else np.zeros(0, np.uint64)
        return SpilledRun(self._file, self._n, fences, self._bloom)

    def abort(self) -> None:
        """Drop the file."""
        self._file.close()


def _slices(run: Run) -> Iterator[Run]:
    for start in range(0, len(run[0]), _CHUNK):
        yield run[0][start : start + _CHUNK], run[1][start : start + _CHUNK]


def merge_stream(sources: list[Iterator[Run]], add: bool) -> Iterator[Run]:
    """Merge sorted runs given chunk by chunk (oldest first, keys unique within each) into
    one, in order, a bounded step at a time; equal keys combined as in ``combine``."""
    live: list[tuple[Iterator[Run], Run]] = []
    for src in sources:
        first = next(src, None)
        if first is not None:
            live.append((src, first))
    while live:
        # Every entry up to the smallest buffered last key is buffered already (keys beyond a
        # buffer's end are greater), so that much can be merged and emitted.
        bound = min(buf[0][-1] for _, buf in live)
        take_k, take_v = [], []
        nxt: list[tuple[Iterator[Run], Run]] = []
        for src, (k, v) in live:
            cut = int(np.searchsorted(k, bound, side="right"))
            take_k.append(k[:cut])
            take_v.append(v[:cut])
            rest: Run | None = (k[cut:], v[cut:])
            while rest is not None and not len(rest[0]):
                rest = next(src, None)
            if rest is not None:
                nxt.append((src, rest))
        merged: Run | None = None
        for part in zip(take_k, take_v, strict=True):  # oldest first: it stays first
            if len(part[0]):
                merged = part if merged is None else merge_runs(merged, part)
        if merged is not None:
            yield combine(merged[0], merged[1], add)
        live = nxt


class RunStore:
    """Sorted runs of unique keys with an int64 value each, newest last: lookups return the
    first run's value (``add=False``) or the sum over runs (``add=True``). Past ``budget``
    entries in memory, they are merged into a spilled run."""

    def __init__(self, add: bool, budget: int | None = None) -> None:
        self.add_values = add
        self.budget = budget_entries() if budget is None else budget
        self.runs: list[Run] = []
        self.spilled: list[SpilledRun] = []

    def __len__(self) -> int:
        return sum(len(k) for k, _ in self.runs) + sum(r.n for r in self.spilled)

    def close(self) -> None:
        """Release the temporary files."""
        for run in self.spilled:
            run.close()
        self.spilled = []

    def lookup(self, keys: Keys) -> Values:
        """Each key's value (first run holding it, or the sum over runs); -1 (first) or 0
        (sum) where absent."""
        if self.add_values:
            total = np.zeros(len(keys), dtype=np.int64)
            for spilled in self.spilled:
                pos, values = spilled.lookup(keys)
                total[pos] += values
            for run_keys, counts in self.runs:
                pos = np.minimum(np.searchsorted(run_keys, keys), len(run_keys) - 1)
                total += np.where(run_keys[pos] == keys, counts[pos], 0)
            return total
        found = np.full(len(keys), -1, dtype=np.int64)
        for spilled in self.spilled:
            todo = np.flatnonzero(found < 0)
            pos, values = spilled.lookup(keys[todo])
            found[todo[pos]] = values
        for run_keys, run_locs in self.runs:
            pos = np.searchsorted(run_keys, keys)
            pos_c = np.minimum(pos, len(run_keys) - 1)
            hit = (run_keys[pos_c] == keys) & (found < 0)
            found = np.where(hit, run_locs[pos_c], found)
        return found

    def _merge(self, a: Run, b: Run) -> Run:
        if not self.add_values:
            return merge_runs(a, b)
        k = np.concatenate([a[0], b[0]])
        c = np.concatenate([a[1], b[1]])
        o = np.argsort(k, kind="stable")
        return combine(k[o], c[o], True)

    def insert(self, keys: Keys, values: Values, max_run: int | None = None) -> None:
        """Add a sorted run of unique keys, merging runs of similar size (up to ``max_run``
        entries, and a quarter of the budget so a merge's scratch memory stays small); when
        memory would hold more than the budget, everything goes to a spilled run instead."""
        run = (keys, values)
        if sum(len(k) for k, _ in self.runs) + len(keys) > self.budget:
            self.runs.append(run)
            self._spill()
            return
        cap = max(1, self.budget // 4)
        cap = cap if max_run is None else min(cap, max_run)
        while (
            self.runs
            and len(self.runs[-1][0]) <= len(run[0])
            and len(self.runs[-1][0]) + len(run[0]) <= cap
        ):
            run = self._merge(self.runs.pop(), run)
        self.runs.append(run)

    def _spill(self) -> None:
        runs, self.runs = self.runs, []
        self.spilled.append(self._write([_slices(r) for r in runs], sum(len(k) for k, _ in runs)))
        del runs
        while len(self.spilled) >= 2 and self.spilled[-2].n <= self.spilled[-1].n:
            b = self.spilled.pop()
            a = self.spilled.pop()
            # Reading needs no filter: free both before the merged run builds its own.
            a.bloom = b.bloom = Bloom(0)
            try:
                merged = self._write([a.chunks(), b.chunks()], a.n + b.n)
            finally:  # after an error (a full disk) the store is not used again
                a.close()
                b.close()
            self.spilled.append(merged)

    def _write(self, sources: list[Iterator[Run]], capacity: int) -> SpilledRun:
        writer = _Writer(capacity)
        try:
            for keys, values in merge_stream(sources, self.add_values):
                writer.add(keys, values)
        except BaseException:
            writer.abort()
            raise
        return writer.finish()
