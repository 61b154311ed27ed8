"""The pipeline end to end: provenance, atomicity, splitting, encodings and sign rules."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from csvbridge import convert
from csvbridge.writers.bank import QboBankWriter

from .conftest import ROOT, SIMPLE_MAPPING
from .conftest import write_case as _setup

SIMPLE = SIMPLE_MAPPING


def _rows(n: int) -> bytes:
    lines = ["Date,Description,Amount"]
    lines += [
        f"{1 + i % 28:02d}/03/2025,Payment number {i} to supplier,-{i}.{i % 100:02d}"
        for i in range(n)
    ]
    return ("\r\n".join(lines) + "\r\n").encode()


def test_report_records_provenance(tmp_path: Path) -> None:
    src, m = _setup(tmp_path, _rows(3))
    result = convert([src], m, ["csv"], tmp_path / "out")
    rep = result.report
    assert rep["mapping"]["name"] == "t" and rep["mapping"]["version"] == "3"
    assert len(rep["mapping"]["sha256"]) == 64
    assert rep["inputs"][0]["sha256"] == __import__("hashlib").sha256(src.read_bytes()).hexdigest()
    on_disk = json.loads((tmp_path / "out" / "report.json").read_text("utf-8"))
    assert on_disk == rep
    rows = list(csv.DictReader(io.StringIO((tmp_path / "out" / "transaction.csv").read_text())))
    assert [r["source_line"] for r in rows] == ["2", "3", "4"]
    assert {r["source_file"] for r in rows} == {"in.csv"}


def test_qbo_files_split_at_row_and_size_limits(tmp_path: Path) -> None:
    src, m = _setup(tmp_path, _rows(2500))
    result = convert([src], m, ["qbo-bank"], tmp_path / "out", chunk_rows=700)
    files = result.report["targets"][0]["files"]
    assert [f["name"] for f in files] == [
        "qbo-bank-001.csv",
        "qbo-bank-002.csv",
        "qbo-bank-003.csv",
    ]
    assert [f["rows"] for f in files] == [999, 999, 502]
    for f in files:
        data = (tmp_path / "out" / f["name"]).read_bytes()
        assert len(data) <= QboBankWriter.MAX_BYTES
        assert data.startswith(b"Date,Description,Amount\r\n")
    assert result.tie_outs[0].ok


def test_qbo_size_limit_splits_before_row_limit(tmp_path: Path) -> None:
    lines = ["Date,Description,Amount"] + [f"01/03/2025,{'x' * 600} {i},-1.00" for i in range(900)]
    src, m = _setup(tmp_path, ("\r\n".join(lines) + "\r\n").encode())
    result = convert([src], m, ["qbo-bank"], tmp_path / "out")
    files = result.report["targets"][0]["files"]
    assert len(files) == 2 and sum(f["rows"] for f in files) == 900
    assert all(f["bytes"] <= QboBankWriter.MAX_BYTES for f in files)


def test_failure_mid_run_leaves_no_partial_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from csvbridge.mapping.compile import CompiledMapping

    src, m = _setup(tmp_path, _rows(50))
    out = tmp_path / "out"
    out.mkdir()
    (out / "qbo-bank.csv").write_bytes(b"previous run\r\n")
    real = CompiledMapping.apply
    calls = {"n": 0}

    def dies_on_third_chunk(self, *a, **k):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("power cut")
        return real(self, *a, **k)

    monkeypatch.setattr(CompiledMapping, "apply", dies_on_third_chunk)
    with pytest.raises(RuntimeError):
        convert([src], m, ["qbo-bank", "csv"], out, chunk_rows=10)
    assert sorted(p.name for p in out.iterdir()) == ["qbo-bank.csv"]
    assert (out / "qbo-bank.csv").read_bytes() == b"previous run\r\n"


def test_undecodable_bytes_reject_only_that_row(tmp_path: Path) -> None:
    data = _rows(3).replace(b"Payment number 1 ", b"Payment \xff\xfe number 1 ")
    src, m = _setup(tmp_path, data, SIMPLE.replace("dates:", "read: {encoding: utf-8}\ndates:"))
    result = convert([src], m, ["csv"], tmp_path / "out")
    assert result.rejected == 1
    err = result.report["rejects"]["first"][0]
    assert err["line"] == 3 and err["errors"][0]["rule"] == "undecodable-bytes"
    assert "ff fe" in err["errors"][0]["message"]
    assert result.report["ledger"]["written"]["csv"]["rows"] == 2


def test_xlsx_content_with_csv_name_is_read_as_xlsx(tmp_path: Path) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(["Date", "Description", "Amount"])
    wb.active.append(["01/03/2025", "Tea", "-1.50"])
    path = tmp_path / "export.csv"
    wb.save(path)
    m = tmp_path / "m.yaml"
    m.write_text(SIMPLE, encoding="utf-8")
    result = convert([path], m, ["csv"], tmp_path / "out")
    assert result.report["inputs"][0]["format"] == "xlsx"
    assert "named .csv but is xlsx" in result.report["inputs"][0]["warnings"][0]
    assert result.report["ledger"]["written"]["csv"]["amounts"] == {"GBP": "-1.50"}


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("utf-16-le", b"\xff\xfe"), ("cp1252", b"")],
)
def test_encodings_round_trip_text(tmp_path: Path, encoding: str, bom: bytes) -> None:
    text = "Date,Description,Amount\r\n01/03/2025,Café Crème £ – ok,-3.40\r\n"
    src, m = _setup(tmp_path, bom + text.encode(encoding))
    result = convert([src], m, ["csv"], tmp_path / "out")
    written = (tmp_path / "out" / "transaction.csv").read_text("utf-8")
    assert "Café Crème £ – ok" in written
    assert result.report["inputs"][0]["header_line"] == 1


def test_invert_and_money_in_out_signs(tmp_path: Path) -> None:
    mapping = SIMPLE.replace("  amount: Amount\n", "  amount: {column: Amount, invert: true}\n")
    src, m = _setup(
        tmp_path, b"Date,Description,Amount\r\n01/03/2025,Card purchase,12.00\r\n", mapping
    )
    convert([src], m, ["qbo-bank"], tmp_path / "a")
    assert (tmp_path / "a" / "qbo-bank.csv").read_bytes().endswith(b",Card purchase,-12.00\r\n")
    inout = SIMPLE.replace("  amount: Amount\n", "  amount: {money_in: In, money_out: Out}\n")
    # amount = money_in - money_out, each cell with its own sign: -5.00 paid out is a refund
    data = (
        b"Date,Description,In,Out\r\n01/03/2025,Refund,,-5.00\r\n02/03/2025,Got,7.00,\r\n"
        b"03/03/2025,Paid,,4.00\r\n04/03/2025,Reversed,-2.00,\r\n"
    )
    src, m = _setup(tmp_path, data, inout)
    convert([src], m, ["csv"], tmp_path / "b")
    lines = (tmp_path / "b" / "transaction.csv").read_text().splitlines()
    assert [ln.split(",")[1] for ln in lines[1:]] == ["5.00", "7.00", "-4.00", "-2.00"]


def test_date_order_auto_follows_currency(tmp_path: Path) -> None:
    src, m = _setup(tmp_path, b"Date,Description,Amount\r\n02/03/2025,x,1.00\r\n")
    convert([src], m, ["qbo-bank"], tmp_path / "gbp")
    assert b"02/03/2025,x,1.00" in (tmp_path / "gbp" / "qbo-bank.csv").read_bytes()
    usd = SIMPLE.replace("value: GBP", "value: USD")
    src, m = _setup(tmp_path, b"Date,Description,Amount\r\n02/03/2025,x,1.00\r\n", usd)
    r = convert([src], m, ["qbo-bank"], tmp_path / "usd")
    assert r.report["targets"][0]["options"]["date_order"] == "mdy"
    assert b"03/02/2025,x,1.00" in (tmp_path / "usd" / "qbo-bank.csv").read_bytes()


def test_header_only_file_converts_to_nothing_with_a_warning(tmp_path: Path) -> None:
    src, m = _setup(tmp_path, b"Date,Description,Amount\r\n")
    result = convert([src], m, ["csv"], tmp_path / "out")
    assert result.exit_code == 0 and result.tie_outs[0].ok
    assert "no data rows" in result.warnings[0]


def test_no_header_file_with_named_columns(tmp_path: Path) -> None:
    mapping = SIMPLE + "read:\n  no_header: true\n  columns: [Date, Description, Amount]\n"
    src, m = _setup(tmp_path, b"01/03/2025,Tea,-1.00\r\n02/03/2025,Cake,-2.00\r\n", mapping)
    result = convert([src], m, ["csv"], tmp_path / "out")
    assert result.report["ledger"]["written"]["csv"]["rows"] == 2


def test_column_by_position(tmp_path: Path) -> None:
    mapping = SIMPLE.replace("description: Description", "description: '#2'")
    src, m = _setup(tmp_path, _rows(2), mapping)
    convert([src], m, ["csv"], tmp_path / "out")
    assert "Payment number 1" in (tmp_path / "out" / "transaction.csv").read_text()


def test_sample_statement_matches_its_own_balances() -> None:
    """The tie-out's total for the UK sample equals closing minus opening balance."""
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        r = convert(
            [ROOT / "sample_data" / "uk_bank_statement.csv"],
            ROOT / "mappings" / "uk_bank.yaml",
            ["csv"],
            d,
        )
    info = r.report["inputs"][0]
    opening = info["preamble"][-1]["text"].split("£")[1]
    closing = info["footer"][0]["text"].split("£")[1]
    to_pence = lambda s: int(s.replace(".", "").replace(",", ""))  # noqa: E731
    total = r.report["ledger"]["written"]["csv"]["amounts"]["GBP"]
    assert to_pence(closing) - to_pence(opening) == int(total.replace(".", ""))


