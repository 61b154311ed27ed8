"""The accounting writers (QuickBooks Online, Xero, Sage): one test per rule that refuses a
record, plus splitting, signs, encodings and options."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from csvbridge import convert
from csvbridge.errors import TargetError
from csvbridge.pipeline import ConvertResult

from .conftest import write_case

INVOICES = """\
name: inv
kind: invoice
dates: DD/MM/YYYY
fields:
  number: No
  contact: Customer
  date: Date
  due_date: {column: Due, required: false}
  description: Desc
  quantity: Qty
  unit_price: Price
  line_amount: Net
  tax_amount: Tax
  tax_type: VAT
  account_code: Code
  currency: {value: GBP}
"""
INV_HEAD = "No,Customer,Date,Due,Desc,Qty,Price,Net,Tax,VAT,Code\n"


def inv(no: str, customer: str = "Acme Ltd", net: str = "100.00", **kw: str) -> str:
    """One invoice line as CSV text; keyword arguments override columns."""
    row = {
        "Date": "01/03/2025",
        "Due": "31/03/2025",
        "Desc": "Work",
        "Qty": "1",
        "Price": net,
        "Tax": "20.00",
        "VAT": "T1",
        "Code": "4000",
    } | kw
    cols = ["Date", "Due", "Desc", "Qty", "Price"]
    return ",".join(
        [no, customer, *(row[c] for c in cols), net, row["Tax"], row["VAT"], row["Code"]]
    )


JOURNALS = """\
name: jnl
kind: journal
dates: DD/MM/YYYY
fields:
  number: No
  date: Date
  account_code: Account
  amount: Amount
  narration: Narration
  description: Desc
  tax_type: Tax
  currency: {value: GBP}
"""
JNL_HEAD = "No,Date,Account,Amount,Narration,Desc,Tax\n"

CONTACTS = """\
name: con
kind: contact
fields:
  name: Name
  account_number: Code
  type: Type
  email: Email
  country: Country
"""
CON_HEAD = "Name,Code,Type,Email,Country\n"


def run(
    tmp_path: Path,
    data: str,
    mapping: str,
    targets: list[str],
    opts: dict[str, str] | None = None,
    chunk_rows: int = 25_000,
) -> tuple[ConvertResult, Path]:
    """Convert ``data`` with ``mapping`` as a batch of its own (its own import history); the
    tie-out must balance whatever is refused."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    src, m = write_case(tmp_path, data, mapping)
    out = tmp_path / "out"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CSVBRIDGE_HISTORY", str(tmp_path / "history.sqlite"))
        result = convert([src], m, targets, out, options=opts or {}, chunk_rows=chunk_rows)
    assert all(t.ok for t in result.tie_outs)
    return result, out


def rejects(out: Path, target: str | None = None) -> list[dict[str, str]]:
    rows = list(csv.DictReader(io.StringIO((out / "rejects.csv").read_text("utf-8"))))
    return [r for r in rows if target is None or r["target"] == target]


def rules(out: Path, target: str | None = None) -> list[str]:
    return [r["rule"] for r in rejects(out, target)]


def lines(path: Path, encoding: str = "utf-8-sig") -> list[str]:
    return path.read_bytes().decode(encoding).split("\r\n")[:-1]


# -- rules every accounting writer shares -----------------------------------------------------
def test_missing_target_field_is_refused(tmp_path: Path) -> None:
    data = INV_HEAD + inv("1") + "\n" + inv("2", Due="") + "\n"
    _, out = run(tmp_path, data, INVOICES, ["qbo-invoices"])
    [r] = rejects(out)
    assert (r["field"], r["rule"], r["value"]) == ("due_date", "target-required", "")
    assert "needs due_date" in r["message"]
    assert len(lines(out / "qbo-invoices.csv")) == 2


