"""reconcile: matching two files' transactions in passes (exact keys, amount + date window,
many-to-one), the report files, the tie-out, and determinism. The Stripe-payouts-against-bank
sample is a golden case: tests/golden_reconcile/stripe_bank/ (UPDATE_GOLDEN=1 rewrites it)."""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from csvbridge.errors import CsvbridgeError
from csvbridge.reconcile import read_records, reconcile
from csvbridge.reconcile_core import MAX_GROUP_SIZE, SUBSET_STEPS_PER_RECORD
from csvbridge.reconcile_groups import OutOfSteps, subset_sum

from .conftest import ROOT

GOLDEN = ROOT / "tests" / "golden_reconcile"
SAMPLE = {
    "left": ROOT / "sample_data" / "stripe_payouts.csv",
    "left_mapping": ROOT / "mappings" / "stripe_charges.yaml",
    "right": ROOT / "sample_data" / "bank_deposits.csv",
    "right_mapping": ROOT / "mappings" / "bank_deposits.yaml",
}

MAPPING = """\
name: {name}
kind: transaction
dates: YYYY-MM-DD
fields:
  date: Date
  amount: Amount
  currency: {currency}
  description: Description
  reference: Ref
"""
HEADER = "Date,Amount,Currency,Description,Ref\n"


def _side(tmp_path: Path, name: str, rows: list[str], currency: str = "Currency") -> Path:
    """Write ``name``.csv (rows under HEADER) and ``name``.yaml; return the csv path."""
    (tmp_path / f"{name}.csv").write_text(HEADER + "".join(r + "\n" for r in rows), "utf-8")
    cur = "Currency" if currency == "Currency" else f"{{value: {currency}}}"
    (tmp_path / f"{name}.yaml").write_text(MAPPING.format(name=name, currency=cur), "utf-8")
    return tmp_path / f"{name}.csv"


def _run(
    tmp_path: Path, left: list[str], right: list[str], out: str = "out", **kw: Any
) -> dict[str, Any]:
    lp, rp = _side(tmp_path, "left", left), _side(tmp_path, "right", right)
    result = reconcile(
        lp, lp.with_suffix(".yaml"), rp, rp.with_suffix(".yaml"), tmp_path / out, **kw
    )
    report = json.loads((tmp_path / out / "reconcile.json").read_text("utf-8"))
    assert report == result.report
    return report


def _pairs(report: dict[str, Any]) -> list[tuple[list[int], list[int], str]]:
    """(left lines, right lines, method) of every match."""
    return [
        ([x["line"] for x in m["left"]], [x["line"] for x in m["right"]], m["method"])
        for m in report["matches"]
    ]


def _unmatched(report: dict[str, Any], side: str) -> list[int]:
    return [u["line"] for u in report["unmatched"][side]]


# -- pass 1: exact keys ---------------------------------------------------------------------
def test_exact_key_matches_whatever_the_dates_and_order(tmp_path: Path) -> None:
    left = [
        "2025-03-01,100.00,GBP,Invoice one,INV-1",  # line 2
        "2025-03-02,250.00,GBP,Invoice two,INV-2",  # line 3
        "2025-03-03,75.50,GBP,Invoice three,INV-3",  # line 4
        "2025-03-04,40.00,GBP,Invoice four,INV-4",  # line 5: the target has 39.00
    ]
    right = [
        "2025-04-20,75.50,GBP,INV-3 imported,INV-3",  # line 2: weeks later, still the same
        "2025-03-01,100.00,GBP,INV-1 imported,INV-1",  # line 3
        "2025-03-02,250.00,GBP,INV-2 imported,INV-2",  # line 4
        "2025-03-04,39.00,GBP,INV-4 imported,INV-4",  # line 5
    ]
    report = _run(tmp_path, left, right)
    assert _pairs(report) == [
        ([2], [3], "exact-key"),
        ([3], [4], "exact-key"),
        ([4], [2], "exact-key"),
    ]
    m = report["matches"][2]
    assert m["pass"] == 1 and m["date_delta_days"] == 48 and m["amount_delta"] == "0.00"
    assert "same reference (INV-3)" in m["reason"]
    assert report["matches"][0]["score"] == 100.0
    # Same reference, different amount: both stay unmatched, each pointing at the other.
    assert _unmatched(report, "left") == [5] and _unmatched(report, "right") == [5]
    assert (
        "right line 5 has the same reference (INV-4) but amount 39.00"
        in (report["unmatched"]["left"][0]["reason"])
    )
    assert "(right minus left: -1.00)" in report["unmatched"]["left"][0]["reason"]
    assert "(right minus left: -1.00)" in report["unmatched"]["right"][0]["reason"]


