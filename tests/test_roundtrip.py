"""Round trips: for every writer whose format can be read back, random canonical transactions
are written as a source CSV, converted with a plain mapping, and the target file is read back
by a parser for that format — csv.DictReader, ofxtools, hledger, beancount's loader, a TAB
split for IIF. What comes back must be the same records: amounts to the cent (negative,
zero, up to 10^14 units), dates, and text with non-ASCII letters, quotes, commas, semicolons
and line breaks.

Text a target must alter compares after that target's documented transformation (and only
that one): the mapping trims a cell's ends; the formula guard prefixes ``'``; one-line
targets turn line breaks and tabs into a space; OFX cuts NAME at 32 characters (the whole
description goes to MEMO), collapses white space and writes Windows-1252 in version 1
(``?`` for the rest); hledger turns ``;`` into ``,``; IIF drops ``"``, turns ``;`` into ``,``
and writes Windows-1252 (``?`` for the rest).

CI runs ``EXAMPLES`` examples per target; a longer run:
``CSVBRIDGE_PROPERTY_EXAMPLES=2000 pytest tests/test_roundtrip.py``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import shutil
import subprocess
import tempfile
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from csvbridge import convert

EXAMPLES = int(os.environ.get("CSVBRIDGE_PROPERTY_EXAMPLES", "25"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

MAPPING = """\
name: roundtrip
version: "1"
kind: transaction
dates: YYYY-MM-DD
read:
  delimiter: ","
  encoding: utf-8
fields:
  date: Date
  description: Description
  amount: Amount
  payee: {column: Payee, required: false}
  reference: {column: Reference, required: false}
  currency: {value: GBP}
duplicates: {policy: keep}
"""

OFX_OPTIONS = {"account_id": "12345678", "bank_id": "204567", "ledger_balance": "0"}
OPTIONS: dict[str, dict[str, str]] = {
    "qbo-bank": {"date_order": "dmy"},
    "xero-bank": {"date_order": "dmy"},
    "iif": {"date_order": "dmy", "bank_account": "Bank"},
    "ofx": OFX_OPTIONS,
    "ofx2": OFX_OPTIONS,
}


@dataclass(frozen=True)
class Tx:
    date: dt.date
    cents: int
    description: str
    payee: str
    reference: str

    @property
    def amount(self) -> Decimal:
        return Decimal(self.cents).scaleb(-2)


# -- what a source may hold -------------------------------------------------------------------
SPECIAL = st.sampled_from(
    [",", ";", '"', "'", "\n", "\r\n", "\r", "\t", " ", "  ", "=", "+", "-", "@", "|", "(", ")"]
)
MARKUP = st.sampled_from(["&", "<", ">", "#", ":", "\\", "*", "%", "{", "}", "[", "]", "\xa0"])
NON_ASCII = st.sampled_from(["é", "ß", "ç", "ñ", "€", "£", "Ω", "日本", "😀", "Ä", "ø", "’", "…"])
# Printable text only: NUL is a known bug (test_bad_inputs), and C0 controls are not text.
OTHER = st.characters(codec="utf-8", categories=["L", "M", "N", "P", "S", "Zs"])
TEXT = st.lists(st.one_of(SPECIAL, MARKUP, NON_ASCII, OTHER), max_size=14).map("".join)
DESCRIPTION = TEXT.filter(lambda s: s.strip())
SHORT = st.lists(st.one_of(SPECIAL, MARKUP, NON_ASCII, OTHER), max_size=6).map("".join)
AMOUNTS = st.one_of(
    st.integers(-100_000, 100_000),
    st.integers(-(10**16), 10**16),  # up to 10^14 pounds
    st.sampled_from([0, 1, -1, 99, -99, 100, -100, 10**16 - 1, -(10**16 - 1)]),
)
TXS = st.lists(
    st.builds(
        Tx,
        date=st.dates(dt.date(1900, 1, 1), dt.date(2200, 12, 31)),
        cents=AMOUNTS,
        description=DESCRIPTION,
        payee=SHORT,
        reference=SHORT.map(lambda s: s[:20]),
    ),
    min_size=1,
    max_size=10,
)


def write_source(folder: Path, txs: list[Tx]) -> tuple[Path, Path]:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(["Date", "Description", "Amount", "Payee", "Reference"])
    for t in txs:
        w.writerow([t.date.isoformat(), t.description, str(t.amount), t.payee, t.reference])
    src = folder / "in.csv"
    src.write_text(buf.getvalue(), encoding="utf-8")
    m = folder / "m.yaml"
    m.write_text(MAPPING, encoding="utf-8")
    return src, m


def run(target: str, txs: list[Tx]) -> Path:
    """Convert ``txs`` to ``target``; nothing may be rejected and the tie-out must hold."""
    folder = Path(tempfile.mkdtemp(prefix="rt-"))
    src, m = write_source(folder, txs)
    opts = OPTIONS.get(target, {})
    result = convert([src], m, [target], folder / "out", options=opts, history=False)
    rejects = (folder / "out" / "rejects.csv").read_text("utf-8")
    assert result.rejected == 0, rejects
    assert all(t.ok for t in result.tie_outs)
    return folder / "out"


# -- the documented transformations ----------------------------------------------------------
def trimmed(s: str) -> str:
    """The mapping trims a cell's ends (Unicode white space)."""
    return s.strip()


