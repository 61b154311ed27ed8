"""Control totals: per account, month and currency, how many records were read and the money
in, out and net — the figures an accountant ticks against the bank's statement or the
ledger. Exact integers (minor units) throughout; rendered as amount strings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..model import SOURCE_COL
from ..money import exponent_of, format_one


@dataclass
class _Cell:
    rows: int = 0
    money_in: int = 0
    money_out: int = 0  # a positive total of the negative amounts
    no_amount: int = 0
    held_rows: int = 0
    held_net: int = 0


class ControlTotals:
    """Accumulates control totals chunk by chunk (records after rejects and filters, before
    duplicates are held back; held-back duplicates are totalled apart too)."""

    def __init__(self, sources: list[str], amount_field: str | None = "amount") -> None:
        self.sources = sources
        self.amount = amount_field
        self._cells: dict[tuple[str, str, str], _Cell] = {}

    def add(self, records: pa.Table, held: npt.NDArray[np.bool_]) -> None:
        """Add a chunk of records; ``held`` marks those held back as duplicates."""
        n = records.num_rows
        names = set(records.column_names)
        if n == 0 or self.amount is None or self.amount not in names:
            return
        src = records.column(SOURCE_COL).to_numpy()
        files = np.asarray(self.sources, dtype=object)[src.astype(np.int64)]
        field = next((f for f in ("account", "account_code") if f in names), None)
        if field is not None:
            acct = pc.utf8_trim_whitespace(records.column(field).combine_chunks())
            acct_np = np.asarray(pc.fill_null(acct, "").to_numpy(zero_copy_only=False), object)
            files = np.where(acct_np != "", acct_np, files)
        period = np.full(n, "", dtype=object)
        if "date" in names:
            date = records.column("date").combine_chunks()
            ym = pc.add(pc.multiply(pc.year(date), 100), pc.month(date))
            period = np.asarray(
                [f"{v // 100:04d}-{v % 100:02d}" if v is not None else "" for v in ym.to_pylist()],
                dtype=object,
            )
        currency = np.full(n, "", dtype=object)
        if "currency" in names:
            cur = pc.fill_null(records.column("currency").combine_chunks(), "")
            currency = np.asarray(cur.to_numpy(zero_copy_only=False), dtype=object)
        amount = records.column(self.amount).combine_chunks()
        known = np.asarray(amount.is_valid(), dtype=bool)
        values = np.asarray(pc.fill_null(amount.cast(pa.int64()), 0), dtype=np.int64)
        exact: Any = values.astype(object)  # Python integers: sums never wrap
        frame = pd.DataFrame(
            {
                "account": files,
                "period": period,
                "currency": currency,
                "in": np.where(values > 0, exact, 0),
                "out": np.where(values < 0, -exact, 0),
                "unknown": (~known).astype(np.int64),
                "held": held.astype(np.int64),
                "held_net": np.where(held, exact, 0),
                "rows": np.ones(n, dtype=np.int64),
            }
        )
        for key, g in frame.groupby(["account", "period", "currency"], sort=False):
            cell = self._cells.setdefault((str(key[0]), str(key[1]), str(key[2])), _Cell())
            cell.rows += int(g["rows"].sum())
            cell.money_in += sum(g["in"].tolist())
            cell.money_out += sum(g["out"].tolist())
            cell.no_amount += int(g["unknown"].sum())
            cell.held_rows += int(g["held"].sum())
            cell.held_net += sum(g["held_net"].tolist())

    def as_list(self) -> list[dict[str, Any]]:
        """report.json's ``control_totals``: sorted by account, period and currency."""
        out = []
        for (account, period, currency), c in sorted(self._cells.items()):
            places = exponent_of(currency) or 0

            def fmt(v: int, places: int = places) -> str:
                return format_one(v, places)

            out.append(
                {
                    "account": account,
                    "period": period,
                    "currency": currency,
                    "rows": c.rows,
                    "money_in": fmt(c.money_in),
                    "money_out": fmt(c.money_out),
                    "net": fmt(c.money_in - c.money_out),
                    "rows_without_amount": c.no_amount,
                    "duplicates_held_back": {"rows": c.held_rows, "net": fmt(c.held_net)},
                }
            )
        return out


CONTROL_COLUMNS = (
    "Account",
    "Month",
    "Currency",
    "Records",
    "Money in",
    "Money out",
    "Net",
    "Held back",
    "Held back net",
)


def write_control_sheet(sh: Any, rows: list[dict[str, Any]]) -> None:
    """The Control totals sheet of report.xlsx (``sh`` is render_xlsx's sheet writer)."""
    sh.header(CONTROL_COLUMNS)
    for c in rows:
        places = exponent_of(str(c.get("currency", ""))) or 0
        held = c.get("duplicates_held_back") or {}
        sh.text(0, c.get("account", ""))
        sh.text(1, c.get("period", ""))
        sh.text(2, c.get("currency", ""))
        sh.count(3, c.get("rows", ""))
        for col, value in enumerate((c.get("money_in"), c.get("money_out"), c.get("net")), 4):
            sh.money(col, value, places)
        sh.count(7, held.get("rows", ""))
        sh.money(8, held.get("net"), places)
        sh.row += 1
    sh.finish(freeze=True, floor=10)
