"""Writers: one canonical kind to one target format. ``TARGETS`` is keyed by the word users
type after ``--to``; every module in this package that defines ``TARGETS`` contributes."""

from __future__ import annotations

import importlib
import pkgutil

from ..errors import TargetError
from .base import CsvSink, CsvWriter, Option, OutputFile, Target, WriteContext, Writer

_HELPERS = {"base", "format"}


def _discover() -> dict[str, Target]:
    found: dict[str, Target] = {}
    for mod in sorted(m.name for m in pkgutil.iter_modules(__path__)):
        if mod in _HELPERS:
            continue
        for t in getattr(importlib.import_module(f"{__name__}.{mod}"), "TARGETS", []):
            if t.name in found:
                raise RuntimeError(f"two writers claim the target name {t.name!r}")
            found[t.name] = t
    return dict(sorted(found.items()))


TARGETS: dict[str, Target] = _discover()

__all__ = [
    "TARGETS",
    "CsvSink",
    "CsvWriter",
    "Option",
    "OutputFile",
    "Target",
    "WriteContext",
    "Writer",
    "resolve_target",
]


def resolve_target(word: str, kind: str) -> Target:
    """The target a user means by ``word`` for records of ``kind``: a target name, or a
    system's family name (``qbo``, ``xero``) meaning its target for that kind."""
    name = word.strip().lower()
    family = [t for t in TARGETS.values() if t.family == name and kind in t.kinds]
    if name not in TARGETS and len(family) == 1:
        name = family[0].name
    target = TARGETS.get(name)
    if target is None:
        raise TargetError(
            f"unknown target '{word}'"
            + (f" for {kind} records" if any(t.family == name for t in TARGETS.values()) else ""),
            where=f"--to {word}",
            hint="targets: " + ", ".join(sorted(TARGETS)) + " (csvbridge formats lists them)",
            code="target-unknown",
        )
    if kind not in target.kinds:
        takes = [t for t in sorted(TARGETS) if kind in TARGETS[t].kinds]
        raise TargetError(
            f"target {target.name} takes {', '.join(target.kinds)} records, and this mapping "
            f"makes {kind} records",
            where=f"--to {word}",
            hint=f"targets for {kind}: {', '.join(takes)}",
            code="target-kind",
        )
    return target
