"""The decision log: every decision with its exact input and the revision that made it,
so a logged decision can be replayed and explained later (like OPA's decision logs)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert
from sqlalchemy.orm import Session

from gateway.core.db import open_existing_database, session_factory
from gateway.core.errors import NotFound
from gateway.core.models import LoggedDecisionRow, utcnow
from gateway.core.settings import Settings


@dataclass(frozen=True)
class LoggedDecision:
    decision_id: str
    policy_revision: str
    input: dict[str, Any]
    result: dict[str, Any]


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def record_decision(
    conn: Connection,
    *,
    decision_id: str,
    case_id: str | None,
    policy_revision: str,
    policy_input: dict[str, Any],
    result: Any,
) -> None:
    """Insert the decision in the caller's transaction (the dossier commits it together with
    its audit record: a decision is logged exactly when its disclosure is)."""
    conn.execute(
        _INSERT,
        {
            "decision_id": decision_id,
            "case_id": case_id,
            "policy_revision": policy_revision,
            "input_json": _dumps(policy_input),
            "result_json": _dumps(result),
            "created_at": utcnow(),
        },
    )


_INSERT = insert(LoggedDecisionRow)


def get_logged_decision(session: Session, decision_id: str) -> LoggedDecision:
    row = session.get(LoggedDecisionRow, decision_id)
    if row is None:
        raise NotFound("no such decision")
    return LoggedDecision(
        decision_id=row.decision_id,
        policy_revision=row.policy_revision,
        input=json.loads(row.input_json),
        result=json.loads(row.result_json),
    )


def load_logged_decision(settings: Settings, decision_id: str) -> LoggedDecision:
    engine = open_existing_database(settings.resolved_database_url(), tables=[LoggedDecisionRow.__tablename__])
    try:
        with session_factory(engine)() as session:
            return get_logged_decision(session, decision_id)
    finally:
        engine.dispose()