def test_name_that_looks_like_a_formula_is_refused_not_prefixed(tmp_path: Path) -> None:
    data = INV_HEAD + inv("1", "=HYPERLINK(1)") + "\n" + inv("2", "+Plus Ltd") + "\n"
    _, out = run(tmp_path, data, INVOICES, ["xero-invoices"])
    assert rules(out) == ["formula-like-name", "formula-like-name"]
    assert len(lines(out / "xero-invoices.csv")) == 1
    _, out = run(tmp_path / "off", data, INVOICES, ["xero-invoices"], {"formula_guard": "off"})
    assert lines(out / "xero-invoices.csv")[1].startswith("=HYPERLINK(1),")


def test_text_cells_are_guarded_and_amounts_never(tmp_path: Path) -> None:
    data = JNL_HEAD + "J1,31/03/2025,7800,-5.00,@risky,=SUM(A1),No VAT\n"
    data += "J1,31/03/2025,1103,5.00,@risky,-minus,No VAT\n"
    _, out = run(tmp_path, data, JOURNALS, ["xero-journals"])
    body = lines(out / "xero-journals.csv")[1:]
    assert body[0].split(",")[:6] == [
        "'@risky (J1)",
        "31/03/2025",
        "'=SUM(A1)",
        "7800",
        "No VAT",
        "-5.00",
    ]
    assert body[1].split(",")[5] == "5.00"


def test_lines_of_one_document_must_agree(tmp_path: Path) -> None:
    data = INV_HEAD + inv("1") + "\n" + inv("1", "Other Ltd") + "\n" + inv("2") + "\n"
    _, out = run(tmp_path, data, INVOICES, ["xero-invoices"])
    assert rules(out) == ["document-inconsistent", "document-inconsistent"]
    assert "disagree on contact ('Acme Ltd', 'Other Ltd')" in rejects(out)[0]["message"]


def test_one_bad_line_refuses_its_whole_document(tmp_path: Path) -> None:
    data = INV_HEAD + inv("1") + "\n" + inv("1", Desc="x" * 61) + "\n" + inv("2") + "\n"
    _, out = run(tmp_path, data, INVOICES, ["sage50"], {"sage50.account_ref": "derive"})
    refused = rejects(out)
    assert [(r["line"], r["rule"]) for r in refused] == [
        ("3", "text-too-long"),
        ("2", "document-incomplete"),
    ]
    assert "line 3 of invoice 1 was refused (text-too-long)" in refused[1]["message"]
    assert [row.split(",")[5] for row in lines(out / "sage50.csv", "cp1252")[1:]] == ["2"]


def test_text_the_encoding_cannot_hold_is_refused(tmp_path: Path) -> None:
    data = INV_HEAD + inv("1", Desc="Łódź office") + "\n" + inv("2", Desc="Café €5") + "\n"
    _, out = run(tmp_path, data, INVOICES, ["sage50"], {"sage50.account_ref": "derive"})
    assert rules(out) == ["not-encodable"]
    assert lines(out / "sage50.csv", "cp1252")[1].split(",")[6] == "Café €5"
    _, out = run(
        tmp_path / "u",
        data,
        INVOICES,
        ["sage50"],
        {"sage50.account_ref": "derive", "sage50.encoding": "utf-8"},
    )
    assert rules(out) == []


def test_repeated_key_is_refused(tmp_path: Path) -> None:
    data = CON_HEAD + "Acme Ltd,A1,,,\nACME LTD ,A2,,,\nBolt,A1,,,\n"
    _, out = run(tmp_path, data, CONTACTS, ["xero-contacts"])
    assert [(r["field"], r["rule"]) for r in rejects(out)] == [
        ("name", "not-unique"),
        ("account_number", "not-unique"),
    ]


