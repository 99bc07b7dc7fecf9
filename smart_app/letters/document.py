"""A letter file (a text PDF, a scanned PDF, or TIFF/PNG/JPEG pages from a fax) turned into pages of lines.

What the file is comes from its first bytes, never its name. A PDF page with a text layer is read by pdfminer.six
(exact text, boxes from the layout); a page without one, and every image page, goes through Debian's tesseract.
Lines that share a row on the page are joined left to right, so a label and its value ("Member ID:  W123") stay one
line whichever way the page was read. A page OCR reads poorly is kept with its confidence and a note: the liaison
must see that page, not lose it.
"""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Iterator

import pypdfium2 as pdfium
from pdfminer.high_level import extract_pages
from pdfminer.layout import LAParams, LTChar, LTPage, LTTextContainer, LTTextLine
from pdfminer.pdfparser import PDFSyntaxError
from PIL import Image, ImageChops, ImageSequence, UnidentifiedImageError

from smart_app.errors import LetterUnreadable
from smart_app.letters.model import Box, LetterText, Line, Page
from smart_app.letters.ocr import ocr_dpi, ocr_page
from smart_app.letters.pixels import capped_scale, stored_dpi, too_many_pixels
from smart_app.letters.rows import COLUMN_GAP, COLUMN_SEPARATOR, join_rows

DEFAULT_MAX_PAGES = 10
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
MAX_PAGE_CHARACTERS = 40_000  # a dense letter page has 3,000 to 8,000 (pdfium's count, spaces and line ends too)
# Lines only: pdfminer's grouping of text boxes into a reading order (``boxes_flow``) costs time that grows with the
# square of the boxes on a page, and the rows are joined here by position (``join_rows``) anyway.
LAYOUT = LAParams(boxes_flow=None)
FAX_DPI = 200.0  # an image that states no resolution is taken for a fine-mode fax
IMAGE_KINDS = {"PNG": "png", "JPEG": "jpeg", "TIFF": "tiff"}
# What a refused file is, by its first bytes: the message names it so the user knows what they picked.
MAGIC = (
    (b"PK\x03\x04", "a ZIP archive (a Word .docx or Excel file is one)"),
    (b"\xd0\xcf\x11\xe0", "an old Microsoft Office document (.doc or .xls)"),
    (b"{\\rtf", "an RTF document"),
    (b"GIF8", "a GIF image"),
    (b"BM", "a BMP image"),
    (b"RIFF", "a RIFF file (WebP image or WAV audio)"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"%!PS", "a PostScript file"),
)


def _limit(name: str, default: int) -> int:
    """A ``P2P_LETTER_*`` limit from the environment (read at each call, so a test or a deployment can set it)."""
    value = os.environ.get(f"P2P_{name}", "")
    return int(value) if value.strip().isdigit() else default


def max_pages() -> int:
    """The most pages a letter may have (``P2P_LETTER_MAX_PAGES``, default 10)."""
    return _limit("LETTER_MAX_PAGES", DEFAULT_MAX_PAGES)


def max_bytes() -> int:
    """The largest letter file accepted (``P2P_LETTER_MAX_BYTES``, default 20 MB)."""
    return _limit("LETTER_MAX_BYTES", DEFAULT_MAX_BYTES)


def sniff(data: bytes) -> str:
    """``pdf``, ``png``, ``jpeg`` or ``tiff`` by the file's first bytes; anything else is refused, saying what it is."""
    head = data[:1024]
    if b"%PDF-" in head:
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "tiff"
    raise LetterUnreadable(f"it is {_describe(head)}, not a PDF or a PNG, JPEG or TIFF image")


def _describe(head: bytes) -> str:
    if not head:
        return "empty (0 bytes)"
    for magic, what in MAGIC:
        if head.startswith(magic):
            return what
    text = head.lstrip()[:64].lower()
    if text.startswith((b"<!doctype html", b"<html")):
        return "a web page (HTML)"
    if text.startswith(b"<?xml") or text.startswith(b"<"):
        return "an XML or HTML document"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return f"a file of an unknown kind (it starts with bytes {head[:4].hex(' ')})"
    return "plain text"


def read_document(data: bytes, filename: str) -> LetterText:
    """The letter's pages of lines. Raises ``LetterUnreadable`` (saying what is wrong) for a file that is not a PDF
    or a supported image, a damaged or encrypted PDF, too many pages or bytes, or a letter with no text at all.
    ``filename`` is only for messages: the kind of file comes from its bytes."""
    try:
        return _read(data)
    except LetterUnreadable as error:
        raise LetterUnreadable(error.reason, filename=filename) from None


