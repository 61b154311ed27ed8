"""Ground truth from the shared corpus's own expected results, and the bookkeeping that scores
csvbridge against it (used by tests/test_corpus_accuracy.py).

Each parser reads an upstream project's own format — csv-spectrum's JSON, csvkit's converted
CSVs, bank2ynab.conf, DuckDB's sqllogictest ``.test`` files, hledger's ``.rules`` files and
journals — and nothing here knows what csvbridge answers. Where a label is ours rather than the
upstream project's (an encoding read off the bytes, which bank section a sample belongs to), the
test file says so next to the label.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from csvbridge.dates import DateFormatError, compile_format

# --------------------------------------------------------------------------------------------
# Scoring
# --------------------------------------------------------------------------------------------


@dataclass
class Prop:
    """One measured property of one suite, file by file.

    ``wrong`` is a confident wrong answer (the worst outcome); ``refused`` means csvbridge said
    it cannot tell (ambiguous, with its reason); ``missed`` means it did not see the thing at all
    (no date column found, ...); ``excluded`` are files the property does not apply to or whose
    label is defective — they do not count.
    """

    right: list[str] = field(default_factory=list)
    wrong: dict[str, str] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)
    missed: dict[str, str] = field(default_factory=dict)
    excluded: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, outcome: str, detail: str = "") -> None:
        if outcome == "right":
            self.right.append(name)
        else:
            getattr(self, outcome)[name] = detail

    @property
    def total(self) -> int:
        return len(self.right) + len(self.wrong) + len(self.refused) + len(self.missed)

    @property
    def accuracy(self) -> float:
        return len(self.right) / self.total if self.total else 1.0

    def failing(self) -> dict[str, str]:
        out = {k: f"WRONG: {v}" for k, v in self.wrong.items()}
        out.update({k: f"refused: {v}" for k, v in self.refused.items()})
        out.update({k: f"missed: {v}" for k, v in self.missed.items()})
        return out

    def summary(self) -> str:
        s = f"{len(self.right)}/{self.total} ({self.accuracy:.0%})"
        extra = [
            f"{n} {label}"
            for n, label in (
                (len(self.wrong), "wrong"),
                (len(self.refused), "refused"),
                (len(self.missed), "missed"),
                (len(self.excluded), "excluded"),
            )
            if n
        ]
        return s + (f"  [{', '.join(extra)}]" if extra else "")

    def as_dict(self) -> dict[str, Any]:
        return {
            "right": len(self.right),
            "total": self.total,
            "accuracy": round(self.accuracy, 4),
            "right_files": sorted(self.right),
            "wrong": dict(sorted(self.wrong.items())),
            "refused": dict(sorted(self.refused.items())),
            "missed": dict(sorted(self.missed.items())),
            "excluded": dict(sorted(self.excluded.items())),
        }


@dataclass
class DelimiterObs:
    """One file with a labelled delimiter: what csvbridge detected and the text it saw."""

    name: str
    want: str
    got: str
    text: str  # the sample csvbridge's dialect detection reads (decoded head of the file)


@dataclass
class Suite:
    """All properties measured on one suite, plus its delimiter observations."""

    name: str
    props: dict[str, Prop] = field(default_factory=dict)
    delimiters: list[DelimiterObs] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def prop(self, name: str) -> Prop:
        return self.props.setdefault(name, Prop())

    def lines(self) -> list[str]:
        out = [f"== {self.name}"]
        width = max((len(k) for k in self.props), default=0)
        for k, p in self.props.items():
            out.append(f"   {k:<{width}}  {p.summary()}")
        out += [f"   note: {n}" for n in self.notes]
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "properties": {k: p.as_dict() for k, p in self.props.items()},
            "notes": self.notes,
        }


def show(value: Any) -> str:
    """A delimiter or other short value, printable on one line."""
    return (
        {"\t": "TAB", " ": "SPACE"}.get(value, repr(value))
        if isinstance(value, str)
        else repr(value)
    )


# --------------------------------------------------------------------------------------------
# Comparing delimiters, encodings and date formats
# --------------------------------------------------------------------------------------------


def _unquoted(text: str) -> str:
    return re.sub(r'"[^"]*"', "", text)


def same_delimiter(text: str, want: str, got: str) -> bool:
    """The detected delimiter is the labelled one — or neither occurs in the text outside quotes
    (a one-column file reads the same whichever of them is assumed)."""
    if got == want:
        return True
    bare = _unquoted(text)
    return want not in bare and got not in bare


def codec_name(name: str) -> str:
    """A codec's canonical Python name (``latin1``, ``ISO-8859-1`` → ``iso8859-1``)."""
    return codecs.lookup(name).name


