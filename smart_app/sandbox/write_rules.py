"""What each EHR accepts in a DocumentReference create, as data: a registry of write profiles made of rules.

Each rule, the vendor's words and their source are tabulated in ``launch/write-profiles.md``: US Core 6.1/7.0
DocumentReference (HL7/US-Core); Epic DocumentReference.Create (Clinical Notes) R4 as reported by integrators
(Epic's own page could not be read); Oracle Health (Cerner) Millennium R4 ``document_reference.yaml``.
"""

from __future__ import annotations

import base64
import binascii
import copy
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from .references import as_dict, as_list, codings, reference_id
from .store import FhirStore

LOINC = "http://loinc.org"


@dataclass(frozen=True)
class Issue:
    """One reason a write was refused: the FHIRPath of the element and what is wrong with it."""

    expression: str
    text: str
    code: str = "invalid"


@dataclass(frozen=True)
class WriteContext:
    """Who writes: the token's user (``Practitioner/<id>``; None for Backend Services) and the store."""

    store: FhirStore
    user_reference: str | None


Rule = Callable[[dict[str, Any], WriteContext], Iterable[Issue]]


@dataclass(frozen=True)
class WriteProfile:
    """How one EHR treats a DocumentReference create."""

    name: str
    rules: tuple[Rule, ...]
    conditional_create: bool = True
    empty_create_body: bool = False
    honours_prefer_representation: bool = True
    first_content_only: bool = False
    stored_fields: frozenset[str] | None = None  # None: every element is kept; else only these (others ignored)

    def validate(self, document: dict[str, Any], context: WriteContext) -> list[Issue]:
        """Every issue the profile finds (empty when the document is accepted)."""
        return [issue for rule in self.rules for issue in rule(document, context)]

    def prepare(self, document: dict[str, Any]) -> dict[str, Any]:
        """The document as the EHR would store it (Epic keeps only the first attachment)."""
        stored = copy.deepcopy(document)
        if self.first_content_only and isinstance(stored.get("content"), list):
            stored["content"] = stored["content"][:1]
        if self.stored_fields is not None:
            stored = {k: v for k, v in stored.items() if k in self.stored_fields}
        return stored


def _doc(path: str) -> str:
    return f"DocumentReference.{path}"


# -- US Core --------------------------------------------------------------------------------


def resource_type_is_document_reference(doc: dict[str, Any], _: WriteContext) -> Iterator[Issue]:
    if doc.get("resourceType") != "DocumentReference":
        yield Issue(_doc("resourceType"), "resourceType must be DocumentReference")


def status_is_current(doc: dict[str, Any], _: WriteContext) -> Iterator[Issue]:
    if doc.get("status") != "current":
        yield Issue(_doc("status"), "status must be 'current'", "value")


def type_is_loinc(doc: dict[str, Any], _: WriteContext) -> Iterator[Issue]:
    if not isinstance(doc.get("type"), dict):
        yield Issue(_doc("type"), "type is required (1..1)", "required")
    elif not any(c.get("system") == LOINC and c.get("code") for c in codings(doc["type"])):
        yield Issue(_doc("type"), "type needs a LOINC coding (system http://loinc.org)", "value")


def category_present(doc: dict[str, Any], _: WriteContext) -> Iterator[Issue]:
    if not [c for c in as_list(doc.get("category")) if isinstance(c, dict)]:
        yield Issue(_doc("category"), "category is required (1..*)", "required")


def subject_is_known_patient(doc: dict[str, Any], context: WriteContext) -> Iterator[Issue]:
    patient = reference_id(doc.get("subject"), "Patient")
    if patient is None:
        yield Issue(_doc("subject"), "subject must reference a Patient", "required")
    elif context.store.get("Patient", patient) is None:
        yield Issue(_doc("subject"), f"subject Patient/{patient} does not exist", "not-found")


