"""Possible duplicates: same amount, dates within a window, similar text; paired one-to-one,
never within one file, within the batch and against the history; the policy flags or holds;
a person's decision releases or holds a pair; the tie-out still balances."""

from __future__ import annotations

import csv
import datetime as dt
import io
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from csvbridge import convert
from csvbridge.dedup import DuplicateStage
from csvbridge.history import History
from csvbridge.model import LINE_COL, ROW_COL, SOURCE_COL
from csvbridge.near_duplicates import NearSettings
from csvbridge.reconcile_core import similarity

MAPPING = """\
name: p
version: "1"
kind: transaction
dates: YYYY-MM-DD
fields:
  date: Date
  description: Text
  amount: Amount
  currency: {value: EUR}
"""
HEAD = "Date,Text,Amount\r\n"


def _file(tmp_path: Path, name: str, rows: list[str]) -> Path:
    p = tmp_path / name
    p.write_text(HEAD + "".join(r + "\r\n" for r in rows), encoding="utf-8")
    return p


def _run(tmp_path: Path, files: list[Path], out: str, possible: str = "", **kw: Any) -> Any:
    m = tmp_path / "m.yaml"
    text = MAPPING + (f"duplicates:\n  possible: {{{possible}}}\n" if possible else "")
    m.write_text(text, encoding="utf-8")
    kw.setdefault("history", False)
    return convert(files, m, ["csv"], tmp_path / out, **kw)


