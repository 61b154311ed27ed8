"""Input limits (csvbridge/limits.py, docs/limits.md) and the reader hardening they come with:
each limit's error, how limits are set, runaway quotes, NUL characters, repeated mapped
columns, mixed encodings and calamine's failures."""

from __future__ import annotations

import csv
import io
import zipfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csvbridge.errors import CsvbridgeError, InputFileError, MappingError
from csvbridge.limits import LimitError, Limits, parse_cli, parse_value, resolve
from csvbridge.readers import ReadOptions, RowProblem, open_source
from csvbridge.readers.delimited import _ends_in_quote
from csvbridge.readers.detect import detect_encoding, mixed_encoding_warning
from csvbridge.readers.workbook_guard import max_ref

from .conftest import SIMPLE_MAPPING, run_cli, write_case
from .test_bad_inputs import GOOD_CELLS, _sheet, _xlsx

HEAD = "Date,Description,Amount\r\n"
ROWS = "01/02/2025,Tea,-1.00\r\n02/02/2025,Cake,-2.50\r\n"


def read_all(path: Path, **kw: Any) -> tuple[list[tuple[int, list[str], RowProblem | None]], Any]:
    """Every data row as (line, cells, problem), and the file's SourceInfo."""
    out: list[tuple[int, list[str], RowProblem | None]] = []
    with ExitStack() as stack:
        finder = open_source(path, 0, ReadOptions(**kw), stack)
        for chunk in finder.chunks(1000):
            cols = [c.to_pylist() for c in chunk.table.columns]
            for i in range(chunk.num_rows):
                out.append((int(chunk.lines[i]), [c[i] for c in cols], chunk.problems.get(i)))
        return out, finder.info


def write(tmp_path: Path, data: str | bytes, name: str = "in.csv") -> Path:
    p = tmp_path / name
    p.write_bytes(data.encode() if isinstance(data, str) else data)
    return p


# -- how limits are set --------------------------------------------------------------------------
def test_defaults_then_mapping_then_environment_then_command_line() -> None:
    assert resolve(env={}) == Limits()
    assert resolve({"max_columns": 50}, env={}).max_columns == 50
    env = {"CSVBRIDGE_MAX_COLUMNS": "60"}
    assert resolve({"max_columns": 50}, env=env).max_columns == 60
    assert resolve({"max_columns": 50}, {"max_columns": "70"}, env).max_columns == 70


def test_sizes_take_units_and_counts_do_not() -> None:
    assert parse_value("max_workbook_bytes", "2GiB", "x") == 2 << 30
    assert parse_value("max_workbook_bytes", "500MB", "x") == 500_000_000
    assert parse_value("max_columns", "20_000", "x") == 20_000
    assert parse_value("max_columns", 0, "x") == 0
    with pytest.raises(LimitError, match="is not a valid value"):
        parse_value("max_columns", "5MB", "x")
    with pytest.raises(LimitError, match="cannot be negative"):
        parse_value("max_columns", -1, "x")


def test_unknown_limit_name_lists_the_limits() -> None:
    with pytest.raises(LimitError, match="no limit named 'max_colums'") as e:
        resolve(cli={"max_colums": "5"}, env={})
    assert "max_columns" in e.value.hint and e.value.code == "limit-invalid"


def test_cli_limit_needs_name_equals_value() -> None:
    with pytest.raises(LimitError, match="is not NAME=VALUE"):
        parse_cli(["max_columns"])
    assert parse_cli(["max-columns = 7"]) == {"max_columns": "7"}


def test_cli_limit_option_and_its_errors(tmp_path: Path) -> None:
    src, m = write_case(tmp_path, HEAD + ROWS)
    out = tmp_path / "out"
    res = run_cli("convert", src, "-m", m, "--to", "csv", "-o", out, "--limit", "max_columns=2")
    assert res.exit_code == 2, res.output
    assert "error [limit-exceeded]: a row has 3 fields: over the limit max_columns = 2" in (
        res.output
    )
    assert "--limit max_columns=N" in res.output and "CSVBRIDGE_MAX_COLUMNS" in res.output
    res = run_cli("convert", src, "-m", m, "--to", "csv", "-o", out, "--limit", "nope=1")
    assert res.exit_code == 2 and "error [limit-invalid]" in res.output
    res = run_cli("convert", src, "-m", m, "--to", "csv", "-o", out, "--limit", "max_columns=3")
    assert res.exit_code == 0, res.output


