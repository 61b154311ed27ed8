"""Fuzz harness for what reads untrusted bytes and cells (atheris, coverage-guided): the
delimited reader, the column profiler, the money parser and the date parser. The first byte
of an input picks the target; the rest is the input.

- ``reader``: the bytes as a file, opened by ``open_source`` (format sniffing, encoding and
  dialect detection, header search) and read to the end in small chunks. Only a
  CsvbridgeError may escape. Every chunk has one column per header name, lines go up, and
  rows are counted once. When the pyarrow fast path exists, the Python path must give the
  very same chunks (the fast path's promise), and the same error if any.
- ``profiler``: ``profile_file`` on the same bytes: only a CsvbridgeError may escape, and the
  profile must render as JSON.
- ``money``: cells split from the bytes, parsed with a number format and exponent chosen by
  the input. Each cell is exactly one of ok / empty / too precise / invalid; an ok amount
  formats back to text that parses to the same minor units.
- ``dates``: cells parsed with a format chosen by the input. An ok date is a real calendar
  date, and formatting it back with the same format parses to the same day.

Short bounded pass (what CI runs when atheris is installed, via tests/test_bad_inputs.py)::

    python tests/fuzz_reader.py -runs=2000 -max_total_time=30

Longer runs keep a corpus and use both cores::

    mkdir -p .fuzz/reader
    python tests/fuzz_reader.py .fuzz/reader -max_total_time=3600 -jobs=2 -workers=2 \
        -rss_limit_mb=4096

(The fuzzer's own memory grows by ~1 GB an hour; csvbridge's does not — the same inputs
replayed in a loop stay flat — so give long runs the larger ``-rss_limit_mb``.)

``pip install atheris`` needs a clang-built CPython on some platforms; without atheris the
harness's ``run_one`` is still exercised by the seeds and a hypothesis property test.
Anything a run finds goes into ``SEEDS`` (and so into the regression tests).
"""

from __future__ import annotations

import base64
import csv
import json
import os
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGETS = ("reader", "profiler", "money", "dates")
_CSV_LIMIT = csv.field_size_limit()  # as Python starts
_DIR = Path(tempfile.mkdtemp(prefix="csvbridge-fuzz-"))
_NUMBER_MARKS = [(".", None), (",", None), (".", ","), (",", "."), (",", " "), (".", "'")]
_DATE_FORMATS = ["DD/MM/YYYY", "MM/DD/YYYY", "YYYY-MM-DD", "D MMM YYYY", "DD.MM.YY", "YYYYMMDD"]
_OPTIONS: list[dict[str, Any]] = [
    {},
    {"delimiter": ";"},
    {"expected_columns": ("Date", "Amount")},
    {"no_header": True, "column_names": ("a", "b", "c")},
    {"footer": False, "encoding": "utf-8"},
    {"max_field_size": 64},
]
# csvbridge is imported lazily, so that main() can import it under atheris's instrumentation
# (only csvbridge's own code: instrumenting every module takes minutes).


SEEDS: list[bytes] = [
    b"\x00Date,Description,Amount\r\n01/02/2025,Tea,-1.00\r\n",
    b'\x00Date,Description,Amount\r\n01/02/2025,"Tea,-1.00\r\n02/02/2025,Cake,-2.50\r\n',
    b"\x00\xef\xbb\xbfa;b;c\n1;2\n3;4;5;6\n\n",
    b"\x00\xff\xfea\x00,\x00b\x00\r\x00\n\x001\x00,\x00",  # UTF-16, cut short
    b"\x00PK\x03\x04garbage",
    b"\x01Date,Amount,Balance\n01/02/2025,1.00,2.00\n02/02/2025,-3,-1.00\n",
    b"\x01\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100,
    b"\x02\x031,234.56|(7)|-0|1e5|\xe2\x82\xac 5|12-|--5|1.2.3|",
    b"\x03\x0031/02/2025|29/02/2024|01/13/2025||2025-01-01",
    # found by this fuzzer: detection under the csv field limit a previous read left behind
    base64.b64decode(
        "AGpqampqampqampqampqampqampqampqampqampqampqampqampqampqampqampqampqampqampqampqampqampqampqampqamo7/////7////YKCg=="
    ),
    base64.b64decode(
        "ADsK/////////////////yH//////////////////////////////////wkA//////////////////////////////////////87NTsKCjs1O4o="
    ),
    # found by this fuzzer: an unclosed quote whose line, read as it stands, has a field over
    # the size limit (the csv module's error escaped the runaway-quote recovery)
    base64.b64decode(
        "AO+7v2E7YjE7CmM7IiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIjIKMzs0OzU7Ngoq"
    ),
]


def _path(data: bytes) -> Path:
    p = _DIR / "in.csv"
    p.write_bytes(data)
    return p


