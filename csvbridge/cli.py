"""The command line: each command parses its options and makes one library call."""

from __future__ import annotations

import contextlib
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from . import __version__
from .errors import CsvbridgeError

if TYPE_CHECKING:
    from .pipeline import ConvertResult

# The commands import what they use when they run: `--help` and a typo's error need not load
# pyarrow, the pipeline and the writers (tests/test_import_cost.py keeps it so).

F = TypeVar("F", bound=Callable[..., Any])

EXIT_INTERNAL = 3


def _run(debug: bool, fn: Callable[[], int]) -> None:
    """Run a command body: CsvbridgeErrors become a message and a hint, never a traceback."""
    try:
        from .arrow_setup import keep_pandas_out_of_pyarrow

        keep_pandas_out_of_pyarrow()
        _lean_memory_pool()
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


def _lean_memory_pool() -> None:
    """Use jemalloc for pyarrow's buffers when it is built in: pyarrow's default (mimalloc)
    keeps about 30 MB more of freed chunks at the peak of a 1M-row conversion. The
    ARROW_DEFAULT_MEMORY_POOL environment variable still decides when it is set. Called as a
    command starts to run (not for --help)."""
    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return
    import pyarrow as pa

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
        from .file_hash import hash_ahead

        hash_ahead([Path(p) for p in inputs])  # while the rest loads
        from .engines import get_engine
        from .history import default_path
        from .limits import parse_cli as parse_limits
        from .mask import Masker
        from .progress import ProgressBar
        from .reports.summary import summary_lines
        from .watch_fs import turn_of_watched_history

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


def convert(*args: Any, **kwargs: Any) -> ConvertResult:
    """``pipeline.convert``, imported when a conversion runs."""
    from .pipeline import convert as run

    return run(*args, **kwargs)


def _register_plugins() -> None:
    """Commands that live in their own modules register themselves on ``main``."""
    import importlib

    for name in (
        "cli_profile",
        "cli_reconcile",
        "cli_history",
        "cli_watch",
        "cli_mapping",
        "cli_archive",
    ):
        try:
            importlib.import_module(f"csvbridge.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"csvbridge.{name}":
                raise


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
        from .model import KINDS
        from .writers import CATALOGUE, TARGETS

        if name is None:
            click.echo("Targets (use with --to; csvbridge formats NAME shows one in full):")
            width = max(len(n) for n in CATALOGUE) + 2
            kinds_w = max(len(", ".join(e.kinds)) for e in CATALOGUE.values()) + 2
            for e in sorted(CATALOGUE.values(), key=lambda e: e.name):
                click.echo(f"  {e.name:<{width}}{', '.join(e.kinds):<{kinds_w}}{e.title}")
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
