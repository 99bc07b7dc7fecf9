"""Render the printable brief (HTML with its print stylesheet inlined, and PDF through WeasyPrint), no web server.

The brief must print on exactly one US Letter page. When it does not fit, it is shortened in a stated order,
one step at a time, and never by dropping a criterion:
1. evidence summaries and notes are cut with "…"; 2. older treatments are folded into a count ("N earlier");
3. the type gets smaller; 4. fewer evidence items per criterion ("+N more"); 5. the payer's reason text is cut
(the full text stays in the chart and on the screen); 6. criterion texts are cut; 7. smaller still, with tighter
cuts; 8. the criteria's notes are left out (the statuses and the first evidence stay).
The call script prints as its own page.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from smart_app.content import content_dir

# Each level keeps the previous level's cuts and adds one. ``None`` means no limit.
FIT_LEVELS: tuple[dict[str, Any], ...] = (
    {"evidence": None, "note": None, "treatments": None, "reason": None, "evidence_items": 6, "criterion": None},
    {"evidence": 120, "note": 90, "treatments": None, "reason": None, "evidence_items": 6, "criterion": None},
    {"evidence": 120, "note": 90, "treatments": 6, "reason": None, "evidence_items": 6, "criterion": None},
    {
        "evidence": 100,
        "note": 70,
        "treatments": 6,
        "reason": None,
        "evidence_items": 6,
        "criterion": None,
        "dense": True,
    },
    {
        "evidence": 90,
        "note": 60,
        "treatments": 5,
        "reason": None,
        "evidence_items": 3,
        "criterion": None,
        "dense": True,
    },
    {"evidence": 80, "note": 50, "treatments": 4, "reason": 600, "evidence_items": 2, "criterion": None, "dense": True},
    {"evidence": 60, "note": 40, "treatments": 3, "reason": 400, "evidence_items": 1, "criterion": 130, "dense": True},
    {"evidence": 48, "note": 30, "treatments": 3, "reason": 300, "evidence_items": 1, "criterion": 100, "denser": True},
    {
        "evidence": 40,
        "note": None,
        "treatments": 2,
        "reason": 240,
        "evidence_items": 1,
        "criterion": 80,
        "denser": True,
        "hide_notes": True,
    },
)
#: Cuts of the lines every level past 0 shortens; level 0 prints everything whole, so nothing is cut while the page
#: still has room.
COMMON = {"basis": 160, "line": 330, "outcome": 70, "citation": 190, "say": 260, "dose": 50, "schedule": 110}
WHOLE = dict.fromkeys(COMMON)


@cache
def environment() -> Environment:
    """The Jinja environment of the printable templates (autoescaped HTML)."""
    return Environment(loader=FileSystemLoader(str(content_dir("templates"))), autoescape=select_autoescape(["html"]))


def print_css() -> str:
    """The print stylesheet (US Letter, compact)."""
    return (content_dir("templates") / "static" / "print.css").read_text(encoding="utf-8")


def fit_settings(level: int) -> dict[str, Any]:
    """The shortening settings of one fit level (0 = nothing shortened)."""
    common = WHOLE if level == 0 else COMMON
    return {"level": level, "dense": False, "denser": False, "hide_notes": False, **common, **FIT_LEVELS[level]}


def render_print_html(brief: dict[str, Any], denial_index: int = 0, *, level: int = 0) -> str:
    """The brief for one denial as a self-contained HTML page (stylesheet inlined), at a fit level."""
    template = environment().get_template("brief_print.html")
    return template.render(
        brief=brief, denial=brief["denials"][denial_index], inline_css=print_css(), fit=fit_settings(level)
    )


def render_script_html(brief: dict[str, Any], denial_index: int = 0) -> str:
    """The call script for one denial as its own printable page."""
    template = environment().get_template("script_print.html")
    return template.render(brief=brief, denial=brief["denials"][denial_index], inline_css=print_css())


def _pdf(html: str) -> tuple[bytes, int]:
    from weasyprint import HTML  # Pango loads on first import (~0.5 s): only when a PDF is asked for

    document = HTML(string=html).render()
    return document.write_pdf(), len(document.pages)


def html_to_pdf(html: str) -> bytes:
    """Any self-contained printable page as a PDF (WeasyPrint)."""
    return _pdf(html)[0]


class DoesNotFit(ValueError):
    """The brief overflows one page even at the tightest level (only the practice's additions can cause this)."""


def render_pdf_fitted(brief: dict[str, Any], denial_index: int = 0) -> tuple[bytes, int]:
    """The brief as a one-page PDF and the fit level it needed; ``DoesNotFit`` rather than a second page."""
    for level in range(len(FIT_LEVELS)):
        pdf, pages = _pdf(render_print_html(brief, denial_index, level=level))
        if pages == 1:
            return pdf, level
    raise DoesNotFit(f"the brief needs {pages} pages even with every shortening step applied")


def render_pdf(brief: dict[str, Any], denial_index: int = 0) -> bytes:
    """The brief for one denial as a one-page PDF."""
    return render_pdf_fitted(brief, denial_index)[0]


def render_script_pdf(brief: dict[str, Any], denial_index: int = 0) -> bytes:
    """The call script as PDF (its own page)."""
    return _pdf(render_script_html(brief, denial_index))[0]


def render_text(brief: dict[str, Any], denial_index: int = 0) -> str:
    """The brief as plain text, for an EHR that files notes only as ``text/plain``."""
    template = environment().get_template("brief_print.txt")
    return template.render(brief=brief, denial=brief["denials"][denial_index])