def guarded(s: str) -> str:
    """The formula guard: text a spreadsheet would run gets a leading ``'``."""
    if re.match(r"[=+\-@\t\r]", s) and not re.fullmatch(r"[-+]?\d[\d.,]*", s):
        return "'" + s
    return s


def one_line(s: str) -> str:
    return re.sub(r"[\r\n\t]+", " ", s)


def collapsed(s: str) -> str:
    """Text on one line with runs of ASCII white space as one space, trimmed (OFX,
    hledger, beancount)."""
    return re.sub(r"[\t\n\f\r ]+", " ", one_line(s)).strip()


def cp1252(s: str) -> str:
    return s.encode("cp1252", errors="replace").decode("cp1252")


def ofx_text(s: str) -> str:
    return re.sub(r"[\x00-\x1f\x7f]+", " ", s).strip()


def iif_text(s: str) -> str:
    s = re.sub(r"[\t\r\n]+", " ", s).replace('"', "").replace(";", ",")
    return cp1252(s.strip())


def canonical_key(t: Tx) -> tuple[Any, ...]:
    return (t.date, t.cents, trimmed(t.description))


# -- readers --------------------------------------------------------------------------------
def read_csv(path: Path, encoding: str = "utf-8") -> list[dict[str, str]]:
    with path.open(encoding=encoding, newline="") as f:
        return list(csv.DictReader(f))


def cents(text: str) -> int:
    value = Decimal(text or "0") * 100
    assert value == value.to_integral_value(), text
    return int(value)


def dmy(text: str) -> dt.date:
    return dt.datetime.strptime(text, "%d/%m/%Y").date()


def back_csv(out: Path) -> list[tuple[Any, ...]]:
    return [
        (dt.date.fromisoformat(r["date"]), cents(r["amount"]), *text_of(r))
        for r in read_csv(out / "transaction.csv")
    ]


def text_of(r: dict[str, str]) -> tuple[str, ...]:
    return (r["description"], r["payee"], r["reference"], r["currency"])


def want_csv(t: Tx) -> tuple[Any, ...]:
    text = (guarded(trimmed(x)) for x in (t.description, t.payee, t.reference))
    return (t.date, t.cents, *text, "GBP")


def back_qbo(out: Path) -> list[tuple[Any, ...]]:
    return [
        (dmy(r["Date"]), cents(r["Amount"]), r["Description"])
        for r in read_csv(out / "qbo-bank.csv")
    ]


def want_qbo(t: Tx) -> tuple[Any, ...]:
    return (t.date, t.cents, guarded(one_line(trimmed(t.description))))


def back_xero(out: Path) -> list[tuple[Any, ...]]:
    return [
        (dmy(r["*Date"]), cents(r["*Amount"]), r["Description"], r["Payee"], r["Reference"])
        for r in read_csv(out / "xero-bank.csv")
    ]


def want_xero(t: Tx) -> tuple[Any, ...]:
    text = (guarded(one_line(trimmed(x))) for x in (t.description, t.payee, t.reference))
    return (t.date, t.cents, *text)


def _ofx(path: Path) -> list[tuple[Any, ...]]:
    ofxtools = pytest.importorskip("ofxtools.Parser", reason="ofxtools is not installed")
    tree = ofxtools.OFXTree()
    tree.parse(str(path))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Encountered private extension tag")
        ofx = tree.convert()
    (stmt,) = ofx.statements
    return [
        (t.dtposted.date(), cents(str(t.trnamt)), t.name or "", t.memo or "", t.refnum or "")
        for t in stmt.transactions
    ]


def want_ofx(t: Tx, v1: bool) -> tuple[Any, ...]:
    desc, payee = collapsed(trimmed(t.description)), collapsed(trimmed(t.payee))
    memo = " / ".join(x for x in (desc if len(desc) > 32 else "", payee) if x)
    enc = cp1252 if v1 else str
    text = (ofx_text(desc[:32]), ofx_text(memo), ofx_text(collapsed(trimmed(t.reference))))
    return (t.date, t.cents, *(enc(x) for x in text))


HLEDGER = shutil.which("hledger")


