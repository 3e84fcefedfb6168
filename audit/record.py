"""The audit record: what Loket writes to its Merkle log for every access and consent event.

Fields follow the Dutch Logboek Dataverwerkingen standard (trace id, span id, name, start/end
time, status, processing activity, data subject pseudonym and its type, receiving party) next
to Loket's own (actor, case, purpose, decision, policy revision, disclosures per agency and
category with their legal basis or consent, refusals, break-glass flag).

A record validates itself when constructed: identifiers have their exact formats, strings are
short, and no string anywhere may carry a token that looks like a BSN (nine digits) — the log
identifies citizens only by a keyed pseudonym and holds no data content.

Leaf encoding (version 1, see docs/adr/0003-audit-log-format.md)::

    b"loket-audit-v1\\n" + JCS(record dict)        # RFC 8785 canonical JSON, UTF-8

The canonical JSON contains no raw newline, so one leaf body is one line of text.

Logboek Dataverwerkingen 0.8 added fields that v1 leaves written before it do not have:
``parent_span_id``, ``foreign_operation`` and ``resource``. They are *optional members* of the
v1 body: present only when set, so a record without them encodes to exactly the bytes it always
did and every existing log keeps verifying; a decoder accepts a body with or without them.
"""

from __future__ import annotations

import json
import re
import secrets
import types
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from urllib.parse import quote

import rfc8785

from audit.pseudonym import DATA_SUBJECT_ID_TYPE

LEAF_PREFIX = b"loket-audit-v1\n"
LEAF_FORMAT = "loket-audit-v1"

# Limits on what a record may hold (it is metadata, never data content).
MAX_LEAF_BYTES = 16 * 1024
MAX_STRING_CHARS = 256
# The default processing_activity_id percent-encodes the purpose (up to 256 characters of up
# to 4 UTF-8 bytes, each byte 3 characters "%XX"), so it must hold 12x a string's length: a
# record must never be refused for a field it derived itself from a valid one.
_ACTIVITY_PREFIX = "urn:loket:processing-activity:"
MAX_ACTIVITY_ID_CHARS = len(_ACTIVITY_PREFIX) + 12 * MAX_STRING_CHARS
MAX_EXTRA_ENTRIES = 16
MAX_ITEMS = 64  # disclosed / refused / unavailable entries, fields per disclosure

STATUS_UNSET, STATUS_OK, STATUS_ERROR = 0, 1, 2  # Logboek Dataverwerkingen status_code


class AuditEventKind(StrEnum):
    """Audit vocabulary (also the Logboek ``name``)."""

    DOSSIER_READ = "dossier:read"
    DOSSIER_REFUSED = "dossier:refused"
    DOSSIER_ERROR = "dossier:error"
    DOSSIER_BREAK_GLASS = "dossier:break_glass"
    CASE_OPENED = "case:opened"
    AANMELDING_CREATED = "aanmelding:created"
    SIGNAL_RECEIVED = "signal:received"
    CONSENT_GRANTED = "consent:granted"
    CONSENT_REVOKED = "consent:revoked"
    CONSENT_REQUEST_CREATED = "consent_request:created"
    CONSENT_REQUEST_ANSWERED = "consent_request:answered"
    BREAK_GLASS_REVIEWED = "break_glass:reviewed"
    ACCESS_DENIED = "access:denied"
    # NEN 7513 counts looking at and exporting the log as actions of their own.
    ACCESS_LOG_SEARCHED = "access_log:searched"
    ACCESS_LOG_EXPORTED = "access_log:exported"
    #: The FG opened one record, a break-glass item or the unusual patterns (NEN 7513: a read).
    ACCESS_LOG_VIEWED = "access_log:viewed"
    # Logboek Dataverwerkingen: one line per processing action. A dossier's call to one agency
    # is a child span of the dossier's own record (parent_span_id = the dossier's span_id).
    DOSSIER_AGENCY_CALL = "dossier:agency_call"
    # Another gateway asked Loket's policy through the AuthZEN evaluation endpoint.
    AUTHZEN_EVALUATED = "authzen:evaluated"
    # "Ik herken dit niet": a citizen's report about a line of their log, and the FG's answer.
    ACCESS_REPORT_CREATED = "access_report:created"
    ACCESS_REPORT_ANSWERED = "access_report:answered"
    # Two-way requests to agencies (pause collection, payment plan, warm handover).
    AGENCY_REQUEST_SENT = "agency_request:sent"
    AGENCY_REQUEST_REFUSED = "agency_request:refused"
    AGENCY_REQUEST_ANSWERED = "agency_request:answered"
    # Acting for someone: every check of a representation (source register, time, kind, scope,
    # result), and the citizen's own authorisations (machtigingen) given and revoked.
    REPRESENTATION_CHECKED = "representation:checked"
    MACHTIGING_GRANTED = "machtiging:granted"
    MACHTIGING_REVOKED = "machtiging:revoked"
    # A witness refused the log's checkpoint (it holds a tree the log is inconsistent with) or
    # answered without a valid cosignature (audit/witnessing.py): an alert for the FG.
    WITNESS_ALERT = "witness:alert"


