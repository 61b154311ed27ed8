"""The mapping file's schema: pydantic models that forbid unknown keys. A mapping is data: it
says which columns become which canonical fields and how their text is parsed."""

from __future__ import annotations

import itertools
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from ..model import KINDS


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


ColumnRef = str | int  # a header name, or "#3" (in YAML) / 3 (from Python) for the 3rd column


class FixedColumn(_Strict):
    """One column of a fixed-width file: its name and character positions (1-based,
    inclusive: a 10-character date at the start of the line is start 1, end 10)."""

    name: str = Field(description="the column's name, used by the fields")
    start: int = Field(ge=1, description="first character of the column, counting from 1")
    end: int = Field(ge=1, description="last character of the column (inclusive)")

    @model_validator(mode="after")
    def _order(self) -> FixedColumn:
        if self.end < self.start:
            raise ValueError(f"column {self.name}: end {self.end} is before start {self.start}")
        return self


class ReadSpec(_Strict):
    """How to read the source files. Anything left out is detected and reported."""

    encoding: str | None = Field(None, description="text encoding, e.g. utf-8, cp1252")
    delimiter: str | None = Field(None, description="field separator; one character, or 'tab'")
    quotechar: str = Field('"', description="quote character")
    header_line: int | None = Field(
        None, ge=1, description="line (or sheet row) of the header, counting from 1"
    )
    no_header: bool = Field(False, description="the file has no header row")
    columns: list[str] = Field(
        default_factory=list, description="column names for a file without a header row"
    )
    sheet: str | int | None = Field(None, description="xlsx sheet name or number (from 1)")
    footer: bool = Field(True, description="treat short rows at the end as a footer")
    fixed_width: list[FixedColumn] = Field(
        default_factory=list,
        description="fixed-width columns (name, start, end); lines up to header_line are "
        "skipped as preamble",
    )

    @model_validator(mode="after")
    def _check(self) -> ReadSpec:
        if self.delimiter is not None:
            if self.delimiter.lower() == "tab":
                object.__setattr__(self, "delimiter", "\t")
            elif len(self.delimiter) != 1:
                raise ValueError("delimiter must be one character (or 'tab')")
        if self.no_header and self.header_line is not None:
            raise ValueError("no_header and header_line cannot both be set")
        if self.fixed_width:
            if self.delimiter is not None:
                raise ValueError("a fixed-width file has no delimiter: give one or the other")
            spans = sorted((c.start, c.end, c.name) for c in self.fixed_width)
            for (_, e1, n1), (s2, _, n2) in itertools.pairwise(spans):
                if s2 <= e1:
                    raise ValueError(f"fixed-width columns {n1} and {n2} overlap")
        return self


class NumberSpec(_Strict):
    """How numbers are written in the source."""

    decimal: Literal[".", ","] = Field(".", description="decimal mark")
    thousands: Literal[",", ".", " ", "'", "_", "\u00a0", ""] | None = Field(
        None, description="thousands separator, if the source uses one"
    )

    @model_validator(mode="after")
    def _check(self) -> NumberSpec:
        if self.thousands == self.decimal:
            raise ValueError("decimal mark and thousands separator must differ")
        return self


class LookupSpec(_Strict):
    """A table the field's value is looked up in: inline, or a CSV file beside the mapping."""

    table: dict[str, str] | None = Field(None, description="inline table: {value: result}")
    file: str | None = Field(None, description="CSV file beside the mapping, with a header row")
    key: str | None = Field(
        None, description="the file's column holding the values (default: first)"
    )
    value: str | None = Field(
        None, description="the file's column holding the results (default: second)"
    )
    not_found: Literal["reject", "default", "warn"] = Field(
        "reject",
        description="a value not in the table: reject the row, use default, or keep it and warn",
    )
    default: str | None = Field(None, description="the result for values not in the table")

    @model_validator(mode="after")
    def _one_table(self) -> LookupSpec:
        if (self.table is None) == (self.file is None):
            raise ValueError("give the lookup a table: or a file:, not both")
        if self.not_found == "default" and self.default is None:
            raise ValueError("not_found: default needs a default:")
        return self


def _shorthand(v: Any) -> Any:
    return {"column": v} if isinstance(v, str | int) and not isinstance(v, bool) else v


class FieldSpec(_Strict):
    """Where one canonical field's value comes from, and how its text is parsed.

    Exactly one source: ``column``, ``value``, ``template``, or ``money_in``/``money_out``.
    A bare string is short for ``column``.
    """

    column: ColumnRef | None = Field(
        None, description="take the value from this column (a header name, or #3 for the third)"
    )
    value: str | None = Field(None, description="a constant")
    template: str | None = Field(
        None, description="text built from columns, e.g. '{First} {Last}'; '{{' is a brace"
    )
    expr: str | None = Field(
        None,
        description="a formula over columns, e.g. round(Gross - Fee, 2) or "
        "if(Type = 'DR', -Amount, Amount); see the expression reference",
    )
    money_in: ColumnRef | None = Field(None, description="column of money received")
    money_out: ColumnRef | None = Field(None, description="column of money paid out")
    format: str | list[str] | None = Field(
        None, description="date format(s), e.g. DD/MM/YYYY; tried in order"
    )
    decimal: Literal[".", ","] | None = Field(None, description="decimal mark for this field")
    thousands: Literal[",", ".", " ", "'", "_", "\u00a0", ""] | None = Field(
        None, description="thousands separator for this field"
    )
    invert: bool = Field(False, description="negate the amount (e.g. card charges shown positive)")
    map: dict[str, str] | None = Field(None, description="replace values: {source: result}")
    lookup: LookupSpec | None = Field(
        None, description="look the value up in a table, with a policy for values not found"
    )
    default: str | None = Field(
        None, description="value when the cell is empty, or not found in map"
    )
    required: bool | None = Field(None, description="reject rows where this field is empty")

    @model_validator(mode="after")
    def _one_source(self) -> FieldSpec:
        sources = [
            k for k in ("column", "value", "template", "expr") if getattr(self, k) is not None
        ]
        if self.money_in is not None or self.money_out is not None:
            sources.append("money_in/money_out")
        if len(sources) > 1:
            raise ValueError(f"give one source, not {' and '.join(sources)}")
        if not sources and self.default is None:
            raise ValueError("give a source: column, value, template, expr or money_in/money_out")
        return self


