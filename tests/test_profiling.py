"""Column profiling, inspect and init: right when sure, and refusing — with the reason — when
the data cannot decide (day/month order, decimal mark, sign, currency)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from csvbridge import convert
from csvbridge.profiling import profile_file
from csvbridge.profiling.draft import draft_transaction

from .conftest import ROOT, run_cli

UK = ROOT / "sample_data" / "uk_bank_statement.csv"
US = ROOT / "sample_data" / "us_card_activity.csv"


def _write(tmp_path: Path, text: str, name: str = "f.csv") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8", newline="")
    return p


def test_uk_sample_profile() -> None:
    p = profile_file(UK)
    assert p.dates["Date"] is not None and p.dates["Date"].value == "DD/MM/YYYY"
    for col in ("Debit", "Credit", "Balance"):
        assert p.numbers[col] is not None
        assert p.numbers[col].value == {"decimal": ",", "thousands": "."}
    assert p.roles.columns == {
        "date": "Date",
        "money_out": "Debit",
        "money_in": "Credit",
        "balance": "Balance",
        "description": "Description",
        "category": "Type",
    }
    assert p.roles.invert is False and "confirms" in p.roles.sign_reason
    assert p.currency[0] == "GBP"


def test_day_month_order_that_the_data_cannot_show_is_refused(tmp_path: Path) -> None:
    rows = "\r\n".join(f"0{d}/0{d + 1}/2025,Shop {d},-{d}.00" for d in range(1, 9))
    f = _write(tmp_path, "Date,Description,Amount\r\n" + rows + "\r\n")
    p = profile_file(f)
    date = p.dates["Date"]
    assert date is not None and date.value is None and "no day is above 12" in date.reason
    draft = draft_transaction(p, "t", "GBP", sign="as-is")
    assert not draft.ready and any("date format" in x for x in draft.problems)
    m = tmp_path / "m.yaml"
    m.write_text(draft.text, encoding="utf-8")
    result = run_cli("convert", f, "-m", m, "--to", "csv", "-o", tmp_path / "out")
    assert result.exit_code == 2 and "date-format-missing" in result.output
    settled = draft_transaction(p, "t", "GBP", sign="as-is", date_order="mdy")
    assert settled.ready and "dates: MM/DD/YYYY" in settled.text


def test_one_late_day_above_12_settles_the_order(tmp_path: Path) -> None:
    rows = [f"0{d}/03/2025,Shop,-1.00" for d in range(1, 10)] + ["25/03/2025,Shop,-1.00"]
    f = _write(tmp_path, "Date,Description,Amount\r\n" + "\r\n".join(rows) + "\r\n")
    assert profile_file(f).dates["Date"].value == "DD/MM/YYYY"  # type: ignore[union-attr]


def test_decimal_mark_that_the_data_cannot_show_is_refused(tmp_path: Path) -> None:
    rows = "\r\n".join(f"2025-03-0{d},Shop,1.{d}00" for d in range(1, 9))
    f = _write(tmp_path, "Date,Description,Amount\r\n" + rows + "\r\n")
    p = profile_file(f)
    d = p.numbers["Amount"]
    assert d is not None and d.value is None and "1.234" in d.reason
    draft = draft_transaction(p, "t", "EUR", sign="as-is")
    assert any("number format of 'Amount'" in x for x in draft.problems)


def test_decimal_comma_is_found_from_its_evidence(tmp_path: Path) -> None:
    f = _write(tmp_path, "Date;Text;Amount\r\n01.03.2025;a;1.234,5\r\n13.03.2025;b;12,50\r\n")
    p = profile_file(f)
    assert p.numbers["Amount"].value == {"decimal": ",", "thousands": "."}  # type: ignore[union-attr]
    assert p.dates["Date"].value == "DD.MM.YYYY"  # type: ignore[union-attr]


@pytest.mark.parametrize("newest_first", [False, True])
def test_balance_proves_a_bank_accounts_sign(tmp_path: Path, newest_first: bool) -> None:
    rows, bal = [], 100000
    for i, amt in enumerate([-1250, -399, 250000, -875, -120, -4400]):
        bal += amt
        rows.append(f"2025-03-{i + 10},Item {i},{amt / 100:.2f},{bal / 100:.2f}")
    if newest_first:
        rows.reverse()
    f = _write(tmp_path, "Date,Description,Amount,Balance\r\n" + "\r\n".join(rows) + "\r\n")
    p = profile_file(f)
    assert p.roles.invert is False
    assert ("newest first" in p.roles.sign_reason) is newest_first


def test_balance_rising_with_positive_charges_is_not_taken_as_proof(tmp_path: Path) -> None:
    # a card statement: charges positive, the balance owed rising with them
    rows, bal = [], 0
    for i, amt in enumerate([1250, 399, -5000, 875, 120, 2300]):
        bal += amt
        rows.append(f"2025-03-{i + 10},Item {i},{amt / 100:.2f},{bal / 100:.2f}")
    f = _write(tmp_path, "Date,Description,Amount,Balance\r\n" + "\r\n".join(rows) + "\r\n")
    p = profile_file(f)
    assert p.roles.invert is None and "--sign" in p.roles.sign_reason
    draft = draft_transaction(p, "t", "GBP")
    assert not draft.ready
    assert draft_transaction(p, "t", "GBP", sign="invert").ready


def test_unproven_sign_is_refused_with_a_hint() -> None:
    p = profile_file(US)
    assert p.roles.invert is None
    assert "positive" in p.roles.sign_reason
    draft = draft_transaction(p, "t", "USD")
    assert not draft.ready and any("sign" in x for x in draft.problems)


def test_zero_config_us_card_matches_the_hand_written_mapping(tmp_path: Path) -> None:
    m = tmp_path / "card.yaml"
    result = run_cli("init", US, "-o", m, "--currency", "USD", "--sign", "invert")
    assert result.exit_code == 0, result.output
    assert "ready to convert" in result.output
    # history off: the second conversion of the same file would (rightly) find it imported
    a = convert(
        [US], m, ["xero-bank"], tmp_path / "zero", options={"date_order": "mdy"}, history=False
    )
    b = convert(
        [US], ROOT / "mappings" / "us_card.yaml", ["xero-bank"], tmp_path / "hand", history=False
    )
    assert a.report["ledger"]["written"] == b.report["ledger"]["written"]
    cols = lambda p: [ln.split(",")[:2] for ln in p.read_text().splitlines()]  # noqa: E731
    assert cols(tmp_path / "zero" / "xero-bank.csv") == cols(tmp_path / "hand" / "xero-bank.csv")


def test_zero_config_uk_bank_converts_identically(tmp_path: Path) -> None:
    m = tmp_path / "uk.yaml"
    assert run_cli("init", UK, "-o", m).exit_code == 0
    a = convert([UK], m, ["qbo-bank"], tmp_path / "zero", history=False)
    b = convert(
        [UK], ROOT / "mappings" / "uk_bank.yaml", ["qbo-bank"], tmp_path / "hand", history=False
    )
    zero = (tmp_path / "zero" / "qbo-bank.csv").read_bytes()
    assert zero == (tmp_path / "hand" / "qbo-bank.csv").read_bytes()
    assert a.report["tie_out"][0]["balanced"] and b.report["tie_out"][0]["balanced"]


def test_init_without_currency_is_not_ready(tmp_path: Path) -> None:
    result = run_cli("init", US, "-o", tmp_path / "x.yaml", "--sign", "invert")
    assert result.exit_code == 1
    assert "pass --currency" in result.output
    assert "NOT READY" in (tmp_path / "x.yaml").read_text()


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    m = tmp_path / "x.yaml"
    m.write_text("keep me")
    result = run_cli("init", UK, "-o", m)
    assert result.exit_code == 2 and "error [mapping-exists]" in result.output
    assert m.read_text() == "keep me"


def test_inspect_json_schema() -> None:
    result = run_cli("inspect", UK, "--json")
    assert result.exit_code == 0
    d = json.loads(result.output)
    assert d["schema"] == 1
    assert set(d) == {"schema", "file", "columns", "transaction_roles", "currency", "notes"}
    assert d["file"]["header_line"] == 7 and d["file"]["detected"]["encoding"]["value"] == "cp1252"
    date = next(c for c in d["columns"] if c["name"] == "Date")
    assert date["type"] == "date" and date["date_format"]["value"] == "DD/MM/YYYY"


def test_inspect_text_shows_decisions_and_doubts() -> None:
    out = run_cli("inspect", US).output
    assert "date MM/DD/YYYY (100%)" in out
    assert "unsure" not in out or "sign" in out
    assert "currency  not stated" in out


@pytest.mark.parametrize("paid_out", ["25.50", "-25.50"])
def test_money_out_written_as_negatives_keeps_its_sign(tmp_path: Path, paid_out: str) -> None:
    """money_in/money_out keep each cell's sign, so a bank writing money out as -25.50 needs
    in + out: the draft must see that, or every payment would come out as money in."""
    out2, out4 = paid_out, paid_out.replace("25.50", "40.00")
    p = tmp_path / "neg.csv"
    p.write_text(
        "Date,Description,Paid in,Paid out,Balance\n"
        "21/03/2024,Salary,1000.00,,1000.00\n"
        f"22/03/2024,Tesco,,{out2},974.50\n"
        "23/03/2024,Refund,5.00,,979.50\n"
        f"24/03/2024,Shell,,{out4},939.50\n"
    )
    m = tmp_path / "neg.yaml"
    assert run_cli("init", p, "-o", m, "--currency", "GBP").exit_code == 0
    assert ("expr:" in m.read_text()) == paid_out.startswith("-")
    result = convert([p], m, ["csv"], tmp_path / "out", history=False)
    lines = (tmp_path / "out" / "transaction.csv").read_text().splitlines()[1:]
    amounts = [ln.split(",")[1] for ln in lines]
    assert amounts == ["1000.00", "-25.50", "5.00", "-40.00"]
    assert all(r["status"] == "ok" for r in result.report["reconciliation"])