def test_stray_nul_byte_in_text_is_read_and_its_row_rejected(tmp_path: Path) -> None:
    """One NUL does not make the file binary; its row is rejected, never written with it."""
    data = b"Date,Description,Amount\n01/03/2025,Te\x00a,-1.00\n02/03/2025,Cake,-2.00\n"
    src, m = _setup(tmp_path, data)
    result = convert([src], m, ["csv"], tmp_path / "out")
    assert result.report["ledger"]["written"]["csv"]["rows"] == 1
    assert result.report["rejects"]["by_rule"] == {"nul-character": 1}
    assert b"\x00" not in (tmp_path / "out" / "rejects.csv").read_bytes()


def test_truncated_utf16_does_not_crash(tmp_path: Path) -> None:
    text = "Date,Description,Amount\r\n01/03/2025,Tea,-1.00\r\n".encode("utf-16-le")
    src, m = _setup(tmp_path, b"\xff\xfe" + text + b"\x41")  # one byte short of a character
    result = convert([src], m, ["csv"], tmp_path / "out")
    assert result.tie_outs[0].ok
    assert result.report["ledger"]["stages"]["read"]["rows"] >= 1


def test_undecodable_bytes_in_extra_cells_of_a_ragged_row(tmp_path: Path) -> None:
    data = b"Date,Description,Amount\n01/03/2025,Tea,-1.00,extra \xff cell\n02/03/2025,Cake,-2.00\n"
    src, m = _setup(tmp_path, data, SIMPLE.replace("dates:", "read: {encoding: utf-8}\ndates:"))
    result = convert([src], m, ["csv"], tmp_path / "out")
    assert result.rejected == 1
    assert "extra \ufffd cell" in (tmp_path / "out" / "rejects.csv").read_text("utf-8")


