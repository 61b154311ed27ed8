"""The local engine: everything in this process, one chunk at a time."""

from __future__ import annotations

from collections.abc import Generator, Sequence
from contextlib import ExitStack
from pathlib import Path

from . import prefetch
from .base import Closed, Event, MapJob, Opened, open_input


class LocalEngine:
    """Reads and maps each file in turn in this process; memory is bounded by the chunk size."""

    name = "local"

    def run(self, inputs: Sequence[Path], job: MapJob) -> Generator[Event, None, None]:
        """Yield each file's events in input order (read and mapped a little ahead, on a
        background thread: prefetch.py)."""
        events = self._events(inputs, job)
        if prefetch.enabled():
            return prefetch.prefetched(events)
        return events

    def _events(self, inputs: Sequence[Path], job: MapJob) -> Generator[Event, None, None]:
        row_offset = 0
        for i, path in enumerate(inputs):
            with ExitStack() as stack:
                finder, columns, at_open = open_input(path, i, job, stack)
                yield Opened(finder.info, at_open)
                for chunk in finder.chunks(job.chunk_rows):
                    mapped = job.map(chunk, columns, row_offset)
                    row_offset += chunk.num_rows
                    yield mapped
                yield Closed(finder.info)