def test_exact_key_pairs_left_and_right_field_names(tmp_path: Path) -> None:
    """``id=reference``-style keys compare two different fields; an empty key never matches."""
    left = ["2025-03-01,10.00,GBP,A,R1", "2025-03-01,20.00,GBP,B,"]
    right = ["2025-03-01,20.00,GBP,R1,X", "2025-03-01,10.00,GBP,R1,Y"]
    report = _run(tmp_path, left, right, keys=["reference=description"])
    assert _pairs(report) == [([2], [3], "exact-key"), ([3], [2], "amount-date")]
    assert report["settings"]["keys"] == ["reference=description"]


# -- pass 2: amount + date window -----------------------------------------------------------
def test_late_posting_within_the_window_matches(tmp_path: Path) -> None:
    left = [
        "2025-03-03,-50.00,GBP,Card payment ACME,",  # posts 3 days later at the bank
        "2025-03-03,-80.00,GBP,Card payment BOLT,",  # posts 4 days later: outside ±3
    ]
    right = [
        "2025-03-06,-50.00,GBP,ACME LTD,",
        "2025-03-07,-80.00,GBP,BOLT & CO,",
    ]
    report = _run(tmp_path, left, right)
    assert _pairs(report) == [([2], [2], "amount-date")]
    m = report["matches"][0]
    assert m["date_delta_days"] == 3 and m["pass"] == 2
    assert "right dated 3 days later (window ±3 days)" in m["reason"]
    assert _unmatched(report, "left") == [3] and _unmatched(report, "right") == [3]
    why = report["unmatched"]["left"][0]["reason"]
    assert "the nearest right record with amount -80.00 is line 3, 4 days later" in why
    wider = _run(tmp_path, left, right, out="wider", date_window_days=4)
    assert _pairs(wider) == [([2], [2], "amount-date"), ([3], [3], "amount-date")]


def test_identical_amounts_on_different_days_pair_with_the_right_partners(
    tmp_path: Path,
) -> None:
    left = [
        "2025-03-03,25.00,GBP,Subscription,",  # line 2
        "2025-03-10,25.00,GBP,Subscription,",  # line 3
        "2025-03-17,25.00,GBP,Subscription,",  # line 4: the bank has no third one
    ]
    right = [
        "2025-03-11,25.00,GBP,SUBSCRIPTION,",  # line 2
        "2025-03-04,25.00,GBP,SUBSCRIPTION,",  # line 3
    ]
    report = _run(tmp_path, left, right, date_window_days=7)
    assert _pairs(report) == [([2], [3], "amount-date"), ([3], [2], "amount-date")]
    used = [line for m in report["matches"] for line in (x["line"] for x in m["right"])]
    assert len(used) == len(set(used))  # never two-to-one
    assert _unmatched(report, "left") == [4]
    why = report["unmatched"]["left"][0]["reason"]
    assert "every right record with amount 25.00 within ±7 days is matched already" in why


def test_text_breaks_a_tie_of_amount_and_date(tmp_path: Path) -> None:
    left = ["2025-03-03,-12.00,GBP,Coffee Corner,", "2025-03-03,-12.00,GBP,Parking meter,"]
    right = ["2025-03-03,-12.00,GBP,PARKING METER 44,", "2025-03-03,-12.00,GBP,COFFEE CORNER,"]
    report = _run(tmp_path, left, right)
    assert _pairs(report) == [([2], [3], "amount-date"), ([3], [2], "amount-date")]
    assert all("chosen by file order" not in m["reason"] for m in report["matches"])


def test_a_pure_tie_is_decided_by_file_order_and_says_so(tmp_path: Path) -> None:
    left = ["2025-03-03,-9.99,GBP,App store,", "2025-03-03,-9.99,GBP,App store,"]
    right = ["2025-03-03,-9.99,GBP,App store,", "2025-03-03,-9.99,GBP,App store,"]
    report = _run(tmp_path, left, right)
    assert _pairs(report) == [([2], [2], "amount-date"), ([3], [3], "amount-date")]
    assert "chosen by file order" in report["matches"][0]["reason"]


