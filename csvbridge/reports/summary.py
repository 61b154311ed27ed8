"""The terminal summary a person reads after a run."""

from __future__ import annotations

from typing import Any

MAX_LISTED = 4  # output parts named one by one in the summary


def summary_lines(report: dict[str, Any], outdir: str) -> list[str]:
    """A short plain-text account of the run: inputs, detections, outputs and the tie-out."""
    lines: list[str] = []
    m = report["mapping"]
    lines.append(f"mapping  {m['name']} v{m['version']} ({m['kind']})")
    for inp in report["inputs"]:
        det = inp["detected"]
        bits = [
            f"{k} {_show(v['value'])} ({v['confidence']:.0%}, {v['method']})"
            for k, v in det.items()
        ]
        lines.append(
            f"input    {inp['name']}: {inp['data_rows']} rows, header at line "
            f"{inp['header_line']}; " + "; ".join(bits)
        )
        if inp["preamble"]:
            lines.append(f"         preamble: {len(inp['preamble'])} line(s) kept in report.json")
        if inp["footer"]:
            lines.append("         footer: " + " / ".join(f["text"] for f in inp["footer"]))
        for w in inp["warnings"]:
            lines.append(f"         warning: {w}")
    for t in report["targets"]:
        opts = ", ".join(f"{k}={v}" for k, v in t["options"].items())
        parts = t["files"]
        if len(parts) > MAX_LISTED:  # a split import: its first and last part, and the count
            rows = sum(f["rows"] for f in parts)
            files = (
                f"{parts[0]['name']} … {parts[-1]['name']} ({len(parts):,} files, {rows:,} rows)"
            )
        else:
            files = ", ".join(f"{f['name']} ({f['rows']} rows)" for f in parts)
        lines.append(f"output   {t['name']} [{opts}]: {files}")
    rej = report["rejects"]
    if rej["rows"]:
        rules = ", ".join(f"{k} {v}" for k, v in rej["by_rule"].items())
        lines.append(f"rejected {rej['rows']} row(s) → {outdir}/rejects.csv ({rules})")
        for r in rej["first"][:5]:
            e = r["errors"][0]
            lines.append(
                f"         {r['file']} line {r['line']}: {e['field'] or 'row'}"
                f"{' ' + repr(e['value']) if e['value'] else ''}: {e['message']}"
            )
    dup = report["duplicates"]
    if dup["flagged"]:
        lines.append(
            f"duplicates {dup['flagged']} flagged ({dup['held_back']} held back, policy "
            f"{dup['policy']}) → {outdir}/duplicates.csv"
        )
    near = dup.get("possible") or {}
    if near.get("flagged"):
        held = near["held_back"]
        lines.append(
            f"         of which {near['flagged']} possible (same amount within "
            f"{near['window_days']} days, similar text): "
            + (f"{held} held back for review" if held else "written, check them")
            + "; decide in a decisions file (identity, decision)"
        )
    for check in report.get("reconciliation", []):
        lines.append(f"check    {check['name']} ({check['file']}): {check['status']}")
        if check.get("detail"):
            lines.append(f"         {check['detail']}")
    for t in report["tie_out"]:
        mark = "balanced" if t["balanced"] else "FAILED"
        lines.append(f"tie-out  {t['target']}: {mark}")
        lines += [f"         {e}" for e in t["equation"]]
    lines.append(f"report   {outdir}/report.html (also report.json, report.xlsx)")
    return lines


def _show(v: Any) -> str:
    return repr(v) if isinstance(v, str) and len(v) == 1 else str(v)