def back_hledger(out: Path) -> list[tuple[Any, ...]]:
    if HLEDGER is None:
        pytest.skip("hledger is not installed (apt-get install hledger)")
    done = subprocess.run(
        [HLEDGER, "-f", str(out / "hledger.journal"), "print", "-O", "csv"],
        capture_output=True,
        text=True,
        encoding="utf-8",
    )
    assert done.returncode == 0, done.stderr
    rows = csv.DictReader(io.StringIO(done.stdout))
    return [
        (dt.date.fromisoformat(r["date"]), cents(r["amount"]), r["description"])
        for r in rows
        if r["account"] == "Assets:Bank"
    ]


def want_hledger(t: Tx) -> tuple[Any, ...]:
    text = collapsed(trimmed(t.description)).replace(";", ",")
    payee = collapsed(trimmed(t.payee))
    if payee:
        text = f"{payee.replace(';', ',').replace('|', '/')} | {text}"
    return (t.date, t.cents, text)


def back_beancount(out: Path) -> list[tuple[Any, ...]]:
    loader = pytest.importorskip("beancount.loader", reason="beancount is not installed")
    entries, errors, _ = loader.load_file(str(out / "beancount.beancount"))
    assert errors == [], errors
    got = []
    for e in entries:
        for p in getattr(e, "postings", None) or []:
            if p.account == "Assets:Bank":
                text = (e.narration, e.payee or "", e.meta.get("reference", ""))
                got.append((e.date, cents(str(p.units.number)), *text))
    return got


def want_beancount(t: Tx) -> tuple[Any, ...]:
    text = (collapsed(trimmed(x)) for x in (t.description, t.payee, t.reference))
    return (t.date, t.cents, *text)


def back_iif(out: Path) -> list[tuple[Any, ...]]:
    raw = (out / "iif.iif").read_bytes()
    assert b'"' not in raw
    lines = raw.decode("cp1252").split("\r\n")
    assert lines[-1] == ""
    head = {}
    got = []
    for line in lines[:-1]:
        cells = line.split("\t")
        if cells[0].startswith("!"):
            head[cells[0][1:]] = cells
            continue
        assert len(cells) == len(head[cells[0]]), line
        if cells[0] == "TRNS":
            r = dict(zip(head["TRNS"], cells, strict=True))
            got.append((dmy(r["DATE"]), cents(r["AMOUNT"]), r["MEMO"], r["NAME"]))
    return got


def want_iif(t: Tx) -> tuple[Any, ...]:
    # cleaned for IIF, then guarded (users edit IIF files in Excel)
    text = (guarded(iif_text(trimmed(x))) for x in (t.description, t.payee))
    return (t.date, t.cents, *text)


READERS: dict[str, tuple[Callable[[Path], list[Any]], Callable[[Tx], Any]]] = {
    "csv": (back_csv, want_csv),
    "qbo-bank": (back_qbo, want_qbo),
    "xero-bank": (back_xero, want_xero),
    "ofx": (lambda out: _ofx(out / "ofx.ofx"), lambda t: want_ofx(t, v1=True)),
    "ofx2": (lambda out: _ofx(out / "ofx2.ofx"), lambda t: want_ofx(t, v1=False)),
    "hledger": (back_hledger, want_hledger),
    "beancount": (back_beancount, want_beancount),
    "iif": (back_iif, want_iif),
}

TRICKY = [
    Tx(dt.date(2024, 2, 29), -123456, ' =SUM(A1) ; "quoted", comma ', "Café; Ltd", "R-1"),
    Tx(dt.date(1999, 12, 31), 10**16 - 1, "line one\nline two\r\nthree", "", ""),
    Tx(dt.date(2025, 1, 1), 0, "日本 😀 — €£ " + "x" * 40, "@payee", "+44"),
    Tx(dt.date(2025, 1, 1), -1, "-", "", "-5"),
]


@pytest.mark.parametrize("target", list(READERS))
@SETTINGS
@example(txs=TRICKY)
@given(txs=TXS)
def test_reading_back_what_we_wrote_gives_the_same_records(target: str, txs: list[Tx]) -> None:
    back, want = READERS[target]
    out = run(target, txs)
    try:
        got = back(out)
    finally:
        shutil.rmtree(out.parent, ignore_errors=True)
    assert Counter(got) == Counter(want(t) for t in txs)


def test_the_model_of_the_guard_matches_the_writers() -> None:
    assert guarded("=1") == "'=1" and guarded("-5") == "-5" and guarded("-") == "'-"
    assert guarded("12,50") == "12,50" and guarded("@x") == "'@x" and guarded("a=b") == "a=b"
    assert collapsed(" a \r\n\t b ") == "a b" and iif_text(' a;"b"\t') == "a,b"
    assert canonical_key(TRICKY[0])[2].startswith("=SUM")