def test_document_larger_than_a_file_is_refused(tmp_path: Path) -> None:
    rows = [
        f"J1,31/03/2025,{4000 + i},{'1.00' if i % 2 else '-1.00'},Big,,No VAT" for i in range(302)
    ]
    rows += ["J2,31/03/2025,7800,2.00,Small,,No VAT", "J2,31/03/2025,1103,-2.00,Small,,No VAT"]
    _, out = run(tmp_path, JNL_HEAD + "\n".join(rows) + "\n", JOURNALS, ["xero-journals"])
    assert set(rules(out)) == {"document-too-long"} and len(rejects(out)) == 302
    assert len(lines(out / "xero-journals.csv")) == 3


def test_files_split_between_documents_never_inside_one(tmp_path: Path) -> None:
    rows = []
    for j in range(100):  # 100 journals of 7 lines: 300-line files hold 42 whole journals
        rows += [f"J{j:03d},31/03/2025,{4000 + i},1.00,N{j},,No VAT" for i in range(6)]
        rows.append(f"J{j:03d},31/03/2025,1103,-6.00,N{j},,No VAT")
    result, out = run(
        tmp_path, JNL_HEAD + "\n".join(rows) + "\n", JOURNALS, ["xero-journals"], chunk_rows=50
    )
    files = result.report["targets"][0]["files"]
    assert [f["rows"] for f in files] == [294, 294, 112]
    seen: set[str] = set()
    for f in files:
        narrations = {row.split(",")[0] for row in lines(out / f["name"])[1:]}
        assert not narrations & seen, "a journal was split across files"
        seen |= narrations


def test_document_cap_per_file(tmp_path: Path) -> None:
    data = INV_HEAD + "".join(inv(str(i)) + "\n" for i in range(150))
    result, _ = run(tmp_path, data, INVOICES, ["qbo-invoices"])
    assert [f["rows"] for f in result.report["targets"][0]["files"]] == [100, 50]


