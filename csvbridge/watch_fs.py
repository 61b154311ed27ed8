"""File-system steps the watched folder relies on: locks the OS releases when a process dies,
moves that never overwrite, and durable renames."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .atomic import write_atomic
from .errors import CsvbridgeError

if sys.platform == "win32":
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        with contextlib.suppress(OSError):
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

    def held_by_writer(path: Path) -> bool:
        return False  # Windows refuses the rename of a file open for writing instead

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)

    def held_by_writer(path: Path) -> bool:
        """A program holds a lock on the file (flock): it is still being written."""
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return True
        finally:
            os.close(fd)
        return False


class FileLock:
    """An exclusive lock on a file, released by the OS when the holder dies (even kill -9)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    def acquire(self, create: bool = True) -> bool:
        """Take the lock if it is free; False if another holder has it."""
        fd = os.open(self.path, os.O_RDWR | (os.O_CREAT if create else 0), 0o644)
        if not _try_lock(fd):
            os.close(fd)
            return False
        self.fd = fd
        return True

    def acquire_new(self) -> bool:
        """Take the lock on a file that does not exist yet, making it appear already locked
        (locked under a temporary name, then renamed): no one ever sees it unlocked and takes
        its owner for dead."""
        tmp = self.path.with_name(f".{self.path.name}.new")
        fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        if not _try_lock(fd):
            os.close(fd)
            return False
        try:
            if self.path.exists():
                raise FileExistsError(self.path)
            os.rename(tmp, self.path)
        except OSError:
            _unlock(fd)
            os.close(fd)
            with contextlib.suppress(OSError):
                tmp.unlink()
            return False
        self.fd = fd
        return True

    def release(self) -> None:
        if self.fd is not None:
            _unlock(self.fd)
            os.close(self.fd)
            self.fd = None


def owner_alive(lock_path: Path) -> bool:
    """Whether the process holding ``lock_path`` (a watcher's life lock) is still running."""
    if not lock_path.exists():
        return False
    probe = FileLock(lock_path)
    try:
        if probe.acquire(create=False):
            probe.release()
            return False
    except FileNotFoundError:
        return False
    except OSError:
        return True  # cannot tell (permissions): never take over what may be alive
    return True


def sync_dir(path: Path) -> None:
    """Make a rename in ``path`` durable (POSIX; a no-op where folders cannot be opened)."""
    if sys.platform == "win32":
        return
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def move_no_clobber(src: Path, dst: Path) -> None:
    """Move a file (or link) to ``dst``, never replacing anything there: FileExistsError.
    Done with a hard link and an unlink, so a crash leaves both names on one file, which
    ``move_no_clobber`` run again settles."""
    if dst.exists() or dst.is_symlink():
        if src.exists() and _same_file(src, dst):
            src.unlink()
            return
        raise FileExistsError(dst)
    try:
        os.link(src, dst, follow_symlinks=False)
    except FileExistsError:
        raise
    except OSError:  # no hard links here (some network shares): check, then rename
        if dst.exists() or dst.is_symlink():
            raise FileExistsError(dst) from None
        os.rename(src, dst)
    else:
        src.unlink()
    sync_dir(dst.parent)


def _same_file(a: Path, b: Path) -> bool:
    try:
        sa, sb = a.lstat(), b.lstat()
    except OSError:
        return False
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


def free_name(folder: Path, stem: str, ext: str) -> Path:
    """``folder/stem.ext``, or ``stem-2.ext``, ``stem-3.ext``, ... if taken."""
    suffix = f".{ext}" if ext else ""
    cand = folder / f"{stem}{suffix}"
    n = 1
    while cand.exists() or cand.is_symlink():
        n += 1
        cand = folder / f"{stem}-{n}{suffix}"
    return cand


def remove_tree(path: Path) -> None:
    """Remove a folder: renamed aside first, so a crash mid-way leaves no half-claim."""
    if not path.exists():
        return
    trash = path.parent / f".trash-{path.name}"
    try:
        os.rename(path, trash)
    except OSError:
        trash = path
    shutil.rmtree(trash, ignore_errors=True)


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_json(path: Path, data: dict[str, Any]) -> None:
    write_atomic(path, (json.dumps(data, indent=2, ensure_ascii=True) + "\n").encode("ascii"))


@contextlib.contextmanager
def turn_of_watched_history(history: Path | None, wait: float = 600.0) -> Iterator[None]:
    """Around a manual ``convert``: when ``history`` is a watched folder's own history
    (ROOT/.csvbridge/history.sqlite), take that folder's conversion lock, so the conversion
    takes its turn with the watchers' (they tell their own unfinished batch from any other
    by it). Waits up to ``wait`` seconds; CsvbridgeError if a watcher keeps it longer."""
    state = history.absolute().parent if history is not None else None
    if state is None or state.name != ".csvbridge" or not (state / "processing").is_dir():
        yield
        return
    lock = FileLock(state / "convert.lock")
    deadline = time.monotonic() + wait
    while not lock.acquire():
        if time.monotonic() > deadline:
            raise CsvbridgeError(
                "a watcher of this folder is converting and did not finish in time",
                where=str(history),
                hint="try again later, or give this conversion its own --history.",
                code="history-busy",
            )
        time.sleep(0.1)
    try:
        yield
    finally:
        lock.release()
