"""The read side of the audit log for people: the citizen's "who looked at my data" and the
privacy officer's search.

Both read the signed Merkle log itself (``audit.log.AuditLog``), never a copy, so what a
citizen sees is exactly what a proof can vouch for. The citizen only ever gets records whose
``data_subject_id`` is their own pseudonym; the FG's BSN search is turned into that same
pseudonym on the server and the BSN is dropped at once.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from audit.log import AuditFilter, AuditLog, StoredRecord
from audit.record import AuditEventKind, AuditRecord, utc_timestamp
from gateway.core.errors import BadInput, NotFound
from gateway.dossier.explain import Explainer

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

#: What a citizen sees in "Wie bekeek mijn gegevens?": every look (or attempt) at their data,
#: cases opened about them, requests for consent and the FG's review of an emergency access.
CITIZEN_ACCESS_KINDS = frozenset({
    AuditEventKind.DOSSIER_READ, AuditEventKind.DOSSIER_REFUSED, AuditEventKind.DOSSIER_ERROR,
    AuditEventKind.DOSSIER_BREAK_GLASS, AuditEventKind.CASE_OPENED,
    AuditEventKind.CONSENT_REQUEST_CREATED, AuditEventKind.BREAK_GLASS_REVIEWED,
    # The FG looking at the log about this citizen is a look too (issue 16).
    AuditEventKind.ACCESS_LOG_SEARCHED, AuditEventKind.ACCESS_LOG_EXPORTED, AuditEventKind.ACCESS_LOG_VIEWED,
    AuditEventKind.SIGNAL_RECEIVED,
    # Another gateway asked whether it may read: that reveals what Loket would share.
    AuditEventKind.AUTHZEN_EVALUATED,
    # Someone acted for this citizen (or tried to): every representation check, and their machtigingen.
    AuditEventKind.REPRESENTATION_CHECKED, AuditEventKind.MACHTIGING_GRANTED, AuditEventKind.MACHTIGING_REVOKED,
})

#: Child spans (Logboek Dataverwerkingen 0.8: one line per processing action): a dossier's call
#: to one agency is a line of its own under the dossier's line. It is not another look, so the
#: citizen's page and the FG's search show the dossier line only, unless the FG asks for this kind.
CHILD_SPAN_KINDS = frozenset({AuditEventKind.DOSSIER_AGENCY_CALL})

MAX_PAGE = 200
#: Leaf indexes are 64-bit in the database: a larger number in a URL is a 422, not an overflow.
MAX_LOG_INDEX = 2**62
#: Upper bound on records read to fill one page when a filter runs in Python (agency, kinds).
MAX_SCAN_PER_PAGE = 5000


@dataclass(frozen=True)
class IndexedRecord:
    index: int
    record: AuditRecord

    @classmethod
    def of(cls, stored: StoredRecord) -> IndexedRecord:
        return cls(stored.index, stored.record)


@dataclass(frozen=True)
class SharedItem:
    agency: str
    organisation: str
    category: str
    category_label: str
    fields: tuple[str, ...]
    basis_type: str
    basis_nl: str


@dataclass(frozen=True)
class RefusedItem:
    agency: str
    organisation: str
    category: str
    category_label: str
    code: str
    reason_nl: str


@dataclass(frozen=True)
class AccessView:
    """One line of "Wie bekeek mijn gegevens?" in the words a citizen reads."""

    index: int
    record_id: str
    kind: str
    action_nl: str
    at: datetime
    at_nl: str
    actor_role: str
    actor_nl: str
    actor_sub: str
    purpose: str | None
    purpose_label: str
    case_id: str | None
    break_glass: bool
    shared: tuple[SharedItem, ...]
    refused: tuple[RefusedItem, ...]
    unavailable: tuple[str, ...]
    review_status: str | None = None


MONTHS_NL = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
             "september", "oktober", "november", "december")


def parse_record_time(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def time_nl(t: datetime) -> str:
    """``25 november 2026, 12:48`` in Dutch local time (what people read on a page)."""
    local = t.astimezone(AMSTERDAM)
    return f"{local.day} {MONTHS_NL[local.month - 1]} {local.year}, {local:%H:%M}"


def access_view(item: IndexedRecord, ex: Explainer, review_status: str | None = None) -> AccessView:
    r = item.record
    at = parse_record_time(r.start_time)
    shared = tuple(
        SharedItem(agency=d.agency, organisation=ex.organisation(d.agency), category=d.category,
                   category_label=ex.category_label(d.agency, d.category), fields=d.fields,
                   basis_type=d.basis_type, basis_nl=ex.basis_text(d.basis_type, d.basis_id))
        for d in r.disclosed
    )
    refused = tuple(
        RefusedItem(agency=x.agency, organisation=ex.organisation(x.agency) if x.agency != "*" else "",
                    category=x.category,
                    category_label=ex.category_label(x.agency, x.category) if x.category != "*" else "",
                    code=x.code, reason_nl=ex.refusal_text(x.code))
        for x in r.refused
    )
    return AccessView(
        index=item.index, record_id=r.record_id, kind=r.kind.value, action_nl=ex.kind_label(r.kind.value),
        at=at, at_nl=time_nl(at), actor_role=r.actor_role, actor_nl=ex.actor_label(r.actor_role, r.extra),
        actor_sub=r.actor_sub, purpose=r.purpose, purpose_label=ex.purpose_label(r.purpose),
        case_id=r.case_id, break_glass=r.break_glass, shared=shared, refused=refused,
        unavailable=tuple(ex.organisation(a) for a in r.unavailable), review_status=review_status,
    )


def _scan(log: AuditLog, flt: AuditFilter, *, before: int | None, limit: int,
          keep: Any) -> tuple[list[IndexedRecord], int | None]:
    """Newest-first keyset scan with a Python-side predicate; returns (page, next ``before``)."""
    out: list[IndexedRecord] = []
    cursor = before
    scanned = 0
    while len(out) < limit and scanned < MAX_SCAN_PER_PAGE:
        batch = log.find(flt, before=cursor, limit=min(500, MAX_SCAN_PER_PAGE), newest_first=True)
        if not batch:
            return out, None
        for stored in batch:
            scanned += 1
            cursor = stored.index
            item = IndexedRecord.of(stored)
            if keep(item.record):
                out.append(item)
                if len(out) == limit:
                    break
        if len(batch) < 500 and len(out) < limit:
            return out, None
    if cursor is None or cursor <= 0:
        return out, None
    return out, cursor


def citizen_accesses(log: AuditLog, pseudonym: str, *, before: int | None = None,
                     limit: int = 50) -> tuple[list[IndexedRecord], int | None]:
    """Records about this citizen, newest first, one page (keyset on the leaf index)."""
    if not 1 <= limit <= MAX_PAGE:
        raise BadInput(f"limit must be between 1 and {MAX_PAGE}", code="bad-limit")
    flt = AuditFilter(data_subject_id=pseudonym)
    return _scan(log, flt, before=before, limit=limit, keep=lambda r: r.kind in CITIZEN_ACCESS_KINDS)


def own_record(log: AuditLog, pseudonym: str, index: int) -> IndexedRecord:
    """The record at ``index`` if it is about this citizen; anyone else's is "not found"."""
    try:
        stored = log.get_record(index)
    except NotFound:
        raise NotFound("no such access record") from None
    item = IndexedRecord.of(stored)
    if item.record.data_subject_id != pseudonym:
        raise NotFound("no such access record")
    return item


