"""The document layer: a letter file into pages of lines, and every file it cannot read refused with what is wrong."""

from __future__ import annotations

import io
import zipfile

import pypdfium2 as pdfium
import pytest
from letter_files import LETTERS, image_bytes
from PIL import Image
from pypdf import PdfReader, PdfWriter

from smart_app.errors import InputError, LetterUnreadable
from smart_app.letters.document import page_image, read_document


def _refusal(data: bytes, name: str = "letter.pdf") -> str:
    with pytest.raises(LetterUnreadable) as refused:
        read_document(data, name)
    assert isinstance(refused.value, InputError)  # the CLI's exit 1, the web's 400
    return refused.value.message


def _blank_pdf(pages: int) -> bytes:
    document = pdfium.PdfDocument.new()
    for _ in range(pages):
        document.new_page(612, 792)
    out = io.BytesIO()
    document.save(out)
    document.close()
    return out.getvalue()


def test_text_pdf_lines_carry_page_box_and_no_ocr(uhc_letter: bytes) -> None:
    text = read_document(uhc_letter, "uhc.pdf")
    assert [page.number for page in text.pages] == [1, 2]
    assert not text.ocr_used and text.ocr_confidence is None
    member = next(line for line in text.lines if line.text.startswith("Member ID"))
    assert member.text == "Member ID  984213657"  # label and value cells kept apart by a column gap
    assert member.page == 1 and member.box is not None
    assert 0 < member.box.left < member.box.right < 1 and 0 < member.box.top < member.box.bottom < 1


def test_not_a_pdf_is_named_by_its_bytes_not_its_name() -> None:
    docx = io.BytesIO()
    with zipfile.ZipFile(docx, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    assert _refusal(docx.getvalue(), "denial.pdf") == (
        "denial.pdf: it is a ZIP archive (a Word .docx or Excel file is one), not a PDF or a PNG, JPEG or TIFF image"
    )
    assert "it is a web page (HTML)" in _refusal((LETTERS / "bad" / "not-a-pdf.pdf").read_bytes())
    assert "it is plain text" in _refusal(b"Dear Dr. Smith, your request was denied.")
    assert "it is empty (0 bytes)" in _refusal(b"")


def test_blank_letter_says_it_looks_blank() -> None:
    assert _refusal((LETTERS / "bad" / "blank.pdf").read_bytes()) == (
        "letter.pdf: no text was found on its 1 page: the letter looks blank"
    )


def test_noise_only_scan_says_ocr_could_not_read_it_with_its_confidence() -> None:
    message = _refusal((LETTERS / "bad" / "unreadable-scan.pdf").read_bytes(), "fax.pdf")
    assert message.startswith("fax.pdf: no text could be read from its 1 page. Page 1: OCR could not read any text")
    assert "confidence 0 of 100" in message and "rescan it at 300 dpi" in message


def test_encrypted_pdf_is_refused_asking_for_a_copy_without_password(uhc_letter: bytes) -> None:
    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(uhc_letter)).pages:
        writer.add_page(page)
    writer.encrypt(user_password="s3cret", owner_password="owner")  # noqa: S106 - a test file's password
    out = io.BytesIO()
    writer.write(out)
    assert _refusal(out.getvalue()) == (
        "letter.pdf: the PDF is encrypted with a password: save or print it again without a password"
    )


