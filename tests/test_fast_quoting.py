"""The fast reader's whole-block quote check against the line-by-line rule it replaced."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from hypothesis import example, given, settings
from hypothesis import strategies as st

from csvbridge.readers.fast_io import _lines_quoted_plainly, bare_cr


def _line_by_line(arr: npt.NDArray[np.uint8], q: int, d: int) -> bool:
    """The rule as session 3 wrote it: each line's odd runs of quotes alternate, opening at
    the start of a cell and closing at its end, and the line ends outside quotes."""
    at = np.flatnonzero(arr == q)
    if not len(at):
        return True
    first = np.r_[True, np.diff(at) != 1]
    starts = at[first]
    lengths = np.diff(np.r_[np.flatnonzero(first), len(at)])
    odd = (lengths & 1) == 1
    s, e = starts[odd], (starts + lengths - 1)[odd]
    if not len(s):
        return True
    ends = np.flatnonzero((arr == 10) | (arr == 13))
    line = np.searchsorted(ends, s)
    new_line = np.r_[True, line[1:] != line[:-1]]
    first_of_line = np.maximum.accumulate(np.where(new_line, np.arange(len(s)), 0))
    opening = ((np.arange(len(s)) - first_of_line) & 1) == 0
    n = len(arr)
    before = np.where(s > 0, arr[np.maximum(s - 1, 0)], 10)
    after = np.where(e + 1 < n, arr[np.minimum(e + 1, n - 1)], 10)
    edge_before = (before == d) | (before == 10) | (before == 13)
    edge_after = (after == d) | (after == 10) | (after == 13)
    if not np.all(np.where(opening, edge_before, edge_after)):
        return False
    last_of_line = np.r_[line[1:] != line[:-1], True]
    return not bool(opening[last_of_line].any())


texts = st.text(alphabet='ab,"\n\r ', max_size=60)


@settings(max_examples=3000)
@given(texts)
@example('a,"b\nc",d\n')  # a quoted field across a line break
@example('a,"b",c\nd,"e\n')  # the second line ends inside quotes
@example('"""a""",b\r\n"c",d\r\n')  # escaped quotes inside quoted fields, CRLF
@example('a,""",b\nc,""",d\n')
@example('a,"b\r\nc",d\r\n')  # a CRLF inside a quoted field
@example(
    'a,"b\rc",d\r\n'
)  # a bare CR inside a quoted field  # odd runs that pair up only across the line break
@example('12" pipe,"x"\n')  # a quote inside an unquoted cell
def test_block_rule_equals_line_rule(text: str) -> None:
    arr = np.frombuffer(text.encode(), np.uint8)
    expected = _line_by_line(arr, ord('"'), ord(","))
    assert _lines_quoted_plainly(arr, ord('"'), ord(",")) is expected
    if not bare_cr(text.encode()):
        assert _lines_quoted_plainly(arr, ord('"'), ord(","), cr=False) is expected


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.text(alphabet='ab,"\n\r\x00 ', max_size=12), min_size=1, max_size=30),
    st.integers(0, 8),
)
@example(['a,"b', 'c",d'], 0)  # a quoted line break where the halves meet
@example(["a,b", 'c,"d'], 0)  # the second half ends inside quotes
@example(['a,"b', "c,d"], 0)  # the first half ends inside quotes
def test_the_check_in_two_halves_answers_as_one(lines: list[str], offset: int) -> None:
    """A large file is checked in two halves at once (split after a line break); the answer
    is the one-thread answer over the whole range, wherever the halves meet."""
    import io as _io
    import tempfile
    from pathlib import Path

    from csvbridge.readers import fast_io

    data = "\n".join(lines).encode()
    offset = min(offset, len(data))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f.csv"
        path.write_bytes(data)
        one = fast_io._range_quoted_plainly(_io.BytesIO(data), offset, len(data), '"', ",")
        old = fast_io.PARALLEL_BYTES
        fast_io.PARALLEL_BYTES = 0
        try:
            with path.open("rb") as f:
                two = fast_io._plain_quoting(f, offset, '"', ",")
        finally:
            fast_io.PARALLEL_BYTES = old
    assert two is one