def same_encoding(data: bytes, want: str, got: str) -> bool:
    """Same codec, or both decode these bytes to the same text (a byte-order mark aside) —
    cp1252 and latin-1 agree on a file whose only non-ASCII byte is é."""
    if codec_name(want) == codec_name(got):
        return True
    try:
        a = data.decode(want).lstrip("\ufeff")
        b = data.decode(got).lstrip("\ufeff")
    except (UnicodeDecodeError, LookupError):
        return False
    return a == b


_TIME_START = re.compile(r"(%[HIMSzZpfT]|%-[HIMS]|HH|hh|mm|ss|T\d|T%)")


def date_part(fmt: str) -> str:
    """A date format (strftime or csvbridge tokens) without its time part, and with
    strftime's unpadded and alias forms made plain (``%-d`` → ``%d``, ``%h`` → ``%b``)."""
    f = fmt.replace("%-", "%").replace("%h", "%b").replace("%e", "%d")
    m = _TIME_START.search(f)
    if m:
        f = f[: m.start()]
    return f.rstrip(" T:-+")


def date_pattern(fmt: str) -> str | None:
    """The regex csvbridge compiles for the date part of ``fmt`` — equal patterns read the
    same dates (DD and %d, MMM and %b compile alike). None if it is not a usable date format."""
    try:
        return compile_format(date_part(fmt)).pattern
    except DateFormatError:
        return None


def same_date_format(want: str, got: str) -> bool:
    a, b = date_pattern(want), date_pattern(got)
    return a is not None and a == b


# --------------------------------------------------------------------------------------------
# csv-spectrum
# --------------------------------------------------------------------------------------------


def spectrum_cases(root: Path) -> list[tuple[Path, list[dict[str, str]]]]:
    """Each csvs/NAME.csv with the rows json/NAME.json says it parses to."""
    out = []
    for p in sorted((root / "csvs").glob("*.csv")):
        j = root / "json" / f"{p.stem}.json"
        if j.exists():
            out.append((p, json.loads(j.read_text(encoding="utf-8"))))
    return out


# --------------------------------------------------------------------------------------------
# bank2ynab.conf
# --------------------------------------------------------------------------------------------


@dataclass
class BankSection:
    """One ``[bank]`` section: its own keys, the defaults it inherits, and its comments (which
    often name a sample file)."""

    name: str
    own: dict[str, str]
    defaults: dict[str, str]
    comments: list[str]

    def get(self, key: str) -> str | None:
        k = _conf_key(key)
        if k in self.own:
            return self.own[k]
        return self.defaults.get(k)

    def has(self, key: str) -> bool:
        return _conf_key(key) in self.own

    @property
    def delimiter(self) -> str:
        d = self.get("Source CSV Delimiter") or ","
        return {"\\t": "\t", "tab": "\t"}.get(d.strip().lower(), d.strip() or ",")

    @property
    def header_rows(self) -> int:
        return int(self.get("Header Rows") or 1)

    @property
    def footer_rows(self) -> int:
        return int(self.get("Footer Rows") or 0)

    @property
    def date_format(self) -> str | None:
        return (self.get("Date Format") or "").strip() or None

    @property
    def input_columns(self) -> list[str] | None:
        """The section's own Input Columns (the DEFAULT list describes no real file)."""
        if not self.has("Input Columns"):
            return None
        return [c.strip() for c in (self.own[_conf_key("Input Columns")]).split(",")]

    @property
    def describes_format(self) -> bool:
        """Sections that only test filename matching set none of the format keys."""
        keys = ("Source CSV Delimiter", "Header Rows", "Footer Rows", "Input Columns")
        return any(self.has(k) for k in keys) or self.has("Date Format")


def _conf_key(key: str) -> str:
    return " ".join(key.split()).casefold()