def test_damaged_pdf_is_refused_as_damaged(uhc_letter: bytes) -> None:
    assert _refusal(b"%PDF-1.7\n" + b"\x00garbage" * 50).startswith("letter.pdf: the PDF is damaged")
    assert _refusal(uhc_letter[: len(uhc_letter) // 3]).startswith("letter.pdf: the PDF is damaged")


def test_forty_pages_are_refused_saying_how_many_and_the_limit() -> None:
    assert _refusal(_blank_pdf(40), "chart-dump.pdf") == (
        "chart-dump.pdf: it has 40 pages; a letter may have at most 10 (P2P_LETTER_MAX_PAGES): "
        "upload only the denial letter's pages"
    )
    fax = image_bytes([Image.new("L", (170, 220), 255)] * 40, "TIFF")  # refused before any page is read
    assert _refusal(fax, "fax.tif").startswith("fax.tif: it has 40 pages; a letter may have at most 10")


def test_limits_come_from_the_environment(monkeypatch: pytest.MonkeyPatch, uhc_letter: bytes) -> None:
    monkeypatch.setenv("P2P_LETTER_MAX_PAGES", "1")
    assert "it has 2 pages; a letter may have at most 1" in _refusal(uhc_letter)
    monkeypatch.setenv("P2P_LETTER_MAX_BYTES", "10000")
    size = -(-len(uhc_letter) // 1024)
    assert _refusal(uhc_letter) == f"letter.pdf: it is {size} KB; the limit is 10 KB (P2P_LETTER_MAX_BYTES)"


def test_file_over_the_size_limit_is_refused_before_reading() -> None:
    big = b"%PDF-1.7\n" + b"0" * (20 * 1024 * 1024 + 1)
    assert _refusal(big) == "letter.pdf: it is 20 MB; the limit is 20 MB (P2P_LETTER_MAX_BYTES)"


def test_png_page_goes_through_ocr(uhc_pages: list[Image.Image]) -> None:
    text = read_document(image_bytes(uhc_pages[:1], "PNG"), "fax.png")
    assert text.ocr_used and len(text.pages) == 1
    assert text.ocr_confidence is not None and text.ocr_confidence > 85
    assert any(line.text == "Member ID  984213657" for line in text.lines)
    assert all(line.confidence is not None and line.box is not None for line in text.lines)


def test_multipage_tiff_reads_every_page(uhc_pages: list[Image.Image]) -> None:
    text = read_document(image_bytes(uhc_pages, "TIFF"), "fax.tif")
    assert [page.number for page in text.pages] == [1, 2]
    assert all(page.ocr_used for page in text.pages)
    assert any("Your right to appeal" in line.text for line in text.pages[1].lines)


def test_page_image_is_a_png_of_the_page(uhc_letter: bytes, uhc_pages: list[Image.Image]) -> None:
    png = page_image(uhc_letter, "uhc.pdf", 2, dpi=50)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == (round(8.5 * 50), 11 * 50)
    tiff = image_bytes(uhc_pages, "TIFF")
    assert Image.open(io.BytesIO(page_image(tiff, "fax.tif", 1, dpi=100))).size == (850, 1100)
    with pytest.raises(LetterUnreadable, match=r"uhc.pdf: it has no page 3 \(it has 2 pages\)"):
        page_image(uhc_letter, "uhc.pdf", 3)


def test_a_scans_page_image_is_sent_in_grey_and_a_letter_in_colour_keeps_its_colour(uhc_letter: bytes) -> None:
    scan = Image.open(io.BytesIO(page_image((LETTERS / "uhc-lumbar-mri-scan.pdf").read_bytes(), "scan.pdf", 1)))
    printed = Image.open(io.BytesIO(page_image(uhc_letter, "uhc.pdf", 1)))
    assert scan.mode == "L" and scan.size == printed.size  # a grey fax sent as grey: half the bytes, nothing lost
    assert printed.mode == "RGB" and printed.getcolors(2**24)  # the payer's coloured letterhead stays coloured
    assert any(r != g or g != b for _, (r, g, b) in printed.getcolors(2**24))  # type: ignore[union-attr,misc]


def test_sideways_fax_page_is_turned_upright_and_says_how(uhc_pages: list[Image.Image]) -> None:
    sideways = uhc_pages[0].rotate(90, expand=True)  # fed into the fax machine on its side
    text = read_document(image_bytes([sideways], "PNG"), "fax.png")
    assert text.pages[0].rotation == 90
    assert any(line.text == "Member ID  984213657" for line in text.lines)
    upright = Image.open(io.BytesIO(page_image(image_bytes([sideways], "PNG"), "fax.png", 1, dpi=100, rotation=90)))
    assert upright.size == (850, 1100)  # the image the boxes fall on


def test_a_page_ocr_gives_up_on_is_kept_with_a_note(
    monkeypatch: pytest.MonkeyPatch, uhc_pages: list[Image.Image]
) -> None:
    import pytesseract

    real, calls = pytesseract.image_to_data, []

    def first_page_times_out(*args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("Tesseract process timeout")
        return real(*args, **kwargs)

    monkeypatch.setattr(pytesseract, "image_to_data", first_page_times_out)
    text = read_document(image_bytes(uhc_pages, "TIFF"), "fax.tif")
    first, second = text.pages
    assert first.lines == () and first.ocr_confidence == 0.0
    assert first.note == "Page 1: OCR gave up after 60 seconds (P2P_LETTER_OCR_TIMEOUT); the page was not read."
    assert second.lines and second.note is None


def test_a_page_read_poorly_is_kept_with_its_confidence(monkeypatch: pytest.MonkeyPatch) -> None:
    from smart_app.letters import ocr
    from smart_app.letters.fields import find_fields
    from smart_app.letters.model import Line

    monkeypatch.setattr(ocr, "_read", lambda image, number: ([Line(number, "Mernber lD: W1Z3", None, 41.0)], 41.0))
    text = read_document(image_bytes([Image.new("L", (850, 1100), 255)], "PNG"), "fax.png")
    (page,) = text.pages
    assert page.ocr_confidence == 41.0 and page.lines
    assert page.note == (
        "Page 1: the text could not be read reliably (OCR confidence 41 of 100): check every field from this "
        "page against the letter."
    )
    assert find_fields(text).notes == (page.note,)
