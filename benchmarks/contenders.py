"""Hand-written contenders for ``benchmarks/run.py``: the same job in pandas, polars, duckdb.

Usage (normally invoked by run.py, one subprocess per run)::

    python benchmarks/contenders.py NAME INPUT.csv OUTPUT.csv

``pandas-plain`` is the baseline from the issue: read everything as text and write it back.
The "full" contenders do the whole conversion: parse DD/MM/YYYY dates, parse Debit/Credit
to exact integer pence (thousands separators stripped, no floats), amount = credit - debit,
map Category to an account name (``CATEGORY_MAP``), drop exact duplicate rows, and write
``Date,Description,Amount,Category`` with MM/DD/YYYY dates and amounts like ``-12.50``.
Libraries are imported inside each job, so start-up is measured.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

# The statement's category -> the account it is booked to (the same table as
# bench_mapping.yaml's category map).
CATEGORY_MAP = {
    "GROCERIES": "Groceries",
    "DINING": "Meals and Entertainment",
    "TRAVEL": "Travel",
    "UTILITIES": "Utilities",
    "FEES": "Bank Charges",
    "TRANSFER": "Transfers",
    "RENT": "Rent or Lease",
    "SALARY": "Income",
}


def job_pandas_plain(inp: str, out: str) -> None:
    import pandas as pd

    pd.read_csv(inp, dtype=str, keep_default_na=False).to_csv(out, index=False)


def job_pandas_full(inp: str, out: str) -> None:
    import pandas as pd

    def pence(col: pd.Series) -> pd.Series:
        s = col.str.replace(",", "", regex=False).str.strip()
        neg = s.str.startswith("-")
        parts = s.str.lstrip("-").str.partition(".")
        whole = parts[0].replace("", "0").astype("int64")
        frac = parts[2].str.ljust(2, "0").str.slice(0, 2).astype("int64")
        value = whole * 100 + frac
        return value.where(~neg, -value)

    df = pd.read_csv(inp, dtype=str, keep_default_na=False).drop_duplicates()
    dates = pd.to_datetime(df["Date"], format="%d/%m/%Y").dt.strftime("%m/%d/%Y")
    amount = pence(df["Credit"]) - pence(df["Debit"])
    mag = amount.abs()
    text = (mag // 100).astype(str) + "." + (mag % 100).astype(str).str.zfill(2)
    text = text.where(amount >= 0, "-" + text)
    category = df["Category"].map(CATEGORY_MAP).fillna(df["Category"])
    result = pd.DataFrame(
        {"Date": dates, "Description": df["Description"], "Amount": text, "Category": category}
    )
    result.to_csv(out, index=False)


def job_polars(inp: str, out: str) -> None:
    import polars as pl  # type: ignore[import-not-found, unused-ignore]

    def pence(name: str) -> pl.Expr:
        s = pl.col(name).fill_null("").str.replace_all(",", "", literal=True).str.strip_chars()
        whole = s.str.extract(r"(\d+)", 1).cast(pl.Int64).fill_null(0)
        frac = s.str.extract(r"\.(\d+)", 1).fill_null("").str.pad_end(2, "0").str.slice(0, 2)
        value = whole * 100 + frac.cast(pl.Int64)
        return pl.when(s.str.starts_with("-")).then(-value).otherwise(value)

    amount = pl.col("_amount")
    mag = amount.abs()
    text = pl.concat_str(
        [
            (mag // 100).cast(pl.Utf8),
            pl.lit("."),
            (mag % 100).cast(pl.Utf8).str.pad_start(2, "0"),
        ]
    )
    (
        pl.read_csv(inp, infer_schema_length=0)
        .unique(maintain_order=True)
        .with_columns((pence("Credit") - pence("Debit")).alias("_amount"))
        .select(
            pl.col("Date").str.strptime(pl.Date, "%d/%m/%Y").dt.strftime("%m/%d/%Y"),
            pl.col("Description"),
            pl.when(amount < 0)
            .then(pl.concat_str([pl.lit("-"), text]))
            .otherwise(text)
            .alias("Amount"),
            pl.col("Category").replace(CATEGORY_MAP),
        )
        .write_csv(out)
    )


def job_duckdb(inp: str, out: str) -> None:
    import duckdb  # type: ignore[import-not-found, unused-ignore]

    con = duckdb.connect()
    con.execute(
        "CREATE MACRO pabs(t) AS CAST(coalesce(nullif(split_part(t, '.', 1), ''), '0') AS BIGINT)"
        " * 100 + CAST(left(rpad(split_part(t, '.', 2), 2, '0'), 2) AS BIGINT)"
    )
    con.execute(
        "CREATE MACRO pence(s) AS CASE WHEN starts_with(trim(coalesce(s, '')), '-')"
        " THEN -pabs(ltrim(replace(trim(s), ',', ''), '-'))"
        " ELSE pabs(replace(trim(coalesce(s, '')), ',', '')) END"
    )
    con.execute("CREATE TABLE cmap(k VARCHAR, v VARCHAR)")
    con.executemany("INSERT INTO cmap VALUES (?, ?)", list(CATEGORY_MAP.items()))
    src = inp.replace("'", "''")
    dst = out.replace("'", "''")
    con.execute(f"""
        COPY (
          WITH raw AS (
            SELECT *, row_number() OVER () AS rn
            FROM read_csv('{src}', header = true, delim = ',', quote = '"', all_varchar = true)
          ), dedup AS (
            SELECT "Date", "Description", "Debit", "Credit", "Category", min(rn) AS rn FROM raw
            GROUP BY "Date", "Description", "Reference", "Debit", "Credit", "Balance", "Category"
          ), amt AS (
            SELECT rn, "Date", "Description", pence("Credit") - pence("Debit") AS a,
                   coalesce(cmap.v, "Category") AS "Category"
            FROM dedup LEFT JOIN cmap ON cmap.k = dedup."Category"
          )
          SELECT strftime(strptime("Date", '%d/%m/%Y'), '%m/%d/%Y') AS "Date", "Description",
                 CASE WHEN a < 0 THEN '-' ELSE '' END || CAST(abs(a) // 100 AS VARCHAR) || '.'
                   || lpad(CAST(abs(a) % 100 AS VARCHAR), 2, '0') AS "Amount", "Category"
          FROM amt ORDER BY rn
        ) TO '{dst}' (HEADER, DELIMITER ',')
    """)


JOBS: dict[str, Callable[[str, str], None]] = {
    "pandas-plain": job_pandas_plain,
    "pandas-full": job_pandas_full,
    "polars": job_polars,
    "duckdb": job_duckdb,
}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 3 or args[0] not in JOBS:
        print(f"usage: contenders.py {{{','.join(JOBS)}}} INPUT OUTPUT", file=sys.stderr)
        return 2
    JOBS[args[0]](args[1], args[2])
    return 0


if __name__ == "__main__":
    sys.exit(main())
