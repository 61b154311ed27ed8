"""``csvbridge status ROOT``: recent activity, files waiting, claimed and failed, and health
(running watchers, last success, last error) — read from the folder and its audit log."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from typing import Any

from .history_read import open_read_only
from .watch_config import WatchConfigError
from .watch_fs import owner_alive, read_json
from .watch_layout import ignored, layout_for, read_audit, shown
from .watch_retry import waiting_text

FILE_EVENTS = (
    "claimed",
    "converted",
    "already-imported",
    "failed",
    "released",
    "recovered",
    "deferred",
)


def status(root: str | Path, recent: int = 15) -> dict[str, Any]:
    """The state of a watched folder, as data (``csvbridge status --json`` prints it)."""
    lay = layout_for(root)
    if not lay.inbox.is_dir():
        raise WatchConfigError(
            "this is not a watched folder (it has no inbox/)",
            where=str(lay.root),
            hint=f"csvbridge watch {lay.root} --once creates the layout.",
            code="watch-root",
        )
    events = read_audit(lay.audit)
    now = time.time()
    started: dict[str, dict[str, Any]] = {}
    for e in events:
        if e.get("event") == "started":
            started[str(e.get("watcher"))] = e
    watchers = []
    for lock in sorted(lay.watchers.glob("*.lock")):
        if owner_alive(lock):
            s = started.get(lock.stem, {})
            watchers.append(
                {
                    "id": lock.stem,
                    "pid": s.get("pid"),
                    "mode": s.get("mode"),
                    "since": s.get("time"),
                }
            )
    success = [e for e in events if e.get("event") in ("converted", "already-imported")]
    errors = [
        e for e in events if e.get("event") in ("failed", "error", "mapping-error", "deferred")
    ]
    inbox: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    for entry in sorted(os.scandir(lay.inbox), key=lambda e: e.name) if lay.inbox.is_dir() else []:
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        item = {
            "file": shown(entry.name),
            "bytes": st.st_size,
            "age_seconds": int(now - st.st_mtime),
        }
        (skipped if ignored(entry.name) or entry.is_dir(follow_symlinks=False) else inbox).append(
            item
        )
    processing = []
    for d in sorted(lay.processing.glob("*--*")) if lay.processing.is_dir() else []:
        owner, _, cid = d.name.partition("--")
        j = read_json(d / "journal.json") or {}
        wait = j.get("deferred") if not j.get("outcome") else None
        processing.append(
            {
                "claim": cid,
                "file": j.get("shown"),
                "watcher": owner,
                "watcher_alive": owner_alive(lay.watchers / f"{owner}.lock"),
                "step": j.get("outcome") or ("waiting" if wait else "claimed"),
                **({"waiting": waiting_text(wait)} if isinstance(wait, dict) else {}),
            }
        )
    failed = []
    for d in sorted(lay.failed.iterdir()) if lay.failed.is_dir() else []:
        r = read_json(d / "reason.json") if d.is_dir() else None
        reason = (r or {}).get("reason", {})
        failed.append(
            {
                "folder": f"failed/{d.name}",
                "file": (r or {}).get("file", d.name),
                "code": reason.get("code"),
                "reason": reason.get("message"),
            }
        )
    return {
        "root": str(lay.root),
        "watchers": watchers,
        "health": {
            "last_success": _brief(success[-1]) if success else None,
            "last_error": _brief(errors[-1]) if errors else None,
            "last_event": events[-1].get("time") if events else None,
        },
        "inbox": inbox,
        "inbox_ignored": skipped,
        "processing": processing,
        "failed": failed,
        "history": _history(lay.history),
        "recent": [_brief(e) for e in events if e.get("event") in FILE_EVENTS][-recent:]
        if recent
        else [],
        "needs_attention": bool(failed) or any(not p["watcher_alive"] for p in processing),
    }


def _brief(e: dict[str, Any]) -> dict[str, Any]:
    out = {k: e.get(k) for k in ("time", "event", "file") if e.get(k) is not None}
    reason = e.get("reason")
    if isinstance(reason, dict):
        out["reason"] = f"{reason.get('code')}: {reason.get('message')}"
    elif reason:
        out["reason"] = str(reason)
    for k in ("outbox", "archive", "failed", "mapping", "claim"):
        if e.get(k):
            out[k] = e[k]["name"] if k == "mapping" and isinstance(e[k], dict) else e[k]
    return out


def _history(path: Path) -> dict[str, int] | None:
    if not path.exists():
        return None
    try:
        db = open_read_only(path)  # a folder the user cannot write: read it as immutable
        try:
            row = db.execute("SELECT COUNT(*), COALESCE(SUM(records), 0) FROM batch").fetchone()
        finally:
            db.close()
    except sqlite3.Error:
        return None
    return {"batches": int(row[0]), "records": int(row[1])}


def status_lines(s: dict[str, Any]) -> list[str]:
    """``status`` for a person."""
    h = s["health"]
    lines = [f"watched folder  {s['root']}"]
    if s["watchers"]:
        w = ", ".join(
            f"{x['id']} ({x['mode']}, pid {x['pid']}, since {x['since']})" for x in s["watchers"]
        )
        lines.append(f"watchers        {len(s['watchers'])} running: {w}")
    else:
        lines.append("watchers        none running")
    lines.append("last success    " + (_line(h["last_success"]) if h["last_success"] else "never"))
    lines.append("last error      " + (_line(h["last_error"]) if h["last_error"] else "none"))
    lines.append(f"inbox           {len(s['inbox'])} waiting")
    for f in s["inbox"]:
        lines.append(
            f"                  {f['file']} ({f['bytes']} bytes, changed {f['age_seconds']}s ago)"
        )
    if s["inbox_ignored"]:
        lines.append(
            "                  ignored (partial or temporary names): "
            + ", ".join(f["file"] for f in s["inbox_ignored"])
        )
    lines.append(f"processing      {len(s['processing'])}")
    for p in s["processing"]:
        alive = (
            "watcher running" if p["watcher_alive"] else "watcher gone: the next start finishes it"
        )
        lines.append(f"                  {p['file']} ({p.get('waiting') or p['step']}; {alive})")
    lines.append(
        f"failed          {len(s['failed'])}" + (" (see REASON.txt in each)" if s["failed"] else "")
    )
    for f in s["failed"]:
        lines.append(f"                  {f['folder']}/  {f['file']}: {f['code']}: {f['reason']}")
    hist = s["history"]
    lines.append(
        "history         "
        + (f"{hist['batches']} batches, {hist['records']} records" if hist else "empty")
    )
    if s["recent"]:
        lines.append("recent:")
        lines += [f"  {_line(e)}" for e in s["recent"]]
    return lines


def _line(e: dict[str, Any]) -> str:
    text = f"{e.get('time', '')}  {e.get('event', ''):<16} {e.get('file', '')}"
    if e.get("outbox"):
        text += f" → {e['outbox']}/"
    if e.get("failed"):
        text += f" → {e['failed']}/"
    if e.get("reason"):
        text += f" ({e['reason']})"
    return text
