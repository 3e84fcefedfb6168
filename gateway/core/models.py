"""The gateway's own tables: cases, consents, consent requests, break-glass events, the
decision log and page sessions. The audit log's tables live in audit/models.py. No column holds
a BSN in clear: citizens are a keyed pseudonym here, plus AES-GCM ciphertext where an adapter
(or a citizen's page session) needs the BSN.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, LargeBinary, String, Text, TypeDecorator
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from gateway.core.db import new_metadata


class UtcDateTime(TypeDecorator[datetime]):
    """Always aware UTC on the way out, whatever the backend keeps (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = new_metadata()


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    citizen_pseudonym: Mapped[str] = mapped_column(String(64), index=True)
    citizen_bsn_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    purpose: Mapped[str] = mapped_column(String(64))
    casemanager_sub: Mapped[str] = mapped_column(String(128), index=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    #: The team the case belongs to; its casemanager works in it (None: a case from before grounds).
    team: Mapped[str | None] = mapped_column(String(64), index=True, nullable=True)
    #: Why a casemanager may look at all (PRODUCT.md): aanmelding | signaal | toewijzing.
    ground_type: Mapped[str | None] = mapped_column(String(16), nullable=True)
    #: The aanmelding's or signal's id (None for a toewijzing).
    ground_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    #: The coordinator's written reason (toewijzing); free text without a BSN, never in the log.
    ground_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    assigned_by_sub: Mapped[str | None] = mapped_column(String(128), nullable=True)


class Aanmelding(Base):
    """A citizen asks for help (``Ik wil hulp``): the ground of the case a coordinator opens."""

    __tablename__ = "aanmeldingen"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    citizen_pseudonym: Mapped[str] = mapped_column(String(64), index=True)
    citizen_bsn_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    purpose: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text, default="")
    created_by_sub: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)  # open | assigned
    case_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Signal(Base):
    """An early-warning signal (vroegsignalering) delivered by the schuldhulp agency."""

    __tablename__ = "signals"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    #: The source's own id for the signal: importing twice stores it once.
    source_ref: Mapped[str] = mapped_column(String(128), unique=True)
    source_agency: Mapped[str] = mapped_column(String(64))
    citizen_pseudonym: Mapped[str] = mapped_column(String(64), index=True)
    citizen_bsn_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    soort: Mapped[str] = mapped_column(String(32))  # huur | energie | water | zorgverzekering | cak
    achterstand: Mapped[str] = mapped_column(String(16))  # euros, "123.45"
    signaled_on: Mapped[str] = mapped_column(String(10))  # YYYY-MM-DD
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)  # open | assigned
    case_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Consent(Base):
    __tablename__ = "consents"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    citizen_pseudonym: Mapped[str] = mapped_column(String(64), index=True)
    purpose: Mapped[str] = mapped_column(String(64))
    agency: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(64))
    explicit: Mapped[bool] = mapped_column(Boolean, default=True)
    valid_from: Mapped[datetime] = mapped_column(UtcDateTime)
    valid_until: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    granted_by_sub: Mapped[str] = mapped_column(String(128))
    consent_request_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # Who may use it (as Mitz binds a consent to a user category): the one case whose request it
    # answers, or the team the citizen named. A consent with neither serves nobody.
    case_id: Mapped[str | None] = mapped_column(String(36), index=True, nullable=True)
    team: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: The citizen's "no" to a consent request: recorded, shown, and never overridden.
    declined: Mapped[bool] = mapped_column(Boolean, default=False)


