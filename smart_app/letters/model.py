"""The types a letter is read into: its pages of lines, and the fields found in them, each with its source line.

A field not found is ``None`` (never guessed). Every found value carries the page and the line it was read from,
and the line's box on the page image, so the liaison can see the source highlighted before confirming.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Box:
    """Where a line sits on its page, as fractions of the page's width and height (origin top left)."""

    left: float
    top: float
    right: float
    bottom: float


@dataclass(frozen=True)
class Line:
    """One line of text as read from a page (1-based page number), with OCR confidence (0-100) for scans."""

    page: int
    text: str
    box: Box | None = None
    confidence: float | None = None


@dataclass(frozen=True)
class Page:
    """One page: its lines in reading order; ``ocr_confidence`` is the mean word confidence when OCR read it."""

    number: int
    lines: tuple[Line, ...]
    ocr_used: bool = False
    ocr_confidence: float | None = None
    note: str | None = None  # what the reader says about this page (OCR could not read it reliably, gave up, ...)
    # Degrees clockwise OCR turned a sideways or upside-down scan to read it: the boxes are on the turned page.
    rotation: int = 0

    @property
    def text(self) -> str:
        """The page's text, one line per line."""
        return "\n".join(line.text for line in self.lines)


@dataclass(frozen=True)
class LetterText:
    """A whole letter as text: its pages, and whether OCR read any of them."""

    pages: tuple[Page, ...]

    @property
    def ocr_used(self) -> bool:
        """Whether any page was read by OCR."""
        return any(page.ocr_used for page in self.pages)

    @property
    def ocr_confidence(self) -> float | None:
        """The lowest page confidence among the pages OCR read (the weakest page is the one to check)."""
        scores = [p.ocr_confidence for p in self.pages if p.ocr_used and p.ocr_confidence is not None]
        return min(scores) if scores else None

    @property
    def lines(self) -> tuple[Line, ...]:
        """Every line of every page, in order."""
        return tuple(line for page in self.pages for line in page.lines)


@dataclass(frozen=True)
class Source:
    """The line a value was read from."""

    page: int
    text: str
    box: Box | None = None

    @classmethod
    def of(cls, line: Line) -> Source:
        """The source that a line is."""
        return cls(page=line.page, text=line.text, box=line.box)


@dataclass(frozen=True)
class Found(Generic[T]):
    """A value read from the letter, with the line it came from."""

    value: T
    source: Source


@dataclass(frozen=True)
class Service:
    """A service the letter decides: its code system (a FHIR system URI), code, and units when stated."""

    system: str
    code: str
    units: int | None = None


@dataclass(frozen=True)
class Window:
    """A time the letter gives (for the P2P request): its amount and unit, and the words it says it in."""

    amount: int
    unit: str  # hours | calendar-days | business-days
    text: str


@dataclass(frozen=True)
class LetterFields:
    """What a person reads off a denial letter; each field ``None`` when the letter does not say it."""

    payer: Found[str] | None = None
    delegate: Found[str] | None = None  # the utilization-management vendor deciding for the payer (eviCore, ...)
    member_id: Found[str] | None = None
    patient_name: Found[str] | None = None
    birth_date: Found[date] | None = None
    reference: Found[str] | None = None
    decided_at: Found[datetime | date] | None = None  # a datetime when the letter gives the time
    services: tuple[Found[Service], ...] = ()
    reason_text: Found[str] | None = None  # verbatim, possibly joined from several lines of one paragraph
    policy_title: Found[str] | None = None
    policy_id: Found[str] | None = None
    policy_section: Found[str] | None = None
    p2p_phone: Found[str] | None = None
    p2p_fax: Found[str] | None = None
    p2p_portal: Found[str] | None = None
    p2p_window: Found[Window] | None = None
    reviewer_name: Found[str] | None = None
    reviewer_credentials: Found[str] | None = None
    reviewer_specialty: Found[str] | None = None
    appeal_deadline: Found[date] | None = None  # printed, or computed from the period the letter states and its date
    decision: Found[str] | None = None  # denied | pended | partial: what the letter decides
    notes: tuple[str, ...] = field(default=())  # what the reader noticed (a page it could not read, ...)


@dataclass(frozen=True)
class LetterReading:
    """A letter read: the fields found and the text they were found in."""

    fields: LetterFields
    text: LetterText
