"""``p2p-brief letter FILE`` and ``p2p-brief brief BUNDLE --letter FILE``: output, exit codes and messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from letter_files import LETTERS

from smart_app.cli import main
from smart_app.content import content_dir

DEMO = content_dir("fhir") / "demo"


def test_letter_text_lists_each_field_with_its_page_and_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["letter", str(LETTERS / "uhc-lumbar-mri.pdf")]) == 0
    out = capsys.readouterr().out
    assert "Member ID:      984213657\n                page 1: 'Member ID  984213657'\n" in out
    assert "Appeal by:      2027-05-19\n                page 2: " in out
    assert "P2P fax:        (not found)\n" in out
    assert out.rstrip().endswith("OCR: not needed")


def test_letter_json_is_the_contract(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["letter", str(LETTERS / "humana-knee-tka-pended.pdf"), "--format", "json"]) == 0
    contract = json.loads(capsys.readouterr().out)
    assert contract["decision"]["value"] == "pended"
    assert contract["p2p"]["window"]["value"]["amount"] == 14
    assert contract["appealDeadline"] is None


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.pdf", b"just some notes", "notes.pdf: it is plain text, not a PDF or a PNG, JPEG or TIFF image"),
        ("blank.pdf", None, "blank.pdf: no text was found on its 1 page: the letter looks blank"),
    ],
)
def test_unreadable_letter_exits_1_with_one_line_naming_the_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str, content: bytes | None, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content if content is not None else (LETTERS / "bad" / "blank.pdf").read_bytes())
    assert main(["letter", str(path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == f"p2p-brief: {tmp_path}/{message}\n"


def test_missing_letter_file_exits_1(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["letter", str(tmp_path / "nope.pdf")]) == 1
    assert (
        capsys.readouterr().err == f"p2p-brief: {tmp_path / 'nope.pdf'}: cannot be read (No such file or directory)\n"
    )


def test_brief_against_the_letter_on_its_demo_chart(capsys: pytest.CaptureFixture[str]) -> None:
    letter = LETTERS / "uhc-lumbar-mri-scan.pdf"  # the faxed scan: OCR all the way to the brief
    args = ["brief", str(DEMO / "lumbar-mri.json"), "--letter", str(letter), "--today", "2026-11-21"]
    assert main(args) == 0
    (denial,) = json.loads(capsys.readouterr().out)["denials"]
    assert denial["id"] == "letter-uhc-lumbar-mri-scan" and denial["fromLetter"] is True
    assert denial["service"]["code"] == "72148" and denial["preAuthRef"] == "A265903318"
    assert denial["payer"]["name"] == "UnitedHealthcare" and denial["category"] == "medical-necessity"
    assert denial["p2pWindow"]["basis"].startswith("the letter says “within 2 business days”")
    assert denial["policy"] is not None and denial["criteria"]


def test_brief_refuses_a_letter_for_another_patient_saying_which_field(capsys: pytest.CaptureFixture[str]) -> None:
    letter = LETTERS / "humana-knee-tka-pended.pdf"
    assert main(["brief", str(DEMO / "lumbar-mri.json"), "--letter", str(letter)]) == 1
    assert capsys.readouterr().err == (
        f"p2p-brief: {letter}: is not for the patient in {DEMO / 'lumbar-mri.json'}: the letter's patient name "
        "“Harold J. Brightwater” is not Raymond T. Quillfeather; the letter's birth date 1958-04-03 is not 1974-03-14\n"
    )
