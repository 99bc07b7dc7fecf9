"""A patient with denials from two practices: a liaison who opens the patient from their practice's worklist
reaches their own practice's case and nothing of the other practice's (brief, script, case, drafts, letters,
scheduling log, call notes, retries, brief edits all read as absent, and nothing is written to the chart); a chart
launch from inside the EHR still shows every denial of the patient, as before."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from typing import Any

import pytest
import requests
from pairs import Pair, start_pair

PATIENT = "pat-lumbar-mri"
OWN = "cr-lumbar-mri-1"  # Prairie Family Medicine's lumbar MRI denial
OTHER = "cr-lumbar-ortho"  # Gulf Coast Orthopaedics' request for the same patient
UNSEEN = "cr-lumbar-rheum"  # Susquehanna Rheumatology's, added after every launch: the app has not recorded it
CALL = {
    "call_date": "2026-11-23", "start_time": "10:05", "end_time": "10:19", "reviewer_name": "Dr. Dana Whitfield",
    "disposition": "upheld", "notes": "Upheld after review.",
}  # fmt: skip


def _copied_request(pair: Pair, claim_response: str, claim: str, new_id: str) -> None:
    """Another practice's Claim and ClaimResponse, copied onto the lumbar patient under new ids."""
    store = pair.ehr_flask.extensions["demo_ehr"].store
    source_patient = store.get("ClaimResponse", claim_response)["patient"]["reference"]
    text = json.dumps([store.get("Claim", claim), store.get("ClaimResponse", claim_response)])
    text = text.replace(f'"{source_patient}"', f'"Patient/{PATIENT}"')
    text = text.replace(f'"Claim/{claim}"', f'"Claim/c-{new_id}"')
    copied_claim, copied_response = json.loads(text)
    copied_claim["id"], copied_response["id"] = f"c-{new_id}", new_id
    for resource in (copied_claim, copied_response):
        resource.pop("meta", None)
        for identifier in resource.get("identifier") or []:
            identifier["value"] += "-COPY"
    store.add_all([copied_claim, copied_response])


@dataclass
class Seen:
    pair: Pair
    draft: str  # the other practice's drafted request (path)
    note: str  # the other practice's call note (upheld)


def _chart_launch(pair: Pair, practitioner: str) -> tuple[requests.Session, str]:
    pair.sign_in_as(practitioner)
    browser = requests.Session()
    listing = browser.get(f"{pair.ehr.url}/launch?patient={PATIENT}", timeout=60)
    assert listing.status_code == 200
    return browser, re.search(r"ctx=([\w-]+)", listing.url).group(1)  # type: ignore[union-attr]


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


def _notes_in_chart(pair: Pair) -> list[dict[str, Any]]:
    found = requests.get(f"{pair.fhir}/DocumentReference", params={"patient": PATIENT}, timeout=10,
                         headers={"Authorization": "Bearer x", "Accept": "application/fhir+json"})  # fmt: skip
    found.raise_for_status()
    return [e["resource"] for e in found.json().get("entry", [])]


@pytest.fixture(scope="module")
def seen(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seen]:
    pair = start_pair(tmp_path_factory.mktemp("case-practices"), "p2p-case-practices")
    _copied_request(pair, "cr-knee-tka-1", "claim-knee-tka-1", OTHER)
    # The group's clinician (all four practices) works the orthopaedic denial from the chart: a draft and a call.
    browser, ctx = _chart_launch(pair, "demo-clinician")
    case = browser.get(f"{pair.app.url}/case/{OTHER}", params={"ctx": ctx}, timeout=60)
    assert case.status_code == 200
    token = _csrf(case.text)
    drafted = browser.post(f"{pair.app.url}/case/{OTHER}/drafts", data={"ctx": ctx, "csrf": token,
                                                                        "kind": "p2p-request"}, timeout=60)  # fmt: skip
    saved = browser.post(f"{pair.app.url}/outcome/{OTHER}", data={**CALL, "ctx": ctx, "csrf": token}, timeout=60)
    note = re.search(r"note=([0-9a-f-]{36})", saved.url)
    assert drafted.status_code == 200 and note and "/drafts/" in drafted.url
    _copied_request(pair, "cr-ra-adalimumab-1", "claim-ra-adalimumab-1", UNSEEN)
    yield Seen(pair, drafted.url.split("?")[0].removeprefix(pair.app.url), note.group(1))
    pair.stop()


