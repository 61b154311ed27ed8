"""Target options of a run: which options apply to which target, and what they resolve to."""

from __future__ import annotations

from ..errors import TargetError
from ..mapping import LoadedMapping
from .base import Target


def target_options(target: Target, lm: LoadedMapping, given: dict[str, str]) -> dict[str, str]:
    """A target's options for a run: its defaults, the shared options it has and its own
    (``target.name=value``); ``date_order=auto`` settled from the mapping's currency."""
    mine = {k.split(".", 1)[1]: v for k, v in given.items() if k.startswith(target.name + ".")}
    shared = {k: v for k, v in given.items() if "." not in k}
    names = {o.name for o in target.options}
    opts = target.resolve_options({**{k: v for k, v in shared.items() if k in names}, **mine})
    if opts.get("date_order") == "auto":
        cur = lm.mapping.fields.get("currency")
        code = (cur.value or "").upper() if cur is not None and cur.value else None
        if code is None:
            raise TargetError(
                f"{target.name} needs to know the date order of the company you import into, "
                "and the mapping's currency comes from a column",
                where=f"--to {target.name}",
                hint="add --date-order dmy (DD/MM/YYYY) or --date-order mdy (MM/DD/YYYY).",
                code="date-order-needed",
            )
        opts["date_order"] = "mdy" if code == "USD" else "dmy"
    return opts


def check_option_names(given: dict[str, str], chosen: list[Target]) -> None:
    """Every option must mean something to a chosen target: a typo is an error, not a no-op."""
    for key, value in given.items():
        tname, _, opt = key.rpartition(".")
        targets = [t for t in chosen if t.name == tname] if tname else chosen
        if tname and not targets:
            raise TargetError(
                f"option {key} is for target {tname}, which this run does not write",
                where=f"-O {key}={value}",
                hint="targets of this run: " + ", ".join(t.name for t in chosen),
                code="option-unknown",
            )
        if not any(opt in {o.name for o in t.options} for t in targets):
            names = sorted({o.name for t in targets for o in t.options})
            raise TargetError(
                f"no target of this run has an option '{opt}'",
                where=f"-O {key}={value}",
                hint="options: " + (", ".join(names) or "none") + ". See: csvbridge formats NAME",
                code="option-unknown",
            )
