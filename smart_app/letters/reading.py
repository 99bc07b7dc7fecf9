"""A letter file read into its fields: the document layer, then the field finder."""

from __future__ import annotations

from smart_app.letters.document import read_document
from smart_app.letters.fields import find_fields
from smart_app.letters.model import LetterReading


def read_letter(data: bytes, filename: str) -> LetterReading:
    """The letter's fields and text; raises ``LetterUnreadable`` with what is wrong for a file it cannot read."""
    text = read_document(data, filename)
    return LetterReading(find_fields(text), text)
