"""The orders benchmark's mapping and baseline cannot rot: 2,000 generated order rows convert to
Xero invoices with nothing rejected, and the hand-written polars job (benchmarks/
contenders_orders.py) writes the same rows, byte for byte. Speed is measured by
benchmarks/orders.py, not asserted here."""

from __future__ import annotations

import csv
import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from .conftest import ROOT, run_cli

MAPPING = ROOT / "benchmarks" / "orders_mapping.yaml"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def convert(inp: Path, out: Path) -> tuple[dict[str, Any], bytes]:
    """csvbridge's report and its xero-invoices parts joined into one file (one header)."""
    result = run_cli(
        "convert", inp, "-m", MAPPING, "--to", "xero-invoices", "-o", out, "--quiet", "--no-history"
    )
    report = json.loads((out / "report.json").read_text())
    parts = sorted(out.glob("xero-invoices*.csv"))
    assert parts, result.output
    lines = parts[0].read_bytes().splitlines(keepends=True)[:1]
    for part in parts:
        lines += part.read_bytes().splitlines(keepends=True)[1:]
    return report, b"".join(lines)


def polars_rows(inp: Path, tmp_path: Path) -> bytes:
    pytest.importorskip("polars", reason="the polars baseline needs polars (the bench extra)")
    out = tmp_path / "polars.csv"
    load("contenders_orders").job_polars(str(inp), str(out))
    return out.read_bytes()


@pytest.fixture(scope="module")
def orders(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("orders") / "orders.csv"
    load("generate").generate_orders(2_000, path, seed=1)
    return path


def test_generated_orders_convert_with_no_rejects(orders: Path, tmp_path: Path) -> None:
    report, written = convert(orders, tmp_path / "out")
    (tie,) = report["tie_out"]
    assert tie["balanced"], tie
    outcomes = tie["outcomes"]
    assert outcomes["rejected"]["rows"] == 0, report["rejects"]["first"]
    assert outcomes["filtered"]["rows"] == 0
    assert report["check_warnings"] == {}
    lines = written.decode().splitlines()
    assert len(lines) - 1 == outcomes["written"]["rows"] > 2_000  # items plus shipping lines
    assert lines[1].split(",")[10:14] == ["#1001", "Shopify #1001", "01/01/2023", "01/01/2023"]


def test_polars_baseline_writes_the_same_rows(orders: Path, tmp_path: Path) -> None:
    baseline = polars_rows(orders, tmp_path)
    _, written = convert(orders, tmp_path / "out")
    assert baseline == written


def test_polars_baseline_rejects_and_filters_like_csvbridge(orders: Path, tmp_path: Path) -> None:
    """An edited export: a wrong total, a refunded order, an order in EUR, a formula in a
    description, an order without email. Both leave out the same orders."""
    with orders.open(newline="") as fh:
        rows = list(csv.reader(fh))
    col = {name: i for i, name in enumerate(rows[0])}
    first = {r[0]: r for r in reversed(rows[1:])}  # an order's first row
    first["#1002"][col["Total"]] = "281.00"
    first["#1003"][col["Financial Status"]] = "refunded"
    first["#1005"][col["Currency"]] = "EUR"
    first["#1006"][col["Lineitem name"]] = '=HYPERLINK("x")'
    first["#1009"][col["Email"]] = ""
    edited = tmp_path / "edited.csv"
    with edited.open("w", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)

    report, written = convert(edited, tmp_path / "out")
    outcomes = report["tie_out"][0]["outcomes"]
    assert outcomes["rejected"]["rows"] > 0 and outcomes["filtered"]["rows"] > 0
    assert b"#1002," not in written and b"#1003," not in written and b"#1005," not in written
    assert b"'=HYPERLINK" in written and b"Shopify POS customer,,,," in written
    assert polars_rows(edited, tmp_path) == written


def test_formulas_use_each_chunks_own_cells(
    orders: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every chunk's table at the same address, as CPython may reuse a freed chunk's memory:
    the formulas must still read each chunk's own cells (the frame cache was once keyed by
    id(table) and fed one chunk the previous chunk's formula values)."""
    from csvbridge.mapping import compile as compile_module

    monkeypatch.setattr(compile_module, "id", lambda _obj: 1, raising=False)
    result = run_cli(
        "convert",
        orders,
        "-m",
        MAPPING,
        "--to",
        "xero-invoices",
        "-o",
        tmp_path / "out",
        "--quiet",
        "--no-history",
        "--chunk-rows",
        "500",
    )
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["tie_out"][0]["outcomes"]["rejected"]["rows"] == 0, result.output


def test_a_column_two_date_fields_read_is_parsed_once_per_chunk(
    orders: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """date and due_date both come from 'Created at', in each of the mapping's record shapes:
    one parse per chunk, and the same bytes as parsing for every field."""
    from csvbridge.mapping import datefields

    real = datefields.parse_dates
    calls: list[int] = []

    def counted(text: Any, fmts: Any) -> Any:
        calls.append(len(text))
        return real(text, fmts)

    monkeypatch.setattr(datefields, "parse_dates", counted)
    _, once = convert(orders, tmp_path / "once")
    assert calls and len(calls) == 1, calls  # 2,000 rows: one chunk, one parse
    monkeypatch.setattr(
        datefields.DateFields,
        "_date_field",
        _without_memo(datefields.DateFields._date_field),
    )
    calls.clear()
    _, twice = convert(orders, tmp_path / "twice")
    assert len(calls) >= 2 and once == twice  # each field of each record shape parses


def _without_memo(method: Any) -> Any:
    def date_field(self: Any, *args: Any) -> Any:
        return method(self, *args[:7], None)

    return date_field