def _dups(tmp_path: Path, out: str) -> list[dict[str, str]]:
    text = (tmp_path / out / "duplicates.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def _possible(tmp_path: Path, out: str) -> list[tuple[str, str, str, str]]:
    return [
        (d["file"], d["line"], d["repeats_file"], d["repeats_line"])
        for d in _dups(tmp_path, out)
        if d["match"] == "possible"
    ]


A = ["2025-03-05,TESCO STORES 2341,-10.00"]


def test_pending_and_posted_lines_are_a_possible_duplicate(tmp_path: Path) -> None:
    a = _file(tmp_path, "a.csv", A)
    b = _file(tmp_path, "b.csv", ["2025-03-07,CARD PAYMENT TESCO STORES 2341 LONDON,-10.00"])
    r = _run(tmp_path, [a, b], "o")
    (d,) = _dups(tmp_path, "o")
    assert (d["match"], d["file"], d["line"], d["repeats_file"], d["repeats_line"]) == (
        "possible",
        "b.csv",
        "2",
        "a.csv",
        "2",
    )
    assert d["action"] == "written" and float(d["score"]) >= 85
    assert d["reason"] == "same amount, dated 2 days later, text 100% alike"
    assert r.report["duplicates"]["possible"]["flagged"] == 1
    assert r.report["ledger"]["written"]["csv"]["rows"] == 2  # flag policy: kept


def test_late_posting_row_dated_earlier_is_caught(tmp_path: Path) -> None:
    a = _file(tmp_path, "a.csv", A)
    b = _file(tmp_path, "b.csv", ["2025-03-02,Tesco Stores 2341,-10.00"])
    _run(tmp_path, [a, b], "o")
    (d,) = _dups(tmp_path, "o")
    assert d["match"] == "possible" and "dated 3 days earlier" in d["reason"]


def test_window_edges(tmp_path: Path) -> None:
    a = _file(tmp_path, "a.csv", A)
    for days, found in [(3, True), (-3, True), (4, False), (-4, False)]:
        when = (dt.date(2025, 3, 5) + dt.timedelta(days=days)).isoformat()
        b = _file(tmp_path, "b.csv", [f"{when},TESCO STORES 2341,-10.00"])
        _run(tmp_path, [a, b], f"o{days}")
        assert bool(_possible(tmp_path, f"o{days}")) is found, days
    b = _file(tmp_path, "b.csv", ["2025-03-07,TESCO STORES 2341,-10.00"])
    _run(tmp_path, [a, b], "w1", possible="window_days: 1")
    assert not _possible(tmp_path, "w1")
    _run(tmp_path, [a, b], "w2", possible="window_days: 2")
    assert _possible(tmp_path, "w2")


def test_threshold_and_unrelated_text(tmp_path: Path) -> None:
    a = _file(tmp_path, "a.csv", A)
    b = _file(tmp_path, "b.csv", ["2025-03-05,Parking meter,-10.00"])  # same amount and day
    _run(tmp_path, [a, b], "o")
    assert not _possible(tmp_path, "o")  # unrelated rows never merge
    c = _file(tmp_path, "c.csv", ["2025-03-05,TESCO STORE 2314,-10.00"])
    score = similarity("tesco stores 2341", "tesco store 2314")
    assert 50 < score < 100
    _run(tmp_path, [a, c], "lo", possible=f"similarity: {score}")
    assert _possible(tmp_path, "lo")
    _run(tmp_path, [a, c], "hi", possible=f"similarity: {score + 0.1}")
    assert not _possible(tmp_path, "hi")


def test_amount_and_currency_must_be_the_same(tmp_path: Path) -> None:
    a = _file(tmp_path, "a.csv", A)
    b = _file(tmp_path, "b.csv", ["2025-03-05,TESCO STORES 2341,-10.01"])
    _run(tmp_path, [a, b], "o")
    assert not _possible(tmp_path, "o")


def test_one_to_one_two_rows_are_never_matched_to_one(tmp_path: Path) -> None:
    a = _file(tmp_path, "a.csv", ["2025-03-05,Coffee,-3.20"])
    b = _file(tmp_path, "b.csv", ["2025-03-05,Coffee bar,-3.20", "2025-03-06,Coffee,-3.20"])
    _run(tmp_path, [a, b], "o")
    assert _possible(tmp_path, "o") == [("b.csv", "2", "a.csv", "2")]  # only one of the two


def test_exact_repeat_takes_its_partner_first(tmp_path: Path) -> None:
    # Overlapping downloads: the repeated coffee is exact; the next day's coffee is new, not a
    # possible duplicate of the coffee the exact repeat already took.
    a = _file(tmp_path, "a.csv", ["2025-03-05,Coffee,-3.20"])
    b = _file(tmp_path, "b.csv", ["2025-03-05,Coffee,-3.20", "2025-03-06,Coffee,-3.20"])
    r = _run(tmp_path, [a, b], "o")
    assert [d["match"] for d in _dups(tmp_path, "o")] == ["exact"]
    assert r.report["ledger"]["written"]["csv"]["rows"] == 2


def test_rows_of_one_file_are_never_possible_duplicates(tmp_path: Path) -> None:
    a = _file(tmp_path, "a.csv", ["2025-03-05,Coffee,-3.20", "2025-03-06,Coffee,-3.20"])
    r = _run(tmp_path, [a], "o")
    assert r.duplicates == 0


def test_identical_same_day_rows_in_two_files(tmp_path: Path) -> None:
    # Two coffees in the second download, one in the first: one repeat, one real coffee.
    a = _file(tmp_path, "a.csv", ["2025-03-05,Coffee,-3.20"])
    b = _file(tmp_path, "b.csv", ["2025-03-05,Coffee,-3.20", "2025-03-05,Coffee,-3.20"])
    r = _run(tmp_path, [a, b], "o")
    assert [d["match"] for d in _dups(tmp_path, "o")] == ["exact"]
    assert r.report["ledger"]["written"]["csv"]["rows"] == 2


def _hold_run(tmp_path: Path, out: str, **kw: Any) -> Any:
    a = _file(tmp_path, "a.csv", [*A, "2025-03-06,Salary,2500.00"])
    b = _file(tmp_path, "b.csv", ["2025-03-06,Tesco Stores 2341,-10.00", "2025-03-09,Rent,-900.00"])
    return _run(tmp_path, [a, b], out, possible="policy: hold", **kw)


def test_hold_policy_holds_back_and_the_tie_out_balances(tmp_path: Path) -> None:
    r = _hold_run(tmp_path, "o")
    (d,) = _dups(tmp_path, "o")
    assert d["match"] == "possible" and d["action"] == "held back"
    rep = r.report
    assert rep["duplicates"]["possible"] == {
        "policy": "hold",
        "window_days": 3,
        "similarity": 85.0,
        "flagged": 1,
        "held_back": 1,
        "against_history": 0,
    }
    assert rep["tie_out"][0]["balanced"]
    assert rep["ledger"]["stages"]["duplicate"]["rows"] == 1
    assert rep["ledger"]["stages"]["duplicate"]["amounts"] == {"EUR": "-10.00"}
    assert rep["ledger"]["written"]["csv"]["amounts"] == {"EUR": "1590.00"}
    written = (tmp_path / "o" / "transaction.csv").read_text(encoding="utf-8")
    assert "Tesco Stores" not in written and "Rent" in written


def test_off_policy_checks_nothing(tmp_path: Path) -> None:
    a = _file(tmp_path, "a.csv", A)
    b = _file(tmp_path, "b.csv", ["2025-03-06,Tesco Stores 2341,-10.00"])
    r = _run(tmp_path, [a, b], "o", possible="policy: off")
    assert r.duplicates == 0 and r.report["duplicates"]["possible"]["policy"] == "off"


def test_decisions_release_or_hold_a_possible_pair(tmp_path: Path) -> None:
    _hold_run(tmp_path, "o1")
    ident = _dups(tmp_path, "o1")[0]["identity"]
    decisions = tmp_path / "decisions.csv"
    decisions.write_text(f"identity,decision,note\r\n{ident},not duplicate,two shops\r\n")
    r = _hold_run(tmp_path, "o2", decisions=decisions)
    assert r.duplicates == 0 and r.report["ledger"]["written"]["csv"]["rows"] == 4
    assert r.report["duplicates"]["decisions_applied"] == 1
    # the flag policy writes a possible duplicate; a person's "duplicate" holds it back
    decisions.write_text(f"identity,decision\r\n{ident},duplicate\r\n")
    a = _file(tmp_path, "a.csv", [*A, "2025-03-06,Salary,2500.00"])
    b = _file(tmp_path, "b.csv", ["2025-03-06,Tesco Stores 2341,-10.00", "2025-03-09,Rent,-900.00"])
    r = _run(tmp_path, [a, b], "o3", decisions=decisions)
    (d,) = _dups(tmp_path, "o3")
    assert d["match"] == "possible" and d["action"] == "held back"
    assert r.report["tie_out"][0]["balanced"]
    assert r.report["ledger"]["stages"]["duplicate"]["amounts"] == {"EUR": "-10.00"}


def test_against_history_and_held_records_are_not_recorded(tmp_path: Path) -> None:
    h = tmp_path / "h.sqlite"
    _run(tmp_path, [_file(tmp_path, "a.csv", A)], "o1", history=h)
    b = _file(tmp_path, "b.csv", ["2025-03-04,CARD TESCO STORES 2341,-10.00"])
    r = _run(tmp_path, [b], "o2", possible="policy: hold", history=h)
    (d,) = _dups(tmp_path, "o2")
    assert (d["match"], d["repeats_file"], d["repeats_batch"]) == ("possible", "a.csv", "1")
    assert r.report["duplicates"]["possible"]["against_history"] == 1
    with History(h) as store:
        assert [x.records for x in store.batches()] == [1, 0]  # held back: not recorded
    # flagged and written: recorded, so the next download's twin is matched to it once only
    c = _file(tmp_path, "c.csv", ["2025-03-05,Tesco Stores 2341 GB,-10.00"])
    r = _run(tmp_path, [c], "o3", history=h)
    assert r.report["duplicates"]["possible"]["against_history"] == 1
    with History(h) as store:
        assert [x.records for x in store.batches()] == [1, 0, 1]


def test_an_old_history_is_migrated(tmp_path: Path) -> None:
    h = tmp_path / "old.sqlite"
    db = sqlite3.connect(h)
    db.executescript(
        "CREATE TABLE record (identity INTEGER NOT NULL, batch_id INTEGER NOT NULL, "
        "source TEXT NOT NULL, line INTEGER NOT NULL);"
        "INSERT INTO record VALUES (1, 1, 'x.csv', 2);"
    )
    db.close()
    with History(h) as store:
        tables = {r[0] for r in store.db.execute("SELECT name FROM sqlite_master")}
        assert "record" not in tables and "record_block" in tables  # its batch is gone: dropped
        assert store.near(np.array([0], np.int64), np.array([2**62], np.int64)) == []
    r = _run(tmp_path, [_file(tmp_path, "a.csv", A)], "o", history=h)
    assert r.report["ledger"]["written"]["csv"]["rows"] == 1


# -- the index against a brute-force reference ---------------------------------------------


def _records(rows: list[tuple[int, int, int, str]], start: int) -> pa.Table:
    """rows: (source, day offset, amount, text); lines numbered from ``start``."""
    n = len(rows)
    return pa.table(
        {
            "date": pa.array(
                [dt.date(2025, 1, 1) + dt.timedelta(days=r[1]) for r in rows], pa.date32()
            ),
            "amount": pa.array([r[2] for r in rows], pa.int64()),
            "currency": pa.array(["EUR"] * n, pa.string()),
            "description": pa.array([f"{r[3]} #{start + i}" for i, r in enumerate(rows)]),
            SOURCE_COL: pa.array([r[0] for r in rows], pa.int32()),
            LINE_COL: pa.array(range(start, start + n), pa.int64()),
            ROW_COL: pa.array(range(start, start + n), pa.int64()),
        }
    )


def _reference(
    rows: list[tuple[int, int, int, str]], window: int, threshold: float
) -> dict[int, int]:
    texts = [f"{r[3]} #{i}" for i, r in enumerate(rows)]
    taken: set[int] = set()
    out: dict[int, int] = {}
    for i, (src, day, amount, _) in enumerate(rows):
        best = None
        for j in range(i):
            s2, d2, a2, _ = rows[j]
            if s2 == src or a2 != amount or abs(d2 - day) > window or j in taken:
                continue
            score = similarity(texts[i].lower(), texts[j].lower())
            if score < threshold:
                continue
            rank = (-score, abs(d2 - day), j)
            if best is None or rank < best[0]:
                best = (rank, j)
        if best is not None:
            taken.add(best[1])
            out[i] = best[1]
    return out


@settings(max_examples=60, deadline=None)
@given(
    files=st.lists(
        st.lists(
            st.tuples(
                st.integers(0, 12),
                st.sampled_from([-320, -1000, 250]),
                st.sampled_from(["coffee", "coffee shop", "tesco", "rent"]),
            ),
            max_size=12,
        ),
        min_size=1,
        max_size=3,
    ),
    chunk=st.integers(1, 7),
    window=st.integers(0, 4),
    threshold=st.sampled_from([0.0, 60.0, 85.0]),
)
def test_pairs_match_brute_force(
    files: list[list[tuple[int, int, str]]], chunk: int, window: int, threshold: float
) -> None:
    rows = [(s, d, a, t) for s, f in enumerate(files) for d, a, t in f]
    stage = DuplicateStage(
        fields=("description",),  # every description is unique: no exact repeats
        hold_back=True,
        count_occurrences=True,
        sources=[f"f{s}.csv" for s in range(len(files))],
        near=NearSettings(window, threshold),
    )
    got: dict[int, int] = {}
    start = 0
    for s, f in enumerate(files):
        stage.start_file()
        for k in range(0, len(f), chunk):
            part = rows[start : start + len(f[k : k + chunk])]
            _, _, flags = stage.apply(_records(part, start))
            for fl in flags:
                assert fl.match == "possible" and fl.repeats_file != f"f{s}.csv"
                got[fl.line] = fl.repeats_line  # lines are the rows' positions here
            start += len(part)
    assert got == _reference(rows, window, threshold)


_PART = st.none() | st.text(alphabet="x \t\x0b\xa0", max_size=4)


@settings(max_examples=120, deadline=None)
@given(
    st.lists(
        st.tuples(st.text(alphabet="aB é\t\n\r\x0b\x0c\xa0", max_size=12), _PART, _PART),
        min_size=1,
        max_size=20,
    ),
    st.sampled_from(
        [("description", "reference"), ("description", "payee", "reference"), ("payee",)]
    ),
)
@example([("a", "", "")], ("description", "payee", "reference"))
@example([("", "", "")], ("description", "payee", "reference"))
def test_texts_collapse_whitespace_like_a_replace_over_every_row(
    rows: list[tuple[str, str | None, str | None]], fields: tuple[str, ...]
) -> None:
    """Joined with a space (empty and missing fields as ""), runs of whitespace made one space,
    trimmed, lower-cased and cut: what _texts gave before it skipped empty fields."""
    import pyarrow.compute as pc

    from csvbridge.near_duplicates import MAX_TEXT, _texts

    columns = {"description": 0, "payee": 1, "reference": 2}
    t = pa.table({f: pa.array([r[columns[f]] for r in rows], pa.string()) for f in fields})
    parts = [pc.fill_null(t.column(f), "") for f in fields]
    joined = pc.binary_join_element_wise(*parts, " ") if len(parts) > 1 else parts[0]
    slow = pc.replace_substring_regex(joined, r"\s+", " ")
    want = pc.utf8_slice_codeunits(pc.utf8_lower(pc.utf8_trim_whitespace(slow)), 0, MAX_TEXT)
    assert _texts(t, set(t.column_names)).to_pylist() == want.combine_chunks().to_pylist()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.lists(st.integers(-(2**63), 2**63 - 1), max_size=40), max_size=8),
    st.lists(st.integers(-(2**63), 2**63 - 1), max_size=40),
    st.sampled_from(["7", "1000000"]),
)
def test_identity_set_is_a_set(chunks: list[list[int]], probes: list[int], budget: str) -> None:
    """The history identities a run repeats exactly, kept in sorted runs that spill (a tiny
    budget forces the spilled files): membership as a Python set's."""
    from csvbridge.dedup import IdentitySet

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CSVBRIDGE_DUP_MEMORY_ENTRIES", budget)
        seen, want = IdentitySet(), set()
        for c in chunks:
            seen.add(np.array(c, dtype=np.int64))
            want.update(c)
        asked = probes + [v for c in chunks for v in c]
        got = seen.contains(np.array(asked, dtype=np.int64)).tolist()
        assert got == [v in want for v in asked]
