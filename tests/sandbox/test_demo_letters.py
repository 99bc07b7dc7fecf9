"""The demo's denial letters: each prints every field its expected JSON names, matches the demo chart it is about on
any day the demo runs, has a scan that looks faxed (no text, 200 dpi, crooked), and the committed copies in
tests/data/letters/ are exactly what the generator makes today."""

from __future__ import annotations

import io
import json
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
from PIL import Image
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from smart_app.content import content_dir
from smart_app.fhir.systems import SYSTEMS
from smart_app.sandbox.bad_letters import BAD_LETTERS, long_letter
from smart_app.sandbox.demo_dates import dated_for, written_as_of
from smart_app.sandbox.demo_letters import (
    degrade,
    expected_fields,
    fax_header,
    letter_specs,
    main,
    render_letter,
    scan_letter,
    shift_days_for,
)

LETTERS = Path(__file__).resolve().parent.parent / "data" / "letters"
SPECS = {spec["id"]: spec for spec in letter_specs()}
IDS = sorted(SPECS)
WINDOW_WORDS = {"business-days": "business days", "calendar-days": "calendar days", "hours": "hours"}


def pdf_text(pdf: bytes) -> str:
    """The PDF's text as one line: a line ending in a hyphen continues the word (``peer-`` / ``to-peer``)."""
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return " ".join(re.sub(r"-\s*\n\s*", "-", text).split())


def date_forms(value: str) -> list[str]:
    """The ways the letters print a date: ``November 20, 2026``, ``Nov 20, 2026``, ``11/20/2026``."""
    day = date.fromisoformat(value[:10])
    return [f"{day:%B} {day.day}, {day.year}", f"{day:%b} {day.day}, {day.year}", f"{day:%m/%d/%Y}"]


def printed_values(expected: dict[str, Any]) -> list[str]:
    """Every expected value that the letter prints as it is (dates and windows are checked in their own words)."""
    values = [expected[k] for k in ("payer", "delegate", "memberId", "patientName", "reference", "reasonText")]
    for group, keys in (("policyCited", ("title", "id", "section")), ("p2p", ("phone", "fax", "portal"))):
        values += [(expected[group] or {}).get(k) for k in keys]
    values += list((expected["reviewer"] or {}).values())
    values += [service["code"] for service in expected["services"]]
    return [v for v in values if v]


def chart(name: str) -> dict[str, Any]:
    bundle: dict[str, Any] = json.loads((content_dir("fhir") / "demo" / f"{name}.json").read_text(encoding="utf-8"))
    return bundle


def resources(bundle: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f"{e['resource']['resourceType']}/{e['resource']['id']}": e["resource"] for e in bundle["entry"]}


@pytest.fixture(scope="module")
def rendered() -> dict[str, bytes]:
    return {letter_id: render_letter(spec) for letter_id, spec in SPECS.items()}


def test_the_required_kinds_of_letter_are_all_there() -> None:
    payers = {(spec["payer"], spec["delegate"]) for spec in SPECS.values()}
    assert {("UnitedHealthcare", None), ("Aetna", None), ("Cigna Healthcare", "eviCore healthcare")} <= payers
    assert ("Anthem Blue Cross and Blue Shield", "Carelon Medical Benefits Management") in payers
    assert any("Medicare Advantage" in s["plan"] and s["decision"] == "denied" for s in SPECS.values())
    assert any("Medicaid" in s["plan"] for s in SPECS.values())
    assert any(s["decision"] == "pended" and s["p2p"]["window"] == {"amount": 14, "unit": "calendar-days"}
               for s in SPECS.values())  # fmt: skip
    assert any("administrative" in s["reason"] for s in SPECS.values())
    assert len(SPECS) >= 8


@pytest.mark.parametrize("letter_id", IDS)
def test_the_text_pdf_prints_every_expected_value(letter_id: str, rendered: dict[str, bytes]) -> None:
    spec, expected = SPECS[letter_id], expected_fields(SPECS[letter_id])
    text = pdf_text(rendered[letter_id])
    for value in printed_values(expected):
        assert value in text, f"{letter_id}: {value!r} is not printed"
    assert any(form in text for form in date_forms(expected["birthDate"]))
    assert any(form in text for form in date_forms(expected["decidedAt"]))
    if "T" in expected["decidedAt"]:
        hour, minute = int(expected["decidedAt"][11:13]), expected["decidedAt"][14:16]
        assert f"{hour % 12 or 12}:{minute}" in text
    if expected["p2p"] and expected["p2p"]["window"]:
        window = expected["p2p"]["window"]
        assert f"within {window['amount']} {WINDOW_WORDS[window['unit']]}" in text
    if spec["appeal"] and "within" in spec["appeal"]:
        assert f"within {spec['appeal']['within']} calendar days" in text
    elif spec["appeal"]:
        assert any(form in text for form in date_forms(expected["appealDeadline"]))
    assert all(service["system"] in SYSTEMS.values() for service in expected["services"])