def _read(data: bytes) -> LetterText:
    if len(data) > max_bytes():
        raise LetterUnreadable(f"it is {_size(len(data))}; the limit is {_size(max_bytes())} (P2P_LETTER_MAX_BYTES)")
    kind = sniff(data)
    pages = _pdf_pages(data) if kind == "pdf" else _image_pages(data)
    text = LetterText(tuple(pages))
    if not any(line.text.strip() for line in text.lines):
        failed = [page.note for page in pages if page.note]
        if failed:
            raise LetterUnreadable(f"no text could be read from its {_pages(len(pages))}. {' '.join(failed)}")
        raise LetterUnreadable(f"no text was found on its {_pages(len(pages))}: the letter looks blank")
    return text


def _size(count: int) -> str:
    """A byte count as a person reads it: "20 MB", "20.1 MB", "10 KB"."""
    if count >= 1024 * 1024:
        return f"{count / (1024 * 1024):.1f}".removesuffix(".0") + " MB"
    return f"{-(-count // 1024)} KB"


def _pages(count: int) -> str:
    return f"{count} page" + ("" if count == 1 else "s")


def _check_page_count(count: int) -> None:
    if count > max_pages():
        raise LetterUnreadable(
            f"it has {count} pages; a letter may have at most {max_pages()} (P2P_LETTER_MAX_PAGES): "
            "upload only the denial letter's pages"
        )
    if count == 0:
        raise LetterUnreadable("it has no pages")


def _open_pdf(data: bytes) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        if "password" in str(error).lower():
            raise LetterUnreadable(
                "the PDF is encrypted with a password: save or print it again without a password"
            ) from None
        raise LetterUnreadable(f"the PDF is damaged and cannot be opened ({error})") from None


def _pdf_pages(data: bytes) -> list[Page]:
    document = _open_pdf(data)
    try:
        _check_page_count(len(document))
        _check_text_size(document)
        layouts = _pdf_layouts(data, len(document))
        pages = []
        for index in range(len(document)):
            lines = layouts.get(index + 1, ())
            if any(line.text.strip() for line in lines):
                pages.append(Page(index + 1, lines))
            else:
                dpi = ocr_dpi()
                pages.append(ocr_page(_render(document, index, dpi), index + 1, dpi=dpi))
        return pages
    finally:
        document.close()


def _check_text_size(document: pdfium.PdfDocument) -> None:
    """Refuse a page with more text than any letter page before pdfminer lays it out: its line grouping grows
    faster than the count of words, so a small crafted PDF could keep a worker busy for an hour."""
    for index in range(len(document)):
        text_page = document[index].get_textpage()
        try:
            count = text_page.count_chars()
        finally:
            text_page.close()
        if count > MAX_PAGE_CHARACTERS:
            raise LetterUnreadable(
                f"its page {index + 1} has {count:,} characters of text; a letter page has a few thousand (at most "
                f"{MAX_PAGE_CHARACTERS:,} are read): upload only the denial letter's pages"
            )


def _pdf_layouts(data: bytes, count: int) -> dict[int, tuple[Line, ...]]:
    """Each page's text-layer lines (an empty tuple for a page that has none)."""
    layouts: dict[int, tuple[Line, ...]] = {}
    try:
        for number, layout in enumerate(extract_pages(io.BytesIO(data), laparams=LAYOUT), start=1):
            layouts[number] = tuple(_rows(number, list(_text_lines(layout)), layout.width, layout.height))
    except PDFSyntaxError as error:
        raise LetterUnreadable(f"the PDF is damaged and its text cannot be read ({error})") from None
    except Exception as error:  # pdfminer raises many kinds for broken or encrypted files  # noqa: BLE001
        if "encrypt" in type(error).__name__.lower() or "password" in type(error).__name__.lower():
            raise LetterUnreadable(
                "the PDF is encrypted with a password: save or print it again without a password"
            ) from None
        raise LetterUnreadable(f"the PDF is damaged and its text cannot be read ({type(error).__name__})") from None
    return layouts


def _text_lines(layout: LTPage) -> Iterator[LTTextLine]:
    for element in layout:
        if isinstance(element, LTTextContainer):
            for line in element:
                if isinstance(line, LTTextLine) and line.get_text().strip():
                    yield line


