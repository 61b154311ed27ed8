"""pandas' ``hash_array`` values (hash key "0123456789123456", UTF-8), computed without pandas.

Duplicate identities stored in users' histories and in duplicates.csv were first defined by
``pandas.util.hash_array``, so these functions must give its values bit for bit, forever:

- text: SipHash-2-4 of each value's UTF-8 bytes keyed by "0123456789123456" (pandas'
  ``hash_object_array``), then pandas' 64-bit mix;
- integers: the value's bits as an unsigned integer of its width, widened to 64 bits, then
  the same mix.

Importing pandas costs ~0.2 s and ~50 MB a run, so text is hashed with numpy: SipHash runs
vectorised over rows: rows sorted by block count, in batches small enough that the working
arrays stay in the CPU cache, so the rows still hashing at block k are a prefix of the batch
and every step is an in-place ufunc on slices (no per-row Python, no copies per block). The
last few very long values of a batch finish in plain Python integers (``_siphash_rest``).

SipHash is sequential within a value, so a long value costs a Python loop step per 8 bytes
(~0.19 us a byte: a 10 MB cell ~2 s) where pandas' C takes ~0.4 ns. Values longer than
``_LONG`` bytes therefore go to ``pandas.util.hash_array`` itself once the time the numpy
path spent on such values would pass what importing pandas costs (``_RENT_BYTES``; rent
until renting has cost the price of buying), or at once if pandas is loaded already. A run
whose values over ``_LONG`` add up to less than ``_RENT_BYTES`` never imports pandas.
"""

from __future__ import annotations

import functools
import sys

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from .readers.arrow_buffers import string_array, text_bytes

_U = np.uint64
_KEY = b"0123456789123456"
_K0 = int.from_bytes(_KEY[:8], "little")
_K1 = int.from_bytes(_KEY[8:], "little")
# The state is kept as two (2, batch) arrays: A = (v0, v2), B = (v1, v3). SipRound's two
# halves then work on both pairs at once (v0 += v1 and v2 += v3 is A += B, ...).
_A0 = np.array([[_K0 ^ 0x736F6D6570736575], [_K0 ^ 0x6C7967656E657261]], dtype=_U)
_B0 = np.array([[_K1 ^ 0x646F72616E646F6D], [_K1 ^ 0x7465646279746573]], dtype=_U)
_ROT1 = (np.array([[13], [16]], dtype=_U), np.array([[64 - 13], [64 - 16]], dtype=_U))
_ROT2 = (np.array([[17], [21]], dtype=_U), np.array([[64 - 17], [64 - 21]], dtype=_U))
_R32 = _U(32)
# The last block keeps the row's remaining len % 8 bytes and puts len & 0xFF in the top byte.
_TAIL_MASK = np.array([(1 << (8 * r)) - 1 for r in range(8)], dtype=_U)
# Once a batch has at most _FEW_ROWS rows still hashing and the longest has _FEW_BLOCKS blocks
# or more to go, those rows finish in Python: ~3 us a block, where a block's ~40 ufunc calls
# cost 25-100 us however few rows they cover (a 10 MB cell: ~4 s instead of ~2 minutes).
_FEW_ROWS = 8
_FEW_BLOCKS = 16
_BATCH = 8192  # rows per batch: the ~10 working arrays (~0.5 MB) stay in L2
# Values longer than this are hashed by pandas when it pays (see the module docstring). At
# 4 KB the numpy path costs 5-260 ns a byte (many such rows at once - one alone), pandas
# ~0.5 ns, and a batch of values up to 4 KB loops at most 512 times (~11 ms).
_LONG = 4096
# Bytes of long values hashed by the numpy path, in a process, before pandas is imported for
# them: a value alone costs ~0.19 us a byte, so 1 MiB ~0.2 s, about what importing pandas costs.
_RENT_BYTES = 1 << 20
_rented = [0]  # bytes of long values the numpy path has hashed in this process


def hash_ints(values: npt.NDArray[np.integer]) -> npt.NDArray[np.uint64]:
    """``pandas.util.hash_array`` of an integer array (int32 date days, int64 minor units...):
    the bits as unsigned of the same width, widened to 64 bits, then mixed."""
    if values.dtype.kind not in "iu" or values.dtype.itemsize > 8:
        raise TypeError(f"hash_ints needs an integer array, not {values.dtype}")
    out = values.view(f"u{values.dtype.itemsize}").astype(_U)
    _mix(out)
    return out