def _chunks(path: Path, options: Any) -> tuple[list[Any], str | None]:
    """Every chunk as comparable data, and the error code if reading stopped with one."""
    from csvbridge.errors import CsvbridgeError
    from csvbridge.readers import open_source

    seen: list[Any] = []
    # Known bug (test_detection_does_not_depend_on_the_previous_file): delimiter detection
    # reads the process-wide csv.field_size_limit the previous read left behind. Each read
    # starts from the default, so that each is judged on its own; the limit is put back after.
    before = csv.field_size_limit(_CSV_LIMIT)
    try:
        with ExitStack() as stack:
            finder = open_source(path, 0, options, stack)
            info = finder.info
            names = list(info.columns)
            assert len(set(names)) == len(names), f"column names repeat: {names}"
            rows = 0
            last = 0
            for chunk in finder.chunks(7):
                assert chunk.table.column_names == names
                lines = chunk.lines.tolist()
                assert all(a < b for a, b in zip([last, *lines], lines, strict=False)), lines
                last = lines[-1] if lines else last
                rows += chunk.num_rows
                problems = {k: (v.rule, v.cells) for k, v in sorted(chunk.problems.items())}
                seen.append((chunk.table.to_pydict(), lines, problems))
            assert rows == info.rows
            seen.append((names, info.header_line, info.footer, info.blank_lines))
    except CsvbridgeError as e:
        assert e.code and e.message
        e.render()
        return seen, e.code
    finally:
        csv.field_size_limit(before)
    return seen, None


def run_reader(data: bytes) -> None:
    from csvbridge.readers import ReadOptions

    options = ReadOptions(**(_OPTIONS[data[0] % len(_OPTIONS)] if data else {}))
    path = _path(data[1:])
    fast = _chunks(path, options)
    if _has_fast_path():
        os.environ["CSVBRIDGE_CSV_READER"] = "python"
        try:
            slow = _chunks(path, options)
        finally:
            del os.environ["CSVBRIDGE_CSV_READER"]
        assert fast == slow, "the fast path and the Python path read different chunks"


def _has_fast_path() -> bool:
    try:
        import csvbridge.readers.fast_delimited  # noqa: F401
    except ImportError:
        return False
    return True


def run_profiler(data: bytes) -> None:
    from csvbridge.errors import CsvbridgeError
    from csvbridge.profiling import profile_file

    try:
        profile = profile_file(_path(data))
    except CsvbridgeError as e:
        assert e.code and e.message
        return
    json.dumps(profile.as_dict())


def _cells(data: bytes) -> list[str | None]:
    text = data.decode("utf-8", errors="replace")
    return [None if c == "\x00" else c for c in text.split("|")]


def run_money(data: bytes) -> None:
    from csvbridge.money import NumberFormat, format_minor, format_one, parse_money

    if len(data) < 2:
        return
    fmt = NumberFormat(*_NUMBER_MARKS[data[0] % len(_NUMBER_MARKS)])
    exponent = data[1] % 4
    cells = _cells(data[2:])
    res = parse_money(pa.array(cells, pa.string()), exponent, fmt)
    kinds = res.ok.astype(int) + res.empty.astype(int) + res.too_precise.astype(int)
    kinds += res.invalid.astype(int)
    assert (kinds == 1).all(), "a cell is not exactly one of ok/empty/too precise/invalid"
    assert (res.minor[~res.ok] == 0).all()
    ok = np.flatnonzero(res.ok)
    if len(ok):
        minor = res.minor[ok]
        text = format_minor(pa.array(minor, pa.int64()), exponent)
        assert text.to_pylist() == [format_one(int(m), exponent) for m in minor]
        again = parse_money(text, exponent, NumberFormat(".", None))
        assert again.ok.all() and (again.minor == minor).all(), (text, minor, again.minor)


def run_dates(data: bytes) -> None:
    from csvbridge.dates import format_dates, parse_dates

    if not data:
        return
    fmt = _DATE_FORMATS[data[0] % len(_DATE_FORMATS)]
    cells = _cells(data[1:])
    res = parse_dates(pa.array(cells, pa.string()), (fmt,))
    assert not (res.ok & res.empty).any()
    ok = np.flatnonzero(res.ok)
    if len(ok):
        days = pa.array(res.days[ok], pa.int32()).cast(pa.date32())
        for d in days.to_pylist():
            assert 1 <= d.year <= 9999
        text = format_dates(days, fmt)
        again = parse_dates(text, (fmt,))
        assert again.ok.all(), (fmt, text.to_pylist())
        assert (again.days == res.days[ok]).all(), (fmt, text.to_pylist())


RUNNERS = {"reader": run_reader, "profiler": run_profiler, "money": run_money, "dates": run_dates}


def run_one(data: bytes) -> None:
    """Run the target the first byte picks on the rest; raise on anything but a clean end."""
    if not data:
        return
    RUNNERS[TARGETS[data[0] % len(TARGETS)]](data[1:])


def one_input(data: bytes) -> None:
    run_one(data[:4096])


def main() -> None:
    import atheris

    args = list(sys.argv)
    if not any(a.startswith("-runs=") or a.startswith("-max_total_time=") for a in args):
        args.append("-runs=2000")  # bounded unless told otherwise
    if not any(not a.startswith("-") for a in args[1:]):  # no corpus given: start from SEEDS
        corpus = Path(tempfile.mkdtemp(prefix="csvbridge-fuzz-corpus-"))
        for i, seed in enumerate(SEEDS):
            (corpus / f"seed-{i}").write_bytes(seed)
        args.append(str(corpus))
    if not any(a.startswith("-max_len=") for a in args):
        args.append("-max_len=4096")
    with atheris.instrument_imports(include=["csvbridge"]):
        import csvbridge.dates
        import csvbridge.money
        import csvbridge.profiling
        import csvbridge.readers  # noqa: F401
    atheris.Setup(args, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