_HEX32 = re.compile(r"[0-9a-f]{32}")
_HEX16 = re.compile(r"[0-9a-f]{16}")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
_URI = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*:\S+")
# A BSN "in clear": a token of exactly nine digits, not part of a longer alphanumeric token.
# (Opaque random identifiers such as hex hashes and UUIDs legitimately contain digit runs
# between letters; those are not BSN-shaped and must not be rejected at random.)
_BSN_LIKE = re.compile(r"(?<![0-9A-Za-z])[0-9]{9}(?![0-9A-Za-z])")


def canonical_json(value: dict[str, Any]) -> bytes:
    """RFC 8785 (JCS) encoding of a record dict.

    For the record's value space (strings, small ints, bools, null, lists, objects) JCS equals
    ``json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` as UTF-8 as
    long as every object key is ASCII: JCS sorts keys by UTF-16 code units, which for ASCII
    is Python's order, and escapes exactly what ``json`` escapes. That fast path is ~20x
    quicker than the general ``rfc8785`` encoder, which handles everything else.
    """
    if _fast_path_ok(value):
        try:
            return json.dumps(
                value, sort_keys=True, separators=(",", ":"), ensure_ascii=False
            ).encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: let rfc8785 reject it
            pass
    try:
        return rfc8785.dumps(value)
    except rfc8785.FloatDomainError as e:  # NaN, infinities
        raise ValueError(f"not representable in RFC 8785 JSON: {e}") from e


def _fast_path_ok(v: object) -> bool:
    """ASCII object keys, integers JCS can represent exactly (|i| < 2**53), no floats (JCS
    writes ``1.0`` as ``1`` and refuses NaN and infinities; ``json.dumps`` does neither)."""
    if isinstance(v, dict):
        return all(k.isascii() and _fast_path_ok(x) for k, x in v.items())
    if isinstance(v, list):
        return all(_fast_path_ok(x) for x in v)
    if isinstance(v, float):
        return False
    if isinstance(v, int) and not isinstance(v, bool):
        return abs(v) < 2**53
    return True


def utc_timestamp(when: datetime | None = None) -> str:
    """RFC 3339 UTC with milliseconds, e.g. ``2026-11-25T11:48:00.123Z`` (sorts as text)."""
    dt = (when or datetime.now(UTC)).astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def new_trace_id() -> str:
    return secrets.token_hex(16)


def new_span_id() -> str:
    return secrets.token_hex(8)


def contains_bsn_like(value: str) -> bool:
    return _BSN_LIKE.search(value) is not None


def _text(
    name: str, value: object, *, optional: bool = False, max_chars: int = MAX_STRING_CHARS
) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string")  # noqa: TRY004 - the record contract is ValueError
    if not value and not optional:
        raise ValueError(f"{name} must not be empty")
    if len(value) > max_chars:
        raise ValueError(f"{name} longer than {max_chars} characters")
    if any(c in value for c in "\r\n\x00"):
        raise ValueError(f"{name} must be one line")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: no UTF-8 (so no leaf) can carry it
            raise ValueError(f"{name} is not valid Unicode text") from None
    if contains_bsn_like(value):
        raise ValueError(f"{name} contains a nine-digit number that looks like a BSN")


