"""Date fields of a mapping: their formats (checked when the mapping is compiled) and their
values, parsed strictly and moved to the books' time zone where the mapping says so."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from ..dates import ISO_DATE, DateFormatError, ParsedDates, compile_format, parse_dates
from ..errors import MappingError
from ..zones import book_dates
from .load import locate
from .model import FieldSpec, Mapping
from .rejects import Errors


class DateFields:
    """Mixin of CompiledMapping: the date fields."""

    mapping: Mapping
    source: str

    def _date_formats(self, name: str, spec: FieldSpec) -> tuple[str, ...]:
        fmts = spec.format if spec.format is not None else self.mapping.dates
        if fmts is None:
            raise MappingError(
                f"field '{name}' is a date, and the mapping does not say how dates are written",
                where=locate(self.source, f"fields.{name}"),
                hint="add format: DD/MM/YYYY (or the file's own order) to the field, or "
                "dates: DD/MM/YYYY at the top of the mapping. csvbridge never guesses "
                "whether 01/02 is January or February.",
                code="date-format-missing",
            )
        return (fmts,) if isinstance(fmts, str) else tuple(fmts)

    def _check_date_formats(self, name: str, spec: FieldSpec) -> None:
        for fmt in self._date_formats(name, spec):
            try:
                compile_format(fmt)
            except DateFormatError as e:
                raise MappingError(
                    str(e),
                    where=locate(self.source, f"fields.{name}.format"),
                    hint="use tokens DD, MM, MMM, YYYY, YY, e.g. DD/MM/YYYY",
                    code="date-format-invalid",
                ) from None

    def _date_field(
        self,
        name: str,
        spec: FieldSpec,
        col: str,
        text: pa.Array,
        empty: npt.NDArray[np.bool_],
        native: bool,
        errs: Errors,
        parsed_before: dict[tuple[str, tuple[str, ...]], tuple[pa.Array, ParsedDates]]
        | None = None,
    ) -> pa.Array:
        """The field's dates (null where a cell is not a date, which rejects the row).
        ``parsed_before`` holds the chunk's columns already parsed with the same formats (two
        fields from one column, e.g. date and due_date): they are not parsed again."""
        fmts = self._date_formats(name, spec)
        if native and ISO_DATE not in fmts:
            fmts = (*fmts, ISO_DATE)
        seen = parsed_before.get((col, fmts)) if parsed_before is not None else None
        if seen is not None and (seen[0] is text or seen[0].equals(text)):
            parsed = seen[1]
        else:
            parsed = parse_dates(text, fmts)
            if parsed_before is not None:
                parsed_before[(col, fmts)] = (text, parsed)
        shown = " or ".join(fmts)
        errs.add(
            parsed.matched_shape & ~empty,
            name,
            col,
            text,
            "date-invalid",
            f"not a real calendar date (read as {shown}); check the day and month",
        )
        errs.add(
            ~parsed.ok & ~parsed.matched_shape & ~empty,
            name,
            col,
            text,
            "date-format",
            f"does not match the date format {shown}; fix the cell, or add its "
            "format to the mapping's date formats",
        )
        return book_dates(text, fmts, parsed, self.mapping.timezone, spec.zone)
