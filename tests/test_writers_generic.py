"""The generic typed targets (xlsx, jsonl, parquet) and the archive target with
verify-archive: read back by openpyxl, json and pyarrow to the same canonical values; typed
Excel cells; determinism; splitting; an archive written, verified, and caught when tampered
with; the archive golden case (a folder, so compared here rather than by test_golden)."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from csvbridge import convert
from csvbridge.model import KINDS, FieldType, Kind, get_kind
from csvbridge.money import CURRENCY_EXPONENTS
from csvbridge.writers import TARGETS, WriteContext, tabular
from csvbridge.writers.archive_verify import verify_archive
from csvbridge.writers.tabular import header

from .conftest import ROOT, run_cli, write_case

GOLDEN = ROOT / "tests" / "golden"
EDGE = GOLDEN / "w_generic_xlsx"  # the edge-case statement the golden cases share
UK = [ROOT / "sample_data" / "uk_bank_statement.csv"], ROOT / "mappings" / "uk_bank.yaml"
EPOCH = date(1970, 1, 1)


# -- records built directly, for every kind ----------------------------------------------
TEXTS = ["0012", "=SUM(A1)", None, "Café ☕ “q”", "line\r\nbreak", "+44 20", "-dash", "@x"]
DATES = [date(2025, 3, 1), date(1899, 12, 31), None, date(2024, 2, 29), date(1900, 3, 1)]
MONEY = [-345, 0, None, 123_456_789, 10**16 + 7, -(10**15) + 1, 1]
DECIMALS = ["1.5", "-0.125", None, "123456789012345678.5", "3", "0.000001"]
CURRENCIES = ["GBP", "JPY", "BHD", "EUR"]


def records(kind: Kind, n: int, currencies: list[str] | None = None, start: int = 0) -> pa.Table:
    """``n`` records of ``kind`` cycling through awkward values of each type."""
    curs = currencies or CURRENCIES
    cols: dict[str, list[Any]] = {}
    for f in kind.fields:
        if f.type is FieldType.TEXT:
            vals: list[Any] = [TEXTS[(start + i) % len(TEXTS)] for i in range(n)]
            if f.required:
                vals = [v or f"{f.name}-{start + i}" for i, v in enumerate(vals)]
        elif f.type is FieldType.DATE:
            vals = [DATES[(start + i) % len(DATES)] for i in range(n)]
            if f.required:
                vals = [v or date(2025, 1, 1) for v in vals]
        elif f.type is FieldType.MONEY:
            vals = [MONEY[(start + i) % len(MONEY)] for i in range(n)]
            if f.required:
                vals = [0 if v is None else v for v in vals]
        elif f.type is FieldType.DECIMAL:
            vals = [DECIMALS[(start + i) % len(DECIMALS)] for i in range(n)]
        else:
            vals = [curs[(start + i) % len(curs)] for i in range(n)]
        cols[f.name] = vals
    cols["_source"] = [0] * n
    cols["_line"] = [start + i + 2 for i in range(n)]
    cols["_row"] = [start + i for i in range(n)]
    return pa.Table.from_pydict(cols, schema=kind.arrow_schema())


class Rejects(list[tuple[str, int, str, str, str]]):
    def __call__(self, target: str, recs: pa.Table, field: str, rule: str, msg: str) -> None:
        self.append((target, recs.num_rows, field, rule, msg))


def write(
    target: str,
    kind: Kind,
    tables: list[pa.Table],
    outdir: Path,
    options: dict[str, str] | None = None,
) -> tuple[Any, list[Any], Rejects]:
    """Run one target's writer over ``tables``; return the writer, its files, its refusals."""
    outdir.mkdir(parents=True, exist_ok=True)
    t = TARGETS[target]
    rejects = Rejects()
    ctx = WriteContext(outdir, kind, t.resolve_options(options or {}), ["in.csv"], target, rejects)
    w = t.factory(ctx)
    for table in tables:
        w.write(table)
    return w, w.close(), rejects


def decimal_of(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-CURRENCY_EXPONENTS[currency])


def canonical(table: pa.Table, kind: Kind) -> list[dict[str, Any]]:
    """The records as Python values: money as Decimal in its currency, dates as date."""
    out = []
    for r in table.to_pylist():
        row: dict[str, Any] = {}
        for f in kind.fields:
            v = r[f.name]
            if f.type is FieldType.MONEY and v is not None:
                v = decimal_of(v, r["currency"])
            row[f.name] = v
        row["source_file"] = "in.csv"
        row["source_line"] = r["_line"]
        out.append(row)
    return out


