"""The progress bar: drawn only on a terminal, from rows and the inputs' estimated sizes."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import xlsxwriter
from click.testing import CliRunner

from csvbridge.cli import main
from csvbridge.pipeline import convert
from csvbridge.progress import ProgressBar, estimate_rows

from .conftest import SIMPLE_MAPPING


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def _wide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")


def _csv(tmp_path: Path, rows: int, name: str = "in.csv", end: str = "\n") -> Path:
    p = tmp_path / name
    lines = ["Date,Description,Amount"] + [f"01/02/2024,Coffee {i},-3.50" for i in range(rows)]
    p.write_text(end.join(lines) + end, encoding="utf-8", newline="")
    return p


def test_estimates_rows_of_text_files(tmp_path: Path) -> None:
    assert estimate_rows(_csv(tmp_path, 10)) == 11  # small: counted
    assert estimate_rows(_csv(tmp_path, 10, end="\r\n")) == 11
    assert estimate_rows(_csv(tmp_path, 10, end="\r")) == 11
    big = estimate_rows(_csv(tmp_path, 100_000))  # sampled
    assert big is not None and abs(big - 100_001) < 1000
    p = tmp_path / "u16.csv"
    p.write_text("a,b\n1,2\n3,4\n", encoding="utf-16")
    assert estimate_rows(p) == 3
    assert estimate_rows(tmp_path / "missing.csv") is None


def test_estimates_rows_of_xlsx(tmp_path: Path) -> None:
    p = tmp_path / "in.xlsx"
    book = xlsxwriter.Workbook(str(p))
    sheet = book.add_worksheet()
    for r in range(500):
        sheet.write_row(r, 0, ["01/02/2024", f"Coffee {r}", -3.5])
    book.close()
    assert estimate_rows(p) == 500
    assert estimate_rows(tmp_path / "x.xls") is None
    (tmp_path / "x.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    assert estimate_rows(tmp_path / "x.xls") is None


def test_quiet_off_a_terminal_or_when_disabled(tmp_path: Path) -> None:
    src = _csv(tmp_path, 10)
    for stream, enabled in ((io.StringIO(), True), (Terminal(), False)):
        bar = ProgressBar([src], stream=stream, enabled=enabled)
        with bar:
            bar(5)
            bar(5)
        assert stream.getvalue() == ""
        assert bar.rows == 10  # still counted


def test_draws_rows_bytes_rate_and_time_left(tmp_path: Path) -> None:
    src = _csv(tmp_path, 999)
    clock, term = Clock(), Terminal()
    with ProgressBar([src], stream=term, clock=clock, interval=0.5) as bar:
        clock.now += 1.0
        bar(250)
        first = term.getvalue()
        clock.now += 0.1
        bar(250)  # within the interval: not drawn
        assert term.getvalue() == first
        clock.now += 1.0
        bar(250)
        text = term.getvalue().rsplit("\r", 1)[-1]
    size = src.stat().st_size
    assert first.startswith("\r[#####---------------]  25%  250/~1,000 rows")
    assert "750/~1,000 rows" in text and " 75%" in text
    assert f"{size * 0.75 / 1000:.1f} KB/{size / 1000:.1f} KB" in text
    assert "357 rows/s" in text  # 750 rows in 2.1 s
    assert "0:01 left" in text  # 250 rows at 357/s
    assert term.getvalue().endswith("\r" + " " * len(text) + "\r")  # cleared when closed


def test_unknown_total_shows_rows_and_rate(tmp_path: Path) -> None:
    clock, term = Clock(), Terminal()
    bar = ProgressBar([tmp_path / "gone.csv"], stream=term, clock=clock)
    clock.now += 2.0
    bar(1000)
    assert term.getvalue() == "\r1,000 rows  500 rows/s  0:02 elapsed"


def test_more_rows_than_estimated_stops_at_full(tmp_path: Path) -> None:
    clock, term = Clock(), Terminal()
    bar = ProgressBar([_csv(tmp_path, 9)], stream=term, clock=clock)
    clock.now += 1
    bar(50)
    assert "[####################] 100%  50/~50 rows" in term.getvalue()
    assert "0:00 left" in term.getvalue()


def test_fits_the_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "30")
    term = Terminal()
    bar = ProgressBar([_csv(tmp_path, 9)], stream=term)
    bar(5)
    assert len(term.getvalue()) == 1 + 29


def test_as_converts_on_chunk(tmp_path: Path) -> None:
    src = _csv(tmp_path, 120)
    mapping = tmp_path / "m.yaml"
    mapping.write_text(SIMPLE_MAPPING, encoding="utf-8")
    term = Terminal()
    with ProgressBar([src], stream=term, interval=0) as bar:
        convert([src], mapping, ["csv"], tmp_path / "out", chunk_rows=50, on_chunk=bar)
    assert bar.rows == 120
    assert term.getvalue().count("\r") == 3 + 2  # a draw per chunk, then cleared
    assert "120/~121 rows" in term.getvalue()


def _cli_stderr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *extra: str) -> str:
    """``csvbridge convert`` in-process with stderr seen as a terminal; its stderr."""
    from csvbridge import progress

    monkeypatch.setattr(progress, "_is_terminal", lambda stream: True)
    src = _csv(tmp_path, 60)
    mapping = tmp_path / "m.yaml"
    mapping.write_text(SIMPLE_MAPPING, encoding="utf-8")
    args = [str(src), "-m", str(mapping), "--to", "csv", "-o", str(tmp_path / "out")]
    result = CliRunner().invoke(main, ["convert", *args, "--chunk-rows", "20", *extra])
    assert result.exit_code == 0, result.output
    return result.stderr


def test_convert_draws_the_bar_on_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    err = _cli_stderr(tmp_path, monkeypatch)
    assert "/~61 rows" in err and "rows/s" in err
    assert err.endswith("\r")  # cleared before the summary


def test_convert_quiet_draws_no_bar(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _cli_stderr(tmp_path, monkeypatch, "--quiet") == ""


def test_convert_off_a_terminal_draws_no_bar(tmp_path: Path) -> None:
    src = _csv(tmp_path, 60)
    mapping = tmp_path / "m.yaml"
    mapping.write_text(SIMPLE_MAPPING, encoding="utf-8")
    args = [str(src), "-m", str(mapping), "--to", "csv", "-o", str(tmp_path / "out")]
    result = CliRunner().invoke(main, ["convert", *args])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""


def test_narrow_terminal_drops_the_bar_before_the_figures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    clock, term = Clock(), Terminal()
    bar = ProgressBar([_csv(tmp_path, 200_000)], stream=term, clock=clock)
    clock.now += 1
    bar(25_000)
    text = term.getvalue().lstrip("\r")
    assert not text.startswith("[") and text.startswith("12%")
    assert text.endswith(" left") and len(text) <= 79