# --- the privacy officer's search ---------------------------------------------------------


@dataclass(frozen=True)
class SearchQuery:
    """The FG's selection. ``data_subject_id`` is a pseudonym; the BSN never gets this far."""

    since: str | None = None  # RFC 3339 UTC ms, inclusive
    until: str | None = None  # exclusive
    actor_sub: str | None = None
    purpose: str | None = None
    agency: str | None = None
    break_glass: bool | None = None
    data_subject_id: str | None = None
    kind: AuditEventKind | None = None

    def audit_filter(self) -> AuditFilter:
        return AuditFilter(since=self.since, until=self.until, actor_sub=self.actor_sub,
                           purpose=self.purpose, data_subject_id=self.data_subject_id,
                           kind=self.kind, break_glass=self.break_glass)

    def matches(self, record: AuditRecord) -> bool:
        """The part of the selection the database index does not cover (agency, child spans)."""
        if record.kind in CHILD_SPAN_KINDS and self.kind != record.kind:
            return False
        if self.agency is None:
            return True
        return (any(d.agency == self.agency for d in record.disclosed)
                or any(x.agency == self.agency for x in record.refused)
                or self.agency in record.unavailable)

    def as_form(self) -> dict[str, str]:
        """The selection as form fields (for "next page" and "export" buttons; no BSN)."""
        out = {k: v for k, v in {
            "since": self.since, "until": self.until, "actor_sub": self.actor_sub,
            "purpose": self.purpose, "agency": self.agency, "data_subject_id": self.data_subject_id,
            "kind": self.kind.value if self.kind else None,
        }.items() if v}
        if self.break_glass is not None:
            out["break_glass"] = "true" if self.break_glass else "false"
        return out


def day_start_utc(day: date) -> str:
    """Midnight in Amsterdam of ``day`` as the log's UTC timestamp format."""
    return utc_timestamp(datetime.combine(day, time(0, 0), tzinfo=AMSTERDAM))


