"""One page image read by Debian's tesseract (through pytesseract): words grouped into lines with their boxes and
confidences, after straightening the page.

A fax or a scan is rarely square on the glass: a page turned a degree or two makes a line's box tall enough to swallow
the next, so the skew is measured first (the angle at which the rows of ink are sharpest, on a small copy) and the
page turned back. A page upside down or on its side is found by tesseract's orientation detection, asked only when
the first reading is poor. A page that still reads poorly, or takes longer than the timeout, is kept with its
confidence and a note saying so: never silently dropped.
"""

from __future__ import annotations

import os
import statistics
from dataclasses import replace

import pytesseract
from PIL import Image, ImageFilter, ImageOps

from smart_app.letters.model import Box, Line, Page
from smart_app.letters.pixels import capped_scale, stored_dpi
from smart_app.letters.rows import COLUMN_GAP, COLUMN_SEPARATOR, join_rows

DEFAULT_DPI = 300
MEDIAN_FILTER = True  # remove a scan's specks before reading (the benchmark measures with and without)
MIN_CONFIDENCE = 60.0  # a page whose mean word confidence is below this is flagged for the liaison to check
RETRY_BELOW = 55.0  # a first reading this poor asks tesseract which way up the page is
DEFAULT_TIMEOUT = 60
MIN_INK = 0.002  # a page darker than this is not blank: no text read from it means OCR failed
SKEW_RANGE, SKEW_STEP, SKEW_FINE = 6.0, 0.5, 0.1
WORKING_WIDTH = 700  # the width of the small copy the skew is measured on
NOT_WORDS = {"", "|", "||", "[", "]"}  # a table's rules, read as characters
QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'})  # tesseract's typographic quotes for the typed ones


def ocr_dpi() -> int:
    """The resolution pages are read at (``P2P_LETTER_OCR_DPI``, default 300): a PDF page is rendered at it, a
    coarser image enlarged to it. 200 reads a little faster and a little worse: docs/benchmarks.md has both."""
    value = os.environ.get("P2P_LETTER_OCR_DPI", "")
    return int(value) if value.strip().isdigit() and 100 <= int(value) <= 600 else DEFAULT_DPI


def _one_thread() -> None:
    """Tesseract's OpenMP threads spin against each other on a busy machine: one thread per page reads a page
    3-4 times faster on two shared cores (measured, docs/benchmarks.md). ``OMP_THREAD_LIMIT`` set by the
    deployment wins."""
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")


def ocr_timeout() -> int:
    """Seconds tesseract may spend on one page (``P2P_LETTER_OCR_TIMEOUT``, default 60)."""
    value = os.environ.get("P2P_LETTER_OCR_TIMEOUT", "")
    return int(value) if value.strip().isdigit() and int(value) > 0 else DEFAULT_TIMEOUT


def ocr_page(image: Image.Image, number: int, *, dpi: float | None = None) -> Page:
    """The page's lines as tesseract reads them. ``dpi`` is the image's resolution when known (a PDF page is
    rendered at ``ocr_dpi()``); a coarser image (a 200 dpi fax) is enlarged to it first."""
    _one_thread()
    gray = _prepared(image, dpi)
    angle = skew_angle(gray)
    straight = gray.rotate(angle, resample=Image.Resampling.BILINEAR, expand=False, fillcolor=255) if angle else gray
    turned = 0
    try:
        lines, confidence = _read(straight, number)
        if confidence < RETRY_BELOW:
            rotation = _upright_rotation(straight)
            if rotation:
                turned_lines, turned_confidence = _read(straight.rotate(-rotation, expand=True), number)
                if turned_confidence > confidence:
                    lines, confidence, turned = turned_lines, turned_confidence, rotation
    except RuntimeError as error:  # pytesseract's timeout
        if "timeout" not in str(error).lower():
            raise
        return Page(number, (), ocr_used=True, ocr_confidence=0.0, note=_timeout_note(number))
    note = None
    if not lines and ink_share(straight) >= MIN_INK:
        note = (
            f"Page {number}: OCR could not read any text on this page (confidence {confidence:.0f} of 100): the "
            "scan may be too faint, noisy or coarse; rescan it at 300 dpi."
        )
    elif lines and confidence < MIN_CONFIDENCE:
        note = (
            f"Page {number}: the text could not be read reliably (OCR confidence {confidence:.0f} of 100): "
            "check every field from this page against the letter."
        )
    return Page(number, tuple(lines), ocr_used=True, ocr_confidence=round(confidence, 1), note=note, rotation=turned)


