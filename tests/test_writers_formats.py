"""The non-CSV targets (OFX, IIF, hledger, beancount), each read back by a parser nobody here
wrote — ofxtools, hledger, beancount — or, for IIF, checked for its structure; one test per
error and rejection rule they add; stable FITIDs."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
import warnings
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from csvbridge import convert
from csvbridge.writers.iif import _neg_decimal
from csvbridge.writers.ofx import escape
from csvbridge.writers.plaintext import beancount_account, hledger_account

from .conftest import ROOT, SIMPLE_MAPPING, run_cli, write_case

UK = [ROOT / "sample_data" / "uk_bank_statement.csv"], ROOT / "mappings" / "uk_bank.yaml"
US = [ROOT / "sample_data" / "us_card_activity.csv"], ROOT / "mappings" / "us_card.yaml"
GOLDEN = ROOT / "tests" / "golden"
UK_OFX = {"account_id": "43218765", "bank_id": "204567"}
US_OFX = {"account_id": "41007", "account_type": "creditcard", "ledger_balance": "-1834.17"}
HLEDGER = shutil.which("hledger")


def _canonical(out: Path, name: str = "transaction.csv") -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((out / name).read_text("utf-8"))))


def _rejects(out: Path, target: str | None = None) -> list[dict[str, str]]:
    rows = list(csv.DictReader(io.StringIO((out / "rejects.csv").read_text("utf-8"))))
    return [r for r in rows if target is None or r["target"] == target]


def _written(out: Path, target: str) -> dict[str, Decimal]:
    report = json.loads((out / "report.json").read_text("utf-8"))
    amounts = report["ledger"]["written"][target]["amounts"]
    return {c: Decimal(v) for c, v in amounts.items()}


# -- OFX, read back by ofxtools ---------------------------------------------------------
def _ofx(path: Path) -> tuple[object, object]:
    from ofxtools.Parser import OFXTree

    tree = OFXTree()
    tree.parse(str(path))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Encountered private extension tag")  # INTU.BID
        ofx = tree.convert()
    return tree, ofx


@pytest.mark.parametrize(
    ("target", "name"),
    [("ofx", "ofx.ofx"), ("ofx2", "ofx2.ofx"), ("qbo-webconnect", "qbo-webconnect.qbo")],
)
@pytest.mark.parametrize("sample", ["uk", "us"])
def test_ofx_read_back_by_ofxtools(tmp_path: Path, target: str, name: str, sample: str) -> None:
    inputs, mapping = UK if sample == "uk" else US
    opts = UK_OFX if sample == "uk" else US_OFX
    convert(inputs, mapping, [target, "csv"], tmp_path, options=opts)
    tree, ofx = _ofx(tmp_path / name)
    stmt = ofx.statements[0]  # type: ignore[attr-defined]
    want = _canonical(tmp_path)
    got = list(stmt.transactions)
    assert len(got) == len(want)
    assert [t.trnamt for t in got] == [Decimal(r["amount"]) for r in want]
    assert [t.dtposted.date().isoformat() for t in got] == [r["date"] for r in want]
    assert sum(t.trnamt for t in got) == _written(tmp_path, target)[stmt.curdef]
    assert len({t.fitid for t in got}) == len(got)
    assert stmt.account.acctid == opts["account_id"]
    if sample == "uk":
        assert stmt.balance.balamt == Decimal("1593.26")  # the statement's closing balance
        assert stmt.account.bankid == "204567" and stmt.account.accttype == "CHECKING"
    else:
        assert stmt.balance.balamt == Decimal("-1834.17")
        assert type(stmt).__name__ == "CCSTMTRS"
    bid = tree.find(".//INTU.BID")  # type: ignore[attr-defined]
    assert (bid is not None and bid.text == "3000") == (target == "qbo-webconnect")


def test_ofx_newest_first_takes_the_first_balance(tmp_path: Path) -> None:
    data = (
        "Date,Description,Amount,Balance\n"
        "02/01/2025,Later,-5.00,95.00\n01/01/2025,Earlier,-10.00,100.00\n"
    )
    mapping = SIMPLE_MAPPING + "  balance: Balance\n"
    src, m = write_case(tmp_path, data, mapping)
    convert([src], m, ["ofx"], tmp_path / "out", options=UK_OFX)
    _, ofx = _ofx(tmp_path / "out" / "ofx.ofx")
    stmt = ofx.statements[0]  # type: ignore[attr-defined]
    assert stmt.balance.balamt == Decimal("95.00")
    assert stmt.banktranlist.dtstart.date().isoformat() == "2025-01-01"
    assert stmt.banktranlist.dtend.date().isoformat() == "2025-01-02"


def test_ofx_long_description_is_cut_in_name_and_whole_in_memo(tmp_path: Path) -> None:
    text = "A very long card description & <more> than thirty-two characters"
    src, m = write_case(tmp_path, f"Date,Description,Amount\n01/01/2025,{text},-1.00\n")
    convert([src], m, ["ofx2"], tmp_path / "out", options={**UK_OFX, "ledger_balance": "0"})
    _, ofx = _ofx(tmp_path / "out" / "ofx2.ofx")
    t = ofx.statements[0].transactions[0]  # type: ignore[attr-defined]
    assert t.name == text[:32] and t.memo == text


# -- stable FITIDs ----------------------------------------------------------------------
def _fitids(path: Path) -> list[str]:
    return [
        line[7:]
        for line in path.read_bytes().decode("cp1252").split("\r\n")
        if line.startswith("<FITID>")
    ]


def _own_history(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    """A history store of its own for one run, so a second run in the same test is not held
    back as already imported."""
    monkeypatch.setenv("CSVBRIDGE_HISTORY", str(path / "history.sqlite"))


def test_fitids_are_stable_across_runs_and_chunk_sizes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = []
    for i, chunk in enumerate([25_000, 25_000, 1, 3]):
        _own_history(monkeypatch, tmp_path / str(i))
        convert(*UK, ["ofx"], tmp_path / str(i), options=UK_OFX, chunk_rows=chunk)
        runs.append(_fitids(tmp_path / str(i) / "ofx.ofx"))
    assert all(r == runs[0] for r in runs) and len(set(runs[0])) == 28


def test_identical_same_day_lines_get_different_fitids(tmp_path: Path) -> None:
    line = "01/02/2025,COFFEE,-3.00\n"
    src, m = write_case(tmp_path, "Date,Description,Amount\n" + line * 3)
    convert([src], m, ["ofx"], tmp_path / "out", options={**UK_OFX, "ledger_balance": "0"})
    ids = _fitids(tmp_path / "out" / "ofx.ofx")
    assert len(ids) == 3 and len(set(ids)) == 3


def test_fitid_does_not_depend_on_the_line_position(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    head = "Date,Description,Amount\n"
    rows = ["02/02/2025,TEA,-1.00\n", "03/02/2025,RENT,-500.00\n", "03/02/2025,TEA,-1.00\n"]
    opts = {**UK_OFX, "ledger_balance": "0"}
    src, m = write_case(tmp_path, head + "".join(rows[1:]))
    _own_history(monkeypatch, tmp_path / "a")
    convert([src], m, ["ofx"], tmp_path / "a", options=opts)
    src, m = write_case(tmp_path, head + "".join(rows))
    _own_history(monkeypatch, tmp_path / "b")
    convert([src], m, ["ofx"], tmp_path / "b", options=opts)
    assert _fitids(tmp_path / "a" / "ofx.ofx") == _fitids(tmp_path / "b" / "ofx.ofx")[1:]


# -- hledger, read back by hledger ------------------------------------------------------
def _hledger(*args: str | Path) -> str:
    if HLEDGER is None:
        print("hledger is not installed (apt-get install hledger): hledger checks skipped")
        pytest.skip("hledger is not installed; install it with: apt-get install -y hledger")
    done = subprocess.run([HLEDGER, *map(str, args)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _balances(rows: list[dict[str, str]], key: str) -> Counter[tuple[str, str]]:
    totals: Counter[tuple[str, str]] = Counter()
    for r in rows:
        totals[(r[key], r["currency"])] += Decimal(r["amount"])  # type: ignore[assignment]
    return totals


def test_hledger_reads_our_bank_journal_with_our_totals(tmp_path: Path) -> None:
    convert(*UK, ["hledger"], tmp_path)
    journal = tmp_path / "hledger.journal"
    printed = _hledger("-f", journal, "print")
    assert printed.count(" * ") == 28
    rows = list(
        csv.DictReader(io.StringIO(_hledger("-f", journal, "bal", "-O", "csv", "--layout=bare")))
    )
    bank = {r["commodity"]: Decimal(r["balance"]) for r in rows if r["account"] == "Assets:Bank"}
    assert bank == _written(tmp_path, "hledger") == {"GBP": Decimal("-752.41")}


def test_hledger_reads_our_journal_entries_with_our_totals(tmp_path: Path) -> None:
    case = GOLDEN / "w_hledger_journal"
    convert([case / "journal.csv"], case / "mapping.yaml", ["hledger", "csv"], tmp_path)
    refused = {r["line"] for r in _rejects(tmp_path, "hledger")}
    kept = [r for r in _canonical(tmp_path, "journal.csv") if r["source_line"] not in refused]
    want = _balances(
        [{**r, "account_code": " ".join(r["account_code"].split())} for r in kept], "account_code"
    )
    rows = csv.DictReader(
        io.StringIO(
            _hledger("-f", tmp_path / "hledger.journal", "bal", "-O", "csv", "--layout=bare")
        )
    )
    got = {
        (r["account"], r["commodity"]): Decimal(r["balance"])
        for r in rows
        if r["account"] != "total"
    }
    assert got == {k: v for k, v in want.items() if v}
    assert _hledger("-f", tmp_path / "hledger.journal", "print").count(" * ") == len(
        {r["number"] for r in kept}
    )


# -- beancount, read back by bean-check and beancount's loader --------------------------
def _beancount(path: Path) -> Counter[tuple[str, str]]:
    from beancount import loader

    check = Path(sys.executable).parent / "bean-check"
    done = subprocess.run(
        [str(check if check.exists() else "bean-check"), str(path)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    entries, errors, _ = loader.load_file(str(path))
    assert errors == []
    totals: Counter[tuple[str, str]] = Counter()
    for e in entries:
        for p in getattr(e, "postings", None) or []:
            totals[(p.account, p.units.currency)] += p.units.number
    return totals


def test_beancount_reads_our_card_file_with_our_totals(tmp_path: Path) -> None:
    convert(*US, ["beancount"], tmp_path, options={"bank_account": "Liabilities:Card"})
    totals = _beancount(tmp_path / "beancount.beancount")
    assert {"USD": totals[("Liabilities:Card", "USD")]} == _written(tmp_path, "beancount")
    assert sum(totals.values()) == 0


def test_beancount_reads_our_journal_entries_with_our_totals(tmp_path: Path) -> None:
    case = GOLDEN / "w_beancount_journal"
    convert([case / "journal.csv"], case / "mapping.yaml", ["beancount", "csv"], tmp_path)
    refused = {r["line"] for r in _rejects(tmp_path, "beancount")}
    kept = [r for r in _canonical(tmp_path, "journal.csv") if r["source_line"] not in refused]
    for r in kept:
        r["account_code"] = beancount_account(r["account_code"]) or ""
    got = _beancount(tmp_path / "beancount.beancount")
    assert {k: v for k, v in got.items() if v} == {
        k: v for k, v in _balances(kept, "account_code").items() if v
    }


# -- IIF structure ---------------------------------------------------------------------
IIF_FILES = sorted(p for p in GOLDEN.glob("w_iif_*/expected/*.iif"))


@pytest.mark.parametrize("path", IIF_FILES, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_iif_structure(path: Path) -> None:
    raw = path.read_bytes()
    assert raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b"") and b'"' not in raw
    lines = raw.decode("cp1252").split("\r\n")[:-1]
    heads = {}
    for line in lines:
        cells = line.split("\t")
        if cells[0].startswith("!"):
            heads[cells[0][1:]] = cells
    if "TRNS" not in heads:  # a list: one header row, then rows of its width
        (keyword,) = heads
        assert all(line.split("\t")[0] == keyword for line in lines[1:])
        assert {len(line.split("\t")) for line in lines[1:]} <= {len(heads[keyword])}
        return
    assert lines[:3] == ["\t".join(heads[k]) for k in ("TRNS", "SPL", "ENDTRNS")]
    block: list[list[str]] = []
    blocks = 0
    for line in lines[3:]:
        cells = line.split("\t")
        assert len(cells) == len(heads[cells[0]]), line
        if cells[0] == "TRNS":
            assert not block, "TRNS before the last block's ENDTRNS"
        else:
            assert block, f"{cells[0]} outside a TRNS block"
        if cells[0] == "ENDTRNS":
            assert len(block) >= 2 and block[0][0] == "TRNS"
            col = heads["TRNS"].index("AMOUNT")
            assert sum(Decimal(c[col]) for c in block) == 0, block
            blocks += 1
            block = []
        else:
            block.append(cells)
    assert not block and blocks > 0


# -- errors ----------------------------------------------------------------------------
def _fails(tmp_path: Path, target: str, code: str, *opts: str, data: tuple = UK) -> str:
    inputs, mapping = data
    args = ["convert", *inputs, "-m", mapping, "--to", target, "-o", tmp_path / "out"]
    for o in opts:
        args += ["-O", o]
    result = run_cli(*args)
    out = result.output
    assert result.exit_code == 2, out
    assert f"error [{code}]" in out and "where:" in out and "hint:" in out, out
    assert not [
        p.name for p in (tmp_path / "out").glob("*") if p.suffix in (".ofx", ".qbo", ".iif")
    ]
    return out


def test_ofx_needs_an_account_id(tmp_path: Path) -> None:
    assert "account_id" in _fails(tmp_path, "ofx", "option-required", "bank_id=1")


def test_ofx_needs_a_bank_id_unless_a_card(tmp_path: Path) -> None:
    assert "bank_id" in _fails(tmp_path, "ofx2", "option-required", "account_id=1")
    convert(*US, ["ofx2"], tmp_path / "card", options=US_OFX)  # no bank_id: fine


def test_ofx_option_too_long(tmp_path: Path) -> None:
    assert "BANKID" in _fails(
        tmp_path, "ofx", "option-invalid", "account_id=1", "bank_id=1234567890"
    )


def test_ofx_ledger_balance_not_a_number(tmp_path: Path) -> None:
    _fails(
        tmp_path,
        "ofx",
        "option-invalid",
        *(f"{k}={v}" for k, v in UK_OFX.items()),
        "ledger_balance=1.234,50",
    )


def test_ofx_ledger_balance_too_precise(tmp_path: Path) -> None:
    _fails(
        tmp_path,
        "qbo-webconnect",
        "option-invalid",
        *(f"{k}={v}" for k, v in UK_OFX.items()),
        "ledger_balance=10.001",
    )


def test_ofx_needs_a_balance_when_the_records_have_none(tmp_path: Path) -> None:
    out = _fails(
        tmp_path, "ofx", "ofx-balance-needed", "account_id=1", "account_type=creditcard", data=US
    )
    assert "ledger_balance" in out


def test_ofx_refuses_other_currencies(tmp_path: Path) -> None:
    data = "Date,Description,Amount,Currency\n01/01/2025,A,1.00,GBP\n02/01/2025,B,2.00,EUR\n"
    mapping = SIMPLE_MAPPING.replace("currency: {value: GBP}", "currency: Currency")
    src, m = write_case(tmp_path, data, mapping)
    result = convert([src], m, ["ofx"], tmp_path / "out", options={**UK_OFX, "ledger_balance": "1"})
    assert result.exit_code == 1
    (r,) = _rejects(tmp_path / "out")
    assert (r["rule"], r["value"], r["line"]) == ("currency-mismatch", "EUR", "3")
    assert "<CURDEF>GBP" in (tmp_path / "out" / "ofx.ofx").read_bytes().decode("cp1252")


def test_ofx_refuses_a_check_number_longer_than_12(tmp_path: Path) -> None:
    data = "Date,Description,Amount,Chq\n01/01/2025,A,-1.00,1234567890123\n02/01/2025,B,-2.00,77\n"
    src, m = write_case(tmp_path, data, SIMPLE_MAPPING + "  check_number: Chq\n")
    convert([src], m, ["ofx"], tmp_path / "out", options={**UK_OFX, "ledger_balance": "1"})
    assert [(r["rule"], r["field"]) for r in _rejects(tmp_path / "out")] == [
        ("text-too-long", "check_number")
    ]
    assert "<TRNTYPE>CHECK\r\n" in (tmp_path / "out" / "ofx.ofx").read_bytes().decode("cp1252")


def test_ofx_refuses_a_memo_longer_than_255(tmp_path: Path) -> None:
    data = f"Date,Description,Amount\n01/01/2025,{'x' * 256},-1.00\n02/01/2025,ok,-2.00\n"
    src, m = write_case(tmp_path, data)
    convert([src], m, ["ofx"], tmp_path / "out", options={**UK_OFX, "ledger_balance": "1"})
    assert [(r["rule"], r["line"]) for r in _rejects(tmp_path / "out")] == [("text-too-long", "2")]


def test_iif_transactions_need_the_bank_account(tmp_path: Path) -> None:
    assert "bank_account" in _fails(tmp_path, "iif", "option-required")


def test_hledger_account_option_invalid(tmp_path: Path) -> None:
    _fails(tmp_path, "hledger", "option-invalid", "bank_account=(Assets:Bank)")


def test_beancount_account_option_invalid(tmp_path: Path) -> None:
    _fails(tmp_path, "beancount", "option-invalid", "bank_account=Bank")


JOURNAL = """\
name: j
kind: journal
dates: YYYY-MM-DD
fields:
  number: No
  date: Date
  account_code: Account
  amount: Amount
  currency: {value: GBP}