def parse_bank2ynab_conf(text: str, defaults: dict[str, str] | None = None) -> list[BankSection]:
    """bank2ynab's INI-like config: ``[section]``, ``Key = value``, ``#`` comments, indented
    continuation lines (Plugin Arguments), keys case- and space-insensitive, [DEFAULT]
    inherited. ``defaults`` (from bank2ynab.conf) seed a second file such as test.conf."""
    base: dict[str, str] = dict(defaults or {})
    sections: list[BankSection] = []
    cur: BankSection | None = None
    last_key: str | None = None
    for raw in text.splitlines():
        line = raw.rstrip()
        if not line.strip():
            continue
        if line.lstrip().startswith("#"):
            if cur is not None:
                cur.comments.append(line.lstrip("# ").strip())
            continue
        if line[0] in " \t" and last_key is not None:
            continue  # a continuation line (plugin arguments): not a format key
        m = re.match(r"^\[(.+)\]$", line.strip())
        if m:
            name = m.group(1)
            if name == "DEFAULT":
                cur = BankSection("DEFAULT", base, {}, [])
            else:
                cur = BankSection(name, {}, base, [])
                sections.append(cur)
            last_key = None
            continue
        if "=" in line and cur is not None:
            k, v = line.split("=", 1)
            last_key = _conf_key(k)
            cur.own[last_key] = v.strip()
    return sections


def bank_sections_for(sections: list[BankSection], filename: str) -> list[BankSection]:
    """Sections whose filename rule (bank2ynab's: a prefix, or ``re.match(pattern + '.*\\.')``
    with Use Regex) or whose comments name this file. The extension is compared without case
    (the samples include ``.CSV``)."""
    out = []
    for s in sections:
        pat = s.get("Source Filename Pattern") or ""
        ext = (s.get("Source Filename Extension") or ".csv").lower()
        rx = (s.get("Use Regex For Filename") or "False").strip().lower() == "true"
        named = any(c == filename or c.startswith(filename + " ") for c in s.comments)
        if not filename.lower().endswith(ext) and not named:
            continue
        try:
            hit = bool(re.match(pat + r".*\.", filename)) if rx else filename.startswith(pat)
        except re.error:
            hit = False
        if pat and (hit or named):
            out.append(s)
    return out


# --------------------------------------------------------------------------------------------
# DuckDB sqllogictest files: sniff_csv expectations
# --------------------------------------------------------------------------------------------

SNIFF_COLUMNS = (
    "delimiter",
    "quote",
    "escape",
    "newlinedelimiter",
    "comment",
    "skiprows",
    "hasheader",
    "columns",
    "dateformat",
    "timestampformat",
    "userarguments",
    "prompt",
)


@dataclass
class SniffCase:
    """What DuckDB's sniffer must find in one file, as its own tests assert."""

    path: str  # relative to the duckdb folder
    sources: list[str] = field(default_factory=list)  # test file:line that said so
    delimiter: str | None = None
    has_header: bool | None = None
    skip: int | None = None
    comment: str | None = None
    dateformat: str | None = None
    columns: list[tuple[str, str]] | None = None  # (name, type)
    conflicts: list[str] = field(default_factory=list)

    def merge(self, key: str, value: Any, source: str) -> None:
        if value is None:
            return
        old = getattr(self, key)
        if old is not None and old != value:
            self.conflicts.append(f"{key}: {old!r} vs {value!r} ({source})")
        setattr(self, key, value)


_SNIFF_CALL = re.compile(r"sniff_csv\(\s*'([^']*)'\s*(,[^)]*)?\)", re.I)
_SELECT = re.compile(r"^\s*select\s+(.*?)\s+from\s+sniff_csv", re.I | re.S)
_COL_ITEM = re.compile(
    r"\{'name': ('(?:[^'\\]|\\.)*'|.*?), 'type': ([A-Z_][A-Z_ ]*(?:\([^)]*\))?)\}"
)
_GENERATED = re.compile(r"^column\d+$")


def _sql_string(v: str) -> str:
    return v.encode("latin-1", "backslashreplace").decode("unicode_escape") if "\\" in v else v


def parse_sniff_columns(text: str) -> list[tuple[str, str]]:
    out = []
    for m in _COL_ITEM.finditer(text):
        name = m.group(1)
        if name.startswith("'") and name.endswith("'"):
            name = name[1:-1].replace("\\'", "'")
        out.append((name, m.group(2)))
    return out


def _from_prompt(case: SniffCase, prompt: str, src: str) -> None:
    m = re.search(r"delim='((?:[^'\\]|\\.)*)'", prompt)
    if m:
        case.merge("delimiter", _sql_string(m.group(1)), src)
    m = re.search(r"header=(true|false)", prompt)
    if m:
        case.merge("has_header", m.group(1) == "true", src)
    m = re.search(r"skip=(\d+)", prompt)
    if m:
        case.merge("skip", int(m.group(1)), src)
    m = re.search(r"comment='((?:[^'\\]|\\.)*)'", prompt)
    if m:
        case.merge("comment", m.group(1), src)
    m = re.search(r"dateformat='([^']*)'", prompt)
    if m:
        case.merge("dateformat", m.group(1), src)
    m = re.search(r"columns=\{(.*?)\}[,)]", prompt)
    if m:
        cols = re.findall(r"'((?:[^'\\]|\\.)*)': '([A-Z_]+)'", m.group(1))
        if cols:
            case.merge("columns", [(n.replace("\\'", "'"), t) for n, t in cols], src)


