"""Look-ups in the history's records without SQL per record: exact duplicates through the
sorted runs of record identities, possible duplicates through the sorted runs of near keys
(history_runs.py); the details of a hit (batch, file, line, text) come from its block
(history_blocks.py). Everything happens inside the run's transaction, so two processes never
see a half-built index, and a run never sees its own records (the batch's in-memory indexes
handle those).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from .history_blocks import POS_BITS, POS_MASK, Blocks
from .history_runs import KeyRuns

# (i, ref, identity, batch, source, line, near_key, text) of a possible-duplicate candidate
NearRow = tuple[int, int, int, int, str, int, int, str]


@dataclass
class Found:
    """Look-up results aligned with the keys asked: whether each is in the history, and
    the batch, source file and line of its earliest record."""

    hit: npt.NDArray[np.bool_]
    batch: npt.NDArray[np.int64]
    source: npt.NDArray[np.object_]
    line: npt.NDArray[np.int64]

    @staticmethod
    def empty(n: int) -> Found:
        return Found(
            np.zeros(n, dtype=bool),
            np.full(n, -1, dtype=np.int64),
            np.full(n, "", dtype=object),
            np.zeros(n, dtype=np.int64),
        )


class HistoryIndex:
    """The record blocks and both kinds of runs of one history database."""

    def __init__(self, blocks: Blocks) -> None:
        self.blocks = blocks
        self.identity = KeyRuns(blocks.db, blocks, "identity")
        self.near_keys = KeyRuns(blocks.db, blocks, "near")

    def lookup(self, keys: npt.NDArray[np.int64]) -> Found:
        """Where the history holds each key (its earliest record), aligned with ``keys``."""
        found = Found.empty(len(keys))
        ref = self.identity.first(keys)
        at = np.flatnonzero(ref >= 0)
        if len(at):
            found.hit[at] = True
            found.batch[at], found.source[at], found.line[at] = self.blocks.details(ref[at])
        return found

    def near(self, lo: npt.NDArray[np.int64], hi: npt.NDArray[np.int64]) -> list[NearRow]:
        """Records whose near key lies in [lo[i], hi[i]], ordered by i then ref (the order
        recorded)."""
        if not len(lo) or not self.near_keys.has_keys():
            return []
        rows, refs = self.near_keys.within(lo, hi)
        if not len(rows):
            return []
        meta = self.blocks.meta()
        out: list[NearRow] = []
        blocks = refs >> POS_BITS
        # block by block, then back in (i, ref) order
        for b in np.unique(blocks).tolist():
            at = np.flatnonzero(blocks == b)
            pos = refs[at] & POS_MASK
            m = meta[b]
            ident = np.asarray(self.blocks.column(b, "identity"))[pos].tolist()
            source = np.asarray(self.blocks.column(b, "source"))[pos].tolist()
            line = np.asarray(self.blocks.column(b, "line"))[pos].tolist()
            key = np.asarray(self.blocks.column(b, "near_key"))[pos].tolist()
            texts = self.blocks.column(b, "text")
            assert isinstance(texts, pa.Array)
            text = texts.take(pa.array(pos)).to_pylist()
            out += [
                (
                    int(rows[a]),
                    int(refs[a]),
                    ident[k],
                    m.batch,
                    m.sources[source[k]],
                    line[k],
                    key[k],
                    text[k] or "",
                )
                for k, a in enumerate(at.tolist())
            ]
        out.sort(key=lambda r: (r[0], r[1]))
        return out

    def open_batch(self, batch_id: int) -> None:
        """This run records ``batch_id``: look-ups leave its records out."""
        self.identity.open_batch(batch_id)
        self.near_keys.open_batch(batch_id)

    def add_block(
        self,
        batch_id: int,
        block_id: int,
        identities: npt.NDArray[np.int64],
        near_keys: npt.NDArray[np.int64] | None,
    ) -> None:
        """Index a block just written for the batch being recorded."""
        refs = (np.int64(block_id) << POS_BITS) | np.arange(len(identities), dtype=np.int64)
        self.identity.add(batch_id, identities, refs)
        if near_keys is not None:
            self.near_keys.add(batch_id, near_keys, refs)

    def release(self) -> None:
        """Close what look-ups hold open in the database."""
        self.identity.release()
        self.near_keys.release()

    def finish_batch(self) -> None:
        """The batch being recorded is complete: merge its runs into the index."""
        self.identity.finish_batch()
        self.near_keys.finish_batch()
        self.blocks.forget()

    def forget(self, batch_id: int) -> None:
        """Take a batch's records out of the runs (its blocks are deleted with it)."""
        blocks = {
            r[0]
            for r in self.blocks.db.execute(
                "SELECT id FROM record_block WHERE batch_id = ?", (batch_id,)
            )
        }
        self.identity.forget(batch_id, blocks)
        self.near_keys.forget(batch_id, blocks)
        self.blocks.forget()
