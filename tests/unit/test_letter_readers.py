"""Uploaded letters are read a few at a time (``P2P_LETTER_READERS``): each reading runs tesseract on up to ten pages,
so twenty uploads at once must not start twenty readings on a two-core server. The others wait their turn, their
pages saying "Reading the letter…" meanwhile; none is dropped."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from smart_app.errors import LetterUnreadable
from smart_app.letters.model import LetterReading
from smart_app.store.letters import letter, save_letter
from smart_app.web import create_app, letter_views


def test_letters_are_read_at_most_letter_readers_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'app.sqlite3'}", "SECRET_KEY": "x", "LETTER_READERS": 2})
    db = app.extensions["p2p_db"]
    lock, running, most = threading.Lock(), [0], [0]

    def slow_read(data: bytes, filename: str) -> LetterReading:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.3)
        with lock:
            running[0] -= 1
        raise LetterUnreadable("it is blank", filename=filename)

    monkeypatch.setattr(letter_views, "read_letter", slow_read)
    ids = [save_letter(db, iss="https://ehr", patient_id="p1", practice=None, uploaded_by="u", filename=f"{i}.pdf",
                       media_type="application/pdf", content=b"%PDF-")[0] for i in range(5)]  # fmt: skip
    readers = [threading.Thread(target=letter_views._read, args=(app, "https://ehr", "p1", i, b"%PDF-", "x.pdf", False))
               for i in ids]  # fmt: skip
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join(timeout=30)
    assert most[0] == 2
    assert [letter(db, iss="https://ehr", patient_id="p1", letter_id=i).status for i in ids] == ["unreadable"] * 5  # type: ignore[union-attr]
