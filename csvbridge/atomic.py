"""Atomic file writes: write a temporary file beside the target, flush it to disk, rename."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import IO

from .errors import OutputError
from .outfiles import default_mode, folder_mode, remove_stale_partials, temp_file, write_error


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that readers see the old file or the new, never half."""
    write_atomic_with(path, lambda f: f.write(data))


def write_atomic_with(path: Path, write: Callable[[IO[bytes]], object]) -> None:
    """As ``write_atomic``, the content written by ``write`` into the open temporary file (a
    large report need not be held in memory)."""
    tmp = None
    written = 0
    try:
        fd, tmp = temp_file(path.parent, path.name)
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            written = f.tell()
            os.fsync(f.fileno())
        os.chmod(tmp, default_mode())
        os.replace(tmp, path)
        tmp = None
    except OSError as e:
        raise write_error(e, path.parent, path.name, written) from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                tmp.unlink()


def ensure_outdir(path: Path) -> Path:
    """Create the output folder if needed (no more open than the outputs it will hold), and
    remove temporary files that killed runs left in it; OutputError if it cannot be used."""
    try:
        if not path.is_dir():
            path.mkdir(parents=True, exist_ok=True, mode=folder_mode())
    except FileExistsError:
        raise OutputError(
            "the output path exists and is not a folder",
            where=str(path),
            hint="give a folder for -o (it is created if missing).",
            code="output-not-folder",
        ) from None
    except OSError as e:
        raise OutputError(
            f"cannot create the output folder: {e.strerror}",
            where=str(path),
            hint="check the path and your permissions.",
            code="output-unwritable",
        ) from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise OutputError(
            "the output folder is not writable",
            where=str(path),
            hint="choose another folder with -o, or fix its permissions.",
            code="output-unwritable",
        )
    remove_stale_partials(path)
    return path
