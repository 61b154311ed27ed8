"""Arrow arrays built from, and read back into, numpy buffers directly.

``pa.array()``, ``Array.to_numpy()`` and ``pa.scalar()`` import pandas the first time they
run (pyarrow's pandas shim checks every input for a pandas object): about 0.1 s and 40 MB
that reading a spreadsheet does not otherwise need. ``Array.from_buffers`` and
``Array.buffers()`` are plain Arrow and never look for pandas, so the spreadsheet reader's
column-wise path goes through these instead.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pyarrow as pa

_INT32_MAX = (1 << 31) - 1


def string_array(values: Sequence[str]) -> pa.Array:
    """A ``pa.string()`` array of ``values`` (str objects only, no None)."""
    n = len(values)
    joined = "".join(values)
    data = joined.encode("utf-8")
    if not data:  # empty strings only
        lengths = np.zeros(n, dtype=np.int64)
    elif len(data) == len(joined):  # ASCII: a character is a byte
        lengths = np.fromiter(map(len, values), dtype=np.int64, count=n)
    else:
        lengths = np.fromiter((len(v.encode("utf-8")) for v in values), np.int64, count=n)
    # Past 32-bit offsets (2 GiB of text in one column of a batch) the array is built with
    # 64-bit ones, and the cast to pa.string() refuses it with Arrow's error.
    big = len(data) > _INT32_MAX
    offsets = np.zeros(n + 1, dtype=np.int64 if big else np.int32)
    np.cumsum(lengths, out=offsets[1:])
    buffers = [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    if big:
        return pa.Array.from_buffers(pa.large_string(), n, buffers).cast(pa.string())
    return pa.Array.from_buffers(pa.string(), n, buffers)


def numeric_array(values: npt.NDArray[np.generic], kind: pa.DataType) -> pa.Array:
    """A primitive Arrow array (no nulls) over a numpy array's memory, which ``values``'
    dtype must match (int64 for ``pa.int64()``, int32 for ``pa.date32()``, ...)."""
    values = np.ascontiguousarray(values)
    return pa.Array.from_buffers(kind, len(values), [None, pa.py_buffer(values)])


def bool_values(arr: pa.Array) -> npt.NDArray[np.bool_]:
    """A boolean Arrow array as a numpy bool array; nulls read as False."""
    n = len(arr)
    if n == 0:
        return np.zeros(0, dtype=bool)
    validity, bits = arr.buffers()[:2]
    off = arr.offset
    out = np.unpackbits(np.frombuffer(bits, dtype=np.uint8), count=off + n, bitorder="little")
    values = out[off:].astype(bool)
    if arr.null_count:
        valid = np.unpackbits(
            np.frombuffer(validity, dtype=np.uint8), count=off + n, bitorder="little"
        )
        values &= valid[off:].astype(bool)
    return values


def string_lengths(arr: pa.Array) -> npt.NDArray[np.int64]:
    """Each value's length in bytes, read from a ``pa.string()`` array's offsets."""
    n = len(arr)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32, count=arr.offset + n + 1)
    return np.diff(offsets[arr.offset :]).astype(np.int64)


def string_bytes(arr: pa.Array) -> npt.NDArray[np.uint8]:
    """The UTF-8 bytes a ``pa.string()`` array's values take up, end to end."""
    found = text_bytes(arr)
    if found is None or not len(found[1]):
        return np.zeros(0, dtype=np.uint8)
    return np.frombuffer(found[1], dtype=np.uint8)


def text_bytes(col: pa.Array) -> tuple[npt.NDArray[np.int64], memoryview] | None:
    """A string array's offsets (rebased to 0) and the bytes they index, without a copy; None
    for other types. Lets a caller see in one scan of the bytes that no cell needs its work."""
    if not isinstance(col, pa.Array) or not (
        pa.types.is_string(col.type) or pa.types.is_large_string(col.type)
    ):
        return None
    bufs = col.buffers()
    width = np.int64 if pa.types.is_large_string(col.type) else np.int32
    offs: npt.NDArray[np.int64] = np.zeros(len(col) + 1, dtype=np.int64)
    if bufs[1] is not None:
        offs[:] = np.frombuffer(bufs[1], dtype=width)[col.offset : col.offset + len(col) + 1]
    lo, hi = int(offs[0]), int(offs[-1])
    data = memoryview(bufs[2])[lo:hi] if bufs[2] is not None else memoryview(b"")
    return offs - lo, data
