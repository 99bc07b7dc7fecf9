"""Checks on the shipped demo charts (fhir/demo/*.json) and the X12 306 code table (fhir/codes/).

The demo Bundles are what the demo EHR serves and what `p2p-brief brief` runs on, so they must stay
parseable, internally consistent and faithful to the Da Vinci PAS shapes the parser expects.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from smart_app.content import content_dir

FHIR_DIR = content_dir("fhir")
DEMO_DIR = FHIR_DIR / "demo"
CODES_FILE = FHIR_DIR / "codes" / "x12-306-review-action.json"

BASE = "http://example.org/fhir/"
PAS = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/"
REVIEW_ACTION_URL = PAS + "extension-reviewAction"
REVIEW_ACTION_CODE_URL = PAS + "extension-reviewActionCode"
X12_306 = "https://codesystem.x12.org/005010/306"
X12_886 = "https://codesystem.x12.org/external/886"
TODAY = datetime.fromisoformat("2026-11-23T23:59:59-05:00")

# slug -> {ClaimResponse id: X12 306 review action}
EXPECTED_RESPONSES = {
    "lumbar-mri": {"cr-lumbar-mri-1": "A3", "cr-lumbar-pt-1": "A1"},
    "ra-tnf": {"cr-ra-adalimumab-1": "A3"},
    "knee-tka": {"cr-knee-tka-1": "A4"},
    "glp1-t2dm": {"cr-glp1-semaglutide-1": "A3"},
}
EXPECTED_PATIENTS = {
    "lumbar-mri": "pat-lumbar-mri",
    "ra-tnf": "pat-ra-tnf",
    "knee-tka": "pat-knee-tka",
    "glp1-t2dm": "pat-glp1-t2dm",
}
# The one resource that is broken on purpose: the app must skip it and report a warning.
MALFORMED = {"glp1-t2dm": {("Observation", "obs-glp1-malformed")}}

SLUGS = sorted(EXPECTED_RESPONSES)
# Charts whose denial exists only as a Da Vinci PDex ExplanationOfBenefit: slug -> (patient, {EOB id: X12 306})
EOB_CHARTS = {"shoulder-eob": ("pat-shoulder-eob", {"pdex-shoulder-mri-1": "A3"})}
PDEX = "http://hl7.org/fhir/us/davinci-pdex/"


def load(slug: str) -> dict:
    with open(DEMO_DIR / f"{slug}.json", encoding="utf-8") as fh:
        return json.load(fh)


def resources(bundle: dict) -> list[dict]:
    return [entry["resource"] for entry in bundle["entry"]]


def by_key(bundle: dict) -> dict[str, dict]:
    return {f"{r['resourceType']}/{r['id']}": r for r in resources(bundle)}


def review_action_codes(item: dict) -> list[str]:
    codes = []
    for adjudication in item.get("adjudication", []):
        for ext in adjudication.get("extension", []):
            if ext.get("url") != REVIEW_ACTION_URL:
                continue
            for sub in ext.get("extension", []):
                if sub.get("url") == REVIEW_ACTION_CODE_URL:
                    for coding in sub["valueCodeableConcept"]["coding"]:
                        assert coding["system"] == X12_306
                        codes.append(coding["code"])
    return codes


def iter_references(node, path=""):
    """Yield (path, reference string) for every Reference.reference in a resource."""
    if isinstance(node, dict):
        ref = node.get("reference")
        if isinstance(ref, str):
            yield path, ref
        for key, value in node.items():
            yield from iter_references(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from iter_references(value, f"{path}[{index}]")


def npi_is_valid(value: str) -> bool:
    if len(value) != 10 or not value.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed("80840" + value[:-1])):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    return (10 - total % 10) % 10 == int(value[-1])


def test_demo_folder_holds_the_four_charts_and_the_practice_staff():
    assert sorted(p.stem for p in DEMO_DIR.glob("*.json")) == sorted([*SLUGS, *EOB_CHARTS, "practice-staff"])
    assert (DEMO_DIR / "SOURCES.md").is_file()


def test_practice_staff_validates_and_every_role_points_at_a_practice_of_the_charts():
    staff = load("practice-staff")
    practices = {
        f"Organization/{r['id']}"
        for slug in SLUGS
        for r in resources(load(slug))
        if r["resourceType"] == "Organization"
        and not any(r["id"] == f"org-{p}" for p in ("uhc", "aetna", "humana", "cigna"))
    }
    roles = {}
    for resource in resources(staff):
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        if resource["resourceType"] == "PractitionerRole":
            roles.setdefault(resource["practitioner"]["reference"], set()).add(resource["organization"]["reference"])
    assert len(practices) == 4
    assert roles["Practitioner/demo-clinician"] == practices
    assert roles["Practitioner/demo-liaison-prairie"] == {"Organization/org-lumbar-prairie-family-med"}


@pytest.mark.parametrize("slug", [*SLUGS, *EOB_CHARTS])
def test_every_resource_validates_except_the_deliberately_malformed_one(slug):
    bundle = load(slug)
    failed = {}
    for resource in resources(bundle):
        model = get_fhir_model_class(resource["resourceType"])
        try:
            model.model_validate(resource)
        except ValidationError as exc:
            failed[(resource["resourceType"], resource["id"])] = str(exc)
    assert set(failed) == MALFORMED.get(slug, set()), failed
    for message in failed.values():
        assert "valueQuantity" in message


@pytest.mark.parametrize("slug", [*SLUGS, *EOB_CHARTS])
def test_bundle_envelope_parses_as_r4b_collection(slug):
    bundle = load(slug)
    skip = MALFORMED.get(slug, set())
    clean = dict(
        bundle, entry=[e for e in bundle["entry"] if (e["resource"]["resourceType"], e["resource"]["id"]) not in skip]
    )
    parsed = get_fhir_model_class("Bundle").model_validate(clean)
    assert parsed.type == "collection"
    keys = [f"{r['resourceType']}/{r['id']}" for r in resources(bundle)]
    assert len(keys) == len(set(keys)), "duplicate resource ids"
    for entry in bundle["entry"]:
        r = entry["resource"]
        assert entry["fullUrl"] == f"{BASE}{r['resourceType']}/{r['id']}"


@pytest.mark.parametrize("slug", [*SLUGS, *EOB_CHARTS])
def test_every_reference_resolves_inside_its_bundle(slug):
    bundle = load(slug)
    known = set(by_key(bundle))
    dangling = []
    for resource in resources(bundle):
        contained = {c["id"] for c in resource.get("contained", [])}
        for path, ref in iter_references(resource):
            if ref.startswith("#"):
                if ref[1:] not in contained:
                    dangling.append(f"{resource['id']}{path}: {ref}")
            elif ref not in known:
                dangling.append(f"{resource['id']}{path}: {ref}")
    assert dangling == []


@pytest.mark.parametrize("slug", SLUGS)
def test_chart_has_the_core_resources(slug):
    bundle = load(slug)
    index = by_key(bundle)
    patient = index[f"Patient/{EXPECTED_PATIENTS[slug]}"]
    mr = [i for i in patient["identifier"] if i["type"]["coding"][0]["code"] == "MR"]
    assert mr and patient["birthDate"] and patient["address"][0]["state"] and patient["telecom"]
    types = {r["resourceType"] for r in resources(bundle)}
    for needed in (
        "Encounter",
        "Practitioner",
        "PractitionerRole",
        "Organization",
        "Coverage",
        "Claim",
        "ClaimResponse",
        "Condition",
        "Observation",
        "Procedure",
    ):
        assert needed in types, needed
    coverage = next(r for r in resources(bundle) if r["resourceType"] == "Coverage")
    assert coverage["status"] == "active"
    assert coverage["identifier"][0]["type"]["coding"][0]["code"] == "MB"
    payer = index[coverage["payor"][0]["reference"]]
    assert payer["type"][0]["coding"][0] == {
        "system": "https://codesystem.x12.org/005010/98",
        "code": "PR",
        "display": "Payer",
    }
    for r in resources(bundle):
        for ident in r.get("identifier", []):
            if ident.get("system") == "http://hl7.org/fhir/sid/us-npi":
                assert npi_is_valid(ident["value"]), (r["id"], ident["value"])


@pytest.mark.parametrize("slug", SLUGS)
def test_claim_responses_and_review_actions(slug):
    bundle = load(slug)
    responses = {r["id"]: r for r in resources(bundle) if r["resourceType"] == "ClaimResponse"}
    assert set(responses) == set(EXPECTED_RESPONSES[slug])
    for crid, expected in EXPECTED_RESPONSES[slug].items():
        cr = responses[crid]
        assert cr["use"] == "preauthorization"
        assert cr["status"] == "active"
        assert cr["outcome"] == "complete"
        assert cr["meta"]["profile"] == [PAS + "profile-claimresponse"]
        codes = [code for item in cr["item"] for code in review_action_codes(item)]
        assert codes == [expected]
        notes = {n["number"]: n["text"] for n in cr.get("processNote", [])}
        for item in cr["item"]:
            for number in item.get("noteNumber", []):
                assert notes[number].strip()
        if expected in ("A3", "A4"):
            assert notes, "a denied or pended response must carry the payer's reason text"
            for item in cr["item"]:
                for adjudication in item["adjudication"]:
                    reasons = [
                        sub
                        for ext in adjudication["extension"]
                        for sub in ext["extension"]
                        if sub["url"] == "reasonCode"
                    ]
                    assert reasons and reasons[0]["valueCodeableConcept"]["coding"][0]["system"] == X12_886
        if expected == "A4":
            urls = [e["url"] for item in cr["item"] for e in item.get("extension", [])]
            assert PAS + "extension-administrationReferenceNumber" in urls


def test_lumbar_denial_carries_the_reviewer_extension():
    cr = by_key(load("lumbar-mri"))["ClaimResponse/cr-lumbar-mri-1"]
    reviewer = [e for e in cr["extension"] if e["url"] == PAS + "extension-claimResponseReviewer"]
    assert len(reviewer) == 1
    subs = {s["url"]: s for s in reviewer[0]["extension"]}
    assert subs["wasHumanReviewedFlag"]["valueBoolean"] is True
    assert npi_is_valid(subs["reviewerNPI"]["valueIdentifier"]["value"])
    specialty = subs["reviewerSpecialty"]["valueCodeableConcept"]["coding"][0]
    assert specialty["system"] == "http://nucc.org/provider-taxonomy"


@pytest.mark.parametrize("slug", SLUGS)
def test_claim_items_match_response_item_sequences_and_dates_are_ordered(slug):
    bundle = load(slug)
    index = by_key(bundle)
    for cr in (r for r in resources(bundle) if r["resourceType"] == "ClaimResponse"):
        claim = index[cr["request"]["reference"]]
        assert claim["use"] == "preauthorization" and claim["status"] == "active"
        assert claim["meta"]["profile"] == [PAS + "profile-claim"]
        assert claim["insurer"] == cr["insurer"]
        assert claim["patient"] == cr["patient"]
        assert sorted(i["sequence"] for i in claim["item"]) == sorted(i["itemSequence"] for i in cr["item"])
        diagnosis_sequences = {d["sequence"] for d in claim["diagnosis"]}
        for item in claim["item"]:
            assert set(item["diagnosisSequence"]) <= diagnosis_sequences
            assert item["productOrService"]["coding"][0]["system"] in (
                "http://www.ama-assn.org/go/cpt",
                "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
                "http://hl7.org/fhir/sid/ndc",
            )
        created = datetime.fromisoformat(claim["created"])
        decided = datetime.fromisoformat(cr["created"])
        assert created < decided <= TODAY


def test_x12_306_code_table():
    with open(CODES_FILE, encoding="utf-8") as fh:
        table = json.load(fh)
    assert table["system"] == X12_306
    assert "http://codesystem.x12.org/005010/306" in table["alternateSystems"]
    assert table["source"]
    assert set(table["codes"]) == {"A1", "A2", "A3", "A4", "A6", "C", "CT", "NA"}
    decisions = {code: entry["decision"] for code, entry in table["codes"].items()}
    assert decisions["A1"] == "approved"
    assert decisions["A3"] == "denied"
    assert decisions["A4"] == "pended"
    assert all(entry["display"] for entry in table["codes"].values())


def test_every_review_action_in_the_demo_is_in_the_code_table():
    with open(CODES_FILE, encoding="utf-8") as fh:
        table = json.load(fh)
    for slug in SLUGS:
        for cr in (r for r in resources(load(slug)) if r["resourceType"] == "ClaimResponse"):
            for item in cr["item"]:
                for code in review_action_codes(item):
                    assert code in table["codes"]


def test_content_dir_points_at_the_source_tree_or_wheel():
    assert isinstance(DEMO_DIR, Path) and DEMO_DIR.is_dir()


@pytest.mark.parametrize("slug", sorted(EOB_CHARTS))
def test_the_eob_only_chart_holds_a_pdex_prior_authorization_and_no_claimresponse(slug):
    patient_id, expected = EOB_CHARTS[slug]
    index = by_key(load(slug))
    assert f"Patient/{patient_id}" in index
    assert not [k for k in index if k.startswith(("ClaimResponse/", "Claim/"))]
    table = json.loads(CODES_FILE.read_text(encoding="utf-8"))
    for eob_id, code in expected.items():
        eob = index[f"ExplanationOfBenefit/{eob_id}"]
        assert eob["use"] == "preauthorization" and eob["patient"] == {"reference": f"Patient/{patient_id}"}
        assert eob["meta"]["profile"] == [PDEX + "StructureDefinition/pdex-priorauthorization"]
        assert datetime.fromisoformat(eob["created"]) <= TODAY
        (item,) = eob["item"]
        actions = [
            c["code"]
            for a in item["adjudication"]
            for e in a.get("extension", [])
            if e["url"] == PDEX + "StructureDefinition/extension-reviewAction"
            for sub in e["extension"]
            if sub["url"] == PDEX + "StructureDefinition/extension-reviewActionCode"
            for c in sub["valueCodeableConcept"]["coding"]
        ]
        assert actions == [code] and code in table["codes"]
        reasons = [a for a in item["adjudication"] if a["category"]["coding"][0]["code"] == "denialreason"]
        assert (
            reasons
            and reasons[0]["category"]["coding"][0]["system"] == PDEX + "CodeSystem/PDexAdjudicationDiscriminator"
        )


def test_the_demo_payers_data_validates_and_knows_its_member_only_by_member_id_and_birth_date():
    """The demo payer's records (fhir/demo-payer) are valid R4 and tie to the EHR's chart only as a real payer's
    would: the member ID and the birth date, never the EHR's ids."""
    bundle = json.loads((FHIR_DIR / "demo-payer" / "uhc.json").read_text(encoding="utf-8"))
    found = {}
    for entry in bundle["entry"]:
        resource = entry["resource"]
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        found[f"{resource['resourceType']}/{resource['id']}"] = resource
    ehr = {e["resource"]["resourceType"]: e["resource"] for e in load("lumbar-mri")["entry"]}
    member = found["Patient/uhc-mbr-7f3a9c"]
    assert member["birthDate"] == ehr["Patient"]["birthDate"]
    assert member["identifier"][0]["value"] == ehr["Coverage"]["identifier"][0]["value"]
    assert "pat-lumbar-mri" not in json.dumps(bundle)
    eob = found["ExplanationOfBenefit/uhc-pa-7741093"]
    assert eob["use"] == "preauthorization" and eob["patient"]["reference"] == "Patient/uhc-mbr-7f3a9c"
    assert bundle["timestamp"] == load("lumbar-mri")["timestamp"]  # both moved to the demo's day alike
