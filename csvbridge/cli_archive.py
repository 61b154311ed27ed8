"""``csvbridge verify-archive``: re-check an archive written by the ``archive`` target
(registered on the main group by cli._register_plugins)."""

from __future__ import annotations

import json

import click

from .cli import _run, main


@main.command("verify-archive")
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="print the result as JSON")
def verify_archive_cmd(folder: str, as_json: bool) -> None:
    """Check an archive folder written by --to archive: the size and SHA-256 of every file
    in datapackage.json, every CSV against its Table Schema (header, one cell per field,
    each value of its type, required fields present, primary key unique), the row counts,
    and the money per currency against what was recorded as written. Every problem names
    the file, row and field. Exit code: 0 the archive is intact; 1 it is not.

    \b
    Example:
      csvbridge convert statement.csv -m mappings/uk_bank.yaml --to archive -o out/
      csvbridge verify-archive out/archive
    """

    def body() -> int:
        from .writers.archive_verify import verify_archive

        result = verify_archive(folder)
        if as_json:
            click.echo(json.dumps(result.as_dict(), indent=2, ensure_ascii=False))
        else:
            for line in result.lines():
                click.echo(line)
        return 0 if result.ok else 1

    _run(False, body)
