"""CSV cells a spreadsheet opens as text: every place a formula could start, at the cell's start or after a
separator a spreadsheet may split on, is neutralised; anything else is left exactly as it was."""

from __future__ import annotations

import pytest

from smart_app.practice.spreadsheet import spreadsheet_safe


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+2", "'=1+2"),
        ("+1", "'+1"),
        ("-3.5", "'-3.5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t'=1"),
        ("\r=1", "'\r'=1"),
        ("\uff1d1+2", "'\uff1d1+2"),  # full-width ＝
        ("\uff0b1", "'\uff0b1"),  # ＋
        ("\uff0d1", "'\uff0d1"),  # －
        ("\uff20SUM(A1)", "'\uff20SUM(A1)"),  # ＠
        ("Dr X;=1+2", "Dr X;'=1+2"),
        ("Dr X, =1+2", "Dr X, '=1+2"),
        ("Dr X;\u3000\uff1d1", "Dr X;\u3000'\uff1d1"),
        ("a\nb\n=c", "a\nb\n'=c"),
        (" =1", " '=1"),
    ],
)
def test_a_formula_start_is_neutralised(value: str, cell: str) -> None:
    assert spreadsheet_safe(value) == cell


@pytest.mark.parametrize("value", ["Dr. Priya Nandakumar", "Smith; Jones", "A-1 Imaging", "x=1", "e-mail@x.org"])
def test_ordinary_text_is_unchanged(value: str) -> None:
    assert spreadsheet_safe(value) == value


def test_none_is_the_empty_cell_and_numbers_stay_numbers() -> None:
    assert spreadsheet_safe(None) == "" and spreadsheet_safe(12) == "12"
    assert spreadsheet_safe(-207.1) == "-207.1"  # was "'-207.1", which a spreadsheet reads as text
    assert spreadsheet_safe("-207.1") == "'-207.1"  # text that looks like a number is still text: neutralised
    assert spreadsheet_safe(True) == "True"
