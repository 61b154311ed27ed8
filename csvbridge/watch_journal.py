"""A claim's folder (.csvbridge/processing/<watcher>--<claim>/: src/, out/, journal.json) and
its journal: what is recorded when a file is claimed, how an outcome is written down, and what
of it the audit log and the notes show."""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .readers import file_sha256
from .watch_fs import write_json
from .watch_layout import now_iso, safe_name, safe_stem_ext, shown

JOURNAL = "journal.json"
NOTE_NAMES = {"REASON.txt", "reason.json", "ALREADY-IMPORTED.txt", "already-imported.json"}


@dataclass
class Claim:
    """A claimed file's folder and journal."""

    dir: Path
    journal: dict[str, Any]

    @property
    def src(self) -> Path:
        return self.dir / "src" / str(self.journal["name"])

    @property
    def out(self) -> Path:
        return self.dir / "out"

    def save(self) -> None:
        write_json(self.dir / JOURNAL, self.journal)


def new_journal(name: str, cid: str) -> dict[str, Any]:
    """The journal of claim ``cid`` of inbox/NAME: the names it will get in outbox/, failed/
    and archive/."""
    short = cid.rsplit("-", 1)[-1]
    date, hms = time.strftime("%Y-%m-%d"), time.strftime("%H%M%S")
    stem, ext = safe_stem_ext(name)
    safe = safe_name(name)
    if safe in NOTE_NAMES:
        safe = "file-" + safe
    return {
        "claim": cid,
        "name": name,
        "shown": shown(name),
        "safe": safe,
        "claimed": now_iso(),
        "outbox": f"{date}_{stem}_{short}",
        "failed": f"{date}_{stem}_{short}",
        "archive": f"{date}_{hms}_{stem}_{short}" + (f".{ext}" if ext else ""),
        "outcome": None,
    }


def hash_into(claim: Claim) -> None:
    """Record the claimed file's size, whether it is a regular file, and its SHA-256."""
    st = claim.src.lstat()
    claim.journal["bytes"] = st.st_size
    claim.journal["regular"] = stat.S_ISREG(st.st_mode)
    claim.journal["sha256"] = file_sha256(claim.src) if stat.S_ISREG(st.st_mode) else None


def fail(claim: Claim, code: str, message: str, **more: Any) -> None:
    """Record the outcome 'failed' with its reason, and save the journal."""
    claim.journal["outcome"] = "failed"
    claim.journal["reason"] = {"code": code, "message": message, **more}
    claim.save()


def utf8_path(claim: Claim) -> Path:
    """The claimed file under a name every output can hold: a name that is not valid UTF-8
    (bytes from another system) is converted through a link named with those bytes shown as
    U+FFFD, so the reports name it readably instead of failing."""
    name = str(claim.journal["name"])
    try:
        name.encode("utf-8")
        return claim.src
    except UnicodeEncodeError:
        pass
    alias = claim.dir / "as" / name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    alias.parent.mkdir(exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        alias.unlink()
    try:
        os.link(claim.src, alias)
    except OSError:  # no hard links here: a copy, removed with the claim folder
        shutil.copyfile(claim.src, alias)
    return alias


def public_view(j: dict[str, Any]) -> dict[str, Any]:
    """The journal as reported: the printable name as 'file', no internal keys."""
    out = {k: v for k, v in j.items() if k not in ("name", "shown", "outcome", "regular")}
    out["file"] = j["shown"]
    return out