def _line_text(line: LTTextLine) -> str:
    """A pdfminer line's text, with a column gap (wider than a line's height) kept as two spaces, so a label and
    its value set in table cells stay apart ("Member ID  W123") however pdfminer grouped them."""
    text, previous = "", None
    for item in line:
        if not isinstance(item, LTChar):
            if item.get_text() != "\n":
                text += item.get_text()
            continue
        if previous is not None and item.x0 - previous.x1 > COLUMN_GAP * max(item.height, 1.0):
            text = text.rstrip(" ") + COLUMN_SEPARATOR
        text += item.get_text()
        previous = item
    return text.strip()


def _rows(number: int, lines: list[LTTextLine], width: float, height: float) -> Iterator[Line]:
    """pdfminer's lines (origin bottom left) as page-fraction boxes, those sharing a row joined left to right."""
    yield from join_rows(
        [
            Line(
                number,
                _line_text(line),
                Box(line.x0 / width, 1 - line.y1 / height, line.x1 / width, 1 - line.y0 / height),
            )
            for line in lines
        ]
    )


def _render(document: pdfium.PdfDocument, index: int, dpi: int) -> Image.Image:
    """The page at ``dpi``, or coarser for a page too large to render at it (``pixels.MAX_PAGE_PIXELS``)."""
    page = document[index]
    width, height = page.get_size()
    return page.render(scale=capped_scale(width, height, dpi / 72)).to_pil()


def _image_frames(data: bytes, *, check_count: bool = False, only: int | None = None) -> list[Image.Image]:
    """Every page of the image file (or page ``only``, 1-based, alone); with ``check_count``, too many pages are
    refused before any is decoded. A page past ``pixels.MAX_PAGE_PIXELS`` is refused from its header."""
    try:
        with warnings.catch_warnings():  # a page past Pillow's bomb warning is refused below, by its header
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
        count = getattr(image, "n_frames", 1)
        if check_count:
            _check_page_count(count)
        if only is not None:
            _check_page_range(only, count)
        frames = []
        for number, frame in enumerate(ImageSequence.Iterator(image), start=1):
            if only is not None and number != only:
                continue
            too_large = too_many_pixels(frame, number)
            if too_large:
                raise LetterUnreadable(too_large)
            frames.append(frame.copy())
    except Image.DecompressionBombError as error:  # past twice Pillow's limit: refused by Image.open itself
        raise LetterUnreadable(f"a page is too large to read ({error}): scan it again at 300 dpi or less") from None
    except (UnidentifiedImageError, OSError, ValueError) as error:
        raise LetterUnreadable(f"the image is damaged and cannot be opened ({error})") from None
    return frames


def _image_pages(data: bytes) -> list[Page]:
    frames = _image_frames(data, check_count=True)
    return [ocr_page(frame, number) for number, frame in enumerate(frames, start=1)]


def page_image(data: bytes, filename: str, page: int, *, dpi: int = 110, rotation: int = 0) -> bytes:
    """A PNG of one page (1-based) of the letter, for showing beside the form, turned ``rotation`` degrees
    clockwise (pass ``Page.rotation`` so the line boxes of a sideways scan fall on the image); raises
    ``LetterUnreadable`` as ``read_document`` does, and for a page the letter does not have."""
    try:
        return _page_png(data, page, dpi, rotation)
    except LetterUnreadable as error:
        raise LetterUnreadable(error.reason, filename=filename) from None


def _page_png(data: bytes, page: int, dpi: int, rotation: int) -> bytes:
    kind = sniff(data)
    if kind == "pdf":
        document = _open_pdf(data)
        try:
            _check_page_range(page, len(document))
            image = _render(document, page - 1, dpi)
        finally:
            document.close()
    else:
        image = _image_frames(data, only=page)[0]
        scale = capped_scale(image.width, image.height, dpi / (stored_dpi(image) or FAX_DPI))
        if scale != 1:
            size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
            image = image.convert("L").resize(size, Image.Resampling.LANCZOS)
    if rotation % 360:
        image = image.rotate(-(rotation % 360), expand=True)
    out = io.BytesIO()
    _grey_if_it_is(image).save(out, format="PNG")
    return out.getvalue()


def _grey_if_it_is(image: Image.Image) -> Image.Image:
    """The image as greyscale when it has no colour (a scan or fax page rendered in RGB): the same pixels in a
    third of the samples, so its PNG is about half the bytes and quicker to make; a page in colour unchanged."""
    if image.mode != "RGB":
        return image
    red, green, blue = image.split()
    if ImageChops.difference(red, green).getbbox() or ImageChops.difference(green, blue).getbbox():
        return image
    return image.convert("L")


def _check_page_range(page: int, count: int) -> None:
    if not 1 <= page <= count:
        raise LetterUnreadable(f"it has no page {page} (it has {_pages(count)})")