def excel_text(value: Any) -> Any:
    """A text cell as Excel shows it: OOXML's _xHHHH_ escapes (a CR, control characters)
    decoded, which openpyxl leaves as they are."""
    if not isinstance(value, str):
        return value
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), value)


def _sheet_xml(path: Path) -> str:
    with zipfile.ZipFile(path) as z:
        return z.read("xl/worksheets/sheet1.xml").decode("utf-8")


# == xlsx ===================================================================================
def test_xlsx_cells_are_typed(tmp_path: Path) -> None:
    kind = get_kind("invoice")
    table = records(kind, 14)
    _, files, rejects = write("xlsx", kind, [table], tmp_path)
    assert [f.name for f in files] == ["invoice.xlsx"] and not rejects
    wb = openpyxl.load_workbook(tmp_path / "invoice.xlsx")
    ws = wb.active
    assert wb.sheetnames == ["invoice"]
    assert ws.freeze_panes == "A2"
    assert [c.value for c in ws[1]] == list(header(kind))
    assert ws.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(len(header(kind)))}15"
    names = list(header(kind))
    for want, cells in zip(canonical(table, kind), ws.iter_rows(min_row=2), strict=True):
        got = dict(zip(names, cells, strict=True))
        for f in kind.fields:
            cell, value = got[f.name], want[f.name]
            if value is None:
                assert cell.value is None, f.name
            elif f.type is FieldType.DATE and value >= date(1900, 3, 1):
                assert cell.is_date and cell.number_format == "yyyy-mm-dd"
                assert cell.value == datetime.combine(value, datetime.min.time())
            elif f.type is FieldType.DATE:  # before Excel's calendar: ISO text
                assert cell.data_type == "s" and cell.value == value.isoformat()
            elif f.type is FieldType.MONEY:
                places = CURRENCY_EXPONENTS[want["currency"]]
                if abs(value.scaleb(places)) < 10**15:
                    assert cell.data_type == "n"
                    assert Decimal(repr(cell.value)) == value
                    assert cell.number_format == "#,##0" + ("." + "0" * places if places else "")
                else:  # more digits than a double holds exactly: text, never rounded
                    assert cell.data_type == "s" and Decimal(cell.value) == value
            elif f.type is FieldType.DECIMAL:
                if len(value.replace("-", "").replace(".", "").lstrip("0")) <= 15:
                    assert cell.data_type == "n" and Decimal(repr(cell.value)) == Decimal(value)
                else:
                    assert cell.data_type == "s" and cell.value == value
            else:  # text is text: leading zeros, formula-looking text, signs
                assert cell.data_type == "s" and excel_text(cell.value) == value, f.name
        assert got["source_file"].value == "in.csv"
        assert got["source_line"].value == want["source_line"]


def test_xlsx_formula_text_is_a_string_cell_never_a_formula(tmp_path: Path) -> None:
    kind = get_kind("transaction")
    write("xlsx", kind, [records(kind, 8)], tmp_path)
    xml = _sheet_xml(tmp_path / "transaction.xlsx")
    assert "<f>" not in xml  # no formula element anywhere
    assert "<is><t>=SUM(A1)</t></is>" in xml
    assert "<is><t>0012</t></is>" in xml


def test_xlsx_holds_the_exact_decimal_text(tmp_path: Path) -> None:
    """XlsxWriter would write 9102069057682.53 as 9102069057682.529 (%.16G); the cell holds
    the amount's own text."""
    kind = get_kind("transaction")
    table = records(kind, 1, ["GBP"]).set_column(
        1, "amount", pa.array([910206905768253], pa.int64())
    )
    write("xlsx", kind, [table], tmp_path)
    xml = _sheet_xml(tmp_path / "transaction.xlsx")
    assert "<v>9102069057682.53</v>" in xml
    ws = openpyxl.load_workbook(tmp_path / "transaction.xlsx").active
    assert Decimal(repr(ws["B2"].value)) == Decimal("9102069057682.53")