def test_bom_auto_only_when_the_file_holds_non_ascii(tmp_path: Path) -> None:
    _, out = run(tmp_path / "a", INV_HEAD + inv("1") + "\n", INVOICES, ["qbo-invoices"])
    assert not (out / "qbo-invoices.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    _, out = run(tmp_path / "b", INV_HEAD + inv("1", "Café Ltd") + "\n", INVOICES, ["qbo-invoices"])
    assert (out / "qbo-invoices.csv").read_bytes().startswith(b"\xef\xbb\xbfInvoiceNo,")
    _, out = run(
        tmp_path / "c", INV_HEAD + inv("1") + "\n", INVOICES, ["qbo-invoices"], {"bom": "on"}
    )
    assert (out / "qbo-invoices.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_tax_codes_option_needs_pairs(tmp_path: Path) -> None:
    with pytest.raises(TargetError) as e:
        run(tmp_path, INV_HEAD + inv("1") + "\n", INVOICES, ["sage50"], {"sage50.tax_codes": "T1"})
    assert e.value.code == "option-invalid" and "FROM=TO" in e.value.message


# -- QuickBooks Online ------------------------------------------------------------------------
def test_qbo_invoice_refuses_negative_lines(tmp_path: Path) -> None:
    data = INV_HEAD + inv("1") + "\n" + inv("1", net="-10.00", Tax="-2.00") + "\n"
    _, out = run(tmp_path, data, INVOICES, ["qbo-invoices"])
    assert rules(out) == ["negative-line", "document-incomplete"]


def test_qbo_invoice_refuses_amount_that_is_not_quantity_times_rate(tmp_path: Path) -> None:
    data = (
        INV_HEAD
        + inv("1", Qty="3", Price="33")
        + "\n"
        + inv("2", net="99.00", Qty="3", Price="33")
        + "\n"
    )
    _, out = run(tmp_path, data, INVOICES, ["qbo-invoices"])
    assert rules(out) == ["amount-not-quantity-times-price"]
    row = lines(out / "qbo-invoices.csv")[1].split(",")
    assert row[9:12] == ["3", "33.00", "99.00"]  # rate with the currency's decimals, never rounded


def test_qbo_document_number_limit(tmp_path: Path) -> None:
    _, out = run(tmp_path, INV_HEAD + inv("INV-" + "9" * 18) + "\n", INVOICES, ["qbo-invoices"])
    assert [(r["field"], r["rule"]) for r in rejects(out)] == [("number", "text-too-long")]


def test_journal_that_does_not_balance_is_refused(tmp_path: Path) -> None:
    data = (
        JNL_HEAD
        + "J1,31/03/2025,Insurance,1200.00,Reclass,,\nJ1,31/03/2025,Prepaid,-1100.00,Reclass,,\n"
    )
    data += "J2,31/03/2025,Insurance,5.00,Ok,,\nJ2,31/03/2025,Prepaid,-5.00,Ok,,\n"
    _, out = run(tmp_path, data, JOURNALS, ["qbo-journals"])
    assert rules(out) == ["journal-unbalanced", "journal-unbalanced"]
    assert "debits 1200.00, credits 1100.00" in rejects(out)[0]["message"]
    assert lines(out / "qbo-journals.csv")[1:] == [
        "J2,31/03/2025,Insurance,5.00,,Ok,,GBP,,",
        "J2,31/03/2025,Prepaid,,5.00,Ok,,GBP,,",
    ]


def test_qbo_names_refuse_colons_quotes_and_tabs(tmp_path: Path) -> None:
    data = CON_HEAD + 'Acme: North,A1,,,\n"Say ""hi"" Ltd",A2,,,\nFine Ltd,A3,,,\n'
    _, out = run(tmp_path, data, CONTACTS, ["qbo-customers"])
    assert rules(out) == ["name-characters", "name-characters"]


def test_invalid_email_is_refused(tmp_path: Path) -> None:
    data = CON_HEAD + "A,1,,a b@x.example,\nB,2,,b@nodot,\nC,3,,c@ok.example,\n"
    _, out = run(tmp_path, data, CONTACTS, ["qbo-customers", "sage-contacts"])
    assert rules(out, "qbo-customers") == ["email-invalid", "email-invalid"]
    assert rules(out, "sage-contacts") == ["email-invalid", "email-invalid"]


def test_contact_of_the_other_side_is_refused(tmp_path: Path) -> None:
    data = CON_HEAD + "A,1,Customer,,\nB,2,Supplier,,\nD,4,,,\n"
    _, out = run(tmp_path, data, CONTACTS, ["qbo-customers", "qbo-vendors"])
    assert [r["value"] for r in rejects(out, "qbo-customers")] == ["Supplier"]
    assert [r["value"] for r in rejects(out, "qbo-vendors")] == ["Customer"]
    assert "write it with qbo-vendors" in rejects(out, "qbo-customers")[0]["message"]


def test_qbo_contact_in_both_lists_goes_to_customers_only(tmp_path: Path) -> None:
    data = CON_HEAD + "Northwind,N1,Both,,\n"
    _, out = run(tmp_path, data, CONTACTS, ["qbo-customers", "qbo-vendors"])
    assert rules(out, "qbo-customers") == []
    assert rules(out, "qbo-vendors") == ["name-in-both-lists"]


ACCOUNTS = """\
name: coa
kind: account
fields: {code: Code, name: Name, type: Type, parent: Parent}
"""


def test_account_number_with_a_decimal_point_is_refused(tmp_path: Path) -> None:
    data = "Code,Name,Type,Parent\n4000.1,Sales,Income,\n4000,Sales,Income,\n"
    _, out = run(tmp_path, data, ACCOUNTS, ["qbo-accounts"])
    assert rules(out) == ["account-number-decimal"]


def test_subaccounts_need_their_parent_first(tmp_path: Path) -> None:
    data = "Code,Name,Type,Parent\n7501,Stationery,Expenses,7500\n7500,Office,Expenses,\n"
    data += "7502,Printing,Expenses,7500\n"
    _, out = run(tmp_path, data, ACCOUNTS, ["qbo-accounts"], {"subaccounts": "colon"})
    assert rules(out) == ["parent-unknown"]
    assert lines(out / "qbo-accounts.csv")[1:] == [
        "7500,Office,Expenses,",
        "7502,Office:Printing,Expenses,",
    ]
    _, out = run(tmp_path / "flat", data, ACCOUNTS, ["qbo-accounts"])
    assert rules(out) == [] and lines(out / "qbo-accounts.csv")[1] == "7501,Stationery,Expenses,"


ITEMS = """\
name: items
kind: item
fields: {code: Code, name: Name, sale_price: Price}
"""


def test_item_price_with_too_many_digits_is_refused(tmp_path: Path) -> None:
    data = "Code,Name,Price\nA,Alpha,123456789012\nC,Gamma,12\n"
    _, out = run(tmp_path, data, ITEMS, ["qbo-items"])
    assert rules(out) == ["price-digits"]
    assert lines(out / "qbo-items.csv")[1] == "Gamma,C,Service,,12.00,"


def test_qbo_bank4_direction_option(tmp_path: Path) -> None:
    from .conftest import SIMPLE_MAPPING

    data = "Date,Description,Amount\n01/03/2025,Fee,-12.00\n02/03/2025,Deposit,50.00\n"
    data += "03/03/2025,Zero,0\n"
    _, out = run(tmp_path, data, SIMPLE_MAPPING, ["qbo-bank4"])
    assert lines(out / "qbo-bank4.csv") == [
        "Date,Description,Credit,Debit",
        "01/03/2025,Fee,,12.00",
        "02/03/2025,Deposit,50.00,",
        "03/03/2025,Zero,,",
    ]
    _, out = run(tmp_path / "b", data, SIMPLE_MAPPING, ["qbo-bank4"], {"direction": "books"})
    assert lines(out / "qbo-bank4.csv")[1:3] == [
        "01/03/2025,Fee,12.00,",
        "02/03/2025,Deposit,,50.00",
    ]


# -- Xero -------------------------------------------------------------------------------------
def test_xero_invoice_needs_an_account_or_item(tmp_path: Path) -> None:
    _, out = run(tmp_path, INV_HEAD + inv("1", Code="") + "\n", INVOICES, ["xero-invoices"])
    assert [(r["field"], r["rule"]) for r in rejects(out)] == [("account_code", "target-required")]


def test_xero_unit_amount_is_derived_or_checked(tmp_path: Path) -> None:
    data = INV_HEAD + inv("1", net="10.00", Qty="4", Price="") + "\n"  # 2.5 each
    data += inv("2", net="10.00", Qty="3", Price="") + "\n"  # 3.333... each: no exact price
    data += inv("3", net="100.00", Qty="", Price="") + "\n"
    _, out = run(tmp_path, data, INVOICES, ["xero-invoices"])
    assert rules(out) == ["amount-not-quantity-times-price"]
    body = [row.split(",") for row in lines(out / "xero-invoices.csv")[1:]]
    assert [(r[10], r[16], r[17]) for r in body] == [("1", "4", "2.50"), ("3", "1", "100.00")]


def test_xero_negative_total_is_refused_by_default(tmp_path: Path) -> None:
    data = INV_HEAD + inv("CN1", net="-50.00", Tax="-10.00") + "\n"
    _, out = run(tmp_path, data, INVOICES, ["xero-invoices"])
    assert rules(out) == ["negative-total"]
    _, out = run(tmp_path / "b", data, INVOICES, ["xero-invoices"], {"negative_totals": "allow"})
    assert rules(out) == [] and lines(out / "xero-invoices.csv")[1].split(",")[17] == "-50.00"


def test_xero_journals_that_would_merge_are_refused(tmp_path: Path) -> None:
    data = (
        JNL_HEAD
        + "J1,31/03/2025,478,10.00,Accrual,,No VAT\nJ1,31/03/2025,800,-10.00,Accrual,,No VAT\n"
    )
    data += "J2,31/03/2025,478,20.00,Accrual,,No VAT\nJ2,31/03/2025,800,-20.00,Accrual,,No VAT\n"
    _, out = run(tmp_path, data, JOURNALS, ["xero-journals"], {"narration": "as-is"})
    assert rules(out) == ["journal-would-merge", "journal-would-merge"]
    _, out = run(tmp_path / "n", data, JOURNALS, ["xero-journals"])
    assert rules(out) == []
    assert [r.split(",")[0] for r in lines(out / "xero-journals.csv")[1::2]] == [
        "Accrual (J1)",
        "Accrual (J2)",
    ]


# -- Sage -------------------------------------------------------------------------------------
def test_sage50_types_follow_kind_and_sign(tmp_path: Path) -> None:
    data = INV_HEAD + inv("1") + "\n" + inv("1", net="-10.00", Tax="-2.00", Desc="Discount") + "\n"
    _, out = run(tmp_path, data, INVOICES, ["sage50"], {"sage50.account_ref": "derive"})
    assert [r.split(",")[:10] for r in lines(out / "sage50.csv", "cp1252")[1:]] == [
        ["SI", "ACMELTD", "4000", "", "01/03/2025", "1", "Work", "100.00", "T1", "20.00"],
        ["SC", "ACMELTD", "4000", "", "01/03/2025", "1", "Discount", "10.00", "T1", "2.00"],
    ]
    jnl = JNL_HEAD + "J1,31/03/2025,7800,1200.00,Reclass,,\nJ1,31/03/2025,1103,-1200.00,Reclass,,\n"
    _, out = run(tmp_path / "j", jnl, JOURNALS, ["sage50"], {"sage50.header": "off"})
    assert [r.split(",")[:10] for r in lines(out / "sage50.csv", "cp1252")] == [
        ["JD", "", "7800", "", "31/03/2025", "J1", "Reclass", "1200.00", "T9", "0.00"],
        ["JC", "", "1103", "", "31/03/2025", "J1", "Reclass", "1200.00", "T9", "0.00"],
    ]


def test_sage50_bank_lines_post_to_suspense(tmp_path: Path) -> None:
    from .conftest import SIMPLE_MAPPING

    data = "Date,Description,Amount\n01/03/2025,Fee,-12.00\n02/03/2025,Deposit,50.00\n"
    _, out = run(tmp_path, data, SIMPLE_MAPPING, ["sage50"], {"sage50.bank": "1200"})
    assert [r.split(",")[:10] for r in lines(out / "sage50.csv", "cp1252")[1:]] == [
        ["BP", "1200", "9999", "", "01/03/2025", "", "Fee", "12.00", "T9", "0.00"],
        ["BR", "1200", "9999", "", "02/03/2025", "", "Deposit", "50.00", "T9", "0.00"],
    ]
    _, out = run(tmp_path / "n", data, SIMPLE_MAPPING, ["sage50"])
    assert set(rules(out)) == {"target-required"}  # the record's account field is empty


def test_sage50_refuses_foreign_currency(tmp_path: Path) -> None:
    _, out = run(
        tmp_path,
        INV_HEAD + inv("1") + "\n",
        INVOICES,
        ["sage50"],
        {"sage50.account_ref": "derive", "sage50.currency": "EUR"},
    )
    assert rules(out) == ["foreign-currency"]


def test_sage50_refuses_amounts_over_eight_digits(tmp_path: Path) -> None:
    data = INV_HEAD + inv("1", net="100000000.00", Qty="", Price="", Tax="0") + "\n"
    _, out = run(tmp_path, data, INVOICES, ["sage50"], {"sage50.account_ref": "derive"})
    assert rules(out) == ["amount-too-large"]


def test_sage50_tax_codes(tmp_path: Path) -> None:
    data = INV_HEAD + inv("1", VAT="20% (VAT on Income)") + "\n" + inv("2", VAT="") + "\n"
    data += inv("3", VAT="Exempt") + "\n"
    opts = {"sage50.account_ref": "derive", "sage50.tax_codes": "20% (VAT on Income)=T1"}
    _, out = run(tmp_path, data, INVOICES, ["sage50"], opts)
    refused = rejects(out)
    assert [(r["line"], r["rule"]) for r in refused] == [("4", "tax-code"), ("3", "tax-code")]
    assert "T0 to T99" in refused[0]["message"]
    assert "has tax but no tax code" in refused[1]["message"]
    assert lines(out / "sage50.csv", "cp1252")[1].split(",")[8] == "T1"


def test_sage50_tax_sign_must_follow_the_line(tmp_path: Path) -> None:
    data = INV_HEAD + inv("1", Tax="-20.00") + "\n"
    _, out = run(tmp_path, data, INVOICES, ["sage50"], {"sage50.account_ref": "derive"})
    assert rules(out) == ["tax-sign"]


def test_sage50_account_reference_rules(tmp_path: Path) -> None:
    data = (
        INV_HEAD
        + inv("1", "ACME 01")
        + "\n"
        + inv("2", "ACME01")
        + "\n"
        + inv("3", "TOOLONG99")
        + "\n"
    )
    _, out = run(tmp_path, data, INVOICES, ["sage50"])
    assert rules(out) == ["text-too-long", "account-ref-format"]
    data = (
        INV_HEAD
        + inv("1", "Smith & Co")
        + "\n"
        + inv("2", "Smith Co")
        + "\n"
        + inv("3", "***")
        + "\n"
    )
    _, out = run(tmp_path / "d", data, INVOICES, ["sage50"], {"sage50.account_ref": "derive"})
    assert rules(out) == ["account-ref-clash", "account-ref-clash"]
    assert [r["line"] for r in rejects(out)] == ["3", "4"]


def test_sage_contacts_need_two_letter_countries(tmp_path: Path) -> None:
    data = CON_HEAD + "A,1,,,United Kingdom\nB,2,,,gb\nC,3,,,\n"
    _, out = run(tmp_path, data, CONTACTS, ["sage-contacts"])
    assert rules(out) == ["country-code"]
    assert [r.split(",")[10] for r in lines(out / "sage-customers.csv")[1:]] == ["GB", ""]


def test_sage_contacts_reference_is_required_and_short(tmp_path: Path) -> None:
    data = CON_HEAD + "A,,,,\nB,ELEVENCHARS,,,\nC,C1,,,\n"
    _, out = run(tmp_path, data, CONTACTS, ["sage-contacts"], {"contacts": "suppliers"})
    assert rules(out) == ["target-required", "text-too-long"]
    assert (out / "sage-suppliers.csv").exists()


def test_sage_contacts_split_at_half_a_megabyte(tmp_path: Path) -> None:
    rows = "".join(f"Customer {i:05d} {'x' * 100},C{i:05d},,,\n" for i in range(5000))
    result, _ = run(tmp_path, CON_HEAD + rows, CONTACTS, ["sage-contacts"])
    files = result.report["targets"][0]["files"]
    assert len(files) == 2 and all(f["bytes"] <= 500_000 for f in files)
    assert sum(f["rows"] for f in files) == 5000


def test_family_names_pick_the_target_for_the_kind(tmp_path: Path) -> None:
    result, _ = run(
        tmp_path, INV_HEAD + inv("1", "ACME01") + "\n", INVOICES, ["qbo", "xero", "sage"]
    )
    assert [t["name"] for t in result.report["targets"]] == [
        "qbo-invoices",
        "xero-invoices",
        "sage50",
    ]


def test_sage50_bank_option_must_be_a_nominal_code(tmp_path: Path) -> None:
    from .conftest import SIMPLE_MAPPING

    data = "Date,Description,Amount\n01/03/2025,Fee,-12.00\n"
    with pytest.raises(TargetError) as e:
        run(tmp_path, data, SIMPLE_MAPPING, ["sage50"], {"sage50.bank": "Current account"})
    assert e.value.code == "option-invalid" and "nominal code" in e.value.message
