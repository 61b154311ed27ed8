"""Mapping rules that look beyond one row: unique: checks, fill_down, stated document totals;
date-times with UTC offsets and time zones; extends; mapping error locations."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csvbridge import convert, load_mapping
from csvbridge.dates import parse_dates
from csvbridge.errors import MappingError
from csvbridge.zones import book_dates

from .conftest import run_cli

TXN = """\
name: rules
version: "7"
kind: transaction
dates: DD/MM/YYYY
fields:
  date: Date
  description: Description
  amount: Amount
  currency: {value: GBP}
  id: Id
"""
TXN_DATA = (
    "Date,Description,Amount,Id\r\n"
    "01/03/2025,a,1.00,T1\r\n"
    "02/03/2025,b,2.00,T2\r\n"
    "03/03/2025,c,3.00,T1\r\n"
    "04/03/2025,d,4.00,\r\n"
    "05/03/2025,e,5.00,\r\n"
    "06/03/2025,f,6.00,T2\r\n"
)
UNIQUE = "checks:\n  - name: one id\n    unique: id\n"


def _convert(tmp_path: Path, mapping: str, files: dict[str, str], **kw):  # type: ignore[no-untyped-def]
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "m.yaml").write_text(mapping, encoding="utf-8")
    out = tmp_path / kw.pop("out", "out")
    kw.setdefault("history", False)
    return convert([tmp_path / n for n in files], tmp_path / "m.yaml", ["csv"], out, **kw)


def _rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def _error(tmp_path: Path, mapping: str, data: str = TXN_DATA) -> str:
    (tmp_path / "in.csv").write_text(data, encoding="utf-8")
    (tmp_path / "m.yaml").write_text(mapping, encoding="utf-8")
    r = run_cli(
        "convert",
        tmp_path / "in.csv",
        "-m",
        tmp_path / "m.yaml",
        "--to",
        "csv",
        "-o",
        tmp_path / "o",
    )
    assert r.exit_code == 2, r.output
    return r.output


# -- unique ----------------------------------------------------------------------------------


@pytest.mark.parametrize("chunk_rows", [1, 2, 25_000])
def test_unique_rejects_repeats_naming_the_first_line_across_chunks(
    tmp_path: Path, chunk_rows: int
) -> None:
    r = _convert(tmp_path, TXN + UNIQUE, {"in.csv": TXN_DATA}, chunk_rows=chunk_rows)
    assert r.report["rejects"]["by_rule"] == {"one id": 2}  # empty ids are not compared
    first = r.report["rejects"]["first"]
    assert [(x["line"], x["errors"][0]["value"]) for x in first] == [(4, "T1"), (7, "T2")]
    err = first[0]["errors"][0]
    assert err["column"] == "Id" and err["field"] == "id"
    assert "this value was first on line 2" in err["message"]
    assert [x["description"] for x in _rows(tmp_path / "out" / "transaction.csv")] == [
        "a",
        "b",
        "d",
        "e",
    ]
    assert r.tie_outs[0].ok


def test_unique_spans_the_files_of_a_batch(tmp_path: Path) -> None:
    second = "Date,Description,Amount,Id\r\n07/03/2025,g,7.00,T2\r\n"
    r = _convert(tmp_path, TXN + UNIQUE, {"in.csv": TXN_DATA, "b.csv": second})
    msgs = [x["errors"][0]["message"] for x in r.report["rejects"]["first"]]
    assert msgs[-1].endswith("first on line 3 of in.csv")


def test_unique_warning_keeps_the_row_and_names_the_first(tmp_path: Path) -> None:
    m = TXN + UNIQUE + "    severity: warning\n"
    r = _convert(tmp_path, m, {"in.csv": TXN_DATA}, chunk_rows=2)
    assert r.rejected == 0
    w = r.report["check_warnings"]["one id"]
    assert w["rule"] == "unique: id" and w["rows"] == 2
    assert w["first"][0] == {
        "file": "in.csv",
        "line": 4,
        "note": "id must be unique in the batch, and the first row with this value is kept; "
        "if both rows are real, the source repeats an id that should not repeat; this value "
        "was first on line 2",
    }


def test_unique_of_several_fields(tmp_path: Path) -> None:
    m = TXN + "checks:\n  - name: pair\n    unique: [id, amount]\n"
    data = TXN_DATA.replace("03/03/2025,c,3.00,T1", "03/03/2025,c,1.00,T1")
    r = _convert(tmp_path, m, {"in.csv": data})
    assert r.report["rejects"]["by_rule"] == {"pair": 1}
    err = r.report["rejects"]["first"][0]["errors"][0]
    assert (err["column"], err["value"]) == ("Id + Amount", "T1 / 1.00")


def test_unique_naming_a_field_the_mapping_lacks(tmp_path: Path) -> None:
    out = _error(tmp_path, TXN + "checks:\n  - name: x\n    unique: reference\n")
    assert "error [mapping-invalid]" in out and "unique: names field(s)" in out
    assert "reference" in out


def test_check_with_rule_and_unique(tmp_path: Path) -> None:
    out = _error(tmp_path, TXN + "checks:\n  - name: x\n    rule: Amount > 0\n    unique: id\n")
    assert "checks[1]: give the check a rule: or a unique:, not both (line 12)" in out


# -- fill_down -------------------------------------------------------------------------------

ORDERS = """\
name: orders
kind: transaction
dates: YYYY-MM-DD
fill_down:
  columns: [Status, Currency]
  within: Order
