"""The CSV lines of writers whose cells depend only on the records are made on the thread that
maps the chunks: the files are the same bytes as when the writing thread makes them, through
held duplicates and records a writer refuses (another currency, text too long)."""

from __future__ import annotations

from pathlib import Path

import pytest

from csvbridge.pipeline import convert
from csvbridge.writers.base import CsvWriter

from .conftest import write_case

MAPPING = """\
name: prep
version: "1"
kind: transaction
dates: DD/MM/YYYY
fields:
  date: Date
  description: Description
  amount: Amount
  balance: Balance
  currency: Currency
duplicates:
  policy: skip
"""


def _subclasses(cls: type) -> list[type]:
    out = []
    for sub in cls.__subclasses__():
        out += [sub, *_subclasses(sub)]
    return out


def test_a_pure_writer_writes_through_the_shared_code() -> None:
    """A writer marked pure_cells writes exactly as CsvWriter does: the prepared lines are
    used only where nothing of it decides otherwise."""
    from csvbridge.writers import TARGETS

    list(TARGETS.values())  # every writer module imported

    pure = [c for c in _subclasses(CsvWriter) if c.pure_cells]
    assert {c.__name__ for c in pure} >= {"QboBankWriter", "QboBank4Writer", "XeroBankWriter"}
    for c in pure:
        for name in ("write", "write_prepared", "lines"):
            assert getattr(c, name) is getattr(CsvWriter, name), (c.__name__, name)


def test_lines_made_beside_the_reading_are_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = []
    for i in range(2400):
        currency = "USD" if i % 397 == 5 else "GBP"  # refused by the one-currency targets
        text = "x" * 260 if i % 251 == 7 else f"Item {i}, =shop"  # qbo-bank4 caps descriptions
        rows.append(f'{1 + i % 28:02d}/01/2025,"{text}",{i}.50,{1000 + i}.00,{currency}')
    rows += rows[100:130]  # exported twice (same balance): held back as duplicates
    src, m = write_case(
        tmp_path, "Date,Description,Amount,Balance,Currency\n" + "\n".join(rows) + "\n", MAPPING
    )
    targets = ["qbo-bank", "qbo-bank4", "xero-bank", "csv"]
    outs = {}
    for pure in (True, False):
        for c in _subclasses(CsvWriter):
            if "pure_cells" in vars(c):
                monkeypatch.setattr(c, "pure_cells", pure)
        out = tmp_path / f"out{pure}"
        convert(
            [src], m, targets, out, options={"date_order": "dmy"}, history=False, chunk_rows=300
        )
        outs[pure] = {p.name: p.read_bytes() for p in sorted(out.iterdir())}
    assert outs[True].keys() == outs[False].keys()
    for name, data in outs[True].items():
        if name.startswith("report."):
            continue  # they hold the run's time
        assert data == outs[False][name], name
    rejects = outs[True]["rejects.csv"].decode()
    assert "currency-mismatch" in rejects and "text-too-long" in rejects
    assert outs[True]["duplicates.csv"].count(b"\n") > 30