def _pattern(
    name: str, value: object, pattern: re.Pattern[str], what: str, *, optional: bool = False
) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise ValueError(f"{name} must be {what}")


@dataclass(frozen=True)
class Disclosure:
    """One (agency, category) whose ``fields`` left the gateway, and why that was allowed."""

    agency: str
    category: str
    fields: tuple[str, ...]
    basis_type: str  # "legal_basis" | "consent" | "break_glass"
    basis_id: str  # legal basis id or consent id

    def __post_init__(self) -> None:
        object.__setattr__(self, "fields", tuple(self.fields))
        for n in ("agency", "category", "basis_type", "basis_id"):
            _text(f"disclosed.{n}", getattr(self, n))
        if self.basis_type not in ("legal_basis", "consent", "break_glass"):
            raise ValueError(f"disclosed.basis_type {self.basis_type!r} is not a known basis type")
        if len(self.fields) > MAX_ITEMS:
            raise ValueError("too many fields in one disclosure")
        for f in self.fields:
            _text("disclosed.fields[]", f)

    def to_dict(self) -> dict[str, Any]:
        return {
            "agency": self.agency,
            "category": self.category,
            "fields": list(self.fields),
            "basis_type": self.basis_type,
            "basis_id": self.basis_id,
        }


@dataclass(frozen=True)
class Refusal:
    """One (agency, category) the policy refused, with its refusal code."""

    agency: str
    category: str
    code: str

    def __post_init__(self) -> None:
        for n in ("agency", "category", "code"):
            _text(f"refused.{n}", getattr(self, n))

    def to_dict(self) -> dict[str, Any]:
        return {"agency": self.agency, "category": self.category, "code": self.code}


@dataclass(frozen=True)
class ForeignOperation:
    """The caller's operation when its W3C ``traceparent`` came in (Logboek Dataverwerkingen
    0.8, ``foreign_operation``: trace_id, span_id, entity — the URI of the calling party)."""

    trace_id: str
    span_id: str
    entity: str

    def __post_init__(self) -> None:
        _pattern("foreign_operation.trace_id", self.trace_id, _HEX32, "32 lowercase hex digits")
        _pattern("foreign_operation.span_id", self.span_id, _HEX16, "16 lowercase hex digits")
        if self.trace_id == "0" * 32 or self.span_id == "0" * 16:
            raise ValueError("foreign_operation ids must not be all zero (W3C Trace Context)")
        _text("foreign_operation.entity", self.entity)
        _pattern("foreign_operation.entity", self.entity, _URI, "a URI")

    def to_dict(self) -> dict[str, Any]:
        return {"trace_id": self.trace_id, "span_id": self.span_id, "entity": self.entity}


MAX_RESOURCE_ENTRIES = 8


