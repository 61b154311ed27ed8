"""The watched folder: files dropped in ROOT/inbox/ are recognised by a mapping, converted into
ROOT/outbox/, and archived — or sent to ROOT/failed/ with the reason. ``watch(root)`` runs as
a service until SIGTERM or SIGINT; ``watch(root, once=True)`` processes what is there and
returns. Layout, names and the audit log: watch_layout.py; settings: watch_config.py; which files
are complete: watch_scan.py; the crash-safe claim protocol: watch_claim.py (its journal:
watch_journal.py; after a crash: watch_recover.py); routing and notes: watch_route.py; ``csvbridge
status``: watch_status.py. docs/watch.md is the user's guide."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from .errors import CsvbridgeError
from .mapping import LoadedMapping, load_mapping
from .watch_claim import Context, claim_file, finish, handle
from .watch_config import WatchConfig, WatchConfigError, load_config
from .watch_fs import FileLock
from .watch_journal import Claim
from .watch_layout import Audit, Layout, ensure_layout, layout_for, shown
from .watch_recover import leftover_claims
from .watch_retry import HistoryWait, defer, due, waiting_text
from .watch_scan import Scanner

FAILPOINT_ENV = "CSVBRIDGE_WATCH_FAILPOINT"  # tests: pause at a named step (see _failpoint)
RETRY_SECONDS = 60.0  # a claim an unexpected error interrupted is tried again after this

__all__ = ["WatchSummary", "Watcher", "watch"]


@dataclass
class WatchSummary:
    """What a watcher did: counts per outcome, and files still changing when --once ended."""

    converted: int = 0
    already_imported: int = 0
    failed: int = 0
    released: int = 0
    rejected_rows: int = 0
    errors: int = 0
    deferred: int = 0  # files left waiting to be tried again (history busy, disk full)
    waiting: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0: all well; 1: a file failed, rows were rejected, an error was logged, or a file
        waits to be tried again."""
        return 1 if (self.failed or self.rejected_rows or self.errors or self.deferred) else 0


def _signature(paths: list[Path]) -> tuple[tuple[str, int, int], ...]:
    out = []
    for p in paths:
        try:
            st = p.stat()
        except OSError:
            continue
        out.append((p.name, st.st_mtime_ns, st.st_size))
    return tuple(out)


