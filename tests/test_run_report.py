"""The run's report pieces that pipeline.convert calls: check-warning tallies across chunks."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from csvbridge.mapping import ChunkResult
from csvbridge.reports.ledger import Ledger
from csvbridge.run_report import add_check_warnings


def _chunk(warnings: list[tuple[str, list[int]]], notes: dict[str, dict[int, str]]) -> ChunkResult:
    return ChunkResult(pa.table({}), [], Ledger(), warnings=warnings, notes=notes)


def test_check_warnings_count_every_row_and_keep_the_first_twenty_lines() -> None:
    tallies: dict[str, dict[str, Any]] = {}
    add_check_warnings(tallies, "a.csv", _chunk([("big", list(range(2, 17)))], {}))
    add_check_warnings(
        tallies, "b.csv", _chunk([("big", [5, 6, 7, 8, 9, 10]), ("ref", [3])], {"big": {6: "n"}})
    )
    big = tallies["big"]
    assert big["rows"] == 21
    assert len(big["first"]) == 20
    assert big["first"][14] == {"file": "a.csv", "line": 16}
    assert big["first"][15:17] == [
        {"file": "b.csv", "line": 5},
        {"file": "b.csv", "line": 6, "note": "n"},
    ]
    assert big["first"][-1] == {"file": "b.csv", "line": 9}
    assert tallies["ref"] == {"rows": 1, "first": [{"file": "b.csv", "line": 3}]}
