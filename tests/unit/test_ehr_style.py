"""The EHR's style (smart_style_url) becomes CSS variables; anything that is not plainly a color, size or font
name is dropped, and only the EHR's own origin is fetched."""

from __future__ import annotations

import responses

from smart_app.web.ehr_style import _allowed, css_from_style


def test_style_values_become_css_variables() -> None:
    css = css_from_style(
        {
            "color_background": "#edeae3",
            "color_text": "#141414",
            "color_highlight": "#69b5ce",
            "dim_font_size": "13px",
            "font_family_body": "Georgia, Times, 'Times New Roman', serif",
        }
    )
    assert "--bg: #edeae3;" in css and "--ink: #141414;" in css and "--accent: #69b5ce;" in css
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


def test_unreadable_ehr_colours_are_not_applied() -> None:
    css = css_from_style({"color_background": "#ffffff", "color_text": "#dddddd", "color_highlight": "#0b5cad"})
    assert "--ink" not in css and "--bg" not in css and "--accent: #0b5cad;" in css


@responses.activate
def test_a_redirect_away_from_the_ehr_is_not_followed() -> None:
    from smart_app.web import ehr_style

    ehr_style._cache.clear()
    responses.add(
        responses.GET, "https://ehr.example.org/style.json", status=302, headers={"Location": "https://evil.example/x"}
    )
    responses.add(responses.GET, "https://evil.example/x", json={"color_highlight": "#000000"})
    assert ehr_style._fetch("https://ehr.example.org/style.json", 1.0) == ""
    assert [c.request.url for c in responses.calls] == ["https://ehr.example.org/style.json"]


@responses.activate
def test_an_oversized_style_document_is_ignored() -> None:
    from smart_app.web import ehr_style

    ehr_style._cache.clear()
    big = '{"color_highlight": "#0b5cad", "pad": "' + "x" * 70_000 + '"}'
    responses.add(responses.GET, "https://ehr.example.org/big.json", body=big, content_type="application/json")
    assert ehr_style._fetch("https://ehr.example.org/big.json", 1.0) == ""
    responses.add(responses.GET, "https://ehr.example.org/ok.json", json={"color_highlight": "#0b5cad"})
    assert "--accent: #0b5cad;" in ehr_style._fetch("https://ehr.example.org/ok.json", 1.0)
