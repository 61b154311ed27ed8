"""Stated opening and closing balances: found, parsed with the file's number format, and
checked against the movements between them."""

from __future__ import annotations

from pathlib import Path

from csvbridge import convert

from .conftest import ROOT

UK = ROOT / "sample_data" / "uk_bank_statement.csv"
MAPPING = ROOT / "mappings" / "uk_bank.yaml"


def _check(result) -> dict:  # type: ignore[no-untyped-def]
    (check,) = [c for c in result.report["reconciliation"] if c["name"] == "statement balances"]
    return check


def test_sample_statement_balances_tie(tmp_path: Path) -> None:
    check = _check(convert([UK], MAPPING, ["csv"], tmp_path))
    assert check["status"] == "ok"
    assert check["stated"]["opening"]["amount"] == "2345.67"
    assert check["stated"]["closing"]["amount"] == "1593.26"


def test_a_missing_row_shows_as_a_mismatch(tmp_path: Path) -> None:
    lines = UK.read_bytes().split(b"\r\n")
    rent = next(i for i, ln in enumerate(lines) if b"RENT" in ln)
    src = tmp_path / "stmt.csv"
    src.write_bytes(b"\r\n".join(lines[:rent] + lines[rent + 1 :]))
    check = _check(convert([src], MAPPING, ["csv"], tmp_path / "out"))
    assert check["status"] == "mismatch"
    assert check["difference"] == "950.00"
    assert "missing, doubled or mis-signed" in check["detail"]


def test_german_statement_words(tmp_path: Path) -> None:
    src = tmp_path / "konto.csv"
    src.write_text(
        "Anfangssaldo;1.000,00 EUR\r\nBuchungstag;Text;Betrag\r\n"
        "01.03.2025;Miete;-500,00\r\n02.03.2025;Gehalt;2.000,50\r\nEndsaldo;2.500,50 EUR\r\n",
        encoding="utf-8",
    )
    m = tmp_path / "m.yaml"
    m.write_text(
        "name: de\nkind: transaction\nread: {delimiter: ';'}\n"
        "numbers: {decimal: ',', thousands: '.'}\ndates: DD.MM.YYYY\n"
        "fields:\n  date: Buchungstag\n  description: Text\n  amount: Betrag\n"
        "  currency: {value: EUR}\n",
        encoding="utf-8",
    )
    check = _check(convert([src], m, ["csv"], tmp_path / "out"))
    assert check["status"] == "ok", check


def test_only_one_balance_stated_is_not_checked(tmp_path: Path) -> None:
    text = UK.read_bytes().replace(b"Closing balance", b"Printed on")
    src = tmp_path / "stmt.csv"
    src.write_bytes(text)
    check = _check(convert([src], MAPPING, ["csv"], tmp_path / "out"))
    assert check["status"] == "not checked" and "only one" in check["detail"]


def test_running_balance_continuity_holds_on_the_sample(tmp_path: Path) -> None:
    r = convert([UK], MAPPING, ["csv"], tmp_path, history=False)
    chain = next(c for c in r.report["reconciliation"] if c["name"] == "running balance")
    assert chain["status"] == "ok" and chain["order"] == "oldest first"


def test_a_missing_row_breaks_the_running_balance_between_its_neighbours(tmp_path: Path) -> None:
    lines = UK.read_bytes().split(b"\r\n")
    rent = next(i for i, ln in enumerate(lines) if b"RENT" in ln)
    src = tmp_path / "stmt.csv"
    src.write_bytes(b"\r\n".join(lines[:rent] + lines[rent + 1 :]))
    r = convert([src], MAPPING, ["csv"], tmp_path / "out", history=False)
    chain = next(c for c in r.report["reconciliation"] if c["name"] == "running balance")
    assert chain["status"] == "breaks"
    brk = chain["breaks"][0]
    assert brk["between_lines"] == [rent, rent + 1]  # the lines around the gap, as now numbered
    assert brk["difference"] == "-950.00"


def test_newest_first_statement_is_recognised(tmp_path: Path) -> None:
    lines = UK.read_bytes().split(b"\r\n")
    head = next(i for i, ln in enumerate(lines) if ln.startswith(b"Date;"))
    body = [ln for ln in lines[head + 1 :] if ln[:2].isdigit()]
    src = tmp_path / "newest.csv"
    src.write_bytes(b"\r\n".join([*lines[: head + 1], *reversed(body)]) + b"\r\n")
    r = convert([src], MAPPING, ["csv"], tmp_path / "out", history=False)
    chain = next(c for c in r.report["reconciliation"] if c["name"] == "running balance")
    assert chain["status"] == "ok" and chain["order"] == "newest first"


def test_a_line_exported_twice_does_not_break_the_running_balance(tmp_path: Path) -> None:
    """The bank wrote one line twice (its balance too): it is flagged as a duplicate and
    the running balance, checked on the lines that are money, still holds."""
    lines = UK.read_bytes().split(b"\r\n")
    rent = next(i for i, ln in enumerate(lines) if b"RENT" in ln)
    src = tmp_path / "twice.csv"
    src.write_bytes(b"\r\n".join([*lines[: rent + 1], lines[rent], *lines[rent + 1 :]]))
    r = convert([src], MAPPING, ["csv"], tmp_path / "out", history=False)
    chain = next(c for c in r.report["reconciliation"] if c["name"] == "running balance")
    assert chain["status"] == "ok", chain
    assert r.report["duplicates"]["flagged"] == 1