def test_environment_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src, m = write_case(tmp_path, HEAD + ROWS)
    monkeypatch.setenv("CSVBRIDGE_MAX_FILE_BYTES", "10")
    res = run_cli("convert", src, "-m", m, "--to", "csv", "-o", tmp_path / "out")
    assert res.exit_code == 2
    assert "the file is 70 bytes: over the limit max_file_bytes = 10" in res.output


def test_mapping_limits_are_checked_when_loaded(tmp_path: Path) -> None:
    bad = SIMPLE_MAPPING + "read:\n  limits:\n    max_cols: 6\n"
    src, m = write_case(tmp_path, HEAD + ROWS, mapping=bad)
    res = run_cli("convert", src, "-m", m, "--to", "csv", "-o", tmp_path / "out")
    assert res.exit_code == 2 and "no limit named 'max_cols'" in res.output
    good = SIMPLE_MAPPING + "read:\n  limits:\n    max_columns: 2\n"
    src, m = write_case(tmp_path, HEAD + ROWS, mapping=good)
    res = run_cli("convert", src, "-m", m, "--to", "csv", "-o", tmp_path / "out")
    assert res.exit_code == 2 and "max_columns = 2" in res.output


# -- delimited text -------------------------------------------------------------------------------
def test_too_many_columns_is_refused_before_splitting(tmp_path: Path) -> None:
    p = write(tmp_path, HEAD + ROWS + "03/02/2025" + ",x" * 50 + "\r\n")
    with pytest.raises(InputFileError, match="a row has 51 fields") as e:
        read_all(p, limits=Limits(max_columns=20))
    assert e.value.code == "limit-exceeded" and e.value.where == "in.csv, line 4"


def test_too_many_quoted_columns_are_counted_after_parsing(tmp_path: Path) -> None:
    p = write(tmp_path, HEAD + ROWS + '"a,b",' + ",".join(["x"] * 30) + "\r\n")
    with pytest.raises(InputFileError, match="a row has 31 fields"):
        read_all(p, limits=Limits(max_columns=20))


def test_a_row_over_max_row_chars_is_refused(tmp_path: Path) -> None:
    p = write(tmp_path, HEAD + ROWS + "03/02/2025," + "y" * 5000 + ",-1.00\r\n")
    with pytest.raises(InputFileError, match="a row's text is too long") as e:
        read_all(p, limits=Limits(max_row_chars=1000))
    assert e.value.where == "in.csv, line 4" and "max_row_chars = 1,000" in e.value.message
    rows, _ = read_all(p, limits=Limits(max_row_chars=0))
    assert len(rows) == 3


def test_unclosed_quote_at_the_end_rejects_only_its_line(tmp_path: Path) -> None:
    p = write(tmp_path, HEAD + '01/02/2025,"Tea,-1.00\r\n' + ROWS * 2)
    rows, info = read_all(p)
    assert [r[0] for r in rows] == [2, 3, 4, 5, 6]
    _, cells, problem = rows[0]
    assert problem is not None and problem.rule == "unclosed-quote"
    assert "a quote opened on line 2 is never closed before the end of the file" in (
        problem.message
    )
    assert "swallow the 4 line(s)" in problem.message
    assert cells == ["01/02/2025", '"Tea', "-1.00"]
    assert all(r[2] is None for r in rows[1:]) and info.footer == []


def test_unclosed_quote_on_the_last_line(tmp_path: Path) -> None:
    p = write(tmp_path, HEAD + ROWS + '03/02/2025,"Cake,-2.00')
    rows, info = read_all(p)
    assert [(r[0], r[2] and r[2].rule) for r in rows] == [
        (2, None),
        (3, None),
        (4, "unclosed-quote"),
    ]
    assert info.footer == []


