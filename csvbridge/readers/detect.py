"""Detection of what a file is: its format (by content, not name), encoding and CSV dialect."""

from __future__ import annotations

import codecs
import csv
import io
import re
import sys
from collections import Counter
from typing import BinaryIO

from ..errors import InputFileError
from .base import Detection

SAMPLE_BYTES = 64 * 1024
_PROBES = 4  # extra blocks sampled across the file, so a late non-ASCII byte is seen

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def sniff_format(head: bytes, name: str) -> str:
    """``csv``, ``xlsx`` or an InputFileError saying what the file really is."""
    if not head:
        raise InputFileError(
            "the file is empty (0 bytes)",
            where=name,
            hint="export the file again from the source system; nothing can be converted.",
            code="empty-file",
        )
    if head.startswith(b"PK\x03\x04"):
        # OpenDocument puts its mimetype uncompressed first in the zip.
        return "ods" if b"application/vnd.oasis.opendocument.spreadsheet" in head[:200] else "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "xls"  # OLE2: legacy Excel, or an encrypted xlsx (reported as protected)
    if head.startswith(b"%PDF"):
        raise InputFileError(
            "this is a PDF, not a spreadsheet or CSV export",
            where=name,
            hint="download the statement as CSV or Excel from the bank instead.",
            code="binary-file",
        )
    if not any(head.startswith(bom) for bom, _ in _BOMS) and _looks_binary(head):
        offset = head.find(b"\x00")
        raise InputFileError(
            "this does not look like a text file: it has NUL bytes"
            + (f" (first at byte {offset})" if offset >= 0 else "")
            + " and no text encoding fits",
            where=name,
            hint="check that this is really a CSV export; a renamed Excel, PDF or zip file "
            "will not convert as CSV.",
            code="binary-file",
        )
    return "csv"


# Control bytes that do not occur in text. Tab, line and form feeds are text, and so are the
# ASCII separators 0x1C-0x1F, which some legacy systems use as delimiters.
_CONTROL = bytes(b for b in range(0x1C) if b not in b"\t\n\r\x0b\x0c") + b"\x7f"


def _looks_binary(head: bytes) -> bool:
    """Binary if control bytes are common; a stray NUL in a text export is not enough."""
    if not head or _utf16_without_bom(head):
        return False
    control = sum(head.count(bytes([b])) for b in _CONTROL)
    return control > 4 and control / len(head) > 0.05


def _utf16_without_bom(head: bytes) -> str | None:
    """UTF-16 without a byte-order mark shows as NULs on every other byte (for the mostly
    ASCII text of exports)."""
    even, odd = head[0::2], head[1::2]
    if len(head) < 8:
        return None
    nul_even = even.count(0) / len(even)
    nul_odd = odd.count(0) / len(odd) if odd else 0.0
    if nul_odd >= 0.5 and nul_even <= 0.1:
        return "utf-16-le"
    if nul_even >= 0.5 and nul_odd <= 0.1:
        return "utf-16-be"
    return None


