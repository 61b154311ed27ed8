"""SHA-256 of input files, worked out once per run and, for a conversion, begun on a thread
while the program is still loading (hashlib releases the GIL): a file's hash is needed before
its first row is converted (re-run check), and a million-row file takes ~0.15 s to hash."""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from pathlib import Path

_Key = tuple[str, int, int, int, int]
_HASHES: dict[_Key, Future[str]] = {}
_LOCK = threading.Lock()
_KEEP = 64  # hashes remembered (a watcher runs for weeks)


def _key(path: Path) -> _Key:
    st = path.stat()
    return (str(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in blocks. A file whose identity, size and
    modification time have not changed since it was last hashed (or while it is being hashed
    ahead) is not read again."""
    key = _key(path)
    with _LOCK:
        pending = _HASHES.get(key)
        mine = pending is None
        if pending is None:
            if len(_HASHES) >= _KEEP:
                _HASHES.clear()
            pending = _HASHES[key] = Future()
    if not mine:
        with contextlib.suppress(OSError):  # else read it here: the error is the caller's
            return pending.result()
        return _digest(path)
    try:
        pending.set_result(_digest(path))
    except BaseException as e:
        pending.set_exception(e)
        with _LOCK:
            if _HASHES.get(key) is pending:
                del _HASHES[key]
        raise
    return pending.result()


def hash_ahead(paths: Sequence[Path]) -> None:
    """Begin hashing the regular files among ``paths`` on a background thread."""

    def work() -> None:
        for p in paths:
            try:
                if p.is_file():
                    file_sha256(p)
            except OSError:
                pass  # reported when the run itself reads the file

    threading.Thread(target=work, name="csvbridge-hash", daemon=True).start()
