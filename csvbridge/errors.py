"""The exception tree. Every error a user can see is a CsvbridgeError with a stable code,
a location (file, line, column or mapping key) and a hint saying what to do."""

from __future__ import annotations


class CsvbridgeError(Exception):
    """Base of all errors csvbridge reports to a user.

    ``code`` is stable (tests and scripts may rely on it); ``where`` says which file, line,
    column or mapping key; ``hint`` says what to do about it.
    """

    code = "error"
    exit_code = 2

    def __init__(self, message: str, *, where: str = "", hint: str = "", code: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.where = where
        self.hint = hint
        if code:
            self.code = code

    def render(self) -> str:
        """The text shown to a person: what, where, and what to do."""
        lines = [f"error [{self.code}]: {self.message}"]
        if self.where:
            lines.append(f"  where: {self.where}")
        if self.hint:
            lines.append(f"  hint:  {self.hint}")
        return "\n".join(lines)


class InputFileError(CsvbridgeError):
    """An input file cannot be read at all (missing, empty, binary, wrong format)."""

    code = "input-error"


class MappingError(CsvbridgeError):
    """A mapping file is invalid, or does not fit the input file."""

    code = "mapping-error"


class TargetError(CsvbridgeError):
    """An unknown target, or a target that cannot take the mapping's kind."""

    code = "target-error"


class OutputError(CsvbridgeError):
    """Outputs cannot be written (permissions, disk full, not a folder)."""

    code = "output-error"


class ConservationError(CsvbridgeError):
    """The tie-out failed: rows or money were lost or doubled. Always a bug; never ignored."""

    code = "conservation-failed"
    exit_code = 3


class EngineError(CsvbridgeError):
    """The engine that runs the conversion failed (a Dask cluster unreachable, a worker lost)."""

    code = "engine-error"
