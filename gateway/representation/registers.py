"""What the registers say about a representative and the person they act for.

Looked up once per request, before the action (the API's citizen dependency, the citizen
pages): the citizen's own machtigingen (table ``machtigingen``), BRP gezag over the person (a
minor: the parents and guardians by BSN, and the birth date for the 18th birthday) and the
curatele- en bewindregister (the measures, their scope ``reikwijdte``, start and end, and the
representative by BSN or KvK number). Matching the signed-in person against these entries is
done here; whether a match covers an action is the policy's (policy.py, check.py).

A register that does not answer is named in ``unavailable``: with no allowing representation
found elsewhere, the action is refused as not verifiable (fail closed).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import anyio
from sqlalchemy import select

from adapters.registry import fetch_all
from gateway.core.context import Loket
from gateway.core.models import Machtiging
from gateway.identity.auth import Principal
from gateway.representation.policy import representation_data

BRP, CCBR = "brp", "curateleregister"
SOURCE_OF_AGENCY = {BRP: "brp", CCBR: "ccbr"}
_BRP_FIELDS = ("geboorte.datum", "gezag.type", "gezag.minderjarige", "gezag.ouder", "gezag.ouders",
               "gezag.derde", "gezag.derden")
_CCBR_FIELDS = ("maatregelen.soort", "maatregelen.reikwijdte", "maatregelen.ingangsdatum",
                "maatregelen.einddatum", "maatregelen.vertegenwoordiger.kvkNummer",
                "maatregelen.vertegenwoordiger.burgerservicenummer")


@dataclass(frozen=True)
class Candidate:
    """One entry in a register that names the signed-in person as a representative."""

    kind: str  # ouder, voogd, geen_gezag, curator, bewindvoerder, mentor, gemachtigde
    source: str  # brp, ccbr, machtigingen
    scope: tuple[str, ...] = ()
    valid_from: str | None = None  # ISO dates
    valid_until: str | None = None
    machtiging_id: str | None = None


@dataclass(frozen=True)
class Resolved:
    subject_pseudonym: str
    actor_pseudonym: str | None
    candidates: tuple[Candidate, ...]
    birth_date: str | None
    checked_at: datetime
    unavailable: tuple[str, ...] = ()
    #: the subject's display name, if a register gave it (never a BSN)
    subject_name: str | None = None
    #: the request's W3C traceparent, so a check made without one logs under the caller's trace
    traceparent: str | None = None


def _date(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("datum")
    return value[:10] if isinstance(value, str) and len(value) >= 10 else None


def _bsns(people: Iterable[Any]) -> set[str]:
    return {str(p["burgerservicenummer"]) for p in people
            if isinstance(p, dict) and isinstance(p.get("burgerservicenummer"), str)}


def gezag_candidates(person: Mapping[str, Any], subject_bsn: str, actor_bsn: str | None) -> list[Candidate]:
    """BRP gezag over ``subject_bsn`` that names ``actor_bsn`` (or, TijdelijkGeenGezag and
    GezagNietTeBepalen, names nobody: then nobody may act as a parent)."""
    kinds: Mapping[str, str] = representation_data()["gezag_kinds"]
    out: list[Candidate] = []
    for g in person.get("gezag") or ():
        if not isinstance(g, dict):
            continue
        minor = g.get("minderjarige")
        if isinstance(minor, dict) and minor.get("burgerservicenummer") not in (None, subject_bsn):
            continue
        kind = kinds.get(str(g.get("type")))
        if kind is None:
            continue
        if kind == "geen_gezag":
            out.append(Candidate(kind=kind, source="brp"))
            continue
        people = [g.get("ouder"), *(g.get("ouders") or ()), g.get("derde"), *(g.get("derden") or ())]
        named = _bsns(people)
        if actor_bsn is not None and actor_bsn in named:
            derde = actor_bsn in _bsns([g.get("derde"), *(g.get("derden") or ())])
            out.append(Candidate(kind="voogd" if derde and kind == "ouder" else kind, source="brp"))
    return out


def measure_candidates(record: Mapping[str, Any], actor_bsn: str | None, actor_kvk: str | None) -> list[Candidate]:
    measures: Mapping[str, str] = representation_data()["measures"]
    out: list[Candidate] = []
    for m in record.get("maatregelen") or ():
        if not isinstance(m, dict) or m.get("soort") not in measures:
            continue
        rep = m.get("vertegenwoordiger") or {}
        match = (actor_bsn is not None and rep.get("burgerservicenummer") == actor_bsn) or (
            actor_kvk is not None and rep.get("kvkNummer") == actor_kvk)
        if match:
            out.append(Candidate(kind=measures[m["soort"]], source="ccbr",
                                 scope=tuple(str(s) for s in m.get("reikwijdte") or ()),
                                 valid_from=_date(m.get("ingangsdatum")), valid_until=_date(m.get("einddatum"))))
    return out


def machtiging_candidates(loket: Loket, subject_pseudonym: str, actor_pseudonym: str | None) -> list[Candidate]:
    """The subject's machtigingen to this person that were not revoked (the policy checks the window)."""
    if actor_pseudonym is None:
        return []
    with loket.sessions() as session:
        rows = session.scalars(select(Machtiging).where(
            Machtiging.citizen_pseudonym == subject_pseudonym, Machtiging.gemachtigde_pseudonym == actor_pseudonym,
            Machtiging.revoked_at.is_(None)).order_by(Machtiging.created_at))
        return [Candidate(kind="gemachtigde", source="machtigingen", scope=tuple(r.scope),
                          valid_from=r.valid_from.date().isoformat(), valid_until=r.valid_until.date().isoformat(),
                          machtiging_id=r.id) for r in rows]


async def resolve(loket: Loket, principal: Principal, *, traceparent: str | None = None) -> Principal:
    """The principal with what the registers say about whom they act for (unchanged if nobody)."""
    if principal.act_for is None:
        return principal
    subject_bsn = principal.act_for
    subject = loket.pseudonymiser.pseudonym_for(subject_bsn)
    actor = loket.pseudonymiser.pseudonym_for(principal.bsn) if principal.bsn else None
    checked_at = datetime.now(UTC)
    answers = await fetch_all(loket.adapters, [(BRP, _BRP_FIELDS), (CCBR, _CCBR_FIELDS)], subject_bsn,
                              traceparent=traceparent)
    candidates: list[Candidate] = []
    unavailable: list[str] = []
    birth: str | None = None
    for answer in answers:
        if answer.status != "ok":
            unavailable.append(SOURCE_OF_AGENCY[answer.agency])
            continue
        if answer.agency == BRP:
            birth = _date((answer.data.get("geboorte") or {}).get("datum"))
            candidates += gezag_candidates(answer.data, subject_bsn, principal.bsn)
        else:
            candidates += measure_candidates(answer.data, principal.bsn, principal.kvk)
    candidates += await anyio.to_thread.run_sync(machtiging_candidates, loket, subject, actor)
    resolved = Resolved(subject_pseudonym=subject, actor_pseudonym=actor, candidates=tuple(candidates),
                        birth_date=birth, checked_at=checked_at, unavailable=tuple(unavailable),
                        traceparent=traceparent)
    return dataclasses.replace(principal, representation=resolved)