def test_xlsx_refuses_text_longer_than_a_cell(tmp_path: Path) -> None:
    kind = get_kind("transaction")
    table = records(kind, 3, ["GBP"])
    long = "x" * 32_767
    table = table.set_column(3, "description", pa.array(["ok", long + "y", long]))
    w, files, rejects = write("xlsx", kind, [table], tmp_path)
    assert rejects == [
        ("xlsx", 1, "description", "text-too-long", rejects[0][4]),
    ]
    assert "32,767" in rejects[0][4]
    assert w.tally.count == 2 and w.rejected.count == 1
    assert files[0].rows == 2
    ws = openpyxl.load_workbook(tmp_path / "transaction.xlsx").active
    assert len(ws["D3"].value) == 32_767


def test_xlsx_splits_past_the_row_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tabular.XlsxTableWriter, "max_rows", 4)  # header + 3 records a sheet
    kind = get_kind("account")
    tables = [records(kind, 5), records(kind, 2, start=5)]
    _, files, _ = write("xlsx", kind, tables, tmp_path)
    assert [(f.name, f.rows) for f in files] == [
        ("account-001.xlsx", 3),
        ("account-002.xlsx", 3),
        ("account-003.xlsx", 1),
    ]
    got = []
    for f in files:
        rows = list(openpyxl.load_workbook(tmp_path / f.name).active.values)
        assert rows[0] == header(kind)
        got += [r[-1] for r in rows[1:]]
    assert got == [2, 3, 4, 5, 6, 7, 8]
    assert sorted(p.name for p in tmp_path.iterdir()) == [f.name for f in files]


@pytest.mark.parametrize("kind_name", sorted(KINDS))
def test_every_kind_reads_back_from_every_typed_target(tmp_path: Path, kind_name: str) -> None:
    kind = get_kind(kind_name)
    table = records(kind, 9)
    for target in ("xlsx", "jsonl", "parquet"):
        _, files, _ = write(target, kind, [table], tmp_path / target)
        assert len(files) == 1 and files[0].rows == 9
    rows = list(openpyxl.load_workbook(tmp_path / "xlsx" / f"{kind_name}.xlsx").active.values)
    assert rows[0] == header(kind) and len(rows) == 10
    assert jsonl_values(tmp_path / "jsonl" / f"{kind_name}.jsonl", kind) == canonical(table, kind)
    assert parquet_values(tmp_path / "parquet" / f"{kind_name}.parquet", kind) == canonical(
        table, kind
    )


def test_no_records_still_write_each_target(tmp_path: Path) -> None:
    kind = get_kind("transaction")
    for target in ("xlsx", "jsonl", "parquet", "archive"):
        _, files, _ = write(target, kind, [records(kind, 0)], tmp_path / target)
        assert all(f.rows == 0 for f in files), target
    book = openpyxl.load_workbook(tmp_path / "xlsx" / "transaction.xlsx")
    assert list(book.active.values) == [header(kind)]
    assert (tmp_path / "jsonl" / "transaction.jsonl").read_bytes() == b""
    empty = pq.read_table(tmp_path / "parquet" / "transaction.parquet")
    assert empty.num_rows == 0 and empty.schema.names[1] == "amount_minor"
    assert verify_archive(tmp_path / "archive" / "archive").ok


def test_xlsx_zip_is_stamped_with_a_fixed_time(tmp_path: Path) -> None:
    kind = get_kind("transaction")
    write("xlsx", kind, [records(kind, 5)], tmp_path)
    with zipfile.ZipFile(tmp_path / "transaction.xlsx") as z:
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 31, 0, 0, 0)}
        core = z.read("docProps/core.xml").decode()
    assert "2000-01-01T00:00:00Z" in core


# == jsonl ==================================================================================
def jsonl_values(path: Path, kind: Kind) -> list[dict[str, Any]]:
    """A JSONL file's records as canonical Python values."""
    data = path.read_bytes()
    assert b"\r\n" not in data.replace(b"\\r\\n", b"")
    out = []
    for line in data.decode("utf-8").splitlines():
        obj = json.loads(line)
        assert list(obj) == list(header(kind))
        for f in kind.fields:
            v = obj[f.name]
            if v is None:
                continue
            if f.type is FieldType.MONEY:
                assert isinstance(v, str)
                places = CURRENCY_EXPONENTS[obj["currency"]]
                assert len(v.partition(".")[2]) == places  # the currency's decimals, always
                obj[f.name] = Decimal(v)
            elif f.type is FieldType.DATE:
                obj[f.name] = date.fromisoformat(v)
        out.append(obj)
    return out