def test_quote_running_over_max_row_lines(tmp_path: Path) -> None:
    body = '01/02/2025,"Tea,-1.00\r\n' + ROWS * 10 + '03/02/2025,Cake",-2.00\r\n'
    p = write(tmp_path, HEAD + body)
    rows, _ = read_all(p, limits=Limits(max_row_lines=5))
    assert len(rows) == 22
    assert rows[0][2] is not None and "is not closed within 5 lines" in rows[0][2].message
    assert [r[0] for r in rows] == list(range(2, 24))
    # with no line limit, the rows the quote takes in still give it away
    rows, _ = read_all(p, limits=Limits(max_row_lines=0))
    assert len(rows) == 22 and rows[0][2] is not None
    assert "runs on into line 3" in rows[0][2].message
    # a long quoted note (no row inside) is one field, up to the limit
    note = '01/02/2025,"' + "line\r\n" * 8 + '",-1.00\r\n'
    p = write(tmp_path, HEAD + note + ROWS)
    assert len(read_all(p)[0]) == 3
    rows, _ = read_all(p, limits=Limits(max_row_lines=5))
    assert len(rows) == 11 and rows[0][2] is not None


def test_stray_quote_taking_in_the_next_row(tmp_path: Path) -> None:
    p = write(tmp_path, HEAD + '01/02/2025,"Tea,-1.00\r\n02/02/2025,Cake",-2.50\r\n' + ROWS)
    rows, _ = read_all(p)
    assert [(r[0], r[1][1], r[2] and r[2].rule) for r in rows] == [
        (2, '"Tea', "unclosed-quote"),
        (3, 'Cake"', None),
        (4, "Tea", None),
        (5, "Cake", None),
    ]
    assert rows[0][2] is not None
    assert "runs on into line 3, which looks like a row of its own" in rows[0][2].message
    # an address over two lines is one field
    p = write(tmp_path, HEAD + '01/02/2025,"1 Main St,\r\nSpringfield, IL",-1.00\r\n' + ROWS)
    rows, _ = read_all(p)
    assert rows[0][1][1] == "1 Main St,\r\nSpringfield, IL" and rows[0][2] is None


def test_unclosed_quote_on_a_line_with_a_field_over_the_limit(tmp_path: Path) -> None:
    # the line is read again as it stands, where its cell is over the limit: a clear error
    # naming the line, not the csv module's own exception (found by the atheris pass)
    # (quoted, its 30 doubled quotes are 30 characters; as it stands they are 60)
    p = write(tmp_path, HEAD + ROWS + '01/02/2025,"' + '""' * 30 + "x\r\n")
    with pytest.raises(InputFileError, match="field larger than field limit") as e:
        read_all(p, limits=Limits(max_cell_chars=50))
    assert e.value.code == "csv-malformed" and e.value.where.endswith("line 4")


def test_quoting_broken_throughout_is_refused(tmp_path: Path) -> None:
    p = write(tmp_path, HEAD + '01/02/2025,"Tea,-1.00\r\n' * 150)
    with pytest.raises(InputFileError, match="the quoting is broken throughout") as e:
        read_all(p)
    assert e.value.code == "csv-malformed" and "quotechar" in e.value.hint
    p = write(tmp_path, HEAD + '01/02/2025,"Tea,-1.00\r\n' * 100)
    rows, _ = read_all(p)
    assert len(rows) == 100 and all(r[2] is not None for r in rows)


def test_quoted_line_breaks_keep_their_line_numbers(tmp_path: Path) -> None:
    p = write(tmp_path, HEAD + '01/02/2025,"Tea\r\nwith\r\nmilk",-1.00\r\n' + ROWS)
    rows, _ = read_all(p)
    assert [(r[0], r[1][1], r[2]) for r in rows] == [
        (2, "Tea\r\nwith\r\nmilk", None),
        (5, "Tea", None),
        (6, "Cake", None),
    ]


