"""A letter's lines grouped into paragraphs, by the space between lines and by label lines ("Member ID: ...").

A paragraph ends where the gap to the next line is wider than half a line's height (a blank line in the letter),
at a page break, or before a line that opens with a label. Both readers give every line its box, so the same rule
serves a text PDF and a scan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from smart_app.letters.model import Line

LABEL_START = re.compile(r"^\s*[A-Z][A-Za-z/&' ]{1,40}(?:#|\bno\.)?\s*:")
GAP_RATIO = 0.5


def paragraphs(lines: list[Line]) -> list[list[Line]]:
    """The lines grouped into paragraphs, in reading order."""
    groups: list[list[Line]] = []
    for line in lines:
        if groups and not _starts_paragraph(groups[-1][-1], line):
            groups[-1].append(line)
        else:
            groups.append([line])
    return groups


def _starts_paragraph(previous: Line, line: Line) -> bool:
    if line.page != previous.page or previous.box is None or line.box is None:
        return True
    height = max(previous.box.bottom - previous.box.top, 1e-6)
    if line.box.top - previous.box.bottom > GAP_RATIO * height:
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