def test_jsonl_round_trips_to_the_same_canonical_values(tmp_path: Path) -> None:
    kind = get_kind("transaction")
    table = records(kind, 20)
    _, files, _ = write("jsonl", kind, [table.slice(0, 7), table.slice(7)], tmp_path)
    assert files[0].name == "transaction.jsonl" and files[0].rows == 20
    data = (tmp_path / "transaction.jsonl").read_bytes()
    assert data.endswith(b"\n") and data.count(b"\n") == 20  # LF ends each record only
    assert "Café ☕".encode() in data  # UTF-8, not \u escapes
    assert jsonl_values(tmp_path / "transaction.jsonl", kind) == canonical(table, kind)


def test_jsonl_through_the_pipeline_matches_the_canonical_csv(tmp_path: Path) -> None:
    convert(*UK, ["jsonl", "csv"], tmp_path, history=False)
    rows = list(csv.DictReader(io.StringIO((tmp_path / "transaction.csv").read_text("utf-8"))))
    objs = [json.loads(line) for line in (tmp_path / "transaction.jsonl").read_text().splitlines()]
    assert len(objs) == len(rows) == 28
    for o, r in zip(objs, rows, strict=True):
        assert {k: "" if v is None else str(v) for k, v in o.items()} == r


# == parquet ================================================================================
def parquet_values(path: Path, kind: Kind) -> list[dict[str, Any]]:
    """A Parquet file's records as canonical Python values (either money layout)."""
    table = pq.read_table(path)
    out = []
    for r in table.to_pylist():
        row: dict[str, Any] = {}
        for f in kind.fields:
            if f.type is FieldType.MONEY and f.name not in r:
                minor = r[f"{f.name}_minor"]
                row[f.name] = None if minor is None else decimal_of(minor, r["currency"])
            else:
                row[f.name] = r[f.name]
        row["source_file"] = r["source_file"]
        row["source_line"] = r["source_line"]
        out.append(row)
    return out


def test_parquet_one_currency_is_decimal_with_its_scale(tmp_path: Path) -> None:
    kind = get_kind("transaction")
    table = records(kind, 12, ["BHD"])
    write("parquet", kind, [table], tmp_path)
    pf = pq.read_table(tmp_path / "transaction.parquet")
    assert pf.schema.field("amount").type == pa.decimal128(18, 3)
    assert pf.schema.field("balance").type == pa.decimal128(18, 3)
    assert pf.schema.field("date").type == pa.date32()
    assert pf.schema.field("source_line").type == pa.int64()
    assert pf.schema.metadata[b"csvbridge.currency"] == b"BHD"
    assert pf.schema.field("amount").metadata[b"description"].startswith(b"signed")
    assert parquet_values(tmp_path / "transaction.parquet", kind) == canonical(table, kind)


def test_parquet_several_currencies_are_minor_units(tmp_path: Path) -> None:
    kind = get_kind("journal")
    table = records(kind, 12)
    write("parquet", kind, [table], tmp_path)
    schema = pq.read_schema(tmp_path / "journal.parquet")
    assert "amount" not in schema.names and schema.field("amount_minor").type == pa.int64()
    assert b"csvbridge.currency" not in schema.metadata
    assert parquet_values(tmp_path / "journal.parquet", kind) == canonical(table, kind)


def test_parquet_is_deterministic_whatever_the_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tabular, "ROW_GROUP", 4)
    kind = get_kind("invoice")
    table = records(kind, 11, ["GBP"])
    chunkings = [[table], [table.slice(0, 3), table.slice(3, 5), table.slice(8)], [table]]
    outs = []
    for i, tables in enumerate(chunkings):
        write("parquet", kind, tables, tmp_path / str(i))
        outs.append((tmp_path / str(i) / "invoice.parquet").read_bytes())
    assert outs[0] == outs[1] == outs[2]
    meta = pq.ParquetFile(tmp_path / "0" / "invoice.parquet").metadata
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [4, 4, 3]


def test_parquet_compression_option(tmp_path: Path) -> None:
    kind = get_kind("item")
    write("parquet", kind, [records(kind, 5)], tmp_path, {"compression": "zstd"})
    meta = pq.ParquetFile(tmp_path / "item.parquet").metadata
    assert meta.row_group(0).column(0).compression == "ZSTD"


