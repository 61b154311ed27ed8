"""The rule sections of a mapping — checks, recognise, documents, fill_down, duplicates —
whatever looks beyond one field of one row. Part of the mapping's schema (see model.py)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ColumnRef = str | int  # a header name, or "#3" (in YAML) / 3 (from Python) for the 3rd column


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CheckSpec(_Strict):
    """A rule every row must satisfy. ``error`` rejects the rows that break it; ``warning``
    keeps them and reports them.

    ``unique:`` names canonical fields whose values (together) must not repeat anywhere in the
    batch, across chunks and files: the first row with a value is kept; every later row with it
    breaks the rule, and its reason names the first one's file and line. Empty values and
    filtered rows are not compared; a row rejected for another reason still counts as the
    first. Memory grows with the number of distinct values."""

    name: str = Field(description="what the report calls the rule")
    rule: str | None = Field(
        None, description="a condition that must hold, e.g. DueDate >= InvoiceDate"
    )
    unique: str | list[str] | None = Field(
        None,
        description="field(s) whose values must not repeat in the batch, e.g. id or "
        "[reference, date]; give rule: or unique:",
    )
    severity: Literal["error", "warning"] = Field("error", description="error or warning")
    message: str | None = Field(None, description="what to tell a person about a failing row")

    @model_validator(mode="after")
    def _one_test(self) -> CheckSpec:
        if (self.rule is None) == (self.unique is None):
            raise ValueError("give the check a rule: or a unique:, not both")
        if self.unique is not None and not self.unique:
            raise ValueError("unique: names at least one field")
        return self

    @property
    def unique_fields(self) -> tuple[str, ...]:
        """The fields of a unique check (empty for a rule)."""
        u = self.unique
        return () if u is None else (u,) if isinstance(u, str) else tuple(u)


class RecogniseSpec(_Strict):
    """How the watched folder knows a file is this mapping's."""

    filename: list[str] = Field(
        default_factory=list, description="file name patterns, e.g. '*HSBC*.csv' (any matches)"
    )
    header: bool = Field(
        True, description="the file's header must hold every column the mapping reads"
    )


class DocumentsSpec(_Strict):
    """Rules for whole documents (invoices, bills, journal entries), checked once all their
    lines are read: the failing document is rejected whole (error) or reported (warning)."""

    balance: Literal["error", "warning", "off"] = Field(
        "error", description="journal entries must balance (debits = credits, per currency)"
    )
    consistent: Literal["error", "warning", "off"] = Field(
        "error",
        description="lines of one document must agree on its header fields (contact, dates, "
        "currency, reference)",
    )
    total_column: ColumnRef | None = Field(
        None,
        description="invoices and bills: the column stating the document's total (on any of "
        "its lines; rows where it is empty state nothing); the lines' line_amount must add up "
        "to it",
    )
    total: Literal["error", "warning"] = Field(
        "error",
        description="a document whose lines do not add up to its stated total (or that states "
        "two different totals): rejected whole (error) or reported (warning)",
    )
    total_tolerance: str = Field(
        "0",
        description="how far the lines' sum may be from the stated total, in currency units, "
        "e.g. 0.01 for a source that rounds each line",
    )

    @model_validator(mode="after")
    def _tolerance(self) -> DocumentsSpec:
        try:
            ok = Decimal(self.total_tolerance) >= 0
        except InvalidOperation:
            ok = False
        if not ok:
            raise ValueError(f"total_tolerance {self.total_tolerance!r} is not an amount >= 0")
        return self


class FillDownSpec(_Strict):
    """Columns whose value is stated on a group's first row only (Shopify states an order's
    Financial Status, Currency and totals on its first line item): an empty cell takes the
    value above it. The filled values are what fields, filters, checks and formulas see.

    With ``within:``, a value never crosses into the next group: a row whose ``within`` column
    differs from the row above starts afresh (an order's first row with an empty cell stays
    empty). Values carry across chunks and stop at the end of each file. Rejects list the
    cells as the file has them."""

    columns: list[ColumnRef] = Field(
        min_length=1, description="the columns to fill down, e.g. [Financial Status, Currency]"
    )
    within: ColumnRef | None = Field(
        None,
        description="the column naming the group (e.g. Name, the order number); rows of a "
        "group must be adjacent",
    )


class PossibleSpec(_Strict):
    """Possible duplicates (transactions only): another file's record, in this batch or in
    the history, with the same amount and currency (and account, when mapped), dated within
    a few days, whose description, payee and reference read alike."""

    policy: Literal["flag", "hold", "off"] = Field(
        "flag",
        description="flag: write them and list them for review (duplicates.csv); hold: leave "
        "them out of the import file until a person decides (decisions file); off: no check",
    )
    window_days: int = Field(
        3, ge=0, le=366, description="how many days apart the two dates may be, either way"
    )
    similarity: float = Field(
        85,
        ge=0,
        le=100,
        description="how alike the texts must be, 0-100 (token set ratio, case and "
        "punctuation ignored)",
    )


class DuplicateSpec(_Strict):
    """What to do with rows that repeat an earlier row of the batch exactly."""

    policy: Literal["keep", "skip"] = Field(
        "skip",
        description="skip: leave repeats out of the import file (counted as duplicates, listed "
        "in duplicates.csv); keep: write them and only flag them",
    )
    within_file: Literal["auto", "real", "duplicate"] = Field(
        "auto",
        description="identical rows in one file: real (two coffees: both are written), "
        "duplicate (an exported line twice), auto (duplicate when a running balance is mapped, "
        "since a repeated balance gives the glitch away; real otherwise)",
    )
    fields: list[str] | None = Field(
        None, description="canonical fields compared; default: the kind's fingerprint"
    )
    possible: PossibleSpec = Field(
        default_factory=lambda: PossibleSpec(),
        description="approximate repeats: same amount, nearby date, similar text",
    )
