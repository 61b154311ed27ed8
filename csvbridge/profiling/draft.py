"""Draft mappings from a profile (``csvbridge init``). A draft converts the file with no edits
only when every decision it rests on is sure; otherwise it is written with the open questions
marked, and left so that ``convert`` refuses it with the reason rather than guess."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from . import FileProfile

SURE = 0.9


@dataclass
class Draft:
    """A draft mapping: its YAML text, and what the user must still settle."""

    text: str
    problems: list[str] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return not self.problems


def _q(value: str) -> str:
    return (
        yaml.safe_dump(value, default_style=None, allow_unicode=True).strip().removesuffix("\n...")
    )


def draft_transaction(
    profile: FileProfile,
    name: str,
    currency: str | None,
    *,
    date_order: str | None = None,
    sign: str | None = None,
) -> Draft:
    """A transaction mapping for a bank or card export. ``date_order`` (dmy/mdy) settles an
    ambiguous date column and ``sign`` (as-is/invert) an unproven sign: the person running
    init knows what the data cannot show."""
    roles = profile.roles
    problems = list(roles.problems)
    info = profile.info
    lines = [
        f"# Draft written by csvbridge init from {info.name}. Review it, then convert with it.",
        f"name: {_q(name)}",
        'version: "1"',
        "kind: transaction",
        "",
        "read:",
    ]
    delim = info.detections.get("delimiter")
    if delim is not None:
        lines.append(f"  delimiter: {_q('tab' if delim.value == chr(9) else delim.value)}")
    enc = info.detections.get("encoding")
    if enc is not None and enc.value not in ("utf-8", "utf-8-sig", "ascii"):
        lines.append(f"  encoding: {_q(enc.value)}")
    sheet = info.detections.get("sheet")
    if sheet is not None:
        lines.append(f"  sheet: {_q(sheet.value)}")
    if info.header_line and info.header_line > 1:
        lines.append(f"  header_line: {info.header_line}")
    if lines[-1] == "read:":
        lines.pop()

    cols = roles.columns
    money_cols = [cols[r] for r in ("amount", "money_in", "money_out", "balance") if r in cols]
    fmts = {k for c in money_cols if (k := _fmt_key(profile.numbers.get(c))) is not None}
    if len(fmts) > 1:
        problems.append("the money columns do not agree on one number format")
    for c in money_cols:
        d = profile.numbers.get(c)
        if d is None or d.value is None:
            problems.append(f"number format of '{c}': {d.reason if d else 'not numbers'}")
    if fmts:
        dec, th = next(iter(fmts))
        lines += ["", "numbers:", f"  decimal: {_q(dec)}"]
        if th:
            lines.append(f"  thousands: {_q(th)}")

    date_col = cols.get("date")
    date = profile.dates.get(date_col) if date_col else None
    if date is not None and date.value is None and date_order and date.alternatives:
        wanted = "DD" if date_order == "dmy" else "MM"
        pick = [f for f in date.alternatives if f.startswith(wanted) or f[5:].startswith(wanted)]
        if pick:
            date = type(date)(pick[0], 1.0, "given with --date-order")
    if date is None or date.value is None:
        why = date.reason if date else "no date column"
        problems.append(f"date format: {why}")
        options = ", ".join(date.alternatives) if date and date.alternatives else "DD/MM/YYYY"
        lines += ["", f"# CHECK: set the date format — one of: {options}", "dates:"]
    else:
        lines += ["", f"dates: {_q(date.value)}"]

    lines += ["", "fields:"]
    if date_col:
        lines.append(f"  date: {_q(date_col)}")
    if "description" in cols:
        lines.append(f"  description: {_q(cols['description'])}")
    if (
        "money_in" in cols
        and roles.out_negative
        and "`" not in cols["money_in"] + cols["money_out"]
    ):
        paid_in, paid_out = cols["money_in"], cols["money_out"]
        lines += [
            "  amount:   # money out is written as negative numbers, so in + out",
            f"    expr: {_q(f'coalesce(`{paid_in}`, 0) + coalesce(`{paid_out}`, 0)')}",
        ]
    elif "money_in" in cols:
        lines += [
            "  amount:",
            f"    money_in: {_q(cols['money_in'])}",
            f"    money_out: {_q(cols['money_out'])}",
        ]
        if roles.out_negative:
            problems.append("money out is written as negative numbers: write the amount as expr")
    elif "amount" in cols:
        lines += ["  amount:", f"    column: {_q(cols['amount'])}"]
        invert = roles.invert if sign is None else sign == "invert"
        if sign is not None:
            if invert:
                lines.append("    invert: true   # given with --sign invert")
        elif invert:
            lines.append("    invert: true   # " + roles.sign_reason)
        elif invert is None:
            problems.append(f"sign of the amounts: {roles.sign_reason}")
            lines.append("    # CHECK: " + roles.sign_reason + " (add invert: true if not)")
    for role in ("balance", "reference", "category"):
        if role in cols:
            lines.append(f"  {role}: {_q(cols[role])}")
    if "currency" in cols:
        lines.append(f"  currency: {_q(cols['currency'])}")
    else:
        code = currency or profile.currency[0]
        if code:
            why = "given" if currency else profile.currency[1]
            lines += ["  currency:", f"    value: {code}   # {why}"]
        else:
            problems.append("currency: the file does not say; pass --currency (e.g. GBP)")
            lines += ["  # CHECK: the file does not name its currency", "  currency:"]
    for role, c in cols.items():
        conf = roles.confidence.get(role, 1.0)
        if conf < SURE and role in ("date", "amount", "description"):
            problems.append(f"'{c}' as {role} is a guess ({conf:.0%} sure)")
    if problems:
        head = [lines[0], "# NOT READY: settle these first —", *(f"#  - {p}" for p in problems)]
        lines = head + lines[1:]
    text = "\n".join(lines) + "\n"
    return Draft(text=_strip_empty(text), problems=problems)


def _fmt_key(d: Any) -> tuple[str, str | None] | None:
    if d is None or d.value is None:
        return None
    return (d.value["decimal"], d.value["thousands"])


def _strip_empty(text: str) -> str:
    return re.sub(r"\n{3,}", "\n\n", text)
