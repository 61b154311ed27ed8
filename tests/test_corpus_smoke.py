"""Every delimited or xlsx file in the shared real-world corpus either reads or gets a clear
csvbridge error — never a traceback. (Accuracy against the corpus's expected results is
measured separately; this only guards against crashes.)"""

from __future__ import annotations

import warnings
from contextlib import ExitStack
from pathlib import Path

from csvbridge.errors import CsvbridgeError
from csvbridge.readers import ReadOptions, open_source

EXTENSIONS = {
    ".csv",
    ".tsv",
    ".txt",
    ".tab",
    ".psv",
    ".ssv",
    ".dat",
    ".xlsx",
    ".xlsm",
    ".xlsb",
    ".xls",
    ".ods",
}
# Files expected to be refused, with why. Anything else that fails to read is a regression.
REFUSED = {
    "duckdb/data/csv/quoted_comment_buffer_boundary.csv": "binary-file (random control bytes)",
}


def test_no_corpus_file_crashes_a_reader(corpus: Path) -> None:
    files = [p for p in sorted(corpus.rglob("*")) if p.is_file() and p.suffix.lower() in EXTENSIONS]
    assert len(files) > 500, "the corpus looks incomplete"
    crashes, refused = [], {}
    for p in files:
        try:
            with ExitStack() as stack, warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for _ in open_source(p, 0, ReadOptions(), stack).chunks(5000):
                    pass
        except CsvbridgeError as e:
            refused[str(p.relative_to(corpus))] = e.code
        except Exception as e:  # a crash is what this test looks for
            crashes.append(f"{p.relative_to(corpus)}: {type(e).__name__}: {e}")
    assert crashes == []
    unexpected = {
        k: v
        for k, v in refused.items()
        if k not in REFUSED and v not in ("empty-file", "no-rows", "workbook-protected")
    }
    assert unexpected == {}
