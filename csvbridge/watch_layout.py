"""The watched folder's layout, its config file, safe names and the audit log.

ROOT/
  inbox/          files dropped here are converted
  outbox/         one folder per converted file: import files and reports
  archive/        each source converted, under a dated, collision-free name
  failed/         one folder per file that could not be converted: the file and REASON.txt
  mappings/       the mappings that recognise and convert files (or --mappings DIR)
  csvbridge.yaml  targets per mapping, duplicate policy, report formats, timings
  .csvbridge/     history.sqlite, audit.jsonl, processing/ (claimed files), locks
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .atomic import write_atomic
from .watch_config import DEFAULT_CONFIG, WatchConfigError
from .watch_fs import FileLock

CONFIG_NAME = "csvbridge.yaml"
STATE_DIR = ".csvbridge"

# Names that are never taken: partial downloads, editors' lock and temporary files, dot-files.
IGNORED_SUFFIXES = (
    ".part",
    ".partial",
    ".crdownload",
    ".download",
    ".filepart",
    ".tmp",
    ".temp",
    ".swp",
    ".lock",
    "~",
    "#",
)
IGNORED_NAMES = frozenset({"thumbs.db", "desktop.ini"})
_WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL"}
    | {f"COM{i}" for i in range(1, 10)}
    | {f"LPT{i}" for i in range(1, 10)}
)
_UNSAFE_CHARS = set('/\\:*?"<>|')


@dataclass(frozen=True)
class Layout:
    """The paths of one watched folder."""

    root: Path
    mappings: Path

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def outbox(self) -> Path:
        return self.root / "outbox"

    @property
    def archive(self) -> Path:
        return self.root / "archive"

    @property
    def failed(self) -> Path:
        return self.root / "failed"

    @property
    def config(self) -> Path:
        return self.root / CONFIG_NAME

    @property
    def state(self) -> Path:
        return self.root / STATE_DIR

    @property
    def processing(self) -> Path:
        return self.state / "processing"

    @property
    def watchers(self) -> Path:
        return self.state / "watchers"

    @property
    def history(self) -> Path:
        return self.state / "history.sqlite"

    @property
    def audit(self) -> Path:
        return self.state / "audit.jsonl"

    @property
    def convert_lock(self) -> Path:
        return self.state / "convert.lock"

    @property
    def marker(self) -> Path:
        return self.state / "converting.json"

    def folders(self) -> list[Path]:
        return [
            self.inbox,
            self.outbox,
            self.archive,
            self.failed,
            self.state,
            self.processing,
            self.watchers,
        ]


def layout_for(root: str | Path, mappings: str | Path | None = None) -> Layout:
    r = Path(root).absolute()
    return Layout(r, Path(mappings).absolute() if mappings else r / "mappings")


def ensure_layout(layout: Layout) -> list[str]:
    """Create what is missing (folders, a commented config file); returns what was created.
    A layout folder that is a symbolic link is refused: the watcher never follows links out
    of ROOT."""
    created: list[str] = []
    try:
        if not layout.root.exists():
            layout.root.mkdir(parents=True)
            created.append(str(layout.root))
        folders = layout.folders()
        if layout.mappings == layout.root / "mappings":
            folders.append(layout.mappings)
        for d in folders:
            if d.is_symlink():
                raise WatchConfigError(
                    f"{d.name}/ is a symbolic link; the watcher does not follow links",
                    where=str(d),
                    hint="make it a real folder inside the watched folder.",
                    code="watch-layout",
                )
            if not d.is_dir():
                d.mkdir(parents=True)
                created.append(str(d.relative_to(layout.root)) + "/")
        if not layout.config.exists():
            write_atomic(layout.config, DEFAULT_CONFIG.encode("utf-8"))
            created.append(CONFIG_NAME)
    except FileExistsError as e:
        raise WatchConfigError(
            "a file stands where the watched folder needs a folder",
            where=str(e.filename),
            hint="move the file away, or choose another ROOT.",
            code="watch-layout",
        ) from None
    except OSError as e:
        raise WatchConfigError(
            f"the watched folder cannot be set up: {e.strerror}",
            where=str(e.filename or layout.root),
            hint="check the path and your permissions.",
            code="watch-layout",
        ) from None
    if not layout.mappings.is_dir():
        raise WatchConfigError(
            "the mappings folder does not exist",
            where=str(layout.mappings),
            hint="give a folder of mapping .yaml files with --mappings, or leave it out to use "
            "ROOT/mappings.",
            code="watch-mappings",
        )
    return created


# -- names -----------------------------------------------------------------------------------
def ignored(name: str) -> bool:
    """A name that is never taken: a dot-file, an Office owner file (~$x.xlsx), a partial
    download or a temporary file."""
    low = name.lower()
    return (
        name.startswith((".", "~"))
        or low.endswith(IGNORED_SUFFIXES)
        or low in IGNORED_NAMES
        or not name.strip()
    )


def locked_by_editor(name: str, siblings: set[str]) -> bool:
    """An office suite has the file open (its owner or lock file sits beside it)."""
    return bool(
        {f"~${name}", f"~${name[2:]}", f".~lock.{name}#"} & siblings
        if len(name) > 2
        else {f"~${name}", f".~lock.{name}#"} & siblings
    )


def shown(name: str) -> str:
    """A file name as text safe to print: control and undecodable characters escaped."""
    out = []
    for c in name:
        if c.isprintable():
            out.append(c)
        elif ord(c) < 0x100:
            out.append(f"\\x{ord(c):02x}")
        else:
            out.append(f"\\u{ord(c):04x}")
    return "".join(out)


def _clean_part(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    chars = []
    for c in text:
        bad = c in _UNSAFE_CHARS or (unicodedata.category(c)[0] in "CZ" and c != " ")
        chars.append("_" if bad else c)
    return re.sub(r"[\s_]+", lambda m: "_" if "_" in m.group() else " ", "".join(chars))


def _truncate(text: str, max_bytes: int) -> str:
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    return data[:max_bytes].decode("utf-8", "ignore")


def safe_stem_ext(name: str, max_bytes: int = 80) -> tuple[str, str]:
    """A file name's stem and extension, safe to use in a path on any system: no separators,
    no '..', no control characters, no reserved device names, bounded length."""
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem or not re.fullmatch(r"[A-Za-z0-9]{1,10}", ext):
        stem, ext = name, ""
    stem = _clean_part(stem).strip(" ._-")
    stem = re.sub(r"\.{2,}", ".", stem)
    if stem.split(".")[0].upper() in _WINDOWS_RESERVED:
        stem = "_" + stem
    stem = _truncate(stem, max_bytes).rstrip(" .") or "file"
    return stem, ext


def safe_name(name: str, max_bytes: int = 80) -> str:
    stem, ext = safe_stem_ext(name, max_bytes)
    return f"{stem}.{ext}" if ext else stem


# -- audit log -------------------------------------------------------------------------------
def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


class Audit:
    """The audit log: one JSON object per line, appended (every file seen, claimed, converted
    or failed, with counts and hashes). Lines are written whole with one append, so several
    watchers can share the log.

    Rotated by size: once it passes ``max_bytes``, audit.jsonl becomes audit.jsonl.1 (.1
    becomes .2, ...; ``keep`` old logs are kept, the oldest removed). One watcher rotates at a
    time (a lock beside the log); a line another watcher appends while the log is renamed
    lands in audit.jsonl.1, whole — no line is lost.

    Permissions: the log names the folder's files, so it gets no permission the watched
    folder or any file it names does not have (``limit_to``), like the outputs made from a
    file (outfiles.limit_modes_to), and the umask applies. It only ever narrows: a log (and
    the rotated ones) wider than that is narrowed, and a new log is no wider than the one it
    replaces."""

    def __init__(
        self, path: Path, watcher: str, max_bytes: int = 10_000_000, keep: int = 5
    ) -> None:
        self.path = path
        self.watcher = watcher
        self.max_bytes = max_bytes
        self.keep = keep
        self.cap = 0o666  # the widest mode the log may have (see limit_to)

    def limit_to(self, path: Path) -> None:
        """The log names ``path`` (a file, or the watched folder): from now on it gets no
        read or write permission ``path`` does not have (the owner's are always kept), and
        the logs already written are narrowed to match."""
        try:
            mode = path.lstat().st_mode
        except OSError:
            return
        cap = self.cap & (mode & 0o666 | 0o600)
        if cap == self.cap:
            return
        self.cap = cap
        for p in self._files():
            with contextlib.suppress(OSError):
                m = p.lstat().st_mode & 0o777
                if m & ~cap:
                    os.chmod(p, m & cap)

    def _files(self) -> list[Path]:
        return [self.path] + [
            self.path.with_name(f"{self.path.name}.{i}") for i in range(1, self.keep + 1)
        ]

    def log(self, event: str, **fields: Any) -> dict[str, Any]:
        entry = {"time": now_iso(), "event": event, "watcher": self.watcher, **fields}
        line = (json.dumps(entry, ensure_ascii=True, default=str) + "\n").encode("ascii")
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, self._new_mode())
        try:
            st = os.fstat(fd)
            if st.st_mode & 0o777 & ~self.cap:  # created wider, by an older csvbridge
                with contextlib.suppress(OSError):
                    os.chmod(self.path, st.st_mode & 0o777 & self.cap)
            os.write(fd, line)
            size = os.fstat(fd).st_size
        finally:
            os.close(fd)
        if size > self.max_bytes:
            self.rotate()
        return entry

    def _new_mode(self) -> int:
        """A new log (after a rotation): no wider than the cap, nor than the log it replaces
        (the narrowing of an earlier watcher of the folder is kept); the umask applies."""
        mode = self.cap
        with contextlib.suppress(OSError):
            mode &= self.path.with_name(f"{self.path.name}.1").stat().st_mode & 0o666 | 0o600
        return mode

    def rotate(self) -> bool:
        """Rotate now if the log is past its size (and no other watcher is rotating it)."""
        lock = FileLock(self.path.with_name(f".{self.path.name}.rotate.lock"))
        if not lock.acquire():
            return False  # another watcher is rotating it
        try:
            try:
                if self.path.stat().st_size <= self.max_bytes:
                    return False  # rotated meanwhile
            except FileNotFoundError:
                return False
            old = [self.path.with_name(f"{self.path.name}.{i}") for i in range(self.keep + 1)]
            with contextlib.suppress(FileNotFoundError):
                old[self.keep].unlink()
            for i in range(self.keep - 1, 0, -1):
                with contextlib.suppress(FileNotFoundError):
                    os.replace(old[i], old[i + 1])
            os.replace(self.path, old[1])
            return True
        finally:
            lock.release()


def read_audit(path: Path, max_bytes: int = 2_000_000) -> list[dict[str, Any]]:
    """The last entries of the audit log (about ``max_bytes`` of it), oldest first."""
    try:
        with path.open("rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - max_bytes))
            data = f.read()
    except FileNotFoundError:
        return []
    lines = data.split(b"\n")
    if size > max_bytes:
        lines = lines[1:]  # the first may be cut
    out: list[dict[str, Any]] = []
    for raw in lines:
        if not raw.strip():
            continue
        try:
            entry = json.loads(raw)
        except ValueError:
            continue  # a line cut by a crash mid-write
        if isinstance(entry, dict):
            out.append(entry)
    return out
