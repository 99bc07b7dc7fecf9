"""Charts drawn on the server as SVG: no script, no font or file fetched at run time. Every chart sits beside a
table with its numbers (the accessible version), and its own ``<title>`` and ``<desc>`` say what it shows."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from smart_app.practice.rates import Rate

BAR_HEIGHT = 22
GAP = 8
LABEL_WIDTH = 210
BAR_WIDTH = 300
VALUE_WIDTH = 130


def overturn_chart(rates: Sequence[Rate], title: str) -> Markup:
    """Horizontal bars of the overturn rate per group, each labelled with its percentage and count."""
    shown = [r for r in rates if r.held]
    height = max(1, len(shown)) * (BAR_HEIGHT + GAP) + GAP
    width = LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" aria-labelledby="{_id(title)}-t {_id(title)}-d">',
        f'<title id="{_id(title)}-t">{escape(title)}</title>',
        f'<desc id="{_id(title)}-d">Overturned calls as a share of calls held, per group; '
        "the same numbers are in the table that follows.</desc>",
    ]
    if not shown:
        parts.append(f'<text x="0" y="{BAR_HEIGHT}" font-size="13" fill="#4b5563">No calls held yet.</text>')
    for i, rate in enumerate(shown):
        y = GAP + i * (BAR_HEIGHT + GAP)
        filled = round(BAR_WIDTH * (rate.overturn_rate or 0))
        parts += [
            f'<text x="{LABEL_WIDTH - 8}" y="{y + BAR_HEIGHT - 6}" font-size="13" text-anchor="end" '
            f'fill="#1f2933">{escape(_short(rate.group))}</text>',
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{BAR_WIDTH}" height="{BAR_HEIGHT}" fill="#e5e7eb"/>',
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{filled}" height="{BAR_HEIGHT}" fill="#1d6b3a"/>',
            f'<text x="{LABEL_WIDTH + BAR_WIDTH + 8}" y="{y + BAR_HEIGHT - 6}" font-size="13" '
            f'fill="#1f2933">{escape(rate.rate_text)}</text>',
        ]
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above went through escape(); the rest are numbers


def _short(text: str, limit: int = 26) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _id(title: str) -> str:
    return "c-" + "".join(ch if ch.isalnum() else "-" for ch in title.lower())[:40]
