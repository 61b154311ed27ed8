"""csvbridge: turn legacy and SaaS CSV/Excel exports into files accounting systems import, with
a reconciliation report proving every row was written, rejected, filtered or a duplicate."""

from __future__ import annotations

import os

# First, before anything imports numpy: OpenBLAS would start a thread per core at import, and
# csvbridge does no linear algebra. A user's own setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

from .errors import CsvbridgeError

if TYPE_CHECKING:
    from .mapping import load_mapping
    from .model import KINDS
    from .pipeline import ConvertResult, convert
    from .writers import TARGETS

# The rest is imported when first used: a program that only reads files
# (csvbridge.readers) need not load the pipeline, pandas and the writers.
_LAZY = {
    "load_mapping": ".mapping",
    "KINDS": ".model",
    "ConvertResult": ".pipeline",
    "convert": ".pipeline",
    "TARGETS": ".writers",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        from .arrow_setup import keep_pandas_out_of_pyarrow

        keep_pandas_out_of_pyarrow()
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "KINDS",
    "TARGETS",
    "ConvertResult",
    "CsvbridgeError",
    "__version__",
    "convert",
    "load_mapping",
]