def _records(text: str) -> list[tuple[int, list[str], list[str]]]:
    """(line, SQL lines, result lines) of each ``query`` record of a sqllogictest file."""
    out = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("query "):
            start = i + 1
            sql: list[str] = []
            i += 1
            while i < len(lines) and lines[i].strip() and lines[i] != "----":
                sql.append(lines[i])
                i += 1
            res: list[str] = []
            if i < len(lines) and lines[i] == "----":
                i += 1
                while i < len(lines) and lines[i] != "":
                    res.append(lines[i])
                    i += 1
            out.append((start, sql, res))
        i += 1
    return out


def duckdb_sniff_cases(root: Path) -> dict[str, SniffCase]:
    """Per data file, the sniff_csv results DuckDB's tests expect. Only calls without options
    count (an option such as ``sample_size`` or ``delim`` changes what the sniffer must find),
    and only files that ship in ``data/csv`` (not ones a test writes first)."""
    cases: dict[str, SniffCase] = {}
    for tf in sorted((root / "test").rglob("*.test")):
        rel_test = tf.relative_to(root).as_posix()
        for line, sql_lines, res in _records(tf.read_text(encoding="utf-8", errors="replace")):
            sql = " ".join(sql_lines)
            m = _SNIFF_CALL.search(sql)
            if not m or m.group(2) or not res:
                continue
            raw_path = m.group(1)
            if raw_path.startswith("{DATA_DIR}/"):
                rel = "data/" + raw_path[len("{DATA_DIR}/") :]
            elif raw_path.startswith("data/"):
                rel = raw_path
            else:
                continue
            if any(ch in rel for ch in "*?{"):
                continue
            src = f"{rel_test}:{line}"
            case = cases.setdefault(rel, SniffCase(rel))
            case.sources.append(src)
            sel = _SELECT.match(sql)
            names = (
                [c.strip().lower() for c in sel.group(1).split(",")]
                if sel and sel.group(1).strip() != "*"
                else list(SNIFF_COLUMNS)
            )
            text = "\n".join(res)
            if "prompt" in names and "FROM read_csv(" in text:
                _from_prompt(case, text[text.index("FROM read_csv(") :], src)
            if len(res) != 1:
                continue
            cells = res[0].split("\t")
            if names == list(SNIFF_COLUMNS) or len(cells) != len(names):
                continue
            for n, v in zip(names, cells, strict=True):
                if n == "delimiter" and v:
                    case.merge("delimiter", _sql_string(v), src)
                elif n == "hasheader" and v in ("true", "false"):
                    case.merge("has_header", v == "true", src)
                elif n == "skiprows" and v.isdigit():
                    case.merge("skip", int(v), src)
                elif n == "dateformat" and v not in ("NULL", ""):
                    case.merge("dateformat", v, src)
                elif n == "columns":
                    case.merge("columns", parse_sniff_columns(v) or None, src)
    for case in cases.values():
        if case.has_header is None and case.columns:
            case.has_header = not all(_GENERATED.match(n) for n, _ in case.columns)
    return cases


_READ_CSV_ONLY = re.compile(
    r"^\s*(?:select\s+\*\s+)?from\s+read_csv(?:_auto)?\(\s*'([^']*)'\s*\)\s*;?\s*$", re.I
)


def duckdb_column_counts(root: Path) -> dict[str, int]:
    """Per data file, the number of columns DuckDB's auto-detecting ``read_csv('file')`` must
    return (the ``query IIII`` type string of a bare ``FROM read_csv('file')``)."""
    out: dict[str, int] = {}
    bad: set[str] = set()
    for tf in sorted((root / "test").rglob("*.test")):
        text = tf.read_text(encoding="utf-8", errors="replace")
        lines = text.splitlines()
        for line, sql_lines, res in _records(text):
            m = _READ_CSV_ONLY.match(" ".join(sql_lines))
            if not m or not res:
                continue
            raw = m.group(1)
            if not raw.startswith("{DATA_DIR}/"):
                continue
            if any(ch in raw[len("{DATA_DIR}/") :] for ch in "*?{"):
                continue
            rel = "data/" + raw[len("{DATA_DIR}/") :]
            n = len(lines[line - 1].split()[1])  # "query IIII"
            if out.get(rel, n) != n:
                bad.add(rel)
            out[rel] = n
    return {k: v for k, v in out.items() if k not in bad}