class ConsentRequest(Base):
    __tablename__ = "consent_requests"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    citizen_pseudonym: Mapped[str] = mapped_column(String(64), index=True)
    casemanager_sub: Mapped[str] = mapped_column(String(128))
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    message: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="open")
    answers: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class BreakGlassEvent(Base):
    __tablename__ = "break_glass_events"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    decision_id: Mapped[str] = mapped_column(String(36), unique=True)
    casemanager_sub: Mapped[str] = mapped_column(String(128))
    citizen_pseudonym: Mapped[str] = mapped_column(String(64), index=True)
    justification: Mapped[str] = mapped_column(Text)
    review_status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    reviewer_sub: Mapped[str | None] = mapped_column(String(128), nullable=True)
    review_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class LoggedDecisionRow(Base):
    """Every policy decision with its exact input, like OPA's decision log, for replay."""

    __tablename__ = "decision_log"

    decision_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str | None] = mapped_column(String(36), index=True, nullable=True)
    policy_revision: Mapped[str] = mapped_column(String(128))
    input_json: Mapped[str] = mapped_column(Text)
    result_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # Authorization Decision Log (migration 0006): NULL on rows written before it.
    trace_id: Mapped[str | None] = mapped_column(String(32), index=True, nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    adl_json: Mapped[str | None] = mapped_column(Text, nullable=True)


class PageSession(Base):
    """A login on the citizen or FG pages (gateway/identity/page_sessions.py). The cookie carries the
    random session id; only its SHA-256 is kept here, so a copy of this table cannot be replayed
    as a cookie. A citizen's BSN is only here sealed (the vault's AES-GCM, bound to the pseudonym)."""

    __tablename__ = "page_sessions"

    id_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    sub: Mapped[str] = mapped_column(String(128), index=True)
    role: Mapped[str] = mapped_column(String(32))
    citizen_pseudonym: Mapped[str | None] = mapped_column(String(64), nullable=True)
    citizen_bsn_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    #: A representative's session: the person they act for, chosen at sign-in (pseudonym and the
    #: vault's sealed BSN, as for the signed-in person). Every action checks the representation again.
    acting_for_pseudonym: Mapped[str | None] = mapped_column(String(64), nullable=True)
    acting_for_bsn_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class VerifyRun(Base):
    """One full verification of the audit log started by the FG ("verify now",
    gateway/oversight/integrity.py). In the database, not in a process's memory, so every gateway process
    behind a load balancer can report on a run another process is doing."""

    __tablename__ = "verify_runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    started_by: Mapped[str] = mapped_column(String(128))
    state: Mapped[str] = mapped_column(String(16))  # running | ok | failed
    total: Mapped[int] = mapped_column(Integer, default=0)
    checked: Mapped[int] = mapped_column(Integer, default=0)
    tree_size: Mapped[int | None] = mapped_column(Integer, nullable=True)
    checkpoints_verified: Mapped[int | None] = mapped_column(Integer, nullable=True)
    root_hex: Mapped[str | None] = mapped_column(String(64), nullable=True)
    elapsed_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AccessReport(Base):
    """"Ik herken dit niet": a citizen's report about one line of their access log, for the FG
    (gateway/oversight/reports.py). The message is the citizen's own words (checked for a BSN);
    the audit record carries only its SHA-256."""

    __tablename__ = "access_reports"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    citizen_pseudonym: Mapped[str] = mapped_column(String(64), index=True)
    record_index: Mapped[int] = mapped_column(Integer)
    record_id: Mapped[str] = mapped_column(String(36))
    case_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    actor_sub: Mapped[str] = mapped_column(String(128))
    message: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    answer: Mapped[str | None] = mapped_column(Text, nullable=True)
    answered_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class Machtiging(Base):
    """An authorisation a citizen gives (in the spirit of DigiD Machtigen): a named person (by
    pseudonym; the BSN is never stored) may act for them within ``scope`` (domains, see
    policies/loket_data/representation), from ``valid_from`` until ``valid_until``, until the
    citizen revokes it (gateway/representation/machtigingen.py)."""

    __tablename__ = "machtigingen"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    citizen_pseudonym: Mapped[str] = mapped_column(String(64), index=True)
    gemachtigde_pseudonym: Mapped[str] = mapped_column(String(64), index=True)
    gemachtigde_naam: Mapped[str] = mapped_column(String(200))
    scope: Mapped[list[str]] = mapped_column(JSON)
    valid_from: Mapped[datetime] = mapped_column(UtcDateTime)
    valid_until: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class AgencyRequest(Base):
    """A request *to* an agency on the citizen's behalf (pause collection, payment plan, warm
    handover; gateway/workspace/agency_requests.py). ``sent`` holds what went to the agency,
    minus the BSN, so the citizen and the FG can see exactly what was asked."""

    __tablename__ = "agency_requests"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    citizen_pseudonym: Mapped[str] = mapped_column(String(64), index=True)
    casemanager_sub: Mapped[str] = mapped_column(String(128))
    agency: Mapped[str] = mapped_column(String(64))
    request_type: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="sent", index=True)
    sent: Mapped[dict[str, Any]] = mapped_column(JSON)
    agency_reference: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class PatternEvent(Base):
    """One access-log record as the pattern detectors and the minimisation figures need it,
    copied once when the incremental scan passes it (gateway/oversight/pattern_scan.py).
    Metadata only, like the record it comes from."""

    __tablename__ = "pattern_events"

    log_index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(64))
    #: Who looked; for ``case:opened`` the casemanager the case was assigned to.
    actor_sub: Mapped[str] = mapped_column(String(128), index=True)
    actor_role: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    purpose: Mapped[str | None] = mapped_column(String(64), nullable=True)
    start_time: Mapped[str] = mapped_column(String(32))
    break_glass: Mapped[bool] = mapped_column(Boolean, default=False)
    refused_something: Mapped[bool] = mapped_column(Boolean, default=False)
    disclosed_fields: Mapped[int] = mapped_column(Integer, default=0)
    held_fields: Mapped[int] = mapped_column(Integer, default=0)
    refusals: Mapped[int] = mapped_column(Integer, default=0)


class PatternState(Base):
    """How far the incremental pattern scan got, and its findings at that point."""

    __tablename__ = "pattern_state"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    scanned_until: Mapped[int] = mapped_column(Integer, default=0)
    findings_json: Mapped[str] = mapped_column(Text, default="{}")
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