FieldSpecIn = Annotated[FieldSpec, BeforeValidator(_shorthand)]


class FilterSpec(_Strict):
    """Rows matching this are left out and counted as filtered under ``name``."""

    name: str = Field(description="what the report calls these rows")
    column: ColumnRef | None = Field(None, description="the column to test")
    when: str | None = Field(
        None, description="a condition over columns, e.g. Status = 'Pending' or Amount = 0"
    )
    equals: str | None = Field(None, description="the cell equals this (after trimming)")
    matches: str | None = Field(None, description="the cell matches this regular expression")
    empty: bool | None = Field(None, description="the cell is empty (true) or not (false)")
    in_: list[str] | None = Field(None, alias="in", description="the cell is one of these")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _one_test(self) -> FilterSpec:
        tests = [
            k for k in ("equals", "matches", "empty", "in_", "when") if getattr(self, k) is not None
        ]
        if len(tests) != 1:
            raise ValueError("give exactly one test: when, equals, matches, empty or in")
        if self.when is None and self.column is None:
            raise ValueError("equals, matches, empty and in test a column: give column")
        return self


class SplitSpec(_Strict):
    """One of the records each row becomes: the mapping's ``fields`` with these on top."""

    name: str = Field(description="what this record is, e.g. sale or fee")
    when: str | None = Field(
        None, description="make this record only for rows where this holds, e.g. Fee != 0"
    )
    fields: dict[str, FieldSpecIn] = Field(
        default_factory=dict, description="fields of this record that differ from the mapping's"
    )


class CheckSpec(_Strict):
    """A rule every row must satisfy. ``error`` rejects the rows that break it; ``warning``
    keeps them and reports them."""

    name: str = Field(description="what the report calls the rule")
    rule: str = Field(description="a condition that must hold, e.g. DueDate >= InvoiceDate")
    severity: Literal["error", "warning"] = Field("error", description="error or warning")
    message: str | None = Field(None, description="what to tell a person about a failing row")


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


class Mapping(_Strict):
    """A mapping file: how one layout of export becomes one kind of canonical record."""

    name: str = Field(description="short name, shown in reports and provenance")
    version: str = Field("1", description="bump when the mapping changes")
    kind: Literal["transaction", "invoice", "bill", "journal", "contact", "account", "item"] = (
        Field(description="the kind of records the mapping makes")
    )
    description: str = Field("", description="what export this mapping is for")
    read: ReadSpec = Field(default_factory=lambda: ReadSpec())
    numbers: NumberSpec = Field(
        default_factory=lambda: NumberSpec(), description="default number format"
    )
    dates: str | list[str] | None = Field(None, description="default date format(s)")
    fields: dict[str, FieldSpecIn] = Field(
        description="canonical field → where its value comes from (a bare name is a column)"
    )
    filters: list[FilterSpec] = Field(default_factory=list)
    split: list[SplitSpec] = Field(
        default_factory=list,
        description="make several records from each row (a charge and its fee); each entry "
        "overrides fields and may have a when: condition",
    )
    checks: list[CheckSpec] = Field(default_factory=list)
    layout: list[str] | None = Field(
        None,
        description="the header this mapping was written for; a file whose columns differ "
        "(renamed, added, removed) is refused with the difference named",
    )
    recognise: RecogniseSpec = Field(default_factory=lambda: RecogniseSpec())
    extends: str | None = Field(
        None,
        description="a base mapping (path relative to this file) whose keys this one overrides",
    )
    duplicates: DuplicateSpec = Field(default_factory=lambda: DuplicateSpec())
    documents: DocumentsSpec = Field(default_factory=lambda: DocumentsSpec())

    @model_validator(mode="after")
    def _fields_fit_kind(self) -> Mapping:
        kind = KINDS[self.kind]
        names = set(kind.field_names)
        for where, fields in [("fields", self.fields)] + [
            (f"split ({s.name})", s.fields) for s in self.split
        ]:
            unknown = [f for f in fields if f not in names]
            if unknown:
                raise ValueError(
                    f"{where}: {self.kind} has no field(s) {', '.join(unknown)}; "
                    f"its fields are: {', '.join(kind.field_names)}"
                )
        for label, fields in (
            [("", self.fields)]
            if not self.split
            else [(f" (split entry {s.name})", {**self.fields, **s.fields}) for s in self.split]
        ):
            missing = [f.name for f in kind.fields if f.required and f.name not in fields]
            if missing:
                raise ValueError(f"a {self.kind} mapping must give{label}: {', '.join(missing)}")
        if self.duplicates.fields:
            bad = [f for f in self.duplicates.fields if f not in names]
            if bad:
                raise ValueError(f"duplicates.fields names unknown field(s): {', '.join(bad)}")
        return self