def content_has_attachment(doc: dict[str, Any], _: WriteContext) -> Iterator[Issue]:
    contents = as_list(doc.get("content"))
    if not contents:
        yield Issue(_doc("content"), "content is required (1..*)", "required")
    for i, content in enumerate(contents):
        attachment = as_dict(as_dict(content).get("attachment"))
        where = _doc(f"content[{i}].attachment")
        if not isinstance(attachment.get("contentType"), str):
            yield Issue(f"{where}.contentType", "attachment.contentType is required", "required")
        if not attachment.get("data") and not attachment.get("url"):
            yield Issue(where, "attachment needs data or url (us-core-6)", "required")
        elif attachment.get("data") and not _is_base64(attachment["data"]):
            yield Issue(f"{where}.data", "attachment.data is not valid base64", "value")


def _is_base64(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


US_CORE_RULES: tuple[Rule, ...] = (
    resource_type_is_document_reference,
    status_is_current,
    type_is_loinc,
    category_present,
    subject_is_known_patient,
    content_has_attachment,
)

# -- Epic -----------------------------------------------------------------------------------


def encounter_of_same_patient(doc: dict[str, Any], context: WriteContext) -> Iterator[Issue]:
    refs = as_list(as_dict(doc.get("context")).get("encounter"))
    encounter_id = reference_id(refs[0], "Encounter") if refs else None
    encounter = context.store.get("Encounter", encounter_id) if encounter_id else None
    patient = reference_id(doc.get("subject"), "Patient")
    if encounter is None or reference_id(encounter.get("subject"), "Patient") != patient:
        yield Issue(_doc("context.encounter"), "Valid encounter required", "required")


def content_is_plain_text(doc: dict[str, Any], _: WriteContext) -> Iterator[Issue]:
    for i, content in enumerate(as_list(doc.get("content"))):
        content_type = as_dict(as_dict(content).get("attachment")).get("contentType")
        if isinstance(content_type, str) and content_type.split(";")[0].strip().lower() != "text/plain":
            yield Issue(_doc(f"content[{i}].attachment.contentType"), "only text/plain notes are accepted", "value")


# -- Oracle Health (Cerner Millennium) ------------------------------------------------------

ORACLE_CONTENT_TYPES = (
    "application/pdf",
    "text/plain;charset=utf-8",
    "text/richtext;charset=utf-8",
    "text/rtf;charset=utf-8",
    "text/html;charset=utf-8",
    "application/xml;charset=utf-8",
    "application/xhtml+xml;charset=utf-8",
)
ORACLE_CREATE_FIELDS = frozenset(
    {"resourceType", "status", "docStatus", "type", "subject", "author", "authenticator", "content", "context"}
)


def oracle_type_loinc_or_code_set_72(doc: dict[str, Any], _: WriteContext) -> Iterator[Issue]:
    """ "The type must include a LOINC or a proprietary coding but not both together." """
    type_ = doc.get("type")
    all_codings = codings(type_) if isinstance(type_, dict) else []
    loinc = [c for c in all_codings if c.get("system") == LOINC and c.get("code")]
    site = [c for c in all_codings if "/codeSet/72" in str(c.get("system")) and c.get("code")]
    if not isinstance(type_, dict):
        yield Issue(_doc("type"), "type is required", "required")
    elif not loinc and not site:
        yield Issue(_doc("type"), "type needs a LOINC coding or a code set 72 coding", "value")
    elif loinc and site:
        yield Issue(_doc("type"), "type may hold LOINC or code set 72 codings, not both", "value")


def oracle_attachment_data_and_type(doc: dict[str, Any], _: WriteContext) -> Iterator[Issue]:
    """ "Data and content type must be provided", with one of the supported MIME types and character sets."""
    for i, content in enumerate(as_list(doc.get("content"))):
        attachment = as_dict(as_dict(content).get("attachment"))
        where = _doc(f"content[{i}].attachment")
        content_type = str(attachment.get("contentType") or "").replace(" ", "").lower()
        if not attachment.get("data"):
            yield Issue(f"{where}.data", "attachment.data is required (base64)", "required")
        if content_type not in ORACLE_CONTENT_TYPES:
            yield Issue(
                f"{where}.contentType",
                "contentType must include the charset and be one of: " + ", ".join(ORACLE_CONTENT_TYPES),
                "value",
            )


def doc_status_final(doc: dict[str, Any], context: WriteContext) -> Iterator[Issue]:
    allowed = ("final",) if context.user_reference else ("final", "amended")
    if doc.get("docStatus") not in allowed:
        yield Issue(_doc("docStatus"), f"docStatus is required and must be {' or '.join(allowed)}", "required")


def period_end_present(doc: dict[str, Any], _: WriteContext) -> Iterator[Issue]:
    if not as_dict(as_dict(as_dict(doc.get("context")).get("period"))).get("end"):
        yield Issue(_doc("context.period.end"), "context.period.end is required", "required")


def single_content(doc: dict[str, Any], _: WriteContext) -> Iterator[Issue]:
    """``content``: "Must contain only one entry"."""
    contents = as_list(doc.get("content"))
    if len(contents) != 1:
        yield Issue(_doc("content"), "content must contain exactly one entry", "value")


def author_is_the_user(doc: dict[str, Any], context: WriteContext) -> Iterator[Issue]:
    """Provider access: one author, the authorized provider. System access: optional, known Practitioners only."""
    authors = as_list(doc.get("author"))
    if context.user_reference is None:
        for i, author in enumerate(authors):
            practitioner = reference_id(author, "Practitioner")
            if practitioner is None or context.store.get("Practitioner", practitioner) is None:
                yield Issue(_doc(f"author[{i}]"), "author must reference a known Practitioner", "value")
        return
    if len(authors) != 1:
        yield Issue(_doc("author"), "exactly one author is required", "value")
        return
    practitioner = reference_id(authors[0], "Practitioner")
    if f"Practitioner/{practitioner}" != context.user_reference:
        yield Issue(_doc("author"), "author must be the authorized provider", "business-rule")


def dates_have_time(doc: dict[str, Any], _: WriteContext) -> Iterator[Issue]:
    period = as_dict(as_dict(doc.get("context")).get("period"))
    dated = {
        "date": doc.get("date"),
        "context.period.start": period.get("start"),
        "context.period.end": period.get("end"),
    }
    for i, content in enumerate(as_list(doc.get("content"))):
        dated[f"content[{i}].attachment.creation"] = as_dict(as_dict(content).get("attachment")).get("creation")
    for path, value in dated.items():
        if value is not None and (not isinstance(value, str) or "T" not in value):
            yield Issue(_doc(path), "dates must include a time", "value")


PROFILES: dict[str, WriteProfile] = {
    "us-core": WriteProfile("us-core", US_CORE_RULES),
    "epic": WriteProfile(
        "epic",
        (*US_CORE_RULES, encounter_of_same_patient, content_is_plain_text),
        conditional_create=False,
        empty_create_body=True,
        first_content_only=True,
    ),
    "oracle-health": WriteProfile(
        "oracle-health",
        (
            resource_type_is_document_reference,
            status_is_current,
            oracle_type_loinc_or_code_set_72,
            subject_is_known_patient,
            single_content,
            oracle_attachment_data_and_type,
            doc_status_final,
            period_end_present,
            author_is_the_user,
            dates_have_time,
        ),
        conditional_create=False,
        empty_create_body=True,
        honours_prefer_representation=False,
        stored_fields=ORACLE_CREATE_FIELDS,
    ),
}


def profile(name: str) -> WriteProfile:
    """The write profile registered under ``name``; ``ValueError`` names the known ones."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown EHR profile {name!r}; expected one of {', '.join(PROFILES)}") from None
