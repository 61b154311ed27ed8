"""Profiling one column from all its values, chunk by chunk: is it dates (in which format),
numbers (with which decimal mark and thousands separator), or text? Decisions are taken from
the whole column and carry a confidence; a column that cannot decide (every day ≤ 12, every
number shaped 1.234) says so instead of guessing."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..dates import parse_dates
from ..money import NumberFormat, parse_money

_SEPS = ("/", "-", ".", " ")
DATE_CANDIDATES: tuple[str, ...] = (
    *(f"DD{s}MM{s}YYYY" for s in _SEPS),
    *(f"MM{s}DD{s}YYYY" for s in _SEPS),
    *(f"YYYY{s}MM{s}DD" for s in ("-", "/", ".")),
    *(f"DD{s}MM{s}YY" for s in ("/", "-", ".")),
    *(f"MM{s}DD{s}YY" for s in ("/", "-", ".")),
    "YYYYMMDD",
    "D MMM YYYY",
    "DD-MMM-YYYY",
    "DD-MMM-YY",
    "D MMMM YYYY",
    "MMM D YYYY",
    "MMM D, YYYY",
    "YYYY-MM-DD HH:mm:ss",
    "YYYY-MM-DDTHH:mm:ss",
    "DD/MM/YYYY HH:mm:ss",
    "MM/DD/YYYY HH:mm:ss",
    "DD/MM/YYYY HH:mm",
    "MM/DD/YYYY HH:mm",
    "DD.MM.YYYY HH:mm",
)
_NUMERIC_MONTH = re.compile(r"(?<!M)MM(?!M)")


def _swap(fmt: str) -> str:
    """The same format with numeric day and month swapped (itself if it has no such pair)."""
    if "DD" not in fmt or not _NUMERIC_MONTH.search(fmt):
        return fmt
    return _NUMERIC_MONTH.sub("\0", fmt).replace("DD", "MM").replace("\0", "DD")


_SWAPPED = {f: _swap(f) for f in DATE_CANDIDATES}
VOTE_LIMIT = 100_000  # values per column that vote on the decimal mark (parse counts use all)

NUMBER_CANDIDATES: tuple[NumberFormat, ...] = (
    NumberFormat(".", None),
    NumberFormat(".", ","),
    NumberFormat(",", None),
    NumberFormat(",", "."),
    NumberFormat(",", " "),
    NumberFormat(".", " "),
    NumberFormat(".", "'"),
)
_NUM_SHAPE = re.compile(r"[-+(]?\s*(?:[£$€¥]|[A-Z]{3})?\s*\d[\d.,' ]*\)?\s*(?:-|CR|DR|[A-Z]{3})?")
_DECIMAL_EVIDENCE = re.compile(r"\d([.,])(\d{1,2}|\d{4,})(?:\D*)$")  # 1.5 12,50 1.0000
_BOTH_MARKS = re.compile(r"\d[.,' ]\d{3}([.,])\d+\D*$")  # 1,234.56 1.234,56 1 234,56
_CURRENCY_SIGNS = {"£": "GBP", "€": "EUR", "¥": "JPY", "₹": "INR", "$": "$"}


@dataclass
class ColumnStats:
    """Running evidence about one column, merged over chunks."""

    name: str
    values: int = 0  # non-empty cells
    date_ok: dict[str, int] = field(default_factory=lambda: dict.fromkeys(DATE_CANDIDATES, 0))
    number_ok: dict[NumberFormat, int] = field(
        default_factory=lambda: dict.fromkeys(NUMBER_CANDIDATES, 0)
    )
    decimal_votes: dict[str, int] = field(default_factory=lambda: {".": 0, ",": 0})
    negatives: dict[str, int] = field(
        default_factory=lambda: {"-1": 0, "(1)": 0, "1-": 0, "CR/DR": 0}
    )
    symbols: dict[str, int] = field(default_factory=dict)
    distinct: set[str] = field(default_factory=set)
    max_len: int = 0
    examples: list[str] = field(default_factory=list)

    def add(self, col: pa.Array | pa.ChunkedArray) -> None:
        """Take in one chunk of the column's text."""
        if isinstance(col, pa.ChunkedArray):
            col = col.combine_chunks()
        text = pc.utf8_trim_whitespace(pc.fill_null(col, ""))
        present = pc.not_equal(text, "")
        vals = pc.filter(text, present)
        n = len(vals)
        if not n:
            return
        self.values += n
        if len(self.examples) < 5:
            self.examples += [v for v in vals.slice(0, 5 - len(self.examples)).to_pylist()]
        if len(self.distinct) <= 50:
            self.distinct.update(pc.unique(vals.slice(0, 2000)).to_pylist()[:60])
        self.max_len = max(self.max_len, int(pc.max(pc.utf8_length(vals)).as_py() or 0))
        for fmt in DATE_CANDIDATES:
            if self.date_ok[fmt] >= 0:
                ok = int(parse_dates(vals, (fmt,)).ok.sum())
                # a format that failed most of the first chunk is dropped (cost control)
                self.date_ok[fmt] = self.date_ok[fmt] + ok if ok * 2 >= n else -(10**12)
        numeric = np.asarray(pc.match_substring_regex(vals, _NUM_SHAPE.pattern), dtype=bool)
        if numeric.mean() < 0.5:
            for nf in NUMBER_CANDIDATES:
                self.number_ok[nf] = -(10**12)
            return
        for nf in NUMBER_CANDIDATES:
            if self.number_ok[nf] >= 0:
                self.number_ok[nf] += int(parse_money(vals, 6, nf).ok.sum())
        if self.values - n >= VOTE_LIMIT:
            return
        strings = vals.to_pylist()
        for s in strings:
            both = _BOTH_MARKS.search(s)
            if both:
                self.decimal_votes[both.group(1)] += 1
                continue
            one = _DECIMAL_EVIDENCE.search(s)
            if one and s.count(one.group(1)) == 1:
                self.decimal_votes[one.group(1)] += 1
            if s.count(".") > 1 and "," not in s:
                self.decimal_votes[","] += 1  # 1.234.567: '.' groups thousands
            if s.count(",") > 1 and "." not in s:
                self.decimal_votes["."] += 1
            if s.startswith("(") and s.endswith(")"):
                self.negatives["(1)"] += 1
            elif s.startswith("-"):
                self.negatives["-1"] += 1
            elif s.endswith("-"):
                self.negatives["1-"] += 1
            elif s.upper().endswith(("CR", "DR")):
                self.negatives["CR/DR"] += 1
            for sign, code in _CURRENCY_SIGNS.items():
                if sign in s:
                    self.symbols[code] = self.symbols.get(code, 0) + 1


