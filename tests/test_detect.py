"""Encoding detection on small samples, where chardet's own confidence is low."""

from __future__ import annotations

import codecs

import pytest

from csvbridge.readers.detect import detect_encoding

CJK = {
    "big5": "日期,說明,金額\n2025/03/01,科技微軟網全球最大,-120.00\n"
    "2025/03/02,統創辦人薪資,5000.00\n",
    "shift_jis": "日付,摘要,金額\n2025/03/01,東京電力 電気料金,-8200\n"
    "2025/03/02,給与振込 株式会社,350000\n",
}


@pytest.mark.parametrize("encoding", sorted(CJK))
def test_small_cjk_files_are_not_taken_for_windows_1252(encoding: str) -> None:
    data = CJK[encoding].encode(encoding)
    got = detect_encoding(data, None, "f.csv")
    assert data.decode(got.value) == CJK[encoding], (got.value, got.method)
    assert codecs.lookup(got.value).name != "cp1252"


def test_western_text_stays_windows_1252() -> None:
    text = (
        "Date;Description;Amount\n01/03/2025;Café Crème – Noël;-3,40\n"
        "02/03/2025;Gehalt März;2.000,00\n"
    )
    got = detect_encoding(text.encode("cp1252"), None, "f.csv")
    assert got.value == "cp1252"


def test_bom_wins() -> None:
    assert detect_encoding(codecs.BOM_UTF8 + b"a,b\n", None, "f").value == "utf-8-sig"
    assert detect_encoding("a,b\n".encode("utf-16"), None, "f").value == "utf-16"
