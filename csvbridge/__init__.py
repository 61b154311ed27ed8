"""csvbridge: turn legacy and SaaS CSV/Excel exports into files accounting systems import, with
a reconciliation report proving every row was written, rejected, filtered or a duplicate."""

__version__ = "0.1.0"

from .errors import CsvbridgeError
from .mapping import load_mapping
from .model import KINDS
from .pipeline import ConvertResult, convert
from .writers import TARGETS

__all__ = [
    "KINDS",
    "TARGETS",
    "ConvertResult",
    "CsvbridgeError",
    "__version__",
    "convert",
    "load_mapping",
]
