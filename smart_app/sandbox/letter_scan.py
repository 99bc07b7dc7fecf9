"""A text PDF made to look like the fax or office scan of it: pages rasterized at 200 dpi, grayscale, a little crooked,
speckled and soft, some pushed to 1-bit like a fax machine's, and saved as an image-only PDF (no text layer), the
way most denial letters reach a practice. Deterministic for a seed, so the committed scans can be regenerated.

Noise comes from ``random.Random(seed)`` bytes shaped by lookup tables (Pillow's own noise generator is not
seedable), so no numpy is needed.
"""

from __future__ import annotations

import io
import random
from statistics import NormalDist

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

SCAN_DPI = 200
#: A fax's 1-bit threshold: paper above it is white, ink below it black.
FAX_THRESHOLD = 150
#: Grayscale scans are JPEG inside the PDF; 30 keeps a two-page letter under 300 KB and the text sharp enough to read.
JPEG_QUALITY = 30
#: Grey at or above this is paper: a scanner's background removal keeps the grain on the ink, not the whole page.
PAPER_WHITE = 236


def _rasterize(pdf: bytes, dpi: int) -> list[Image.Image]:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    try:
        return [document[i].render(scale=dpi / 72, grayscale=True).to_pil().convert("L") for i in range(len(document))]
    finally:
        document.close()


def _gaussian_lut(sigma: float) -> list[int]:
    """Maps a uniform byte to 128 plus a normally distributed offset of ``sigma`` grey levels."""
    normal = NormalDist(0, sigma)
    return [max(0, min(255, round(128 + normal.inv_cdf((b + 0.5) / 256)))) for b in range(256)]


def _noisy(page: Image.Image, rng: random.Random, *, sigma: float, speckle: float) -> Image.Image:
    """Gaussian grain plus salt-and-pepper specks (``speckle`` is the share of pixels turned black or white)."""
    grain = Image.frombytes("L", page.size, rng.randbytes(page.width * page.height)).point(_gaussian_lut(sigma))
    page = ImageChops.add(page, grain, scale=1.0, offset=-128)
    for _ in range(round(page.width * page.height * speckle)):
        x, y = rng.randrange(page.width - 1), rng.randrange(page.height - 1)
        shade = 0 if rng.random() < 0.7 else 255
        page.putpixel((x, y), shade)
        if rng.random() < 0.3:  # some specks are two pixels wide
            page.putpixel((x + 1, y), shade)
    return page


def _scanned(page: Image.Image, rng: random.Random, *, fax: bool) -> Image.Image:
    """One page through the scanner: tilted, grainy and speckled, then softened by the optics (noise before blur, so
    specks are smudges rather than sharp pixels, and the page compresses like a real scan)."""
    angle = rng.uniform(1.0, 2.5) * rng.choice((-1, 1))
    page = page.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=255)
    page = _noisy(page, rng, sigma=rng.uniform(2.5, 4), speckle=rng.uniform(0.0003, 0.0008))
    page = page.filter(ImageFilter.GaussianBlur(rng.uniform(0.55, 0.8)))
    page = page.point([255 if v >= PAPER_WHITE else v for v in range(256)])  # the scanner's background removal
    if fax:
        return page.point(lambda v: 255 if v > FAX_THRESHOLD else 0).convert("1")
    return page


def _with_fax_header(page: Image.Image, header: str, dpi: int) -> Image.Image:
    """The line a sending fax machine prints across the top of each page (Pillow's bundled font, so the scans are
    the same on every machine)."""
    font = ImageFont.load_default(size=round(dpi * 0.1))
    ImageDraw.Draw(page).text((round(dpi * 0.3), round(dpi * 0.12)), header, font=font, fill=0)
    return page


def degrade(pdf: bytes, *, seed: int, fax: bool = False, header: str | None = None, dpi: int = SCAN_DPI) -> bytes:
    """The PDF as a crooked, noisy grayscale scan (1-bit when ``fax``) at ``dpi``, with no text layer. ``header`` is a
    fax machine's line printed on top of each page, with ``{page}`` and ``{pages}`` filled in."""
    rng = random.Random(seed)  # noqa: S311 - reproducible noise, not security
    pages = _rasterize(pdf, dpi)
    if header:
        pages = [_with_fax_header(p, header.format(page=n, pages=len(pages)), dpi) for n, p in enumerate(pages, 1)]
    pages = [_scanned(page, rng, fax=fax) for page in pages]
    out = io.BytesIO()
    options = {} if fax else {"quality": JPEG_QUALITY, "optimize": True}
    pages[0].save(
        out,
        "PDF",
        save_all=True,
        append_images=pages[1:],
        resolution=float(dpi),
        title="Scanned document",
        producer="p2p-brief demo scanner",
        creationDate=None,
        modDate=None,
        **options,
    )
    return out.getvalue()