fields:
  date: Date
  description: Item
  amount: Amount
  currency: Currency
  reference: Order
  category: Status
filters:
  - name: refunded
    column: Status
    equals: refunded
"""
ORDERS_DATA = (
    "Order,Date,Status,Currency,Item,Amount\r\n"
    "#1,2025-03-01,paid,EUR,a,1.00\r\n"
    "#1,2025-03-01,,,b,2.00\r\n"
    "#1,2025-03-01,,,c,3.00\r\n"
    "#2,2025-03-02,refunded,USD,d,4.00\r\n"
    "#2,2025-03-02,,,e,5.00\r\n"
    "#3,2025-03-03,,,f,6.00\r\n"
    "#4,2025-03-04,paid,GBP,g,7.00\r\n"
)


@pytest.mark.parametrize("chunk_rows", [1, 2, 3, 25_000])
def test_fill_down_within_groups_across_chunks(tmp_path: Path, chunk_rows: int) -> None:
    r = _convert(tmp_path, ORDERS, {"in.csv": ORDERS_DATA}, chunk_rows=chunk_rows)
    rows = _rows(tmp_path / "out" / "transaction.csv")
    got = [(x["description"], x["currency"], x["category"]) for x in rows]
    # order #2 is refunded on its first row: the filter sees it on both rows; order #3 states
    # nothing and gets nothing from #2 (its currency is missing: rejected)
    assert got == [
        ("a", "EUR", "paid"),
        ("b", "EUR", "paid"),
        ("c", "EUR", "paid"),
        ("g", "GBP", "paid"),
    ]
    assert r.report["ledger"]["filtered_by_rule"]["refunded"]["rows"] == 2
    assert r.rejected == 1
    assert r.report["rejects"]["first"][0]["line"] == 7
    rej = _rows(tmp_path / "out" / "rejects.csv")
    assert len(rej) == 1 and rej[0]["Currency"] == "" and rej[0]["Status"] == ""  # as in the file


def test_fill_down_without_within_carries_to_the_end_of_the_file(tmp_path: Path) -> None:
    m = (
        ORDERS.replace("  within: Order\n", "")
        .replace("  - name: refunded", "  - name: never")
        .replace("equals: refunded", "equals: nothing")
    )
    second = "Order,Date,Status,Currency,Item,Amount\r\n#9,2025-03-09,,,z,9.00\r\n"
    r = _convert(tmp_path, m, {"in.csv": ORDERS_DATA, "b.csv": second}, chunk_rows=2)
    rows = _rows(tmp_path / "out" / "transaction.csv")
    assert [x["currency"] for x in rows] == ["EUR", "EUR", "EUR", "USD", "USD", "USD", "GBP"]
    assert r.rejected == 1 and r.report["rejects"]["first"][0]["file"] == "b.csv"  # not carried


def test_fill_down_of_a_column_the_file_lacks(tmp_path: Path) -> None:
    out = _error(tmp_path, ORDERS.replace("[Status, Currency]", "[Status, Curency]"), ORDERS_DATA)
    assert "error [column-missing]" in out and "'Curency'" in out and "'Currency'?" in out
    out = _error(tmp_path, ORDERS.replace("[Status, Currency]", "[Status, '#9']"), ORDERS_DATA)
    assert "error [column-missing]" in out and "key fill_down.columns[2]" in out


# -- stated document totals ------------------------------------------------------------------

INVOICES = """\
name: inv
kind: invoice
dates: YYYY-MM-DD
fields:
  number: No
  contact: {value: Acme}
  date: Date
  currency: {value: GBP}
  description: Item
  line_amount: Amount
