"""``csvbridge reconcile``: match two sets of records and prove what matched
(registered on the main group by cli._register_plugins)."""

from __future__ import annotations

import click

from .cli import _run, main
from .errors import CsvbridgeError


@main.command("reconcile")
@click.argument("left", type=click.Path())
@click.argument("right", type=click.Path())
@click.option(
    "-m",
    "--mapping",
    "mappings",
    multiple=True,
    required=True,
    type=click.Path(),
    help="mapping for LEFT, then for RIGHT (one -m: the same mapping for both)",
)
@click.option("-o", "--outdir", required=True, type=click.Path(), help="output folder")
@click.option(
    "--window",
    "date_window_days",
    type=click.IntRange(min=0),
    default=3,
    show_default=True,
    help="days two dates may be apart (passes 2 and 3)",
)
@click.option(
    "--tolerance",
    "amount_tolerance_minor",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="minor units (cents, pence) two amounts may differ by",
)
@click.option(
    "--text-threshold",
    type=click.FloatRange(0, 100),
    default=0.0,
    show_default=True,
    help="least description similarity (0-100) for an amount+date match; 0: text only breaks ties",
)
@click.option(
    "--key",
    "keys",
    multiple=True,
    metavar="FIELD|LEFT=RIGHT",
    help="field equal on both sides for exact matches, e.g. reference or "
    "id=reference (repeatable; default: reference)",
)
@click.option("--no-keys", is_flag=True, help="skip the exact-key pass")
@click.option(
    "--group-by",
    metavar="FIELD",
    help="field whose shared value makes records one group, e.g. reference holding a payout id",
)
@click.option("--encoding", help="input encoding, overriding detection (both files)")
@click.option("-q", "--quiet", is_flag=True, help="print only errors")
@click.option("--debug", is_flag=True, help="show tracebacks")
def reconcile_cmd(
    left: str,
    right: str,
    mappings: tuple[str, ...],
    outdir: str,
    date_window_days: int,
    amount_tolerance_minor: int,
    text_threshold: float,
    keys: tuple[str, ...],
    no_keys: bool,
    group_by: str | None,
    encoding: str | None,
    quiet: bool,
    debug: bool,
) -> None:
    """Match the transactions of LEFT against those of RIGHT.

    Passes, each over what is still unmatched: equal keys and amount; equal amount within
    the date window (text breaks ties); one record equal to the sum of several on the other
    side (a payout and its charges). Writes reconcile.json, reconcile.csv and reconcile.html
    to OUTDIR. Exit code 0: everything matched; 1: some records unmatched or rows rejected;
    2: a usage, input or mapping error.

    \b
    Example:
      csvbridge reconcile sample_data/stripe_payouts.csv sample_data/bank_deposits.csv \\
          -m mappings/stripe_charges.yaml -m mappings/bank_deposits.yaml \\
          --group-by reference -o out/
    """

    def body() -> int:
        from .reconcile import reconcile

        if len(mappings) > 2:
            raise CsvbridgeError(
                f"{len(mappings)} mappings given; reconcile takes one for LEFT and one for RIGHT",
                where="-m " + " -m ".join(mappings),
                hint="give -m LEFT_MAPPING -m RIGHT_MAPPING (or one -m for both files).",
                code="usage",
            )
        result = reconcile(
            left,
            mappings[0],
            right,
            mappings[-1],
            outdir,
            date_window_days=date_window_days,
            amount_tolerance_minor=amount_tolerance_minor,
            text_threshold=text_threshold,
            keys=() if no_keys else (keys or ("reference",)),
            group_by=group_by,
            encoding=encoding,
        )
        if not quiet:
            r = result.report
            s = r["summary"]
            passes = ", ".join(f"{n} {name}" for name, n in s["by_pass"].items())
            click.echo(f"matches  {s['matches']} ({passes})")
            for side in ("left", "right"):
                click.echo(
                    f"{side:<8} {r[side]['file']}: {s['records'][side]} records, "
                    f"{s['matched'][side]} matched, {s['unmatched'][side]} unmatched, "
                    f"{s['rejected'][side]} rejected"
                )
            for side in ("left", "right"):
                for line in r["tie_out"][side]["equation"]:
                    click.echo(f"tie-out  {side}: {line}")
            for w in r["warnings"]:
                click.echo(f"warning  {w}")
            click.echo(f"report   {outdir.rstrip('/')}/reconcile.html")
        return result.exit_code

    _run(debug, body)
