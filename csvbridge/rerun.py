"""A batch run again into the folder it already finished in: nothing to do.

The history commits a batch last, after every output and report is in place; a run killed
between that commit and its exit (or simply typed twice) has finished its work. Converting it
again would hold every record back as already imported and overwrite good import files with
empty ones. So when the history holds this exact batch (same input bytes, mapping and target
options) and the output folder still holds that batch's report and import files, byte for
byte, the run leaves the folder alone and says so. In any other folder, or once a file there
changed, the batch is converted as usual (its records then come out as duplicates).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from .history import History
from .readers import file_sha256


def finished_in(store: History, batches: list[int], out: Path) -> dict[str, Any] | None:
    """The report of the last of ``batches`` when ``out`` still holds its finished outputs
    exactly as recorded; None otherwise."""
    if not batches:
        return None
    batch_id = batches[-1]
    try:
        report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(report, dict) or (report.get("history") or {}).get("batch") != batch_id:
        return None
    found = [b for b in store.batches() if b.id == batch_id]
    if not found:
        return None
    for f in found[0].outputs:
        if not isinstance(f, dict) or _sha256(out / str(f.get("name", ""))) != f.get("sha256"):
            return None
    return report


def _sha256(path: Path) -> str | None:
    try:
        return file_sha256(path)
    except OSError:
        return None


def input_sha256(path: Path) -> str:
    """An input's SHA-256 for the batch key; "" when it cannot be read (the reader then says
    why, when it opens the file)."""
    return _sha256(path) or ""


def batch_key_of(
    hashes: list[str], mapping_sha: str, target_opts: dict[str, dict[str, str]]
) -> str:
    """Same inputs, mapping and targets: the same batch (a re-run replaces it)."""
    blob = json.dumps([hashes, mapping_sha, target_opts], sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()


def converted_before(batch: int, hold_back: bool) -> str:
    """The run's warning when its files were converted with its mapping before, in ``batch``:
    what happened to their records (held back, or with policy keep written again)."""
    if hold_back:
        return (
            f"these files were converted with this mapping before, in batch {batch}: their "
            f"records are held back as duplicates. If batch {batch} was never imported, run "
            f"csvbridge forget {batch} and convert again"
        )
    return (
        f"these files were converted with this mapping before, in batch {batch}: the "
        "mapping's duplicates policy is keep, so their records are written again and "
        f"flagged in duplicates.csv. Import them only if batch {batch} was never imported"
    )
