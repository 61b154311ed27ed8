"""Writers: one canonical kind to one target format. ``TARGETS`` is keyed by the word users
type after ``--to``."""

from __future__ import annotations

from ..errors import TargetError
from . import bank, generic
from .base import CsvSink, Option, OutputFile, Target, Writer

TARGETS: dict[str, Target] = {t.name: t for t in (*generic.TARGETS, *bank.TARGETS)}

# A system's name alone picks that system's target for the mapping's kind.
_FAMILIES: dict[str, dict[str, str]] = {
    "qbo": {"transaction": "qbo-bank"},
    "xero": {"transaction": "xero-bank"},
}

__all__ = ["TARGETS", "CsvSink", "Option", "OutputFile", "Target", "Writer", "resolve_target"]


def resolve_target(word: str, kind: str) -> Target:
    """The target a user means by ``word`` for records of ``kind``."""
    name = word.strip().lower()
    if name in _FAMILIES and kind in _FAMILIES[name]:
        name = _FAMILIES[name][kind]
    target = TARGETS.get(name)
    if target is None:
        raise TargetError(
            f"unknown target '{word}'",
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
