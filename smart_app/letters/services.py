"""The services a letter decides: CPT, HCPCS and NDC codes with their units, found where the letter names a code.

A five-digit number is a CPT code only on a line that says it is a code (or under a table heading that does): a
ZIP code or a member number must never become a service. OCR's letter lookalikes are corrected inside a code
(``72l48`` is 72148); the patterns are the hand entry's (``denials.hand_entry.CODE_PATTERNS``).
"""

from __future__ import annotations

import re

from smart_app.denials.hand_entry import CODE_PATTERNS, SERVICE_SYSTEMS
from smart_app.letters.model import Found, Line, Service, Source
from smart_app.letters.patterns import digits

CODE_CONTEXT = re.compile(r"\b(CPT|HCPCS|NDC|procedure|service code|codes?|J-?code)\b|\b(CPT|HCPCS)\W", re.IGNORECASE)
TABLE_HEADING = re.compile(r"\bcodes?\b", re.IGNORECASE)
CANDIDATES = (
    ("NDC", re.compile(r"(?<![\w-])\d{4,5}-\d{3,4}-\d{1,2}(?![\w-])")),
    ("HCPCS", re.compile(r"(?<![\w-])[A-V][0-9OIl]{4}(?![\w-])")),
    ("CPT", re.compile(r"(?<![\w/.-])[0-9OIl]{4}[0-9A-Z](?![\w/-])")),
)
UNITS = re.compile(
    r"(?:\b(?:units?|qty|quantity|units requested|visits?)\s*[:=]?\s*(\d{1,4})\b"
    r"|\b(\d{1,4})\s*(?:units?|visits?|sessions?)\b|\(\s*x\s*(\d{1,4})\s*\))",
    re.IGNORECASE,
)
MAX_TABLE_ROWS = 8
BROKEN_CODE = re.compile(r"(\b(?:CPT|HCPCS)\s+)(\d{2,4}) (\d{1,3})(?![\w/-])")
ROW_START = 15
COUNT_COLUMN = re.compile(r"\b(qty|quantity|units?|visits)\b", re.IGNORECASE)
STANDALONE_COUNT = re.compile(
    r"(?<![\w./-])(\d{1,3})(?![\w./-])(?!\s*(?:mg|mcg|ml|g|kg|%|units?|mm|cm|hours?|days?|weeks?)\b)", re.IGNORECASE
)


def services(lines: list[Line]) -> tuple[Found[Service], ...]:
    """Every distinct service code the letter names, in the order it names them, with units when stated."""
    found: dict[tuple[str, str], Found[Service]] = {}
    for line, in_table, counted in _code_lines(lines):
        for system, code, end in _codes(line.text, in_table):
            if (system, code) not in found:
                units = _units(line.text[end:]) or _units(line.text)
                if units is None and counted:
                    units = _last_count(line.text[end:])
                found[(system, code)] = Found(Service(SERVICE_SYSTEMS[system], code, units), Source.of(line))
    return tuple(found.values())


def _code_lines(lines: list[Line]) -> list[tuple[Line, bool, bool]]:
    """Lines that name a code, and the rows under a table heading that names one: (line, a row under a heading,
    the heading has a units or quantity column)."""
    chosen: list[tuple[Line, bool, bool]] = []
    table_rows, counted = 0, False
    for index, line in enumerate(lines):
        if TABLE_HEADING.search(line.text) and not _has_code(line.text):
            table_rows, counted = MAX_TABLE_ROWS, bool(COUNT_COLUMN.search(line.text))
            continue
        if CODE_CONTEXT.search(line.text):
            chosen.append((line, bool(table_rows), counted and bool(table_rows)))
        elif table_rows or _beside_label(lines, index):
            chosen.append((line, True, counted and bool(table_rows)))
        table_rows = max(0, table_rows - 1)
    return chosen


def _beside_label(lines: list[Line], index: int) -> bool:
    """Whether a code label stands alone on the line above or below ("Procedure" set beside a wrapped cell)."""
    neighbours = [lines[i] for i in (index - 1, index + 1) if 0 <= i < len(lines)]
    return any(CODE_CONTEXT.search(n.text) and len(n.text.split()) <= 2 for n in neighbours)


def _last_count(text: str) -> int | None:
    """In a table row with a quantity column: the last whole number standing alone (not "40 mg", not "0.4")."""
    counts = [int(match.group(1)) for match in STANDALONE_COUNT.finditer(text)]
    return counts[-1] if counts else None


def _has_code(text: str) -> bool:
    return any(True for _ in _codes(text, False))


def _codes(text: str, in_table: bool) -> list[tuple[str, str, int]]:
    """(system, code, end offset) for each code on the line; in a table row only its first cell's code counts.
    A code OCR broke in two right after its system's name ("CPT 971 10") is read whole."""
    text = BROKEN_CODE.sub(_mended, text)
    found: list[tuple[int, str, str, int]] = []
    taken: list[tuple[int, int]] = []
    for system, pattern in CANDIDATES:
        for match in pattern.finditer(text):
            if any(start <= match.start() < end for start, end in taken):
                continue
            code = match.group(0) if system == "NDC" else match.group(0)[0] + digits(match.group(0)[1:])
            if system == "CPT":
                code = digits(match.group(0)[:4]) + match.group(0)[4]
            if sum(char.isdigit() for char in match.group(0)) < 3:
                continue
            if not re.fullmatch(CODE_PATTERNS[system], code) or _is_year_or_money(text, match):
                continue
            taken.append((match.start(), match.end()))
            found.append((match.start(), system, code, match.end()))
    found.sort()
    if in_table:  # a row under a heading: its code opens the row (a ZIP code further on is no service)
        found = [item for item in found[:1] if item[0] <= ROW_START]
    return [(system, code, end) for _, system, code, end in found]


def _mended(match: re.Match[str]) -> str:
    """ "CPT 971 10" as "CPT 97110 " (same length, so offsets hold) when the two parts make five digits."""
    system, head, tail = match.groups()
    return f"{system}{head}{tail} " if len(head + tail) == 5 else match.group(0)


def _is_year_or_money(text: str, match: re.Match[str]) -> bool:
    before = text[max(0, match.start() - 1) : match.start()]
    return before in {"$", "#"} or bool(re.fullmatch(r"(19|20)\d\d", match.group(0)[:4]) and match.group(0)[4] == ",")


def _units(text: str) -> int | None:
    match = UNITS.search(text)
    if not match:
        return None
    return int(next(group for group in match.groups() if group))
