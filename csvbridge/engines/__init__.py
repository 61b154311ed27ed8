"""Engines run the pure part of a conversion — reading files and mapping their chunks — and
hand the results back in input order; duplicates, history, writers and reports stay in
``pipeline.convert``. ``local`` runs here; ``dask`` runs on a dask.distributed cluster."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..errors import EngineError, InputFileError
from .base import Closed, Engine, Event, MapJob, Mapped, Opened, check_columns, read_options
from .local import LocalEngine

ENGINES = ("local", "dask")

__all__ = [
    "ENGINES",
    "Closed",
    "Engine",
    "Event",
    "LocalEngine",
    "MapJob",
    "Mapped",
    "Opened",
    "check_columns",
    "expand_inputs",
    "get_engine",
    "read_options",
]


def get_engine(
    name: str = "local",
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    read_on: str | None = None,
) -> Engine:
    """The engine called ``name``. ``scheduler`` (a dask scheduler address), ``workers`` (for a
    local Dask cluster) and ``read_on`` only mean something to the dask engine."""
    if name == "local":
        if scheduler is not None or workers is not None or read_on is not None:
            raise EngineError(
                "--scheduler, --workers and --read-on are for the dask engine",
                where="--engine local",
                hint="add --engine dask, or leave those options out.",
                code="engine-option",
            )
        return LocalEngine()
    if name == "dask":
        from .dask import DaskEngine  # only now: the local engine never imports dask

        return DaskEngine(scheduler=scheduler, workers=workers, read_on=read_on or "workers")
    raise EngineError(
        f"there is no engine called '{name}'",
        where=f"--engine {name}",
        hint="engines: " + ", ".join(ENGINES),
        code="engine-unknown",
    )


def expand_inputs(inputs: Sequence[str | Path]) -> list[Path]:
    """Input paths with each folder replaced by the files in it, sorted by name (hidden files
    and subfolders are left out)."""
    out: list[Path] = []
    for given in inputs:
        p = Path(given)
        if not p.is_dir():
            out.append(p)
            continue
        files = sorted(
            (f for f in p.iterdir() if f.is_file() and not f.name.startswith(".")),
            key=lambda f: f.name,
        )
        if not files:
            raise InputFileError(
                "the input folder has no files in it",
                where=str(p),
                hint="put the files to convert in it, or name the files themselves.",
                code="folder-empty",
            )
        out += files
    return out
