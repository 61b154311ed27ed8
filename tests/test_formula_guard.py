"""Formula injection, over every writer: a text cell starting with ``=``, ``+``, ``-``, ``@`` or a
tab (after the mapping trims the cell: a leading tab or space hides nothing) must be
neutralised with a leading ``'`` or refused with a reason in rejects.csv; it must never reach
a cell a spreadsheet would run. Amounts are never prefixed.

Every (target, kind) pair in ``csvbridge.writers.TARGETS`` is converted from a source in which
each text field of the kind, in turn, holds each kind of formula; a baseline record with
plain text must be written, so that the pair is really exercised. Cells are checked in every
file a person may open in a spreadsheet: the CSV targets (and the archive's CSV), IIF
(tab-separated, and Intuit's own instructions edit it in Excel), rejects.csv and
duplicates.csv; workbooks (the xlsx target, report.xlsx) must hold no formula at all — text in
a typed cell is never run. OFX, Web Connect, hledger, beancount, Parquet and JSON files are
not opened in spreadsheets (``NOT_SPREADSHEETS``); their writers are still run, so that the
whole registry is covered.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from csvbridge import convert
from csvbridge.model import KINDS, FieldType, Kind
from csvbridge.writers import TARGETS

FORMULAS = ["=1+1", "+1+1", "-1+1", "@SUM(1+1)", "\t=1+1", '=HYPERLINK("http://x","y")']
RISKY = re.compile(r"[=+\-@\t\r]")
NUMBER = re.compile(r"[-+]?\d[\d.,]*")
NOT_SPREADSHEETS = {
    ".parquet": "typed columnar data, read by data tools",
    ".jsonl": "JSON lines, read by programs",
    ".json": "JSON (an archive's datapackage.json), read by programs",
    ".ofx": "OFX is read by bank-feed importers, not spreadsheets",
    ".qbo": "Web Connect is OFX",
    ".journal": "hledger's plain-text journal",
    ".beancount": "beancount's plain-text ledger",
}

# Targets whose CSV is written unguarded on purpose, as their documentation says.
UNGUARDED_BY_DESIGN = {
    "archive": "the archive keeps true values; its doc says to open it through an import dialog",
}

# A plain, valid value for every field of every kind (the baseline record).
PLAIN: dict[str, str] = {
    "date": "01/03/2025",
    "due_date": "31/03/2025",
    "amount": "-12.34",
    "line_amount": "100.00",
    "tax_amount": "20.00",
    "balance": "500.00",
    "quantity": "1",
    "unit_price": "100.00",
    "sale_price": "10.00",
    "purchase_price": "6.00",
    "currency": "GBP",
    "email": "ann@example.com",
    "type": "customer",
    "tax_type": "T1",
    "account_code": "4000",
    "code": "4000",
    "account_number": "C001",
    "number": "N1",
    "name": "Ann Smith",
    "contact": "ACME01",  # a Sage 50 account reference: no spaces
    "country": "GB",
    "postal_code": "LS1 1AA",
    "phone": "0113 496 0000",
    "tax_number": "GB123456789",
}
KIND_PLAIN = {
    "account": {"type": "expense", "name": "Office costs", "parent": ""},
    "item": {"income_account": "4000", "expense_account": "5000", "code": "SKU1"},
    "journal": {"account_code": "7800"},
}
OPTIONS = {
    "date_order": "dmy",
    "account_id": "12345678",
    "bank_id": "204567",
    "ledger_balance": "0",
    "iif.bank_account": "Bank",
    "bank": "1200",
}


def plain(kind: Kind, name: str) -> str:
    if name in KIND_PLAIN.get(kind.name, {}):
        return KIND_PLAIN[kind.name][name]
    return PLAIN.get(name, "Plain text")


def text_fields(kind: Kind) -> list[str]:
    return [f.name for f in kind.fields if f.type is FieldType.TEXT]


def source(kind: Kind, target: str = "") -> tuple[str, str]:
    """(csv text, mapping) for ``kind``: a baseline record, then one record (one document, one
    balanced journal entry) per text field and formula. Dates are DD/MM/YYYY."""
    names = [f.name for f in kind.fields]
    rows: list[dict[str, str]] = []

    def record(n: int, **over: str) -> list[dict[str, str]]:
        base = {f: plain(kind, f) for f in names}
        if kind.name == "contact" and "vendor" in target:
            base["type"] = "supplier"
        if kind.document_key:
            base[kind.document_key] = over.pop(kind.document_key, f"N{n}")
        if kind.name in ("account", "item", "contact"):
            key = "code" if kind.name != "contact" else "name"
            base[key] = over.pop(key, f"{base[key]} {n}")
        base.update(over)
        if kind.name == "journal":
            debit, credit = (
                ("Expenses:Office", "Assets:Bank") if target == "beancount" else ("", "1200")
            )
            first = base | {"amount": "10.00"} | ({"account_code": debit} if debit else {})
            return [first, base | {"amount": "-10.00", "account_code": credit}]
        return [base]

    rows += record(0)
    n = 1
    for f in text_fields(kind):
        for formula in FORMULAS:
            rows += record(n, **{f: formula})
            n += 1
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=names, lineterminator="\r\n")
    w.writeheader()
    w.writerows(rows)
    lines = [f"name: guard-{kind.name}", 'version: "1"', f"kind: {kind.name}", "dates: DD/MM/YYYY"]
    lines += ['read: {delimiter: ",", encoding: utf-8}', "duplicates: {policy: keep}", "fields:"]
    for f in kind.fields:
        required = "" if f.required else ", required: false"
        lines.append(f"  {f.name}: {{column: {f.name}{required}}}")
    return buf.getvalue(), "\n".join(lines) + "\n"


def options_for(target: str) -> dict[str, str]:
    known = {o.name for o in TARGETS[target].options}
    given = {k.removeprefix(target + "."): v for k, v in OPTIONS.items()}
    return {k: v for k, v in given.items() if k in known}


PAIRS = [(t, k) for t in TARGETS for k in TARGETS[t].kinds]


def cells_of(path: Path) -> list[list[str]]:
    """The rows of a file a spreadsheet opens: CSV (UTF-8 with or without BOM, or cp1252), or
    IIF (TAB, no quoting)."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252")
    if path.suffix == ".iif":
        return [line.split("\t") for line in text.split("\r\n") if line]
    return list(csv.reader(io.StringIO(text, newline="")))