def test_text_threshold_and_amount_tolerance(tmp_path: Path) -> None:
    left = ["2025-03-03,-20.00,GBP,Taxi to airport,", "2025-03-05,-30.00,GBP,Hotel,"]
    right = ["2025-03-03,-20.00,GBP,FX FEE,", "2025-03-05,-30.01,GBP,HOTEL,"]
    strict = _run(tmp_path, left, right, out="strict", text_threshold=60)
    assert strict["matches"] == []
    reason = strict["unmatched"]["left"][0]["reason"]
    assert "below the threshold (60%)" in reason
    loose = _run(tmp_path, left, right, out="loose", amount_tolerance_minor=1)
    assert _pairs(loose) == [([2], [2], "amount-date"), ([3], [3], "amount-date")]
    hotel = loose["matches"][1]
    assert hotel["amount_delta"] == "-0.01" and "amounts differ by -0.01" in hotel["reason"]
    assert loose["differences"]["matched_amount_delta"] == {"GBP": "-0.01"}


def test_currencies_never_match_each_other(tmp_path: Path) -> None:
    report = _run(tmp_path, ["2025-03-03,10.00,EUR,x,"], ["2025-03-03,10.00,GBP,x,"])
    assert report["matches"] == []
    assert "no right record in EUR has this amount" in report["unmatched"]["left"][0]["reason"]


# -- pass 3: many-to-one --------------------------------------------------------------------
def _sample(tmp_path: Path, out: str = "out", **kw: Any) -> dict[str, Any]:
    reconcile(**SAMPLE, outdir=tmp_path / out, **kw)  # type: ignore[arg-type]
    report: dict[str, Any] = json.loads((tmp_path / out / "reconcile.json").read_text("utf-8"))
    return report


def test_sample_payouts_match_their_charges_golden(tmp_path: Path) -> None:
    """The Stripe sample against the bank: each payout's charges (net of fees, one refund)
    add up to one deposit; the transfer from savings has no partner."""
    _sample(tmp_path, group_by="reference")
    expected = GOLDEN / "stripe_bank"
    names = ("reconcile.json", "reconcile.csv")
    if os.environ.get("UPDATE_GOLDEN"):
        expected.mkdir(parents=True, exist_ok=True)
        for name in names:
            (expected / name).write_bytes((tmp_path / "out" / name).read_bytes())
    for name in names:
        got = (tmp_path / "out" / name).read_bytes()
        assert got == (expected / name).read_bytes(), f"{name} differs from the golden copy"
    report = json.loads((expected / "reconcile.json").read_text("utf-8"))
    assert _pairs(report) == [
        ([2, 3, 4], [2], "many-to-one"),
        ([6, 7, 8, 9], [4], "many-to-one"),
        ([11, 12], [5], "many-to-one"),
    ]
    assert _unmatched(report, "left") == [] and _unmatched(report, "right") == [3]
    assert report["left"]["read"]["filtered"] == 3  # the payout rows themselves


def test_sample_payouts_found_by_subset_search_without_a_group_key(tmp_path: Path) -> None:
    keyed = _sample(tmp_path, "keyed", group_by="reference")
    searched = _sample(tmp_path, "searched")
    assert _pairs(searched) == _pairs(keyed)
    assert all("within ±3 days" in m["reason"] for m in searched["matches"])
    assert all("sharing reference po_" in m["reason"] for m in keyed["matches"])
    assert searched["search"]["subset_searches"] > 0 and keyed["search"]["subset_steps"] < 50


def test_group_that_does_not_add_up_is_left_for_a_person(tmp_path: Path) -> None:
    left = [
        "2025-03-03,40.00,GBP,charge a,po_1",
        "2025-03-03,60.00,GBP,charge b,po_1",
        "2025-03-04,15.00,GBP,charge c,po_2",
        "2025-03-04,16.00,GBP,charge d,po_2",  # po_2's deposit below is 1.00 short
    ]
    right = ["2025-03-05,100.00,GBP,STRIPE,", "2025-03-06,30.00,GBP,STRIPE,"]
    report = _run(tmp_path, left, right, group_by="reference", keys=[])
    assert _pairs(report) == [([2, 3], [2], "many-to-one")]
    assert _unmatched(report, "left") == [4, 5] and _unmatched(report, "right") == [3]
    assert (
        "no combination of the 2 left records within ±3 days adds up to it"
        in (report["unmatched"]["right"][0]["reason"])
    )
    tolerant = _run(
        tmp_path, left, right, out="t", group_by="reference", amount_tolerance_minor=100
    )
    assert _pairs(tolerant) == [([2, 3], [2], "many-to-one"), ([4, 5], [3], "many-to-one")]
    assert tolerant["matches"][1]["amount_delta"] == "-1.00"


