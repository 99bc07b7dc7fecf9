"""A letter's lines grouped into paragraphs, by the space between lines and by label lines ("Member ID: ...").

A paragraph ends where the next line starts further down than the page's usual line spacing allows (a blank line
in the letter), at a page break, or before a line that opens with a label. Spacing is measured top to top, not
as the gap between boxes: OCR's boxes shrink on a line without descenders. Both readers give every line its box,
so the same rule serves a text PDF and a scan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from smart_app.letters.model import Line

LABEL_START = re.compile(r"^\s*[A-Z][A-Za-z/&' ]{1,40}(?:#|\bno\.)?\s*:")
PITCH_RATIO = 1.2  # a line further below the last than this many body-text line pitches starts a paragraph


def paragraphs(lines: list[Line]) -> list[list[Line]]:
    """The lines grouped into paragraphs, in reading order."""
    pitches = _usual_pitches(lines)
    groups: list[list[Line]] = []
    for line in lines:
        if groups and not _starts_paragraph(groups[-1][-1], line, pitches.get(line.page)):
            groups[-1].append(line)
        else:
            groups.append([line])
    return groups


def _usual_pitches(lines: list[Line]) -> dict[int, float]:
    """Each page's body-text distance from one line's top to the next's: the lower quartile among lines close
    together (tables and headings sit further apart than a paragraph's lines)."""
    found: dict[int, float] = {}
    for page in {line.page for line in lines}:
        boxes = [line.box for line in lines if line.page == page and line.box]
        heights = sorted(box.bottom - box.top for box in boxes)
        if len(boxes) < 2 or not heights:
            continue
        height = heights[len(heights) // 2]
        steps = sorted(
            b.top - a.top for a, b in zip(boxes, boxes[1:], strict=False) if 0 < b.top - a.top < 2.5 * height
        )
        if steps:
            found[page] = steps[len(steps) // 4]
    return found


def _starts_paragraph(previous: Line, line: Line, pitch: float | None) -> bool:
    if line.page != previous.page or previous.box is None or line.box is None:
        return True
    if pitch is None:
        pitch = 1.5 * max(previous.box.bottom - previous.box.top, 1e-6)
    if line.box.top - previous.box.top > PITCH_RATIO * pitch:
        return True
    # A "Label:" opens a paragraph after a finished sentence or another label line, not inside a sentence that
    # wraps onto "Medical Policy Radiology: Lumbar ..."
    ended = previous.text.rstrip().endswith((".", ":", ")", "!", "?")) or LABEL_START.match(previous.text)
    return bool(LABEL_START.match(line.text) and ended)


def joined(lines: list[Line]) -> str:
    """A paragraph's lines as one text: whitespace made single; a line ending in a hyphen runs on into the next with
    no space ("peer-to-" + "peer")."""
    return Paragraph.of(lines).text


@dataclass(frozen=True)
class Paragraph:
    """A paragraph's joined text, and where each of its lines starts in it (to name the line a value came from)."""

    text: str
    starts: tuple[tuple[int, Line], ...]

    @classmethod
    def of(cls, lines: list[Line]) -> Paragraph:
        """The paragraph of ``lines``, joined as ``joined`` says."""
        text, starts = "", []
        for line in lines:
            part = " ".join(line.text.split())
            if not part:
                continue
            if text and not (re.search(r"\w-$", text) and part[:1].isalnum()):
                text += " "
            starts.append((len(text), line))
            text += part
        return cls(text, tuple(starts))

    def line_at(self, offset: int) -> Line:
        """The line the character at ``offset`` of the joined text is on."""
        found = self.starts[0][1]
        for start, line in self.starts:
            if start > offset:
                break
            found = line
        return found
