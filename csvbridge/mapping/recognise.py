"""Which mapping a file belongs to (for the watched folder), and whether a file's layout has
drifted from the one its mapping was written for."""

from __future__ import annotations

import difflib
import fnmatch
from dataclasses import dataclass
from pathlib import Path

from ..errors import MappingError
from ..readers.table import _norm
from .load import LoadedMapping, locate


@dataclass(frozen=True)
class Recognition:
    """Whether a mapping claims a file, and why (or why not)."""

    mapping: LoadedMapping
    matches: bool
    reasons: tuple[str, ...]


def recognise(lm: LoadedMapping, path: Path, header: list[str] | None) -> Recognition:
    """Does ``lm`` claim the file at ``path`` whose header is ``header`` (None: not read)?
    Every stated test must hold: a file name pattern (if any), and the header holding every
    column the mapping reads (unless ``recognise.header`` is false)."""
    from .compile import CompiledMapping

    spec = lm.mapping.recognise
    reasons: list[str] = []
    ok = True
    if spec.filename:
        hit = [p for p in spec.filename if fnmatch.fnmatch(path.name.lower(), p.lower())]
        ok &= bool(hit)
        reasons.append(
            f"file name matches {hit[0]!r}"
            if hit
            else f"file name matches none of {', '.join(spec.filename)}"
        )
    if spec.header:
        want = CompiledMapping(lm.mapping, str(lm.path)).expected_columns()
        have = {_norm(c) for c in header or []}
        missing = [c for c in want if _norm(c) not in have]
        ok &= header is not None and not missing
        reasons.append(
            "the header has every column the mapping reads"
            if not missing and header is not None
            else "the header lacks " + ", ".join(repr(m) for m in missing)
        )
    if not spec.filename and not spec.header:
        ok = False
        reasons.append("the mapping states no way to recognise its files")
    return Recognition(lm, ok, tuple(reasons))


def check_layout(lm: LoadedMapping, columns: list[str], source: str) -> None:
    """MappingError naming the difference when the file's columns are not the mapping's
    ``layout`` (a renamed, added or removed column): never a silent wrong conversion."""
    layout = lm.mapping.layout
    if not layout:
        return
    have = {_norm(c): c for c in columns}
    want = {_norm(c): c for c in layout}
    removed = [want[k] for k in want if k not in have]
    added = [have[k] for k in have if k not in want]
    if not removed and not added:
        return
    parts = []
    for r in removed:
        close = difflib.get_close_matches(r, added, n=1, cutoff=0.6)
        parts.append(f"'{r}' renamed to '{close[0]}'?" if close else f"'{r}' is gone")
    renamed = {p.split("'")[3] for p in parts if "renamed" in p}
    parts += [f"'{a}' is new" for a in added if a not in renamed]
    raise MappingError(
        "the file's columns are not the layout this mapping was written for: " + "; ".join(parts),
        where=f"{source}; mapping {locate(str(lm.path), 'layout')}",
        hint="if the export changed on purpose, update the mapping (and its layout:) to the new "
        "columns; if not, ask for the export in the usual layout.",
        code="layout-drift",
    )