CELL = st.text(alphabet=st.sampled_from(list('ab ,"\r\n;é')), max_size=6)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(CELL, min_size=3, max_size=3), min_size=1, max_size=12))
def test_well_quoted_files_read_as_the_csv_module_reads_them(rows: list[list[str]]) -> None:
    """The bounded line reader changes nothing for a file without a runaway quote: the same
    cells, at the physical lines the csv module counts."""
    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator="\r\n").writerows([["A", "B", "C"], *rows])
    text = buf.getvalue()
    want, line = [], 1
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=",")
    for cells in reader:
        if line > 1 and "".join(cells).strip():
            want.append((line, cells))
        line = reader.line_num + 1
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        p = write(Path(d), text.encode())
        got, _ = read_all(p, delimiter=",", header_line=1, footer=False)
    assert [(n, c) for n, c, _ in got] == want


@pytest.mark.parametrize(
    ("text", "inside"),
    [
        ('a,"b', True),
        ('a,"b""', True),
        ('a,"b"', False),
        ('a,"b""c"', False),
        ('a,b"c', False),  # a quote inside an unquoted field is text
        ('a,"b"x,"c', True),  # past a closing quote the field goes on unquoted
        ('a,"b\r\nc', True),
        ("", False),
    ],
)
def test_ends_in_quote(text: str, inside: bool) -> None:
    assert _ends_in_quote(text, ",", '"') is inside


def test_nul_character_rejects_its_row(tmp_path: Path) -> None:
    p = write(tmp_path, HEAD + "01/02/2025,Te\x00a,-1.00\r\n" + ROWS)
    rows, _ = read_all(p)
    problem = rows[0][2]
    assert problem is not None and problem.rule == "nul-character"
    assert "column 'Description' holds a NUL character" in problem.message
    assert rows[0][1][1] == "Te\ufffda" and rows[1][2] is None


def test_a_mapped_column_twice_in_the_header_is_refused(tmp_path: Path) -> None:
    p = write(tmp_path, "Date,Description,Amount,amount\r\n01/02/2025,Tea,-1.00,-9.00\r\n")
    with pytest.raises(MappingError) as e:
        read_all(p, expected_columns=("Date", "Description", "Amount"))
    assert e.value.code == "column-ambiguous"
    assert e.value.message == (
        "the mapping's column 'Amount' is in the header 2 times (columns 3, 4)"
    )
    assert "'#3' or '#4'" in e.value.hint
    rows, _ = read_all(p, expected_columns=("Date", "Description"))  # not mapped: fine
    assert len(rows) == 1


def test_detection_ignores_the_csv_field_size_limit(tmp_path: Path) -> None:
    p = write(tmp_path, "j" * 70 + ";x\n" + "1;2\n" * 3)
    limit = csv.field_size_limit(10)
    try:
        _, info = read_all(p)
    finally:
        csv.field_size_limit(limit)
    assert info.columns == ["j" * 70, "x"]


def test_max_file_bytes(tmp_path: Path) -> None:
    p = write(tmp_path, HEAD + ROWS)
    with pytest.raises(InputFileError, match="the file is 70 bytes: over the limit"):
        read_all(p, limits=Limits(max_file_bytes=69))
    assert len(read_all(p, limits=Limits(max_file_bytes=70))[0]) == 2


# -- encodings ------------------------------------------------------------------------------------
def test_mostly_utf8_is_read_as_utf8_and_the_other_lines_rejected(tmp_path: Path) -> None:
    data = (
        HEAD.encode()
        + "01/02/2025,Café,-1.00\r\n02/02/2025,Crêpe,-1.00\r\n".encode()
        + "03/02/2025,Crème,-2.00\r\n".encode("cp1252")
    )
    rows, info = read_all(write(tmp_path, data))
    assert info.detections["encoding"].value == "utf-8"
    assert [r[1][1] for r in rows[:2]] == ["Café", "Crêpe"]
    assert rows[2][2] is not None and rows[2][2].rule == "undecodable-bytes"
    assert "e8" in rows[2][2].message
    assert any("mixes encodings: 1 of 3" in w for w in info.warnings)