def hash_strings(col: pa.Array) -> npt.NDArray[np.uint64]:
    """``pandas.util.hash_array`` of a string (or large_string) array's values, without
    nulls (pandas would hash None as the text "None"; callers fill nulls first)."""
    found = text_bytes(col)
    if found is None:
        raise TypeError(f"hash_strings needs a string array, not {col.type}")
    if col.null_count:
        raise ValueError("hash_strings: fill the array's nulls first")
    offsets, data = found
    n = len(col)
    out = np.empty(n, dtype=_U)
    if n == 0:
        return out
    lengths = np.diff(offsets)
    starts = offsets[:-1]
    rows = None  # the rows left to the numpy path, when not all of them
    if int(lengths.max()) > _LONG:
        long_rows = np.flatnonzero(lengths > _LONG)
        if _pandas_pays(int(lengths[long_rows].sum())):
            out[long_rows] = _pandas_hashes(data, offsets, long_rows)
            rows = np.flatnonzero(lengths <= _LONG)
            if not len(rows):
                return out
            lengths, starts = lengths[rows], starts[rows]
    blocks = (lengths >> 3) + 1  # 8-byte blocks, the last one holding the length
    max_blocks = int(blocks.max())
    # Every 8-byte read (start + 8k of a row) is a uint64 at a byte offset: an unaligned
    # view with a 1-byte stride over the bytes, padded so the last row's read stays inside.
    padded = np.zeros(len(data) + 16, dtype=np.uint8)
    padded[: len(data)] = np.frombuffer(data, dtype=np.uint8)
    words = np.ndarray((len(padded) - 7,), dtype="<u8", buffer=padded, strides=(1,))
    # most blocks first (a 16-bit key sorts by radix)
    sort_key = (max_blocks - blocks).astype(np.int16 if max_blocks < 2**15 else np.int64)
    order = np.argsort(sort_key, kind="stable")
    dest = order if rows is None else rows[order]
    m = len(order)
    size = -(-m // -(-m // _BATCH))  # equal batches: no small last one
    state = _State(size)
    for lo in range(0, m, size):
        batch = order[lo : lo + size]
        out[dest[lo : lo + size]] = state.run(
            words, starts[batch], lengths[batch], blocks[batch], int(blocks[batch[0]])
        )
    return out


def _pandas_pays(long_bytes: int) -> bool:
    """Whether values of ``long_bytes`` bytes in all, each over ``_LONG``, go to pandas: it is
    loaded, or the numpy path's time on such values would pass the cost of importing it."""
    if "pandas" in sys.modules:
        return True
    if _rented[0] + long_bytes > _RENT_BYTES:
        return True
    _rented[0] += long_bytes
    return False


def _pandas_hashes(
    data: memoryview, offsets: npt.NDArray[np.int64], rows: npt.NDArray[np.intp]
) -> npt.NDArray[np.uint64]:
    """``pandas.util.hash_array`` of the given rows' values, as bytes (which pandas hashes as
    they are; the UTF-8 it would encode a str to)."""
    from pandas.util import hash_array  # only here: a run without long values never loads it

    values = np.empty(len(rows), dtype=object)
    bounds = zip(offsets[rows].tolist(), offsets[rows + 1].tolist(), strict=True)
    values[:] = [bytes(data[lo:hi]) for lo, hi in bounds]
    return np.asarray(hash_array(values, categorize=False), dtype=_U)


def null_text_hash() -> npt.NDArray[np.uint64]:
    """The hash of the text "\\x00", which a fingerprint gives a null text field (a
    1-element array)."""
    return _null_text_hash().copy()


@functools.cache
def _null_text_hash() -> npt.NDArray[np.uint64]:
    return hash_strings(string_array(["\x00"]))


class _State:
    """Working arrays for one batch of SipHash, allocated once per call."""

    def __init__(self, size: int) -> None:
        self.a = np.empty((2, size), dtype=_U)
        self.b = np.empty((2, size), dtype=_U)
        self.t = np.empty((2, size), dtype=_U)
        self.m = np.empty(size, dtype=_U)
        self.pos = np.empty(size, dtype=np.int64)
        self.last_mask = np.empty(size, dtype=_U)
        self.last_len = np.empty(size, dtype=_U)

    def run(
        self,
        words: npt.NDArray[np.uint64],
        starts: npt.NDArray[np.int64],
        lengths: npt.NDArray[np.int64],
        blocks: npt.NDArray[np.int64],
        max_blocks: int,
    ) -> npt.NDArray[np.uint64]:
        """SipHash-2-4 then pandas' mix of one batch, rows sorted by block count (most
        first); returns a view of the batch's hashes, valid until the next call."""
        r = len(starts)
        a, b, t, m = self.a[:, :r], self.b[:, :r], self.t[:, :r], self.m[:r]
        a[...] = _A0
        b[...] = _B0
        pos = self.pos[:r]
        pos[...] = starts
        last_mask = self.last_mask[:r]
        np.take(_TAIL_MASK, lengths & 7, out=last_mask)
        last_len = self.last_len[:r]
        np.left_shift(lengths.astype(_U), _U(56), out=last_len)  # & 0xFF by the shift
        # active[k]: rows with more than k blocks, a prefix since rows are sorted
        active = np.searchsorted(-blocks, -np.arange(max_blocks + 1), side="left")
        few = k = 0  # rows 0..few finish in Python from block k
        for k in range(max_blocks):
            n_on, n_more = int(active[k]), int(active[k + 1])
            if n_on <= _FEW_ROWS and max_blocks - k >= _FEW_BLOCKS:
                few = n_on  # a few long values left: ufunc calls would cost more than rows
                break
            mk = words[pos[:n_on]]  # (np.take would copy all of the strided words first)
            if n_more < n_on:  # rows n_more.. end here: their tail block
                tail = mk[n_more:]
                tail &= last_mask[n_more:n_on]
                tail |= last_len[n_more:n_on]
            ak, bk, tk = a[:, :n_on], b[:, :n_on], t[:, :n_on]
            bk[1] ^= mk
            _round(ak, bk, tk)
            _round(ak, bk, tk)
            ak[0] ^= mk
            pos[:n_on] += 8
        finished = []
        for i in range(few):
            rest = words[pos[i] : pos[i] + 8 * (int(blocks[i]) - k) : 8].tolist()
            rest[-1] = (rest[-1] & int(last_mask[i])) | int(last_len[i])
            state = int(a[0, i]), int(b[0, i]), int(a[1, i]), int(b[1, i])
            finished.append(_siphash_rest(*state, rest))
        a[1] ^= _U(0xFF)
        for _ in range(4):
            _round(a, b, t)
        res = m
        np.bitwise_xor(a[0], a[1], out=res)
        res ^= b[0]
        res ^= b[1]
        res[:few] = finished
        _mix(res)
        return res


def _siphash_rest(v0: int, v1: int, v2: int, v3: int, blocks: list[int]) -> int:
    """SipHash-2-4 of the remaining blocks from state (v0, v1, v2, v3), finalised (before
    pandas' mix), in Python integers: for the few very long values of a batch."""
    mask = 0xFFFFFFFFFFFFFFFF
    for m in [*blocks, -1]:  # -1: the finalisation
        if m >= 0:
            v3 ^= m
        else:
            v2 ^= 0xFF
        for _ in range(2 if m >= 0 else 4):
            v0 = (v0 + v1) & mask
            v1 = ((v1 << 13) | (v1 >> 51)) & mask
            v1 ^= v0
            v0 = ((v0 << 32) | (v0 >> 32)) & mask
            v2 = (v2 + v3) & mask
            v3 = ((v3 << 16) | (v3 >> 48)) & mask
            v3 ^= v2
            v0 = (v0 + v3) & mask
            v3 = ((v3 << 21) | (v3 >> 43)) & mask
            v3 ^= v0
            v2 = (v2 + v1) & mask
            v1 = ((v1 << 17) | (v1 >> 47)) & mask
            v1 ^= v2
            v2 = ((v2 << 32) | (v2 >> 32)) & mask
        if m >= 0:
            v0 ^= m
    return v0 ^ v1 ^ v2 ^ v3


def _rotl(
    x: npt.NDArray[np.uint64],
    rot: tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]],
    t: npt.NDArray[np.uint64],
) -> None:
    np.left_shift(x, rot[0], out=t)
    np.right_shift(x, rot[1], out=x)
    x |= t


