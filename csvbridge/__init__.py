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


def _keep_pandas_out_of_pyarrow() -> None:
    """pyarrow imports pandas (~0.2 s and ~40 MB) the first time ``pa.array()``,
    ``to_numpy()`` or ``pa.scalar()`` runs, only to ask whether the input is a pandas object;
    csvbridge never passes one. When pandas is not loaded yet, pyarrow's first look for it
    is made to fail as if it were not installed, and the first real import of pandas re-arms
    pyarrow's pandas shim (``_Rearm``), so pandas objects convert as pyarrow documents. Any
    failure leaves pyarrow as it was."""
    import sys

    if "pandas" in sys.modules:
        return
    try:
        import pyarrow as pa
        from pyarrow.lib import _pandas_api as shim
    except Exception:
        return
    blind = False
    block = _Block()
    sys.meta_path.insert(0, block)
    try:
        pa.array([0])  # the shim's and Arrow's first looks for pandas, which now fail
        blind = not shim.have_pandas
    except Exception:
        pass
    finally:
        sys.meta_path.remove(block)
    if blind:
        sys.meta_path.insert(0, _Rearm(shim))


class _Block:
    """A meta path finder for which pandas is not installed."""

    def find_spec(self, name: str, path: Any, target: Any = None) -> None:
        if name == "pandas":
            raise ModuleNotFoundError("No module named 'pandas'", name="pandas")


class _Rearm:
    """A meta path finder that, when pandas is imported, lets the import run as usual and
    then has pyarrow's pandas shim import it for real (its checks then see pandas again)."""

    def __init__(self, shim: Any) -> None:
        self.shim = shim

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        import sys

        if name != "pandas":
            return None
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            spec = find(name, path, target) if finder is not self and find is not None else None
            if spec is not None:
                break
        else:
            return None
        if hasattr(spec.loader, "exec_module"):
            spec.loader = _RearmLoader(self, spec.loader)
        return spec


class _RearmLoader:
    """pandas' loader, re-arming pyarrow's shim once pandas is loaded (a find_spec alone,
    as an is-it-installed check does, leaves the finder in place)."""

    def __init__(self, finder: _Rearm, loader: Any) -> None:
        self._finder = finder
        self._loader = loader

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)

    def create_module(self, spec: Any) -> Any:
        return self._loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        import contextlib
        import sys

        module.__loader__ = module.__spec__.loader = self._loader  # pandas' own, as always
        self._loader.exec_module(module)
        if self._finder in sys.meta_path:
            sys.meta_path.remove(self._finder)
        with contextlib.suppress(Exception):
            self._finder.shim.pd  # noqa: B018  # the shim imports pandas (now loaded) and its compat


_keep_pandas_out_of_pyarrow()
