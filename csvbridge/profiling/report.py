"""The plain-text view of a profile that ``csvbridge inspect`` prints."""

from __future__ import annotations

from . import FileProfile


def inspect_lines(profile: FileProfile) -> list[str]:
    """Lines a person reads: the file's layout, each column, the roles and what is unsure."""
    info = profile.info
    d = profile.as_dict()
    out = [f"file      {info.name} ({info.size} bytes, {info.format})"]
    for key, det in sorted(info.detections.items()):
        if key == "header":
            continue
        shown = repr(det.value) if isinstance(det.value, str) and len(det.value) == 1 else det.value
        out.append(f"{key:<9} {shown} ({det.confidence:.0%}, {det.method})")
    head = info.detections.get("header")
    how = f" ({head.confidence:.0%}, {head.method})" if head else ""
    out.append(f"header    line {info.header_line}{how}; {info.rows} data rows")
    for line, text in info.preamble:
        out.append(f"preamble  line {line}: {text}")
    for line, text in info.footer:
        out.append(f"footer    line {line}: {text}")
    if info.blank_lines:
        out.append(f"blank     {info.blank_lines} blank line(s) skipped")
    out.append("columns:")
    for c in d["columns"]:
        detail = ""
        if "date_format" in c:
            f = c["date_format"]
            detail = (
                f"date {f['value']} ({f['confidence']:.0%})"
                if f["value"]
                else f"date, ORDER UNKNOWN: {f.get('reason', '')}"
            )
        elif "number_format" in c:
            f = c["number_format"]
            v = f["value"]
            detail = (
                f"number, decimal '{v['decimal']}', thousands "
                f"'{v['thousands'] or 'none'}' ({f['confidence']:.0%})"
                if v
                else f"number, FORMAT UNKNOWN: {f.get('reason', '')}"
            )
            if c.get("negatives"):
                detail += f", negatives as {c['negatives']}"
        else:
            detail = c["type"]
        ex = ", ".join(repr(e) for e in c["examples"][:3])
        out.append(f"  {c['name']:<24} {detail}   e.g. {ex}")
    roles = d["transaction_roles"]
    if roles["columns"]:
        pairs = ", ".join(f"{r}={c!r}" for r, c in roles["columns"].items())
        out.append(f"as bank/card transactions: {pairs}")
        if roles["sign"]:
            out.append(f"  sign: {roles['sign']}")
    cur = d["currency"]
    out.append(
        f"currency  {cur['value']} ({cur['reason']})" if cur["value"] else "currency  not stated"
    )
    for p in roles["problems"] + d["notes"]:
        out.append(f"unsure    {p}")
    return out
