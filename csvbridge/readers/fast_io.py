"""Byte-level access to a delimited file for the fast reader: where a physical line starts,
whether the whole file decodes, and the stream pyarrow reads (never split between CR and LF).
Line ends are counted as io.TextIOWrapper(newline="") counts them: \\r\\n, \\r and \\n."""

from __future__ import annotations

import codecs
import io
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO, Literal, overload

import numpy as np
import numpy.typing as npt

VALIDATE_BLOCK = 1 << 20
PARALLEL_BYTES = 16 << 20  # smaller files are checked by one thread
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


def _plain_quoting(f: BinaryIO, offset: int, quote: str, delimiter: str) -> bool:
    """Whether, from ``offset``, every quote is where standard quoting puts it, no quoted
    field spans a line break and no cell holds a NUL byte. Only then does the fast path apply:
    the Python path undoes runaway quotes line by line and rejects a row with a NUL, rules
    pyarrow does not have, and a quote inside an unquoted cell (``12" pipe``, ``a'``) is read
    differently by the two when a later quote on the line opens a field.

    Runs of consecutive quotes are judged together: an even run is escaped quotes or an empty
    field; the odd runs of a line must alternate, an opening one at the start of a cell and a
    closing one at its end, and pair up by the end of the line.

    A large file is checked in two halves at once, split at a line start: reads and numpy
    release the GIL, and nothing else in the run goes on until this answers."""
    size = f.seek(0, io.SEEK_END)
    name = getattr(f, "name", None)
    big = size - offset >= PARALLEL_BYTES and isinstance(name, str)
    mid = _line_after(f, offset + (size - offset) // 2, size) if big else None
    if mid is None or not isinstance(name, str):
        return _range_quoted_plainly(f, offset, size, quote, delimiter)
    stop = threading.Event()  # set by a half that fails: the other need not finish
    with open(name, "rb") as g, ThreadPoolExecutor(1, "csvbridge-check") as pool:
        second = pool.submit(_range_quoted_plainly, g, mid, size, quote, delimiter, stop)
        first = _range_quoted_plainly(f, offset, mid, quote, delimiter, stop)
        return first and second.result()


def _line_after(f: BinaryIO, pos: int, end: int) -> int | None:
    """Where the first line that starts after ``pos`` starts (just after a newline), or None
    within the next 1 MiB (a file whose lines end in a bare carriage return, or a huge line)."""
    f.seek(pos)
    chunk = f.read(min(VALIDATE_BLOCK, max(end - pos, 0)))
    at = chunk.find(b"\n")
    return None if at < 0 or pos + at + 1 >= end else pos + at + 1


def _range_quoted_plainly(
    f: BinaryIO,
    start: int,
    end: int,
    quote: str,
    delimiter: str,
    stop: threading.Event | None = None,
) -> bool:
    """_plain_quoting's rule for the bytes ``start:end`` (``start`` a line's start, ``end``
    one or the end of the file)."""
    f.seek(start)
    pos = start
    q, d = ord(quote), ord(delimiter)
    carry = b""  # an unfinished last line, judged with the next block
    ok = True
    while ok:
        if stop is not None and stop.is_set():
            return False  # the other half failed
        block = f.read(min(VALIDATE_BLOCK, end - pos)) if pos < end else b""
        pos += len(block)
        if b"\x00" in block:
            ok = False
            break
        data = carry + block
        if not block:
            ok = not data or _lines_quoted_plainly(np.frombuffer(data, np.uint8), q, d)
            break
        cut = max(data.rfind(b"\n"), data.rfind(b"\r")) + 1
        carry = data[cut:]
        lines = np.frombuffer(data, np.uint8, count=cut)  # a view: no copy
        if data.find(quote.encode(), 0, cut) < 0:
            continue
        ok = _lines_quoted_plainly(lines, q, d, cr=bare_cr(data, cut))
    if not ok and stop is not None:
        stop.set()
    return ok


def bare_cr(data: bytes, end: int | None = None) -> bool:
    """Whether ``data`` (up to ``end``) has a ``\\r`` that is not the first half of a ``\\r\\n``."""
    end = len(data) if end is None else end
    crs = data.count(b"\r", 0, end)
    return crs > 0 and crs != data.count(b"\r\n", 0, end)


def _lines_quoted_plainly(arr: npt.NDArray[np.uint8], q: int, d: int, *, cr: bool = True) -> bool:
    """_plain_quoting's rule over whole lines (``arr`` starts at a line's start; ``cr``: it may
    hold a ``\\r`` that ends a line alone, else each line ends with a ``\\n``).

    Judged for the whole block at once: the odd runs alternate opening/closing across lines
    exactly when no pair of them encloses a line break (every line then ends outside quotes),
    so pairs are taken in order and each checked for its edges and for a break inside."""
    at = np.flatnonzero(arr == q)
    if not len(at):
        return True
    first = np.empty(len(at), dtype=bool)
    first[0] = True
    np.not_equal(np.diff(at), 1, out=first[1:])
    heads = np.flatnonzero(first)
    lengths = np.diff(heads, append=len(at))
    odd = (lengths & 1).astype(bool)
    if not odd.any():
        return True
    s = at[heads[odd]]
    if len(s) & 1:
        return False  # some line ends inside quotes
    opens = s[0::2]
    closes = s[1::2] + lengths[odd][1::2] - 1  # each closing run's last quote
    n = len(arr)
    before = arr[np.maximum(opens - 1, 0)]
    after = arr[np.minimum(closes + 1, n - 1)]
    edge_before = (before == d) | (before == 10) | (before == 13) | (opens == 0)
    edge_after = (after == d) | (after == 10) | (after == 13) | (closes + 1 >= n)
    if not (edge_before.all() and edge_after.all()):
        return False
    ends = np.flatnonzero((arr == 10) | (arr == 13)) if cr else np.flatnonzero(arr == 10)
    return bool(np.array_equal(np.searchsorted(ends, opens), np.searchsorted(ends, closes)))


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