def test_mostly_cp1252_with_a_utf8_line_warns() -> None:
    data = "a,Crème\r\nb,Noël\r\n".encode("cp1252") + "c,Café\r\n".encode() + b"d,x\r\n"
    enc = detect_encoding(data, None, "f")
    assert enc.value == "cp1252"
    warning = mixed_encoding_warning(data, enc)
    assert warning is not None and "1 of 3 sampled lines" in warning and "Ã©" in warning
    assert mixed_encoding_warning("a,Crème\r\n".encode("cp1252"), enc) is None


def test_czech_windows_1250_is_not_read_as_1252() -> None:
    text = "Datum;Zpráva pro příjemce;Částka\n01.02.2025;Platba kartou, zaúčtování;-1,00\n"
    enc = detect_encoding(text.encode("cp1250"), None, "f")
    assert enc.value == "cp1250", enc.method


@pytest.mark.parametrize(
    "text",
    [
        "Date;Libellé;Montant\n01/02/2025;Élève très célèbre à Nîmes;-1,00\n",
        "Data;Descrizione;Importo\n01/02/2025;Caffè più città perché;-1,00\n",
        "Fecha;Descripción;Importe\n01/02/2025;Café de la estación, señor;-1,00\n",
    ],
)
def test_western_text_is_not_taken_for_central_european(text: str) -> None:
    assert detect_encoding(text.encode("cp1252"), None, "f").value == "cp1252"


# -- spreadsheets ---------------------------------------------------------------------------------
def test_max_ref_reads_cells_and_rows() -> None:
    assert max_ref(b'<row r="7"><c r="XFD1048576" t="s">') == (1048576, 16384)
    assert max_ref(b'<row\nr="12"><c\tr="AB3">') == (12, 28)
    assert max_ref(b"no refs") == (0, 0)


def test_sheet_used_range_over_the_limit(tmp_path: Path) -> None:
    far = '<row r="5000"><c r="Z5000" t="inlineStr"><is><t>x</t></is></c></row>'
    p = _xlsx("in.xlsx", _sheet(GOOD_CELLS, after=far))(tmp_path)
    with pytest.raises(InputFileError) as e:
        read_all(p, limits=Limits(max_sheet_cells=100_000))
    assert e.value.code == "limit-exceeded"
    assert "reaches row 5,000 and column 26: 130,000 cells" in e.value.message
    assert len(read_all(p)[0]) == 3  # blank rows between are skipped


def test_sheet_columns_over_the_limit(tmp_path: Path) -> None:
    far = '<row r="4"><c r="AZ4" t="inlineStr"><is><t>x</t></is></c></row>'
    p = _xlsx("in.xlsx", _sheet(GOOD_CELLS, after=far))(tmp_path)
    with pytest.raises(InputFileError, match="the sheet uses 52 columns"):
        read_all(p, limits=Limits(max_columns=40))


def test_workbook_size_and_expansion(tmp_path: Path) -> None:
    filler = "<!--" + " " * (6 << 20) + "-->"
    p = _xlsx("in.xlsx", _sheet(GOOD_CELLS, after=filler))(tmp_path)
    with pytest.raises(InputFileError, match=r"inflates [0-9,]+ times") as e:
        read_all(p)
    assert "max_expansion = 100" in e.value.message
    with pytest.raises(InputFileError, match="the workbook's parts add up to"):
        read_all(p, limits=Limits(max_workbook_bytes=1 << 20, max_expansion=0))
    assert len(read_all(p, limits=Limits(max_expansion=0))[0]) == 2


def test_merged_range_over_the_limit(tmp_path: Path) -> None:
    merge = '</sheetData><mergeCells count="1"><mergeCell ref="A5:Z9000"/></mergeCells>'
    p = _xlsx("in.xlsx", _sheet(GOOD_CELLS).replace("</sheetData>", merge))(tmp_path)
    with pytest.raises(InputFileError, match="a merged range spans rows 5-9,000"):
        read_all(p, limits=Limits(max_sheet_cells=100_000))


