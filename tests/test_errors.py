"""One test per user-facing error: each must name where the problem is, say what it is and
what to do, exit with the documented code, and never show a traceback."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from csvbridge import convert
from csvbridge.errors import CsvbridgeError, InputFileError

from .conftest import ROOT, SIMPLE_MAPPING, run_cli
from .conftest import write_case as _files

SIMPLE = SIMPLE_MAPPING.replace('version: "3"\n', "")

MAPPING = ROOT / "mappings" / "uk_bank.yaml"


def _fails(args: list, code: str, *, where: str, exit_code: int = 2) -> str:
    result = run_cli(*args)
    out = result.output
    assert result.exit_code == exit_code, out
    assert f"error [{code}]" in out, out
    assert "where:" in out and where in out, out
    assert "hint:" in out, out
    assert "Traceback" not in out
    return out


def _convert(tmp_path: Path, src: Path, m: Path, *extra: str) -> list:
    return ["convert", src, "-m", m, "--to", "qbo-bank", "-o", tmp_path / "out", *extra]


GOOD = "Date,Description,Amount\r\n01/02/2025,Tea,-1.00\r\n"


# -- input files ------------------------------------------------------------------------------
def test_empty_file(tmp_path: Path) -> None:
    src, m = _files(tmp_path, b"")
    _fails(_convert(tmp_path, src, m), "empty-file", where="in.csv")


def test_binary_file_named_csv(tmp_path: Path) -> None:
    src, m = _files(tmp_path, bytes(range(256)) * 40)
    out = _fails(_convert(tmp_path, src, m), "binary-file", where="in.csv")
    assert "NUL" in out


def test_pdf_named_csv(tmp_path: Path) -> None:
    src, m = _files(tmp_path, b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")
    _fails(_convert(tmp_path, src, m), "binary-file", where="in.csv")


def test_damaged_legacy_xls(tmp_path: Path) -> None:
    src, m = _files(tmp_path, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, name="x.xls")
    out = _fails(_convert(tmp_path, src, m), "workbook-unreadable", where="x.xls")
    assert "re-save" in out


def test_password_protected_workbook(corpus: Path, tmp_path: Path) -> None:
    book = corpus / "qsv" / "resources" / "test" / "password-protected-password123.xlsx"
    _, m = _files(tmp_path, "")
    out = _fails(_convert(tmp_path, book, m), "workbook-protected", where=book.name)
    assert "without protection" in out


def test_damaged_xlsx(tmp_path: Path) -> None:
    src, m = _files(tmp_path, b"PK\x03\x04" + b"garbage" * 50, name="x.xlsx")
    _fails(_convert(tmp_path, src, m), "workbook-unreadable", where="x.xlsx")


def test_missing_sheet(tmp_path: Path) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(["Date", "Description", "Amount"])
    path = tmp_path / "w.xlsx"
    wb.save(path)
    m = tmp_path / "m.yaml"
    m.write_text(SIMPLE + "read:\n  sheet: March\n", encoding="utf-8")
    out = _fails(_convert(tmp_path, path, m), "sheet-missing", where="w.xlsx")
    assert "Sheet" in out  # lists the sheets there are


def test_missing_input_file(tmp_path: Path) -> None:
    _, m = _files(tmp_path, GOOD)
    _fails(_convert(tmp_path, tmp_path / "nope.csv", m), "file-not-found", where="nope.csv")


def test_only_blank_lines(tmp_path: Path) -> None:
    src, m = _files(tmp_path, "\r\n\r\n  \r\n")
    _fails(_convert(tmp_path, src, m), "no-rows", where="in.csv")


def test_unknown_encoding(tmp_path: Path) -> None:
    src, m = _files(tmp_path, GOOD)
    _fails(
        _convert(tmp_path, src, m, "--encoding", "klingon-8"), "unknown-encoding", where="in.csv"
    )


def test_field_larger_than_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from csvbridge.readers import base

    monkeypatch.setattr(base.ReadOptions, "__init__", _small_fields(base.ReadOptions.__init__))
    src, m = _files(tmp_path, GOOD + '01/02/2025,"' + "x" * 500 + '",-1.00\r\n')
    _fails(_convert(tmp_path, src, m), "csv-malformed", where="in.csv, line")


def _small_fields(init):  # type: ignore[no-untyped-def]
    def wrapped(self, *a, **k):  # type: ignore[no-untyped-def]
        init(self, *a, **k)
        object.__setattr__(self, "max_field_size", 100)

    return wrapped


# -- the mapping against the file -------------------------------------------------------------
def test_mapping_names_missing_column(tmp_path: Path) -> None:
    src, m = _files(tmp_path, "Date,Descripton,Amount\r\n01/02/2025,Tea,-1.00\r\n")
    out = _fails(_convert(tmp_path, src, m), "column-missing", where="in.csv, line 1")
    assert "'Description'" in out and "did you mean 'Descripton'" in out


def test_column_number_out_of_range(tmp_path: Path) -> None:
    src, m = _files(tmp_path, GOOD, SIMPLE.replace("description: Description", "description: '#9'"))
    out = _fails(_convert(tmp_path, src, m), "column-missing", where="fields.description")
    assert "numbered 1 to 3" in out


def test_header_line_not_in_file(tmp_path: Path) -> None:
    src, m = _files(tmp_path, GOOD, SIMPLE + "read:\n  header_line: 500\n")
    _fails(_convert(tmp_path, src, m), "header-line-missing", where="in.csv")


# -- mapping files ----------------------------------------------------------------------------
def test_mapping_file_missing(tmp_path: Path) -> None:
    src, _ = _files(tmp_path, GOOD)
    _fails(_convert(tmp_path, src, tmp_path / "none.yaml"), "mapping-not-found", where="none.yaml")


def test_mapping_not_yaml(tmp_path: Path) -> None:
    src, m = _files(tmp_path, GOOD, "name: [unclosed\nkind: transaction\n")
    _fails(_convert(tmp_path, src, m), "mapping-yaml", where="m.yaml, line")


def test_mapping_empty(tmp_path: Path) -> None:
    src, m = _files(tmp_path, GOOD, "# nothing\n")
    _fails(_convert(tmp_path, src, m), "mapping-empty", where="m.yaml")


def test_mapping_not_a_set_of_keys(tmp_path: Path) -> None:
    src, m = _files(tmp_path, GOOD, "- just\n- a list\n")
    _fails(_convert(tmp_path, src, m), "mapping-shape", where="m.yaml, line 1")


def test_mapping_unknown_key_names_line_and_path(tmp_path: Path) -> None:
    bad = SIMPLE.replace("  amount: Amount\n", "  amount:\n    column: Amount\n    invret: true\n")
    src, m = _files(tmp_path, GOOD, bad)
    out = _fails(_convert(tmp_path, src, m), "mapping-invalid", where="m.yaml, line 9")
    assert "fields.amount.invret: unknown key" in out


def test_mapping_missing_required_field(tmp_path: Path) -> None:
    src, m = _files(tmp_path, GOOD, SIMPLE.replace("  amount: Amount\n", ""))
    out = _fails(_convert(tmp_path, src, m), "mapping-invalid", where="m.yaml")
    assert "must give: amount" in out


def test_mapping_field_not_in_kind(tmp_path: Path) -> None:
    src, m = _files(tmp_path, GOOD, SIMPLE + "  colour: Red\n")
    out = _fails(_convert(tmp_path, src, m), "mapping-invalid", where="m.yaml")
    assert "no field(s) colour" in out


def test_mapping_duplicate_key(tmp_path: Path) -> None:
    src, m = _files(tmp_path, GOOD, SIMPLE + "  date: Posted\n")
    _fails(_convert(tmp_path, src, m), "mapping-duplicate-key", where="m.yaml, line 9")


def test_date_format_missing(tmp_path: Path) -> None:
    src, m = _files(tmp_path, GOOD, SIMPLE.replace("dates: DD/MM/YYYY\n", ""))
    out = _fails(_convert(tmp_path, src, m), "date-format-missing", where="fields.date")
    assert "never guesses" in out


def test_date_format_invalid(tmp_path: Path) -> None:
    src, m = _files(tmp_path, GOOD, SIMPLE.replace("dates: DD/MM/YYYY", "dates: DD/MM"))
    _fails(_convert(tmp_path, src, m), "date-format-invalid", where="fields.date")


def test_filter_regex_invalid(tmp_path: Path) -> None:
    bad = SIMPLE + "filters:\n  - name: x\n    column: Description\n    matches: '(unclosed'\n"
    src, m = _files(tmp_path, GOOD, bad)
    _fails(_convert(tmp_path, src, m), "mapping-invalid", where="filters")


# -- targets and options ----------------------------------------------------------------------
def test_unknown_target(tmp_path: Path) -> None:
    src, m = _files(tmp_path, GOOD)
    args = ["convert", src, "-m", m, "--to", "quickbooks", "-o", tmp_path / "o"]
    out = _fails(args, "target-unknown", where="--to quickbooks")
    assert "qbo-bank" in out


def test_target_wrong_kind(tmp_path: Path) -> None:
    contact = "name: c\nkind: contact\nfields:\n  name: Description\n"
    src, m = _files(tmp_path, GOOD, contact)
    args = ["convert", src, "-m", m, "--to", "qbo-bank", "-o", tmp_path / "o"]
    out = _fails(args, "target-kind", where="--to qbo-bank")
    assert "csv" in out


def test_unknown_option(tmp_path: Path) -> None:
    src, m = _files(tmp_path, GOOD)
    _fails(_convert(tmp_path, src, m, "-O", "colour=red"), "option-unknown", where="-O colour")


def test_per_target_unknown_option(tmp_path: Path) -> None:
    src, m = _files(tmp_path, GOOD)
    args = _convert(tmp_path, src, m, "-O", "qbo-bank.colour=red")
    _fails(args, "option-unknown", where="-O qbo-bank.colour")


def test_option_for_a_target_not_in_the_run(tmp_path: Path) -> None:
    src, m = _files(tmp_path, GOOD)
    args = _convert(tmp_path, src, m, "-O", "xero-bank.date_order=mdy")
    out = _fails(args, "option-unknown", where="-O xero-bank.date_order")
    assert "targets of this run: qbo-bank" in out


def test_invalid_option_value(tmp_path: Path) -> None:
    src, m = _files(tmp_path, GOOD)
    args = _convert(tmp_path, src, m, "-O", "formula_guard=maybe")
    _fails(args, "option-invalid", where="formula_guard=maybe")


def test_option_syntax(tmp_path: Path) -> None:
    src, m = _files(tmp_path, GOOD)
    _fails(_convert(tmp_path, src, m, "-O", "date_order"), "option-syntax", where="-O date_order")


def test_date_order_needed(tmp_path: Path) -> None:
    mapping = SIMPLE.replace("currency: {value: GBP}", "currency: Currency")
    src, m = _files(tmp_path, GOOD.replace("Amount\r\n", "Amount,Currency\r\n"), mapping)
    out = _fails(_convert(tmp_path, src, m), "date-order-needed", where="--to qbo-bank")
    assert "--date-order" in out


# -- outputs ----------------------------------------------------------------------------------
def test_output_path_is_a_file(tmp_path: Path) -> None:
    src, m = _files(tmp_path, GOOD)
    (tmp_path / "afile").write_text("x")
    args = ["convert", src, "-m", m, "--to", "qbo-bank", "-o", tmp_path / "afile"]
    _fails(args, "output-not-folder", where="afile")


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_output_folder_read_only(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root ignores folder permissions; covered by the injected-error test")
    src, m = _files(tmp_path, GOOD)
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        args = ["convert", src, "-m", m, "--to", "qbo-bank", "-o", ro]
        _fails(args, "output-unwritable", where="ro")
    finally:
        ro.chmod(0o700)


def test_disk_full_while_writing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    from csvbridge.writers import sink

    class FullDisk:
        def __init__(self, fd: int, mode: str) -> None:
            self.f = open(fd, mode)  # noqa: SIM115

        def write(self, data: bytes) -> int:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
            return getattr(self.f, name)

    src, m = _files(tmp_path, GOOD)
    monkeypatch.setattr(sink.os, "fdopen", FullDisk)
    out = _fails(_convert(tmp_path, src, m), "output-write-failed", where=str(tmp_path / "out"))
    assert "No space left" in out
    assert [p.name for p in (tmp_path / "out").iterdir()] == []  # nothing half-written


def test_record_larger_than_file_limit(tmp_path: Path) -> None:
    big = "Date,Description,Amount\r\n01/02/2025," + "x" * 400_000 + ",-1.00\r\n"
    src, m = _files(tmp_path, big)
    _fails(_convert(tmp_path, src, m), "record-too-large", where="qbo-bank.csv")


def test_no_input_files_library() -> None:
    with pytest.raises(InputFileError) as e:
        convert([], MAPPING, ["csv"], "unused")
    assert e.value.code == "no-input" and e.value.hint


# -- the tie-out itself -----------------------------------------------------------------------
def test_failed_tie_out_is_loud_and_writes_no_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from csvbridge.writers import base as bank

    real = bank.add_written

    def miscount(tally, records, kind):  # type: ignore[no-untyped-def]
        real(tally, records.slice(1), kind)  # a writer that "loses" a row

    monkeypatch.setattr(bank, "add_written", miscount)
    src, m = _files(tmp_path, GOOD + "02/02/2025,Cake,-2.50\r\n")
    out = _fails(_convert(tmp_path, src, m), "conservation-failed", where="qbo-bank", exit_code=3)
    assert "rows: read 2, accounted for 1" in out
    assert not (tmp_path / "out" / "qbo-bank.csv").exists()


def test_internal_error_has_no_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from csvbridge import cli

    def boom(*a, **k):  # type: ignore[no-untyped-def]
        raise RuntimeError("kaboom")

    monkeypatch.setattr(cli, "convert", boom)
    src, m = _files(tmp_path, GOOD)
    result = run_cli(*_convert(tmp_path, src, m))
    assert result.exit_code == 3
    assert "internal error: RuntimeError: kaboom" in result.output
    assert "--debug" in result.output and "Traceback" not in result.output


def test_every_error_class_renders_code_where_hint() -> None:
    e = CsvbridgeError("what", where="file, line 3", hint="do this", code="x-y")
    assert e.render().splitlines() == [
        "error [x-y]: what",
        "  where: file, line 3",
        "  hint:  do this",
    ]


def test_zip_that_is_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "notes.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("readme.txt", "hello")
    _, m = _files(tmp_path, GOOD)
    _fails(_convert(tmp_path, path, m), "workbook-unreadable", where="notes.xlsx")


def test_fixed_width_columns_overlap(tmp_path: Path) -> None:
    fw = (
        "read:\n  fixed_width:\n    - {name: Date, start: 1, end: 10}\n"
        "    - {name: Description, start: 8, end: 30}\n"
    )
    src, m = _files(tmp_path, GOOD, SIMPLE + fw)
    out = _fails(_convert(tmp_path, src, m), "mapping-invalid", where="m.yaml")
    assert "Date and Description overlap" in out
