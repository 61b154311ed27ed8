"""``csvbridge watch`` and ``csvbridge status``: the watched folder's commands (registered on
the main group by cli._register_plugins)."""

from __future__ import annotations

import json

import click

from .cli import _run, main


@main.command("watch")
@click.argument("root", type=click.Path(file_okay=False))
@click.option(
    "--once", is_flag=True, help="process what is in inbox/ and exit (for cron or a scheduler)"
)
@click.option(
    "--mappings",
    type=click.Path(file_okay=False),
    help="folder of mapping .yaml files (default: ROOT/mappings)",
)
@click.option(
    "--interval",
    type=click.FloatRange(min=0.05),
    help="seconds between scans of inbox/ (default: interval in csvbridge.yaml, 5)",
)
@click.option(
    "--settle",
    type=click.FloatRange(min=0),
    help="seconds a file must stay unchanged before it is taken (default: settle, 2)",
)
@click.option("--poll", is_flag=True, help="scan only, no filesystem events (network shares)")
@click.option(
    "--once-wait",
    type=click.FloatRange(min=0),
    default=60.0,
    show_default=True,
    help="with --once: how long to wait for files still being written",
)
@click.option("-q", "--quiet", is_flag=True, help="print only errors")
@click.option("--debug", is_flag=True, help="show tracebacks")
def watch_cmd(
    root: str,
    once: bool,
    mappings: str | None,
    interval: float | None,
    settle: float | None,
    poll: bool,
    once_wait: float,
    quiet: bool,
    debug: bool,
) -> None:
    """Watch ROOT/inbox/: each file is recognised by a mapping in ROOT/mappings, converted into
    ROOT/outbox/<date>_<name>_<id>/ (import files and reports), and archived in ROOT/archive/;
    a file no mapping (or several) recognises, or that cannot be converted, goes to
    ROOT/failed/ with REASON.txt. The layout and a commented ROOT/csvbridge.yaml (targets per
    mapping, duplicate policy, report formats) are created on the first run. Runs until
    SIGTERM or Ctrl-C (the current file is finished or given back to inbox/); --once processes
    what is there and exits. A file is kept and tried again later while the history is busy
    or the disk full. Exit code (--once): 0 all converted; 1 a file failed, had rejected rows
    or waits to be tried again; 2 a setup error.

    \b
    Example:
      csvbridge watch /srv/books --once
      csvbridge watch /srv/books --interval 10 --poll      # a network share
      csvbridge status /srv/books
    """

    def echo(line: str) -> None:
        if not quiet or line.startswith(("error", "failed")):
            click.echo(line)

    def body() -> int:
        from .watch import watch

        summary = watch(
            root,
            mappings=mappings,
            once=once,
            interval=interval,
            settle=settle,
            poll=poll,
            once_wait=once_wait,
            echo=echo,
        )
        if once and not quiet:
            s = summary
            click.echo(
                f"done       {s.converted} converted, {s.already_imported} already imported, "
                f"{s.failed} failed"
                + (f", {s.deferred} waiting to try again" if s.deferred else "")
                + (f", {len(s.waiting)} still changing" if s.waiting else "")
            )
        return summary.exit_code if once else 0

    _run(debug, body)


@main.command("status")
@click.argument("root", type=click.Path(file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="print the status as JSON")
@click.option(
    "-n",
    "--recent",
    type=click.IntRange(min=0),
    default=15,
    show_default=True,
    help="how many recent file events to show",
)
def status_cmd(root: str, as_json: bool, recent: int) -> None:
    """Show a watched folder's health and activity: running watchers, last success and last
    error, files waiting in inbox/, files being processed, files in failed/ and recent events.
    Exit code 0: healthy; 1: files in failed/, or claimed files whose watcher is gone.

    \b
    Example:
      csvbridge status /srv/books
      csvbridge status /srv/books --json
    """

    def body() -> int:
        from .watch_status import status, status_lines

        s = status(root, recent=recent)
        if as_json:
            click.echo(json.dumps(s, indent=2, ensure_ascii=False))
        else:
            for line in status_lines(s):
                click.echo(line)
        return 1 if s["needs_attention"] else 0

    _run(False, body)
