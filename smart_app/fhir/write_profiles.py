"""What the app sends to each EHR for one call: the note, and the brief as it was printed kept with it.

US Core lets one DocumentReference carry both (the note as text, the brief as a PDF, two ``content`` entries).
Epic's clinical-note create keeps only the first attachment and takes only ``text/plain``, so the brief goes as a
second DocumentReference holding its text. Oracle Health takes exactly one attachment per DocumentReference but
accepts ``application/pdf``, so the brief goes as a second DocumentReference holding the PDF. Neither Epic nor
Oracle documents a DocumentReference search by ``identifier`` (Oracle does not even store it), so there the outbox's
record of each id the EHR returned is what keeps a retry from writing twice. A second
DocumentReference ``relatesTo`` the note (code ``appends``); its target is filled in by the outbox once the note
has its id. The rules and their sources are in ``launch/write-profiles.md``.
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass
from typing import Any

from smart_app.fhir.writeback import IDENTIFIER_SYSTEM, PLAIN_TEXT, attachment

PDF = "application/pdf"
BRIEF_TITLE = "Peer-to-peer brief as printed"


@dataclass(frozen=True)
class TargetProfile:
    """How one kind of EHR takes the call documents."""

    name: str
    brief_in_second_document: bool
    brief_content_type: str  # application/pdf, or text/plain where only text is taken
    identifier_search: bool  # DocumentReference?identifier= is supported (else a retry relies on the recorded id)


PROFILES: dict[str, TargetProfile] = {
    "us-core": TargetProfile("us-core", brief_in_second_document=False, brief_content_type=PDF, identifier_search=True),
    "epic": TargetProfile(
        "epic", brief_in_second_document=True, brief_content_type=PLAIN_TEXT, identifier_search=False
    ),
    "oracle-health": TargetProfile(
        "oracle-health", brief_in_second_document=True, brief_content_type=PDF, identifier_search=False
    ),
}


def profile_for(iss: str, write_profiles: dict[str, str]) -> TargetProfile:
    """The profile configured for ``iss`` (``P2P_WRITE_PROFILES``), US Core when none is named."""
    name = write_profiles.get(iss.rstrip("/"), "us-core")
    if name not in PROFILES:
        raise ValueError(f"unknown write profile {name!r} for {iss}; expected one of {', '.join(PROFILES)}")
    return PROFILES[name]


def brief_identifier(note_id: str) -> str:
    """The stable identifier of the brief's own DocumentReference (derived from the note's, so retries match)."""
    return f"urn:uuid:{uuid.uuid5(uuid.UUID(note_id), 'printed-brief')}"


def call_documents(
    profile: TargetProfile,
    note: dict[str, Any],
    *,
    brief_pdf: bytes | None,
    brief_text: str | None,
    note_reference: str,
) -> list[dict[str, Any]]:
    """The resources to create, in order: the note (with the brief as a second attachment where the EHR keeps
    it), then the brief's own DocumentReference where it must stand alone. ``note_reference`` is the outbox's
    placeholder for the note's future reference. Without a printed brief, only the note."""
    brief = brief_pdf if profile.brief_content_type == PDF else (brief_text or "").encode("utf-8") or None
    if brief is None:
        return [note]
    created = note["content"][0]["attachment"]["creation"]
    content = attachment(brief, profile.brief_content_type, BRIEF_TITLE, created)
    if not profile.brief_in_second_document:
        combined = copy.deepcopy(note)
        combined["content"].append(content)
        return [combined]
    second = copy.deepcopy(note)
    second.pop("relatesTo", None)
    second["identifier"] = [{"system": IDENTIFIER_SYSTEM, "value": brief_identifier(_note_uuid(note))}]
    second["description"] = "The brief prepared for the peer-to-peer call, as printed"
    second["type"] = {**second["type"], "text": "Payer peer-to-peer review brief"}
    second["content"] = [content]
    second["relatesTo"] = [{"code": "appends", "target": {"reference": note_reference}}]
    return [note, second]


def _note_uuid(note: dict[str, Any]) -> str:
    return str(note["identifier"][0]["value"]).removeprefix("urn:uuid:")
