"""WCAG 2.1 AA contrast (4.5:1 for text) for every text/background pair the stylesheet uses."""

from __future__ import annotations

import re

import pytest

from smart_app.content import content_dir

CSS = (content_dir("templates") / "static" / "app.css").read_text()
VARS = {
    name: value if len(value) == 7 else "#" + "".join(c * 2 for c in value[1:])
    for name, value in re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6}|#[0-9a-fA-F]{3})\b", CSS)
}


def _luminance(hex_color: str) -> float:
    channels = [int(hex_color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _ratio(foreground: str, background: str) -> float:
    high, low = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


PAIRS = [
    ("ink", "card"), ("ink", "bg"), ("muted", "card"), ("muted", "bg"), ("accent", "card"), ("warn", "warn-bg"),
    ("bad", "bad-bg"), ("ok", "ok-bg"), ("bad", "card"),
]  # fmt: skip
FIXED = [("#ffffff", "#123a5e"), ("#4b2a7a", "#ece4f7"), ("#4b2a7a", "#ffffff"), ("#ffffff", VARS["accent"])]


@pytest.mark.parametrize(("fg", "bg"), PAIRS)
def test_variable_pairs_meet_aa(fg: str, bg: str) -> None:
    assert _ratio(VARS[fg], VARS[bg]) >= 4.5, f"{fg} on {bg}: {_ratio(VARS[fg], VARS[bg]):.2f}"


@pytest.mark.parametrize(("fg", "bg"), FIXED)
def test_fixed_pairs_meet_aa(fg: str, bg: str) -> None:
    assert _ratio(fg, bg) >= 4.5
    assert f"{fg[1:]}" in CSS.lower() or fg == "#ffffff"  # the colour really is in the stylesheet
