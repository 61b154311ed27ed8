"""The zip around an .xlsx, written by hand so that the sheet, the one big part, can be
deflated in a background thread while its rows are still being made.

A sheet's XML starts with its ``<dimension>``, known only once every row is in. So the rows are
deflated as they come (``DeflatedStream``, in a worker thread: zlib lets go of the GIL), and at
the end the head and the tail are deflated on their own: three raw deflate streams, each but the
last ending on a byte boundary with a sync flush and no final block, which concatenated are one
valid deflate stream. The CRC-32 of the whole is put together from the parts' CRCs
(``crc32_combine``, zlib's algorithm), since the head's bytes come first but are known last.

Members are stored in the order given, deflated at zlib's default level, stamped 1980-01-31
00:00 and marked as regular files (rw-------), as XlsxWriter's are: the same rows give the same
bytes. No ZIP64: a member or the file past 4 GiB is refused (``TooLarge``).
"""

from __future__ import annotations

import struct
import zlib
from concurrent.futures import Future, ThreadPoolExecutor
from typing import IO

DOS_TIME = 0  # 00:00:00
DOS_DATE = (1980 - 1980) << 9 | 1 << 5 | 31  # 1980-01-31
LIMIT = 0xFFFFFFFF  # sizes and offsets in a zip without ZIP64
_EXTERNAL = 0o100600 << 16  # a regular file, rw-------
_MADE_BY = 3 << 8 | 20  # Unix, zip 2.0


class TooLarge(Exception):
    """The workbook would need ZIP64, which is not written."""


def _gf2_times(mat: list[int], vec: int) -> int:
    total = 0
    i = 0
    while vec:
        if vec & 1:
            total ^= mat[i]
        vec >>= 1
        i += 1
    return total


def _gf2_square(mat: list[int]) -> list[int]:
    return [_gf2_times(mat, mat[n]) for n in range(32)]


def crc32_combine(crc1: int, crc2: int, len2: int) -> int:
    """The CRC-32 of A + B from the CRC-32s of A and of B and B's length (zlib's
    crc32_combine, which Python's zlib module does not offer)."""
    if len2 <= 0:
        return crc1
    odd = [0xEDB88320] + [1 << n for n in range(31)]  # the operator for one zero bit
    even = _gf2_square(odd)  # two zero bits
    odd = _gf2_square(even)  # four zero bits
    while True:
        even = _gf2_square(odd)  # apply len2 zeros to crc1, a bit of len2 at a time
        if len2 & 1:
            crc1 = _gf2_times(even, crc1)
        len2 >>= 1
        if not len2:
            break
        odd = _gf2_square(even)
        if len2 & 1:
            crc1 = _gf2_times(odd, crc1)
        len2 >>= 1
        if not len2:
            break
    return crc1 ^ crc2


def _deflate(data: bytes, final: bool) -> bytes:
    c = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush(zlib.Z_FINISH if final else zlib.Z_SYNC_FLUSH)


class DeflatedStream:
    """Bytes deflated (and their CRC-32 taken) in a worker thread as they come, the deflated
    bytes spooled to ``spool``."""

    def __init__(self, spool: IO[bytes]) -> None:
        self.spool = spool
        self.size = 0
        self.crc = 0
        self._z = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="xlsx-deflate")
        self._last: Future[None] | None = None

    def _work(self, data: bytes) -> None:
        self.crc = zlib.crc32(data, self.crc)
        self.spool.write(self._z.compress(data))

    def write(self, data: bytes) -> None:
        """Queue ``data`` (one job at a time: the previous one is waited for first, so
        memory holds at most two blocks)."""
        if self._last is not None:
            self._last.result()
        self.size += len(data)
        self._last = self._pool.submit(self._work, data)

    def finish(self) -> None:
        """Wait for the last block and flush the deflate stream (no final block)."""
        if self._last is not None:
            self._last.result()
            self._last = None
        self.spool.write(self._z.flush(zlib.Z_SYNC_FLUSH))
        self._pool.shutdown()

    def abort(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class ZipWriter:
    """A zip written member by member to ``f``."""

    def __init__(self, f: IO[bytes]) -> None:
        self.f = f
        self.entries: list[bytes] = []

    def add(self, name: str, data: bytes) -> None:
        """A member holding ``data``, deflated."""
        self._member(name, [_deflate(data, True)], zlib.crc32(data), len(data))

    def add_sheet(self, name: str, head: bytes, body: DeflatedStream, tail: bytes) -> None:
        """A member of ``head``, the bytes streamed through ``body``, then ``tail``."""
        crc = crc32_combine(zlib.crc32(head), body.crc, body.size)
        crc = zlib.crc32(tail, crc)
        body.spool.seek(0)
        blocks: list[bytes | IO[bytes]] = [_deflate(head, False), body.spool, _deflate(tail, True)]
        self._member(name, blocks, crc, len(head) + body.size + len(tail))

    def _member(self, name: str, blocks: list[bytes | IO[bytes]], crc: int, size: int) -> None:
        offset = self.f.tell()
        raw = name.encode("utf-8")
        if size > LIMIT or offset > LIMIT:
            raise TooLarge
        header_at = offset
        self.f.write(b"\0" * (30 + len(raw)))  # the local header, written once sizes are known
        packed = 0
        for block in blocks:
            if isinstance(block, bytes):
                self.f.write(block)
                packed += len(block)
            else:
                while chunk := block.read(1 << 22):
                    self.f.write(chunk)
                    packed += len(chunk)
        if packed > LIMIT:
            raise TooLarge
        end = self.f.tell()
        fields = (20, 0, 8, DOS_TIME, DOS_DATE, crc, packed, size, len(raw))
        self.f.seek(header_at)
        self.f.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, *fields, 0) + raw)
        self.f.seek(end)
        self.entries.append(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                _MADE_BY,
                *fields,
                0,  # extra
                0,  # comment
                0,  # disk
                0,  # internal attributes
                _EXTERNAL,
                offset,
            )
            + raw
        )

    def close(self) -> None:
        """Write the central directory."""
        start = self.f.tell()
        for e in self.entries:
            self.f.write(e)
        size = self.f.tell() - start
        if start > LIMIT:
            raise TooLarge
        n = len(self.entries)
        self.f.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, n, n, size, start, 0))
