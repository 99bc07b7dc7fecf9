"""Practices sharing one EHR: a user's worklist, exports, rates and case actions cover only the practices the EHR
links them to (their PractitionerRoles); another practice's case reads as absent; a user linked to no practice is
told why, and sees nothing."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator

import pytest
import requests
from pairs import Pair, start_pair

PATIENTS = ("pat-lumbar-mri", "pat-knee-tka", "pat-ra-tnf", "pat-glp1-t2dm")


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    pair = start_pair(tmp_path_factory.mktemp("practices"), "p2p-practices")
    pair.ehr_flask.extensions["demo_ehr"].store.add_all(
        [{"resourceType": "Practitioner", "id": "no-practice", "name": [{"family": "Unlinked"}]}]
    )
    pair.sign_in_as("demo-clinician")
    browser = requests.Session()
    for patient in PATIENTS:  # the four practices' denials seen at chart launches
        assert browser.get(f"{pair.ehr.url}/launch?patient={patient}", timeout=60).status_code == 200
    yield pair
    pair.stop()


def _worklist(shared: Pair, practitioner: str) -> tuple[requests.Session, requests.Response, str]:
    shared.sign_in_as(practitioner)
    browser = requests.Session()
    page = browser.get(f"{shared.app.url}/launch", params={"iss": f"{shared.ehr.url}/fhir"}, timeout=60)
    match = re.search(r"ctx=([A-Za-z0-9_-]+)", page.url)
    return browser, page, match.group(1) if match else ""


def _case_ids(html: str) -> list[str]:
    return re.findall(r'id="case-(\d+)"', html)


def test_the_group_clinician_sees_all_four_practices(shared: Pair) -> None:
    _, page, _ = _worklist(shared, "demo-clinician")
    assert page.status_code == 200 and len(_case_ids(page.text)) == 4
    assert "Cases of 4 practices in this EHR" in page.text


def test_a_liaison_of_one_practice_sees_only_its_cases(shared: Pair) -> None:
    _, everything, _ = _worklist(shared, "demo-clinician")
    every_id = _case_ids(everything.text)
    browser, page, ctx = _worklist(shared, "demo-liaison-prairie")
    assert page.status_code == 200 and "/worklist?ctx=" in page.url
    (mine,) = _case_ids(page.text)
    assert "Quillfeather" in page.text  # Prairie Family Medicine's lumbar MRI denial
    for name in ("Brightwater", "Lindqvist-Moor", "Fairweather-Ruiz"):  # the other three practices' patients
        assert name not in page.text
    assert "Cases of 1 practice in this EHR" in page.text

    exported = list(csv.DictReader(io.StringIO(browser.get(f"{shared.app.url}/worklist.csv", params={"ctx": ctx},
                                                           timeout=30).text)))  # fmt: skip
    assert [row["patient_id"] for row in exported] == ["pat-lumbar-mri"]
    bundle = json.loads(browser.get(f"{shared.app.url}/worklist.fhir.json", params={"ctx": ctx}, timeout=30).text)
    assert [e["resource"]["for"]["reference"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Task"] \
        == ["Patient/pat-lumbar-mri"]  # fmt: skip
    rates = browser.get(f"{shared.app.url}/rates", params={"ctx": ctx}, timeout=30)
    assert re.search(r"<dt>Cases</dt><dd>1</dd>", rates.text)

    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    for other in (i for i in every_id if i != mine):
        opened = browser.get(f"{shared.app.url}/worklist/{other}/open", params={"ctx": ctx}, timeout=30)
        assert opened.status_code == 404 and "/brief/" not in opened.url
        for action in ("assign", "close"):
            refused = browser.post(f"{shared.app.url}/worklist/{other}/{action}",
                                   data={"ctx": ctx, "csrf": csrf, "assignee": "x"}, timeout=30)  # fmt: skip
            assert refused.status_code == 404
    _, again, _ = _worklist(shared, "demo-clinician")
    rows = again.text.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert "Closed" not in rows and 'value="x"' not in rows  # nothing the liaison tried on another practice landed


def test_a_user_linked_to_no_practice_is_told_why_and_sees_nothing(shared: Pair) -> None:
    _, page, _ = _worklist(shared, "no-practice")
    assert page.status_code == 403
    assert "The EHR lists no practice for your account" in page.text
    assert not _case_ids(page.text) and "Quillfeather" not in page.text


def _hand_entry_form(shared: Pair, practitioner: str) -> tuple[requests.Session, str, str]:
    """A chart launch of the lumbar patient by ``practitioner``; the browser, the launch handle and the form."""
    shared.sign_in_as(practitioner)
    browser = requests.Session()
    chart = browser.get(f"{shared.ehr.url}/launch?patient=pat-lumbar-mri", timeout=60)
    ctx = re.search(r"ctx=([\w-]+)", chart.url).group(1)  # type: ignore[union-attr]
    form = browser.get(f"{shared.app.url}/denials/new", params={"ctx": ctx}, timeout=30)
    assert form.status_code == 200
    return browser, ctx, form.text


def _enter_by_hand(shared: Pair, practitioner: str, reference: str, practice: str | None = None) -> requests.Response:
    browser, ctx, form = _hand_entry_form(shared, practitioner)
    csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    return browser.post(f"{shared.app.url}/denials/new", timeout=30, data={
        "ctx": ctx, "csrf": csrf, "payer": "Aetna", "plan_type": "commercial", "state": "il",
        "service_system": "CPT", "service_code": "72148", "service_display": "MRI lumbar spine",
        "decided_date": "2026-11-20", "decided_time": "09:00", "reference_number": reference,
        "reason_text": "Not medically necessary.", "ordering_physician": "Dr. Priya Nandakumar",
        **({"practice": practice} if practice is not None else {}),
    })  # fmt: skip


def _options(form: str) -> list[tuple[str, str, bool]]:
    select = form.split('name="practice"', 1)[1].split("</select>", 1)[0]
    options = re.findall(r'<option value="([^"]*)"([^>]*)>([^<]*)</option>', select)
    return [(value, name, " selected" in attrs) for value, attrs, name in options]


def test_the_hand_entry_form_asks_which_of_the_users_practices(shared: Pair) -> None:
    _, _, form = _hand_entry_form(shared, "demo-clinician")
    options = _options(form)
    assert options[0] == ("", "Choose one of your 4 practices", False)
    named = {value: name for value, name, _ in options[1:]}
    assert named["Organization/org-lumbar-prairie-family-med"] == "Prairie Family Medicine Associates"
    assert len(named) == 4 and not any(name.startswith("Organization/") for name in named.values())
    assert not any(selected for _, _, selected in options)

    _, _, form = _hand_entry_form(shared, "demo-liaison-prairie")  # one practice: chosen already
    assert _options(form) == [
        ("Organization/org-lumbar-prairie-family-med", "Prairie Family Medicine Associates", True)
    ]


def test_a_hand_entry_without_a_practice_or_with_another_is_refused(shared: Pair) -> None:
    unchosen = _enter_by_hand(shared, "demo-clinician", "FAX-NONE-1")
    assert unchosen.status_code == 400 and "Choose the practice this denial belongs to" in unchosen.text
    assert 'value="FAX-NONE-1"' in unchosen.text  # nothing typed is lost
    stranger = _enter_by_hand(shared, "demo-liaison-prairie", "FAX-NONE-2", "Organization/org-knee-gulfcoast-ortho")
    assert stranger.status_code == 400 and "That practice is not one of yours" in stranger.text


def test_a_denial_entered_by_hand_is_on_the_chosen_practices_worklist(shared: Pair) -> None:
    saved = _enter_by_hand(shared, "demo-liaison-prairie", "FAX-PRAIRIE-1")  # one practice: the case is Prairie's
    assert saved.status_code == 200 and "/brief/hand-" in saved.url
    _, page, _ = _worklist(shared, "demo-liaison-prairie")
    assert len(_case_ids(page.text)) == 2 and "MRI lumbar spine" in page.text

    chosen = "Organization/org-lumbar-prairie-family-med"  # four practices: the one chosen on the form
    saved = _enter_by_hand(shared, "demo-clinician", "FAX-GROUP-1", chosen)
    assert saved.status_code == 200 and "/brief/hand-" in saved.url
    _, page, _ = _worklist(shared, "demo-liaison-prairie")
    assert len(_case_ids(page.text)) == 3
    assert "on nobody's worklist" not in page.text and "names no practice" not in page.text


def test_the_form_says_when_the_ehr_cannot_tell_the_users_practices(shared: Pair) -> None:
    shared.sign_in_as("demo-clinician")
    browser = requests.Session()
    chart = browser.get(f"{shared.ehr.url}/launch?patient=pat-knee-tka", timeout=60)
    ctx = re.search(r"ctx=([\w-]+)", chart.url).group(1)  # type: ignore[union-attr]
    outage = shared.ehr_flask.extensions["demo_ehr"].outage
    outage.begin(503)
    try:
        form = browser.get(f"{shared.app.url}/denials/new", params={"ctx": ctx}, timeout=60)
    finally:
        outage.end()
    assert form.status_code == 200 and 'name="practice"' not in form.text
    assert "Your practices could not be read from the EHR just now" in form.text


def test_a_user_removed_from_a_practice_loses_its_cases_within_minutes(
    shared: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    from smart_app.web import context as web_context

    browser, page, ctx = _worklist(shared, "demo-liaison-prairie")
    assert page.status_code == 200 and "Quillfeather" in page.text
    store = shared.ehr_flask.extensions["demo_ehr"].store
    role = store.get("PractitionerRole", "role-demo-liaison-prairie")
    store.add_all([{**role, "active": False}])  # the EHR ends the liaison's role at Prairie Family Medicine
    try:
        still = browser.get(f"{shared.app.url}/worklist", params={"ctx": ctx}, timeout=60)
        assert still.status_code == 200  # within the few minutes the app trusts what it last asked
        monkeypatch.setattr(web_context, "PRACTICES_FRESH_SECONDS", 0)
        after = browser.get(f"{shared.app.url}/worklist", params={"ctx": ctx}, timeout=60)
        assert after.status_code == 403 and "lists no practice" in after.text and "Quillfeather" not in after.text
    finally:
        store.add_all([role])
