"""After a crash: claims whose watcher died are taken over (one rename: of two watchers, one
wins) and finished; a watcher's own claims that an error interrupted are tried again."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from .watch_claim import Context
from .watch_fs import FileLock, owner_alive, read_json, remove_tree
from .watch_journal import JOURNAL, Claim, hash_into, new_journal


def leftover_claims(ctx: Context) -> list[Claim]:
    """Claims to finish: those whose watcher died (crash, kill -9), taken over by this one, and
    this watcher's own that an error interrupted. Empty leftovers are removed."""
    lay = ctx.layout
    taken: list[Claim] = []
    try:
        entries = sorted(lay.processing.iterdir())
    except OSError:
        return taken
    for d in entries:
        if d.name.startswith(".trash-"):
            remove_tree(d)
            continue
        owner, sep, cid = d.name.partition("--")
        if not sep or not d.is_dir():
            continue
        if owner == ctx.watcher:  # one of ours that an error interrupted: try again
            claim = _reload(d, cid)
            if claim is None:
                remove_tree(d)
            else:
                taken.append(claim)
            continue
        if owner_alive(lay.watchers / f"{owner}.lock"):
            continue
        mine = lay.processing / f"{ctx.watcher}--{cid}"
        try:
            os.rename(d, mine)
        except OSError:
            continue  # another watcher took it over first
        claim = _reload(mine, cid)
        if claim is None:
            remove_tree(mine)  # died between creating the folder and the rename into it
            continue
        ctx.audit.log(
            "recovered",
            claim=cid,
            file=claim.journal["shown"],
            from_watcher=owner,
            step=claim.journal.get("outcome") or "claimed",
        )
        taken.append(claim)
    _forget_dead_watchers(ctx)
    return taken


def _reload(cdir: Path, cid: str) -> Claim | None:
    j = read_json(cdir / JOURNAL)
    if j is not None:
        return Claim(cdir, j)
    names = [p.name for p in (cdir / "src").iterdir()] if (cdir / "src").is_dir() else []
    if len(names) != 1:
        return None
    claim = Claim(cdir, new_journal(names[0], cid))
    hash_into(claim)
    claim.save()
    return claim


def _forget_dead_watchers(ctx: Context) -> None:
    lay = ctx.layout
    owners = {d.name.partition("--")[0] for d in lay.processing.iterdir()}
    for lock_path in lay.watchers.glob("*.lock"):
        wid = lock_path.stem
        if wid == ctx.watcher or wid in owners:
            continue
        probe = FileLock(lock_path)
        try:
            if probe.acquire(create=False):
                with contextlib.suppress(OSError):
                    lock_path.unlink()
                probe.release()
        except OSError:
            continue