@pytest.mark.parametrize("letter_id", IDS)
def test_each_letter_is_about_its_demo_patient(letter_id: str) -> None:
    """Name and birth date as on the chart; where the chart holds the same request, member id, service, reference and
    decision time as the chart's; where the chart's coverage is the letter's payer, its member id."""
    spec = SPECS[letter_id]
    expected, bundle = expected_fields(spec), resources(chart(spec["chart"]))
    patient = next(r for r in bundle.values() if r["resourceType"] == "Patient")
    name = patient["name"][0]
    assert expected["patientName"] == " ".join([*name["given"], name["family"]])
    assert expected["birthDate"] == patient["birthDate"]
    coverage = next(r for r in bundle.values() if r["resourceType"] == "Coverage")
    insurer = bundle[coverage["payor"][0]["reference"]]["name"]
    if insurer == spec["payer"]:
        assert expected["memberId"] == coverage["subscriberId"]
    if spec["chartDenial"]:
        answer = bundle[spec["chartDenial"]]
        claim = bundle[answer["request"]["reference"]]
        assert expected["memberId"] == coverage["subscriberId"]
        assert expected["decidedAt"] == answer["created"]
        assert " ".join(answer["processNote"][0]["text"].split()) == expected["reasonText"]
        coding = claim["item"][0]["productOrService"]["coding"][0]
        assert [(s["system"], s["code"]) for s in expected["services"]] == [(coding["system"], coding["code"])]
        numbers = json.dumps(answer)
        assert f'"{expected["reference"]}"' in numbers


def test_a_letter_dated_for_any_day_still_matches_its_chart() -> None:
    """The letters use the charts' anchor: on a later day, birth date and decision move exactly as the chart's do."""
    today = date(2027, 3, 2)
    for spec in SPECS.values():
        bundle = chart(spec["chart"])
        assert written_as_of(bundle) == date(2026, 11, 23)
        dated = resources(dated_for(bundle, today))
        expected = expected_fields(spec, shift_days=shift_days_for(today))
        patient = next(r for r in dated.values() if r["resourceType"] == "Patient")
        assert expected["birthDate"] == patient["birthDate"]
        if spec["chartDenial"]:
            assert expected["decidedAt"] == dated[spec["chartDenial"]]["created"]
    assert shift_days_for(date(2026, 11, 23)) == 0


def test_shift_days_moves_the_printed_dates_and_the_expected_json_together() -> None:
    spec = SPECS["uhc-lumbar-mri"]
    before, after = expected_fields(spec), expected_fields(spec, shift_days=30)
    moved = {k for k in before if before[k] != after[k]}
    assert moved == {"birthDate", "decidedAt", "appealDeadline"}
    for key in moved:
        assert date.fromisoformat(after[key][:10]) - date.fromisoformat(before[key][:10]) == timedelta(days=30)
    assert after["decidedAt"][10:] == before["decidedAt"][10:]  # time of day and offset kept
    text = pdf_text(render_letter(spec, shift_days=30))
    assert "December 20, 2026" in text and "November 20, 2026" not in text
    assert "04/13/1974" in text
    assert after["reasonText"] in text


def test_a_faxed_letter_carries_the_sending_machines_line_dated_with_it() -> None:
    spec = SPECS["aetna-ra-adalimumab"]
    line = "NOV-19-2026 10:31  FROM: AETNA PRECERT 8605550193   TO: 7175550184   P.{page:03}/{pages:03}"
    assert fax_header(spec) == line
    assert fax_header(spec, shift_days=30).startswith("DEC-19-2026 10:31  FROM:")
    assert fax_header(SPECS["uhc-lumbar-mri"]) is None


def test_rendering_and_scanning_are_deterministic(rendered: dict[str, bytes]) -> None:
    spec = SPECS["aetna-ra-adalimumab"]
    assert render_letter(spec) == rendered["aetna-ra-adalimumab"]
    assert degrade(rendered["aetna-ra-adalimumab"], seed=7) == degrade(rendered["aetna-ra-adalimumab"], seed=7)
    assert degrade(rendered["aetna-ra-adalimumab"], seed=7) != degrade(rendered["aetna-ra-adalimumab"], seed=8)


