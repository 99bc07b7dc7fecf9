"""CSV cells a spreadsheet will not run as formulas (OWASP "CSV injection").

Excel, LibreOffice and Google Sheets start a formula at a cell beginning with ``= + - @`` (and treat a leading
tab or carriage return the same way once trimmed); they also accept the full-width forms ``＝ ＋ － ＠`` (U+FF1D,
U+FF0B, U+FF0D, U+FF20), which they fold to ASCII. A spreadsheet opened in a locale whose list separator is ``;``
(or a user who splits a column on ``,`` or tab) also cuts a cell such as ``Dr X;=1+2`` in two, and the second
part starts a formula. So every such start, at the beginning of the cell or after a separator (spaces allowed
between), gets a leading apostrophe: the spreadsheet shows the text as typed, and no formula runs. A number
(an int or float the app computed, never typed text) is written as it is, so ``-207.1`` stays a number a
spreadsheet can sort and sum."""

from __future__ import annotations

FORMULA_START = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")
SEPARATORS = frozenset(",;\t\r\n")
SPACES = frozenset(" \u3000")


def spreadsheet_safe(value: object) -> str:
    """``value`` as a CSV cell no spreadsheet reads as a formula (None is the empty cell; numbers stay numbers)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    text = "" if value is None else str(value)
    out, field_start = [], True
    for char in text:
        if field_start and char in FORMULA_START:
            out.append("'")
        out.append(char)
        if char in SEPARATORS:
            field_start = True
        elif char not in SPACES:
            field_start = False
    return "".join(out)