def ink_share(gray: Image.Image) -> float:
    """The share of a page that is dark (a blank page has next to none; a page of text a few percent)."""
    small = gray.resize((WORKING_WIDTH, max(1, round(gray.height * WORKING_WIDTH / gray.width))), Image.Resampling.BOX)
    histogram = small.histogram()
    return sum(histogram[:128]) / max(1, sum(histogram))


def _timeout_note(number: int) -> str:
    return f"Page {number}: OCR gave up after {ocr_timeout()} seconds (P2P_LETTER_OCR_TIMEOUT); the page was not read."


def _prepared(image: Image.Image, dpi: float | None) -> Image.Image:
    """Grey, enlarged to ``ocr_dpi()`` when coarser, specks removed."""
    gray = ImageOps.exif_transpose(image).convert("L")
    source, target = dpi or stored_dpi(image), ocr_dpi()
    if source and source < target * 0.9:
        scale = capped_scale(gray.width, gray.height, target / source)
        gray = gray.resize((round(gray.width * scale), round(gray.height * scale)), Image.Resampling.BICUBIC)
    return gray.filter(ImageFilter.MedianFilter(3)) if MEDIAN_FILTER else gray


def skew_angle(gray: Image.Image) -> float:
    """The angle (degrees, counter-clockwise) that makes the page's lines level: the one at which the rows of a
    small black-and-white copy are most unequal (text rows dense, gaps empty). 0 when the page is already level."""
    scale = WORKING_WIDTH / gray.width
    small = gray.resize((WORKING_WIDTH, max(1, round(gray.height * scale))), Image.Resampling.BOX)
    ink = small.point(lambda v: 255 if v < 128 else 0)

    def sharpness(angle: float) -> float:
        turned = ink.rotate(angle, resample=Image.Resampling.NEAREST, fillcolor=0)
        rows = list(turned.resize((1, turned.height), Image.Resampling.BOX).tobytes())
        return statistics.pvariance(rows)

    steps = round(SKEW_RANGE / SKEW_STEP)
    coarse = max((i * SKEW_STEP for i in range(-steps, steps + 1)), key=sharpness)
    fine = max((coarse + i * SKEW_FINE for i in range(-4, 5)), key=sharpness)
    return round(fine, 1) if abs(fine) >= 0.2 else 0.0


def _upright_rotation(gray: Image.Image) -> int:
    """Degrees clockwise (0, 90, 180, 270) that turn the page upright, by tesseract's orientation detection; 0 when
    it is upright or cannot tell."""
    try:
        osd = pytesseract.image_to_osd(gray, output_type=pytesseract.Output.DICT, timeout=ocr_timeout())
    except pytesseract.TesseractError:
        return 0
    return int(osd.get("rotate", 0)) % 360


def _words_text(data: dict[str, list], indexes: list[int]) -> str:  # type: ignore[type-arg]
    """A line's words with single spaces, and two where the gap is a column's (as the text-layer reader does)."""
    text = ""
    for previous, index in zip([None, *indexes], indexes, strict=False):
        if previous is not None:
            gap = data["left"][index] - (data["left"][previous] + data["width"][previous])
            text += COLUMN_SEPARATOR if gap > COLUMN_GAP * max(data["height"][index], 1) * 1.5 else " "
        text += data["text"][index].strip()
    return text.translate(QUOTES).replace("''", "'")


def _read(gray: Image.Image, number: int) -> tuple[list[Line], float]:
    """Tesseract's words grouped into its lines (boxes as page fractions), then lines sharing a row joined; and the
    page's mean word confidence."""
    data = pytesseract.image_to_data(gray, config="--psm 3", output_type=pytesseract.Output.DICT, timeout=ocr_timeout())
    words: dict[tuple[int, int, int], list[int]] = {}
    for i, text in enumerate(data["text"]):
        if text.strip() not in NOT_WORDS and float(data["conf"][i]) >= 0:
            words.setdefault((data["block_num"][i], data["par_num"][i], data["line_num"][i]), []).append(i)
    width, height = gray.size
    lines, scores = [], []
    for indexes in words.values():
        confs = [float(data["conf"][i]) for i in indexes]
        scores.extend(confs)
        left = min(data["left"][i] for i in indexes)
        top = min(data["top"][i] for i in indexes)
        right = max(data["left"][i] + data["width"][i] for i in indexes)
        bottom = max(data["top"][i] + data["height"][i] for i in indexes)
        text = _words_text(data, indexes)
        box = Box(left / width, top / height, right / width, bottom / height)
        lines.append(Line(number, text, box, round(sum(confs) / len(confs), 1)))
    confidence = sum(scores) / len(scores) if scores else 0.0
    return [replace(line, page=number) for line in join_rows(lines)], confidence
