"""Letters the reader must refuse clearly: a blank page, a scan of nothing but noise, a file named .pdf that is not a
PDF (a portal's "session expired" page saved by the browser), and a letter padded to many pages. Deterministic, so
the committed copies in ``tests/data/letters/bad/`` can be regenerated and compared."""

from __future__ import annotations

import io
import random

from PIL import Image, ImageFilter
from pypdf import PdfReader, PdfWriter

US_LETTER_POINTS = (612, 792)

NOT_A_PDF = b"""<!doctype html>
<html><head><title>Session expired</title></head>
<body><h1>Your session has expired</h1>
<p>For your security you were signed out of the provider portal. Sign in again to download this document.</p>
</body></html>
"""


def blank_pdf() -> bytes:
    """One empty US Letter page: a PDF with no text and nothing to scan."""
    writer = PdfWriter()
    writer.add_blank_page(*US_LETTER_POINTS)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def noise_scan(*, seed: int = 404, dpi: int = 200) -> bytes:
    """A one-page image-only PDF of grey blotches and speckle: a scan no OCR can read (low-resolution noise blown up,
    so it stays small)."""
    rng = random.Random(seed)  # noqa: S311 - reproducible noise, not security
    width, height = round(8.5 * dpi), 11 * dpi
    coarse = Image.frombytes("L", (width // 20, height // 20), rng.randbytes((width // 20) * (height // 20)))
    page = coarse.resize((width, height), Image.Resampling.BICUBIC).filter(ImageFilter.GaussianBlur(3))
    page = page.point(lambda v: 40 + v * 200 // 255)
    out = io.BytesIO()
    page.save(out, "PDF", resolution=float(dpi), quality=35, creationDate=None, modDate=None)
    return out.getvalue()


def not_a_pdf() -> bytes:
    """An HTML page, as saved under a .pdf name when a portal download fails."""
    return NOT_A_PDF


def long_letter(pdf: bytes, pages: int = 40) -> bytes:
    """``pdf``'s pages repeated until the document has ``pages`` pages (a letter with every attachment faxed)."""
    source = PdfReader(io.BytesIO(pdf))
    writer = PdfWriter()
    for number in range(pages):
        writer.add_page(source.pages[number % len(source.pages)])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


#: The committed bad letters: file name -> how to make it.
BAD_LETTERS = {"blank.pdf": blank_pdf, "unreadable-scan.pdf": noise_scan, "not-a-pdf.pdf": not_a_pdf}
