"""``verify_archive``: re-check an archive folder written by the ``archive`` target, years later,
against its own ``datapackage.json`` (see csvbridge.writers.archive for what it holds)."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from .archive import DESCRIPTOR
from .archive_checks import CsvCheck, check_parquet, file_digest, inside_folder
from .archive_result import Checked, Problem, ProblemList, VerifyResult


def verify_archive(folder: str | Path) -> VerifyResult:
    """Re-check an archive written by the ``archive`` target (see the module docstring)."""
    root = Path(folder)
    result = VerifyResult(root)
    top = ProblemList(result, DESCRIPTOR)
    desc_path = root / DESCRIPTOR
    if not root.is_dir():
        top.add(f"{root} is not a folder")
        return result
    if not desc_path.is_file():
        top.add("missing: without it nothing can be checked (is this an archive folder?)")
        return result
    try:
        desc = json.loads(desc_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        top.add(f"not valid JSON: {e}")
        return result
    if not isinstance(desc, dict) or not isinstance(desc.get("resources"), list):
        top.add("not a Data Package descriptor: it has no list of resources")
        return result
    section = desc.get("csvbridge") if isinstance(desc.get("csvbridge"), dict) else {}
    result.package = dict(section or {})
    amount_field = result.package.get("amount_field")
    listed = {DESCRIPTOR}
    main: CsvCheck | None = None
    for i, res in enumerate(desc["resources"], start=1):
        if not isinstance(res, dict):
            top.add(f"resource {i} is not an object")
            continue
        rel = res.get("path")
        name = str(res.get("name") or rel or f"resource {i}")
        path = inside_folder(root, rel)
        if path is None:
            top.add(f"resource {name}: path {rel!r} is not a file inside the archive")
            continue
        listed.add(Path(str(rel)).as_posix())
        label = str(rel)
        probs = ProblemList(result, label)
        fmt_name = str(res.get("format") or Path(label).suffix.lstrip(".")).lower()
        checked = Checked(name, label, fmt_name)
        result.resources.append(checked)
        if not path.is_file():
            probs.add("missing: the descriptor lists it, the folder does not have it")
            probs.finish()
            continue
        checked.checksum_ok = _check_checksum(path, res, probs)
        expected_rows = (res.get("csvbridge") or {}).get("rows")
        rows: int | None
        if fmt_name == "csv":
            check = CsvCheck(path, res, probs, amount_field if main is None else None)
            check.run()
            rows, content_ok = check.rows, check.ok
            if main is None:
                main = check
                content_ok &= _check_written(check, result.package, expected_rows)
        elif fmt_name == "parquet":
            rows, content_ok = check_parquet(path, res, probs)
        else:
            rows, content_ok = None, True
            result.warnings.append(f"{label}: format {fmt_name!r} is checked by checksum only")
        checked.rows = rows
        if rows is not None and isinstance(expected_rows, int) and rows != expected_rows:
            content_ok = False
            probs.add(f"{rows:,} data rows, the descriptor says {expected_rows:,}")
        checked.content_ok = content_ok
        probs.finish()
    top.finish()
    for p in sorted(root.rglob("*")):
        rel_p = p.relative_to(root).as_posix()
        if p.is_file() and rel_p not in listed:
            result.warnings.append(f"{rel_p}: in the folder, not in the descriptor (not checked)")
    return result


def _check_checksum(path: Path, res: dict[str, Any], probs: ProblemList) -> bool:
    digest, size = file_digest(path)
    ok = True
    want_size = res.get("bytes")
    if isinstance(want_size, int) and want_size != size:
        ok = False
        probs.add(f"{size:,} bytes, the descriptor says {want_size:,}")
    want = str(res.get("hash") or "")
    algo, _, value = want.rpartition(":")
    if not want:
        probs.add("the descriptor has no hash for it")
        return False
    if (algo or "md5") != "sha256":
        probs.add(f"the descriptor's hash is {algo or 'md5'}, verify-archive checks sha256")
        return False
    if value.lower() != digest:
        ok = False
        probs.add(
            "the SHA-256 differs from the descriptor's: the file changed after it was "
            f"archived (descriptor {value[:16]}..., file {digest[:16]}...)"
        )
    return ok


def _check_written(check: CsvCheck, section: dict[str, Any], resource_rows: Any) -> bool:
    """The records and money the descriptor recorded as written, against the CSV (a count
    the resource already states is checked there, not twice)."""
    written = section.get("written") if isinstance(section.get("written"), dict) else None
    if not written:
        return True
    add = check.problems.add
    ok = True
    rows = written.get("rows")
    if isinstance(rows, int) and rows != check.rows and rows != resource_rows:
        ok = False
        add(f"{check.rows:,} records; the descriptor's csvbridge.written records {rows:,}")
    amounts = written.get("amounts")
    if not check.amount_field or not isinstance(amounts, dict):
        return ok
    for cur in sorted(set(amounts) | set(check.totals)):
        want = amounts.get(cur)
        got = check.totals.get(cur, Decimal(0))
        try:
            same = want is not None and Decimal(str(want)) == got
        except InvalidOperation:
            same = False
        if not same:
            ok = False
            add(
                f"the {cur or '(no currency)'} total of {check.amount_field} is {got}; the "
                f"descriptor's csvbridge.written records {want if want is not None else 'none'}",
                field=check.amount_field,
            )
    blank = written.get("rows_without_amount")
    if isinstance(blank, int) and blank != check.without_amount:
        ok = False
        add(
            f"{check.without_amount:,} record(s) without a readable {check.amount_field}; the "
            f"descriptor's csvbridge.written records {blank:,}",
            field=check.amount_field,
        )
    return ok


__all__ = ["Checked", "Problem", "VerifyResult", "verify_archive"]
