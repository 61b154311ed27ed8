"""Fuzz harness for mapping expressions (atheris, coverage-guided).

Every input is parsed, type-checked and evaluated over a small fixed chunk. The only
exception allowed out is ExpressionError; anything else (or a broken invariant: a result of
the wrong length, an error row that is not null) is a crash that atheris reports with the
input that caused it.

Short bounded pass (what CI runs: atheris is in the test extra on Linux x86-64; via
tests/test_expressions.py)::

    python tests/fuzz_expressions.py -runs=1500 -max_total_time=30

Longer runs keep a corpus and use both cores::

    mkdir -p .fuzz/expressions
    python tests/fuzz_expressions.py .fuzz/expressions -max_total_time=3600 -jobs=2 -workers=2

``pip install atheris`` needs a clang-built CPython on some platforms; without atheris the
harness's ``run_one`` is still exercised by the token-soup property test.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from csvbridge.mapping.expressions import (
    ColumnType,
    EvalContext,
    ExpressionError,
    Frame,
    bind,
    parse,
)
from csvbridge.money import NumberFormat

_COLUMNS = {
    "x": pa.array(["1", "", "abc", "-2.50", "1,234.5", "99999999999999999", "(3)", "fee"]),
    "y": pa.array(["0", "2", "", "x", "1e5", "0.001", "-0", "7"]),
    "amount": pa.array(["10", "0", "-1", "", "5.5", "€ 3", "12-", "1.000,5"]),
    "Paid in": pa.array(["", "1", "2", "3", "", "x", "0", "9"]),
    "d": pa.array(["01/02/2025", "31/02/2025", "", "x", "2025-01-01", "1/1/99", "", "29/02/2024"]),
    "n": pa.array([1, None, 3, -4, 0, 6, 7, 10**17], pa.int64()),
}
_N = 8
_CONTEXT = EvalContext(
    number_format=NumberFormat(".", ","),
    date_formats=("DD/MM/YYYY",),
    columns={"d": ColumnType("date"), "n": ColumnType("decimal")},
)


def run_one(text: str) -> None:
    """Parse, bind and evaluate ``text``; raise anything but ExpressionError."""
    try:
        expr = parse(text)
        frame = Frame({k: v for k, v in _COLUMNS.items() if k in expr.columns()}, _N)
        types = {k: v.type for k, v in _COLUMNS.items()}
        bound = bind(expr, _CONTEXT, types)
        result = bound.run(frame)
    except ExpressionError as e:
        assert e.reason and 0 <= e.position <= len(text)
        e.caret()
        return
    assert len(result.values) == _N, "result has the wrong length"
    assert result.type == bound.type
    valid = np.asarray(result.values.is_valid(), dtype=bool)
    assert not (valid & result.error_mask()).any(), "an error row has a value"
    if result.type == "decimal":
        assert result.coefficients is not None
        assert (np.abs(result.coefficients) < 10**18).all()


def one_input(data: bytes) -> None:
    import atheris

    fdp = atheris.FuzzedDataProvider(data)
    run_one(fdp.ConsumeUnicodeNoSurrogates(2_100))


def main() -> None:
    import atheris

    args = list(sys.argv)
    if not any(a.startswith("-runs=") or a.startswith("-max_total_time=") for a in args):
        args.append("-runs=3000")  # bounded unless told otherwise
    atheris.instrument_all()
    atheris.Setup(args, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