"""


def _journal(tmp_path: Path, target: str, rows: str) -> list[tuple[str, str]]:
    src, m = write_case(tmp_path, "No,Date,Account,Amount\n" + rows, JOURNAL)
    opts = {"date_order": "dmy"} if target == "iif" else {}
    convert([src], m, [target], tmp_path / "out", options=opts)
    return [(r["rule"], r["line"]) for r in _rejects(tmp_path / "out")]


@pytest.mark.parametrize("target", ["iif", "hledger", "beancount"])
def test_unbalanced_journal_is_refused_whole(tmp_path: Path, target: str) -> None:
    rows = (
        "1,2025-01-01,Assets:A,10.00\n1,2025-01-01,Assets:B,-9.99\n"
        "2,2025-01-01,Assets:A,1.00\n2,2025-01-01,Assets:B,-1.00\n"
    )
    assert _journal(tmp_path, target, rows) == [
        ("journal-unbalanced", "2"),
        ("journal-unbalanced", "3"),
    ]
    text = next((tmp_path / "out").glob(f"{target.split('-')[0]}.*")).read_text("cp1252")
    assert "9.99" not in text and "1.00" in text


def test_one_line_journal_is_unbalanced(tmp_path: Path) -> None:
    assert _journal(tmp_path, "hledger", "1,2025-01-01,Assets:A,0.00\n") == [
        ("journal-unbalanced", "2")
    ]


def test_journal_with_two_dates_is_refused(tmp_path: Path) -> None:
    rows = "1,2025-01-01,Assets:A,1.00\n1,2025-01-02,Assets:B,-1.00\n"
    assert _journal(tmp_path, "iif", rows) == [
        ("document-inconsistent", "2"),
        ("document-inconsistent", "3"),
    ]


@pytest.mark.parametrize(("target", "account"), [("beancount", "Sales"), ("hledger", "(Sales)")])
def test_journal_account_that_cannot_be_valid_is_refused(
    tmp_path: Path, target: str, account: str
) -> None:
    rows = f"1,2025-01-01,Assets:A,1.00\n1,2025-01-01,{account},-1.00\n"
    assert _journal(tmp_path, target, rows) == [("account-invalid", "2"), ("account-invalid", "3")]


def test_invoice_in_two_currencies_is_refused(tmp_path: Path) -> None:
    rows = {r["line"]: r["rule"] for r in _golden_rejects("w_iif_invoice")}
    assert rows == {"8": "document-inconsistent", "9": "document-inconsistent"}


def test_unknown_account_type_is_refused() -> None:
    assert [
        r["value"] for r in _golden_rejects("w_iif_accounts") if r["rule"] == "account-type-unknown"
    ] == ["Widget"]


def test_contact_of_the_other_list_is_refused() -> None:
    got = {
        (r["target"], r["value"])
        for r in _golden_rejects("w_iif_contacts")
        if r["rule"] == "contact-type"
    }
    assert got == {
        ("iif-customers", "supplier"),
        ("iif-customers", "Vendor"),
        ("iif-vendors", "Customer"),
        ("iif-vendors", "client"),
    }


def _golden_rejects(case: str) -> list[dict[str, str]]:
    return _rejects(GOLDEN / case / "expected")


# -- helpers ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "want"),
    [
        ("Expenses:Office Supplies", "Expenses:Office-Supplies"),
        ("expenses:bad debts", "Expenses:Bad-debts"),
        ("Assets:Bank:1010", "Assets:Bank:1010"),
        ("Income:Sales_UK (net)", "Income:Sales-UK-net"),
        ("Assets:Café", "Assets:Café"),
        ("Sales", None),
        ("Assets", None),
        ("Assets::Bank", None),
        ("Foo:Bar", None),
    ],
)
def test_beancount_account_names(name: str, want: str | None) -> None:
    assert beancount_account(name) == want


def test_beancount_sanitised_names_pass_bean_check(tmp_path: Path) -> None:
    from beancount import loader

    names = ["Expenses:Office-Supplies", "Income:Sales-UK-net", "Assets:Café", "Assets:Bank:1010"]
    text = "".join(f"2025-01-01 open {n}\n" for n in names)
    _, errors, _ = loader.load_string(text)
    assert errors == []


def test_small_helpers() -> None:
    assert hledger_account("Assets:My   Bank ") == "Assets:My Bank"
    assert hledger_account("[Assets:Bank]") is None
    assert escape("A & B <c>\tx") == "A &amp; B &lt;c&gt; x"
    assert [_neg_decimal(q) for q in ("2.5", "-1", "0", "")] == ["-2.5", "1", "0", ""]


def test_empty_statement_is_still_a_valid_file(tmp_path: Path) -> None:
    src, m = write_case(tmp_path, "Date,Description,Amount\n")
    convert([src], m, ["ofx"], tmp_path / "out", options={**UK_OFX, "as_of": "2025-01-31"})
    _, ofx = _ofx(tmp_path / "out" / "ofx.ofx")
    assert len(ofx.statements[0].transactions) == 0  # type: ignore[attr-defined]


def test_hledger_keeps_descriptions_that_look_like_syntax(tmp_path: Path) -> None:
    data = (
        "Date,Description,Amount\n01/01/2025,(Refund) shop; ref 7,1.00\n02/01/2025,* star,-1.00\n"
    )
    src, m = write_case(tmp_path, data)
    convert([src], m, ["hledger"], tmp_path / "out")
    printed = _hledger("-f", tmp_path / "out" / "hledger.journal", "print", "-O", "csv")
    descriptions = [r["description"] for r in csv.DictReader(io.StringIO(printed))]
    assert descriptions[::2] == ["(Refund) shop, ref 7", "* star"]


def test_ledger_cli_reads_our_journal(tmp_path: Path) -> None:
    ledger = shutil.which("ledger")
    if ledger is None:
        pytest.skip("ledger-cli is not installed (optional: apt-get install -y ledger)")
    convert(*UK, ["hledger"], tmp_path)
    done = subprocess.run(
        [ledger, "-f", str(tmp_path / "hledger.journal"), "bal", "Assets:Bank"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and "-752.41 GBP" in done.stdout, done.stdout + done.stderr


def test_beancount_metadata_from_every_text_field(tmp_path: Path) -> None:
    head = "Date,Description,Amount,Chq,Ref,Payee,Memo\n"
    data = head + '01/01/2025,"Tab\\\\ ""q""",-1.00,12,R-1,Bob,m\n'
    extra = "  check_number: Chq\n  reference: Ref\n  payee: Payee\n  memo: Memo\n"
    src, m = write_case(tmp_path, data, SIMPLE_MAPPING + extra)
    convert([src], m, ["beancount"], tmp_path / "out")
    from beancount import loader

    entries, errors, _ = loader.load_file(str(tmp_path / "out" / "beancount.beancount"))
    (txn,) = [e for e in entries if hasattr(e, "postings")]
    assert errors == [] and txn.narration == 'Tab\\\\ "q"' and txn.payee == "Bob"
    assert txn.meta["check-number"] == "12" and txn.meta["reference"] == "R-1"
    _beancount(tmp_path / "out" / "beancount.beancount")


@pytest.mark.parametrize("chunk_rows", [1, 5])
def test_chunk_size_does_not_change_our_files(
    tmp_path: Path, chunk_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    targets = ["ofx", "ofx2", "qbo-webconnect", "iif", "hledger", "beancount"]
    opts = {**UK_OFX, "bank_account": "Assets:Bank"}
    journal = GOLDEN / "w_hledger_journal"
    for name, chunk in (("a", 25_000), ("b", chunk_rows)):
        _own_history(monkeypatch, tmp_path / f"h{name}")
        convert(*UK, targets, tmp_path / name, options=opts, chunk_rows=chunk)
        jargs = ([journal / "journal.csv"], journal / "mapping.yaml", ["hledger", "beancount"])
        convert(*jargs, tmp_path / f"j{name}", chunk_rows=chunk)
    for a, b in (("a", "b"), ("ja", "jb")):
        for p in (tmp_path / a).glob("*"):
            if p.suffix in (".ofx", ".qbo", ".iif", ".journal", ".beancount"):
                assert p.read_bytes() == (tmp_path / b / p.name).read_bytes(), p.name