@dataclass(frozen=True, kw_only=True)
class AuditRecord:
    """One audit event. Construct with keywords; defaults fill ids and times."""

    kind: AuditEventKind
    actor_sub: str
    actor_role: str
    outcome: str  # short slug: "disclosed", "refused", "error", "granted", ...
    # Logboek Dataverwerkingen
    trace_id: str = field(default_factory=new_trace_id)
    span_id: str = field(default_factory=new_span_id)
    start_time: str = field(default_factory=utc_timestamp)
    end_time: str | None = None  # defaults to start_time
    status_code: int = STATUS_OK
    processing_activity_id: str | None = (
        None  # defaults to urn:loket:processing-activity:<purpose|kind>
    )
    data_subject_id: str | None = None  # keyed pseudonym (64 hex), never a BSN
    data_subject_id_type: str | None = (
        None  # defaults to the pseudonymiser's type when a subject is set
    )
    receiver: str | None = None  # receiving party; defaults to "<actor_role>:<actor_sub>"
    # Logboek Dataverwerkingen 0.8, optional (absent from the leaf when None, see module doc)
    parent_span_id: str | None = None  # the calling action within this trace
    foreign_operation: ForeignOperation | None = None  # the caller's action at another party
    resource: Mapping[str, str] | None = field(default=None, hash=False)  # service.name/.version
    # Loket's own
    record_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    case_id: str | None = None
    purpose: str | None = None
    decision_id: str | None = None
    policy_revision: str | None = None
    break_glass: bool = False
    justification_sha256: str | None = None  # hash of the break-glass justification, never the text
    disclosed: tuple[Disclosure, ...] = ()
    refused: tuple[Refusal, ...] = ()
    unavailable: tuple[str, ...] = ()
    extra: Mapping[str, str] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "kind", AuditEventKind(self.kind))
        if self.end_time is None:
            set_(self, "end_time", self.start_time)
        if self.processing_activity_id is None:
            _text("purpose", self.purpose, optional=True)  # before quote() encodes it
            activity = quote(self.purpose or self.kind.value, safe=":_-.")
            set_(self, "processing_activity_id", f"{_ACTIVITY_PREFIX}{activity}")
        if self.data_subject_id is not None and self.data_subject_id_type is None:
            set_(self, "data_subject_id_type", DATA_SUBJECT_ID_TYPE)
        if self.receiver is None:
            set_(self, "receiver", f"{self.actor_role}:{self.actor_sub}")
        set_(self, "disclosed", tuple(self.disclosed))
        set_(self, "refused", tuple(self.refused))
        set_(self, "unavailable", tuple(self.unavailable))
        set_(self, "extra", types.MappingProxyType(dict(sorted(dict(self.extra).items()))))
        if self.resource is not None:
            set_(self, "resource", types.MappingProxyType(dict(sorted(dict(self.resource).items()))))
        self._validate()

    def _validate(self) -> None:
        _pattern("trace_id", self.trace_id, _HEX32, "32 lowercase hex digits")
        if self.trace_id == "0" * 32:
            raise ValueError("trace_id must not be all zero (W3C Trace Context)")
        _pattern("span_id", self.span_id, _HEX16, "16 lowercase hex digits")
        if self.span_id == "0" * 16:
            raise ValueError("span_id must not be all zero (W3C Trace Context)")
        _pattern("record_id", self.record_id, _UUID4, "a lowercase UUID4")
        _pattern("start_time", self.start_time, _TIME, "RFC 3339 UTC with milliseconds")
        _pattern("end_time", self.end_time, _TIME, "RFC 3339 UTC with milliseconds")
        assert self.end_time is not None
        if self.end_time < self.start_time:
            raise ValueError("end_time before start_time")
        if type(self.status_code) is not int or self.status_code not in (0, 1, 2):
            raise ValueError("status_code must be 0 (unset), 1 (ok) or 2 (error)")
        _text("processing_activity_id", self.processing_activity_id, max_chars=MAX_ACTIVITY_ID_CHARS)
        _pattern("processing_activity_id", self.processing_activity_id, _URI, "a URI")
        _pattern(
            "data_subject_id", self.data_subject_id, _HEX64, "a 64-hex pseudonym", optional=True
        )
        _text("data_subject_id_type", self.data_subject_id_type, optional=True)
        if (self.data_subject_id is None) != (self.data_subject_id_type is None):
            raise ValueError("data_subject_id and data_subject_id_type go together")
        _pattern(
            "justification_sha256",
            self.justification_sha256,
            _HEX64,
            "64 lowercase hex digits",
            optional=True,
        )
        if type(self.break_glass) is not bool:
            raise ValueError("break_glass must be a bool")
        if self.justification_sha256 is not None and not self.break_glass:
            raise ValueError("a justification hash belongs to a break-glass record")
        for n in ("actor_sub", "actor_role", "outcome", "receiver"):
            _text(n, getattr(self, n))
        for n in ("case_id", "purpose", "decision_id", "policy_revision"):
            _text(n, getattr(self, n), optional=True)
        for items, cls, n in (
            (self.disclosed, Disclosure, "disclosed"),
            (self.refused, Refusal, "refused"),
        ):
            if len(items) > MAX_ITEMS:
                raise ValueError(f"too many {n} entries")
            if not all(isinstance(i, cls) for i in items):
                raise ValueError(f"{n} must hold {cls.__name__} values")
        if len(self.unavailable) > MAX_ITEMS:
            raise ValueError("too many unavailable entries")
        for a in self.unavailable:
            _text("unavailable[]", a)
        _pattern("parent_span_id", self.parent_span_id, _HEX16, "16 lowercase hex digits", optional=True)
        if self.parent_span_id is not None and self.parent_span_id in ("0" * 16, self.span_id):
            raise ValueError("parent_span_id must be another, non-zero span id")
        if self.foreign_operation is not None and not isinstance(self.foreign_operation, ForeignOperation):
            raise ValueError("foreign_operation must be a ForeignOperation")
        if self.resource is not None:
            if not self.resource or len(self.resource) > MAX_RESOURCE_ENTRIES:
                raise ValueError(f"resource holds 1 to {MAX_RESOURCE_ENTRIES} attributes")
            for k, v in self.resource.items():
                _text("resource key", k, max_chars=64)
                _text(f"resource[{k}]", v)
        if len(self.extra) > MAX_EXTRA_ENTRIES:
            raise ValueError(f"extra holds at most {MAX_EXTRA_ENTRIES} entries")
        for k, v in self.extra.items():
            _text("extra key", k, max_chars=64)
            _text(f"extra[{k}]", v)

    @property
    def name(self) -> str:
        """Logboek Dataverwerkingen ``name``: the event kind."""
        return self.kind.value

    # --- encoding ------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The record as plain JSON data (the leaf body before canonicalisation)."""
        return {
            "record_id": self.record_id,
            "kind": self.kind.value,
            "name": self.name,
            "trace_id": self.trace_id,
            "span_id": self.span_id,
            "start_time": self.start_time,
            "end_time": self.end_time,
            "status_code": self.status_code,
            "processing_activity_id": self.processing_activity_id,
            "data_subject_id": self.data_subject_id,
            "data_subject_id_type": self.data_subject_id_type,
            "receiver": self.receiver,
            "actor_sub": self.actor_sub,
            "actor_role": self.actor_role,
            "case_id": self.case_id,
            "purpose": self.purpose,
            "decision_id": self.decision_id,
            "policy_revision": self.policy_revision,
            "break_glass": self.break_glass,
            "justification_sha256": self.justification_sha256,
            "disclosed": [d.to_dict() for d in self.disclosed],
            "refused": [r.to_dict() for r in self.refused],
            "unavailable": list(self.unavailable),
            "outcome": self.outcome,
            "extra": dict(self.extra),
            **self._optional_dict(),
        }

    def _optional_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.parent_span_id is not None:
            out["parent_span_id"] = self.parent_span_id
        if self.foreign_operation is not None:
            out["foreign_operation"] = self.foreign_operation.to_dict()
        if self.resource is not None:
            out["resource"] = dict(self.resource)
        return out

    def canonical_json(self) -> bytes:
        # The record's value space is fixed by _validate: strings, bools, None, lists and
        # objects of those, and one small int (status_code in 0..2). So the only thing that can
        # leave canonical_json's json.dumps fast path is a non-ASCII ``extra`` key; checking
        # that here skips the generic walk over the whole dict (the bulk of an append's CPU).
        if all(k.isascii() for k in self.extra) and all(k.isascii() for k in self.resource or {}):
            try:
                return json.dumps(
                    self.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False
                ).encode("utf-8")
            except UnicodeEncodeError:  # a lone surrogate: let rfc8785 reject it
                pass
        return rfc8785.dumps(self.to_dict())

    def to_leaf(self) -> bytes:
        """The exact bytes that are hashed into the Merkle tree (leaf format v1)."""
        leaf = LEAF_PREFIX + self.canonical_json()
        if len(leaf) > MAX_LEAF_BYTES:
            raise ValueError(f"audit record encodes to {len(leaf)} bytes, limit {MAX_LEAF_BYTES}")
        return leaf

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AuditRecord:
        keys = set(data)
        expected = set(_FIELD_ORDER)
        if not expected <= keys <= expected | set(OPTIONAL_FIELDS):
            unknown = keys - expected - set(OPTIONAL_FIELDS)
            raise ValueError(
                f"record fields differ: missing {sorted(expected - keys)}, unknown {sorted(unknown)}"
            )
        foreign = data.get("foreign_operation")
        if foreign is not None:
            if not isinstance(foreign, dict) or set(foreign) != {"trace_id", "span_id", "entity"}:
                raise ValueError("foreign_operation must be an object with trace_id, span_id, entity")
            foreign = ForeignOperation(**foreign)
        resource = data.get("resource")
        if resource is not None and not isinstance(resource, dict):
            raise ValueError("resource must be an object")
        if data["name"] != data["kind"]:
            raise ValueError("record name and kind differ")
        try:
            disclosed = tuple(
                Disclosure(
                    agency=d["agency"],
                    category=d["category"],
                    fields=tuple(d["fields"]),
                    basis_type=d["basis_type"],
                    basis_id=d["basis_id"],
                )
                for d in _list(data["disclosed"], "disclosed")
            )
            refused = tuple(
                Refusal(agency=r["agency"], category=r["category"], code=r["code"])
                for r in _list(data["refused"], "refused")
            )
        except (KeyError, TypeError) as e:
            raise ValueError(f"malformed disclosed/refused entry: {e}") from e
        extra = data["extra"]
        if not isinstance(extra, dict):
            raise ValueError("extra must be an object")  # noqa: TRY004 - the record contract is ValueError
        if data["data_subject_id"] is None and data["data_subject_id_type"] is not None:
            raise ValueError("data_subject_id_type without data_subject_id")
        return cls(
            kind=AuditEventKind(data["kind"]),
            record_id=data["record_id"],
            trace_id=data["trace_id"],
            span_id=data["span_id"],
            start_time=data["start_time"],
            end_time=data["end_time"],
            status_code=data["status_code"],
            processing_activity_id=data["processing_activity_id"],
            data_subject_id=data["data_subject_id"],
            data_subject_id_type=data["data_subject_id_type"],
            receiver=data["receiver"],
            actor_sub=data["actor_sub"],
            actor_role=data["actor_role"],
            case_id=data["case_id"],
            purpose=data["purpose"],
            decision_id=data["decision_id"],
            policy_revision=data["policy_revision"],
            break_glass=data["break_glass"],
            justification_sha256=data["justification_sha256"],
            disclosed=disclosed,
            refused=refused,
            unavailable=tuple(_list(data["unavailable"], "unavailable")),
            outcome=data["outcome"],
            extra=extra,
            parent_span_id=data.get("parent_span_id"),
            foreign_operation=foreign,
            resource=resource,
        )

    @classmethod
    def from_leaf(cls, leaf: bytes) -> AuditRecord:
        """Decode a v1 leaf; raise ValueError unless it is exactly the canonical encoding."""
        if not leaf.startswith(LEAF_PREFIX):
            raise ValueError("not a loket-audit-v1 leaf")
        if len(leaf) > MAX_LEAF_BYTES:
            raise ValueError("leaf too large")
        body = leaf[len(LEAF_PREFIX) :]
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ValueError(f"leaf body is not JSON: {e}") from e
        if not isinstance(data, dict):
            raise ValueError("leaf body is not a JSON object")  # noqa: TRY004 - decoding error
        record = cls.from_dict(data)
        if record.canonical_json() != body:
            raise ValueError("leaf body is not the canonical encoding of its record")
        return record


_FIELD_ORDER = tuple(
    AuditRecord(
        kind=AuditEventKind.ACCESS_DENIED, actor_sub="x", actor_role="x", outcome="x"
    ).to_dict()
)
CSV_FIELDS = _FIELD_ORDER
#: Members a v1 body may carry on top of _FIELD_ORDER (Logboek Dataverwerkingen 0.8).
OPTIONAL_FIELDS = ("parent_span_id", "foreign_operation", "resource")


def _list(value: object, name: str) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError(f"{name} must be a list")  # noqa: TRY004 - the record contract is ValueError
    return value


def iter_strings(record: AuditRecord) -> Iterable[str]:
    """Every string in the record's encoding (for scans such as 'no BSN anywhere')."""

    def walk(v: object) -> Iterable[str]:
        if isinstance(v, str):
            yield v
        elif isinstance(v, dict):
            for k, x in v.items():
                yield k
                yield from walk(x)
        elif isinstance(v, list):
            for x in v:
                yield from walk(x)

    return list(walk(record.to_dict()))
