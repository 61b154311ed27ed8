"""doc_totals.StatedTotals keeps documents' stated totals as arrays: on random inputs it must
say what the dict-of-tuples version it replaced said (kept below as the reference)."""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from csvbridge import doc_totals
from csvbridge.doc_totals import StatedTotals, key_hashes
from csvbridge.money import format_one


@dataclass
class ReferenceTotals:
    """The dict version (csvbridge.documents.StatedTotals before it became arrays)."""

    column: str
    tolerance: Decimal
    stated: dict[str, tuple[int, int, str, int]] = field(default_factory=dict)
    conflicts: dict[str, tuple[int, int]] = field(default_factory=dict)

    def add(
        self, docs: list[str], minor: list[int], exps: list[int], file: str, lines: list[int]
    ) -> None:
        for doc, v, e, ln in zip(docs, minor, exps, lines, strict=True):
            first = self.stated.setdefault(doc, (v, e, file, ln))
            if first[0] != v and doc not in self.conflicts:
                self.conflicts[doc] = (v, ln)

    def message(self, kind: str, doc: str, total: int) -> str | None:
        v, exp, file, line = self.stated[doc]
        if doc in self.conflicts:
            other, ln = self.conflicts[doc]
            return (
                f"{kind} {doc} states two totals in {self.column}: {format_one(v, exp)} "
                f"(line {line}) and {format_one(other, exp)} (line {ln}); fix the source"
            )
        diff = total - v
        if abs(Decimal(diff).scaleb(-exp)) <= self.tolerance:
            return None
        return (
            f"the lines of {kind} {doc} add up to {format_one(total, exp)}, and its stated "
            f"total ({self.column}, {file} line {line}) is {format_one(v, exp)}: a difference "
            f"of {format_one(diff, exp)}; check for a missing or mistyped line (or set "
            f"documents.total_tolerance for a source that rounds each line)"
        )


DOCS = st.sampled_from(["#1", "#2", "#10", "", "é-3", "a\x00", "a", "INV " * 30, "b"])
ROW = st.tuples(DOCS, st.sampled_from([0, 1, 100, -5, 2**62, -(2**63)]), st.sampled_from([0, 2, 3]))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(["a.csv", "b.csv"]), st.lists(ROW, max_size=8)), max_size=6),
    st.lists(
        st.tuples(DOCS, st.sampled_from([0, 1, 2, 99, 100, -5, 2**62, 2**63 - 1])), max_size=12
    ),
    st.sampled_from([Decimal(0), Decimal("0.01"), Decimal("1.5"), Decimal(10) ** 30]),
    st.booleans(),
)
@example([("a.csv", [("#1", -(2**63), 0)])], [("#1", 0)], Decimal(0), False)  # |x| overflows
def test_stated_totals_agree_with_the_dict_version(
    adds: list[tuple[str, list[tuple[str, int, int]]]],
    checks: list[tuple[str, int]],
    tolerance: Decimal,
    look_between: bool,
) -> None:
    ref = ReferenceTotals("Total", tolerance)
    new = StatedTotals("Total", "error", tolerance)
    line = 2
    for file, rows in adds:
        lines = list(range(line, line + len(rows)))
        line += len(rows)
        docs, minor, exps = [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]
        ref.add(docs, minor, exps, file, lines)
        new.add(pa.array(docs, pa.string()), minor, exps, file, lines)
        if look_between:  # merging part way through must not change the answers
            new.find(pa.array(["#1"]))
    new = pickle.loads(pickle.dumps(new))  # the state is handed between engine workers
    assert len(new) == len(ref.stated)
    want: dict[str, str] = {}
    for doc, total in checks:
        if doc in ref.stated:
            why = ref.message("invoice", doc, total)
            if why is not None:
                want[doc] = why
    names = pa.array([d for d, _ in checks], pa.string())
    sums = np.array([t for _, t in checks], dtype=np.int64)
    assert new.failing("invoice", names, sums) == want


def test_every_key_on_one_hash_still_finds_its_own_total(monkeypatch: pytest.MonkeyPatch) -> None:
    def one_hash(keys: pa.Array) -> np.ndarray:
        return np.zeros(len(keys), dtype=np.uint64)

    monkeypatch.setattr(doc_totals, "key_hashes", one_hash)
    totals = StatedTotals("Total", "error", Decimal(0))
    totals.add(pa.array(["C", "A"]), [3, 1], [2, 2], "f.csv", [2, 3])
    totals.add(pa.array(["B", "A"]), [2, 5], [2, 2], "f.csv", [4, 5])
    got = totals.failing("invoice", pa.array(["C", "A", "Z", "B"]), np.array([3, 1, 0, 7]))
    assert sorted(got) == ["A", "B"]
    assert "states two totals in Total: 0.01 (line 3) and 0.05 (line 5)" in got["A"]
    assert "add up to 0.07" in got["B"]


def test_key_hashes_are_those_of_the_text() -> None:
    keys = pa.array(["#1001", "", None, "#1001", "é", "#1002"], pa.string())
    h = key_hashes(keys)
    assert h[0] == h[3] and h[1] == h[2]
    assert len({int(x) for x in h[[0, 1, 4, 5]]}) == 4
    assert (key_hashes(keys.slice(3)) == h[3:]).all()
