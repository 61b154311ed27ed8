"""The watched folder's layout, its config file, safe names and the audit log.

ROOT/
  inbox/          files dropped here are converted
  outbox/         one folder per converted file: import files and reports
  archive/        each source converted, under a dated, collision-free name
  failed/         one folder per file that could not be converted: the file and REASON.txt
  mappings/       the mappings that recognise and convert files (or --mappings DIR)
  csvbridge.yaml  targets per mapping, duplicate policy, report formats, timings
  .csvbridge/     history.sqlite, audit.jsonl, processing/ (claimed files), locks
"""

from __future__ import annotations

import json
import os
import re
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .atomic import write_atomic
from .errors import CsvbridgeError

CONFIG_NAME = "csvbridge.yaml"
STATE_DIR = ".csvbridge"

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
"""

# Names that are never taken: partial downloads, editors' lock and temporary files, dot-files.
IGNORED_SUFFIXES = (
    ".part",
    ".partial",
    ".crdownload",
    ".download",
    ".filepart",
    ".tmp",
    ".temp",
    ".swp",
    ".lock",
    "~",
    "#",
)
IGNORED_NAMES = frozenset({"thumbs.db", "desktop.ini"})
_WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL"}
    | {f"COM{i}" for i in range(1, 10)}
    | {f"LPT{i}" for i in range(1, 10)}
)
_UNSAFE_CHARS = set('/\\:*?"<>|')


ReportFormat = Literal["json", "html", "xlsx"]
REPORT_FORMATS: tuple[ReportFormat, ...] = ("json", "html", "xlsx")


class WatchConfigError(CsvbridgeError):
    """The watched folder's layout or config file cannot be used."""

    code = "watch-config"


@dataclass(frozen=True)
class Layout:
    """The paths of one watched folder."""

    root: Path
    mappings: Path

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def outbox(self) -> Path:
        return self.root / "outbox"

    @property
    def archive(self) -> Path:
        return self.root / "archive"

    @property
    def failed(self) -> Path:
        return self.root / "failed"

    @property
    def config(self) -> Path:
        return self.root / CONFIG_NAME

    @property
    def state(self) -> Path:
        return self.root / STATE_DIR

    @property
    def processing(self) -> Path:
        return self.state / "processing"

    @property
    def watchers(self) -> Path:
        return self.state / "watchers"

    @property
    def history(self) -> Path:
        return self.state / "history.sqlite"

    @property
    def audit(self) -> Path:
        return self.state / "audit.jsonl"

    @property
    def convert_lock(self) -> Path:
        return self.state / "convert.lock"

    @property
    def marker(self) -> Path:
        return self.state / "converting.json"

    def folders(self) -> list[Path]:
        return [
            self.inbox,
            self.outbox,
            self.archive,
            self.failed,
            self.state,
            self.processing,
            self.watchers,
        ]


def layout_for(root: str | Path, mappings: str | Path | None = None) -> Layout:
    r = Path(root).absolute()
    return Layout(r, Path(mappings).absolute() if mappings else r / "mappings")


def ensure_layout(layout: Layout) -> list[str]:
    """Create what is missing (folders, a commented config file); returns what was created.
    A layout folder that is a symbolic link is refused: the watcher never follows links out
    of ROOT."""
    created: list[str] = []
    try:
        if not layout.root.exists():
            layout.root.mkdir(parents=True)
            created.append(str(layout.root))
        folders = layout.folders()
        if layout.mappings == layout.root / "mappings":
            folders.append(layout.mappings)
        for d in folders:
            if d.is_symlink():
                raise WatchConfigError(
                    f"{d.name}/ is a symbolic link; the watcher does not follow links",
                    where=str(d),
                    hint="make it a real folder inside the watched folder.",
                    code="watch-layout",
                )
            if not d.is_dir():
                d.mkdir(parents=True)
                created.append(str(d.relative_to(layout.root)) + "/")
        if not layout.config.exists():
            write_atomic(layout.config, DEFAULT_CONFIG.encode("utf-8"))
            created.append(CONFIG_NAME)
    except FileExistsError as e:
        raise WatchConfigError(
            "a file stands where the watched folder needs a folder",
            where=str(e.filename),
            hint="move the file away, or choose another ROOT.",
            code="watch-layout",
        ) from None
    except OSError as e:
        raise WatchConfigError(
            f"the watched folder cannot be set up: {e.strerror}",
            where=str(e.filename or layout.root),
            hint="check the path and your permissions.",
            code="watch-layout",
        ) from None
    if not layout.mappings.is_dir():
        raise WatchConfigError(
            "the mappings folder does not exist",
            where=str(layout.mappings),
            hint="give a folder of mapping .yaml files with --mappings, or leave it out to use "
            "ROOT/mappings.",
            code="watch-mappings",
        )
    return created


