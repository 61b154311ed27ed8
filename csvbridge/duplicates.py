"""Exact duplicates: a record whose identity equals an earlier record's, in this batch or in
the history. Each flag names the record it repeats. Whether a flagged record is written or held
back is the mapping's choice; it is never dropped silently.

Identity = (fingerprint, occurrence): the fingerprint hashes normalised canonical fields; the
occurrence counts how many times that fingerprint appeared before in the same file. Two
identical rows in one file are two real transactions (occurrences 1 and 2); a later download
that holds them again repeats both identities and adds nothing; one that holds three adds one.

Indexes keep 16 bytes per distinct key in sorted runs merged like an LSM tree, so lookups stay
vectorised and merges need bounded scratch memory. Past a budget of entries in memory
(``CSVBRIDGE_DUP_MEMORY_ENTRIES``), runs spill to anonymous temporary files and only a Bloom
filter (12 bits per key) and fence keys stay in memory (``spill``), so a batch of any size
needs bounded memory; the answers are the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from .bloom import scramble
from .hashing import hash_ints, hash_strings, null_text_hash
from .model import LINE_COL, SOURCE_COL
from .spill import RunStore
from .spill import merge_runs as merge_runs  # near_duplicates merges its runs with it
from .textcase import lower

_LINE_BITS = 40  # location = source << 40 | line: 1 trillion lines, 8 million files


@dataclass
class DuplicateFlag:
    """The record at (source, line) repeats the one at (repeats_file, repeats_line) — from
    an earlier batch when ``repeats_batch`` is set — exactly, or possibly (near_duplicates)."""

    source: int
    line: int
    row: int
    repeats_file: str
    repeats_line: int
    held_back: bool
    identity: int
    repeats_batch: int | None = None
    match: str = "exact"  # exact | possible | decision (flagged by a person's decision alone)
    score: float | None = None  # text similarity 0-100, for possible duplicates
    reason: str = ""


@dataclass
class Flags:
    """The flags of one chunk, column by column (one entry per flagged record, in order);
    iterating gives DuplicateFlag objects."""

    source: npt.NDArray[np.int64]
    line: npt.NDArray[np.int64]
    row: npt.NDArray[np.int64]
    repeats_file: npt.NDArray[np.object_]
    repeats_line: npt.NDArray[np.int64]
    held_back: npt.NDArray[np.bool_]
    identity: npt.NDArray[np.uint64]
    repeats_batch: npt.NDArray[np.int64]  # -1: in this batch
    match: npt.NDArray[np.object_]
    score: npt.NDArray[np.float64]  # NaN: exact
    reason: npt.NDArray[np.object_]

    def __len__(self) -> int:
        return len(self.line)

    def __iter__(self) -> Iterator[DuplicateFlag]:
        for i in range(len(self)):
            batch = int(self.repeats_batch[i])
            score = float(self.score[i])
            yield DuplicateFlag(
                int(self.source[i]),
                int(self.line[i]),
                int(self.row[i]),
                str(self.repeats_file[i]),
                int(self.repeats_line[i]),
                bool(self.held_back[i]),
                int(self.identity[i]),
                None if batch < 0 else batch,
                str(self.match[i]),
                None if score != score else score,
                str(self.reason[i]),
            )


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """SplitMix64's finaliser: a well-spread 64-bit hash of 64-bit keys."""
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def identities(
    fingerprints: npt.NDArray[np.uint64], occurrence: npt.NDArray[np.int64]
) -> npt.NDArray[np.uint64]:
    """Record identities from fingerprints and occurrence numbers (1 for the first)."""
    with np.errstate(over="ignore"):
        return _mix(fingerprints ^ (occurrence.astype(np.uint64) * _GOLDEN))


class OccurrenceCounter:
    """How many times each fingerprint appeared so far in one file: the occurrence number of
    each new record (sorted runs of (fingerprint, count), counts summed on merge; past the
    memory budget the runs spill to temporary files, see ``spill``)."""

    def __init__(self, budget: int | None = None) -> None:
        self._store = RunStore(add=True, budget=budget)

    def close(self) -> None:
        """Release the temporary files now rather than when garbage-collected."""
        self._store.close()

    def occurrences(self, keys: npt.NDArray[np.uint64]) -> npt.NDArray[np.int64]:
        """1-based occurrence number of each key, counting earlier chunks of the file."""
        if not len(keys):
            return np.zeros(0, dtype=np.int64)
        keys = scramble(keys)  # equal stay equal; spilled runs' filters need mixed keys
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
        starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
        uniq = sorted_keys[starts]
        counts = np.diff(np.r_[starts, len(keys)]).astype(np.int64)
        rank_sorted = np.arange(len(keys)) - np.repeat(starts, counts)
        prior = self._store.lookup(uniq)
        occ = np.empty(len(keys), dtype=np.int64)
        occ[order] = np.repeat(prior, counts) + rank_sorted + 1
        self._store.insert(uniq, counts)
        return occ


