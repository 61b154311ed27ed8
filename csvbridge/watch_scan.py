"""Which files in inbox/ are complete: unchanged for a while, not locked, not a partial name."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from .watch_fs import held_by_writer
from .watch_layout import ignored, locked_by_editor


@dataclass
class _Seen:
    signature: tuple[int, int, int]
    since: float


class Scanner:
    """Lists inbox/ and says which files are complete: unchanged (size, modification time,
    inode) for ``settle`` seconds of observation, not locked by a writer or an office suite,
    and not a partial or temporary name."""

    def __init__(self, inbox: Path, settle: float) -> None:
        self.inbox = inbox
        self.settle = settle
        self.seen: dict[str, _Seen] = {}

    def scan(self) -> tuple[list[str], list[str], list[tuple[str, int]]]:
        """(ready, still settling, newly seen with their size)."""
        now = time.monotonic()
        ready: list[tuple[int, str]] = []
        pending: list[str] = []
        new: list[tuple[str, int]] = []
        present: set[str] = set()
        try:
            entries = list(os.scandir(self.inbox))
        except OSError:
            return [], [], []
        siblings = {e.name for e in entries}
        for e in entries:
            name = e.name
            if ignored(name):
                continue
            try:
                st = e.stat(follow_symlinks=False)
            except OSError:
                continue
            link = e.is_symlink()
            if not link and not e.is_file(follow_symlinks=False):
                continue  # folders, pipes, devices: never taken
            present.add(name)
            sig = (st.st_size, st.st_mtime_ns, st.st_ino)
            prev = self.seen.get(name)
            if prev is None or prev.signature != sig:
                if prev is None:
                    new.append((name, st.st_size))
                self.seen[name] = _Seen(sig, now)
                pending.append(name)
            elif now - prev.since < self.settle or (
                not link and (locked_by_editor(name, siblings) or held_by_writer(Path(e.path)))
            ):
                pending.append(name)
            else:
                ready.append((st.st_mtime_ns, name))
        for gone in set(self.seen) - present:
            del self.seen[gone]
        return [n for _, n in sorted(ready)], pending, new

    def again(self, name: str) -> None:
        """Wait another ``settle`` seconds before offering ``name`` again."""
        if name in self.seen:
            self.seen[name].since = time.monotonic()
