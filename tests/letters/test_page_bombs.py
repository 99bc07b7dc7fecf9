"""Files built to exhaust the reader: a page image that says it was scanned at 2 dpi (so "enlarged to 300 dpi" would
be a 22-gigapixel image), a PDF page 200 inches wide, an image past the page pixel limit. Each is read at a bounded
size or refused with what is wrong; none allocates a page beyond ``MAX_PAGE_PIXELS``. A guard on Pillow's resize and
pdfium's render raises (instead of allocating) when asked for more, so the tests fail safely on a reader that would."""

from __future__ import annotations

import io
import random
import time
from collections.abc import Iterator
from typing import Any

import pypdfium2 as pdfium
import pytest
from letter_files import LETTERS, image_bytes, rendered_pages
from PIL import Image

from smart_app.errors import LetterUnreadable
from smart_app.letters.document import page_image, read_document
from smart_app.letters.pixels import MAX_PAGE_PIXELS

SAFE = MAX_PAGE_PIXELS * 1.01


@pytest.fixture(autouse=True)
def no_giant_pages(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail (without allocating) any resize or render to more than a page's pixel limit."""
    resize, render = Image.Image.resize, pdfium.PdfPage.render

    def guarded_resize(self: Image.Image, size: tuple[int, int], *args: Any, **kwargs: Any) -> Image.Image:
        assert size[0] * size[1] <= SAFE, f"a page resized to {size[0]} x {size[1]} pixels"
        return resize(self, size, *args, **kwargs)

    def guarded_render(self: pdfium.PdfPage, *args: Any, scale: float = 1, **kwargs: Any) -> Any:
        width, height = self.get_size()
        assert width * height * scale * scale <= SAFE, f"a page rendered at {width * scale:.0f} x {height * scale:.0f}"
        return render(self, *args, scale=scale, **kwargs)

    monkeypatch.setattr(Image.Image, "resize", guarded_resize)
    monkeypatch.setattr(pdfium.PdfPage, "render", guarded_render)
    yield


def _page(dpi: int) -> bytes:
    page = rendered_pages((LETTERS / "uhc-lumbar-pt-administrative.pdf").read_bytes(), 100)[0]
    return image_bytes([page.resize((300, 400))], "PNG", dpi=dpi)


def test_an_image_claiming_two_dpi_is_not_enlarged_past_a_page() -> None:
    tiny_dpi = _page(2)  # 300 x 400 pixels "at 2 dpi": 150 x 200 inches
    try:
        read_document(tiny_dpi, "fax.png")
    except LetterUnreadable:
        pass  # too coarse to read is a fine answer; allocating gigapixels is not
    png = Image.open(io.BytesIO(page_image(tiny_dpi, "fax.png", 1)))
    assert png.width * png.height <= MAX_PAGE_PIXELS


def _huge_pdf(points: float) -> bytes:
    document = pdfium.PdfDocument.new()
    document.new_page(points, points)
    out = io.BytesIO()
    document.save(out)
    document.close()
    return out.getvalue()


def test_a_pdf_page_two_hundred_inches_wide_is_rendered_at_a_bounded_size() -> None:
    huge = _huge_pdf(14400)  # the largest page PDF allows: 200 x 200 inches, 3.6 gigapixels at 300 dpi
    with pytest.raises(LetterUnreadable, match="looks blank"):
        read_document(huge, "huge.pdf")
    png = Image.open(io.BytesIO(page_image(huge, "huge.pdf", 1)))
    assert png.width * png.height <= MAX_PAGE_PIXELS


def test_an_image_past_the_pixel_limit_is_refused_before_it_is_decoded(monkeypatch: pytest.MonkeyPatch) -> None:
    big = Image.new("1", (12000, 12000), 1)  # 144 million pixels: a few KB as a compressed fax page
    data = image_bytes([big], "TIFF")
    assert len(data) < 1024 * 1024
    loaded: list[tuple[int, int]] = []
    load = Image.Image.load
    monkeypatch.setattr(Image.Image, "load", lambda self: loaded.append(self.size) or load(self))
    with pytest.raises(LetterUnreadable) as refused:
        read_document(data, "fax.tif")
    assert "page 1 is 12000 × 12000 pixels" in refused.value.message
    assert "at most 20 million" in refused.value.message
    assert not [size for size in loaded if size[0] * size[1] > SAFE]


def _scattered_words_pdf(count: int) -> bytes:
    """One page of ``count`` two-letter words, each placed alone (a small file: each word its own text box)."""
    rng = random.Random(1)  # noqa: S311 (placement, not secrets)
    content = "\n".join(
        f"BT /F1 4 Tf {rng.uniform(0, 600):.1f} {rng.uniform(0, 780):.1f} Td (w{i % 10}) Tj ET" for i in range(count)
    ).encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    return out + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)


def test_a_page_of_thousands_of_scattered_words_is_read_in_seconds() -> None:
    crafted = _scattered_words_pdf(3000)  # 110 KB; pdfminer's box grouping took 100 s and 1 GB on it
    assert len(crafted) < 200 * 1024
    started = time.monotonic()
    read_document(crafted, "crafted.pdf")
    assert time.monotonic() - started < 15


def test_a_page_with_more_text_than_a_letter_page_is_refused_unread() -> None:
    crafted = _scattered_words_pdf(20000)  # 80,000 characters on one page
    started = time.monotonic()
    with pytest.raises(LetterUnreadable) as refused:
        read_document(crafted, "crafted.pdf")
    assert time.monotonic() - started < 5
    message = refused.value.message
    assert "its page 1 has 79,845 characters of text" in message and "at most 40,000" in message