def test_a_target_refusing_records_balances_its_own_tie_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(QboBankWriter, "text_limits", {"description": 18})
    src, m = _setup(tmp_path, _rows(3))  # descriptions "Payment number N to supplier"
    data = (
        b"Date,Description,Amount\r\n01/03/2025,Short one,-1.00\r\n" + _rows(2).split(b"\r\n", 1)[1]
    )
    src.write_bytes(data)
    result = convert([src], m, ["qbo-bank", "csv"], tmp_path / "out")
    assert result.exit_code == 1 and all(t.ok for t in result.tie_outs)
    ledger = result.report["ledger"]
    assert ledger["written"]["qbo-bank"]["rows"] == 1 and ledger["written"]["csv"]["rows"] == 3
    assert ledger["rejected_by_target"]["qbo-bank"]["rows"] == 2
    qbo = next(t for t in result.report["tie_out"] if t["target"] == "qbo-bank")
    assert qbo["equation"][0] == "rows: 3 = 1 written + 2 rejected + 0 filtered + 0 duplicate"
    rejects = list(csv.DictReader(io.StringIO((tmp_path / "out" / "rejects.csv").read_text())))
    assert [r["target"] for r in rejects] == ["qbo-bank", "qbo-bank"]
    assert rejects[0]["rule"] == "text-too-long" and rejects[0]["line"] == "3"
    assert rejects[0]["record.description"] == "Payment number 0 to supplier"


@pytest.mark.parametrize("target", ["qbo-bank", "xero-bank"])
def test_bank_files_never_mix_currencies(tmp_path: Path, target: str) -> None:
    mapping = SIMPLE.replace("currency: {value: GBP}", "currency: Currency")
    data = (
        b"Date,Description,Amount,Currency\r\n01/03/2025,Tea,-1.00,GBP\r\n"
        b"02/03/2025,Cafe,-2.00,EUR\r\n03/03/2025,Cake,-3.00,GBP\r\n"
    )
    src, m = _setup(tmp_path, data, mapping)
    r = convert([src], m, [target], tmp_path / "out", options={"date_order": "dmy"})
    assert r.report["ledger"]["written"][target]["amounts"] == {"GBP": "-4.00"}
    assert r.report["rejects"]["by_rule"] == {"currency-mismatch": 1} and r.tie_outs[0].ok


def test_file_name_that_is_not_utf8_is_shown_with_replacement_characters(
    tmp_path: Path,
) -> None:
    """A name in another system's encoding (bytes, not UTF-8) converts; reports show it with
    U+FFFD where the bytes could not be read."""
    import os

    folder = os.fsencode(tmp_path)
    with open(os.path.join(folder, b"caf\xe9.csv"), "wb") as fh:
        fh.write(b"Date,Description,Amount\n2025-01-02,Tea,-1.00\n")
    m = tmp_path / "m.yaml"
    m.write_text(
        'name: t\nversion: "1"\nkind: transaction\ndates: YYYY-MM-DD\nfields:\n  date: Date\n'
        "  description: Description\n  amount: Amount\n  currency: {value: EUR}\n"
    )
    src = next(p for p in tmp_path.iterdir() if p.suffix == ".csv")
    result = convert([src], m, ["csv"], tmp_path / "out", history=False)
    assert result.report["inputs"][0]["name"] == "caf\ufffd.csv"
    assert "caf\ufffd.csv,2" in (tmp_path / "out" / "transaction.csv").read_text("utf-8")
