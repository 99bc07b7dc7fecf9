"""Render a drafted letter (plain text) as a printable page and a PDF, to fax or print; no web server."""

from __future__ import annotations

import re
from typing import Any

from smart_app.brief.render import environment, html_to_pdf, print_css

PLACEHOLDER = re.compile(r"(\[[^\]\n]{2,200}\])")


def split_placeholders(paragraph: str) -> list[dict[str, Any]]:
    """The paragraph in parts, each bracketed blank ("[direct callback number — fill in]") marked as such."""
    return [
        {"text": part, "placeholder": bool(PLACEHOLDER.fullmatch(part))}
        for part in PLACEHOLDER.split(paragraph)
        if part
    ]


def render_draft_html(title: str, text: str) -> str:
    """The draft as a self-contained printable page: its paragraphs as written, placeholders highlighted."""
    env = environment()
    env.filters.setdefault("split_placeholders", split_placeholders)
    template = env.get_template("draft_print.html")
    return template.render(title=title, paragraphs=text.strip().split("\n\n"), inline_css=print_css())


def render_draft_pdf(title: str, text: str) -> bytes:
    """The draft as a PDF."""
    return html_to_pdf(render_draft_html(title, text))
