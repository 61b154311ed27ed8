"""Which mapping a claimed file belongs to, and the notes a person reads when a file failed or
was already imported."""

from __future__ import annotations

import shlex
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import CsvbridgeError, InputFileError
from .mapping import CompiledMapping, LoadedMapping
from .mapping.recognise import recognise
from .pipeline import read_options
from .readers import open_source


@dataclass
class Routing:
    """The mapping chosen for a file, or why none was."""

    mapping: LoadedMapping | None
    problem: dict[str, Any] | None = None
    tried: list[dict[str, Any]] = field(default_factory=list)


def read_header(lm: LoadedMapping, path: Path) -> list[str]:
    """The file's columns as this mapping reads them (its delimiter, header line, sheet...)."""
    cm = CompiledMapping(lm.mapping, str(lm.path))
    with ExitStack() as stack:
        return list(open_source(path, 0, read_options(lm, cm, None), stack).info.columns)


def route(mappings: list[LoadedMapping], broken: list[str], path: Path) -> Routing:
    """Match ``path`` against every mapping's recognise: rules; exactly one must claim it."""
    tried: list[dict[str, Any]] = []
    matches: list[LoadedMapping] = []
    read_errors: list[CsvbridgeError] = []
    for lm in mappings:
        header: list[str] | None = None
        error: CsvbridgeError | None = None
        if lm.mapping.recognise.header:
            try:
                header = read_header(lm, path)
            except CsvbridgeError as e:
                error = e
                read_errors.append(e)
        rec = recognise(lm, path, header)
        reasons = list(rec.reasons)
        if error is not None:
            reasons = [r for r in reasons if not r.startswith("the header")]
            reasons.append(error.message + (f" [{error.where}]" if error.where else ""))
        ok = rec.matches and error is None
        tried.append(
            {"mapping": lm.mapping.name, "file": lm.path.name, "matches": ok, "reasons": reasons}
        )
        if ok:
            matches.append(lm)
    if len(matches) == 1:
        return Routing(matches[0], None, tried)
    problem: dict[str, Any]
    if not mappings:
        problem = {
            "code": "no-mappings",
            "message": "there are no usable mappings to recognise files with"
            + (" (" + "; ".join(broken) + ")" if broken else ""),
        }
    elif matches:
        problem = {
            "code": "several-mappings",
            "message": "several mappings recognise this file: "
            + ", ".join(f"{m.mapping.name} ({m.path.name})" for m in matches),
        }
    elif read_errors and all(isinstance(e, InputFileError) for e in read_errors):
        first = read_errors[0]
        problem = {
            "code": "unreadable",
            "message": f"the file cannot be read: {first.message}",
            "hint": first.hint,
        }
    else:
        problem = {"code": "no-mapping", "message": "no mapping recognises this file"}
    return Routing(None, {**problem, "tried": tried, "broken_mappings": broken}, tried)


def _q(p: Path | str) -> str:
    return shlex.quote(str(p))


def reason_text(j: dict[str, Any], reason: dict[str, Any], root: Path, mappings: Path) -> str:
    """REASON.txt: what happened to the file, why, and what to do."""
    where = root / "failed" / j["failed"] / j["safe"]
    stem = j["safe"].rsplit(".", 1)[0] or "mapping"
    lines = [
        "csvbridge could not convert this file.",
        "",
        f"file      {j['shown']}  ({j.get('bytes', '?')} bytes, sha256 {j.get('sha256') or '-'})",
        f"received  {j['claimed']}",
        f"kept as   {j['safe']} (in this folder)",
        f"reason    {reason['message']}  [{reason['code']}]",
    ]
    if reason.get("where"):
        lines.append(f"where     {reason['where']}")
    if reason.get("hint"):
        lines.append(f"hint      {reason['hint']}")
    tried = reason.get("tried") or []
    if tried:
        lines += ["", f"Mappings tried ({mappings}):"]
        for t in tried:
            verdict = "recognises it" if t["matches"] else "does not"
            lines.append(f"  {t['file']} ({t['mapping']}): {verdict}: " + "; ".join(t["reasons"]))
    for b in reason.get("broken_mappings") or []:
        lines.append(f"  could not be loaded: {b}")
    lines += ["", "What to do:"]
    code = reason["code"]
    if code in ("no-mapping", "no-mappings"):
        lines += [
            "  This looks like an export no mapping knows yet. Draft one from the file, review it,",
            "  save it in the mappings folder, then move the file back into inbox/:",
            f"    csvbridge inspect {_q(where)}",
            f"    csvbridge init {_q(where)} -o {_q(mappings / (stem + '.yaml'))}",
            "  If one of the mappings above should have recognised it, compare its columns (or",
            "  its recognise: filename patterns) with the reasons given.",
        ]
    elif code == "several-mappings":
        lines += [
            "  Make the mappings' recognise: rules tell these files apart, for example a file",
            "  name pattern in each (recognise: {filename: ['*HSBC*.csv']}), then move the file",
            "  back into inbox/.",
        ]
    elif code == "not-a-file":
        lines.append("  Copy the file itself (not a link to it) into inbox/.")
    elif reason.get("gave_up"):
        lines += [
            "  The file itself is fine: csvbridge could not use the folder's history or disk",
            "  (see the reason) and stopped trying. Once the other conversion is over, or space",
            "  is freed on the disk, move the file back into inbox/ to convert it.",
        ]
    elif code == "internal-error":
        lines.append("  This is a bug in csvbridge: please report it with this file's reason.json.")
    else:
        lines.append(
            "  Fix what the reason says (the file, or its mapping), then move the file back"
        )
        lines.append("  into inbox/ to convert it again.")
    return "\n".join(lines) + "\n"


def already_text(j: dict[str, Any], batches: list[dict[str, Any]], history: Path) -> str:
    """ALREADY-IMPORTED.txt: the same bytes were converted before; nothing was written."""
    lines = [
        "This file was already converted: nothing was imported again.",
        "",
        f"file      {j['shown']}  ({j.get('bytes', '?')} bytes, sha256 {j.get('sha256')})",
        f"received  {j['claimed']}",
        f"archived  archive/{j['archive']}",
        "",
        "The same bytes were converted in:",
    ]
    for b in batches:
        names = ", ".join(i.get("name", "?") for i in b.get("inputs", []))
        lines.append(
            f"  batch {b['id']}  {b.get('created', '')}  {b.get('mapping', '')}  "
            f"{b.get('records', '?')} records  from {names}"
        )
    last = batches[-1]["id"] if batches else "N"
    lines += [
        "",
        f"If batch {last} was never imported into the accounting system, forget it and drop the",
        "file into inbox/ again:",
        f"  csvbridge forget {last} --history {_q(history)}",
    ]
    return "\n".join(lines) + "\n"