def parse_day(value: str | None, *, end: bool = False) -> str | None:
    """``YYYY-MM-DD`` (a day in Amsterdam) or a full log timestamp → bound; ``end`` is exclusive
    so the "until" day is included whole."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return day_start_utc(day + timedelta(days=1) if end else day)
        return utc_timestamp(datetime.fromisoformat(value))
    except ValueError as e:
        raise BadInput("dates are YYYY-MM-DD", code="bad-date") from e


def search(log: AuditLog, query: SearchQuery, *, before: int | None = None,
           limit: int = 50) -> tuple[list[IndexedRecord], int | None]:
    if not 1 <= limit <= MAX_PAGE:
        raise BadInput(f"limit must be between 1 and {MAX_PAGE}", code="bad-limit")
    return _scan(log, query.audit_filter(), before=before, limit=limit, keep=query.matches)


def iter_selection(log: AuditLog, query: SearchQuery, *, stop: int | None = None) -> Iterator[StoredRecord]:
    """Every matching record below ``stop`` (default: the head now), oldest first (exports)."""
    stop = log.head().tree_size if stop is None else stop
    for stored in log.iter_records(query.audit_filter(), stop=stop):
        if query.matches(stored.record):
            yield stored


@dataclass
class RecordSummary:
    """A compact, display-ready line for the FG (no data content exists in the log anyway)."""

    index: int
    at_nl: str
    kind: str
    action_nl: str
    actor: str
    purpose_label: str
    case_id: str | None
    subject: str | None
    agencies: list[str] = field(default_factory=list)  # every organisation involved (disclosed or refused)
    break_glass: bool = False
    outcome: str = ""
    disclosed_by: list[str] = field(default_factory=list)  # organisations whose data left the gateway
    refused_by: list[str] = field(default_factory=list)  # organisations with a refused category
    unavailable_by: list[str] = field(default_factory=list)


#: The record's ``outcome`` in words for the FG (the code stays visible in the raw record).
OUTCOMES_NL = {
    "disclosed": "Gegevens gedeeld",
    "nothing_disclosed": "Niets gedeeld",
    "opened": "Zaak geopend",
    "granted": "Toestemming gegeven",
    "revoked": "Toestemming ingetrokken",
    "requested": "Om toestemming gevraagd",
    "answered": "Beantwoord",
    "searched": "Logboek doorzocht",
    "exported": "Logboek geëxporteerd",
    "justified": "Terecht",
    "not_justified": "Niet terecht",
    "reported": "Gemeld door de burger",
    "sent": "Verstuurd",
    "accepted": "Geaccepteerd",
    "refused": "Geweigerd",
    "denied": "Geweigerd",
}


def outcome_nl(outcome: str) -> str:
    return OUTCOMES_NL.get(outcome, "Mislukt of geweigerd (" + outcome + ")" if outcome else "")


def summarise(item: IndexedRecord, ex: Explainer) -> RecordSummary:
    r = item.record
    disclosed = sorted({d.agency for d in r.disclosed})
    refused_only = sorted({x.agency for x in r.refused if x.agency != "*"})
    agencies = sorted(set(disclosed) | set(refused_only))
    return RecordSummary(
        index=item.index, at_nl=time_nl(parse_record_time(r.start_time)), kind=r.kind.value,
        action_nl=ex.kind_label(r.kind.value), actor=f"{ex.role_label(r.actor_role, for_citizen=False)} {r.actor_sub}",
        purpose_label=ex.purpose_label(r.purpose) if r.purpose else "", case_id=r.case_id,
        subject=r.data_subject_id, agencies=[ex.organisation(a) for a in agencies],
        break_glass=r.break_glass, outcome=r.outcome,
        disclosed_by=[ex.organisation(a) for a in disclosed],
        refused_by=[ex.organisation(a) for a in refused_only],
        unavailable_by=[ex.organisation(a) for a in r.unavailable],
    )


def record_json(item: IndexedRecord) -> dict[str, Any]:
    return {"index": item.index, "record": item.record.to_dict()}


def access_json(v: AccessView) -> dict[str, Any]:
    return {
        "index": v.index, "record_id": v.record_id, "kind": v.kind, "action": v.action_nl,
        "time": v.at.isoformat().replace("+00:00", "Z"), "actor_role": v.actor_role,
        "actor": v.actor_nl, "actor_sub": v.actor_sub, "purpose": v.purpose,
        "purpose_label": v.purpose_label, "case_id": v.case_id, "break_glass": v.break_glass,
        "review_status": v.review_status,
        "shared": [{"agency": s.agency, "organisation": s.organisation, "category": s.category,
                    "category_label": s.category_label, "fields": list(s.fields),
                    "basis_type": s.basis_type, "basis": s.basis_nl} for s in v.shared],
        "refused": [{"agency": x.agency, "organisation": x.organisation, "category": x.category,
                     "category_label": x.category_label, "code": x.code, "reason": x.reason_nl}
                    for x in v.refused],
        "unavailable": list(v.unavailable),
        "proof": f"/v1/me/accesses/{v.index}/proof",
    }


def review_statuses(session: Any, decision_ids: Sequence[str]) -> Mapping[str, str]:
    """decision id → FG review status for break-glass records (shown to the citizen too)."""
    from sqlalchemy import select

    from gateway.core.models import BreakGlassEvent

    ids = [d for d in decision_ids if d]
    if not ids:
        return {}
    rows = session.execute(select(BreakGlassEvent.decision_id, BreakGlassEvent.review_status)
                           .where(BreakGlassEvent.decision_id.in_(ids)))
    return {str(d): str(s) for d, s in rows}