# == determinism through the pipeline =====================================================
def test_typed_targets_same_bytes_whatever_the_chunk_size(tmp_path: Path) -> None:
    targets = ["xlsx", "jsonl", "parquet", "archive"]
    opts = {"archive.parquet": "on"}
    convert(*UK, targets, tmp_path / "a", history=False, options=opts)
    convert(*UK, targets, tmp_path / "b", history=False, options=opts, chunk_rows=3)
    names = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*"))
    assert names == sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*"))
    for n in names:
        a, b = tmp_path / "a" / n, tmp_path / "b" / n
        if a.is_file():
            assert a.read_bytes() == b.read_bytes(), n


# == archive ===============================================================================
def archive(tmp_path: Path, **options: str) -> Path:
    convert(*UK, ["archive"], tmp_path, history=False, options=options)
    return tmp_path / "archive"


def problems(folder: Path) -> list[str]:
    return [str(p) for p in verify_archive(folder).problems]


def test_archive_written_then_verified(tmp_path: Path) -> None:
    folder = archive(tmp_path, parquet="on")
    assert sorted(p.name for p in folder.iterdir()) == [
        "datapackage.json",
        "transaction.csv",
        "transaction.parquet",
    ]
    assert not list(tmp_path.glob(".archive*")), "no temporary folder is left behind"
    desc = json.loads((folder / "datapackage.json").read_text("utf-8"))
    csv_res, pq_res = desc["resources"]
    assert csv_res["hash"].startswith("sha256:") and csv_res["bytes"] > 0
    fields = {f["name"]: f for f in csv_res["schema"]["fields"]}
    assert fields["date"] == {
        "name": "date",
        "type": "date",
        "format": "default",
        "description": "date the transaction was made or posted",
        "constraints": {"required": True},
    }
    assert fields["amount"]["type"] == "number"
    assert fields["currency"]["constraints"]["pattern"] == "[A-Z]{3}"
    assert csv_res["schema"]["primaryKey"] == ["source_file", "source_line"]
    assert csv_res["csvbridge"] == {"rows": 28} and pq_res["csvbridge"] == {"rows": 28}
    assert desc["csvbridge"]["written"]["amounts"] == {"GBP": "-752.41"}
    assert "report.json" in desc["csvbridge"]["report"]
    result = verify_archive(folder)
    assert result.ok, result.lines()
    assert [(r.path, r.rows, r.checksum_ok, r.content_ok) for r in result.resources] == [
        ("transaction.csv", 28, True, True),
        ("transaction.parquet", 28, True, True),
    ]
    # the archive's CSV holds the same records as the canonical CSV, without a formula guard
    convert(*UK, ["csv"], tmp_path / "csv", history=False, options={"formula_guard": "off"})
    assert (folder / "transaction.csv").read_bytes() == (
        tmp_path / "csv" / "transaction.csv"
    ).read_bytes()
    report = json.loads((tmp_path / "report.json").read_text("utf-8"))
    names = [f["name"] for f in report["targets"][0]["files"]]
    assert names == [
        "archive/transaction.csv",
        "archive/transaction.parquet",
        "archive/datapackage.json",
    ]


def _rewrite(path: Path, old: bytes, new: bytes, count: int = 1) -> None:
    data = path.read_bytes()
    assert old in data
    path.write_bytes(data.replace(old, new, count))


def test_archive_tampering_a_changed_byte(tmp_path: Path) -> None:
    folder = archive(tmp_path)
    _rewrite(folder / "transaction.csv", b"British Gas", b"British Gaz")  # still a valid row
    assert problems(folder) == [
        "transaction.csv: the SHA-256 differs from the descriptor's: the file changed after "
        "it was archived (descriptor "
        + json.loads((folder / "datapackage.json").read_text())["resources"][0]["hash"][7:23]
        + "..., file "
        + __import__("hashlib").sha256((folder / "transaction.csv").read_bytes()).hexdigest()[:16]
        + "...)"
    ]


