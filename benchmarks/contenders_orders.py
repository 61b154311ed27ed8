"""Hand-written contenders for ``benchmarks/orders.py``: the orders job in polars, duckdb, pandas.

Usage (normally invoked by orders.py, one subprocess per run)::

    python benchmarks/contenders_orders.py NAME INPUT.csv OUTPUT.csv

The job is what ``csvbridge convert INPUT -m benchmarks/orders_mapping.yaml --to
xero-invoices`` does with the generated orders export (``generate.py --kind orders``):

* read every cell as text; fill Financial Status, Currency and Email down an order's rows
  (within its Name);
* parse the money columns into exact integer pence (no floats) and the quantity as an integer;
  the date is the day written in ``Created at`` (``YYYY-MM-DD HH:MM:SS +ZZZZ``, parsed
  strictly), written DD/MM/YYYY;
* leave out refunded and voided orders;
* make a line per line item (quantity x price, account 4000) and, after an order's first row,
  a shipping line (account 4100) when Shipping > 0;
* reject an order whose lines do not add up to its Total (on its first row), that totals below
  zero, or that has a line not in GBP;
* write the 27 columns of Xero's sales invoice template in csvbridge's row order, text that a
  spreadsheet would run as a formula prefixed with ``'``, as one file (csvbridge splits its
  output into files of 500 rows), CRLF line ends as csvbridge writes them.

Libraries are imported inside each job, so start-up is measured.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

XERO_INVOICE_COLUMNS = (
    "*ContactName",
    "EmailAddress",
    "POAddressLine1",
    "POAddressLine2",
    "POAddressLine3",
    "POAddressLine4",
    "POCity",
    "PORegion",
    "POPostalCode",
    "POCountry",
    "*InvoiceNumber",
    "Reference",
    "*InvoiceDate",
    "*DueDate",
    "InventoryItemCode",
    "*Description",
    "*Quantity",
    "*UnitAmount",
    "Discount",
    "*AccountCode",
    "*TaxType",
    "TrackingName1",
    "TrackingOption1",
    "TrackingName2",
    "TrackingOption2",
    "Currency",
    "BrandingTheme",
)
FILL_DOWN = ("Financial Status", "Currency", "Email")
LEFT_OUT = ("refunded", "voided")  # Financial Status values filtered out
NO_CONTACT = "Shopify POS customer"
TAX_TYPE = "20% (VAT on Income)"
ITEM_ACCOUNT, SHIPPING_ACCOUNT = "4000", "4100"
FORMULA = r"^[=+\-@\t\r]"  # as csvbridge's guard_formula: a plain signed number is left alone
NUMBER = r"^[-+]?\d[\d.,]*$"
MONEY = r"^(-?)(\d+)(?:\.(\d{1,2}))?$"


def job_polars(inp: str, out: str) -> None:
    import polars as pl  # type: ignore[import-not-found, unused-ignore]

    def pence(name: str) -> pl.Expr:
        s = pl.col(name).str.strip_chars()
        whole = s.str.extract(MONEY, 2).cast(pl.Int64)
        frac = s.str.extract(MONEY, 3).fill_null("").str.pad_end(2, "0").cast(pl.Int64)
        value = whole * 100 + frac
        return pl.when(s.str.extract(MONEY, 1) == "-").then(-value).otherwise(value)

    def money(expr: pl.Expr) -> pl.Expr:
        mag = expr.abs()
        text = pl.concat_str(
            [
                (mag // 100).cast(pl.Utf8),
                pl.lit("."),
                (mag % 100).cast(pl.Utf8).str.pad_start(2, "0"),
            ]
        )
        return pl.when(expr < 0).then(pl.concat_str([pl.lit("-"), text])).otherwise(text)

    def guard(expr: pl.Expr) -> pl.Expr:
        risky = expr.str.contains(FORMULA) & ~expr.str.contains(NUMBER)
        return (
            pl.when(risky.fill_null(False)).then(pl.concat_str([pl.lit("'"), expr])).otherwise(expr)
        )

    rows = (
        pl.read_csv(inp, infer_schema_length=0)
        .with_row_index("_row")
        .with_columns([pl.col(c).forward_fill().over("Name") for c in FILL_DOWN])
        .filter(~pl.col("Financial Status").fill_null("").is_in(LEFT_OUT))
        .with_columns(
            pl.col("Created at")
            .str.strptime(pl.Datetime, "%Y-%m-%d %H:%M:%S %z", strict=True)
            .is_not_null()
            .alias("_ok_date"),
            pl.col("Created at")
            .str.slice(0, 10)
            .str.strptime(pl.Date, "%Y-%m-%d", strict=True)
            .dt.strftime("%d/%m/%Y")
            .alias("_date"),
            pl.col("Lineitem quantity").str.strip_chars().cast(pl.Int64, strict=True).alias("_qty"),
            pence("Lineitem price").alias("_price"),
            pence("Shipping").alias("_ship"),
            pence("Total").alias("_total"),
        )
    )
    common = [
        pl.col("_row"),
        pl.col("Name"),
        pl.col("Email"),
        pl.col("Currency"),
        pl.col("_date"),
        pl.col("_total"),
    ]
    items = rows.select(
        *common,
        pl.lit(0, pl.Int8).alias("_k"),
        pl.col("Lineitem sku").alias("_sku"),
        pl.col("Lineitem name").alias("_desc"),
        pl.col("_qty"),
        pl.col("_price"),
        (pl.col("_qty") * pl.col("_price")).alias("_amount"),
        pl.lit(ITEM_ACCOUNT).alias("_account"),
    )
    shipping = rows.filter(pl.col("_ship") > 0).select(
        *common,
        pl.lit(1, pl.Int8).alias("_k"),
        pl.lit(None, pl.Utf8).alias("_sku"),
        pl.lit("Shipping").alias("_desc"),
        pl.lit(1, pl.Int64).alias("_qty"),
        pl.col("_ship").alias("_price"),
        pl.col("_ship").alias("_amount"),
        pl.lit(SHIPPING_ACCOUNT).alias("_account"),
    )
    lines = pl.concat([items, shipping]).sort("_row", "_k")
    orders = lines.group_by("Name").agg(
        pl.col("_amount").sum().alias("_sum"),
        pl.col("_total").drop_nulls().first().alias("_stated"),
        (pl.col("Currency").fill_null("") != "GBP").any().alias("_foreign"),
    )
    good = orders.filter(
        (pl.col("_sum") == pl.col("_stated")) & (pl.col("_sum") >= 0) & ~pl.col("_foreign")
    ).select("Name")
    lines = lines.join(good, on="Name", how="semi", maintain_order="left")
    blank = pl.lit(None, pl.Utf8)
    values = {
        "*ContactName": pl.col("Email").fill_null(NO_CONTACT),
        "EmailAddress": guard(pl.col("Email")),
        "*InvoiceNumber": pl.col("Name"),
        "Reference": guard(pl.concat_str([pl.lit("Shopify "), pl.col("Name")])),
        "*InvoiceDate": pl.col("_date"),
        "*DueDate": pl.col("_date"),
        "InventoryItemCode": pl.col("_sku"),
        "*Description": guard(pl.col("_desc")),
        "*Quantity": pl.col("_qty").cast(pl.Utf8),
        "*UnitAmount": money(pl.col("_price")),
        "*AccountCode": pl.col("_account"),
        "*TaxType": pl.lit(TAX_TYPE),
        "Currency": pl.lit("GBP"),
    }
    lines.select([values.get(c, blank).alias(c) for c in XERO_INVOICE_COLUMNS]).write_csv(
        out, line_terminator="\r\n"
    )


def job_duckdb(inp: str, out: str) -> None:
    import duckdb  # type: ignore[import-not-found, unused-ignore]

    con = duckdb.connect()
    con.execute(
        "CREATE MACRO pence(s) AS CASE WHEN regexp_full_match(trim(s), '" + MONEY[1:-1] + "') THEN"
        " (CAST(regexp_extract(trim(s), '" + MONEY + "', 2) AS BIGINT) * 100"
        " + CAST(rpad(regexp_extract(trim(s), '" + MONEY + "', 3), 2, '0') AS BIGINT))"
        " * CASE WHEN starts_with(trim(s), '-') THEN -1 ELSE 1 END END"
    )
    con.execute(
        "CREATE MACRO money(p) AS CASE WHEN p < 0 THEN '-' ELSE '' END"
        " || CAST(abs(p) // 100 AS VARCHAR) || '.' || lpad(CAST(abs(p) % 100 AS VARCHAR), 2, '0')"
    )
    con.execute(
        f"CREATE MACRO guard(t) AS CASE WHEN regexp_matches(t, '{FORMULA}')"
        f" AND NOT regexp_matches(t, '{NUMBER}') THEN '''' || t ELSE t END"
    )
    src = inp.replace("'", "''")
    dst = out.replace("'", "''")
    window = 'OVER (PARTITION BY "Name" ORDER BY rn ROWS UNBOUNDED PRECEDING)'
    filled = ", ".join(f'last_value("{c}" IGNORE NULLS) {window} AS "{c}"' for c in FILL_DOWN)
    left_out = ", ".join(f"'{v}'" for v in LEFT_OUT)
    select = {
        "*ContactName": f"coalesce(\"Email\", '{NO_CONTACT}')",
        "EmailAddress": 'guard("Email")',
        "*InvoiceNumber": '"Name"',
        "Reference": "guard('Shopify ' || \"Name\")",
        "*InvoiceDate": "d",
        "*DueDate": "d",
        "InventoryItemCode": "sku",
        "*Description": "guard(descr)",
        "*Quantity": "CAST(qty AS VARCHAR)",
        "*UnitAmount": "money(price)",
        "*AccountCode": "account",
        "*TaxType": f"'{TAX_TYPE}'",
        "Currency": "'GBP'",
    }
    columns = ", ".join(f'{select.get(c, "NULL")} AS "{c}"' for c in XERO_INVOICE_COLUMNS)
    con.execute(f"""
        COPY (
          WITH raw AS (
            SELECT *, row_number() OVER () AS rn
            FROM read_csv('{src}', header = true, delim = ',', quote = '"', escape = '"',
                          all_varchar = true)
          ), rows AS (
            SELECT rn, "Name", "Created at", "Lineitem quantity", "Lineitem name",
                   "Lineitem price", "Lineitem sku", "Shipping", "Total", {filled}
            FROM raw
          ), kept AS (
            SELECT rn, "Name", "Email", "Currency", "Lineitem sku", "Lineitem name",
                   strftime(CAST(left("Created at", 10) AS DATE), '%d/%m/%Y') AS d,
                   CAST(trim("Lineitem quantity") AS BIGINT) AS qty,
                   pence("Lineitem price") AS price, pence("Shipping") AS ship,
                   pence("Total") AS total
            FROM rows
            WHERE coalesce("Financial Status", '') NOT IN ({left_out})
              AND strptime("Created at", '%Y-%m-%d %H:%M:%S %z') IS NOT NULL
          ), lines AS (
            SELECT rn, 0 AS k, "Name", "Email", "Currency", d, total, "Lineitem sku" AS sku,
                   "Lineitem name" AS descr, qty, price, qty * price AS amount,
                   '{ITEM_ACCOUNT}' AS account
            FROM kept
            UNION ALL
            SELECT rn, 1, "Name", "Email", "Currency", d, total, NULL, 'Shipping', 1, ship,
                   ship, '{SHIPPING_ACCOUNT}'
            FROM kept WHERE ship > 0
          ), orders AS (
            SELECT "Name" FROM lines GROUP BY "Name"
            HAVING sum(amount) = any_value(total) AND sum(amount) >= 0
               AND bool_and(coalesce("Currency", '') = 'GBP')
          )
          SELECT {columns}
          FROM lines SEMI JOIN orders USING ("Name")
          ORDER BY rn, k
        ) TO '{dst}' (HEADER, DELIMITER ',', COMMENT '', NEW_LINE e'\\r\\n')
    """)


def job_pandas(inp: str, out: str) -> None:
    import pandas as pd

    def pence(col: pd.Series) -> pd.Series:
        parts = col.str.strip().str.extract(MONEY)
        whole = parts[1].astype("Int64")
        frac = parts[2].fillna("").str.ljust(2, "0").astype("Int64")
        value = whole * 100 + frac
        return value.where(parts[0] != "-", -value)

    def money(p: pd.Series) -> pd.Series:
        mag = p.abs()
        text = (mag // 100).astype(str) + "." + (mag % 100).astype(str).str.zfill(2)
        return text.where(p >= 0, "-" + text)

    def guard(col: pd.Series) -> pd.Series:
        text = col.fillna("")
        risky = text.str.contains(FORMULA) & ~text.str.contains(NUMBER)
        return col.where(~risky, "'" + text)

    df = pd.read_csv(inp, dtype=str, keep_default_na=False)
    fill = list(FILL_DOWN)
    df[fill] = df[fill].replace("", None)
    df[fill] = df.groupby("Name", sort=False)[fill].ffill()
    df = df[~df["Financial Status"].isin(LEFT_OUT)]
    pd.to_datetime(df["Created at"], format="%Y-%m-%d %H:%M:%S %z")  # raises on a bad date
    date = pd.to_datetime(df["Created at"].str.slice(0, 10), format="%Y-%m-%d")
    kept = pd.DataFrame(
        {
            "_row": range(len(df)),
            "Name": df["Name"].to_numpy(),
            "Email": df["Email"].to_numpy(),
            "Currency": df["Currency"].to_numpy(),
            "_date": date.dt.strftime("%d/%m/%Y").to_numpy(),
            "_total": pence(df["Total"].replace("", None)).to_numpy(),
        }
    )
    qty = df["Lineitem quantity"].str.strip().astype("int64").to_numpy()
    price = pence(df["Lineitem price"]).to_numpy()
    ship = pence(df["Shipping"].replace("", None)).fillna(0).to_numpy()
    items = kept.assign(
        _k=0,
        _sku=df["Lineitem sku"].to_numpy(),
        _desc=df["Lineitem name"].to_numpy(),
        _qty=qty,
        _price=price,
        _amount=qty * price,
        _account=ITEM_ACCOUNT,
    )
    has = ship > 0
    shipping = kept[has].assign(
        _k=1, _sku=None, _desc="Shipping", _qty=1, _price=ship[has], _amount=ship[has]
    )
    shipping["_account"] = SHIPPING_ACCOUNT
    lines = pd.concat([items, shipping], ignore_index=True).sort_values(
        ["_row", "_k"], kind="stable"
    )
    by = lines.groupby("Name", sort=False)
    total = by["_total"].transform("first")  # first non-null: the first row's Total
    sums = by["_amount"].transform("sum")
    foreign = (lines["Currency"].fillna("") != "GBP").groupby(lines["Name"]).transform("any")
    lines = lines[(sums == total).fillna(False) & (sums >= 0) & ~foreign]
    n = len(lines)
    values = {
        "*ContactName": lines["Email"].fillna(NO_CONTACT),
        "EmailAddress": guard(lines["Email"]),
        "*InvoiceNumber": lines["Name"],
        "Reference": guard("Shopify " + lines["Name"]),
        "*InvoiceDate": lines["_date"],
        "*DueDate": lines["_date"],
        "InventoryItemCode": lines["_sku"],
        "*Description": guard(lines["_desc"]),
        "*Quantity": lines["_qty"].astype(str),
        "*UnitAmount": money(lines["_price"].astype("int64")),
        "*AccountCode": lines["_account"],
        "*TaxType": pd.Series([TAX_TYPE] * n, index=lines.index),
        "Currency": pd.Series(["GBP"] * n, index=lines.index),
    }
    result = pd.DataFrame({c: values.get(c) for c in XERO_INVOICE_COLUMNS}, index=lines.index)
    result.to_csv(out, index=False, lineterminator="\r\n")


JOBS: dict[str, Callable[[str, str], None]] = {
    "polars": job_polars,
    "duckdb": job_duckdb,
    "pandas": job_pandas,
}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 3 or args[0] not in JOBS:
        print(f"usage: contenders_orders.py {{{','.join(JOBS)}}} INPUT OUTPUT", file=sys.stderr)
        return 2
    JOBS[args[0]](args[1], args[2])
    return 0


if __name__ == "__main__":
    sys.exit(main())