documents:
  total_column: Total
"""
INVOICE_DATA = (
    "No,Date,Item,Amount,Total\r\n"
    "I1,2025-03-01,a,10.00,15.00\r\n"
    "I1,2025-03-01,b,5.00,\r\n"
    "I2,2025-03-02,c,7.00,7.50\r\n"
    "I2,2025-03-02,d,0.49,\r\n"
    "I3,2025-03-03,e,1.00,\r\n"
)


def test_document_total_mismatch_rejects_the_whole_document(tmp_path: Path) -> None:
    r = _convert(tmp_path, INVOICES, {"in.csv": INVOICE_DATA}, chunk_rows=1)
    assert r.report["rejects"]["by_rule"] == {"document-total": 2}
    msg = r.report["rejects"]["first"][0]["errors"][0]["message"]
    assert "invoice I2 add up to 7.49" in msg and "is 7.50: a difference of -0.01" in msg
    assert "in.csv line 4" in msg
    assert [x["number"] for x in _rows(tmp_path / "out" / "invoice.csv")] == ["I1", "I1", "I3"]
    assert r.tie_outs[0].ok


def test_document_total_tolerance_and_warning(tmp_path: Path) -> None:
    tol = INVOICES + "  total_tolerance: '0.01'\n"
    assert _convert(tmp_path, tol, {"in.csv": INVOICE_DATA}, out="a").rejected == 0
    warn = INVOICES + "  total: warning\n"
    r = _convert(tmp_path, warn, {"in.csv": INVOICE_DATA}, out="b")
    assert r.rejected == 0
    assert "difference of -0.01" in r.report["document_warnings"]["document-total"][0]


def test_document_stating_two_totals(tmp_path: Path) -> None:
    data = INVOICE_DATA.replace("I1,2025-03-01,b,5.00,", "I1,2025-03-01,b,5.00,16.00")
    r = _convert(tmp_path, INVOICES, {"in.csv": data})
    msgs = {x["errors"][0]["message"] for x in r.report["rejects"]["first"]}
    assert any("states two totals in Total: 15.00 (line 2) and 16.00 (line 3)" in m for m in msgs)


def test_document_total_that_is_not_an_amount(tmp_path: Path) -> None:
    data = INVOICE_DATA.replace("7.00,7.50", "7.00,seven")
    r = _convert(tmp_path, INVOICES, {"in.csv": data})
    assert r.report["rejects"]["by_rule"] == {"amount-invalid": 1, "document-incomplete": 1}


def test_document_total_for_a_kind_without_documents(tmp_path: Path) -> None:
    out = _error(tmp_path, TXN + "documents:\n  total_column: Amount\n")
    assert "documents.total_column is for invoices and bills" in out


def test_document_total_tolerance_must_be_an_amount(tmp_path: Path) -> None:
    out = _error(tmp_path, INVOICES + "  total_tolerance: a penny\n")
    assert "documents.total_tolerance" not in out or "line" in out
    assert "total_tolerance 'a penny' is not an amount >= 0" in out


# -- time zones ------------------------------------------------------------------------------

STAMPS = """\
name: stamps
kind: transaction
fields:
  date:
    column: When
    format: [YYYY-MM-DDTHH:mm:ssZ, YYYY-MM-DD HH:mm:ss ZZ, DD/MM/YYYY]
  description: Description
  amount: Amount
  currency: {value: GBP}