CANDIDATE_DELIMITERS = (",", ";", "\t", "|")


def infer_delimiter(text: str, ncols: int, skip: int = 0) -> str | None:
    """The one candidate delimiter whose widest row (trailing empty cells aside) among the
    first 50 after ``skip`` has ``ncols`` columns; None if none or several do. For one column,
    a comma when no candidate splits any row."""
    fits = []
    for d in CANDIDATE_DELIMITERS:
        rows = [r for r in rows_of(text, d)[skip : skip + 50] if any(c.strip() for c in r)]
        widths = []
        for r in rows:
            while len(r) > 1 and not r[-1].strip():
                r = r[:-1]
            widths.append(len(r))
        if widths and max(widths) == ncols:
            fits.append(d)
    if ncols == 1:
        return "," if len(fits) == len(CANDIDATE_DELIMITERS) else None
    return fits[0] if len(fits) == 1 else None


# --------------------------------------------------------------------------------------------
# hledger: rules files and journals
# --------------------------------------------------------------------------------------------

_SEPARATORS = {"tab": "\t", "\\t": "\t", "space": " ", "comma": ",", "semicolon": ";"}


@dataclass
class Rules:
    """The parts of an hledger CSV rules file that describe the file's layout."""

    path: Path
    skip: int | None = None
    separator: str | None = None
    date_format: str | None = None
    encoding: str | None = None
    fields: list[str] = field(default_factory=list)
    assignments: dict[str, str] = field(default_factory=dict)  # top-level field assignments
    directives: set[str] = field(default_factory=set)
    conditional: bool = False  # has if blocks / if tables
    includes: list[Path] = field(default_factory=list)

    def separator_for(self, data_file: Path) -> str:
        """hledger's separator: the ``separator`` rule, else by extension (.tsv, .ssv), else
        a comma."""
        if self.separator:
            return self.separator
        return {".tsv": "\t", ".ssv": ";"}.get(data_file.suffix.lower(), ",")

    def field_index(self, name: str) -> int | None:
        """0-based column of hledger field ``name``: named in ``fields`` or assigned ``%N``
        or ``%field`` at top level."""
        if name in self.fields:
            return self.fields.index(name)
        expr = self.assignments.get(name, "").strip()
        m = re.fullmatch(r"-?%(\d+)", expr)
        if m:
            return int(m.group(1)) - 1
        m = re.fullmatch(r"-?%([\w-]+)", expr)
        if m and m.group(1) in self.fields:
            return self.fields.index(m.group(1))
        return None


_FIELD_ASSIGN = re.compile(
    r"^(date2?|description|amount(?:-in|-out)?\d*|amount\d+(?:-in|-out)?|balance\d*|currency\d*|"
    r"account\d+|comment\d*|code|status|payee|note)(?:\s+(.*))?$"
)


def parse_rules(path: Path) -> Rules:
    """hledger's CSV rules: top-level directives and field assignments; ``if`` blocks and
    tables are noted (they make a conversion conditional) and skipped; includes are merged."""
    r = Rules(path)
    _parse_rules_into(r, path, set())
    return r


def _parse_rules_into(r: Rules, path: Path, seen: set[Path]) -> None:
    if path in seen or not path.exists():
        return
    seen.add(path)
    in_if = False
    for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = raw.rstrip()
        stripped = line.strip()
        if not stripped:
            in_if = False
            continue
        if stripped[0] in "#;*":
            continue
        if re.match(r"^if(\s|$|[,|;\t])", line):
            r.conditional = True
            in_if = True
            continue
        if in_if:
            continue  # matchers and indented assignments of an if block
        if line[0] in " \t":
            continue
        word, _, rest = stripped.partition(" ")
        rest = rest.strip()
        r.directives.add(word)
        if word == "skip":
            r.skip = int(rest) if rest.isdigit() else 1
        elif word == "separator":
            r.separator = _SEPARATORS.get(rest.lower(), rest)
        elif word == "date-format":
            r.date_format = rest
        elif word == "encoding":
            r.encoding = rest
        elif word == "fields":
            r.fields = [f.strip().strip('"') for f in rest.split(",")]
        elif word == "include":
            inc = (path.parent / rest).resolve()
            r.includes.append(inc)
            _parse_rules_into(r, inc, seen)
        else:
            m = _FIELD_ASSIGN.match(stripped)
            if m:
                r.assignments[m.group(1)] = m.group(2) or ""