def test_one_left_record_can_equal_several_right_records(tmp_path: Path) -> None:
    """Either side can hold the 'one': a single order paid by two charges."""
    left = ["2025-03-03,90.00,GBP,Order 77,"]
    right = ["2025-03-03,50.00,GBP,charge,", "2025-03-04,40.00,GBP,charge,"]
    report = _run(tmp_path, left, right)
    assert _pairs(report) == [([2], [2, 3], "many-to-one")]
    assert report["matches"][0]["date_delta_days"] == 1  # the latest charge, a day later


def test_subset_sum_agrees_with_brute_force() -> None:
    rng = random.Random(6)
    for _ in range(300):
        values = sorted(rng.randint(-50, 200) for _ in range(rng.randint(2, 9)))
        target = rng.randint(-50, 500)
        tol = rng.choice([0, 0, 3])
        found, _ = subset_sum(values, target - tol, target + tol, 4, 10**9)
        brute = [
            c
            for k in range(2, min(4, len(values)) + 1)
            for c in itertools.combinations(range(len(values)), k)
            if abs(sum(values[i] for i in c) - target) <= tol
        ]
        if not brute:
            assert found is None
        else:
            assert found is not None and len(found) == len(brute[0])
            assert abs(sum(values[i] for i in found) - target) <= tol


def test_subset_search_is_bounded_and_says_so(tmp_path: Path) -> None:
    """Many candidates and no solution: the search stops at its step limit, the same way on
    every machine, and the record's reason says the search was cut short."""
    left = [f"2025-03-0{1 + i % 5},{1 + i}.01,GBP,charge {i},po_x" for i in range(30)]
    # 2 to 8 amounts ending in .01 add up to something ending in .02 to .08: never 100.00,
    # though 100.00 is well inside the range of sums, so nothing prunes the search early.
    right = ["2025-03-03,100.00,GBP,deposit,"]
    report = _run(tmp_path, left, right)
    assert report["matches"] == []
    assert report["search"]["subset_searches_cut"] >= 1
    why = report["unmatched"]["right"][0]["reason"]
    assert "the 24 nearest of 30 left records within ±3 days" in why
    assert f"stopped at its limit of {SUBSET_STEPS_PER_RECORD:,} steps" in why
    assert any("cut short" in w for w in report["warnings"])
    with pytest.raises(OutOfSteps):
        values = [100 * i + 101 for i in range(24)]  # sums of 2..8 never end in 00
        subset_sum(values, 10_000, 10_000, MAX_GROUP_SIZE, SUBSET_STEPS_PER_RECORD)
    assert subset_sum(values, 10_000, 10_000, MAX_GROUP_SIZE, 10**6)[0] is None
    again = _run(tmp_path, left, right, out="again")
    assert again == report


# -- report, tie-out, determinism -----------------------------------------------------------
def test_unmatched_on_both_sides_listed_in_json_csv_and_html(tmp_path: Path) -> None:
    left = ["2025-03-03,-5.00,GBP,Left only <b>bold</b>,", "2025-03-04,-7.00,GBP,Both,"]
    right = ["2025-03-04,-7.00,GBP,Both,", "2025-03-09,=1+2,GBP,x,"]  # an unreadable amount
    right.append('2025-03-10,12.00,GBP,"=HYPERLINK(""http://x"")",')
    report = _run(tmp_path, left, right)
    assert _unmatched(report, "left") == [2] and _unmatched(report, "right") == [4]
    assert report["right"]["rejects"]["rows"] == 1
    rows = list(csv.DictReader(io.StringIO((tmp_path / "out" / "reconcile.csv").read_text())))
    assert [(r["status"], r["left_lines"], r["right_lines"]) for r in rows] == [
        ("matched", "3", "2"),
        ("unmatched", "2", ""),
        ("unmatched", "", "4"),
        ("rejected", "", "3"),
    ]
    assert rows[2]["right_description"].startswith("'=HYPERLINK")  # formula guard
    assert "amount" in rows[3]["reason"]
    page = (tmp_path / "out" / "reconcile.html").read_text("utf-8")
    assert "Left only &lt;b&gt;bold&lt;/b&gt;" in page and "<script" not in page
    css = (ROOT / "csvbridge" / "reports" / "templates" / "report.css").read_text("utf-8")
    assert css.splitlines()[0] in page  # report.html's stylesheet, inline
    assert 'id="unmatched-left"' in page and 'id="unmatched-right"' in page


