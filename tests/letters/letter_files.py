"""Letter files for the reader's tests: the shipped demo letters, and pages rendered from them as fax images."""

from __future__ import annotations

import io
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image

LETTERS = Path(__file__).resolve().parents[1] / "data" / "letters"


def rendered_pages(pdf: bytes, dpi: int) -> list[Image.Image]:
    """The PDF's pages as greyscale images at ``dpi``, the way a fax machine hands them over."""
    document = pdfium.PdfDocument(pdf)
    try:
        return [document[i].render(scale=dpi / 72, grayscale=True).to_pil().convert("L") for i in range(len(document))]
    finally:
        document.close()


def image_bytes(pages: list[Image.Image], kind: str, dpi: int = 200) -> bytes:
    """Pages saved as one PNG/JPEG (the first page) or one multi-page TIFF."""
    out = io.BytesIO()
    if kind == "TIFF":
        pages[0].save(out, "TIFF", save_all=True, append_images=pages[1:], dpi=(dpi, dpi), compression="tiff_lzw")
    else:
        pages[0].save(out, kind, dpi=(dpi, dpi))
    return out.getvalue()
