"""What is worked out for each mapped chunk on the thread (or worker) that maps it, so the
thread that checks duplicates and writes does less: the duplicate stage's pure part, and the
CSV lines of writers whose cells depend on nothing but the records."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pyarrow as pa

from .dedup import Prepared, Preparer


@dataclass(frozen=True)
class Prepped:
    """A chunk's prepared parts: the duplicate stage's, and each pure writer's lines."""

    dedup: Prepared
    lines: dict[str, pa.Array] = field(default_factory=dict)


@dataclass(frozen=True)
class ChunkPrep:
    """``MapJob.prepare`` for a conversion. ``lines`` (target name, the writer's ``lines``)
    only for an engine that maps in this process: a writer is not sent to workers."""

    dedup: Preparer
    lines: tuple[tuple[str, Callable[[pa.Table], pa.Array]], ...] = ()

    def __call__(self, records: pa.Table) -> Prepped:
        return Prepped(self.dedup(records), {name: make(records) for name, make in self.lines})