def _dec(text: str) -> Decimal:
    return Decimal(text)


def test_tie_out_balances_per_side_and_currency(tmp_path: Path) -> None:
    left = [
        "2025-03-03,10.00,GBP,a,",
        "2025-03-03,20.00,EUR,b,",
        "2025-03-04,30.00,EUR,c,",
        "2025-03-05,not money,EUR,d,",
    ]
    right = ["2025-03-03,10.00,GBP,a,", "2025-03-04,30.00,EUR,c,", "2025-03-04,99.00,EUR,z,"]
    report = _run(tmp_path, left, right)
    assert report["tie_out"]["balanced"] is True
    for side in ("left", "right"):
        read = report[side]["read"]
        assert read["rows"] == read["records"] + read["rejected"] + read["filtered"]
        for cur, t in report["totals"][side].items():
            assert _dec(t["records"]["amount"]) == _dec(t["matched"]["amount"]) + _dec(
                t["unmatched"]["amount"]
            )
            assert t["records"]["count"] == t["matched"]["count"] + t["unmatched"]["count"]
            listed = sum(
                (_dec(u["amount"]) for u in report["unmatched"][side] if u["currency"] == cur),
                Decimal(0),
            )
            assert listed == _dec(t["unmatched"]["amount"])
            in_matches = sum(
                (
                    _dec(x["amount"])
                    for m in report["matches"]
                    for x in m[side]
                    if m["currency"] == cur
                ),
                Decimal(0),
            )
            assert in_matches == _dec(t["matched"]["amount"])
    assert report["totals"]["left"]["EUR"]["records"] == {"count": 2, "amount": "50.00"}
    assert report["tie_out"]["left"]["equation"][0] == (
        "rows: 4 read = 3 records + 1 rejected + 0 filtered"
    )


def test_same_inputs_give_the_same_bytes(tmp_path: Path) -> None:
    for out in ("a", "b"):
        reconcile(**SAMPLE, outdir=tmp_path / out)  # type: ignore[arg-type]
    for name in ("reconcile.json", "reconcile.csv", "reconcile.html"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert not [p for p in (tmp_path / "a").iterdir() if p.name.endswith(".partial")]


def test_read_records_reads_like_convert() -> None:
    rs = read_records(SAMPLE["left"], SAMPLE["left_mapping"])
    assert rs.records.num_rows == 9 and rs.rejects == []
    assert rs.ledger.stages["filtered"].count == 3
    assert rs.records.column("currency").to_pylist() == ["USD"] * 9
    assert rs.records.column("amount").to_pylist()[:3] == [11622, 4388, 30071]


def test_bad_settings_and_kinds_are_refused(tmp_path: Path) -> None:
    lp, rp = _side(tmp_path, "left", []), _side(tmp_path, "right", [])
    args = (lp, lp.with_suffix(".yaml"), rp, rp.with_suffix(".yaml"), tmp_path / "o")
    with pytest.raises(CsvbridgeError) as e:
        reconcile(*args, keys=["amount"])
    assert e.value.code == "reconcile-key-invalid"
    with pytest.raises(CsvbridgeError) as e:
        reconcile(*args, date_window_days=-1)
    assert e.value.code == "reconcile-option"
    with pytest.raises(CsvbridgeError) as e:
        reconcile(
            lp, ROOT / "mappings" / "legacy_contacts.yaml", rp, rp.with_suffix(".yaml"), tmp_path
        )
    assert e.value.code == "reconcile-kind"
    report = reconcile(*args).report  # two empty files reconcile to nothing, balanced
    assert report["summary"]["matches"] == 0 and report["tie_out"]["balanced"]
    assert any("no records" in w for w in report["warnings"])
