"""Generate a deterministic, realistic UK-style bank statement CSV for benchmarking.

Usage::

    python benchmarks/generate.py --rows 1000000 --out /tmp/statement_1m.csv [--seed 1]

Output (UTF-8, comma-delimited, RFC 4180 quoting, ``\\n`` line endings)::

    Date,Description,Reference,Debit,Credit,Balance,Category

* ``Date`` is DD/MM/YYYY, ascending, several rows per day, spanning up to four years.
* ``Description`` is merchant/payee text; some values contain commas and double quotes.
* ``Reference`` is ``REF`` + 8 digits, or empty.
* Exactly one of ``Debit``/``Credit`` is filled; amounts have 2 decimals and thousands
  separators (``"1,234.56"``, quoted because of the comma).
* ``Balance`` is the exact running balance (integer pence internally), may be ``-``-prefixed.
* About 0.1% of rows are exact duplicates of the previous row (the bank exported the same
  line twice: same date, description, reference, amounts, balance and category).  The
  balance is therefore consistent once duplicates are dropped.

``--kind orders`` writes a Shopify-style orders export instead (an order's lines share its
``Name``; totals on the first line), for grouping lines into documents. An ``--out`` ending in
``.xlsx`` writes the statement as a workbook (real dates, amounts as numbers)::

    python benchmarks/generate.py --rows 100000 --out /tmp/statement_100k.xlsx
    python benchmarks/generate.py --kind orders --rows 1000000 --out /tmp/orders_1m.csv

The same ``--rows``/``--seed`` always produce byte-identical output.  Rows are streamed in
chunks, so memory stays bounded (10M rows is fine); 1M rows (~90 MB) takes a few seconds.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
import sys
from pathlib import Path

HEADER = ["Date", "Description", "Reference", "Debit", "Credit", "Balance", "Category"]
CHUNK = 20_000
DUPLICATE_RATE = 0.001
START = dt.date(2021, 1, 4)
MAX_DAYS = 4 * 365
LOW_BALANCE = 150_000  # pence; below this, transfers are more often incoming

# category -> (weight, merchants, min pence, max pence, probability of being a credit)
CATEGORIES: dict[str, tuple[int, list[str], int, int, float]] = {
    "GROCERIES": (
        30,
        [
            "TESCO STORES {n}",
            "SAINSBURYS S/MKTS",
            "ASDA SUPERSTORE {n}",
            "LIDL GB {town}",
            "ALDI {n} {town}",
            "WAITROSE {n}",
            "M&S SIMPLY FOOD {n}",
            "CO-OP GROUP {n}, {town}",
            'MORRISONS "DAILY" {n}',
            "OCADO RETAIL LTD",
        ],
        150,
        18_000,
        0.01,
    ),
    "DINING": (
        22,
        [
            "PRET A MANGER {n}",
            "COSTA COFFEE {n}",
            "STARBUCKS {town}",
            'CAFE "THE DAILY GRIND"',
            "DELIVEROO, {town}",
            "JUST EAT.CO.UK LTD",
            "NANDOS {town}",
            "GREGGS PLC {n}",
            'THE "KINGS ARMS", {town}',
            "WAGAMAMA {n}",
        ],
        180,
        9_500,
        0.01,
    ),
    "TRAVEL": (
        14,
        [
            "TFL TRAVEL CH",
            "TRAINLINE.COM",
            "UBER *TRIP {n}",
            "SHELL {town} {n}",
            "BP {town}",
            "NATIONAL RAIL, {town}",
            "EASYJET {n}",
            'NCP CAR PARK "{town}"',
        ],
        170,
        45_000,
        0.02,
    ),
    "UTILITIES": (
        8,
        [
            "BRITISH GAS",
            "OCTOPUS ENERGY",
            "THAMES WATER UTILITIES",
            "BT GROUP PLC",
            "VIRGIN MEDIA, DD",
            "EE LIMITED",
            "{town} COUNCIL TAX",
        ],
        1_500,
        32_000,
        0.03,
    ),
    "FEES": (
        4,
        [
            "OVERDRAFT FEE",
            "MONTHLY ACCOUNT FEE",
            'NON-STERLING TRANSACTION FEE "VISA"',
            "UNPAID ITEM CHARGE",
        ],
        50,
        3_500,
        0.05,
    ),
    "TRANSFER": (
        12,
        [
            "FASTER PAYMENT TO J SMITH",
            "TFR TO SAVINGS {n}",
            "STANDING ORDER, MUM & DAD",
            'PAYMENT FROM "A. PATEL"',
            "BANK GIRO CREDIT {n}",
            "MONZO TOPUP",
        ],
        1_000,
        250_000,
        0.45,
    ),
    "RENT": (
        3,
        [
            "FOXTONS LTD RENT",
            "LANDLORD, FLAT {n}",
            'HOMES "R" US LETTINGS',
            "RENT {town}",
        ],
        65_000,
        240_000,
        0.0,
    ),
    "SALARY": (
        3,
        [
            "ACME WIDGETS LTD SALARY",
            "NHS PAYROLL",
            '"BIGCORP, PLC" PAY',
            "HMRC TAX REFUND",
            "{town} UNIVERSITY PAYROLL",
        ],
        120_000,
        650_000,
        1.0,
    ),
}
PREFIX = {
    "GROCERIES": "CARD PAYMENT TO ",
    "DINING": "CARD PAYMENT TO ",
    "TRAVEL": "CARD PAYMENT TO ",
    "UTILITIES": "DIRECT DEBIT TO ",
    "RENT": "STANDING ORDER TO ",
    "SALARY": "BACS CREDIT FROM ",
}
MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
TOWNS = [
    "LONDON",
    "MANCHESTER",
    "LEEDS",
    "BRISTOL",
    "GLASGOW",
    "CARDIFF",
    "YORK",
    "BRIGHTON",
    "NEWCASTLE",
    "EDINBURGH",
    "OXFORD",
    "NOTTINGHAM",
]


def money(pence: int) -> str:
    """Format integer pence as ``-1,234.56`` (no float arithmetic)."""
    sign = "-" if pence < 0 else ""
    whole, frac = divmod(abs(pence), 100)
    return f"{sign}{whole:,}.{frac:02d}"


def day_count(rows: int) -> int:
    """Number of calendar days the statement spans (several rows per day)."""
    return max(1, min(MAX_DAYS, rows // 4))


def generate(rows: int, out: Path, seed: int = 1) -> None:
    """Stream ``rows`` data rows (plus header) to ``out``."""
    rng = random.Random(seed)
    names = list(CATEGORIES)
    cum_weights: list[int] = []
    total = 0
    for name in names:
        total += CATEGORIES[name][0]
        cum_weights.append(total)
    days = day_count(rows)
    date_cache: dict[int, str] = {}
    card_suffix = ""
    balance = 250_000  # opening balance in pence
    prev: list[str] | None = None

    with out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(HEADER)
        buf: list[list[str]] = []
        for i in range(rows):
            if prev is not None and rng.random() < DUPLICATE_RATE:
                row = prev  # exported twice: identical row, balance unchanged
            else:
                day = i * days // rows
                date = date_cache.get(day)
                if date is None:
                    date = (START + dt.timedelta(days=day)).strftime("%d/%m/%Y")
                    date_cache = {day: date}
                    d = START + dt.timedelta(days=day)
                    card_suffix = f" ON {d.day:02d} {MONTHS[d.month - 1]}"  # locale-independent
                cat = rng.choices(names, cum_weights=cum_weights)[0]
                _, merchants, lo, hi, p_credit = CATEGORIES[cat]
                desc = rng.choice(merchants)
                if "{" in desc:
                    desc = desc.format(n=rng.randint(10, 9999), town=rng.choice(TOWNS))
                if cat in PREFIX:
                    desc = PREFIX[cat] + desc
                    if desc.startswith("CARD"):
                        desc += card_suffix
                ref = f"REF{rng.randrange(10**8):08d}" if rng.random() < 0.6 else ""
                amount = rng.randint(lo, hi)
                if cat == "TRANSFER" and balance < LOW_BALANCE:
                    p_credit = 0.7  # top up from savings: keeps the balance near zero
                if rng.random() < p_credit:
                    balance += amount
                    debit, credit = "", money(amount)
                else:
                    balance -= amount
                    debit, credit = money(amount), ""
                row = [date, desc, ref, debit, credit, money(balance), cat]
            buf.append(row)
            prev = row
            if len(buf) >= CHUNK:
                writer.writerows(buf)
                buf.clear()
        writer.writerows(buf)


ORDER_HEADER = [
    "Name",
    "Created at",
    "Financial Status",
    "Currency",
    "Lineitem quantity",
    "Lineitem name",
    "Lineitem price",
    "Lineitem sku",
    "Subtotal",
    "Shipping",
    "Taxes",
    "Total",
    "Email",
]
PRODUCTS = [
    ("Organic Cotton T-Shirt", 1800),
    ("Merino Wool Socks, 3 pack", 1450),
    ('Canvas Tote "Everyday"', 2200),
    ("Ceramic Mug", 1200),
    ("Linen Napkins, set of 4", 2600),
    ("Beeswax Candle", 950),
    ("Leather Card Holder", 3500),
    ("Gift Card", 2500),
]


def generate_orders(rows: int, out: Path, seed: int = 1) -> None:
    """A Shopify-style orders export of ``rows`` line rows: an order spans 1-5 consecutive
    rows sharing its Name; the order's totals (in GBP) are on its first row only, as Shopify
    writes them, so a converter must group the lines into documents."""
    rng = random.Random(seed)
    number = 1000
    when = dt.datetime(2023, 1, 1, 8, 0, 0)
    with out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(ORDER_HEADER)
        buf: list[list[str]] = []
        done = 0
        while done < rows:
            number += 1
            when += dt.timedelta(seconds=rng.randint(30, 900))
            lines = min(rng.choice([1, 1, 1, 2, 2, 3, 4, 5]), rows - done)
            items = [(rng.choice(PRODUCTS), rng.randint(1, 3)) for _ in range(lines)]
            subtotal = sum(price * qty for (_, price), qty in items)
            shipping = 0 if subtotal >= 5000 else 395
            taxes = (subtotal + shipping) // 6  # UK VAT included in prices (1/6 of gross)
            total = subtotal + shipping
            stamp = when.strftime("%Y-%m-%d %H:%M:%S +0000")
            email = f"customer{rng.randrange(10**6):06d}@example.com"
            for k, ((name, price), qty) in enumerate(items):
                head = k == 0
                buf.append(
                    [
                        f"#{number}",
                        stamp,
                        "paid" if head else "",
                        "GBP" if head else "",
                        str(qty),
                        name,
                        _plain(price),
                        f"SKU-{PRODUCTS.index((name, price)):03d}",
                        _plain(subtotal) if head else "",
                        _plain(shipping) if head else "",
                        _plain(taxes) if head else "",
                        _plain(total) if head else "",
                        email if head else "",
                    ]
                )
            done += lines
            if len(buf) >= CHUNK:
                writer.writerows(buf)
                buf.clear()
        writer.writerows(buf)


def _plain(pence: int) -> str:
    whole, frac = divmod(pence, 100)
    return f"{whole}.{frac:02d}"


def to_xlsx(csv_path: Path, out: Path) -> None:
    """The statement as .xlsx, as a bank's Excel export has it: real dates, amounts as
    numbers (XlsxWriter, constant memory). Float cells are what Excel stores."""
    import xlsxwriter  # a csvbridge dependency

    book = xlsxwriter.Workbook(str(out), {"constant_memory": True})
    sheet = book.add_worksheet("Statement")
    date_fmt = book.add_format({"num_format": "dd/mm/yyyy"})
    money_fmt = book.add_format({"num_format": "#,##0.00"})
    with csv_path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        sheet.write_row(0, 0, next(reader))
        for r, row in enumerate(reader, start=1):
            day, month, year = map(int, row[0].split("/"))
            sheet.write_datetime(r, 0, dt.datetime(year, month, day), date_fmt)
            sheet.write_string(r, 1, row[1])
            if row[2]:
                sheet.write_string(r, 2, row[2])
            for c in (3, 4, 5):
                if row[c]:
                    sheet.write_number(r, c, float(row[c].replace(",", "")), money_fmt)
            sheet.write_string(r, 6, row[6])
    book.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, required=True, help="number of data rows")
    parser.add_argument("--out", type=Path, required=True, help="output path (.csv or .xlsx)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument(
        "--kind",
        choices=["bank", "orders"],
        default="bank",
        help="bank: the statement (default); orders: a Shopify-style orders export",
    )
    args = parser.parse_args(argv)
    if args.rows < 0:
        parser.error("--rows must be >= 0")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    make = generate_orders if args.kind == "orders" else generate
    if args.out.suffix.lower() == ".xlsx":
        if args.kind != "bank":
            parser.error(".xlsx output is for --kind bank")
        tmp = args.out.with_suffix(".tmp.csv")
        make(args.rows, tmp, args.seed)
        try:
            to_xlsx(tmp, args.out)
        finally:
            tmp.unlink()
    else:
        make(args.rows, args.out, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
