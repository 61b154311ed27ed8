"""Duplicates against history, counted by occurrence: identical same-day rows are real,
an overlapping download adds nothing, the same file twice is recognised, a person's decision
overrides a flag, and forgetting a batch lets its files be imported again."""

from __future__ import annotations

import csv
import io
import multiprocessing
from pathlib import Path

from csvbridge import convert
from csvbridge.history import History

from .conftest import run_cli

MAPPING = """\
name: h
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


def _run(tmp_path: Path, files: list[Path], out: str, **kw):  # type: ignore[no-untyped-def]
    m = tmp_path / "m.yaml"
    if not m.exists():
        m.write_text(MAPPING, encoding="utf-8")
    return convert(files, m, ["csv"], tmp_path / out, history=tmp_path / "h.sqlite", **kw)


def _written(result) -> int:  # type: ignore[no-untyped-def]
    return int(result.report["ledger"]["written"]["csv"]["rows"])


def _dups(tmp_path: Path, out: str) -> list[dict[str, str]]:
    text = (tmp_path / out / "duplicates.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


COFFEES = ["2025-03-01,Coffee,-3.20", "2025-03-01,Coffee,-3.20"]


def test_identical_same_day_rows_are_two_real_transactions(tmp_path: Path) -> None:
    r = _run(tmp_path, [_file(tmp_path, "a.csv", COFFEES)], "o1")
    assert _written(r) == 2 and r.duplicates == 0


def test_overlapping_download_adds_nothing_and_a_third_coffee_adds_one(tmp_path: Path) -> None:
    _run(tmp_path, [_file(tmp_path, "a.csv", [*COFFEES, "2025-03-02,Rent,-900.00"])], "o1")
    again = _file(tmp_path, "b.csv", [*COFFEES, "2025-03-02,Rent,-900.00"])
    r = _run(tmp_path, [again], "o2")
    assert _written(r) == 0 and r.duplicates == 3
    assert {d["repeats_batch"] for d in _dups(tmp_path, "o2")} == {"1"}
    three = _file(tmp_path, "c.csv", [*COFFEES, COFFEES[0], "2025-03-03,Train,-41.50"])
    r = _run(tmp_path, [three], "o3")
    assert _written(r) == 2  # the third coffee and the train
    assert r.duplicates == 2


def test_late_posting_row_with_an_earlier_date_is_new(tmp_path: Path) -> None:
    _run(tmp_path, [_file(tmp_path, "mar.csv", ["2025-03-05,Shop,-10.00"])], "o1")
    late = _file(tmp_path, "apr.csv", ["2025-03-04,Late card fee,-2.50", "2025-03-05,Shop,-10.00"])
    r = _run(tmp_path, [late], "o2")
    assert _written(r) == 1 and r.duplicates == 1


def test_the_same_file_twice_is_recognised(tmp_path: Path) -> None:
    f = _file(tmp_path, "a.csv", COFFEES)
    _run(tmp_path, [f], "o1")
    m2 = tmp_path / "m.yaml"
    m2.write_text(MAPPING.replace('version: "1"', 'version: "2"'), encoding="utf-8")
    r = _run(tmp_path, [f], "o2")  # another mapping version: a new batch, not a re-run
    assert _written(r) == 0
    assert any("already converted in batch 1" in w for w in r.warnings)


def test_an_identical_second_run_holds_everything_back_and_says_how_to_redo(
    tmp_path: Path,
) -> None:
    f = _file(tmp_path, "a.csv", COFFEES)
    _run(tmp_path, [f], "o1")
    b = _run(tmp_path, [f], "o2")
    assert _written(b) == 0 and b.duplicates == 2
    assert any("csvbridge forget 1" in w for w in b.warnings)
    with History(tmp_path / "h.sqlite") as h:
        assert [x.id for x in h.batches()] == [1, 2]


def test_a_decision_overrides_a_flag(tmp_path: Path) -> None:
    _run(tmp_path, [_file(tmp_path, "a.csv", ["2025-03-01,Coffee,-3.20"])], "o1")
    b = _file(tmp_path, "b.csv", ["2025-03-01,Coffee,-3.20"])
    assert _written(_run(tmp_path, [b], "o2")) == 0
    ident = _dups(tmp_path, "o2")[0]["identity"]
    decisions = tmp_path / "decisions.csv"
    decisions.write_text(f"identity,decision,note\r\n{ident},not duplicate,second shop\r\n")
    r = _run(tmp_path, [b], "o3", decisions=decisions)
    assert _written(r) == 1 and r.report["duplicates"]["decisions_applied"] == 1


def test_forget_then_import_again(tmp_path: Path) -> None:
    f = _file(tmp_path, "a.csv", COFFEES)
    _run(tmp_path, [f], "o1")
    other = _file(tmp_path, "b.csv", COFFEES)
    assert _written(_run(tmp_path, [other], "o2")) == 0
    out = run_cli("forget", "1", "--history", tmp_path / "h.sqlite").output
    assert "forgot batch 1" in out and "delete what they created" in out
    listing = run_cli("history", "--history", tmp_path / "h.sqlite").output
    assert "batch 1 " not in listing and "batch 2 " in listing
    r = _run(tmp_path, [_file(tmp_path, "c.csv", COFFEES)], "o3")
    assert _written(r) == 2


def test_forget_unknown_batch() -> None:
    result = run_cli("forget", "99")
    assert result.exit_code == 2 and "error [batch-unknown]" in result.output


def test_invalid_decision_is_a_clear_error(tmp_path: Path) -> None:
    decisions = tmp_path / "d.csv"
    decisions.write_text("identity,decision\r\nabc,maybe\r\n")
    result = (
        run_cli(
            "convert",
            _file(tmp_path, "a.csv", COFFEES),
            "-m",
            tmp_path / "m.yaml",
            "--to",
            "csv",
            "-o",
            tmp_path / "o",
            "--decisions",
            decisions,
        )
        if (tmp_path / "m.yaml").write_text(MAPPING)
        else None
    )
    assert result is not None and result.exit_code == 2
    assert "error [decisions-invalid]" in result.output and "d.csv, line 2" in result.output


def _convert_in_process(args: tuple[str, str, str, str]) -> int:
    src, mapping, out, hist = args
    r = convert([src], mapping, ["csv"], out, history=hist)
    return int(r.report["ledger"]["written"]["csv"]["rows"])


def test_two_processes_never_import_the_same_records(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text(MAPPING, encoding="utf-8")
    rows = [f"2025-03-{1 + i % 28:02d},Item {i},-{i}.00" for i in range(400)]
    a, b = _file(tmp_path, "a.csv", rows), _file(tmp_path, "b.csv", rows)
    hist = str(tmp_path / "h.sqlite")
    jobs = [
        (str(a), str(tmp_path / "m.yaml"), str(tmp_path / "oa"), hist),
        (str(b), str(tmp_path / "m.yaml"), str(tmp_path / "ob"), hist),
    ]
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        written = pool.map(_convert_in_process, jobs)
    assert sorted(written) == [0, 400]


def test_a_new_history_is_no_more_readable_than_its_inputs(tmp_path: Path) -> None:
    private = _file(tmp_path, "a.csv", COFFEES)
    private.chmod(0o600)
    _run(tmp_path, [private], "o1")
    for name in ("h.sqlite", "h.sqlite-wal", "h.sqlite-shm"):
        p = tmp_path / name
        if p.exists():  # -wal and -shm may be gone once the last connection closed
            assert p.stat().st_mode & 0o077 == 0, (name, oct(p.stat().st_mode))
    # an existing history keeps the mode someone gave it (shared by a team, say)
    (tmp_path / "h.sqlite").chmod(0o664)
    public = _file(tmp_path, "b.csv", ["2025-03-02,Tea,-2.00"])
    public.chmod(0o644)
    _run(tmp_path, [public], "o2")
    assert (tmp_path / "h.sqlite").stat().st_mode & 0o777 == 0o664
