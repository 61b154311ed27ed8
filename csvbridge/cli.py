"""The command line: each command parses its options and makes one library call."""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
import pyarrow as pa

from . import __version__
from .atomic import write_atomic
from .engines import get_engine
from .errors import CsvbridgeError
from .history import History, default_path
from .limits import parse_cli as parse_limits
from .limits import resolve as resolve_limits
from .mask import Masker
from .model import KINDS
from .pipeline import convert
from .profiling import profile_file
from .profiling.draft import draft_transaction
from .profiling.report import inspect_lines
from .progress import ProgressBar
from .readers import ReadOptions
from .reconcile import reconcile
from .reports.summary import summary_lines
from .watch_fs import turn_of_watched_history
from .writers import TARGETS, resolve_target

F = TypeVar("F", bound=Callable[..., Any])

EXIT_INTERNAL = 3


def _run(debug: bool, fn: Callable[[], int]) -> None:
    """Run a command body: CsvbridgeErrors become a message and a hint, never a traceback."""
    try:
        code = fn()
    except CsvbridgeError as e:
        click.echo(e.render(), err=True)
        if debug:
            traceback.print_exc()
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted; no partial output was kept", err=True)
        sys.exit(130)
    except BrokenPipeError:  # `csvbridge ... | head`: the reader left; not an error of ours
        sys.stderr.close()
        sys.exit(0)
    except Exception as e:  # an unexpected failure is a bug: say so plainly
        if debug:
            traceback.print_exc()
        click.echo(
            f"internal error: {type(e).__name__}: {e}\n"
            "  hint:  this is a bug in csvbridge. Run again with --debug and report the output.",
            err=True,
        )
        sys.exit(EXIT_INTERNAL)
    sys.exit(code)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="csvbridge")
def main() -> None:
    """Convert CSV and Excel exports into files accounting systems import.

    \b
    Example:
      csvbridge convert statement.csv -m mappings/uk_bank.yaml --to xero -o out/
    """
    _lean_memory_pool()


def _lean_memory_pool() -> None:
    """Use jemalloc for pyarrow's buffers when it is built in: pyarrow's default (mimalloc)
    keeps about 30 MB more of freed chunks at the peak of a 1M-row conversion. The
    ARROW_DEFAULT_MEMORY_POOL environment variable still decides when it is set."""
    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return
    with contextlib.suppress(NotImplementedError, pa.ArrowException):
        pa.set_memory_pool(pa.jemalloc_memory_pool())


def _options(pairs: tuple[str, ...], date_order: str | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for p in pairs:
        if "=" not in p:
            raise CsvbridgeError(
                f"option '{p}' is not NAME=VALUE",
                where=f"-O {p}",
                hint="for example -O date_order=dmy or -O qbo-bank.formula_guard=off",
                code="option-syntax",
            )
        k, v = p.split("=", 1)
        out[k.strip()] = v.strip()
    if date_order:
        out["date_order"] = date_order
    return out


@main.command("convert")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(dir_okay=True))
@click.option("-m", "--mapping", required=True, type=click.Path(), help="the mapping YAML file")
@click.option(
    "--to",
    "to",
    required=True,
    help="target(s), comma-separated: csv, qbo-bank, xero-bank (or qbo, xero)",
)
@click.option("-o", "--outdir", required=True, type=click.Path(), help="output folder")
@click.option(
    "--date-order",
    type=click.Choice(["dmy", "mdy", "ymd"]),
    help="date order of the target company: dmy (DD/MM/YYYY) or mdy (MM/DD/YYYY)",
)
@click.option(
    "-O",
    "--option",
    "opts",
    multiple=True,
    metavar="NAME=VALUE",
    help="target option, e.g. -O formula_guard=off or -O xero-bank.date_order=mdy",
)
@click.option("--encoding", help="input encoding, overriding detection (e.g. cp1252)")
@click.option(
    "--chunk-rows",
    type=click.IntRange(min=1),
    default=25_000,
    show_default=True,
    help="rows processed at a time (memory is bounded by this)",
)
@click.option(
    "--history",
    "history_path",
    type=click.Path(),
    help="history database (default: $CSVBRIDGE_HISTORY or "
    "~/.local/share/csvbridge/history.sqlite)",
)
@click.option("--no-history", is_flag=True, help="do not check or record this batch in the history")
@click.option(
    "--decisions",
    type=click.Path(),
    help="CSV of duplicate decisions (identity, decision) that override the flags",
)
@click.option(
    "--mask",
    "mask_cols",
    multiple=True,
    metavar="COL",
    help="show this column as ****1234 in the reports, rejects.csv and duplicates.csv "
    "(repeatable; account and card numbers are masked anyway; import files never)",
)
@click.option("--no-mask", is_flag=True, help="mask nothing in the reports")
@click.option(
    "--limit",
    "limit_opts",
    multiple=True,
    metavar="NAME=VALUE",
    help="raise or lower an input limit, e.g. --limit max_columns=20000 (docs/limits.md)",
)
@click.option(
    "--engine",
    type=click.Choice(["local", "dask"]),
    default="local",
    show_default=True,
    help="where reading and mapping run: here, or on a Dask cluster (docs/engines.md)",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="dask: the scheduler to use, e.g. tcp://10.0.0.5:8786 (default: a local cluster)",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="dask: worker processes of the local cluster (default: one per core)",
)
@click.option(
    "--read-on",
    type=click.Choice(["workers", "client"]),
    help="dask: who reads the input files (default: workers, which need them at the same path)",
)
@click.option("-q", "--quiet", is_flag=True, help="print only errors (and no progress bar)")
@click.option("--debug", is_flag=True, help="show tracebacks")
def convert_cmd(
    inputs: tuple[str, ...],
    mapping: str,
    to: str,
    outdir: str,
    date_order: str | None,
    opts: tuple[str, ...],
    encoding: str | None,
    chunk_rows: int,
    history_path: str | None,
    no_history: bool,
    decisions: str | None,
    mask_cols: tuple[str, ...],
    no_mask: bool,
    limit_opts: tuple[str, ...],
    engine: str,
    scheduler: str | None,
    workers: int | None,
    read_on: str | None,
    quiet: bool,
    debug: bool,
) -> None:
    """Convert INPUTS (one batch) with a mapping into target import files.

    An input that is a folder stands for the files in it, sorted by name.

    Writes the import file(s), rejects.csv, duplicates.csv and report.json to OUTDIR.
    Exit code 0: everything converted; 1: converted, with rejected rows (see rejects.csv);
    2: a usage, input or mapping error; 3: internal error or failed tie-out.

    \b
    Example:
      csvbridge convert sample_data/uk_bank_statement.csv \\
          -m mappings/uk_bank.yaml --to qbo-bank,xero-bank -o out/
    """

    def body() -> int:
        if no_mask and mask_cols:
            raise CsvbridgeError(
                "--mask and --no-mask contradict each other",
                where="--mask " + " --mask ".join(mask_cols),
                hint="give --mask COL to mask more columns, or --no-mask to mask nothing.",
                code="usage",
            )
        history_file = None if no_history else Path(history_path or default_path())
        # The bar draws only when stderr is a terminal; it is cleared before anything else prints.
        # A watched folder's history: take turns with its watcher.
        with (
            turn_of_watched_history(history_file),
            ProgressBar(inputs, enabled=not quiet) as bar,
        ):
            result = convert(
                list(inputs),
                mapping,
                [t for t in to.split(",") if t.strip()],
                outdir,
                options=_options(opts, date_order),
                encoding=encoding,
                chunk_rows=chunk_rows,
                on_chunk=bar,
                history=False if history_file is None else history_file,
                decisions=decisions,
                mask=Masker.of(mask_cols, auto=not no_mask),
                limits=parse_limits(limit_opts),
                engine=get_engine(engine, scheduler=scheduler, workers=workers, read_on=read_on),
            )
        if not quiet:
            for line in summary_lines(result.report, outdir.rstrip("/")):
                click.echo(line)
            for w in result.warnings:
                click.echo(f"note     {w}")
        return result.exit_code

    _run(debug, body)


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


