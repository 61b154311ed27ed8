"""What every output file shares: its temporary name while it is written, the cleanup of
temporary files a killed run left behind, the permissions it gets, and the error a person sees
when writing it fails (a full disk above all).

Temporary names are ``.<name>.cb<pid>@<host>-<random>.partial`` (a folder for the archive):
csvbridge's own, with the process that owns it. When a run starts, it removes such files in
its output folder whose owner is gone — the process is dead (same host) — or that nobody has
touched for ``STALE_HOURS`` (another host, or a process id since reused). Another run writing
into the same folder at the same time keeps its files: its process is alive, and its files
are written to (or were finished) moments ago. Nothing that does not match the pattern is
ever removed.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import shutil
import socket
import tempfile
import time
from collections.abc import Iterable
from contextvars import ContextVar
from pathlib import Path

from .errors import OutputError

STALE_HOURS = 24
_HOST = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:6]
_PARTIAL = re.compile(r"^\..+\.cb(\d+)@([0-9a-f]{6})-[a-z0-9_]+\.partial$")


def temp_prefix(name: str) -> str:
    """The prefix of a temporary file (or folder) for ``name``: ``.<name>.cb<pid>@<host>-``."""
    return f".{name}.cb{os.getpid()}@{_HOST}-"


def temp_file(folder: Path, name: str) -> tuple[int, Path]:
    """Create a temporary file for ``name`` in ``folder``: (fd, path); OSError as raised."""
    fd, path = tempfile.mkstemp(prefix=temp_prefix(name), suffix=".partial", dir=folder)
    return fd, Path(path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def stale_partials(folder: Path, *, now: float | None = None) -> list[Path]:
    """csvbridge's temporary files in ``folder`` whose run is over (see the module doc)."""
    now = time.time() if now is None else now
    found = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    for e in entries:
        m = _PARTIAL.match(e.name)
        if m is None:
            continue
        pid, host = int(m.group(1)), m.group(2)
        if pid == os.getpid() and host == _HOST:
            continue  # this process's own (another conversion in it may be running)
        try:
            age = now - e.stat(follow_symlinks=False).st_mtime
        except OSError:
            continue
        dead = host == _HOST and not _alive(pid)
        if dead or age > STALE_HOURS * 3600:
            found.append(Path(e.path))
    return sorted(found)


def remove_stale_partials(folder: Path) -> list[Path]:
    """Remove what ``stale_partials`` finds; returns what was removed."""
    removed = []
    for p in stale_partials(folder):
        with contextlib.suppress(OSError):
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p)
            else:
                p.unlink()
            removed.append(p)
    return removed


# -- permissions ------------------------------------------------------------------------------
_CAP: ContextVar[int] = ContextVar("csvbridge_output_mode_cap", default=0o666)


def limit_modes_to(inputs: Iterable[str | Path]) -> int:
    """Outputs written from now on (in this thread or task) get no permission the inputs do
    not all have: an input readable by its owner only makes every output so. Returns the cap.
    Inputs that cannot be examined (missing: reported when opened) do not count."""
    cap = 0o666
    for p in inputs:
        with contextlib.suppress(OSError):
            st = os.stat(p)
            cap &= st.st_mode & 0o666
    _CAP.set(cap | 0o600)  # the owner must still be able to read and replace the file
    return _CAP.get()


def default_mode() -> int:
    """The mode an output file gets: what a plainly created file gets under the current umask
    (mkstemp uses 0600), and no wider than the inputs allow (see ``limit_modes_to``)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask & _CAP.get()


def folder_mode() -> int:
    """The mode of a folder csvbridge creates for outputs: ``default_mode`` with search
    permission wherever it allows reading."""
    mode = default_mode()
    return mode | ((mode & 0o444) >> 2)


# -- errors -----------------------------------------------------------------------------------
def _mb(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB" if n >= 100_000 else f"{n:,} bytes"


def create_error(e: OSError, folder: Path) -> OutputError:
    """The error a person sees when no new file can be created in the output folder."""
    return OutputError(
        f"cannot create files in the output folder: {e.strerror}",
        where=str(folder),
        hint="check the folder exists, is writable, and the disk has space.",
        code="output-unwritable",
    )


def write_error(e: OSError, folder: Path, name: str, written: int = 0) -> OutputError:
    """The error a person sees when writing ``name`` in ``folder`` failed: a full disk says so,
    with the free space and what more is needed."""
    if e.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        try:
            free = f"{_mb(shutil.disk_usage(folder).free)} is free on that disk now"
        except OSError:
            free = "the free space could not be read"
        quota = " (or your quota)" if e.errno != errno.ENOSPC else ""
        need = f"more than {_mb(written)}" if written else "room for the outputs"
        return OutputError(
            f"the disk is full{quota}: {name} could not be written ({e.strerror})",
            where=str(folder),
            hint=f"{name} needs {need}; {free}. Free space "
            "there (about the input files' size for each target, plus the reports) or choose "
            "another folder with -o, then run again. No partial file is kept.",
            code="output-write-failed",
        )
    if e.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return OutputError(
            f"cannot write {name}: {e.strerror}",
            where=str(folder),
            hint="choose another folder with -o, or fix its permissions. No partial file is kept.",
            code="output-unwritable",
        )
    return OutputError(
        f"cannot write {name}: {e.strerror or e}",
        where=str(folder),
        hint="check free disk space and permissions; no partial file is kept.",
        code="output-write-failed",
    )
