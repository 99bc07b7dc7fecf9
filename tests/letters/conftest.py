"""Fixtures for the reader's tests: the UnitedHealthcare letter as a text PDF and as 200 dpi page images."""

from __future__ import annotations

import pytest
from letter_files import LETTERS, rendered_pages
from PIL import Image


@pytest.fixture(scope="session")
def uhc_letter() -> bytes:
    """The UnitedHealthcare lumbar MRI denial, as a text PDF (two pages)."""
    return (LETTERS / "uhc-lumbar-mri.pdf").read_bytes()


@pytest.fixture(scope="session")
def uhc_pages(uhc_letter: bytes) -> list[Image.Image]:
    """Its pages as 200 dpi images."""
    return rendered_pages(uhc_letter, 200)
