"""Exact duplicates within a batch: a record whose fingerprint (normalised canonical fields)
equals an earlier record's. Each flag names the record it repeats. Whether a flagged record is
written or held back is the mapping's choice; it is never dropped silently.

The index keeps 16 bytes per distinct record (a 64-bit fingerprint and the packed location of
its first occurrence) in sorted runs merged like an LSM tree, so lookups stay vectorised.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .model import LINE_COL, ROW_COL, SOURCE_COL

_LINE_BITS = 40  # location = source << 40 | line: 1 trillion lines, 8 million files


@dataclass
class DuplicateFlag:
    """Record at (source, line) repeats the record first seen at (first_source, first_line)."""

    source: int
    line: int
    row: int
    first_source: int
    first_line: int
    held_back: bool


def fingerprints(records: pa.Table, fields: tuple[str, ...]) -> npt.NDArray[np.uint64]:
    """A 64-bit fingerprint per record from the named fields, text compared case- and
    space-insensitively, dates and amounts exactly."""
    cols: dict[str, object] = {}
    for name in fields:
        col = records.column(name).combine_chunks()
        if pa.types.is_string(col.type):
            norm = pc.utf8_trim_whitespace(col)
            if pc.any(pc.match_substring_regex(norm, r"\s\s|[\t\r\n\x{a0}]")).as_py():
                norm = pc.replace_substring_regex(norm, r"\s+", " ")
            cols[name] = pc.utf8_lower(pc.fill_null(norm, "\x00")).to_numpy(zero_copy_only=False)
        elif pa.types.is_date32(col.type):
            cols[name] = pc.fill_null(col.cast(pa.int32()), -(2**31)).to_numpy()
        else:
            cols[name] = pc.fill_null(col.cast(pa.int64()), -(2**63)).to_numpy()
    frame = pd.DataFrame(cols)
    hashed = pd.util.hash_pandas_object(frame, index=False)
    return np.asarray(hashed, dtype=np.uint64)


class DuplicateIndex:
    """Fingerprints seen so far in a batch, with where each was first seen."""

    def __init__(self) -> None:
        self._runs: list[tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64]]] = []

    def __len__(self) -> int:
        return sum(len(k) for k, _ in self._runs)

    def _lookup(self, keys: npt.NDArray[np.uint64]) -> npt.NDArray[np.int64]:
        found = np.full(len(keys), -1, dtype=np.int64)
        for run_keys, run_locs in self._runs:
            pos = np.searchsorted(run_keys, keys)
            pos_c = np.minimum(pos, len(run_keys) - 1)
            hit = (run_keys[pos_c] == keys) & (found < 0)
            found = np.where(hit, run_locs[pos_c], found)
        return found

    def _add(self, keys: npt.NDArray[np.uint64], locs: npt.NDArray[np.int64]) -> None:
        order = np.argsort(keys, kind="stable")
        run = (keys[order], locs[order])
        while (
            self._runs
            and len(self._runs[-1][0]) <= len(run[0])
            and len(self._runs[-1][0]) + len(run[0]) <= MAX_RUN
        ):
            run = _merge(self._runs.pop(), run)
        self._runs.append(run)

    def check(self, records: pa.Table, fields: tuple[str, ...]) -> npt.NDArray[np.int64]:
        """For each record, the packed location of the earlier record it repeats, or -1.
        Records not seen before are added to the index."""
        n = records.num_rows
        if n == 0:
            return np.zeros(0, dtype=np.int64)
        keys = fingerprints(records, fields)
        src = records.column(SOURCE_COL).to_numpy().astype(np.int64)
        line = records.column(LINE_COL).to_numpy().astype(np.int64)
        locs = (src << _LINE_BITS) | line
        uniq_keys, first_idx, inverse = np.unique(keys, return_index=True, return_inverse=True)
        uniq: npt.NDArray[np.uint64] = uniq_keys.astype(np.uint64)
        earlier = self._lookup(uniq)
        first_loc = np.where(earlier >= 0, earlier, locs[first_idx])
        result = first_loc[inverse]
        is_first = np.zeros(n, dtype=bool)
        is_first[first_idx] = True
        result = np.where(is_first & (earlier[inverse] < 0), -1, result)
        new = earlier < 0
        if new.any():
            self._add(uniq[new], locs[first_idx[new]])
        return result


# Runs stop merging at this many entries, so a merge never needs more than a few times 16 MB
# of scratch memory however large the batch; past it, lookups visit one run per MAX_RUN.
MAX_RUN = 1 << 20


def _merge(
    a: tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64]],
    b: tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64]],
) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64]]:
    """Merge two sorted runs in linear time and one output allocation (no re-sort)."""
    n = len(a[0]) + len(b[0])
    pos_b = np.searchsorted(a[0], b[0], side="right") + np.arange(len(b[0]))
    in_b = np.zeros(n, dtype=bool)
    in_b[pos_b] = True
    keys = np.empty(n, dtype=np.uint64)
    locs = np.empty(n, dtype=np.int64)
    keys[in_b], locs[in_b] = b
    keys[~in_b], locs[~in_b] = a
    return keys, locs


def unpack(loc: int) -> tuple[int, int]:
    """(source, line) from a packed location."""
    return loc >> _LINE_BITS, loc & ((1 << _LINE_BITS) - 1)


def flags_for(
    records: pa.Table, repeats: npt.NDArray[np.int64], held_back: bool
) -> list[DuplicateFlag]:
    """DuplicateFlags for the records that repeat an earlier one."""
    idx = np.flatnonzero(repeats >= 0)
    if not len(idx):
        return []
    src = records.column(SOURCE_COL).to_numpy()
    line = records.column(LINE_COL).to_numpy()
    row = records.column(ROW_COL).to_numpy()
    out = []
    for i in idx:
        fs, fl = unpack(int(repeats[i]))
        out.append(DuplicateFlag(int(src[i]), int(line[i]), int(row[i]), fs, fl, held_back))
    return out
