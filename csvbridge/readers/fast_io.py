"""Byte-level access to a delimited file for the fast reader: where a physical line starts,
whether the whole file decodes, and the stream pyarrow reads (never split between CR and LF).
Line ends are counted as io.TextIOWrapper(newline="") counts them: \\r\\n, \\r and \\n."""

from __future__ import annotations

import codecs
import io
import re
from pathlib import Path
from typing import BinaryIO, Literal, overload

import numpy as np

VALIDATE_BLOCK = 1 << 20
_BREAK = re.compile(rb"\r\n|\r|\n")


def _line_offset(f: BinaryIO, line: int) -> int | None:
    """Byte offset where physical line ``line`` (1-based) starts, counting ``\\r\\n``, ``\\r``
    and ``\\n`` as line ends like io.TextIOWrapper(newline=""). Correct for UTF-8 and
    ASCII-compatible single-byte encodings, where those bytes are only those characters."""
    f.seek(0)
    if line <= 1:
        return 0
    data = b""
    pos = 0  # where the next line starts
    found = 0
    while True:
        more = f.read(1 << 16)
        data += more
        for m in _BREAK.finditer(data, pos):
            if m.group() == b"\r" and m.end() == len(data) and more:
                break  # may be the first half of \r\n: read on
            found += 1
            pos = m.end()
            if found == line - 1:
                f.seek(0)
                return pos
        if not more:
            return None


def _valid(f: BinaryIO, *, ascii_only: bool) -> bool:
    """Whether the whole file decodes strictly (UTF-8, or only ASCII bytes)."""
    f.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8")()
    while block := f.read(VALIDATE_BLOCK):
        if block.isascii():
            continue
        if ascii_only:
            return False
        try:
            decoder.decode(block)
        except UnicodeDecodeError:
            return False
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _plain_quoting(f: BinaryIO, offset: int, quote: str) -> bool:
    """Whether, from ``offset``, no quoted field spans a line break, every quote is closed by
    the end of the file and no cell holds a NUL byte. Only then does the fast path apply: the
    Python path undoes runaway quotes line by line and rejects a row with a NUL, rules pyarrow
    does not have. A line's quote count is even exactly when it ends outside quotes."""
    f.seek(offset)
    q = ord(quote)
    open_quote = 0  # quotes seen so far, mod 2
    while block := f.read(VALIDATE_BLOCK):
        if b"\x00" in block:
            return False
        if quote.encode() not in block:
            continue
        arr = np.frombuffer(block, dtype=np.uint8)
        quotes = np.flatnonzero(arr == q)
        ends = np.flatnonzero((arr == 10) | (arr == 13))
        # a line end is inside quotes when an odd number of quotes precede it
        if ((np.searchsorted(quotes, ends) + open_quote) & 1).any():
            return False
        open_quote = (open_quote + len(quotes)) & 1
    return open_quote == 0


class _HoldBackCR(io.RawIOBase):
    """The file from ``offset``, in reads that never end with ``\r`` (but the last).

    pyarrow drops a ``\n`` that starts a block when the block before ended with ``\r``, even
    inside a quoted value, where the pair is text (apache/arrow#51368, open in pyarrow 26).
    The parser's input blocks are these reads, so holding a trailing ``\r`` back for the next
    read keeps every ``\r\n`` within one block. A short read is not the end: an empty one is.
    """

    def __init__(self, path: Path, offset: int) -> None:
        super().__init__()
        self.f = path.open("rb")
        self.f.seek(offset)
        self.held = b""

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            data, self.held = self.held + self.f.read(), b""
            return data
        data = self.held + self.f.read(max(size - len(self.held), 0))
        self.held = b""
        if len(data) > 1 and data.endswith(b"\r"):
            self.held, data = data[-1:], data[:-1]
        return data

    def close(self) -> None:
        self.f.close()
        super().close()


class _LineCursor:
    """Byte offsets of physical lines, found by counting line ends forward from a known line
    (irregular rows come in file order, so the file is scanned at most once)."""

    def __init__(self, path: Path, line: int, offset: int) -> None:
        self.f = path.open("rb")
        self.line = line  # the line that byte ``offset`` is on
        self.offset = offset

    @overload
    def seek_line(self, target: int) -> int: ...
    @overload
    def seek_line(self, target: int, *, at_end: Literal[True]) -> int | None: ...

    def seek_line(self, target: int, *, at_end: bool = False) -> int | None:
        """Byte offset where line ``target`` (not before the cursor's line) starts. With
        ``at_end``, None when no text starts there (the file ends before it or at it)."""
        f = self.f
        f.seek(self.offset)
        while self.line < target:
            block = f.read(1 << 20)
            if not block:
                if at_end:
                    return None
                raise RuntimeError(f"fast CSV reader: line {target} is past the end of the file")
            while block.endswith(b"\r"):  # keep a \r\n together
                more = f.read(1)
                block += more
                if not more:
                    break
            ends = block.count(b"\n") + block.count(b"\r") - block.count(b"\r\n")
            if self.line + ends < target:
                self.line += ends
                self.offset += len(block)
                continue
            for m in _BREAK.finditer(block):
                self.line += 1
                if self.line == target:
                    self.offset += m.end()
                    break
        if at_end:
            f.seek(self.offset)
            if not f.read(1):
                return None
        return self.offset