def _rotl32(x: npt.NDArray[np.uint64], t: npt.NDArray[np.uint64]) -> None:
    np.left_shift(x, _R32, out=t)
    np.right_shift(x, _R32, out=x)
    x |= t


def _round(a: npt.NDArray[np.uint64], b: npt.NDArray[np.uint64], t: npt.NDArray[np.uint64]) -> None:
    """One SipRound on A = (v0, v2), B = (v1, v3), in place; t is scratch of A's shape."""
    a += b  # v0 += v1; v2 += v3
    _rotl(b, _ROT1, t)  # v1 <<<= 13; v3 <<<= 16
    b ^= a  # v1 ^= v0; v3 ^= v2
    _rotl32(a[0], t[0])  # v0 <<<= 32
    a_rev = a[::-1]
    a_rev += b  # v2 += v1; v0 += v3
    _rotl(b, _ROT2, t)  # v1 <<<= 17; v3 <<<= 21
    b ^= a_rev  # v1 ^= v2; v3 ^= v0
    _rotl32(a[1], t[1])  # v2 <<<= 32


def _mix(x: npt.NDArray[np.uint64]) -> None:
    """pandas' finaliser after hashing (in place)."""
    t = x >> _U(30)
    x ^= t
    x *= _U(0xBF58476D1CE4E5B9)
    np.right_shift(x, _U(27), out=t)
    x ^= t
    x *= _U(0x94D049BB133111EB)
    np.right_shift(x, _U(31), out=t)
    x ^= t