def formula_cells(rows: list[list[str]]) -> list[str]:
    return [c for r in rows for c in r if RISKY.match(c) and not NUMBER.fullmatch(c)]


def prefixed_numbers(rows: list[list[str]]) -> list[str]:
    return [c for r in rows for c in r if c.startswith("'") and NUMBER.fullmatch(c[1:])]


def _param(target: str, kind: str) -> object:
    return pytest.param(target, kind, id=f"{target}-{kind}")


@pytest.mark.parametrize(("target", "kind"), [_param(t, k) for t, k in PAIRS])
def test_formulas_are_neutralised_or_refused(tmp_path: Path, target: str, kind: str) -> None:
    k = KINDS[kind]
    data, mapping = source(k, target)
    src = tmp_path / "in.csv"
    src.write_text(data, encoding="utf-8")
    m = tmp_path / "m.yaml"
    m.write_text(mapping, encoding="utf-8")
    out = tmp_path / "out"
    result = convert([src], m, [target], out, options=options_for(target), history=False)
    assert all(t.ok for t in result.tie_outs)
    written = result.report["ledger"]["written"][target]["rows"]
    assert written >= (2 if kind == "journal" else 1), (
        "the plain baseline record was refused: " + (out / "rejects.csv").read_text("utf-8")[:2000]
    )
    rejects = list(csv.DictReader(io.StringIO((out / "rejects.csv").read_text("utf-8-sig"))))
    assert all(r["rule"] and r["message"] for r in rejects), "a refusal without a reason"
    checked = 0
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        if path.suffix in NOT_SPREADSHEETS or path.name.startswith("report."):
            continue
        if target in UNGUARDED_BY_DESIGN and path.parent.name == target:
            assert "no formula guard" in TARGETS[target].doc, UNGUARDED_BY_DESIGN[target]
            continue
        if path.suffix == ".xlsx":
            assert xlsx_formulas(path) == [], f"{path.name} holds formulas"
            checked += 1
            continue
        rows = cells_of(path)[1:]  # the header row is ours
        assert formula_cells(rows) == [], f"{path.name} holds cells a spreadsheet would run"
        assert prefixed_numbers(rows) == [], f"{path.name} prefixed an amount"
        checked += 1
    assert checked >= 2  # the import file (or its parts), rejects.csv, duplicates.csv


def xlsx_formulas(path: Path) -> list[tuple[str, str, object]]:
    """Cells of a workbook that are formulas (text is safe in a typed cell: it is never run)."""
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.load_workbook(path)
    return [
        (ws.title, c.coordinate, c.value)
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for c in row
        if c.data_type == "f"
    ]


def test_report_xlsx_holds_no_formula(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    k = KINDS["transaction"]
    data, mapping = source(k)
    # rows rejected for their date, with formulas in their text
    data += "".join(f"30/02/2025,1.00,GBP,{f},{f}" + ",x" * 7 + "\r\n" for f in FORMULAS[:4])
    src = tmp_path / "in.csv"
    src.write_text(data, encoding="utf-8")
    m = tmp_path / "m.yaml"
    m.write_text(mapping, encoding="utf-8")
    result = convert([src], m, ["csv"], tmp_path / "out", history=False)
    assert result.rejected == 4
    assert xlsx_formulas(tmp_path / "out" / "report.xlsx") == []
    wb = openpyxl.load_workbook(tmp_path / "out" / "report.xlsx")
    texts = [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    assert any(isinstance(v, str) and v.lstrip("'").startswith("=") for v in texts)


def test_every_target_is_covered() -> None:
    assert {t for t, _ in PAIRS} == set(TARGETS)
    for t in TARGETS.values():
        takes_text = any(text_fields(KINDS[k]) for k in t.kinds)
        assert takes_text, t.name
