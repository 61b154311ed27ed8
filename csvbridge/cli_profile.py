"""``csvbridge inspect`` and ``csvbridge init``: profile a file, and draft a mapping from it
(registered on the main group by cli._register_plugins)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .cli import _run, main
from .errors import CsvbridgeError

if TYPE_CHECKING:
    from .readers import ReadOptions


def _read_options(encoding: str | None, delimiter: str | None, sheet: str | None) -> ReadOptions:
    from .limits import resolve as resolve_limits
    from .readers import ReadOptions

    if delimiter and delimiter.lower() == "tab":
        delimiter = "\t"
    return ReadOptions(encoding=encoding, delimiter=delimiter, sheet=sheet, limits=resolve_limits())


@main.command("inspect")
@click.argument("file", type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="print the profile as JSON")
@click.option("--encoding", help="input encoding, overriding detection")
@click.option("--delimiter", help="field separator, overriding detection ('tab' for tab)")
@click.option("--sheet", help="spreadsheet sheet name or number")
@click.option("--debug", is_flag=True, help="show tracebacks")
def inspect_cmd(
    file: str,
    as_json: bool,
    encoding: str | None,
    delimiter: str | None,
    sheet: str | None,
    debug: bool,
) -> None:
    """Show what csvbridge finds in FILE: encoding, delimiter, header, preamble and footer,
    each column's type, date and number format, and the columns' roles — with a confidence
    for each decision. Reads the whole file; changes nothing.

    \b
    Example:
      csvbridge inspect sample_data/uk_bank_statement.csv
      csvbridge inspect statement.csv --json > profile.json
    """

    def body() -> int:
        from .profiling import profile_file
        from .profiling.report import inspect_lines

        profile = profile_file(Path(file), _read_options(encoding, delimiter, sheet))
        if as_json:
            click.echo(json.dumps(profile.as_dict(), indent=2, ensure_ascii=False))
        else:
            for line in inspect_lines(profile):
                click.echo(line)
        return 0

    _run(debug, body)


@main.command("init")
@click.argument("file", type=click.Path())
@click.option(
    "--kind",
    type=click.Choice(["transaction"]),
    default="transaction",
    show_default=True,
    help="the kind of records the file holds",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(),
    help="where to write the draft mapping (default: mappings/<file name>.yaml)",
)
@click.option("--name", help="the mapping's name (default: from the file name)")
@click.option("--currency", help="ISO currency code, if the file does not state it")
@click.option(
    "--date-order",
    type=click.Choice(["dmy", "mdy"]),
    help="settle day/month order when the dates cannot show it",
)
@click.option(
    "--sign",
    type=click.Choice(["as-is", "invert"]),
    help="settle the amounts' sign when no balance column proves it "
    "(invert: charges are shown positive)",
)
@click.option("--to", "to", help="a target to check the draft against (e.g. xero-bank)")
@click.option("--encoding", help="input encoding, overriding detection")
@click.option("--delimiter", help="field separator, overriding detection")
@click.option("--sheet", help="spreadsheet sheet name or number")
@click.option("--force", is_flag=True, help="overwrite an existing mapping file")
@click.option("--debug", is_flag=True, help="show tracebacks")
def init_cmd(
    file: str,
    kind: str,
    output: str | None,
    name: str | None,
    currency: str | None,
    date_order: str | None,
    sign: str | None,
    to: str | None,
    encoding: str | None,
    delimiter: str | None,
    sheet: str | None,
    force: bool,
    debug: bool,
) -> None:
    """Write a draft mapping for FILE from what inspect finds. When every decision is sure,
    the draft converts the file with no edits; when not (day/month order, number format,
    sign, currency), the draft lists what to settle and convert refuses it until then.
    Exit code 0: ready; 1: written, but needs decisions.

    \b
    Example:
      csvbridge init statement.csv --currency GBP -o mappings/my_bank.yaml
      csvbridge convert statement.csv -m mappings/my_bank.yaml --to xero -o out/
    """

    def body() -> int:
        from .atomic import write_atomic
        from .profiling import profile_file
        from .profiling.draft import draft_transaction
        from .writers import resolve_target

        src = Path(file)
        stem = re.sub(r"[^A-Za-z0-9]+", "-", src.stem).strip("-").lower() or "mapping"
        profile = profile_file(src, _read_options(encoding, delimiter, sheet))
        draft = draft_transaction(
            profile,
            name or stem,
            currency.upper() if currency else None,
            date_order=date_order,
            sign=sign,
        )
        if to:
            resolve_target(to, kind)
        dest = Path(output) if output else Path("mappings") / f"{stem}.yaml"
        if dest.exists() and not force:
            raise CsvbridgeError(
                "the mapping file already exists",
                where=str(dest),
                hint="choose another path with -o, or add --force to overwrite it.",
                code="mapping-exists",
            )
        dest.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(dest, draft.text.encode("utf-8"))
        if draft.ready:
            click.echo(f"wrote {dest}: ready to convert")
            click.echo(f"  csvbridge convert {file} -m {dest} --to {to or 'csv'} -o out/")
            return 0
        click.echo(f"wrote {dest}: NOT ready — settle these, then convert:")
        for p in draft.problems:
            click.echo(f"  - {p}")
        return 1

    _run(debug, body)
