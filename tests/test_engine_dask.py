"""The Dask engine against the local engine: the same batch through both, every output file
compared byte for byte (report.json, .html and .xlsx included), on a real dask.distributed
cluster of worker processes. Plus one test per error the engine can show."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from csvbridge import convert
from csvbridge.engines import get_engine
from csvbridge.engines.base import MapJob
from csvbridge.engines.dask import DaskEngine
from csvbridge.errors import CsvbridgeError, EngineError, InputFileError

from .conftest import ROOT, run_cli, write_case

distributed = pytest.importorskip("distributed")

GOLDEN = ROOT / "tests" / "golden"


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """Two worker processes, one thread each: pickling, ordering and process boundaries are
    all real."""
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as c:
        yield c


def _golden(case: str) -> tuple[list[Path], Path, list[str], dict[str, str]]:
    import yaml

    spec = yaml.safe_load((GOLDEN / case / "case.yaml").read_text(encoding="utf-8"))

    def where(rel: str) -> Path:
        here = GOLDEN / case / rel
        return here if here.exists() else ROOT / rel

    inputs = [where(i) for i in spec["inputs"]]
    return inputs, where(spec["mapping"]), spec["to"], spec.get("options") or {}


def _both(
    tmp: Path,
    engine: DaskEngine,
    inputs: list[Path],
    mapping: Path,
    to: list[str],
    options: dict[str, str],
    chunk_rows: int,
    runs: int = 1,
    tag: str = "",
) -> None:
    """Convert with each engine (``runs`` times into one history each) and compare every
    file of every run byte for byte, and what convert returned."""
    for run in range(runs):
        got: dict[str, Any] = {}
        for name, eng in (("local", get_engine("local")), ("dask", engine)):
            out = tmp / f"{name}{tag}-{run}"
            r = convert(
                inputs,
                mapping,
                to,
                out,
                options=options,
                chunk_rows=chunk_rows,
                history=tmp / f"{name}.sqlite",
                engine=eng,
            )
            got[name] = (r.exit_code, r.rejected, r.duplicates, r.warnings, out)
        *local, lout = got["local"]
        *dask, dout = got["dask"]
        assert dask == local
        names = sorted(p.name for p in lout.iterdir())
        assert names == sorted(p.name for p in dout.iterdir())
        assert "report.json" in names
        for n in names:
            assert (dout / n).read_bytes() == (lout / n).read_bytes(), f"run {run}: {n} differs"


# Each case in partitions small enough that every file is several chunks, so ordering and
# the batch-wide row numbers are exercised. Modes: workers (each file read by path and
# mapped on a worker), client (its bytes sent to a worker), chunks (read here, chunks mapped
# on workers), mixed (small files on workers, bigger ones read here).
MODES: dict[str, dict[str, Any]] = {
    "workers": {},
    "client": {"read_on": "client"},
    "chunks": {"file_bytes": 0},
    "mixed": {"file_bytes": 1500},
}
CASES = [
    ("uk_bank_all_targets", 4, "chunks"),  # bank: balance checks, preamble and footer
    ("uk_bank_all_targets", 4, "workers"),
    ("batch_overlap", 3, "mixed"),  # two files, the second repeating rows of the first
    ("bad_rows", 2, "chunks"),  # rejects of every kind with their line numbers
    ("bad_rows", 2, "client"),
    ("w_invoices_qbo_xero_sage", 3, "chunks"),  # invoice lines grouped into documents
    ("ready_shopify_orders", 2, "workers"),  # split: one row into several records
    ("ready_paypal_activity", 5, "chunks"),  # split, several currencies
    ("xlsx_statement", 3, "client"),  # a spreadsheet
    ("fixed_width", 2, "chunks"),  # fixed-width text
]


@pytest.mark.parametrize(("case", "chunk_rows", "mode"), CASES)
def test_same_outputs_as_local(
    cluster: Any, tmp_path: Path, case: str, chunk_rows: int, mode: str
) -> None:
    inputs, mapping, to, options = _golden(case)
    engine = DaskEngine(cluster.scheduler_address, **MODES[mode])
    _both(tmp_path, engine, inputs, mapping, to, options, chunk_rows)


def test_runs_against_history_are_the_same(cluster: Any, tmp_path: Path) -> None:
    """Three runs into one history per engine: a file seen in an earlier batch (its warning
    goes among the reader's own), then the same batch again (all held back)."""
    inputs, mapping, to, options = _golden("batch_overlap")
    engine = DaskEngine(cluster.scheduler_address, file_bytes=1500)
    _both(tmp_path, engine, inputs[:1], mapping, to, options, 2, tag="first")
    _both(tmp_path, engine, inputs, mapping, to, options, 2, runs=2)
    report = (tmp_path / "dask-0" / "report.json").read_text(encoding="utf-8")
    assert "was already converted in batch 1" in report


@pytest.fixture(scope="module")
def big_statement(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated statement: exact duplicate rows, a running balance, quoted fields."""
    out = tmp_path_factory.mktemp("big") / "statement.csv"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "generate.py"),
            "--rows",
            "6000",
            "--out",
            str(out),
            "--seed",
            "7",
        ],
        check=True,
        capture_output=True,
    )
    return out


@pytest.mark.parametrize("mode", ["workers", "chunks"])
def test_large_file_in_many_partitions(
    cluster: Any, tmp_path: Path, big_statement: Path, mode: str
) -> None:
    """6,000 rows in 500-row partitions through a window smaller than the partition
    count: duplicates (held back), the balance chain and the tie-out come out the same."""
    engine = DaskEngine(cluster.scheduler_address, window=3, **MODES[mode])
    mapping = ROOT / "benchmarks" / "bench_mapping.yaml"
    _both(tmp_path, engine, [big_statement], mapping, ["qbo-bank", "csv"], {}, 500)
    report = json.loads((tmp_path / "dask-0" / "report.json").read_text(encoding="utf-8"))
    assert report["duplicates"]["flagged"] > 0  # the generator's repeated rows were found


@pytest.mark.parametrize("mode", ["workers", "client"])
def test_folder_of_files(cluster: Any, tmp_path: Path, mode: str) -> None:
    """A folder stands for its files sorted by name, under both engines."""
    inputs, mapping, to, options = _golden("batch_overlap")
    folder = tmp_path / "in"
    folder.mkdir()
    for p in reversed(inputs):
        (folder / p.name).write_bytes(p.read_bytes())
    (folder / ".hidden").write_text("not an input")
    engine = DaskEngine(cluster.scheduler_address, **MODES[mode])
    _both(tmp_path, engine, [folder], mapping, to, options, 3)
    local = tmp_path / "local-0" / "report.json"
    assert local.read_text(encoding="utf-8").index('"feb.csv"') < local.read_text(
        encoding="utf-8"
    ).index('"feb_mar.csv"')


def test_empty_folder_is_an_error(tmp_path: Path) -> None:
    _, m = write_case(tmp_path, "Date,Description,Amount\n")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputFileError) as e:
        convert([tmp_path / "empty"], m, ["csv"], tmp_path / "out", history=False)
    assert e.value.code == "folder-empty"


def test_errors_in_files_are_the_local_engine_errors(cluster: Any, tmp_path: Path) -> None:
    """A worker's error reaches the user as the local engine's would, and the first bad file
    in input order is the one reported, whichever partition finished first."""
    good, m = write_case(tmp_path, "Date,Description,Amount\n01/02/2024,a,1.00\n", name="a.csv")
    bad1 = tmp_path / "b.csv"
    bad1.write_text("Date,Text,Amount\n01/02/2024,a,1.00\n", encoding="utf-8")
    bad2 = tmp_path / "c.csv"
    bad2.write_text("Day,Description,Amount\n01/02/2024,a,1.00\n", encoding="utf-8")
    errors = []
    for eng in (get_engine("local"), DaskEngine(cluster.scheduler_address)):
        with pytest.raises(CsvbridgeError) as e:
            convert([good, bad1, bad2], m, ["csv"], tmp_path / eng.name, history=False, engine=eng)
        errors.append(e.value.render())
    assert errors[0] == errors[1]
    assert "b.csv" in errors[0]


# -- errors of the engine itself ------------------------------------------------------------
def test_unreachable_scheduler(tmp_path: Path) -> None:
    src, m = write_case(tmp_path, "Date,Description,Amount\n01/02/2024,a,1.00\n")
    engine = DaskEngine("tcp://127.0.0.1:9", connect_timeout=0.5)
    with pytest.raises(EngineError) as e:
        convert([src], m, ["csv"], tmp_path / "out", history=False, engine=engine)
    assert e.value.code == "dask-unreachable"
    assert "tcp://127.0.0.1:9" in e.value.message
    assert "dask scheduler" in e.value.hint
    assert not (tmp_path / "out" / "report.json").exists()


def test_unreachable_scheduler_from_the_cli(tmp_path: Path) -> None:
    src, m = write_case(tmp_path, "Date,Description,Amount\n01/02/2024,a,1.00\n")
    env = {**os.environ, "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "1s"}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from csvbridge.cli import main; main()",
            "convert",
            str(src),
            "-m",
            str(m),
            "--to",
            "csv",
            "-o",
            str(tmp_path / "out"),
            "--no-history",
            "--engine",
            "dask",
            "--scheduler",
            "tcp://127.0.0.1:9",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode == 2, result.stderr
    assert "error [dask-unreachable]" in result.stderr
    assert "Traceback" not in result.stderr


def test_scheduler_without_workers(tmp_path: Path) -> None:
    src, m = write_case(tmp_path, "Date,Description,Amount\n01/02/2024,a,1.00\n")
    with distributed.LocalCluster(n_workers=0, dashboard_address=":0") as empty:
        engine = DaskEngine(empty.scheduler_address, connect_timeout=0.5)
        with pytest.raises(EngineError) as e:
            convert([src], m, ["csv"], tmp_path / "out", history=False, engine=engine)
    assert e.value.code == "dask-no-workers"
    assert "dask worker" in e.value.hint


def test_dask_options_need_the_dask_engine() -> None:
    with pytest.raises(EngineError) as e:
        get_engine("local", scheduler="tcp://h:8786")
    assert e.value.code == "engine-option"
    result = run_cli("convert", "x.csv", "-m", "m.yaml", "--to", "csv", "-o", "o", "--workers", "2")
    assert result.exit_code == 2
    assert "error [engine-option]" in result.output


def test_unknown_engine() -> None:
    with pytest.raises(EngineError) as e:
        get_engine("spark")
    assert e.value.code == "engine-unknown"
    assert "local, dask" in e.value.hint


def test_bad_read_on() -> None:
    with pytest.raises(EngineError) as e:
        DaskEngine(read_on="nobody")
    assert e.value.code == "engine-option"


def test_dask_not_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src, m = write_case(tmp_path, "Date,Description,Amount\n01/02/2024,a,1.00\n")
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed fails
    with pytest.raises(EngineError) as e:
        convert([src], m, ["csv"], tmp_path / "out", history=False, engine="dask")
    assert e.value.code == "dask-missing"
    assert "csvbridge[dask]" in e.value.hint


def _cannot_read(path: str, index: int, job: MapJob) -> Any:
    raise InputFileError("the input file does not exist", where=path, code="file-not-found")


def test_worker_cannot_read_the_file(cluster: Any, tmp_path: Path) -> None:
    """A file this machine reads but a worker cannot (no shared storage) is named as that,
    not as a missing file."""
    src, m = write_case(tmp_path, "Date,Description,Amount\n01/02/2024,a,1.00\n")

    class Remote(DaskEngine):
        map_file = staticmethod(_cannot_read)

    with pytest.raises(EngineError) as e:
        convert(
            [src],
            m,
            ["csv"],
            tmp_path / "out",
            history=False,
            engine=Remote(cluster.scheduler_address),
        )
    assert e.value.code == "dask-worker-cannot-read"
    assert "--read-on client" in e.value.hint


def _no_csvbridge(path: str, index: int, job: MapJob) -> Any:
    raise ModuleNotFoundError("No module named 'csvbridge'")


def test_worker_without_csvbridge(cluster: Any, tmp_path: Path) -> None:
    src, m = write_case(tmp_path, "Date,Description,Amount\n01/02/2024,a,1.00\n")

    class Bare(DaskEngine):
        map_file = staticmethod(_no_csvbridge)

    engine = Bare(cluster.scheduler_address)
    with pytest.raises(EngineError) as e:
        convert([src], m, ["csv"], tmp_path / "out", history=False, engine=engine)
    assert e.value.code == "dask-worker-setup"
    assert "No module named 'csvbridge'" in e.value.message


def test_read_on_client_needs_no_shared_files(cluster: Any, tmp_path: Path) -> None:
    """With --read-on client the workers never open the inputs: their bytes are sent."""
    inputs, mapping, to, options = _golden("bad_rows")

    class Remote(DaskEngine):
        map_file = staticmethod(_cannot_read)

    engine = Remote(cluster.scheduler_address, read_on="client")
    _both(tmp_path, engine, inputs, mapping, to, options, 3)


def _die(path: str, index: int, job: MapJob) -> Any:
    os._exit(13)  # a worker killed mid-task (out of memory, a machine lost)


def _stall(path: str, index: int, job: MapJob) -> Any:
    time.sleep(1.5)


@pytest.fixture(scope="module")
def fragile_cluster() -> Iterator[Any]:
    """One worker, and a task that kills its worker is not retried on another."""
    import dask

    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 0}),
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as c,
    ):
        yield c


def test_worker_dies(fragile_cluster: Any, tmp_path: Path) -> None:
    src, m = write_case(tmp_path, "Date,Description,Amount\n01/02/2024,a,1.00\n")

    class Dying(DaskEngine):
        map_file = staticmethod(_die)

    engine = Dying(fragile_cluster.scheduler_address, timeout=60)
    with pytest.raises(EngineError) as e:
        convert([src], m, ["csv"], tmp_path / "out", history=False, engine=engine)
    assert e.value.code == "dask-worker-lost"
    assert str(src) in e.value.where
    assert not (tmp_path / "out" / "csv.csv").exists()


def test_no_result_in_time(fragile_cluster: Any, tmp_path: Path) -> None:
    """A partition that never comes back (a cluster that lost its workers) ends the run with
    an error after the timeout instead of waiting for ever."""
    src, m = write_case(tmp_path, "Date,Description,Amount\n01/02/2024,a,1.00\n")

    class Stalled(DaskEngine):
        map_file = staticmethod(_stall)

    engine = Stalled(fragile_cluster.scheduler_address, timeout=0.3)
    with pytest.raises(EngineError) as e:
        convert([src], m, ["csv"], tmp_path / "out", history=False, engine=engine)
    assert e.value.code == "dask-timeout"
    assert "0.3 s" in e.value.message


def test_cli_runs_on_a_scheduler(cluster: Any, tmp_path: Path) -> None:
    """--engine dask --scheduler ADDRESS from the command line, compared with the local run."""
    src = ROOT / "sample_data" / "uk_bank_statement.csv"
    m = ROOT / "mappings" / "uk_bank.yaml"
    args = ["convert", src, "-m", m, "--to", "xero-bank", "--no-history", "-q", "-o"]
    assert run_cli(*args, tmp_path / "local").exit_code == 0
    dask_args = ["--engine", "dask", "--scheduler", cluster.scheduler_address]
    assert run_cli(*args, tmp_path / "dask", *dask_args).exit_code == 0
    for p in (tmp_path / "local").iterdir():
        assert (tmp_path / "dask" / p.name).read_bytes() == p.read_bytes(), p.name


def test_local_engine_never_imports_dask(tmp_path: Path) -> None:
    src, m = write_case(tmp_path, "Date,Description,Amount\n01/02/2024,a,1.00\n")
    code = (
        "import sys\n"
        "from csvbridge.cli import main\n"
        "from csvbridge import convert\n"
        f"convert([{str(src)!r}], {str(m)!r}, ['csv'], {str(tmp_path / 'o')!r}, history=False)\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in ('dask', 'distributed'))\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_stateful_mapping_runs_on_the_local_engine_with_a_note(
    cluster: Any, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """fill_down carries values from row to row in input order, so the Shopify mapping's
    chunks cannot be mapped apart: it runs locally, says so, and gives the same bytes."""
    from csvbridge.mapping import CompiledMapping, load_mapping

    inputs, mapping, to, options = _golden("ready_shopify_orders")
    lm = load_mapping(mapping)
    assert CompiledMapping(lm.mapping, str(lm.path)).stateful
    _both(tmp_path, DaskEngine(cluster.scheduler_address), inputs, mapping, to, options, 2)
    assert "runs on the local engine" in capfd.readouterr().err