def read_sample(f: BinaryIO, size: int) -> bytes:
    """The head of the file plus a few blocks from across it (for encoding detection)."""
    f.seek(0)
    head = f.read(SAMPLE_BYTES)
    if size <= SAMPLE_BYTES * (_PROBES + 1):
        f.seek(0)
        return f.read()
    blocks = [head]
    step = size // (_PROBES + 1)
    for i in range(1, _PROBES + 1):
        f.seek(step * i)
        blocks.append(f.read(SAMPLE_BYTES // 4))
    f.seek(0)
    return b"\n".join(blocks)


def detect_encoding(sample: bytes, override: str | None, name: str) -> Detection:
    """The file's text encoding: the user's, a BOM, clean UTF-8, or chardet's best guess."""
    if override:
        try:
            enc = codecs.lookup(override).name
        except LookupError:
            raise InputFileError(
                f"unknown encoding {override!r}",
                where=name,
                hint="use a Python codec name such as utf-8, cp1252, latin-1, utf-16, shift_jis.",
                code="unknown-encoding",
            ) from None
        return Detection(enc, 1.0, "given")
    for bom, enc in _BOMS:
        if sample.startswith(bom):
            return Detection(enc, 1.0, "byte-order mark")
    no_bom16 = _utf16_without_bom(sample[:SAMPLE_BYTES]) if b"\x00" in sample else None
    if no_bom16:
        return Detection(no_bom16, 0.9, "NUL pattern of UTF-16 without BOM")
    try:
        sample.decode("utf-8")
        ascii_only = sample.isascii()
        return Detection("utf-8", 0.99 if not ascii_only else 0.9, "decodes as UTF-8")
    except UnicodeDecodeError as e:
        if e.start >= len(sample) - 3 and e.reason.startswith("unexpected end"):
            return Detection("utf-8", 0.95, "decodes as UTF-8")
    good, bad = utf8_lines(sample)
    if good and good >= bad:
        # Mostly UTF-8 with a few lines from another encoding (a file pasted together): read
        # as UTF-8, so that those lines are rejected with their bytes named (see
        # mixed_encoding_warning), rather than every UTF-8 line being silently garbled.
        return Detection(
            "utf-8",
            0.6,
            f"mostly UTF-8: {good} of {good + bad} lines with non-ASCII text decode as UTF-8",
        )
    import chardet  # only here: its import costs ~20 ms that most files never need

    guess = chardet.detect(sample)
    enc_name = guess.get("encoding") or ""
    conf: float = guess.get("confidence") or 0.0
    try:
        enc = codecs.lookup(enc_name).name if enc_name else ""
    except LookupError:
        enc = ""
    if conf >= CONFIDENT and enc and enc not in ("latin-1", "iso8859-1", "ascii"):
        return Detection(enc, conf, "chardet on a sample")
    high = sum(1 for b in sample if b >= 0x80) / max(len(sample), 1)
    if enc in _MULTIBYTE and high > 0.2 and _decodes(sample, enc):
        # Western text in Windows-1252 has few bytes above 0x7F (accented letters); text
        # that is mostly such bytes and decodes cleanly as the CJK code page chardet names
        # is that code page, however low chardet's own score on a small sample.
        return Detection(
            enc,
            max(conf, 0.7),
            f"chardet's {enc_name} ({conf:.0%}); {high:.0%} of bytes are non-ASCII, too many for "
            "Windows-1252 text",
        )
    try:
        sample.decode("cp1252")
    except UnicodeDecodeError:
        if enc:
            return Detection(enc, conf, "chardet on a sample (low confidence)")
        return Detection("latin-1", 0.2, "nothing else decodes; latin-1 accepts any byte")
    # Unsure, and the bytes are valid Windows-1252: the encoding of nearly every Windows
    # export in Western Europe and the Americas (and a superset of latin-1's text).
    said = f"; chardet suggested {enc_name} at {conf:.0%}" if enc_name else ""
    mixed = _central_european_words(sample)
    if mixed >= 2 and _decodes(sample, "cp1250"):
        return Detection(
            "cp1250",
            0.6,
            f"valid Windows-1250: read as Windows-1252, {mixed} words would mix acute and "
            "grave accents (or ø) as no Western language does; Central European text" + said,
        )
    return Detection("cp1252", max(conf, 0.6), "valid Windows-1252, the usual export" + said)


CONFIDENT = 0.7
_MULTIBYTE = {
    "big5",
    "big5hkscs",
    "cp950",
    "euc_jp",
    "euc_jis_2004",
    "euc_kr",
    "cp949",
    "shift_jis",
    "cp932",
    "shift_jis_2004",
    "gb2312",
    "gbk",
    "gb18030",
    "iso2022_jp",
    "johab",
}


def _decodes(sample: bytes, enc: str) -> bool:
    try:
        sample.decode(enc)
    except UnicodeDecodeError as e:
        return e.start >= len(sample) - 3  # a character cut by the sample's end
    except LookupError:
        return False
    return True


# ':' is no candidate: it splits every time of day (12:30:00) into consistent columns.
_DELIMS = (",", ";", "\t", "|")


def detect_dialect(text: str, override: str | None, quotechar: str) -> Detection:
    """The delimiter, chosen by how consistently each candidate splits the sample's rows."""
    if override:
        return Detection(override, 1.0, "given")
    lines = text.splitlines()[:200]
    if len(lines) > 1:
        lines = lines[:-1]  # the sample may cut the last line short
    sample = "\n".join(lines)
    best, best_score, scores = ",", -1.0, {}
    for d in _DELIMS:
        score = _consistency(sample, d, quotechar)
        scores[d] = score
        if score > best_score:
            best, best_score = d, score
    ranked = sorted(scores.values(), reverse=True)
    if best_score <= 0:
        return Detection(",", 0.3, "no delimiter splits the rows; assumed comma")
    margin = (ranked[0] - ranked[1]) / ranked[0] if len(ranked) > 1 and ranked[0] else 1.0
    return Detection(best, round(0.5 + 0.5 * margin, 3), "row-width consistency")


_NUMERIC = re.compile(r"^\s*[-+(]?[£$€]?\s*[\d.,' ]+\)?-?\s*$")


def _consistency(sample: str, delim: str, quotechar: str) -> float:
    """CleverCSV-style score: rows that split to a common width, weighted by width and by
    how many cells look like clean values (numbers, dates, short text) rather than debris."""
    # The csv module's field size limit is process-wide and a reader sets it for its file:
    # detection must not depend on which file was read before.
    limit = csv.field_size_limit(sys.maxsize)
    try:
        rows = list(csv.reader(io.StringIO(sample), delimiter=delim, quotechar=quotechar))
    except csv.Error:
        return 0.0
    finally:
        csv.field_size_limit(limit)
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        return 0.0
    widths = Counter(len(r) for r in rows)
    pattern = sum(n * (w - 1) / w for w, n in widths.items()) / len(widths)
    cells = [c for r in rows for c in r]
    clean = sum(1 for c in cells if not c or _NUMERIC.match(c) or len(c) < 40)
    return pattern * (clean / len(cells)) if cells else 0.0


def utf8_lines(sample: bytes) -> tuple[int, int]:
    """(lines that decode as UTF-8, lines that do not), among the lines with non-ASCII bytes;
    a line cut short by the sample's end is not counted."""
    good = bad = 0
    for line in sample.split(b"\n"):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            good += 1
        except UnicodeDecodeError as e:
            if not (e.start >= len(line) - 3 and e.reason.startswith("unexpected end")):
                bad += 1
    return good, bad


def mixed_encoding_warning(sample: bytes, enc: Detection) -> str | None:
    """A warning when the file mixes UTF-8 lines with lines in another encoding: whichever
    is chosen, some lines read wrongly, and the person must know."""
    if enc.method == "given" or enc.value not in ("utf-8", "cp1252", "cp1250") or not sample:
        return None
    good, bad = utf8_lines(sample)
    if not (good and bad):
        return None
    if enc.value == "utf-8":
        return (
            f"the file mixes encodings: {bad} of {good + bad} sampled lines with accented text "
            "are not valid UTF-8; read as UTF-8, those rows are rejected with their bytes named "
            "(give read.encoding if the file is really in one other encoding)"
        )
    return (
        f"the file mixes encodings: {good} of {good + bad} sampled lines with accented text "
        f"are UTF-8 but the rest are not; read as {enc.value}, so accented letters on the UTF-8 "
        "lines come out wrong (é as Ã©): re-export the file in one encoding, or give "
        "read.encoding"
    )


_ACUTE = set("áíúýóÁÍÚÝÓ")
_GRAVE = set("èìùòøÈÌÙÒØ")


def _central_european_words(sample: bytes) -> int:
    """Words that, read as Windows-1252, mix acute accents (á í ú ý ó) with grave ones or ø
    (è ì ù ò ø): Czech or Slovak in Windows-1250 (č, ě, ů, ř land on è, ì, ù, ø), never
    French, Italian, Spanish or Portuguese."""
    text = sample.decode("cp1252", errors="replace")
    count = 0
    for word in re.findall(r"[^\W\d_]{3,}", text):
        chars = set(word)
        if chars & _ACUTE and chars & _GRAVE:
            count += 1
    return count
