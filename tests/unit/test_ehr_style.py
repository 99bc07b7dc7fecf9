"""The EHR's style (smart_style_url) becomes CSS variables; anything that is not plainly a color, size or font
name is dropped, and only the EHR's own origin is fetched."""

from __future__ import annotations

from smart_app.web.ehr_style import _allowed, css_from_style


def test_style_values_become_css_variables() -> None:
    css = css_from_style(
        {
            "color_background": "#edeae3",
            "color_text": "rgb(20, 20, 20)",
            "color_highlight": "#69b5ce",
            "dim_font_size": "13px",
            "font_family_body": "Georgia, Times, 'Times New Roman', serif",
        }
    )
    assert "--bg: #edeae3;" in css and "--ink: rgb(20, 20, 20);" in css and "--accent: #69b5ce;" in css
    assert "font-family: Georgia, Times, 'Times New Roman', serif;" in css
    assert "font-size: var(--font-size)" in css


def test_injection_attempts_are_dropped() -> None:
    css = css_from_style(
        {
            "color_background": "red; } body { background: url(https://evil.example/x) ",
            "color_text": "expression(alert(1))",
            "font_family_body": "x; } @import url(https://evil.example/a.css); {",
            "dim_font_size": "12px; background:url(x)",
        }
    )
    assert css == ""
    assert css_from_style("not a document") == ""


def test_only_the_ehrs_own_origin_is_fetched() -> None:
    iss = "https://ehr.example.org/fhir"
    assert _allowed("https://ehr.example.org/styles/smart.json", iss, [])
    assert not _allowed("https://attacker.example/style.json", iss, [])
    assert _allowed("https://cdn.example.org/s.json", iss, ["https://cdn.example.org"])
    assert not _allowed("file:///etc/passwd", iss, [])
