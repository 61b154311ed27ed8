"""csvbridge.hashing gives exactly pandas.util.hash_array's values: identities in users'
duplicate histories and duplicates.csv were defined by it and must never move."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csvbridge import hashing
from csvbridge.hashing import hash_ints, hash_strings, null_text_hash


def pandas_hash(values: list[str]) -> npt.NDArray[np.uint64]:
    return np.asarray(
        pd.util.hash_array(np.array(values, dtype=object), categorize=False), dtype=np.uint64
    )


def check(values: list[str], kind: pa.DataType | None = None) -> None:
    got = hash_strings(pa.array(values, kind or pa.string()))
    assert got.dtype == np.uint64
    assert got.tolist() == pandas_hash(values).tolist()


# Lengths around SipHash's 8-byte blocks, ASCII and multi-byte, NUL included.
SHORT = st.text(alphabet="aZ \x00é€日\U0001f600", max_size=20)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.text(), SHORT), max_size=60))
def test_text_equals_pandas(values: list[str]) -> None:
    check(values)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(), max_size=30))
def test_large_string_equals_pandas(values: list[str]) -> None:
    check(values, pa.large_string())


@settings(max_examples=200, deadline=None)
@given(st.lists(SHORT, min_size=1, max_size=40), st.data())
def test_sliced_array_equals_pandas(values: list[str], data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(values)))
    stop = data.draw(st.integers(start, len(values)))
    got = hash_strings(pa.array(values, pa.string()).slice(start, stop - start))
    assert got.tolist() == pandas_hash(values[start:stop]).tolist()


@contextmanager
def tuned(**values: int) -> Iterator[None]:
    """hashing's batch settings changed for a test (hypothesis runs many examples in one
    function call, so monkeypatch's per-test undo would not do)."""
    saved = {name: getattr(hashing, name) for name in values}
    for name, value in values.items():
        setattr(hashing, name, value)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(hashing, name, value)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.text(), SHORT), min_size=1, max_size=80), st.integers(1, 9))
def test_many_batches_equal_pandas(values: list[str], batch: int) -> None:
    """Rows of different block counts split over batches (sorted, batched, put back)."""
    with tuned(_BATCH=batch):
        check(values)


LONG = st.text(alphabet="ab é\x00日", min_size=40, max_size=400)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.one_of(SHORT, LONG), min_size=1, max_size=30),
    st.integers(1, 12),
    st.integers(1, 6),
    st.integers(1, 40),
)
def test_long_values_finished_in_python_equal_pandas(
    values: list[str], batch: int, few_rows: int, few_blocks: int
) -> None:
    """The last few long values of a batch finish in Python from the vectorised state."""
    with tuned(_BATCH=batch, _FEW_ROWS=few_rows, _FEW_BLOCKS=few_blocks):
        check(values)


def test_a_very_long_value_equals_pandas() -> None:
    """One 1 MB cell among short ones (the Python finish, at the default settings)."""
    check(["x" * 1_000_000, "short", "", "é" * 1000, *[f"row {i}" for i in range(50)]])


@pytest.mark.parametrize("length", range(34))
def test_every_tail_length_equals_pandas(length: int) -> None:
    check(["x" * length, "\x00" * length, "é" * (length // 2) + "a" * (length % 2)])


def test_many_rows_of_mixed_lengths_equal_pandas() -> None:
    """More rows than one batch, lengths 0..300 bytes in random order."""
    rng = np.random.default_rng(7)
    alphabet = list("abc XYZ09é€\x00")
    values = [
        "".join(rng.choice(alphabet, size=int(n)))
        for n in rng.integers(0, 120, size=3 * hashing._BATCH + 17)
    ]
    values[5] = "y" * 300
    check(values)


def test_empty_and_nulls() -> None:
    assert hash_strings(pa.array([], pa.string())).tolist() == []
    assert hash_strings(pa.array(["", ""], pa.string())).tolist() == pandas_hash(["", ""]).tolist()
    with pytest.raises(ValueError, match="fill the array's nulls first"):
        hash_strings(pa.array(["a", None], pa.string()))
    with pytest.raises(TypeError, match="needs a string array, not int64"):
        hash_strings(pa.array([1], pa.int64()))


def test_null_text_hash_is_the_hash_of_nul() -> None:
    assert null_text_hash().tolist() == pandas_hash(["\x00"]).tolist()
    null_text_hash()[0] = 0  # a copy: the cached value stays
    assert null_text_hash().tolist() == pandas_hash(["\x00"]).tolist()


INT64 = st.integers(-(2**63), 2**63 - 1)
INT32 = st.integers(-(2**31), 2**31 - 1)


@settings(max_examples=200, deadline=None)
@given(st.lists(INT64, max_size=50))
def test_int64_equals_pandas(values: list[int]) -> None:
    arr = np.array(values, dtype=np.int64)
    want = pd.util.hash_array(arr.copy(), categorize=False)
    assert hash_ints(arr).tolist() == want.tolist()


@settings(max_examples=200, deadline=None)
@given(st.lists(INT32, max_size=50))
def test_int32_equals_pandas(values: list[int]) -> None:
    arr = np.array(values, dtype=np.int32)
    want = pd.util.hash_array(arr.copy(), categorize=False)
    assert hash_ints(arr).tolist() == want.tolist()
    assert arr.tolist() == values  # the input is not changed


def test_hash_ints_refuses_floats() -> None:
    with pytest.raises(TypeError, match="needs an integer array, not float64"):
        hash_ints(np.zeros(2))


# Pinned: if pandas ever changed hash_array, the tests above would follow it, these would not.
PINNED_TEXT = {
    "": 1760245841805064774,
    "\x00": 7984136654223058057,
    "coffee": 12121621603357685019,
    "tesco stores 2231 london": 185263809235199213,
    "abcdefgh": 14134741551282487882,
    "café €5 日本": 11147107737360103000,
}
PINNED_INT64 = {
    0: 0,
    -1: 13029008266876403067,
    2**63 - 1: 6514504133438201533,
    -(2**63): 2720858781877447050,
    1250: 12659516494893904585,
}
PINNED_INT32 = {
    0: 0,
    -1: 10030294862651378044,
    -(2**31): 17010196902690978975,
    19723: 15089027798347413620,
}


def test_pinned_text_hashes() -> None:
    got = hash_strings(pa.array(list(PINNED_TEXT), pa.string()))
    assert dict(zip(PINNED_TEXT, got.tolist(), strict=True)) == PINNED_TEXT


def test_pinned_int_hashes() -> None:
    got64 = hash_ints(np.array(list(PINNED_INT64), dtype=np.int64))
    assert dict(zip(PINNED_INT64, got64.tolist(), strict=True)) == PINNED_INT64
    got32 = hash_ints(np.array(list(PINNED_INT32), dtype=np.int32))
    assert dict(zip(PINNED_INT32, got32.tolist(), strict=True)) == PINNED_INT32
