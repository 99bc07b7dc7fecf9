"""Render the printable brief (HTML with its print stylesheet inlined, and PDF through WeasyPrint), no web server."""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from smart_app.content import content_dir


@cache
def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(str(content_dir("templates"))), autoescape=select_autoescape(["html"]))


def print_css() -> str:
    """The print stylesheet (US Letter page, one column)."""
    return (content_dir("templates") / "static" / "print.css").read_text(encoding="utf-8")


def render_print_html(brief: dict[str, Any], denial_index: int = 0) -> str:
    """The brief for one denial as a self-contained HTML page (stylesheet inlined)."""
    template = _environment().get_template("brief_print.html")
    return template.render(brief=brief, denial=brief["denials"][denial_index], inline_css=print_css())


def render_pdf(brief: dict[str, Any], denial_index: int = 0) -> bytes:
    """The brief for one denial as PDF bytes."""
    from weasyprint import HTML  # Pango loads on first import (~0.5 s): only when a PDF is asked for

    return HTML(string=render_print_html(brief, denial_index)).write_pdf()