def test_archive_tampering_a_removed_row(tmp_path: Path) -> None:
    folder = archive(tmp_path)
    lines = (folder / "transaction.csv").read_bytes().split(b"\r\n")
    (folder / "transaction.csv").write_bytes(b"\r\n".join(lines[:3] + lines[4:]))
    got = problems(folder)
    assert any("SHA-256 differs" in p for p in got)
    assert "transaction.csv: 27 data rows, the descriptor says 28" in got
    assert any(
        p.startswith("transaction.csv, field amount: the GBP total of amount is ")
        and p.endswith("the descriptor's csvbridge.written records -752.41")
        for p in got
    ), got


def test_archive_tampering_a_wrong_type(tmp_path: Path) -> None:
    folder = archive(tmp_path)
    _rewrite(folder / "transaction.csv", b"2025-03-03,-84.50", b"2025-02-30,-84.50")
    _rewrite(folder / "transaction.csv", b"-3.45,GBP", b"-3,45,GBP")  # a cell too many
    _rewrite(folder / "transaction.csv", b"2261.17", b"2261.17 GBP")
    got = problems(folder)
    assert "transaction.csv, row 1, field date: '2025-02-30' is not a date (YYYY-MM-DD)" in got
    assert "transaction.csv, row 1, field balance: '2261.17 GBP' is not a number" in got
    assert "transaction.csv, row 2: has 15 cells, the schema has 14 fields" in got
    assert any(p.startswith("transaction.csv: the SHA-256 differs") for p in got)


def test_archive_tampering_required_empty_pattern_and_duplicate_key(tmp_path: Path) -> None:
    folder = archive(tmp_path)
    path = folder / "transaction.csv"
    rows = list(csv.reader(io.StringIO(path.read_text("utf-8"), newline="")))
    rows[3][3] = ""  # description, required
    rows[4][2] = "gbp"  # currency pattern
    rows[6] = list(rows[5])  # the same source_file + source_line twice
    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8", newline="")
    got = problems(folder)
    required = "is empty, and the schema requires it"
    assert f"transaction.csv, row 3, field description: {required}" in got
    pattern = "'gbp' does not match the pattern [A-Z]{3}"
    assert f"transaction.csv, row 4, field currency: {pattern}" in got
    assert (
        "transaction.csv, row 6: primary key source_file + source_line = "
        "'uk_bank_statement.csv', '12' repeats row 5" in got
    ), got


def test_archive_tampering_header_missing_file_and_extra_file(tmp_path: Path) -> None:
    folder = archive(tmp_path, parquet="on")
    _rewrite(folder / "transaction.csv", b"date,amount", b"day,amount")
    (folder / "transaction.parquet").unlink()
    (folder / "notes.txt").write_text("hello")
    result = verify_archive(folder)
    got = [str(p) for p in result.problems]
    assert (
        "transaction.csv: the header does not match the schema: missing date; "
        "not in the schema day" in got
    )
    assert (
        "transaction.parquet: missing: the descriptor lists it, the folder does not have it" in got
    )
    assert result.warnings == ["notes.txt: in the folder, not in the descriptor (not checked)"]


def test_archive_parquet_tampered(tmp_path: Path) -> None:
    folder = archive(tmp_path, parquet="on")
    path = folder / "transaction.parquet"
    table = pq.read_table(path)
    pq.write_table(table.slice(1), path)
    got = problems(folder)
    assert any(p.startswith("transaction.parquet: the SHA-256 differs") for p in got)
    assert "transaction.parquet: 27 data rows, the descriptor says 28" in got


def test_archive_descriptor_missing_or_broken(tmp_path: Path) -> None:
    folder = archive(tmp_path)
    desc = folder / "datapackage.json"
    desc.write_text("{not json", encoding="utf-8")
    assert problems(folder)[0].startswith("datapackage.json: not valid JSON")
    desc.unlink()
    missing = "missing: without it nothing can be checked (is this an archive folder?)"
    assert problems(folder) == [f"datapackage.json: {missing}"]


def test_archive_path_outside_the_folder_is_a_problem(tmp_path: Path) -> None:
    folder = archive(tmp_path)
    desc = json.loads((folder / "datapackage.json").read_text("utf-8"))
    desc["resources"][0]["path"] = "../report.json"
    (folder / "datapackage.json").write_text(json.dumps(desc), encoding="utf-8")
    assert problems(folder) == [
        "datapackage.json: resource transaction: path '../report.json' is not a file inside "
        "the archive"
    ]


