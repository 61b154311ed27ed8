"""Commands for writing mappings: ``check`` (validate, and preview a file) and ``test`` (run the
examples kept beside a mapping). Neither writes an import file or touches the history."""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING

import click

from .cli import _run, main

if TYPE_CHECKING:
    from .mapping.preview import Preview

MAX_CELL = 28  # characters of a cell shown in the preview table


@main.command("check")
@click.argument("mapping", type=click.Path())
@click.argument("file", required=False, type=click.Path())
@click.option(
    "--rows",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="how many data rows of FILE to preview",
)
@click.option("--encoding", help="input encoding, overriding detection (e.g. cp1252)")
@click.option("--debug", is_flag=True, help="show tracebacks")
def check_cmd(mapping: str, file: str | None, rows: int, encoding: str | None, debug: bool) -> None:
    """Check a mapping for mistakes; with FILE, preview what its first rows become.

    Lists every mistake in MAPPING, each with its file, line and key. With FILE, also shows
    the first rows of FILE as canonical records, and the rows that would be rejected, with
    why. Writes nothing: no import file, no report, no history.

    Exit code 0: valid (and no previewed row rejected); 1: valid, but previewed rows were
    rejected; 2: the mapping is invalid, or does not fit FILE.

    \b
    Example:
      csvbridge check mappings/uk_bank.yaml
      csvbridge check mappings/uk_bank.yaml sample_data/uk_bank_statement.csv --rows 5
    """

    def body() -> int:
        from .mapping.preview import check_mapping, preview

        result = check_mapping(mapping)
        if result.loaded is None:
            for problem in result.problems:
                click.echo(problem.render(), err=True)
            n = len(result.problems)
            click.echo(
                f"invalid  {mapping}: {n} problem{'s' if n != 1 else ''} "
                "(each with its line and key above)",
                err=True,
            )
            return 2
        m = result.loaded.mapping
        click.echo(
            f"valid    {mapping}: {m.name} v{m.version}, {m.kind}, "
            f"{len(m.fields)} field{'s' if len(m.fields) != 1 else ''}"
        )
        if file is None:
            return 0
        pv = preview(result.loaded, file, rows, encoding)
        for line in preview_lines(pv):
            click.echo(line)
        return 1 if pv.rejects else 0

    _run(debug, body)


@main.command("test")
@click.argument("mapping", type=click.Path())
@click.option("--debug", is_flag=True, help="show tracebacks")
def test_cmd(mapping: str, debug: bool) -> None:
    """Run the examples kept beside a mapping and compare with what they expect.

    Each case is a folder examples/<stem>/<case>/ beside MAPPING (for mappings/uk_bank.yaml:
    mappings/examples/uk_bank/<case>/) holding input.<ext> (a few rows of a real export),
    expected.csv (what convert --to csv writes for it; columns left out are not compared)
    and, when rows are to be rejected, expected_rejects.csv. Each input is converted into a
    temporary folder, without history, and compared; the first differing rows are shown.

    Exit code 0: every case passed; 1: some failed; 2: some could not run, or the mapping is
    invalid or has no examples.

    \b
    Example:
      csvbridge test mappings/uk_bank.yaml
    """

    def body() -> int:
        from .mapping.examples import run_examples

        run = run_examples(mapping)
        click.echo(f"examples {run.folder} ({len(run.cases)} case{'s' * (len(run.cases) != 1)})")
        width = max(len(c.name) for c in run.cases)
        for c in run.cases:
            if c.status == "pass":
                rej = f", {c.rejected} rejected as expected" if c.rejected else ""
                click.echo(f"pass     {c.name:<{width}}  {c.records} records{rej}")
                continue
            click.echo(f"{c.status.upper():<8} {c.name}")
            for d in c.details:
                click.echo(f"    {d}")
        passed = sum(c.status == "pass" for c in run.cases)
        failed = sum(c.status == "fail" for c in run.cases)
        errors = sum(c.status == "error" for c in run.cases)
        summary = f"{passed} passed, {failed} failed"
        click.echo(summary + (f", {errors} could not run" if errors else ""))
        return run.exit_code

    _run(debug, body)


def preview_lines(pv: Preview) -> list[str]:
    """The preview as terminal lines: how the file was read, the records as a table, then
    the rejected rows with every reason."""
    info = pv.source
    read = [info.format]
    for key in ("encoding", "delimiter", "sheet"):
        d = info.detections.get(key)
        if d is not None:
            read.append(f"{key} {d.value!r}" + ("" if d.method == "given" else " (detected)"))
    if info.header_line:
        unit = "line" if info.format in ("csv", "fixed-width") else "row"
        read.append(f"header on {unit} {info.header_line}")
    out = [f"file     {info.name}: " + ", ".join(read)]
    out += [f"note     {w}" for w in info.warnings]
    if pv.rows_read == 0:
        out.append("note     the file has a header but no data rows")
    n = pv.records.num_rows
    out.append(
        f"rows     first {pv.rows_read} data row{'s' * (pv.rows_read != 1)}: "
        f"{n} record{'s' * (n != 1)}, {len(pv.rejects)} rejected, {pv.filtered} filtered"
    )
    if n:
        out.append("")
        out += _table(pv)
    for name, lines in pv.warnings:
        shown = ", ".join(map(str, lines[:10])) + (", ..." if len(lines) > 10 else "")
        out.append(f"warning  check {name} fails on line(s) {shown}")
    if pv.rejects:
        out.append("")
        out.append("rejected")
        for r in pv.rejects:
            for e in r.errors:
                what = e.field or "row"
                if e.column:
                    what += f" ({e.column}"
                    what += f": {_cell(e.value, 40)!r})" if e.value else ")"
                out.append(f"  line {r.line}: {what}: {e.rule}: {e.message}")
    return out


def _table(pv: Preview) -> list[str]:
    from .model import FieldType
    from .writers.format import canonical

    kind = pv.kind
    fields = pv.shown_fields()
    cols = [("line", [str(v) for v in pv.records.column("_line").to_pylist()], True)]
    for f in fields:
        values = canonical(pv.records, kind, f, guard=False).to_pylist()
        right = kind.field(f).type in (FieldType.MONEY, FieldType.DECIMAL)
        cols.append((f, [_cell(v or "", MAX_CELL) for v in values], right))
    widths = [max(_width(h), *(_width(v) for v in vals)) for h, vals, _ in cols]
    lines = ["  ".join(_pad(h, w, r) for (h, _, r), w in zip(cols, widths, strict=True))]
    for i in range(pv.records.num_rows):
        lines.append("  ".join(_pad(v[i], w, r) for (_, v, r), w in zip(cols, widths, strict=True)))
    return [line.rstrip() for line in lines]


def _cell(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool) -> str:
    room = " " * (width - _width(text))
    return room + text if right else text + room
