"""A progress bar for long conversions: rows, bytes, rate and time left, on stderr.

It is ``convert``'s ``on_chunk`` callback, which is told only how many rows each chunk held.
The total comes from the input files, estimated before the run:

- delimited text: the file's size divided by the bytes per line in a sample of its first
  megabyte (exact when the file is smaller);
- xlsx/xlsm: the first worksheet's ``<dimension>`` (the used range Excel and most writers
  record), or the rows counted in a sample of the sheet;
- other spreadsheets: unknown. The bar then shows rows and rate, with no percentage.

The bytes shown are the estimated position in the input (done fraction × total size). The bar
draws only when the stream is a terminal, at most ``interval`` seconds apart, and clears its
line when closed, so the summary printed after it starts on a clean line::

    with ProgressBar(inputs, enabled=not quiet) as bar:
        result = convert(inputs, ..., on_chunk=bar)
"""

from __future__ import annotations

import contextlib
import re
import shutil
import sys
import time
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import TextIO

SAMPLE = 1 << 20
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="[A-Z]+\d+(?::[A-Z]+(\d+))?"')
_SHEET = re.compile(r"xl/worksheets/sheet(\d+)\.xml$")


def estimate_rows(path: Path) -> int | None:
    """About how many rows (lines, for text) the file holds; None when it cannot tell."""
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            head = f.read(SAMPLE)
    except OSError:
        return None
    if head.startswith(b"PK\x03\x04"):
        return _xlsx_rows(path)
    if head.startswith(b"\xd0\xcf\x11\xe0") or not head:
        return None  # legacy xls (or nothing to read)
    if head[:2] in (b"\xff\xfe", b"\xfe\xff") or head.count(b"\x00") > len(head) // 4:
        head = head.replace(b"\x00", b"")  # UTF-16: the line ends are there, one byte each
        size //= 2
    lines = head.count(b"\n") + head.count(b"\r") - head.count(b"\r\n")
    if len(head) >= size:
        return lines + (not head.endswith((b"\n", b"\r")))
    return max(1, round(size * max(lines, 1) / len(head)))


def _xlsx_rows(path: Path) -> int | None:
    try:
        with zipfile.ZipFile(path) as z:
            sheets = sorted((int(m.group(1)), n) for n in z.namelist() if (m := _SHEET.search(n)))
            if not sheets:
                return None
            info = z.getinfo(sheets[0][1])
            with z.open(info) as f:
                head = f.read(SAMPLE)
    except (OSError, zipfile.BadZipFile, KeyError):
        return None
    dim = _DIMENSION.search(head[:4096])
    if dim and dim.group(1):
        return int(dim.group(1))
    rows = head.count(b"<row ") + head.count(b"<row>")
    if not rows:
        return None
    return rows if len(head) >= info.file_size else round(info.file_size * rows / len(head))


def _count(n: float) -> str:
    if n >= 10_000_000:
        return f"{n / 1e6:.0f}M"
    if n >= 1_000_000:
        return f"{n / 1e6:.1f}M"
    return f"{n:,.0f}"


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" or n >= 100 else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"  # pragma: no cover


def _clock(seconds: float) -> str:
    s = int(seconds + 0.5)
    return (
        f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"
    )


class ProgressBar:
    """``convert``'s ``on_chunk`` callback, drawing a one-line bar on a terminal."""

    def __init__(
        self,
        inputs: Sequence[str | Path],
        *,
        enabled: bool = True,
        stream: TextIO | None = None,
        interval: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled and _is_terminal(self.stream)
        self.interval = interval
        self.clock = clock
        self.rows = 0
        self.total_bytes = 0
        self.total_rows: int | None = 0
        self._drawn = False
        self._width = 0
        if self.enabled:
            for p in inputs:
                path = Path(p)
                with contextlib.suppress(OSError):
                    self.total_bytes += path.stat().st_size
                n = estimate_rows(path)
                self.total_rows = (
                    None if n is None or self.total_rows is None else self.total_rows + n
                )
        self.start = clock()
        self._last = -interval

    def __call__(self, rows: int) -> None:
        self.rows += rows
        if not self.enabled:
            return
        now = self.clock()
        if now - self._last >= self.interval:
            self._last = now
            self.draw(now)

    def line(self, now: float) -> str:
        """The bar's text at time ``now``, fitted to the terminal."""
        elapsed = max(now - self.start, 1e-9)
        rate = self.rows / elapsed
        parts = []
        total = self.total_rows
        if total:
            total = max(total, self.rows)
            done = min(self.rows / total, 1.0)
            cells = 20
            filled = int(done * cells)
            parts.append("[" + "#" * filled + "-" * (cells - filled) + f"] {done:4.0%}")
            parts.append(f"{_count(self.rows)}/~{_count(total)} rows")
            if self.total_bytes:
                parts.append(f"{_size(done * self.total_bytes)}/{_size(self.total_bytes)}")
            parts.append(f"{_count(rate)} rows/s")
            if self.rows and rate > 0:
                parts.append(f"{_clock((total - self.rows) / rate)} left")
        else:
            parts.append(f"{_count(self.rows)} rows")
            parts.append(f"{_count(rate)} rows/s")
            parts.append(f"{_clock(elapsed)} elapsed")
        text = "  ".join(parts)
        width = shutil.get_terminal_size((80, 24)).columns - 1
        if len(text) > width and total:  # a narrow terminal: the figures matter more
            text = "  ".join([f"{done:4.0%}".strip(), *parts[1:]])
        return text[:width]

    def draw(self, now: float | None = None) -> None:
        text = self.line(self.clock() if now is None else now)
        pad = max(self._width - len(text), 0)
        try:
            self.stream.write("\r" + text + " " * pad)
            self.stream.flush()
        except (OSError, ValueError):  # the terminal went away: stop drawing
            self.enabled = False
            return
        self._width = len(text)
        self._drawn = True

    def close(self) -> None:
        """Clear the bar's line (the summary follows on a clean line)."""
        if self._drawn:
            try:
                self.stream.write("\r" + " " * self._width + "\r")
                self.stream.flush()
            except (OSError, ValueError):
                pass
            self._drawn = False

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