def test_verify_archive_command(tmp_path: Path) -> None:
    folder = archive(tmp_path)
    result = run_cli("verify-archive", folder)
    assert result.exit_code == 0, result.output
    assert "transaction.csv: 28 rows, sha256 ok, schema ok" in result.output
    assert "ok: every checksum matches" in result.output
    _rewrite(folder / "transaction.csv", b"-84.50", b"-84.5x")
    result = run_cli("verify-archive", folder)
    assert result.exit_code == 1
    assert "FAILED" in result.output
    assert "transaction.csv, row 1, field amount: '-84.5x' is not a number" in result.output
    result = run_cli("verify-archive", "--json", folder)
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["ok"] is False
    assert {"file": "transaction.csv", "row": 1, "line": 2, "field": "amount"}.items() <= data[
        "problems"
    ][1].items()
    assert run_cli("verify-archive", tmp_path / "nope").exit_code == 2


def test_archive_primary_key_and_required_follow_the_records(tmp_path: Path) -> None:
    kind = get_kind("contact")
    table = records(kind, 6)
    write("archive", kind, [table], tmp_path / "a")
    desc_a = json.loads((tmp_path / "a" / "archive" / "datapackage.json").read_text())
    schema = desc_a["resources"][0]["schema"]
    assert schema["primaryKey"] == ["name"]
    assert verify_archive(tmp_path / "a" / "archive").ok
    # the same line twice (a split mapping) and a name repeated: no key can be claimed
    twice = pa.concat_tables([table, table])
    kind_t = get_kind("transaction")
    tx = records(kind_t, 4, ["GBP"])
    tx = tx.set_column(3, "description", pa.array(["a", None, "c", "d"], pa.string()))
    write("archive", kind, [twice], tmp_path / "b")
    write("archive", kind_t, [tx, tx], tmp_path / "c")
    desc_b = json.loads((tmp_path / "b" / "archive" / "datapackage.json").read_text())
    assert "primaryKey" not in desc_b["resources"][0]["schema"]
    assert desc_b["csvbridge"]["no_primary_key"] == (
        "name: not unique; source_file + source_line: not unique"
    )
    desc_c = json.loads((tmp_path / "c" / "archive" / "datapackage.json").read_text())
    fields = {f["name"]: f for f in desc_c["resources"][0]["schema"]["fields"]}
    assert "constraints" not in fields["description"]  # required by the model, not present
    assert desc_c["csvbridge"]["required_but_empty"] == {"description": 2}
    for d in ("b", "c"):
        result = verify_archive(tmp_path / d / "archive")
        assert result.ok, result.lines()


def test_archive_two_inputs_with_one_name_claim_no_row_key(tmp_path: Path) -> None:
    """jan/statement.csv and feb/statement.csv both show as statement.csv, line 2: the
    archive must not claim source_file + source_line unique."""
    for month in ("jan", "feb"):
        (tmp_path / month).mkdir()
        data = f"Date,Description,Amount\n01/03/2025,Tea in {month},1.00\n"
        write_case(tmp_path / month, data, name="statement.csv")
    inputs = [tmp_path / m / "statement.csv" for m in ("jan", "feb")]
    convert(inputs, tmp_path / "jan" / "m.yaml", ["archive"], tmp_path / "out", history=False)
    folder = tmp_path / "out" / "archive"
    desc = json.loads((folder / "datapackage.json").read_text("utf-8"))
    assert "primaryKey" not in desc["resources"][0]["schema"]
    assert desc["csvbridge"]["written"]["rows"] == 2
    assert verify_archive(folder).ok


@pytest.mark.parametrize("kind_name", sorted(KINDS))
def test_archive_every_kind_verifies(tmp_path: Path, kind_name: str) -> None:
    kind = get_kind(kind_name)
    _, files, _ = write("archive", kind, [records(kind, 10)], tmp_path, {"parquet": "on"})
    assert [f.name for f in files] == [  # the data, then what describes it
        f"archive/{kind_name}.csv",
        f"archive/{kind_name}.parquet",
        "archive/datapackage.json",
    ]
    result = verify_archive(tmp_path / "archive")
    assert result.ok, result.lines()
    assert [r.rows for r in result.resources] == [10, 10]