def _liaison_from_worklist(pair: Pair) -> tuple[requests.Session, str, str]:
    """The Prairie liaison's worklist sign-in, and the lumbar patient opened from its row."""
    pair.sign_in_as("demo-liaison-prairie")
    browser = requests.Session()
    worklist = browser.get(f"{pair.app.url}/launch", params={"iss": pair.fhir}, timeout=60)
    ctx = re.search(r"ctx=([\w-]+)", worklist.url).group(1)  # type: ignore[union-attr]
    (row,) = re.findall(r'id="case-(\d+)"', worklist.text)
    opened = browser.get(f"{pair.app.url}/worklist/{row}/open", params={"ctx": ctx}, timeout=60)
    assert opened.status_code == 200 and f"/brief/{OWN}" in opened.url
    patient_ctx = re.search(r"ctx=([\w-]+)", opened.url).group(1)  # type: ignore[union-attr]
    return browser, patient_ctx, _csrf(opened.text)


def test_a_liaison_from_the_worklist_reaches_nothing_of_another_practices_case(seen: Seen) -> None:
    pair, app = seen.pair, seen.pair.app.url
    written_before = _notes_in_chart(pair)
    browser, ctx, csrf = _liaison_from_worklist(pair)
    assert browser.get(f"{app}/case/{OWN}", params={"ctx": ctx}, timeout=60).status_code == 200  # their own case

    listing = browser.get(f"{app}/", params={"ctx": ctx}, timeout=60)
    assert f"/brief/{OWN}" in listing.text and f"/brief/{OTHER}" not in listing.text
    assert "Total knee" not in listing.text and "not shown" in listing.text

    for path in (f"/brief/{OTHER}", f"/brief/{OTHER}.pdf", f"/brief/{OTHER}/script", f"/brief/{OTHER}/script.pdf",
                 f"/case/{OTHER}", seen.draft, f"{seen.draft}.pdf", f"{seen.draft}.txt",
                 f"/case/{OTHER}/letter/{seen.note}", f"/case/{OTHER}/letter/{seen.note}.pdf",
                 f"/brief/{UNSEEN}", f"/case/{UNSEEN}"):  # fmt: skip
        answer = browser.get(app + path, params={"ctx": ctx}, timeout=60)
        assert answer.status_code == 404, path
        assert "That case is not one of your practices' cases." in unescape(answer.text), path
        assert "Whitfield" not in answer.text and "knee" not in answer.text.lower(), path
    for path, form in (
        (f"/case/{OTHER}/log", {"kind": "requested", "at": "2026-11-20T10:00", "channel": "phone"}),
        (f"/case/{OTHER}/drafts", {"kind": "p2p-request"}),
        (f"{seen.draft}/sent", {}),
        (f"/brief/{OTHER}/edits", {"kind": "talking-point", "text": "Mine now"}),
        (f"/outcome/{OTHER}", CALL),
        (f"/outcome/{OTHER}", {**CALL, "replaces": seen.note, "correction_reason": "typo"}),
        (f"/outcome/{OTHER}/retry/{seen.note}", {}),
        (f"/outcome/{UNSEEN}", CALL),
    ):
        answer = browser.post(app + path, data={**form, "ctx": ctx, "csrf": csrf}, timeout=60)
        assert answer.status_code == 404, path
        assert "That case is not one of your practices' cases." in unescape(answer.text), path

    assert _notes_in_chart(pair) == written_before  # the inspector reads no new DocumentReference
    clinician, clinician_ctx = _chart_launch(pair, "demo-clinician")
    case = clinician.get(f"{app}/case/{OTHER}", params={"ctx": clinician_ctx}, timeout=60).text
    assert "Not sent yet." in clinician.get(app + seen.draft, params={"ctx": clinician_ctx}, timeout=60).text
    assert case.count("Dr. Dana Whitfield") >= 1 and "Mine now" not in case and "2026-11-20" not in case