def skew_degrees(pdf: bytes) -> float:
    """The angle that makes the page's text lines straightest (sharpest row profile), at 100 dpi."""
    document = pdfium.PdfDocument(pdf)
    page = document[0].render(scale=100 / 72, grayscale=True).to_pil().convert("L")
    document.close()

    def sharpness(angle: float) -> float:
        rows = list(page.rotate(angle, fillcolor=255).resize((1, page.height), Image.Resampling.BOX).tobytes())
        mean = sum(rows) / len(rows)
        return sum((r - mean) ** 2 for r in rows)

    best = max((a / 4 for a in range(-14, 15)), key=sharpness)
    return -best


@pytest.mark.parametrize("letter_id", IDS)
def test_the_scan_is_an_image_at_200_dpi_with_no_text_and_rotated(letter_id: str) -> None:
    scan = (LETTERS / f"{letter_id}-scan.pdf").read_bytes()
    reader = PdfReader(io.BytesIO(scan))
    assert all(not page.extract_text().strip() for page in reader.pages)
    page = reader.pages[0]
    (image,) = page.images
    assert image.image.width / float(page.mediabox.width) * 72 == pytest.approx(200, abs=1)
    assert image.image.mode in ("L", "1")
    assert 0.75 <= abs(skew_degrees(scan)) <= 2.75
    assert len(scan) < 300_000


def test_the_scans_lean_differently() -> None:
    angles = {round(skew_degrees((LETTERS / f"{i}-scan.pdf").read_bytes()), 2) for i in IDS[:4]}
    assert len(angles) > 1


@pytest.mark.parametrize("letter_id", IDS)
def test_committed_letters_are_what_the_generator_makes(letter_id: str, rendered: dict[str, bytes]) -> None:
    """PDF bytes depend on the installed fonts, so the text PDF is compared by its text and pages; the scan is made
    from the committed text PDF and must be byte-identical; the expected JSON exactly."""
    spec = SPECS[letter_id]
    committed = (LETTERS / f"{letter_id}.pdf").read_bytes()
    assert pdf_text(committed) == pdf_text(rendered[letter_id])
    assert len(PdfReader(io.BytesIO(committed)).pages) == len(PdfReader(io.BytesIO(rendered[letter_id])).pages)
    scan = scan_letter(committed, spec)
    assert (LETTERS / f"{letter_id}-scan.pdf").read_bytes() == scan
    assert json.loads((LETTERS / f"{letter_id}.expected.json").read_text(encoding="utf-8")) == expected_fields(spec)


def test_every_committed_file_has_a_letter() -> None:
    names = {p.name for p in LETTERS.iterdir() if p.is_file() and p.name != "SOURCES.md"}
    assert names == {f"{i}{suffix}" for i in IDS for suffix in (".pdf", "-scan.pdf", ".expected.json")}


def test_the_bad_letters_are_what_the_generator_makes() -> None:
    for name, make in BAD_LETTERS.items():
        assert (LETTERS / "bad" / name).read_bytes() == make()
    blank = PdfReader(LETTERS / "bad" / "blank.pdf")
    assert len(blank.pages) == 1 and not blank.pages[0].extract_text().strip()
    noise = PdfReader(LETTERS / "bad" / "unreadable-scan.pdf")
    assert len(noise.pages) == 1 and len(noise.pages[0].images) == 1
    with pytest.raises(PdfReadError):
        PdfReader(LETTERS / "bad" / "not-a-pdf.pdf")


def test_a_forty_page_letter_is_made_at_test_time() -> None:
    letter = long_letter((LETTERS / "uhc-lumbar-mri.pdf").read_bytes(), pages=40)
    assert len(PdfReader(io.BytesIO(letter)).pages) == 40


def test_the_command_writes_a_letter_its_scan_and_its_fields(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["--out", str(tmp_path), "--id", "cigna-evicore-nuclear-stress", "--today", "2026-12-23"]) == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [f"cigna-evicore-nuclear-stress{s}" for s in ("-scan.pdf", ".expected.json", ".pdf")]
    fields = json.loads((tmp_path / "cigna-evicore-nuclear-stress.expected.json").read_text(encoding="utf-8"))
    assert fields["decidedAt"] == "2026-12-17T13:26:00-05:00"
    assert "cigna-evicore-nuclear-stress.pdf" in capsys.readouterr().out


def test_the_command_names_an_unknown_letter(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--out", str(tmp_path), "--id", "no-such-letter"])
    assert exit_.value.code == 2
    assert "unknown letter id no-such-letter" in capsys.readouterr().err
