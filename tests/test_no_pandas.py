"""A conversion never imports pandas (~0.2 s and ~40 MB): csvbridge hashes without it
(csvbridge.hashing) and keeps pyarrow's pandas shim from importing it (arrow_setup.py, run as
a command starts), while a program that imports pandas itself still gets pyarrow's usual
pandas handling."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _python(code: str, tmp_path: Path) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_convert_with_history_and_possible_duplicates_never_imports_pandas(
    tmp_path: Path,
) -> None:
    mapping = yaml.safe_load((ROOT / "mappings" / "uk_bank.yaml").read_text(encoding="utf-8"))
    mapping["duplicates"]["possible"] = {"policy": "flag", "window_days": 3}
    (tmp_path / "m.yaml").write_text(yaml.safe_dump(mapping), encoding="utf-8")
    statement = ROOT / "sample_data" / "uk_bank_statement.csv"
    code = (
        "import sys\n"
        "from csvbridge.cli import main\n"
        f"args = ['convert', {str(statement)!r}, '-m', 'm.yaml', '--to', 'qbo-bank,xlsx',\n"
        "        '-o', sys.argv[1], '--history', 'h.sqlite', '--quiet']\n"
        "try:\n"
        "    main(args)\n"
        "except SystemExit as e:\n"
        "    assert not e.code, e.code\n"
        "print('pandas' in sys.modules)\n"
    )
    for out in ("first", "again"):  # the second run finds every record in the history
        done = subprocess.run(
            [sys.executable, "-c", code, out], capture_output=True, text=True, cwd=tmp_path
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.split() == ["False"]
    flagged = (tmp_path / "again" / "duplicates.csv").read_text(encoding="utf-8").splitlines()
    assert len(flagged) > 10  # the history was checked: every record repeats the first run


PANDAS_USE = (
    "import pyarrow as pa\n"
    "pa.array([1]).to_numpy(); pa.scalar(2)\n"
    "print('pandas' in sys.modules)\n"
    "import importlib.util\n"
    "assert importlib.util.find_spec('pandas') is not None  # an is-it-installed check\n"
    "import pandas as pd\n"
    "print(type(pd.__loader__).__name__ == type(pd.__spec__.loader).__name__ != '_Rearm')\n"
    "print(any(type(f).__name__ in ('_Rearm', '_Block') for f in sys.meta_path))\n"
    "print(pa.array(pd.Series([1.0, None])).null_count)\n"
    "print(pa.types.is_dictionary(pa.array(pd.Series(pd.Categorical(['a', 'b']))).type))\n"
    "print(pa.table(pd.DataFrame({'x': [1, 2]})).num_rows)\n"
    "print(pa.table({'x': [1.5]}).to_pandas()['x'].iloc[0])\n"
    "print(pa.array([1.0, float('nan')], from_pandas=True).null_count)\n"
)


def test_pandas_imported_later_is_still_seen_by_pyarrow(tmp_path: Path) -> None:
    """After csvbridge kept pandas out, a program's own pandas objects convert as usual."""
    out = _python(
        "import sys\nfrom csvbridge.arrow_setup import keep_pandas_out_of_pyarrow as keep\nkeep()\n"
        + PANDAS_USE,
        tmp_path,
    )
    assert out == ["False", "True", "False", "1", "True", "2", "1.5", "1"]


def test_the_same_without_csvbridge(tmp_path: Path) -> None:
    """The answers above are pyarrow's own (only the first line differs)."""
    out = _python("import sys\n" + PANDAS_USE, tmp_path)
    assert out == ["True", "True", "False", "1", "True", "2", "1.5", "1"]


def test_to_pandas_as_the_first_pandas_use(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from csvbridge.arrow_setup import keep_pandas_out_of_pyarrow as keep\nkeep()\n"
        "import pyarrow as pa\n"
        "pa.array([1]).to_numpy()\n"
        "df = pa.table({'c': pa.array(['a', 'b']).dictionary_encode()}).to_pandas()\n"
        "print(df['c'].dtype.name)\n"
        "import pandas as pd\n"
        "print(pa.array(pd.Series([1.0, None])).null_count)\n"
    )
    assert _python(code, tmp_path) == ["category", "1"]


def test_pandas_imported_first_is_left_alone(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "import pandas\n"
        "from csvbridge.arrow_setup import keep_pandas_out_of_pyarrow as keep\nkeep()\n"
        "print(any(type(f).__name__ in ('_Rearm', '_Block') for f in sys.meta_path))\n"
    )
    assert _python(code, tmp_path) == ["False"]


def test_a_failure_leaves_pyarrow_as_it_was(tmp_path: Path) -> None:
    """If pyarrow's first call fails, the pandas blocker is gone and nothing is re-armed."""
    code = (
        "import sys\n"
        "import pyarrow as pa\n"
        "real = pa.array\n"
        "def broken(*a, **k):\n"
        "    raise RuntimeError('changed pyarrow')\n"
        "pa.array = broken\n"
        "from csvbridge.arrow_setup import keep_pandas_out_of_pyarrow as keep\nkeep()\n"
        "pa.array = real\n"
        "print(any(type(f).__name__ in ('_Rearm', '_Block') for f in sys.meta_path))\n"
        "pa.array([1])\n"
        "print('pandas' in sys.modules)\n"
    )
    assert _python(code, tmp_path) == ["False", "True"]


HASH_RUN = (
    "import sys\n"
    "import pyarrow as pa\n"
    "from csvbridge.arrow_setup import keep_pandas_out_of_pyarrow as keep\nkeep()\n"
    "import numpy as np\n"
    "from csvbridge import hashing\n"
    "from csvbridge.readers.arrow_buffers import string_array\n"
    "short = [f'CARD PAYMENT {i}' for i in range(20000)]\n"
    "calls = [string_array(short + ['x' * 5000] * 100), string_array(['é' * 300_000])]\n"
    "got = []\n"
    "for arr in calls:\n"
    "    got.append(hashing.hash_strings(arr))\n"
    "    print('pandas' in sys.modules)\n"
    "import pandas as pd\n"
    "for arr, hashes in zip(calls, got):\n"
    "    want = pd.util.hash_array(np.array(arr.to_pylist(), dtype=object), categorize=False)\n"
    "    print((hashes == want).all())\n"
    "print(pa.array(pd.Series([1.0, None])).null_count)\n"
)


def test_hashing_long_values_imports_pandas_only_once_it_pays(tmp_path: Path) -> None:
    """Values over hashing._LONG stay in numpy until they add up to hashing._RENT_BYTES in
    the process (1 MiB: 500 KB, then 600 KB more), then pandas hashes them, imported there
    and seen by pyarrow as usual."""
    assert _python(HASH_RUN, tmp_path) == ["False", "True", "True", "True", "1"]


def test_hashing_short_values_never_imports_pandas(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from csvbridge.arrow_setup import keep_pandas_out_of_pyarrow as keep\nkeep()\n"
        "from csvbridge.hashing import hash_strings, _LONG\n"
        "from csvbridge.readers.arrow_buffers import string_array\n"
        "for n in range(30):\n"
        "    hash_strings(string_array(['a' * _LONG] * 300 + ['TESCO STORES'] * 9000))\n"
        "print('pandas' in sys.modules)\n"
    )
    assert _python(code, tmp_path) == ["False"]
