"""``csvbridge history`` and ``csvbridge forget``: list the batches converted, and undo one
(registered on the main group by cli._register_plugins)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .cli import _run, main


@main.command("history")
@click.option("--history", "history_path", type=click.Path(), help="history database")
@click.option("--json", "as_json", is_flag=True, help="print the batches as JSON")
def history_cmd(history_path: str | None, as_json: bool) -> None:
    """List the batches converted so far: inputs, mapping, outputs and record counts.

    \b
    Example:
      csvbridge history
      csvbridge history --history /srv/books/history.sqlite --json
    """

    def body() -> int:
        from .history import default_path
        from .history_read import read_batches  # reads without migrating an older history

        batches = read_batches(Path(history_path) if history_path else default_path())
        if as_json:
            click.echo(json.dumps([b.__dict__ for b in batches], indent=2, ensure_ascii=False))
            return 0
        if not batches:
            click.echo("no batches yet")
        for b in batches:
            files = ", ".join(i["name"] for i in b.inputs)
            click.echo(
                f"batch {b.id}  {b.created}  {b.mapping} v{b.mapping_version}  "
                f"{b.records} records  from {files}"
            )
            for o in b.outputs:
                click.echo(
                    f"         wrote {o.get('name')} ({o.get('rows')} rows) for {o.get('target')}"
                )
        return 0

    _run(False, body)


@main.command("forget")
@click.argument("batch", type=int)
@click.option("--history", "history_path", type=click.Path(), help="history database")
def forget_cmd(batch: int, history_path: str | None) -> None:
    """Remove a batch from the history so its files can be converted (and imported) again,
    and say what to delete in the accounting system.

    \b
    Example:
      csvbridge history
      csvbridge forget 12
    """

    def body() -> int:
        from .history import History, default_path

        with History(Path(history_path) if history_path else default_path()) as h:
            b = h.forget(batch)
        click.echo(
            f"forgot batch {b.id}: {b.records} records from "
            + ", ".join(i["name"] for i in b.inputs)
        )
        if b.outputs:
            click.echo(
                "if these files were imported, delete what they created in the target "
                "system before importing again:"
            )
            for o in b.outputs:
                click.echo(f"  {o.get('target')}: {o.get('name')} ({o.get('rows')} rows)")
        return 0

    _run(False, body)
