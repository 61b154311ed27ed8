"""--mask: account and card numbers are shown as ****1234 in everything a person reads
(rejects.csv, duplicates.csv, report.json/html/xlsx, the terminal), never in import files."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csvbridge.mask import (
    Masker,
    is_card_number,
    is_iban,
    luhn_ok,
    mask_value,
    sensitive_header,
)

from .conftest import run_cli

CARD = "4111 1111 1111 1111"  # a test Visa number: passes Luhn
IBAN = "GB82 WEST 1234 5698 7654 32"  # the IBAN registry's example
ACCOUNT = "12345678"
SECRET = "REF-77889911"  # only masked when asked (--mask "Customer Ref")
MAPPING = """\
name: masked
version: "1"
kind: transaction
dates: DD/MM/YYYY
fields:
  date: Date
  description: Description
  amount: Amount
  account: Card Number
  reference: Customer Ref
  memo: Account Number
  currency: {value: GBP}
duplicates: {policy: skip, within_file: duplicate}
"""
HEADER = "Account: 12345678 IBAN GB82 WEST 1234 5698 7654 32\r\n\r\n"
COLUMNS = "Date,Description,Amount,Card Number,Account Number,Customer Ref,Payer IBAN\r\n"


def row(date: str, text: str, amount: str) -> str:
    return f'{date},{text},{amount},{CARD},{ACCOUNT},{SECRET},"{IBAN}"\r\n'


DATA = (
    HEADER
    + COLUMNS
    + row("01/02/2025", "Tea", "-1.00")
    + row("30/02/2025", "Bad date", "-2.00")  # rejected: rejects.csv shows its cells
    + row("03/02/2025", "Cake", "-2.50")
    + row("03/02/2025", "Cake", "-2.50")  # a duplicate: duplicates.csv shows its fields
)
WHOLE = [CARD, CARD.replace(" ", ""), ACCOUNT, IBAN, IBAN.replace(" ", "")]


def convert(tmp_path: Path, *extra: str) -> tuple[Path, str]:
    src = tmp_path / "in.csv"
    src.write_text(DATA, encoding="utf-8")
    m = tmp_path / "m.yaml"
    m.write_text(MAPPING, encoding="utf-8")
    out = tmp_path / "out"
    r = run_cli("convert", src, "-m", m, "--to", "csv", "-o", out, "--no-history", *extra)
    assert r.exit_code == 1, r.output  # one row rejected
    return out, r.output


def xlsx_text(path: Path) -> str:
    with zipfile.ZipFile(path) as z:
        return "".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml"))


def readable(out: Path, terminal: str) -> dict[str, str]:
    """Everything a person reads, by name."""
    return {
        "terminal": terminal,
        "rejects.csv": (out / "rejects.csv").read_text("utf-8-sig"),
        "duplicates.csv": (out / "duplicates.csv").read_text("utf-8-sig"),
        "report.json": (out / "report.json").read_text("utf-8"),
        "report.html": (out / "report.html").read_text("utf-8"),
        "report.xlsx": xlsx_text(out / "report.xlsx"),
    }


def test_account_card_and_iban_numbers_are_masked_by_default(tmp_path: Path) -> None:
    out, terminal = convert(tmp_path)
    texts = readable(out, terminal)
    for name, text in texts.items():
        for whole in WHOLE:
            assert whole not in text, f"{name} shows {whole}"
    for name in ("rejects.csv", "report.xlsx"):  # every original cell of a rejected row
        assert "****1111" in texts[name] and "****5678" in texts[name], name
        assert "****5432" in texts[name], name  # the IBAN column (recognised by its value)
    for name in ("duplicates.csv", "report.xlsx"):  # canonical fields of the duplicate
        assert "****1111" in texts[name] and "****5678" in texts[name], name
    for name in ("report.json", "report.html"):  # the statement's preamble
        assert "Account: ****5678 IBAN ****5432" in texts[name], name
    assert SECRET in texts["rejects.csv"]  # not sensitive unless asked
    # the import file is never masked: it must import
    written = (out / "transaction.csv").read_text("utf-8")
    assert CARD in written and ACCOUNT in written


def test_mask_names_more_columns(tmp_path: Path) -> None:
    out, terminal = convert(tmp_path, "--mask", "Customer Ref")
    texts = readable(out, terminal)
    for name in ("rejects.csv", "duplicates.csv", "report.html", "report.xlsx"):
        assert SECRET not in texts[name], name
        assert "****9911" in texts[name], name
    assert SECRET in (out / "transaction.csv").read_text("utf-8")


def test_no_mask_shows_everything(tmp_path: Path) -> None:
    out, _ = convert(tmp_path, "--no-mask")
    rejects = (out / "rejects.csv").read_text("utf-8-sig")
    assert CARD in rejects and ACCOUNT in rejects and IBAN in rejects
    assert "****" not in rejects


def test_mask_and_no_mask_together_is_an_error(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text(DATA, encoding="utf-8")
    m = tmp_path / "m.yaml"
    m.write_text(MAPPING, encoding="utf-8")
    r = run_cli(
        "convert", src, "-m", m, "--to", "csv", "-o", tmp_path / "o", "--mask", "X", "--no-mask"
    )
    assert r.exit_code == 2 and "error [usage]" in r.output and "--no-mask" in r.output


# -- the recognisers --------------------------------------------------------------------------
def test_card_numbers_and_ibans_are_recognised_by_their_checks() -> None:
    assert is_card_number(CARD) and is_card_number("5500-0000-0000-0004")
    assert not is_card_number("4111 1111 1111 1112")  # Luhn fails
    assert not is_card_number("0000000000000000")  # all one digit
    assert not is_card_number("411111")  # too short
    assert is_iban(IBAN) and is_iban("DE89370400440532013000")
    assert not is_iban("GB82 WEST 1234 5698 7654 33")  # checksum fails
    assert not is_iban("Payment from GB82")


def test_headers_that_mean_account_or_card_numbers() -> None:
    yes = ["Account Number", "Acct No.", "card_number", "IBAN", "Card No", "A/C No", "PAN"]
    no = ["Account Code", "Description", "Amount", "Reference", "Category", "Account Name"]
    assert all(sensitive_header(h) for h in yes), [h for h in yes if not sensitive_header(h)]
    assert not any(sensitive_header(h) for h in no), [h for h in no if sensitive_header(h)]


def test_mask_value_keeps_the_last_four() -> None:
    assert mask_value("12345678") == "****5678"
    assert mask_value(CARD) == "****1111"
    assert mask_value("123") == "****"


def test_a_recognised_column_keeps_plain_words() -> None:
    m = Masker()
    assert m.cell("Account", "Business current") == "Business current"
    assert m.cell("Account", "Current 00123456") == "****3456"
    assert Masker.of(["Ref"]).cell("ref", "AB") == "****"
    assert Masker(auto=False).cell("Account Number", ACCOUNT) == ACCOUNT


def test_free_text() -> None:
    m = Masker()
    assert m.text(f"Acct no. 1234 5678 / IBAN {IBAN}!") == "Acct no. ****5678 / IBAN ****5432!"
    assert (
        m.text("Statement of account 00123456 for Ann") == "Statement of account ****3456 for Ann"
    )
    assert m.text(f"Card {CARD} used") == "Card ****1111 used"
    assert m.text("Account: Business") == "Account: Business"
    # a preamble line as the file wrote it, with its own delimiter between label and number
    for sep in (";", ",", "|", "\t"):
        assert m.text(f"Account number{sep}43218765") == f"Account number{sep}****8765"
    assert m.text("Sort code;20-45-67") == "Sort code;20-45-67"
    assert m.text("Opening balance 1,234.56") == "Opening balance 1,234.56"


@given(st.text(alphabet="0123456789", min_size=12, max_size=18))
def test_luhn_check_digit_makes_a_valid_number(body: str) -> None:
    for d in "0123456789":
        if luhn_ok(body + d):
            assert not luhn_ok(body + str((int(d) + 1) % 10))
            return
    pytest.fail("no check digit works")


def test_terminal_shows_a_rejected_card_number_masked(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    # a card number pasted into the amount column: rejected, and its value is printed
    src.write_text(COLUMNS + row("01/02/2025", "Tea", f'"{CARD}"'), encoding="utf-8")
    m = tmp_path / "m.yaml"
    m.write_text(MAPPING, encoding="utf-8")
    r = run_cli("convert", src, "-m", m, "--to", "csv", "-o", tmp_path / "o", "--no-history")
    assert r.exit_code == 1, r.output
    assert "'****1111'" in r.output and CARD not in r.output, r.output
    unmasked = run_cli(
        "convert", src, "-m", m, "--to", "csv", "-o", tmp_path / "p", "--no-history", "--no-mask"
    )
    assert CARD in unmasked.output
