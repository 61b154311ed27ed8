"""Control totals: per account, month and currency, how many records were read and the money
in, out and net — the figures an accountant ticks against the bank's statement or the
ledger. Exact integers (minor units) throughout; rendered as amount strings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
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


def _groups(keys: list[pa.Array]) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Rows grouped by equal keys (null a value of its own): an order of the row indices that
    puts each group's rows together, and where each group starts in it."""
    group = np.zeros(len(keys[0]), dtype=np.int64)
    for key in keys:
        encoded = pc.dictionary_encode(key, null_encoding="encode")
        codes = np.asarray(encoded.indices, dtype=np.int64)
        # renumbered after each key, so the combined number stays below rows * distinct values
        _, group = np.unique(group * len(encoded.dictionary) + codes, return_inverse=True)
    order = np.argsort(group, kind="stable")
    starts = np.flatnonzero(np.diff(group[order], prepend=-1))
    return order, starts


class ControlTotals:
    """Accumulates control totals chunk by chunk (records after rejects and filters, before
    duplicates are held back; held-back duplicates are totalled apart too)."""

    def __init__(self, sources: list[str], amount_field: str | None = "amount") -> None:
        self.sources = sources
        self.amount = amount_field
        self._cells: dict[tuple[str, int, str], _Cell] = {}  # (account, yyyymm, currency)

    def add(self, records: pa.Table, held: npt.NDArray[np.bool_]) -> None:
        """Add a chunk of records; ``held`` marks those held back as duplicates."""
        n = records.num_rows
        names = set(records.column_names)
        if n == 0 or self.amount is None or self.amount not in names:
            return
        src = records.column(SOURCE_COL).combine_chunks()
        account = pc.take(pa.array(self.sources, pa.string()), src)
        field = next((f for f in ("account", "account_code") if f in names), None)
        if field is not None:
            acct = pc.utf8_trim_whitespace(records.column(field).combine_chunks())
            account = pc.if_else(pc.fill_null(pc.not_equal(acct, ""), False), acct, account)
        if "date" in names:
            date = records.column("date").combine_chunks()
            period = pc.fill_null(pc.add(pc.multiply(pc.year(date), 100), pc.month(date)), 0)
        else:
            period = pa.array(np.zeros(n, dtype=np.int64))
        if "currency" in names:
            currency = pc.fill_null(records.column("currency").combine_chunks(), "")
        else:
            currency = pa.array([""] * n, pa.string())
        amount = records.column(self.amount).combine_chunks()
        known = np.asarray(amount.is_valid(), dtype=bool)
        values = np.asarray(pc.fill_null(amount.cast(pa.int64()), 0), dtype=np.int64)
        if len(values) and int(np.abs(values).max()) * n >= 2**62:
            exact: Any = values.astype(object)  # Python integers: sums never wrap
            values_in, values_out = np.where(values > 0, exact, 0), np.where(values < 0, -exact, 0)
            held_net = np.where(held, exact, 0)
            self._add_slow(account, period, currency, values_in, values_out, known, held, held_net)
            return
        # Grouped with numpy rather than Table.group_by: that would import pyarrow's Acero
        # engine (and its datasets and filesystems), ~60 ms of every run's start.
        order, starts = _groups([account, period, currency])
        first = pa.array(order[starts])
        columns = [a.take(first).to_pylist() for a in (account, period, currency)]
        rows = np.diff(np.append(starts, n)).tolist()
        sums = [
            np.add.reduceat(v[order], starts).tolist()
            for v in (
                np.where(values > 0, values, 0),
                np.where(values < 0, -values, 0),
                (~known).astype(np.int64),
                held.astype(np.int64),
                np.where(held, values, 0),
            )
        ]
        for g, (acct, ym, cur) in enumerate(zip(*columns, strict=True)):
            self._bump((acct, int(ym), cur), rows[g], *(s[g] for s in sums))

    def _bump(
        self,
        key: tuple[str, int, str],
        rows: int,
        money_in: int,
        money_out: int,
        unknown: int,
        held_rows: int,
        held_net: int,
    ) -> None:
        cell = self._cells.setdefault(key, _Cell())
        cell.rows += rows
        cell.money_in += money_in
        cell.money_out += money_out
        cell.no_amount += unknown
        cell.held_rows += held_rows
        cell.held_net += held_net

    def _add_slow(
        self,
        account: pa.Array,
        period: pa.Array,
        currency: pa.Array,
        values_in: Any,
        values_out: Any,
        known: npt.NDArray[np.bool_],
        held: npt.NDArray[np.bool_],
        held_net: Any,
    ) -> None:
        """Row by row with Python integers, for amounts so large an int64 sum could wrap."""
        rows = zip(
            account.to_pylist(),
            period.to_pylist(),
            currency.to_pylist(),
            values_in.tolist(),
            values_out.tolist(),
            known.tolist(),
            held.tolist(),
            held_net.tolist(),
            strict=True,
        )
        for a, p, c, vin, vout, k, h, hn in rows:
            self._bump((a, int(p), c), 1, vin, vout, 0 if k else 1, int(h), hn)

    def as_list(self) -> list[dict[str, Any]]:
        """report.json's ``control_totals``: sorted by account, period and currency."""
        out = []
        for (account, ym, currency), c in sorted(self._cells.items()):
            places = exponent_of(currency) or 0
            period = f"{ym // 100:04d}-{ym % 100:02d}" if ym else ""

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
