"""Claimed files: taken out of inbox/ by one atomic rename, decided (converted, already
imported, failed), then finished (published to outbox/ or failed/, source archived).

The protocol, every step idempotent so that any watcher can finish a claim whose owner died:

1. claim   inbox/NAME → .csvbridge/processing/<watcher>--<claim>/src/NAME (os.rename: of two
           watchers racing, one wins); journal.json records the file, its hash and the names it
           will get in outbox/, archive/ or failed/.
2. decide  route to a mapping; then, holding the root's convert lock: settle a crashed
           conversion (see below), check the history for these bytes, write the marker
           converting.json {claim, sha256, before: the last batch id}, convert into the
           claim's out/ folder, record the outcome in the journal, delete the marker. A
           history that is busy or full, or a full disk, raises HistoryWait: the claim
           waits (watch_retry.py).
3. finish  out/ → outbox/<dir>/ (or failed/<dir>/, with the source and REASON.txt) by one
           rename; source → archive/; audit entry; the claim folder is removed.

A conversion killed between its history commit and the journal's outcome leaves the marker:
whoever takes the convert lock next finds it, forgets the batch that conversion committed (its
outputs never left the claim folder) and the claim is converted again. Watchers hold a life
lock (.csvbridge/watchers/<id>.lock) that the OS releases when they die; a claim whose owner is
dead is taken over by renaming its folder, so two watchers never finish the same claim.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import CsvbridgeError
from .history import History
from .mapping import LoadedMapping
from .outfiles import limit_modes_to
from .pipeline import convert
from .watch_config import WatchConfig
from .watch_fs import (
    FileLock,
    free_name,
    move_no_clobber,
    read_json,
    remove_tree,
    sync_dir,
    write_json,
)
from .watch_journal import JOURNAL, Claim, fail, hash_into, new_journal, public_view, utf8_path
from .watch_layout import Audit, Layout, now_iso, safe_stem_ext
from .watch_retry import HistoryWait, retryable
from .watch_route import already_text, reason_text, route

REPORTS = {"json": "report.json", "html": "report.html", "xlsx": "report.xlsx"}


class Stopped(Exception):
    """A stop (SIGTERM, SIGINT) was asked for while a file was being converted."""


@dataclass
class Context:
    """What handling a claim needs from the running watcher."""

    layout: Layout
    config: WatchConfig
    mappings: list[LoadedMapping]
    broken: list[str]
    audit: Audit
    watcher: str
    stop: Callable[[], bool]
    failpoint: Callable[[str], None]
    report: Callable[[dict[str, Any]], None]


def claim_file(ctx: Context, name: str) -> Claim | None:
    """Take inbox/NAME for this watcher; None when another watcher took it first, or the file
    cannot be moved (still open for writing on Windows)."""
    lay = ctx.layout
    cid = time.strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(4)
    cdir = lay.processing / f"{ctx.watcher}--{cid}"
    (cdir / "src").mkdir(parents=True)
    try:
        os.rename(lay.inbox / name, cdir / "src" / name)
    except OSError:
        remove_tree(cdir)
        return None
    sync_dir(lay.processing)
    claim = Claim(cdir, new_journal(name, cid))
    # what is written for this claim (journal, outputs) is no more open than the file itself
    limit_modes_to([claim.src])
    hash_into(claim)
    claim.save()
    ctx.audit.limit_to(claim.src)
    ctx.audit.log(
        "claimed",
        claim=cid,
        file=claim.journal["shown"],
        bytes=claim.journal["bytes"],
        sha256=claim.journal["sha256"],
    )
    ctx.failpoint("claimed")
    return claim


def handle(ctx: Context, claim: Claim) -> str:
    """Decide (if not yet decided) and finish a claim; returns its outcome ('released' when a
    stop came first and the file went back to inbox/)."""
    if claim.journal.get("outcome") is None and not decide(ctx, claim):
        return "released"
    return finish(ctx, claim)


# -- decide ----------------------------------------------------------------------------------
def _with_policy(lm: LoadedMapping, policy: str) -> LoadedMapping:
    if policy == "mapping" or lm.mapping.duplicates.policy == policy:
        return lm
    dup = lm.mapping.duplicates.model_copy(update={"policy": policy})
    return LoadedMapping(lm.mapping.model_copy(update={"duplicates": dup}), lm.path, lm.sha256)


def decide(ctx: Context, claim: Claim) -> bool:
    """Route and convert; the outcome goes into the journal. False: released (stopping)."""
    j = claim.journal
    if not j.get("regular"):
        fail(
            claim,
            "not-a-file",
            "this is a symbolic link or not a regular file: the watcher does not follow links",
        )
        return True
    routing = route(ctx.mappings, ctx.broken, claim.src)
    if routing.mapping is None:
        problem = routing.problem or {"code": "no-mapping", "message": "no mapping"}
        fail(claim, **problem)
        return True
    lm = _with_policy(routing.mapping, ctx.config.duplicates)
    j["mapping"] = {"name": lm.mapping.name, "file": lm.path.name, "sha256": lm.sha256}
    targets = ctx.config.targets_for(lm.mapping.name)
    if not targets:
        fail(
            claim,
            "no-targets",
            f"no targets are set for mapping {lm.mapping.name}",
            hint=f"add it under targets: in {ctx.layout.config} (or set default_targets:).",
        )
        return True
    lock = FileLock(ctx.layout.convert_lock)
    while not lock.acquire():
        if ctx.stop():
            release(ctx, claim)
            return False
        time.sleep(0.05)
    try:
        return _convert_locked(ctx, claim, lm, targets)
    except CsvbridgeError as e:
        if retryable(e):  # the history's or the disk's trouble, not the file's: it waits
            raise HistoryWait(e) from None
        raise
    finally:
        lock.release()


def _convert_locked(ctx: Context, claim: Claim, lm: LoadedMapping, targets: list[str]) -> bool:
    lay, j = ctx.layout, claim.journal
    settle_crashed(ctx)
    with History(lay.history) as h:
        seen = h.inputs_seen(j["sha256"])
        before = int(h.db.execute("SELECT COALESCE(MAX(id), 0) FROM batch").fetchone()[0])
        earlier = [b.__dict__ for b in h.batches() if b.id in seen] if seen else []
    if seen:
        j["outcome"] = "already-imported"
        j["batches"] = [
            {k: b[k] for k in ("id", "created", "mapping", "inputs", "records")} for b in earlier
        ]
        claim.save()
        return True
    write_json(lay.marker, {"claim": j["claim"], "sha256": j["sha256"], "before": before})
    remove_tree(claim.out)

    def on_chunk(rows: int) -> None:
        ctx.failpoint("chunk")
        if ctx.stop():
            raise Stopped

    decisions = ctx.config.decisions
    try:
        result = convert(
            [utf8_path(claim)],
            lm,
            targets,
            claim.out,
            options=dict(ctx.config.options),
            on_chunk=on_chunk,
            history=lay.history,
            decisions=(lay.root / decisions) if decisions else None,
            mask=ctx.config.masker(),
        )
    except Stopped:
        _undo_batches(ctx, before, j["sha256"])
        lay.marker.unlink()
        release(ctx, claim)
        return False
    except CsvbridgeError as e:
        if retryable(e):
            with contextlib.suppress(CsvbridgeError):
                _undo_batches(ctx, before, j["sha256"])
                lay.marker.unlink()  # kept if the undo failed: the next turn settles it
            raise
        _undo_batches(ctx, before, j["sha256"])
        fail(claim, e.code, e.message, where=e.where, hint=e.hint)
    except Exception as e:  # a bug: the file goes to failed/, the watcher carries on
        _undo_batches(ctx, before, j["sha256"])
        fail(
            claim,
            "internal-error",
            f"internal error: {type(e).__name__}: {e}",
            hint="this is a bug in csvbridge; please report it with this file's reason.json.",
        )
    else:
        ctx.failpoint("converted")
        j["outcome"] = "converted"
        j["targets"] = targets
        j["batch"] = (result.report.get("history") or {}).get("batch")
        j["rows"] = {
            t["target"]: {
                "read": t["read"]["rows"],
                **{k: v["rows"] for k, v in t["outcomes"].items()},
                "balanced": t["balanced"],
            }
            for t in result.report["tie_out"]
        }
        j["rejected"] = result.rejected
        j["duplicates"] = result.duplicates
        j["outputs"] = [
            {"name": f.name, "rows": f.rows, "sha256": f.sha256} for f in result.outputs
        ]
        j["warnings"] = result.warnings
        claim.save()
    lay.marker.unlink()
    return True


def _undo_batches(ctx: Context, before: int, sha256: str) -> list[int]:
    """Forget batches for these bytes committed after ``before``: a conversion of this claim
    that did not finish (its outputs never left the claim folder)."""
    with History(ctx.layout.history) as h:
        rows = h.db.execute("SELECT id, inputs FROM batch WHERE id > ?", (before,)).fetchall()
        ids = [
            int(i)
            for i, inputs in rows
            if [x.get("sha256") for x in json.loads(inputs)] == [sha256]
        ]
        for i in ids:
            h.forget(i)
    return ids


def settle_crashed(ctx: Context) -> None:
    """Call holding the convert lock: a marker left means its conversion was killed."""
    lay = ctx.layout
    if not lay.marker.exists():
        return
    m = read_json(lay.marker)
    if m is not None:
        dirs = list(lay.processing.glob(f"*--{m.get('claim')}"))
        j = read_json(dirs[0] / JOURNAL) if dirs else None
        if not (j and j.get("outcome")):
            undone = _undo_batches(ctx, int(m.get("before", 0)), str(m.get("sha256")))
            ctx.audit.log("rolled-back", claim=m.get("claim"), batches=undone)
    lay.marker.unlink()


def release(ctx: Context, claim: Claim) -> None:
    """Give the file back to inbox/ (a stop during its conversion)."""
    name = claim.journal["name"]
    if claim.src.exists() or claim.src.is_symlink():
        try:
            move_no_clobber(claim.src, ctx.layout.inbox / name)
        except FileExistsError:
            stem, ext = safe_stem_ext(name)
            short = claim.journal["claim"].rsplit("-", 1)[-1]
            move_no_clobber(claim.src, free_name(ctx.layout.inbox, f"{stem}-{short}", ext))
    ctx.audit.log("released", claim=claim.journal["claim"], file=claim.journal["shown"])
    ctx.report({"event": "released", "file": claim.journal["shown"]})
    remove_tree(claim.dir)


# -- finish ----------------------------------------------------------------------------------
def finish(ctx: Context, claim: Claim) -> str:
    lay, j = ctx.layout, claim.journal
    outcome = j["outcome"]
    dest = lay.failed / j["failed"] if outcome == "failed" else lay.outbox / j["outbox"]
    if not dest.exists():
        out = claim.out
        out.mkdir(exist_ok=True)
        if outcome == "failed":
            reason = j["reason"]
            text = reason_text(j, reason, lay.root, lay.mappings)
            (out / "REASON.txt").write_text(text, encoding="utf-8", errors="backslashreplace")
            write_json(out / "reason.json", {**public_view(j), "reason": reason})
            if claim.src.exists() or claim.src.is_symlink():
                move_no_clobber(claim.src, out / j["safe"])
        elif outcome == "already-imported":
            text = already_text(j, j.get("batches", []), lay.history)
            (out / "ALREADY-IMPORTED.txt").write_text(text, encoding="utf-8")
            write_json(out / "already-imported.json", public_view(j))
        else:
            for fmt, fname in REPORTS.items():
                if fmt not in ctx.config.reports:
                    with contextlib.suppress(FileNotFoundError):
                        (out / fname).unlink()
        os.rename(out, dest)
        sync_dir(dest.parent)
    ctx.failpoint("published")
    archived = None
    if outcome != "failed" and (claim.src.exists() or claim.src.is_symlink()):
        target = lay.archive / j["archive"]
        try:
            move_no_clobber(claim.src, target)
        except FileExistsError:
            stem, _, ext = j["archive"].rpartition(".")
            target = free_name(lay.archive, stem or j["archive"], ext if stem else "")
            move_no_clobber(claim.src, target)
        archived = target
    entry = public_view(j)
    entry["time"] = now_iso()
    if outcome == "failed":
        entry["failed"] = f"failed/{j['failed']}"
        entry.pop("outbox", None)
        entry.pop("archive", None)
    else:
        entry["outbox"] = f"outbox/{j['outbox']}"
        entry["archive"] = f"archive/{archived.name if archived else j['archive']}"
        entry.pop("failed", None)
    event = ctx.audit.log(outcome, **{k: v for k, v in entry.items() if k != "time"})
    ctx.report(event)
    remove_tree(claim.dir)
    return str(outcome)
