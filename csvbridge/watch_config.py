"""The watched folder's settings file, ROOT/csvbridge.yaml: its defaults (written, with comments,
on the first run), its keys, and its validation."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import CsvbridgeError
from .mask import NO_MASK, Masker

DEFAULT_CONFIG = """\
# csvbridge watched folder: settings (see docs/watch.md). Changes are picked up while running.

# Targets for each mapping, by the mapping's name: (the name: key in its YAML file).
targets:
  # uk-bank-current-account: [xero-bank]
  # us-card-activity: [qbo-bank, xero-bank]

# Targets for a mapping not listed above.
default_targets: [csv]

# Records already imported (an overlapping download, a statement sent twice):
#   skip     hold them back, listed in duplicates.csv (the watched folder's default)
#   keep     write them again, flagged in duplicates.csv
#   mapping  as each mapping's duplicates: policy says
duplicates: skip

# Target options, as convert -O takes them (date_order: dmy, qbo-bank.formula_guard: "off").
options: {}

# Reports kept beside the import files (rejects.csv and duplicates.csv are always kept).
reports: [json, html, xlsx]

# Seconds between scans of inbox/ (filesystem events, when on, wake the watcher sooner).
interval: 5
# Seconds a file must stay unchanged (size and time) before it is taken.
settle: 2
# Filesystem events (watchdog). Set false on network shares where events do not arrive.
events: true

# Account and card numbers are shown as ****1234 in reports (true), not at all (false), or
# also these columns: [Customer Ref, Member No]. Import files are never masked.
mask: true

# The audit log (.csvbridge/audit.jsonl) is rotated at this size; this many old logs are kept.
audit_max_mb: 10
audit_keep: 5

# When the history cannot be used (busy with another conversion, or its disk full), a file
# waits in .csvbridge/processing/ and is tried again; after this many minutes it goes to failed/.
history_wait_minutes: 60
"""

ReportFormat = Literal["json", "html", "xlsx"]
REPORT_FORMATS: tuple[ReportFormat, ...] = ("json", "html", "xlsx")


class WatchConfigError(CsvbridgeError):
    """The watched folder's layout or config file cannot be used."""

    code = "watch-config"


class WatchConfig(BaseModel):
    """ROOT/csvbridge.yaml."""

    model_config = ConfigDict(extra="forbid")

    targets: dict[str, list[str]] = Field(default_factory=dict)
    default_targets: list[str] = Field(default_factory=lambda: ["csv"])
    duplicates: Literal["skip", "keep", "mapping"] = "skip"
    options: dict[str, str] = Field(default_factory=dict)
    reports: list[ReportFormat] = Field(default_factory=lambda: list(REPORT_FORMATS))
    interval: float = Field(5.0, gt=0)
    settle: float = Field(2.0, ge=0)
    events: bool = True
    decisions: str | None = None
    mask: bool | list[str] = True
    audit_max_mb: float = Field(10.0, gt=0)
    audit_keep: int = Field(5, ge=1, le=100)
    history_wait_minutes: float = Field(60.0, ge=0)

    @field_validator("targets", mode="before")
    @classmethod
    def _target_lists(cls, v: Any) -> Any:
        if v is None:
            return {}
        if isinstance(v, dict):
            return {k: _word_list(x) for k, x in v.items()}
        return v

    @field_validator("default_targets", mode="before")
    @classmethod
    def _default_list(cls, v: Any) -> Any:
        return _word_list(v)

    @field_validator("options", mode="before")
    @classmethod
    def _no_options(cls, v: Any) -> Any:
        return {} if v is None else v

    def targets_for(self, mapping_name: str) -> list[str]:
        return self.targets.get(mapping_name) or self.default_targets

    def masker(self) -> Masker:
        """What to mask in reports (``mask:``)."""
        if self.mask is False:
            return NO_MASK
        return Masker.of(self.mask if isinstance(self.mask, list) else ())


def _word_list(v: Any) -> Any:
    if v is None:
        return []
    if isinstance(v, str):
        return [w.strip() for w in v.split(",") if w.strip()]
    return v


class _Loader(yaml.SafeLoader):
    """Only true/false/null resolved: 'off' stays text (formula_guard: off), numbers are
    validated from text."""


_Loader.yaml_implicit_resolvers = {}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]
)


def load_config(path: Path) -> WatchConfig:
    """Read and validate the config file (a missing file means the defaults)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return WatchConfig()
    except (OSError, UnicodeDecodeError) as e:
        raise WatchConfigError(
            f"the config file cannot be read: {e}",
            where=str(path),
            hint="save it as UTF-8 text.",
        ) from None
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise WatchConfigError(
            f"the config file is not valid YAML: {getattr(e, 'problem', None) or e}",
            where=f"{path}" + (f", line {mark.line + 1}" if mark else ""),
            hint="check indentation and quoting.",
        ) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise WatchConfigError(
            "the config file must be a set of keys (targets:, duplicates:, ...)",
            where=str(path),
            hint="see docs/watch.md for the keys.",
        )
    try:
        return WatchConfig.model_validate(data)
    except ValidationError as e:
        problems = []
        for item in e.errors():
            key = ".".join(str(p) for p in item["loc"]) or "(top level)"
            msg = "unknown key (a typo?)" if item["type"] == "extra_forbidden" else item["msg"]
            problems.append(f"{key}: {msg}")
        raise WatchConfigError(
            "the config file has mistakes: " + "; ".join(problems),
            where=str(path),
            hint="see docs/watch.md for the keys and their values.",
        ) from None