def test_a_chart_launch_still_shows_every_denial_of_the_patient(seen: Seen) -> None:
    """Inside the EHR, the chart decides who sees the patient: the same liaison launched from the chart reaches
    both practices' denials, as before."""
    browser, ctx = _chart_launch(seen.pair, "demo-liaison-prairie")
    listing = browser.get(f"{seen.pair.app.url}/", params={"ctx": ctx}, timeout=60)
    assert f"/brief/{OWN}" in listing.text and f"/brief/{OTHER}" in listing.text
    for path in (f"/case/{OTHER}", f"/brief/{OTHER}", seen.draft):
        assert browser.get(seen.pair.app.url + path, params={"ctx": ctx}, timeout=60).status_code == 200, path


def test_when_the_ehr_cannot_say_the_users_practices_again_the_last_answer_holds(
    seen: Seen, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A call note is never refused for want of the EHR: the practices last asked still open the user's own case
    (and still keep the other practice's closed) while the PractitionerRole search fails."""
    from smart_app.errors import FhirUnreachable
    from smart_app.web import context as web_context

    browser, ctx, _ = _liaison_from_worklist(seen.pair)

    def unreachable(*args: object) -> list[str]:
        raise FhirUnreachable("the EHR did not answer")

    monkeypatch.setattr(web_context, "PRACTICES_FRESH_SECONDS", 0)
    monkeypatch.setattr(web_context, "user_organizations", unreachable)
    assert browser.get(f"{seen.pair.app.url}/case/{OWN}", params={"ctx": ctx}, timeout=60).status_code == 200
    assert browser.get(f"{seen.pair.app.url}/case/{OTHER}", params={"ctx": ctx}, timeout=60).status_code == 404


def test_a_hand_entry_nobody_attributed_is_not_given_to_whoever_opens_the_patient(
    seen: Seen, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The group's clinician (four practices) types a denial while the EHR cannot tell their practices, so it is
    saved with none; the one-practice liaison who then opens the patient from the worklist does not make it theirs
    (their list page used to give it their practice, and from then on its brief and case opened for them)."""
    from smart_app.errors import FhirUnreachable
    from smart_app.web import context as web_context

    def unreachable(*args: object) -> list[str]:
        raise FhirUnreachable("the EHR did not answer")

    pair, app = seen.pair, seen.pair.app.url
    clinician, ctx = _chart_launch(pair, "demo-clinician")
    monkeypatch.setattr(web_context, "user_organizations", unreachable)
    form = clinician.get(f"{app}/denials/new", params={"ctx": ctx}, timeout=30).text
    key = re.search(r'name="form_key" value="([^"]*)"', form)
    saved = clinician.post(f"{app}/denials/new", timeout=30, data={
        "ctx": ctx, "csrf": _csrf(form), "form_key": key.group(1) if key else "", "payer": "Aetna",
        "plan_type": "commercial", "service_system": "CPT", "service_code": "72148", "decided_date": "2026-11-20",
        "decided_time": "09:00", "reason_text": "Not medically necessary.", "reference_number": "FAX-GROUP-1",
    })  # fmt: skip
    typed = re.search(r"/brief/(hand-\d+)", saved.url)
    assert saved.status_code == 200 and typed, saved.url
    monkeypatch.undo()
    browser, liaison_ctx, _ = _liaison_from_worklist(pair)
    listing = browser.get(f"{app}/", params={"ctx": liaison_ctx}, timeout=60)
    assert listing.status_code == 200 and f"/brief/{typed.group(1)}" not in listing.text
    for path in (f"/brief/{typed.group(1)}", f"/case/{typed.group(1)}"):
        assert browser.get(app + path, params={"ctx": liaison_ctx}, timeout=60).status_code == 404, path
