"""Read ahead: run an event generator on a background thread, a few items ahead of its
consumer. Reading (pyarrow's parser) and much of mapping (pyarrow compute) release the GIL,
so the next chunk is read and mapped on the second core while this one is checked for
duplicates and written. Items arrive in the same order, exceptions at the same point."""

from __future__ import annotations

import contextlib
import os
import queue
import threading
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

DEPTH = 1  # items waiting besides the one being made: each a mapped chunk (some MB)


@dataclass
class _Failed:
    error: BaseException


class _End:
    pass


def enabled() -> bool:
    """Whether to read ahead (``CSVBRIDGE_PREFETCH=0`` turns it off, e.g. for profiling)."""
    return os.environ.get("CSVBRIDGE_PREFETCH", "1") != "0"


def prefetched(source: Iterator[T], depth: int = DEPTH) -> Generator[T, None, None]:
    """Yield ``source``'s items, produced on a background thread up to ``depth`` ahead.
    Closing this generator stops the thread and closes ``source`` on it."""
    q: queue.Queue[T | _Failed | _End] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: T | _Failed | _End) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in source:
                if not put(item):
                    break
            else:
                put(_End())
        except BaseException as e:  # handed to the consumer, raised there
            put(_Failed(e))
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()  # on this thread: the one that ran the generator

    thread = threading.Thread(target=work, name="csvbridge-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if isinstance(item, _End):
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item
    finally:
        stop.set()
        while thread.is_alive():
            with contextlib.suppress(queue.Empty):  # unblock a worker waiting to put
                q.get(timeout=0.05)
        thread.join()