def record_line(text: str, separator: str, n: int) -> int | None:
    """The physical line (1-based) where the ``n``-th record starts, counting as hledger's
    ``skip`` does: blank or whitespace-only lines are not records."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    start, count = 1, 0
    for cells in reader:
        if "".join(cells).strip():
            count += 1
            if count == n:
                return start
        start = reader.line_num + 1
    return None


@dataclass
class JournalTxn:
    date: str  # ISO
    amount: Decimal | None  # the first posting's amount, signed; None if it has none


_TXN_DATE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:=\S+)?(?:\s|$)")
_AMOUNT_NUM = re.compile(r"[-+]?\s*[^\d\s-]*\s*-?\d[\d,]*(?:\.\d+)?")


def parse_amount(text: str) -> Decimal | None:
    """The number in an hledger amount such as ``$-50``, ``-$50``, ``EUR 100``, ``1 @@ 1 EUR``
    (only the part before any price or balance assertion)."""
    text = re.split(r"@|=", text, maxsplit=1)[0].strip()
    if not text:
        return None
    neg = "-" in text.split(next((c for c in text if c.isdigit()), "\0"), 1)[0]
    m = re.search(r"\d[\d,]*(?:\.\d+)?", text)
    if not m:
        return None
    try:
        value = Decimal(m.group(0).replace(",", ""))
    except InvalidOperation:
        return None
    return -value if neg else value


def parse_journal(text: str) -> list[JournalTxn]:
    """Transactions of a journal: each date line, and the amount of its first posting."""
    out: list[JournalTxn] = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = _TXN_DATE.match(line)
        if not m:
            continue
        y, mo, d = (int(g) for g in m.groups())
        amount = None
        if i + 1 < len(lines) and lines[i + 1][:1] in (" ", "\t"):
            posting = lines[i + 1].split(";", 1)[0].strip()
            parts = re.split(r"\s{2,}|\t", posting, maxsplit=1)
            if len(parts) == 2:
                amount = parse_amount(parts[1])
        out.append(JournalTxn(f"{y:04d}-{mo:02d}-{d:02d}", amount))
    return out


# --------------------------------------------------------------------------------------------
# csvkit
# --------------------------------------------------------------------------------------------

AGATE_NULLS = {"", "na", "n/a", "none", "null", "."}


def read_csv_cells(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def letter_name(i: int) -> str:
    """agate's name for an unnamed column: a, b, ..., z, aa, ... (0-based ``i``)."""
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(97 + r) + s
    return s


def csvkit_equivalent(ours: str, theirs: str) -> str | None:
    """Why two differing cells hold the same value once csvkit's own normalisation is undone
    (None if they do not): agate's null tokens, True/False, 40 vs 40.0, ISO 'T' datetimes."""
    o, t = ours.strip(), theirs.strip()
    if t == "" and o.lower() in AGATE_NULLS:
        return "csvkit reads NA/N/A/NONE/NULL/. as null"
    if o.lower() in ("true", "false") and t in ("True", "False") and o.lower() == t.lower():
        return "csvkit writes booleans as True/False"
    try:
        if Decimal(o) == Decimal(t):
            return "csvkit writes xls numbers as floats (40.0)"
    except InvalidOperation:
        pass
    if o.replace(" ", "T") == t or (len(o) == 10 and t == o + "T00:00:00"):
        return "csvkit writes datetimes in ISO form with T (midnight in full)"
    return None


def sniffer_delimiter(text: str) -> str | None:
    """Python's csv.Sniffer on the same sample, with its defaults; None if it gives up."""
    try:
        return csv.Sniffer().sniff(text).delimiter
    except csv.Error:
        return None


def head_lines(text: str, n: int = 200) -> str:
    """The sample csvbridge's dialect detection looks at: the first ``n`` lines, without the
    last (possibly cut) one."""
    lines = text.splitlines()[:n]
    if len(lines) > 1:
        lines = lines[:-1]
    return "\n".join(lines)


def decode_head(data: bytes, encoding: str) -> str:
    return data[: 64 * 1024].decode(encoding, errors="replace").lstrip("\ufeff")


def rows_of(text: str, delimiter: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text), delimiter=delimiter))