def fingerprints(records: pa.Table, fields: tuple[str, ...]) -> npt.NDArray[np.uint64]:
    """A 64-bit fingerprint per record from the named fields, text compared case- and
    space-insensitively, dates and amounts exactly.

    The value is pandas' ``hash_pandas_object(DataFrame(fields), index=False)`` (identities
    in the history and duplicates.csv depend on it), computed without building the frame: text
    is normalised and hashed once per distinct value, then spread to the rows."""
    hashes: list[npt.NDArray[np.uint64]] = []
    for name in fields:
        col = records.column(name).combine_chunks()
        if pa.types.is_string(col.type):
            hashes.append(_text_hashes(col))
        elif pa.types.is_date32(col.type):
            hashes.append(hash_ints(pc.fill_null(col.cast(pa.int32()), -(2**31)).to_numpy()))
        else:
            hashes.append(hash_ints(pc.fill_null(col.cast(pa.int64()), -(2**63)).to_numpy()))
    return _combine(hashes, records.num_rows)


def _text_hashes(col: pa.Array) -> npt.NDArray[np.uint64]:
    """Each row's hash of its normalised text (null hashes as "\x00")."""
    encoded = col.dictionary_encode()
    norm = pc.utf8_trim_whitespace(encoded.dictionary)
    if pc.any(pc.match_substring_regex(norm, r"\s\s|[\t\r\n\x{a0}]")).as_py():
        norm = pc.replace_substring_regex(norm, r"\s+", " ")
    distinct = lower(norm)
    table = np.append(hash_strings(distinct), null_text_hash())
    index = pc.fill_null(encoded.indices, len(distinct)).to_numpy().astype(np.intp, copy=False)
    return np.asarray(table[index], dtype=np.uint64)


def _combine(hashes: list[npt.NDArray[np.uint64]], n: int) -> npt.NDArray[np.uint64]:
    """pandas' combine_hash_arrays (a DataFrame's row hash from its columns' hashes)."""
    out = np.full(n, 0x345678, dtype=np.uint64)
    mult = np.uint64(1000003)
    for i, h in enumerate(hashes):
        inverse = len(hashes) - i
        out ^= h
        out *= mult
        mult += np.uint64(82520 + inverse + inverse)
    out += np.uint64(97531)
    return out


class DuplicateIndex:
    """Fingerprints seen so far in a batch, with where each was first seen (sorted runs; past
    the memory budget they spill to temporary files, see ``spill``)."""

    def __init__(self, budget: int | None = None) -> None:
        self._store = RunStore(add=False, budget=budget)

    def __len__(self) -> int:
        return len(self._store)

    def close(self) -> None:
        """Release the temporary files now rather than when garbage-collected."""
        self._store.close()

    def check(self, records: pa.Table, fields: tuple[str, ...]) -> npt.NDArray[np.int64]:
        """For each record, the packed location of the earlier record with the same
        fingerprint, or -1. Records not seen before are added to the index."""
        if records.num_rows == 0:
            return np.zeros(0, dtype=np.int64)
        return self.check_keys(records, fingerprints(records, fields))

    def check_keys(self, records: pa.Table, keys: npt.NDArray[np.uint64]) -> npt.NDArray[np.int64]:
        """As ``check``, with the keys (fingerprints or identities) already computed."""
        n = records.num_rows
        if n == 0:
            return np.zeros(0, dtype=np.int64)
        src = records.column(SOURCE_COL).to_numpy().astype(np.int64)
        line = records.column(LINE_COL).to_numpy().astype(np.int64)
        locs = (src << _LINE_BITS) | line
        mixed = scramble(keys)  # equal stay equal; spilled runs' filters need mixed keys
        uniq_keys, first_idx, inverse = np.unique(mixed, return_index=True, return_inverse=True)
        uniq: npt.NDArray[np.uint64] = uniq_keys.astype(np.uint64)
        earlier = self._store.lookup(uniq)
        first_loc = np.where(earlier >= 0, earlier, locs[first_idx])
        result = first_loc[inverse]
        is_first = np.zeros(n, dtype=bool)
        is_first[first_idx] = True
        result = np.where(is_first & (earlier[inverse] < 0), -1, result)
        new = earlier < 0
        if new.any():  # uniq is sorted, so its new part is a sorted run
            self._store.insert(uniq[new], locs[first_idx[new]], MAX_RUN)
        return result


# Runs stop merging at this many entries, so a merge never needs more than a few times 16 MB
# of scratch memory however large the batch; past it, lookups visit one run per MAX_RUN.
MAX_RUN = 1 << 20


def unpack(loc: int) -> tuple[int, int]:
    """(source, line) from a packed location."""
    return loc >> _LINE_BITS, loc & ((1 << _LINE_BITS) - 1)
