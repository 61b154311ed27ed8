"""Exact numbers in report.xlsx (the xlsx target writes the same decimal text itself, a column
at a time: writers/xlsx_table.py).

XlsxWriter writes a number cell as ``f"{value:.16G}"``, which shows a double's binary error
in the 16th digit (9102069057682.53 becomes 9102069057682.529). An ``ExactNumber`` formats
itself as the decimal text it was made from, so the file holds the exact decimal; any reader
then gets the double nearest to it, which for up to 15 significant digits reads back as the
same decimal."""

from __future__ import annotations

from decimal import Decimal


class ExactNumber(float):
    """A float that writes itself as the decimal text it was made from."""

    __slots__ = ("text",)
    text: str

    def __new__(cls, text: str) -> ExactNumber:
        self = super().__new__(cls, text)
        self.text = text
        return self

    def __format__(self, spec: str) -> str:
        return self.text


def exact_number(d: Decimal) -> ExactNumber | None:
    """``d`` as a number cell, or None when no spreadsheet number reads back as exactly
    ``d`` (more significant digits than a double keeps, or not finite)."""
    if not d.is_finite() or Decimal(repr(float(d))) != d:
        return None
    return ExactNumber(format(d, "f"))