def test_damaged_sheet_part_is_an_input_error(tmp_path: Path) -> None:
    p = _xlsx("in.xlsx", _sheet(GOOD_CELLS))(tmp_path)
    data = p.read_bytes()
    z = zipfile.ZipFile(io.BytesIO(data))
    info = z.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    broken = bytearray(data)
    for k in range(start + 5, start + 25):
        broken[k] ^= 0x5A
    p.write_bytes(bytes(broken))
    with pytest.raises(InputFileError) as e:
        read_all(p)
    assert e.value.code == "workbook-unreadable"


def test_calamine_errors_while_reading_the_sheet(tmp_path: Path) -> None:
    bad = '<row r="4"><c r="A4" t="b"><v>7</v></c></row>'
    p = _xlsx("in.xlsx", _sheet(GOOD_CELLS, after=bad))(tmp_path)
    with pytest.raises(InputFileError, match="cannot be read: Unrecognized boolean") as e:
        read_all(p)
    assert e.value.code == "workbook-unreadable"


def _panic_type() -> type[BaseException]:
    return type("PanicException", (BaseException,), {"__module__": "pyo3_runtime"})


def test_a_calamine_panic_is_an_input_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import python_calamine

    panic = _panic_type()

    def boom(*a: Any, **k: Any) -> Any:
        raise panic("range end index 4 out of range for slice of length 1")

    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_filelike", boom)
    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_path", boom)
    p = _xlsx("in.xlsx", _sheet(GOOD_CELLS))(tmp_path)
    with pytest.raises(InputFileError, match="calamine crashed on it") as e:
        read_all(p)
    assert e.value.code == "workbook-unreadable"


def test_other_base_exceptions_are_not_swallowed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import python_calamine

    def interrupted(*a: Any, **k: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_filelike", interrupted)
    p = _xlsx("in.xlsx", _sheet(GOOD_CELLS))(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        read_all(p)


def test_limit_errors_say_how_to_raise_the_limit() -> None:
    from csvbridge.limits import exceeded

    e = exceeded(Limits(), "max_workbook_bytes", "the workbook is big", "x.xlsx")
    assert isinstance(e, CsvbridgeError) and e.code == "limit-exceeded"
    assert e.message == "the workbook is big: over the limit max_workbook_bytes = 1GiB"
    assert "--limit max_workbook_bytes=N" in e.hint
    assert "CSVBRIDGE_MAX_WORKBOOK_BYTES=N" in e.hint
    assert "read.limits.max_workbook_bytes" in e.hint


def test_ods_repeated_cells_over_the_limit(tmp_path: Path) -> None:
    from .test_bad_inputs import _ODS_REPEAT, _ODS_TRAILING, _ods

    p = _ods("in.ods", GOOD_CELLS, after=_ODS_REPEAT)(tmp_path)
    with pytest.raises(InputFileError) as e:
        read_all(p)
    assert e.value.code == "limit-exceeded"
    assert "repeats its cells to 5,003 rows and 10,000 columns" in e.value.message
    # LibreOffice's empty rows down to the sheet's end are not counted
    p = _ods("in2.ods", GOOD_CELLS, after=_ODS_TRAILING)(tmp_path)
    assert len(read_all(p, limits=Limits(max_sheet_cells=100))[0]) == 2


def test_fixed_width_line_over_max_row_chars(tmp_path: Path) -> None:
    p = write(tmp_path, "01/02/2025 Tea   -1.00\n02/02/2025 " + "x" * 500 + "\n")
    spans = (("Date", 1, 10), ("Description", 12, 16), ("Amount", 17, 22))
    with pytest.raises(InputFileError, match="a line is too long") as e:
        read_all(p, fixed_widths=spans, limits=Limits(max_row_chars=100))
    assert e.value.where == "in.csv, line 2" and e.value.code == "limit-exceeded"
    rows, _ = read_all(p, fixed_widths=spans)
    assert [r[1][0] for r in rows] == ["01/02/2025", "02/02/2025"]