class Watcher:
    """One watcher process on one root."""

    def __init__(
        self,
        root: str | Path,
        *,
        mappings: str | Path | None = None,
        once: bool = False,
        interval: float | None = None,
        settle: float | None = None,
        poll: bool = False,
        once_wait: float = 60.0,
        echo: Callable[[str], None] | None = None,
    ) -> None:
        self.layout: Layout = layout_for(root, mappings)
        self.once = once
        self.given_interval = interval
        self.given_settle = settle
        self.poll = poll
        self.once_wait = once_wait
        self.echo = echo or (lambda _line: None)
        self.id = f"w{os.getpid()}{secrets.token_hex(3)}"
        self.audit = Audit(self.layout.audit, self.id)
        self.summary = WatchSummary()
        self.stopping = threading.Event()
        self.wake = threading.Event()
        self.config = WatchConfig()
        self.mappings: list[LoadedMapping] = []
        self.broken: list[str] = []
        self._config_sig: tuple[tuple[str, int, int], ...] | None = None
        self._mapping_sig: tuple[tuple[str, int, int], ...] | None = None
        self._retry_at: dict[str, float] = {}
        self._deferred: set[str] = set()  # claims waiting to be tried again (watch_retry)
        self._failpoint_at = os.environ.get(FAILPOINT_ENV, "")
        self.ctx: Context | None = None

    # -- settings ------------------------------------------------------------------------------
    @property
    def interval(self) -> float:
        return self.given_interval if self.given_interval is not None else self.config.interval

    @property
    def settle(self) -> float:
        return self.given_settle if self.given_settle is not None else self.config.settle

    def _reload(self, first: bool = False) -> None:
        lay = self.layout
        sig = _signature([lay.config])
        if sig != self._config_sig:
            try:
                self.config = load_config(lay.config)
            except WatchConfigError as e:
                if first:
                    raise
                self.audit.log("error", code=e.code, reason=e.message, where=e.where)
                self.echo(f"error      {e.message} (keeping the previous settings)")
            self._config_sig = sig
            self.audit.max_bytes = int(self.config.audit_max_mb * 1_000_000)
            self.audit.keep = self.config.audit_keep
        files = sorted([*lay.mappings.glob("*.yaml"), *lay.mappings.glob("*.yml")])
        sig = _signature(files)
        if sig != self._mapping_sig:
            self.mappings, self.broken = [], []
            for f in files:
                try:
                    self.mappings.append(load_mapping(f))
                except CsvbridgeError as e:
                    self.broken.append(f"{f.name}: {e.message}")
                    self.audit.log("mapping-error", mapping=f.name, code=e.code, reason=e.message)
                    self.echo(f"error      mapping {f.name}: {e.message}")
            self._mapping_sig = sig
        self.ctx = Context(
            layout=lay,
            config=self.config,
            mappings=self.mappings,
            broken=self.broken,
            audit=self.audit,
            watcher=self.id,
            stop=self.stopping.is_set,
            failpoint=self._failpoint,
            report=self._report,
        )

    # -- running -------------------------------------------------------------------------------
    def stop(self) -> None:
        """Ask the watcher to stop: the current file is finished, or given back to inbox/."""
        self.stopping.set()
        self.wake.set()

    def run(self) -> WatchSummary:
        lay = self.layout
        created = ensure_layout(lay)
        if created:
            self.echo(f"created    {', '.join(created)} in {lay.root}")
        self.audit.limit_to(lay.root)  # a private folder gets a private log
        self.audit.limit_to(lay.audit)  # and a log narrowed before stays so
        self._reload(first=True)
        life = FileLock(lay.watchers / f"{self.id}.lock")
        if not life.acquire_new():
            raise WatchConfigError(
                "this watcher's lock is held by another process",
                where=str(life.path),
                hint="start the watcher again.",
            )
        self.audit.log(
            "started",
            pid=os.getpid(),
            mode="once" if self.once else "service",
            root=str(lay.root),
            mappings=[m.path.name for m in self.mappings],
            interval=self.interval,
            settle=self.settle,
        )
        restore = self._install_signals()
        observer = None if self.once or self.poll or not self.config.events else self._observe()
        try:
            self._loop()
        finally:
            if observer is not None:
                observer.stop()
                observer.join(timeout=5)
            for sig, old in restore:
                signal.signal(sig, old)
            s = self.summary
            self.audit.log(
                "stopped",
                converted=s.converted,
                already_imported=s.already_imported,
                failed=s.failed,
                released=s.released,
                waiting=s.waiting,
            )
            life.release()
            with contextlib.suppress(OSError):
                life.path.unlink()
        return self.summary

    def _install_signals(self) -> list[tuple[int, Any]]:
        if threading.current_thread() is not threading.main_thread():
            return []

        def on_signal(signum: int, frame: FrameType | None) -> None:
            self.stop()

        restore: list[tuple[int, Any]] = []
        for sig in (signal.SIGTERM, signal.SIGINT):
            restore.append((sig, signal.getsignal(sig)))
            signal.signal(sig, on_signal)
        return restore

    def _observe(self) -> Any:
        """Filesystem events wake the loop early; scanning every interval stays the fallback
        (events do not cross network shares)."""
        try:
            from watchdog.events import FileSystemEvent, FileSystemEventHandler
            from watchdog.observers import Observer

            wake = self.wake

            class _Wake(FileSystemEventHandler):
                def on_any_event(self, event: FileSystemEvent) -> None:
                    wake.set()

            observer = Observer()
            observer.schedule(_Wake(), str(self.layout.inbox), recursive=False)
            observer.start()
            return observer
        except Exception as e:  # no inotify watches left, unsupported filesystem, ...
            self.audit.log("events-unavailable", reason=f"{type(e).__name__}: {e}")
            self.echo(
                f"note       filesystem events unavailable ({e}); scanning every {self.interval:g}s"
            )
            return None

    def _loop(self) -> None:
        scanner = Scanner(self.layout.inbox, self.settle)
        deadline = time.monotonic() + self.once_wait
        while not self.stopping.is_set():
            self._reload()
            scanner.settle = self.settle
            for old in self._leftovers():
                if self.stopping.is_set():
                    break
                self._handle(old)
            ready, pending, new = scanner.scan()
            for name, size in new:
                self.audit.limit_to(self.layout.inbox / name)
                self.audit.log("seen", file=shown(name), bytes=size)
            for name in ready:
                if self.stopping.is_set():
                    break
                ctx = self._context()
                claim = claim_file(ctx, name)
                if claim is None:
                    scanner.again(name)  # taken by another watcher, or still open (Windows)
                else:
                    self._handle(claim)
            if self.once:
                if not ready and not pending:
                    break
                if time.monotonic() > deadline:
                    self.summary.waiting = [shown(n) for n in pending]
                    for n in pending:
                        self.echo(f"waiting    {shown(n)} is still changing; left for next run")
                    break
            if ready:
                continue  # new files may have arrived meanwhile
            pause = max(0.05, min(self.settle / 2, self.interval)) if pending else self.interval
            self.wake.wait(pause)
            self.wake.clear()

    def _context(self) -> Context:
        assert self.ctx is not None
        return self.ctx

    def _leftovers(self) -> list[Claim]:
        now = time.monotonic()
        out = []
        for claim in leftover_claims(self._context()):
            if self._retry_at.get(claim.journal["claim"], 0.0) <= now and due(claim.journal):
                out.append(claim)
        return out

    def _handle(self, claim: Claim) -> None:
        try:
            try:
                handle(self._context(), claim)
                self._deferred.discard(claim.journal["claim"])
            except HistoryWait as w:
                self._defer(claim, w)  # may fail too (a full disk): handled below
        except Exception as e:
            self.summary.errors += 1
            self._retry_at[claim.journal["claim"]] = time.monotonic() + RETRY_SECONDS
            self.audit.log(
                "error",
                claim=claim.journal["claim"],
                file=claim.journal.get("shown"),
                reason=f"{type(e).__name__}: {e}",
            )
            self.echo(f"error      {claim.journal.get('shown')}: {e} (will try again)")

    def _defer(self, claim: Claim, wait: HistoryWait) -> None:
        """The history or the disk could not be used: the claim waits and is tried again
        later, or, once it has waited long enough, goes to failed/ (watch_retry.py)."""
        ctx, j = self._context(), claim.journal
        gave_up = defer(j, wait.error, self.config.history_wait_minutes)
        claim.save()
        if gave_up:
            self._deferred.discard(j["claim"])
            finish(ctx, claim)
        else:
            self._deferred.add(j["claim"])
        self.summary.deferred = len(self._deferred)
        if gave_up:
            return
        d = j["deferred"]
        self.audit.log(
            "deferred",
            claim=j["claim"],
            file=j["shown"],
            reason={"code": wait.error.code, "message": wait.error.message},
            tries=d["tries"],
            since=d["since"],
            next=d["next"],
            gives_up=d["gives_up"],
        )
        self.echo(f"waiting    {j['shown']}: {waiting_text(d)}")

    def _report(self, event: dict[str, Any]) -> None:
        s = self.summary
        kind = event.get("event")
        f = event.get("file", "?")
        if kind == "converted":
            s.converted += 1
            s.rejected_rows += int(event.get("rejected") or 0)
            rows: dict[str, Any] = next(iter((event.get("rows") or {}).values()), {})
            self.echo(
                f"converted  {f} → {event.get('outbox')}/ with {event['mapping']['name']}: "
                f"{rows.get('read', '?')} rows = {rows.get('written', '?')} written + "
                f"{rows.get('rejected', '?')} rejected + {rows.get('filtered', '?')} filtered + "
                f"{rows.get('duplicate', '?')} duplicate"
            )
        elif kind == "already-imported":
            s.already_imported += 1
            ids = ", ".join(str(b["id"]) for b in event.get("batches", []))
            self.echo(
                f"already    {f}: the same bytes were converted in batch {ids}; "
                f"nothing imported again (see {event.get('outbox')}/)"
            )
        elif kind == "failed":
            s.failed += 1
            r = event.get("reason", {})
            self.echo(
                f"failed     {f} → {event.get('failed')}/ ({r.get('code')}: {r.get('message')})"
            )
        elif kind == "released":
            s.released += 1
            self.echo(f"released   {f} back to inbox/ (stopping)")

    def _failpoint(self, name: str) -> None:
        """Tests: with CSVBRIDGE_WATCH_FAILPOINT=name, pause here (until stopped, at most two
        minutes) after writing .csvbridge/failpoint-<name>, so a test can kill -9 at exactly
        this step."""
        if self._failpoint_at != name:
            return
        (self.layout.state / f"failpoint-{name}").write_text(str(os.getpid()))
        end = time.monotonic() + 120
        while not self.stopping.is_set() and time.monotonic() < end:
            time.sleep(0.02)


def watch(
    root: str | Path,
    *,
    mappings: str | Path | None = None,
    once: bool = False,
    interval: float | None = None,
    settle: float | None = None,
    poll: bool = False,
    once_wait: float = 60.0,
    echo: Callable[[str], None] | None = None,
) -> WatchSummary:
    """Watch ``root`` (created with its layout on first run) until SIGTERM/SIGINT, or with
    ``once`` process what is in inbox/ and return."""
    return Watcher(
        root,
        mappings=mappings,
        once=once,
        interval=interval,
        settle=settle,
        poll=poll,
        once_wait=once_wait,
        echo=echo,
    ).run()
