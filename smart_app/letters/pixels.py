"""How large a letter's page may be in pixels, and the resolution an image file says it was scanned at.

A file can lie about both: a PNG whose header says 2 dpi would be "enlarged to 300 dpi" into gigapixels, and a PDF
page may be 200 inches wide (the largest PDF allows), 3.6 gigapixels at 300 dpi. A letter page is at most a
tabloid sheet (11 x 17 inches: 16.8 million pixels at 300 dpi), so every page is decoded, rendered or enlarged to at
most ``MAX_PAGE_PIXELS``, and an image already larger is refused before it is decoded.
"""

from __future__ import annotations

import math

from PIL import Image

MAX_PAGE_PIXELS = 20_000_000
MIN_PLAUSIBLE_DPI = 50.0  # a stored resolution below this is a wrong header, not a scan (faxes are 98 dpi and up)


def capped_scale(width: float, height: float, scale: float) -> float:
    """``scale``, or the largest smaller one that keeps a ``width`` x ``height`` page within ``MAX_PAGE_PIXELS``."""
    area = max(width, 1.0) * max(height, 1.0)
    return min(scale, math.sqrt(MAX_PAGE_PIXELS / area) * 0.999)  # a renderer rounds each side up


def stored_dpi(image: Image.Image) -> float | None:
    """The horizontal resolution the image file states, or None when it states none or an implausible one."""
    dpi = image.info.get("dpi")
    try:
        value = float(dpi[0]) if dpi else 0.0
    except (TypeError, ValueError, IndexError):
        return None
    return value if value >= MIN_PLAUSIBLE_DPI else None


def too_many_pixels(image: Image.Image, number: int) -> str | None:
    """Why page ``number`` (its header read, not yet decoded) is too large to read, or None when it is not."""
    width, height = image.size
    if width * height <= MAX_PAGE_PIXELS:
        return None
    return (
        f"its page {number} is {width} × {height} pixels; a page may have at most {MAX_PAGE_PIXELS // 1_000_000} "
        "million (a letter page at 300 dpi has 8.4 million): scan it again at 300 dpi or less"
    )