# -- config ----------------------------------------------------------------------------------
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


# -- names -----------------------------------------------------------------------------------
def ignored(name: str) -> bool:
    """A name that is never taken: a dot-file, an Office owner file (~$x.xlsx), a partial
    download or a temporary file."""
    low = name.lower()
    return (
        name.startswith((".", "~"))
        or low.endswith(IGNORED_SUFFIXES)
        or low in IGNORED_NAMES
        or not name.strip()
    )


def locked_by_editor(name: str, siblings: set[str]) -> bool:
    """An office suite has the file open (its owner or lock file sits beside it)."""
    return bool(
        {f"~${name}", f"~${name[2:]}", f".~lock.{name}#"} & siblings
        if len(name) > 2
        else {f"~${name}", f".~lock.{name}#"} & siblings
    )


def shown(name: str) -> str:
    """A file name as text safe to print: control and undecodable characters escaped."""
    out = []
    for c in name:
        if c.isprintable():
            out.append(c)
        elif ord(c) < 0x100:
            out.append(f"\\x{ord(c):02x}")
        else:
            out.append(f"\\u{ord(c):04x}")
    return "".join(out)


def _clean_part(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    chars = []
    for c in text:
        bad = c in _UNSAFE_CHARS or (unicodedata.category(c)[0] in "CZ" and c != " ")
        chars.append("_" if bad else c)
    return re.sub(r"[\s_]+", lambda m: "_" if "_" in m.group() else " ", "".join(chars))


def _truncate(text: str, max_bytes: int) -> str:
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    return data[:max_bytes].decode("utf-8", "ignore")


def safe_stem_ext(name: str, max_bytes: int = 80) -> tuple[str, str]:
    """A file name's stem and extension, safe to use in a path on any system: no separators,
    no '..', no control characters, no reserved device names, bounded length."""
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem or not re.fullmatch(r"[A-Za-z0-9]{1,10}", ext):
        stem, ext = name, ""
    stem = _clean_part(stem).strip(" ._-")
    stem = re.sub(r"\.{2,}", ".", stem)
    if stem.split(".")[0].upper() in _WINDOWS_RESERVED:
        stem = "_" + stem
    stem = _truncate(stem, max_bytes).rstrip(" .") or "file"
    return stem, ext


def safe_name(name: str, max_bytes: int = 80) -> str:
    stem, ext = safe_stem_ext(name, max_bytes)
    return f"{stem}.{ext}" if ext else stem


# -- audit log -------------------------------------------------------------------------------
def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


class Audit:
    """The audit log: one JSON object per line, appended (every file seen, claimed, converted
    or failed, with counts and hashes). Lines are written whole with one append, so several
    watchers can share the log."""

    def __init__(self, path: Path, watcher: str) -> None:
        self.path = path
        self.watcher = watcher

    def log(self, event: str, **fields: Any) -> dict[str, Any]:
        entry = {"time": now_iso(), "event": event, "watcher": self.watcher, **fields}
        line = (json.dumps(entry, ensure_ascii=True, default=str) + "\n").encode("ascii")
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)
        return entry


def read_audit(path: Path, max_bytes: int = 2_000_000) -> list[dict[str, Any]]:
    """The last entries of the audit log (about ``max_bytes`` of it), oldest first."""
    try:
        with path.open("rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - max_bytes))
            data = f.read()
    except FileNotFoundError:
        return []
    lines = data.split(b"\n")
    if size > max_bytes:
        lines = lines[1:]  # the first may be cut
    out: list[dict[str, Any]] = []
    for raw in lines:
        if not raw.strip():
            continue
        try:
            entry = json.loads(raw)
        except ValueError:
            continue  # a line cut by a crash mid-write
        if isinstance(entry, dict):
            out.append(entry)
    return out