"""
STAMP_DATA = (
    "When,Description,Amount\r\n"
    "2024-03-05T23:30:00-05:00,shopify order,1.00\r\n"
    "2024-03-05 23:30:00 +0000,utc evening,1.00\r\n"
    "2024-03-05T04:30:00Z,utc early,1.00\r\n"
    "2024-07-05T23:30:00+00:00,summer utc evening,1.00\r\n"
    "05/03/2024,plain date,1.00\r\n"
)


def _dates(tmp_path: Path, mapping: str, data: str = STAMP_DATA, out: str = "out") -> list[str]:
    r = _convert(tmp_path, mapping, {"in.csv": data}, out=out)
    assert r.rejected == 0, r.report["rejects"]
    return [x["date"] for x in _rows(tmp_path / out / "transaction.csv")]


def test_offsets_without_a_book_zone_keep_the_date_as_written(tmp_path: Path) -> None:
    assert _dates(tmp_path, STAMPS) == [
        "2024-03-05",
        "2024-03-05",
        "2024-03-05",
        "2024-07-05",
        "2024-03-05",
    ]


def test_offsets_become_the_date_in_the_books_zone(tmp_path: Path) -> None:
    london = _dates(tmp_path, "timezone: Europe/London\n" + STAMPS, out="l")
    # 23:30 -05:00 is 04:30 UTC on the 6th; 23:30 UTC in July is 00:30 BST on the 6th
    assert london == ["2024-03-06", "2024-03-05", "2024-03-05", "2024-07-06", "2024-03-05"]
    ny = _dates(tmp_path, "timezone: America/New_York\n" + STAMPS, out="n")
    assert ny == ["2024-03-05", "2024-03-05", "2024-03-04", "2024-07-05", "2024-03-05"]


FORMULA_STAMPS = STAMPS.replace("name: stamps", "name: formula-stamps").replace(
    "  description: Description\n",
    "  description:\n    expr: \"text(date(When, 'YYYY-MM-DDTHH:mm:ssZ', "
    "'YYYY-MM-DD HH:mm:ss ZZ', 'DD/MM/YYYY'), 'YYYY-MM-DD')\"\n",
)
DST_DATA = (
    "When,Description,Amount\r\n"
    "2024-03-30T23:30:00Z,last GMT evening,1.00\r\n"
    "2024-03-31T23:30:00Z,first BST evening,1.00\r\n"
    "2024-10-26T23:30:00Z,last BST evening,1.00\r\n"
    "2024-10-27T23:30:00Z,first GMT evening,1.00\r\n"
    "2024-03-11T04:30:00Z,first EDT evening,1.00\r\n"
    "2024-11-04T04:30:00Z,first EST evening,1.00\r\n"
    "2024-03-05 23:30:00 -0500,shopify order,1.00\r\n"
    "05/03/2024,plain date,1.00\r\n"
)


@pytest.mark.parametrize(
    ("zone", "want"),
    [
        (
            "Europe/London",
            ["03-30", "04-01", "10-27", "10-27", "03-11", "11-04", "03-06", "03-05"],
        ),
        (
            "America/New_York",
            ["03-30", "03-31", "10-26", "10-27", "03-11", "11-03", "03-05", "03-05"],
        ),
        (None, ["03-30", "03-31", "10-26", "10-27", "03-11", "11-04", "03-05", "03-05"]),
    ],
)
def test_formula_date_moves_offsets_as_a_date_field_does(
    tmp_path: Path, zone: str | None, want: list[str]
) -> None:
    """date() in a formula and a date field read the same text to the same date: with
    timezone:, an offset's instant becomes its date in the books' zone (across midnight and
    the clock changes); without it, the date as written."""
    m = (f"timezone: {zone}\n" if zone else "") + FORMULA_STAMPS
    r = _convert(tmp_path, m, {"in.csv": DST_DATA})
    assert r.rejected == 0, r.report["rejects"]
    rows = _rows(tmp_path / "out" / "transaction.csv")
    assert [x["date"] for x in rows] == [f"2024-{d}" for d in want]
    assert [x["description"] for x in rows] == [x["date"] for x in rows]


def test_a_text_column_compared_with_a_date_is_read_in_the_books_zone(tmp_path: Path) -> None:
    """A column read as a date where a formula needs one (with the mapping's dates:) follows
    the same rule as date(): 23:30 UTC on 31 March 2024 is 1 April in London."""
    m = (
        "timezone: Europe/London\ndates: [YYYY-MM-DDTHH:mm:ssZ, DD/MM/YYYY]\n"
        + STAMPS.replace(
            "    format: [YYYY-MM-DDTHH:mm:ssZ, YYYY-MM-DD HH:mm:ss ZZ, DD/MM/YYYY]\n", ""
        )
        + "filters:\n  - name: april\n    when: When >= date'2024-04-01'\n"
    )
    data = "When,Description,Amount\r\n2024-03-31T22:30:00Z,a,1.00\r\n"
    data += "2024-03-31T23:30:00Z,b,1.00\r\n"
    r = _convert(tmp_path, m, {"in.csv": data})
    assert r.rejected == 0, r.report["rejects"]
    assert [x["date"] for x in _rows(tmp_path / "out" / "transaction.csv")] == ["2024-03-31"]
    assert r.report["ledger"]["filtered_by_rule"]["april"]["rows"] == 1


def test_naive_date_times_in_a_stated_zone(tmp_path: Path) -> None:
    m = "timezone: America/New_York\n" + STAMPS.replace(
        "    format: [YYYY-MM-DDTHH:mm:ssZ, YYYY-MM-DD HH:mm:ss ZZ, DD/MM/YYYY]",
        "    format: YYYY-MM-DD HH:mm\n    zone: UTC",
    )
    data = "When,Description,Amount\r\n2024-03-06 03:00,x,1.00\r\n2024-03-06 05:00,y,1.00\r\n"
    assert _dates(tmp_path, m, data) == ["2024-03-05", "2024-03-06"]


def test_an_offset_beyond_14_hours_is_not_a_date_time(tmp_path: Path) -> None:
    data = STAMP_DATA.replace("2024-03-05T04:30:00Z", "2024-03-05T04:30:00+25:00")
    r = _convert(tmp_path, "timezone: Europe/London\n" + STAMPS, {"in.csv": data})
    assert r.report["rejects"]["by_rule"] == {"date-format": 1}


def test_zone_without_a_book_timezone_is_a_mapping_error(tmp_path: Path) -> None:
    m = STAMPS.replace("    column: When\n", "    column: When\n    zone: UTC\n")
    out = _error(tmp_path, m, STAMP_DATA)
    assert "error [mapping-invalid]" in out and "add timezone:" in out


def test_unknown_time_zone(tmp_path: Path) -> None:
    out = _error(tmp_path, "timezone: Europe/Londres\n" + STAMPS, STAMP_DATA)
    assert "timezone: unknown time zone 'Europe/Londres'" in out and "(line 1)" in out


@settings(max_examples=200, deadline=None)
@given(
    instant=st.integers(-2_000_000_000, 4_000_000_000),
    offset=st.integers(-14 * 4, 14 * 4).map(lambda q: q * 15),
    zone=st.sampled_from(
        ["Europe/London", "America/New_York", "Asia/Kolkata", "Pacific/Chatham", "UTC"]
    ),
)
def test_book_dates_agree_with_zoneinfo(instant: int, offset: int, zone: str) -> None:
    tz = timezone(timedelta(minutes=offset))
    written = datetime.fromtimestamp(instant, UTC).astimezone(tz)
    text = written.strftime("%Y-%m-%dT%H:%M:%S") + ("Z" if offset == 0 else written.strftime("%z"))
    fmts = ("YYYY-MM-DDTHH:mm:ssZ",)
    values = pa.array([text])
    parsed = parse_dates(values, fmts)
    assert parsed.ok.all()
    got = book_dates(values, fmts, parsed, zone, None).to_pylist()[0]
    assert got == written.astimezone(ZoneInfo(zone)).date()
    assert book_dates(values, fmts, parsed, None, None).to_pylist()[0] == written.date()


# -- extends and error locations ----------------------------------------------------------------


def test_extends_replaces_lists_and_field_specs_and_merges_sections(tmp_path: Path) -> None:
    base = TXN + (
        "numbers: {decimal: '.', thousands: ','}\n"
        "filters:\n  - name: a\n    column: Id\n    equals: T1\n"
        "  - name: b\n    column: Id\n    equals: T2\n"
    )
    (tmp_path / "base.yaml").write_text(base, encoding="utf-8")
    child = (
        "extends: base.yaml\nname: child\nnumbers: {thousands: ''}\n"
        "fields:\n  amount: {expr: 'Amount * 2'}\n"
        "filters:\n  - name: c\n    column: Id\n    empty: true\n"
    )
    (tmp_path / "child.yaml").write_text(child, encoding="utf-8")
    m = load_mapping(tmp_path / "child.yaml").mapping
    assert [f.name for f in m.filters] == ["c"]  # the child's list replaces the base's
    assert m.fields["amount"].expr == "Amount * 2" and m.fields["amount"].column is None
    assert m.fields["id"].column == "Id"  # fields merge name by name
    assert (m.numbers.decimal, m.numbers.thousands) == (".", "")  # sections merge key by key


def test_error_in_a_base_mapping_names_the_base_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text(
        TXN + "filters:\n  - name: a\n    column: Id\n", encoding="utf-8"
    )
    (tmp_path / "child.yaml").write_text("extends: base.yaml\nname: child\n", encoding="utf-8")
    with pytest.raises(MappingError) as e:
        load_mapping(tmp_path / "child.yaml")
    assert "filters[1]: give exactly one test" in e.value.message
    assert f"(in {tmp_path / 'base.yaml'}, line 12)" in e.value.message


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("filters:\n  - name: a\n    when: 'Amount >'\n", "line 13, key filters[1].when"),
        (
            "filters:\n  - name: a\n    column: '#9'\n    empty: true\n",
            "line 13, key filters[1].column",
        ),
        (
            "filters:\n  - name: a\n    column: Id\n    matches: '(?=x)'\n",
            "line 14, key filters[1].matches",
        ),
        ("checks:\n  - name: a\n    rule: Amount\n", "line 13, key checks[1].rule"),
        (
            "split:\n  - name: a\n    fields:\n      memo: {column: '#9'}\n",
            "line 14, key split[1].fields.memo; file in.csv",
        ),
        (
            "filters:\n  - name: a\n    column: Id\n    equals: [x]\n",
            "filters[1].equals: Input should be a valid string (line 14)",
        ),
    ],
)
def test_every_mapping_error_names_its_key_and_line_one_way(
    tmp_path: Path, extra: str, expected: str
) -> None:
    out = _error(tmp_path, TXN + extra)
    assert expected in out


def test_compile_error_on_a_field_names_its_line(tmp_path: Path) -> None:
    m = TXN.replace("  date: Date\n", "  date: {column: Date, format: QQ/MM}\n")
    out = _error(tmp_path, m)
    assert "error [date-format-invalid]" in out and "line 6, key fields.date.format" in out


# -- provenance ------------------------------------------------------------------------------


def test_report_names_the_mapping_version_and_hash(tmp_path: Path) -> None:
    r = _convert(tmp_path, TXN, {"in.csv": TXN_DATA})
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    m = report["mapping"]
    assert (m["name"], m["version"], m["file"]) == ("rules", "7", "m.yaml")
    assert m["sha256"] == load_mapping(tmp_path / "m.yaml").sha256 == r.report["mapping"]["sha256"]


def test_import_files_with_room_for_it_name_the_mapping(tmp_path: Path) -> None:
    (tmp_path / "in.csv").write_text(TXN_DATA, encoding="utf-8")
    (tmp_path / "m.yaml").write_text(TXN, encoding="utf-8")
    sha = load_mapping(tmp_path / "m.yaml").sha256
    targets = ["hledger", "beancount", "archive", "csv"]
    convert(
        [tmp_path / "in.csv"],
        tmp_path / "m.yaml",
        targets,
        tmp_path / "o",
        history=False,
    )
    note = f"with mapping rules version 7 (sha256 {sha})"
    assert note in (tmp_path / "o" / "hledger.journal").read_text(encoding="utf-8")
    assert note in (tmp_path / "o" / "beancount.beancount").read_text(encoding="utf-8")
    package = json.loads((tmp_path / "o" / "archive" / "datapackage.json").read_text("utf-8"))
    assert package["csvbridge"]["mapping"] == {
        "name": "rules",
        "version": "7",
        "file": "m.yaml",
        "sha256": sha,
    }
    # OFX, IIF and the CSV imports have no room for it: report.json carries it
    assert sha not in (tmp_path / "o" / "transaction.csv").read_text(encoding="utf-8")
    report = json.loads((tmp_path / "o" / "report.json").read_text(encoding="utf-8"))
    assert report["mapping"]["sha256"] == sha


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.sampled_from(["#1", "#2", "#3"]), st.sampled_from(["", "", "a", "b"])),
        max_size=30,
    ),
    cuts=st.lists(st.integers(1, 7), max_size=10),
    scoped=st.booleans(),
)
def test_fill_down_is_the_same_however_the_file_is_chunked(
    rows: list[tuple[str, str]], cuts: list[int], scoped: bool
) -> None:
    """Chunked fill_down equals filling the whole file at once, row by row."""
    from csvbridge.mapping.fields import Columns
    from csvbridge.mapping.model import FillDownSpec
    from csvbridge.mapping.state import MappingState, fill_down

    want, last, group = [], "", None
    for g, v in rows:
        if scoped and g != group:
            last = ""
        group = g
        last = v or last
        want.append(last)
    spec = FillDownSpec(columns=["V"], within="G" if scoped else None)
    columns = Columns(["G", "V"], "in.csv", "m.yaml")
    state, got, at = MappingState(), [], 0
    for size in [*cuts, len(rows)]:
        part = rows[at : at + size]
        at += len(part)
        table = pa.table(
            {"G": [g for g, _ in part], "V": [v for _, v in part]},
            schema=pa.schema([("G", pa.string()), ("V", pa.string())]),
        )
        got += fill_down(table, columns, spec, 0, state).column("V").to_pylist()
    assert got == want


# clock changes: London and New York 2024 (on the hour), Kathmandu 1986 (+05:30 to +05:45 at
# 18:30 UTC, inside an hour)
_CHANGES = [1711846800, 1729990800, 1710054000, 1730613600, 504901800, 504921600]


@settings(max_examples=300, deadline=None)
@given(
    near=st.sampled_from(_CHANGES),
    delta=st.integers(-3 * 3600, 3 * 3600),
    zone=st.sampled_from(["Europe/London", "America/New_York", "Asia/Kathmandu"]),
)
def test_naive_times_around_clock_changes_agree_with_zoneinfo(
    near: int, delta: int, zone: str
) -> None:
    """A naive date-time in ``zone`` is the instant zoneinfo says (fold 0), and its date in
    another zone is zoneinfo's, in the hours around a change of the clocks."""
    from csvbridge.zones import _local_days, _to_utc

    tz = ZoneInfo(zone)
    local = near + delta  # read as naive local seconds
    naive = datetime(1970, 1, 1) + timedelta(seconds=local)
    want_utc = int(naive.replace(tzinfo=tz).timestamp())
    around = np.array([local - 7200, local, local + 1800], dtype=np.int64)  # share hours
    assert int(_to_utc(around, zone)[1]) == want_utc
    day = datetime.fromtimestamp(local, UTC).astimezone(tz).date()
    assert int(_local_days(around, zone)[1]) == (day - datetime(1970, 1, 1).date()).days


def test_reconcile_reads_with_fill_down_across_chunks(tmp_path: Path) -> None:
    from csvbridge.reconcile import read_records

    (tmp_path / "in.csv").write_text(ORDERS_DATA, encoding="utf-8")
    (tmp_path / "m.yaml").write_text(ORDERS, encoding="utf-8")
    got = read_records(tmp_path / "in.csv", tmp_path / "m.yaml", chunk_rows=1)
    assert got.records.column("currency").to_pylist() == ["EUR", "EUR", "EUR", "GBP"]


def test_a_mapping_says_whether_its_chunks_carry_state(tmp_path: Path) -> None:
    from csvbridge.mapping import CompiledMapping, parse_mapping_text

    def stateful(text: str) -> bool:
        return CompiledMapping(parse_mapping_text(text, "m.yaml")).stateful

    assert not stateful(TXN)
    assert stateful(TXN + UNIQUE)
    assert stateful(ORDERS)
    assert stateful(INVOICES)
