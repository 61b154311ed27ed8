"""Files that wait for the history or the disk. When the folder's history cannot be used —
another conversion held it past the wait (``history-busy``), or the disk under it is full
(``history-disk-full``) — or the disk the outputs are written to is full, the file is not at
fault: its claim stays in .csvbridge/processing/ and is tried again after a pause that doubles
each time (10 s, 20 s, ... at most 5 minutes), each try logged (audit ``deferred``). Only after
``history_wait_minutes`` does it go to failed/, its REASON.txt saying so. The journal keeps the
count and the times, so the wait is bounded across restarts and ``--once`` runs too."""

from __future__ import annotations

import errno
import time
from typing import Any

from .errors import CsvbridgeError, OutputError

RETRY_CODES = frozenset({"history-busy", "history-disk-full"})
_FULL = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))
FIRST_PAUSE = 10.0
MAX_PAUSE = 300.0


class HistoryWait(Exception):
    """The history (or the disk) could not be used, which is not the file's fault: try the
    file again later."""

    def __init__(self, error: CsvbridgeError) -> None:
        super().__init__(error.message)
        self.error = error


def retryable(e: CsvbridgeError) -> bool:
    """Not the file's fault: the history busy or its disk full, or outputs that could not
    be written for want of space (the OSError behind the OutputError says so)."""
    if e.code in RETRY_CODES:
        return True
    if not isinstance(e, OutputError):
        return False
    cause: BaseException | None = e.__cause__ or e.__context__
    for _ in range(5):  # the OSError is raised "from None": still there as the context
        if cause is None:
            return False
        if isinstance(cause, OSError) and cause.errno in _FULL:
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def _times(n: Any) -> str:
    return "once" if n == 1 else f"{n} times"


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(t))


def due(journal: dict[str, Any], now: float | None = None) -> bool:
    """Whether a claim may be tried (again) now."""
    d = journal.get("deferred")
    now = time.time() if now is None else now
    return not isinstance(d, dict) or float(d.get("next_epoch", 0)) <= now


def defer(
    journal: dict[str, Any], error: CsvbridgeError, wait_minutes: float, now: float | None = None
) -> bool:
    """Record in ``journal`` that its conversion must wait for the history; True when it has
    waited ``wait_minutes`` already: the journal's outcome is then failed, with the reason."""
    now = time.time() if now is None else now
    d = journal.get("deferred")
    if not isinstance(d, dict):
        d = {"since": _iso(now), "since_epoch": now, "tries": 0}
    d["tries"] = int(d.get("tries", 0)) + 1
    d["code"], d["message"] = error.code, error.message
    give_up_at = float(d["since_epoch"]) + wait_minutes * 60
    d["gives_up"] = _iso(give_up_at)
    journal["deferred"] = d
    if now >= give_up_at:
        minutes = (now - float(d["since_epoch"])) / 60
        d.pop("next_epoch", None)
        d.pop("next", None)
        journal["outcome"] = "failed"
        journal["reason"] = {
            "code": error.code,
            "message": f"{error.message}; tried {_times(d['tries'])} over {minutes:.0f} "
            "minutes, then gave up",
            "where": error.where,
            "hint": error.hint,
            "gave_up": True,
        }
        return True
    pause = min(MAX_PAUSE, FIRST_PAUSE * 2 ** (d["tries"] - 1))
    d["next_epoch"] = now + pause
    d["next"] = _iso(now + pause)
    return False


def waiting_text(d: dict[str, Any]) -> str:
    """A deferred claim, for a person (status, the watcher's output)."""
    return (
        f"waiting to try again ({d.get('code')}: {d.get('message')}); "
        f"tried {_times(d.get('tries'))} since {d.get('since')}, next try {d.get('next')}, "
        f"gives up {d.get('gives_up')}"
    )
