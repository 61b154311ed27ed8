"""pyarrow without pandas: pyarrow imports pandas (~0.2 s and ~40 MB) the first time
``pa.array()``, ``to_numpy()`` or ``pa.scalar()`` runs, only to ask whether its input is a
pandas object, and csvbridge never passes one. Called before csvbridge's modules load (a
command's start, ``csvbridge.convert``); a program that uses csvbridge's modules directly
just keeps pyarrow's own behaviour."""

from __future__ import annotations

from typing import Any

_DONE: list[bool] = []  # set up once per process


def keep_pandas_out_of_pyarrow() -> None:
    """When pandas is not loaded yet, pyarrow's first look for it
    is made to fail as if it were not installed, and the first real import of pandas re-arms
    pyarrow's pandas shim (``_Rearm``), so pandas objects convert as pyarrow documents. Any
    failure leaves pyarrow as it was."""
    import sys

    if "pandas" in sys.modules or _DONE:
        return
    _DONE.append(True)
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
