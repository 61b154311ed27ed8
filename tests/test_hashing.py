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


def test_a_very_long_value_in_the_numpy_path_equals_pandas() -> None:
    """One 1 MB cell among short ones, kept from pandas (the Python finish, at the default
    batch settings)."""
    with tuned(_LONG=2_000_000):
        check(["x" * 1_000_000, "short", "", "é" * 1000, *[f"row {i}" for i in range(50)]])


class Spy:
    """Records the rows given to hashing._pandas_hashes (and still hashes them)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[list[int]] = []
        self._real = hashing._pandas_hashes
        monkeypatch.setattr(hashing, "_pandas_hashes", self)

    def __call__(
        self, data: memoryview, offsets: npt.NDArray[np.int64], rows: npt.NDArray[np.intp]
    ) -> npt.NDArray[np.uint64]:
        self.calls.append(rows.tolist())
        return self._real(data, offsets, rows)


def test_values_over_the_threshold_go_to_pandas(monkeypatch: pytest.MonkeyPatch) -> None:
    """At the default settings, with pandas loaded (as it is here): only the long rows."""
    spy = Spy(monkeypatch)
    long_ascii, long_utf8 = "y" * (hashing._LONG + 1), "é" * (hashing._LONG // 2 + 1)
    values = ["a", long_ascii, "", "x" * hashing._LONG, long_utf8, *[f"r{i}" for i in range(40)]]
    check(values)
    assert spy.calls == [[1, 4]]  # "x" * _LONG is not over it


def test_a_10mb_value_goes_to_pandas(monkeypatch: pytest.MonkeyPatch) -> None:
    spy = Spy(monkeypatch)
    check(["tesco", "z" * 10_000_000 + "€", "\x00"], pa.large_string())
    assert spy.calls == [[1]]


def test_short_values_stay_in_numpy(monkeypatch: pytest.MonkeyPatch) -> None:
    spy = Spy(monkeypatch)
    check(["q" * hashing._LONG, "coffee", ""])
    assert spy.calls == []


def test_only_long_values(monkeypatch: pytest.MonkeyPatch) -> None:
    spy = Spy(monkeypatch)
    check(["é" * hashing._LONG, "b" * 5000])
    assert spy.calls == [[0, 1]]


def test_nulls_are_still_refused_with_long_values() -> None:
    with pytest.raises(ValueError, match="fill the array's nulls first"):
        hash_strings(pa.array(["a" * 10_000, None], pa.string()))


@pytest.mark.parametrize("kind", [pa.string(), pa.large_string()])
def test_slices_with_long_values_of_an_array_with_nulls(kind: pa.DataType) -> None:
    """A slice's own values only (offsets rebased), its parent's nulls outside it."""
    arr = pa.array([None, "a" * 9000, "b", None, "c" * 5000, "d" * 20, "é" * 7000, None], kind)
    got = hash_strings(arr.slice(1, 2))
    assert got.tolist() == pandas_hash(["a" * 9000, "b"]).tolist()
    got = hash_strings(arr.slice(4, 3))
    assert got.tolist() == pandas_hash(["c" * 5000, "d" * 20, "é" * 7000]).tolist()


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.one_of(SHORT, LONG), min_size=1, max_size=40),
    st.integers(0, 80),
    st.integers(1, 12),
    st.sampled_from([pa.string(), pa.large_string()]),
    st.data(),
)
def test_long_values_hashed_by_pandas_equal_pandas(
    values: list[str], long: int, batch: int, kind: pa.DataType, data: st.DataObject
) -> None:
    """Rows over the threshold (pandas), the others (numpy), put back in place, in slices."""
    start = data.draw(st.integers(0, len(values)))
    stop = data.draw(st.integers(start, len(values)))
    with tuned(_LONG=long, _BATCH=batch):
        got = hash_strings(pa.array(values, kind).slice(start, stop - start))
    assert got.tolist() == pandas_hash(values[start:stop]).tolist()


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
