"""Limits on what an input file may hold, so that a hostile or broken file is refused with a
clear error instead of taking the machine's memory or time. Documented in docs/limits.md.

Each limit is set, from weakest to strongest, by its default, the mapping's ``read.limits``,
an environment variable ``CSVBRIDGE_<NAME>`` and the command line's ``--limit name=value``.
Sizes may carry a unit (``500MB``, ``2GiB``); ``0`` turns a limit off.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from .errors import CsvbridgeError

KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30


@dataclass(frozen=True)
class Limits:
    """The limits one read runs under. ``0`` means no limit."""

    max_file_bytes: int = 0  # delimited text streams: any size converts in bounded memory
    max_columns: int = 16_384  # Excel's own maximum
    max_cell_chars: int = 10_000_000
    max_row_chars: int = 16 * MiB  # one row's text, quoted line breaks included
    max_row_lines: int = 100  # physical lines one quoted row may span
    max_workbook_bytes: int = 1 * GiB  # a spreadsheet's parts, uncompressed, together
    max_expansion: int = 100  # how many times a large spreadsheet part may inflate
    max_sheet_cells: int = 20_000_000  # the sheet's used range, rows x columns (~32 bytes each)

    def describe(self, name: str) -> str:
        """``name = value`` as a person would write it."""
        value = getattr(self, name)
        return f"{name} = {format_value(name, value)}"


DEFAULT_LIMITS = Limits()
NAMES = tuple(f.name for f in dataclasses.fields(Limits))
SIZE_NAMES = frozenset({"max_file_bytes", "max_workbook_bytes"})
ENV_PREFIX = "CSVBRIDGE_"
_UNITS = {"": 1, "b": 1, "k": KiB, "kb": 1000, "kib": KiB, "m": MiB, "mb": 1000**2, "mib": MiB}
_UNITS |= {"g": GiB, "gb": 1000**3, "gib": GiB, "t": 1 << 40, "tb": 1000**4, "tib": 1 << 40}
_VALUE = re.compile(r"^\s*(\d[\d_,]*)\s*([a-zA-Z]*)\s*$")


class LimitError(CsvbridgeError):
    """A limit is given a value that is not a number, or a name that is not a limit."""

    code = "limit-invalid"


def format_value(name: str, value: int) -> str:
    """A limit's value for a message: sizes in MiB/GiB where exact, counts with separators."""
    if value == 0:
        return "0 (no limit)"
    if name in SIZE_NAMES:
        for unit, size in (("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
            if value % size == 0:
                return f"{value // size}{unit}"
    return f"{value:,}"


def parse_value(name: str, text: str | int, where: str) -> int:
    """A limit's value from text (``500MB``, ``2GiB``, ``20000``) or a number."""
    if name not in NAMES:
        raise LimitError(
            f"there is no limit named {name!r}",
            where=where,
            hint="limits are: " + ", ".join(NAMES) + " (see docs/limits.md).",
        )
    if isinstance(text, bool):
        text = str(text)
    if isinstance(text, int):
        if text < 0:
            raise LimitError(f"{name} cannot be negative", where=where, hint="use 0 for no limit.")
        return text
    m = _VALUE.match(text)
    unit = m.group(2).lower() if m else ""
    if m is None or unit not in _UNITS or (unit and name not in SIZE_NAMES):
        raise LimitError(
            f"{name} = {text!r} is not a valid value",
            where=where,
            hint="give a whole number"
            + (" with an optional unit (500MB, 2GiB)" if name in SIZE_NAMES else "")
            + "; 0 means no limit.",
        )
    return int(m.group(1).replace("_", "").replace(",", "")) * _UNITS[unit]


def resolve(
    mapping: Mapping[str, str | int] | None = None,
    cli: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
) -> Limits:
    """The limits in force: defaults, then the mapping's, the environment's, the command's."""
    values: dict[str, int] = {}
    for name, value in (mapping or {}).items():
        values[name] = parse_value(name, value, f"mapping read.limits.{name}")
    environ = os.environ if env is None else env
    for name in NAMES:
        key = ENV_PREFIX + name.upper()
        if environ.get(key, "").strip():
            values[name] = parse_value(name, environ[key], f"environment variable {key}")
    for name, value in (cli or {}).items():
        values[name] = parse_value(name, value, f"--limit {name}={value}")
    return Limits(**values)


def parse_cli(items: tuple[str, ...] | list[str]) -> dict[str, str]:
    """``--limit name=value`` options as a dict (the names are checked by ``resolve``)."""
    out: dict[str, str] = {}
    for item in items:
        name, eq, value = item.partition("=")
        if not eq:
            raise LimitError(
                f"--limit {item!r} is not NAME=VALUE",
                where=f"--limit {item}",
                hint="for example --limit max_columns=20000 (see docs/limits.md).",
            )
        out[name.strip().replace("-", "_")] = value.strip()
    return out


def exceeded(
    limits: Limits, name: str, what: str, where: str, *, actual: int | None = None
) -> CsvbridgeError:
    """The error for an input over a limit: what, where, the limit and how to raise it."""
    from .errors import InputFileError

    shown = f" ({format_value(name, actual)})" if actual is not None else ""
    flag = name.upper()
    return InputFileError(
        f"{what}{shown}: over the limit {limits.describe(name)}",
        where=where,
        hint=f"if the file is genuine, raise the limit: --limit {name}=N on the command line, "
        f"{ENV_PREFIX}{flag}=N in the environment, or read.limits.{name} in the mapping "
        "(0 turns it off; see docs/limits.md).",
        code="limit-exceeded",
    )
