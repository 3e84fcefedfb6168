"""Policy input building and decision checking: pure functions, plain data in and out.

The engine's answer is untrusted until it parses into ``Decision``; anything else is an
engine error, so the request fails closed (see ``parse_decision``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adapters.catalog import Catalog
from gateway.core.errors import PolicyEngineError

BASIS_TYPES = frozenset({"legal_basis", "consent", "break_glass"})


@dataclass(frozen=True)
class Basis:
    type: str
    id: str
    citation: str | None = None
    verified: bool | None = None


@dataclass(frozen=True)
class Grant:
    agency: str
    category: str
    fields: tuple[str, ...]
    basis: Basis


@dataclass(frozen=True)
class Refusal:
    agency: str
    category: str
    code: str
    reason_nl: str


@dataclass(frozen=True)
class RequestReason:
    code: str
    reason_nl: str


def parse_rule_answer(raw: Any, items: str, what: str) -> tuple[bool, tuple[RequestReason, ...], tuple[str, ...]]:
    """A yes/no rule's answer (``data.loket.agency_request`` and ``.representation``): ``allow``,
    its ``reasons`` and the strings listed under ``items``.

    fail-closed: an answer off that contract, or an allow that carries reasons, is an engine
    error (503) and the caller does nothing."""
    try:
        allow = raw["allow"]
        reasons = tuple(RequestReason(str(r["code"]), str(r["reason_nl"])) for r in raw["reasons"])
        listed = tuple(str(s) for s in raw[items])
    except (KeyError, TypeError) as e:
        raise PolicyEngineError(f"{what} decision does not parse") from e
    if allow is not True and allow is not False:
        raise PolicyEngineError(f"{what} decision: allow is not a boolean")
    if allow and reasons:
        raise PolicyEngineError(f"{what} decision allows with reasons")
    return allow, reasons, listed


@dataclass(frozen=True)
class Decision:
    decision_id: str
    policy_revision: str
    purpose: str
    purpose_known: bool
    allow: bool
    break_glass: bool
    review_required: bool
    grants: tuple[Grant, ...]
    refusals: tuple[Refusal, ...]
    reasons: tuple[RequestReason, ...]

    def fields_by_agency(self) -> dict[str, tuple[str, ...]]:
        out: dict[str, list[str]] = {}
        for g in self.grants:
            out.setdefault(g.agency, []).extend(f for f in g.fields if f not in out.get(g.agency, []))
        return {a: tuple(sorted(fs)) for a, fs in out.items()}


@dataclass(frozen=True)
class ConsentFact:
    id: str
    purpose: str
    agency: str
    category: str
    valid_from: datetime
    valid_until: datetime
    revoked: bool
    explicit: bool
    #: Who may use it: the case whose request it answers, or the team the citizen named.
    case_id: str | None = None
    team: str | None = None
    #: The citizen's "no" to a request (a refusal of its own, never overridden).
    declined: bool = False


def to_ns(t: datetime) -> int:
    return int(t.timestamp()) * 1_000_000_000 + t.microsecond * 1_000


def build_policy_input(
    *,
    now: datetime,
    subject_sub: str,
    subject_role: str,
    case_id: str,
    case_purpose: str,
    case_casemanager: str,
    citizen_pseudonym: str,
    consents: Iterable[ConsentFact],
    break_glass: bool = False,
    justification_given: bool = False,
    categories: Sequence[tuple[str, str]] | None = None,
    subject_team: str | None = None,
    case_team: str | None = None,
    case_ground: str | None = None,
    pilot_unverified_bases: bool = False,
) -> dict[str, Any]:
    """The input document for ``data.loket.decision`` (docs/contracts.md). No BSN, no free text."""
    return {
        "time_ns": to_ns(now),
        "subject": {"sub": subject_sub, "role": subject_role, "team": subject_team},
        "case": {
            "id": case_id,
            "purpose": case_purpose,
            "casemanager": case_casemanager,
            "citizen": citizen_pseudonym,
            "team": case_team,
            "ground": None if case_ground is None else {"type": case_ground},
        },
        "pilot": {"unverified_bases": pilot_unverified_bases},
        "request": {
            "break_glass": break_glass,
            "justification_given": justification_given,
            "categories": None
            if categories is None
            else [{"agency": a, "category": c} for a, c in categories],
        },
        "consents": [
            {
                "id": c.id,
                "purpose": c.purpose,
                "agency": c.agency,
                "category": c.category,
                "valid_from_ns": to_ns(c.valid_from),
                "valid_until_ns": to_ns(c.valid_until),
                "revoked": c.revoked,
                "explicit": c.explicit,
                "case_id": c.case_id,
                "team": c.team,
                "declined": c.declined,
            }
            for c in consents
        ],
    }


def _req(obj: Mapping[str, Any], key: str, typ: type | tuple[type, ...]) -> Any:
    if key not in obj or not isinstance(obj[key], typ):
        raise PolicyEngineError(f"decision field {key!r} missing or of the wrong type", code="bad-decision")
    return obj[key]


# fail-closed: an answer off the contract, or a grant wider than the catalog, is a PolicyEngineError
def parse_decision(
    raw: Any, *, decision_id: str, policy_revision: str, catalog: Catalog
) -> Decision:
    """Check the engine's answer against the contract and the catalog; raise on anything off.

    A grant may only name fields that the catalog lists for that agency and category, so a
    policy bug cannot widen disclosure beyond what the agency categories define.
    """
    if not isinstance(raw, Mapping):
        raise PolicyEngineError("decision is not an object", code="bad-decision")
    grants: list[Grant] = []
    for g in _req(raw, "grants", list):
        if not isinstance(g, Mapping):
            raise PolicyEngineError("grant is not an object", code="bad-decision")
        agency, category = _req(g, "agency", str), _req(g, "category", str)
        fields = _req(g, "fields", list)
        basis = _req(g, "basis", Mapping)
        agency_def = catalog.agencies.get(agency)
        cat_def = agency_def.categories.get(category) if agency_def else None
        if cat_def is None:
            raise PolicyEngineError("grant names an unknown agency or category", code="bad-decision")
        if not all(isinstance(f, str) and f in cat_def.fields for f in fields):
            raise PolicyEngineError("grant names a field outside its category", code="bad-decision")
        btype = _req(basis, "type", str)
        if btype not in BASIS_TYPES:
            raise PolicyEngineError("grant has an unknown basis type", code="bad-decision")
        grants.append(
            Grant(
                agency=agency,
                category=category,
                fields=tuple(fields),
                basis=Basis(
                    type=btype,
                    id=_req(basis, "id", str),
                    citation=basis.get("citation") if isinstance(basis.get("citation"), str) else None,
                    verified=basis.get("verified") if isinstance(basis.get("verified"), bool) else None,
                ),
            )
        )
    refusals = tuple(
        Refusal(
            agency=_req(r, "agency", str),
            category=_req(r, "category", str),
            code=_req(r, "code", str),
            reason_nl=_req(r, "reason_nl", str),
        )
        for r in _req(raw, "refusals", list)
    )
    reasons = tuple(
        RequestReason(code=_req(r, "code", str), reason_nl=_req(r, "reason_nl", str))
        for r in _req(raw, "reasons", list)
    )
    allow = _req(raw, "allow", bool)
    if allow != bool(grants) or (reasons and grants):
        raise PolicyEngineError("decision is inconsistent (allow vs grants)", code="bad-decision")
    return Decision(
        decision_id=decision_id,
        policy_revision=policy_revision,
        purpose=_req(raw, "purpose", str),
        purpose_known=_req(raw, "purpose_known", bool),
        allow=allow,
        break_glass=_req(raw, "break_glass", bool),
        review_required=_req(raw, "review_required", bool),
        grants=tuple(grants),
        refusals=refusals,
        reasons=reasons,
    )
