"""Tables of the app's own records. Notes hold PHI at rest: the database belongs on the practice's servers."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

MAX_ROW_ID = 2**31 - 1
"""The largest id an ``Integer`` primary key holds in every database the app runs on (PostgreSQL's ``integer``):
a larger number in a URL names no row, and is answered as absent before it reaches the database."""


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base of the app's tables."""


class CallNote(Base):
    """One recorded P2P call: saved before the write to the EHR is tried, so nothing typed is ever lost.

    ``status``: ``pending`` (not yet in the chart, retried), ``written`` (the EHR assigned ``document_reference``),
    ``parked`` (the EHR refused it in a way a retry will not fix; a person must look).
    ``resource_json`` holds the resources to create, in order (the note first, then the printed brief where the
    EHR takes it as a second DocumentReference); ``written_json`` the reference each got, so a retry resumes
    where the last attempt stopped. ``replaces_note_id`` names the note this one corrects (``relatesTo``).
    ``form_key`` is the one-time key of the form that created it: a second submit of that form finds this note.
    """

    __tablename__ = "call_notes"
    __table_args__ = (UniqueConstraint("iss", "patient_id", "form_key", name="uq_call_notes_form_key"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    iss: Mapped[str] = mapped_column(String(500), index=True)
    patient_id: Mapped[str] = mapped_column(String(128), index=True)
    claim_response_id: Mapped[str] = mapped_column(String(128), index=True)
    form_json: Mapped[str] = mapped_column(Text)
    note_text: Mapped[str] = mapped_column(Text)
    resource_json: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    document_reference: Mapped[str | None] = mapped_column(String(200), nullable=True)
    written_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    replaces_note_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    form_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class HandEnteredDenial(Base):
    """A denial a liaison typed in from a fax or portal letter, for one launched patient.

    ``fields_json`` holds the form as entered (payer, plan type, state, service, decision time, reason text
    as written, reference number, ordering physician); it flows through the same pipeline as a FHIR denial.
    ``form_key`` is the one-time key of the form that created it (a second submit finds this entry).
    """

    __tablename__ = "hand_entered_denials"
    __table_args__ = (UniqueConstraint("iss", "patient_id", "form_key", name="uq_hand_entered_denials_form_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    iss: Mapped[str] = mapped_column(String(500), index=True)
    patient_id: Mapped[str] = mapped_column(String(128), index=True)
    fields_json: Mapped[str] = mapped_column(Text)
    entered_by: Mapped[str | None] = mapped_column(String(500), nullable=True)
    form_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class UploadedLetter(Base):
    """A denial letter a liaison uploaded for one patient: the file itself (saved before it is read, so a failed
    read or a crash never loses it), what was read off it, and what the liaison confirmed.

    ``status``: ``received`` (saved, not read yet), ``read`` (fields read, waiting for review), ``unreadable``
    (``error`` says why: blank, too many pages, not a letter file, too large), ``confirmed`` (``denial_id`` names
    the case it became), ``refused`` (``error`` says why: the letter names another patient). ``reading_json`` and
    ``confirmed_json`` hold the fields as plain JSON, each with its source line and box.
    """

    __tablename__ = "letters"
    __table_args__ = (UniqueConstraint("iss", "patient_id", "form_key", name="uq_letters_form_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    iss: Mapped[str] = mapped_column(String(500), index=True)
    patient_id: Mapped[str] = mapped_column(String(128), index=True)
    practice: Mapped[str | None] = mapped_column(String(200), nullable=True)
    uploaded_by: Mapped[str | None] = mapped_column(String(500), nullable=True)
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    reading_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    confirmed_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(20))
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    denial_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    form_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class BriefEdit(Base):
    """What the liaison added to a denial's brief before printing: never a chart fact, always marked as the practice's.

    ``kind``: ``bottom-line`` (replaces the app's three sentences), ``guideline`` (a citation the practice adds),
    ``attestation`` (a criterion confirmed by a person, with a note), ``talking-point``.
    """

    __tablename__ = "brief_edits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    iss: Mapped[str] = mapped_column(String(500), index=True)
    patient_id: Mapped[str] = mapped_column(String(128), index=True)
    denial_id: Mapped[str] = mapped_column(String(128), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    payload_json: Mapped[str] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SchedulingLogEntry(Base):
    """One step toward the P2P call for a denial: requested, an attempt that failed, or the call scheduled."""

    __tablename__ = "scheduling_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    iss: Mapped[str] = mapped_column(String(500), index=True)
    patient_id: Mapped[str] = mapped_column(String(128), index=True)
    denial_id: Mapped[str] = mapped_column(String(128), index=True)
    event_json: Mapped[str] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WrittenDraft(Base):
    """A drafted letter (P2P request, confirmation, written demand, patient summary, letter of medical necessity)
    kept with the case: when it was generated, and whether and when a person marked it sent."""

    __tablename__ = "drafts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    iss: Mapped[str] = mapped_column(String(500), index=True)
    patient_id: Mapped[str] = mapped_column(String(128), index=True)
    denial_id: Mapped[str] = mapped_column(String(128), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    generated_by: Mapped[str | None] = mapped_column(String(500), nullable=True)
    generated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    sent_by: Mapped[str | None] = mapped_column(String(500), nullable=True)


class DenialCase(Base):
    """One denial the practice is working, across patients: a snapshot for the worklist, kept current as the app
    sees the denial again and as the case moves (scheduling, call). ``tenant`` is the EHR (its FHIR base): a user
    of one organisation's EHR never sees another's rows, and within one EHR ``organization`` (the practice that made
    the request) limits each user to their own organisations' cases."""

    __tablename__ = "denial_cases"
    __table_args__ = (
        UniqueConstraint("tenant", "patient_id", "denial_id", name="uq_denial_cases_case"),
        Index("ix_denial_cases_tenant_organization", "tenant", "organization"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(500), index=True)
    patient_id: Mapped[str] = mapped_column(String(128))
    denial_id: Mapped[str] = mapped_column(String(128))
    organization: Mapped[str | None] = mapped_column(String(200), nullable=True)  # the requesting practice
    summary_json: Mapped[str] = mapped_column(Text)
    deadline: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True, index=True)
    status: Mapped[str] = mapped_column(String(32), index=True)
    assignee: Mapped[str | None] = mapped_column(String(200), nullable=True)
    source: Mapped[str] = mapped_column(String(16))
    first_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class SyncState(Base):
    """How far ``p2p-brief sync`` has read one EHR's answers of one type (ClaimResponse, or PDex
    ExplanationOfBenefit): the newest ``meta.lastUpdated`` processed and the ids already processed at exactly that
    instant (the next run asks ``ge`` that instant and skips them); or, when the server offers Bulk Data, the export
    being read (status URL, transaction time, lines done). One row per type, so neither moves the other's mark."""

    __tablename__ = "sync_positions"

    iss: Mapped[str] = mapped_column(String(500), primary_key=True)
    resource_type: Mapped[str] = mapped_column(String(64), primary_key=True, default="ClaimResponse")
    high_water: Mapped[str | None] = mapped_column(String(40), nullable=True)
    ids_at_mark_json: Mapped[str] = mapped_column(Text, default="[]")
    export_json: Mapped[str | None] = mapped_column(Text, nullable=True)  # a Bulk Data export being read
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class PayerAnswer(Base):
    """A decision read from a payer's own API (``p2p-brief sync --payer``) and placed on an EHR chart: the payer's
    answer (an EOB or ClaimResponse) and the records it references, as the payer sent them. The EHR has no copy, so
    the case's brief is built from this one."""

    __tablename__ = "payer_answers"
    __table_args__ = (UniqueConstraint("tenant", "patient_id", "denial_id", name="uq_payer_answers_denial"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant: Mapped[str] = mapped_column(String(500))
    patient_id: Mapped[str] = mapped_column(String(128))  # the EHR's patient the member was matched to
    denial_id: Mapped[str] = mapped_column(String(200))
    payer: Mapped[str] = mapped_column(String(64))  # its key in the payer registry
    resources_json: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class AuditEvent(Base):
    """One access to patient data through the app: who (``fhirUser``), what (``action``), which patient and
    resource (ids only, never clinical content), when. Written by the web app and by the outbox."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_tenant_at", "tenant", "at"),
        Index("ix_audit_events_patient", "tenant", "patient_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    tenant: Mapped[str] = mapped_column(String(500))
    user: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    patient_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    resource: Mapped[str | None] = mapped_column(String(300), nullable=True)


class FormSubmission(Base):
    """A form that created something, by its one-time key (scheduling log, drafts, brief edits): where its result
    is, so the same form submitted again (Back, then submit) opens that result instead of creating a second one.
    Call notes and hand entries keep their key on their own rows (unique there)."""

    __tablename__ = "form_submissions"

    form_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(500))
    patient_id: Mapped[str] = mapped_column(String(128))
    result_path: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