@dataclass
class Decision:
    """What a column is, with a confidence and, when unsure, why."""

    value: Any
    confidence: float
    reason: str = ""
    alternatives: list[Any] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"value": self.value, "confidence": round(self.confidence, 3)}
        if self.reason:
            out["reason"] = self.reason
        if self.alternatives:
            out["alternatives"] = self.alternatives
        return out


def decide_date(stats: ColumnStats) -> Decision | None:
    """The column's date format, if it is a date column; ambiguous day/month is reported."""
    if not stats.values:
        return None
    fits = {f: c for f, c in stats.date_ok.items() if c > 0 and c >= 0.95 * stats.values}
    if not fits:
        return None
    best = max(fits.values())
    top = sorted(f for f, c in fits.items() if c == best)
    swapped = [f for f in top if _SWAPPED[f] in top and _SWAPPED[f] != f]
    share = best / stats.values
    if swapped:
        day_first = sorted(f for f in swapped if f.index("DD") < f.index("MM"))
        return Decision(
            None,
            0.0,
            "every date in the column fits both day-first and month-first "
            f"({' and '.join(sorted(swapped))}): no day is above 12, so the order cannot be "
            "told from the data",
            alternatives=day_first + [_SWAPPED[f] for f in day_first],
        )
    return Decision(top[0], share, alternatives=top[1:])


def decide_number(stats: ColumnStats) -> Decision | None:
    """The column's number format, if it is a number column."""
    if not stats.values:
        return None
    fits = {nf: c for nf, c in stats.number_ok.items() if c >= 0.95 * stats.values}
    if not fits:
        return None
    dot, comma = stats.decimal_votes["."], stats.decimal_votes[","]
    share = max(fits.values()) / stats.values
    if dot and comma:
        mark = "." if dot >= comma else ","
        conf = max(dot, comma) / (dot + comma)
        reason = f"mixed evidence: {dot} values read '.' as the decimal mark, {comma} read ','"
    elif dot or comma:
        mark, conf, reason = ("." if dot else ","), 1.0, ""
    else:
        plain = NumberFormat(".", None)
        if plain in fits and all("," not in v and "." not in v for v in list(stats.distinct)[:50]):
            return Decision(_fmt(plain), share, "whole numbers")
        return Decision(
            None,
            0.0,
            "no value shows which mark is decimal (every one looks like 1.234 or 1,234)",
            alternatives=[_fmt(nf) for nf in fits],
        )
    ranked = sorted(
        (nf for nf in fits if nf.decimal == mark),
        key=lambda nf: (-fits[nf], nf.thousands is not None),
    )
    if not ranked:
        return Decision(None, 0.0, f"the values suggest '{mark}' as decimal mark but do not parse")
    return Decision(_fmt(ranked[0]), share * conf, reason)


def _fmt(nf: NumberFormat) -> dict[str, str | None]:
    return {"decimal": nf.decimal, "thousands": nf.thousands}


def negative_style(stats: ColumnStats) -> str | None:
    """How the column writes negatives, if any: -1, (1), 1- or CR/DR."""
    used = {k: v for k, v in stats.negatives.items() if v}
    return max(used, key=lambda k: used[k]) if used else None
