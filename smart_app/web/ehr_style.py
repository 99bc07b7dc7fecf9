"""The EHR's look (SMART ``smart_style_url``): fetch its style JSON on the server, keep only values that are plainly
colors, sizes or font names, and serve them as CSS variables from the app's own origin (the CSP stays 'self').

Only a style URL on the launching EHR's own origin (or a configured EHR origin) is fetched: a token response
cannot make the app request arbitrary addresses.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any
from urllib.parse import urlsplit

import requests
from flask import Blueprint, Response
from flask.typing import ResponseReturnValue

from smart_app.web.context import current_launch, settings

bp = Blueprint("ehr_style", __name__)

COLOR = re.compile(r"^(#[0-9a-fA-F]{3,8}|rgba?\(\s*[\d.\s,%]+\))$")
SIZE = re.compile(r"^\d+(\.\d+)?(px|rem|em|pt)$")
FONT = re.compile(r"^[A-Za-z0-9 ,\-\"']{1,120}$")
VARIABLES = {
    "color_background": ("--bg", COLOR),
    "color_text": ("--ink", COLOR),
    "color_highlight": ("--accent", COLOR),
    "color_error": ("--bad", COLOR),
    "color_success": ("--ok", COLOR),
    "dim_border_radius": ("--radius", SIZE),
    "dim_font_size": ("--font-size", SIZE),
}
CACHE_SECONDS = 600
CACHE_SIZE = 64
MAX_BYTES = 64 * 1024
_cache: dict[str, tuple[float, str]] = {}


def _luminance(color: str) -> float | None:
    if not re.fullmatch(r"#[0-9a-fA-F]{6}", color):
        return None
    channels = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _readable(text: Any, background: Any) -> bool:
    """WCAG AA (4.5:1) for the EHR's text on its background; colours the app cannot measure are not applied."""
    if not isinstance(text, str) or not isinstance(background, str):
        return True
    a, b = _luminance(text.strip()), _luminance(background.strip())
    if a is None or b is None:
        return False
    high, low = max(a, b), min(a, b)
    return (high + 0.05) / (low + 0.05) >= 4.5


def css_from_style(style: Any) -> str:
    """CSS for a SMART style document: variables for the values that pass their pattern, nothing else; text and
    background colours only when together they meet WCAG AA contrast."""
    if not isinstance(style, dict):
        return ""
    if not _readable(style.get("color_text"), style.get("color_background")):
        style = {k: v for k, v in style.items() if k not in ("color_text", "color_background")}
    lines = [
        f"  {name}: {value};"
        for key, (name, pattern) in VARIABLES.items()
        if isinstance(value := style.get(key), str) and pattern.match(value.strip())
    ]
    css = ":root {\n" + "\n".join(lines) + "\n}\n" if lines else ""
    font = style.get("font_family_body")
    if isinstance(font, str) and FONT.match(font):
        css += f"body {{ font-family: {font}; }}\n"
    if "--font-size" in css:
        css += "body { font-size: var(--font-size); }\n"
    return css


def _allowed(url: str, iss: str, origins: list[str]) -> bool:
    target = urlsplit(url)
    if target.scheme not in ("https", "http"):
        return False
    origin = f"{target.scheme}://{target.netloc}"
    own = urlsplit(iss)
    return origin == f"{own.scheme}://{own.netloc}" or origin in origins


def _fetch(url: str, timeout: float) -> str:
    cached = _cache.get(url)
    if cached and time.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1]
    css = ""
    try:
        # no redirects (they could leave the EHR's origin), a small body, JSON only
        with requests.get(
            url, timeout=timeout, allow_redirects=False, stream=True, headers={"Accept": "application/json"}
        ) as response:
            if response.status_code == 200 and "json" in response.headers.get("Content-Type", ""):
                body = response.raw.read(MAX_BYTES + 1, decode_content=True)
                if len(body) <= MAX_BYTES:
                    css = css_from_style(json.loads(body))
    except (requests.RequestException, ValueError):
        css = ""
    if len(_cache) >= CACHE_SIZE:
        _cache.pop(next(iter(_cache)))
    _cache[url] = (time.monotonic(), css)
    return css


@bp.get("/ehr-style.css")
def ehr_style() -> ResponseReturnValue:
    """The EHR's colors and fonts for this launch, as CSS (empty when none, or when the URL is not the EHR's)."""
    context = current_launch(touch=False)  # fetched beside the page: it must not write the session
    url = context.smart_style_url
    css = ""
    if url and _allowed(url, context.iss, settings()["EHR_ORIGINS"]):
        css = _fetch(url, min(settings()["FHIR_TIMEOUT"], 3.0))
    return Response(css, mimetype="text/css", headers={"Cache-Control": "private, max-age=600"})