def test_archive_replaces_an_earlier_one_and_abort_leaves_nothing(tmp_path: Path) -> None:
    kind = get_kind("account")
    write("archive", kind, [records(kind, 3)], tmp_path)
    write("archive", kind, [records(kind, 5)], tmp_path)
    assert verify_archive(tmp_path / "archive").resources[0].rows == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["archive"]
    t = TARGETS["archive"]
    ctx = WriteContext(tmp_path / "x", kind, t.resolve_options({}), ["in.csv"], "archive")
    (tmp_path / "x").mkdir()
    w = t.factory(ctx)
    w.write(records(kind, 4))
    w.abort()
    assert list((tmp_path / "x").iterdir()) == []


def test_archive_folder_and_files_get_plain_modes(tmp_path: Path) -> None:
    folder = archive(tmp_path)
    mask = os.umask(0o022)
    os.umask(mask)
    assert (folder.stat().st_mode & 0o777) == 0o777 & ~mask
    assert ((folder / "transaction.csv").stat().st_mode & 0o777) == 0o666 & ~mask


# == the archive golden case ===============================================================
ARCHIVE_CASE = GOLDEN / "w_generic_archive"


def _cells(path: Path) -> dict[str, list[tuple[object, ...]]]:
    wb = openpyxl.load_workbook(path, read_only=True)
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in wb.worksheets}


def test_archive_golden_case(tmp_path: Path) -> None:
    """Like tests/test_golden.py, for a case whose output has a folder: every file under
    expected/ (recursively), .xlsx compared by cells. UPDATE_GOLDEN=1 rewrites it."""
    spec = yaml.safe_load((ARCHIVE_CASE / "archive_case.yaml").read_text("utf-8"))
    out = tmp_path / "out"
    args: list[str | Path] = ["convert", *(ROOT / i for i in spec["inputs"])]
    args += ["-m", ROOT / spec["mapping"], "--to", ",".join(spec["to"]), "-o", out]
    for k, v in (spec.get("options") or {}).items():
        args += ["-O", f"{k}={v}"]
    result = run_cli(*args)
    assert result.exit_code == spec.get("exit_code", 0), result.output
    expected = ARCHIVE_CASE / "expected"
    if os.environ.get("UPDATE_GOLDEN"):
        shutil.rmtree(expected, ignore_errors=True)
        shutil.copytree(out, expected)
    got = sorted(p.relative_to(out).as_posix() for p in out.rglob("*"))
    want = sorted(p.relative_to(expected).as_posix() for p in expected.rglob("*"))
    assert got == want, "the run wrote a different set of files"
    for name in want:
        a, b = out / name, expected / name
        if a.is_dir():
            continue
        if name.endswith(".xlsx"):
            assert _cells(a) == _cells(b), name
        else:
            assert a.read_bytes() == b.read_bytes(), f"{name} differs from the golden file"
    assert verify_archive(out / "archive").ok


def test_xlsx_golden_holds_the_edge_cases() -> None:
    """The xlsx golden case (compared by cells in test_golden) keeps what matters: leading
    zeros, formula-looking text as text, a pre-1900 date and a 16-digit amount as text."""
    for case, target in (("w_generic_xlsx", "xlsx"), ("w_generic_jsonl", "jsonl")):
        spec = yaml.safe_load((GOLDEN / case / "case.yaml").read_text("utf-8"))
        assert spec["to"] == [target]
    rows = _cells(GOLDEN / "w_generic_xlsx" / "expected" / "transaction.xlsx")["transaction"]
    by_ref = {r[5]: r for r in rows[1:]}
    assert by_ref["0012"][2] == "GBP" and by_ref["00000"][1] == "99999999999999.99"
    assert rows[2][3] == "=SUM(A1:A9)" and rows[4][0] == "1899-12-31"


def test_archive_declares_required_when_the_mapping_enforces_it(tmp_path: Path) -> None:
    """A row with an empty required description goes to rejects.csv, not to the archive,
    so the archive's schema can declare the field required."""
    src, m = write_case(tmp_path, "Date,Description,Amount\n01/03/2025,,1.00\n02/03/2025,x,2.00\n")
    convert([src], m, ["archive"], tmp_path / "out", history=False)
    desc = json.loads((tmp_path / "out" / "archive" / "datapackage.json").read_text())
    fields = {f["name"]: f for f in desc["resources"][0]["schema"]["fields"]}
    assert fields["description"]["constraints"] == {"required": True}
    assert desc["csvbridge"]["written"]["rows"] == 1
