"""Pieces of text that share a row on the page joined into one line, whichever reader found them."""

from __future__ import annotations

from smart_app.letters.model import Box, Line

COLUMN_SEPARATOR = "  "  # between cells of a row: two spaces, where a value ends and the next label starts
COLUMN_GAP = 1.0  # a gap wider than this many line heights between two words is a column gap


def join_rows(lines: list[Line]) -> list[Line]:
    """Lines whose boxes share a row (their vertical middles within half a line's height) joined left to right
    into one line, rows in top-to-bottom order: a label and its value set apart on the page stay one line. Used for
    the text layer and for OCR alike; a joined line's confidence is the mean of its parts'."""
    rows: list[list[Line]] = []
    for line in sorted(lines, key=lambda line: (line.box.top, line.box.left) if line.box else (0.0, 0.0)):
        row = next((r for r in rows if _same_row(r[0], line)), None)
        if row is None:
            rows.append([line])
        else:
            row.append(line)
    return [_joined(row) for row in rows]


def _same_row(first: Line, line: Line) -> bool:
    """Whether two lines' vertical middles are closer than half the shorter one's height (a crooked scan makes
    boxes tall, so containment alone would pull the next line into this one)."""
    if first.box is None or line.box is None:
        return False
    middle = (first.box.top + first.box.bottom) / 2
    other = (line.box.top + line.box.bottom) / 2
    height = min(first.box.bottom - first.box.top, line.box.bottom - line.box.top)
    return abs(middle - other) < 0.5 * height


def _joined(row: list[Line]) -> Line:
    if len(row) == 1:
        return row[0]
    row.sort(key=lambda line: line.box.left if line.box else 0.0)
    boxes = [line.box for line in row if line.box]
    scores = [line.confidence for line in row if line.confidence is not None]
    return Line(
        row[0].page,
        COLUMN_SEPARATOR.join(line.text for line in row),
        Box(
            min(b.left for b in boxes),
            min(b.top for b in boxes),
            max(b.right for b in boxes),
            max(b.bottom for b in boxes),
        ),
        sum(scores) / len(scores) if scores else None,
    )