def _register_plugins() -> None:
    """Commands that live in their own modules register themselves on ``main``."""
    import importlib

    for name in ("cli_watch", "cli_mapping", "cli_archive"):
        try:
            importlib.import_module(f"csvbridge.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"csvbridge.{name}":
                raise


def _read_options(encoding: str | None, delimiter: str | None, sheet: str | None) -> ReadOptions:
    if delimiter and delimiter.lower() == "tab":
        delimiter = "\t"
    return ReadOptions(encoding=encoding, delimiter=delimiter, sheet=sheet, limits=resolve_limits())


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

    from .history_read import read_batches  # reads without migrating an older history

    def body() -> int:
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


@main.command("formats")
@click.argument("name", required=False)
def formats_cmd(name: str | None) -> None:
    """List the targets and the kinds each takes, or show one target in full.

    \b
    Example:
      csvbridge formats
      csvbridge formats qbo-bank
    """

    def body() -> int:
        if name is None:
            click.echo("Targets (use with --to; csvbridge formats NAME shows one in full):")
            width = max(len(n) for n in TARGETS) + 2
            kinds_w = max(len(", ".join(t.kinds)) for t in TARGETS.values()) + 2
            for t in sorted(TARGETS.values(), key=lambda t: t.name):
                click.echo(f"  {t.name:<{width}}{', '.join(t.kinds):<{kinds_w}}{t.title}")
            click.echo("\nKinds of record (a mapping's kind:):")
            for k in KINDS.values():
                click.echo(f"  {k.name:<12} {k.doc}")
            return 0
        found = TARGETS.get(name)
        if found is None:
            raise CsvbridgeError(
                f"unknown target '{name}'",
                hint="targets: " + ", ".join(sorted(TARGETS)),
                code="target-unknown",
            )
        t = found
        click.echo(f"{t.name}: {t.title}\n\n{t.doc}\n")
        click.echo(f"takes:    {', '.join(t.kinds)}")
        click.echo(f"columns:  {', '.join(t.columns)}")
        click.echo(f"requires: {', '.join(t.required) or '-'}")
        click.echo(f"limits:   {t.limits}")
        for o in t.options:
            values = "|".join(o.choices) if o.choices else "<text>"
            default = f"default {o.default}" if o.default else "no default"
            click.echo(f"option:   {o.name} = {values} ({default}) [{o.confidence}] {o.doc}")
        for n in t.notes:
            click.echo(f"note:     {n}")
        return 0

    _run(False, body)


_register_plugins()
