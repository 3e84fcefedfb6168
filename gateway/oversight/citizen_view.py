"""The citizen's view of the log: every access to my data, and a proof for each line.

A proof is a ``loket-audit-proof-v1`` bundle (audit/export.py): the record, its RFC 9162
inclusion proof and the signed checkpoint it leads to. ``loket audit verify-proof`` checks it
offline with only the log's public key.
"""

from __future__ import annotations

from typing import Any

from audit.export import completeness_bundle, proof_bundle
from gateway.consents.service import citizen_pseudonym
from gateway.core.context import Loket
from gateway.dossier.explain import Explainer
from gateway.identity.auth import Principal
from gateway.oversight.access_log import (
    AccessView,
    IndexedRecord,
    access_view,
    citizen_accesses,
    own_record,
    review_statuses,
)


def views_of(loket: Loket, items: list[IndexedRecord]) -> list[AccessView]:
    ex = Explainer.of(loket)
    with loket.sessions() as session:
        reviews = review_statuses(session, [i.record.decision_id or "" for i in items if i.record.break_glass])
    return [access_view(i, ex, reviews.get(i.record.decision_id or "")) for i in items]


def my_accesses(loket: Loket, principal: Principal, *, before: int | None,
                limit: int) -> tuple[list[AccessView], int | None]:
    pseudonym = citizen_pseudonym(loket, principal)
    items, nxt = citizen_accesses(loket.audit, pseudonym, before=before, limit=limit)
    return views_of(loket, items), nxt


def my_proof(loket: Loket, principal: Principal, index: int) -> dict[str, Any]:
    """The proof bundle for one of my records; another citizen's index is 404 (no IDOR)."""
    own_record(loket.audit, citizen_pseudonym(loket, principal), index)
    return proof_bundle(loket.audit, index)


def my_completeness(loket: Loket, principal: Principal) -> dict[str, Any]:
    """All my records up to the latest checkpoint with the proof that the list is complete
    (``loket-audit-completeness-v1``, ADR 0005)."""
    return completeness_bundle(loket.audit, citizen_pseudonym(loket, principal))
