"""The ADL record builder, without HTTP or a database."""

from __future__ import annotations

from datetime import UTC, datetime

from gateway.dossier.adl import adl_record, engine_info, outcome_of
from gateway.dossier.decisions import Basis, Decision, Grant, Refusal

INPUT = {
    "time_ns": 1_796_152_907_577_000_000,
    "subject": {"sub": "cm-001", "role": "casemanager"},
    "case": {"id": "c-1", "purpose": "student_in_crisis", "casemanager": "cm-001",
             "citizen": "ab" * 32, "ground": {"type": "aanmelding", "id": "g-1"}},
    "request": {"break_glass": False, "justification_given": False,
                "categories": [{"agency": "duo", "category": "studieschuld"}]},
    "consents": [{"id": "k-1", "revoked": False}, {"id": "k-2", "revoked": True}],
}


def decision(grants: tuple[Grant, ...] = (), refusals: tuple[Refusal, ...] = ()) -> Decision:
    return Decision(decision_id="d-1", policy_revision="sha256:x", purpose="student_in_crisis",
                    purpose_known=True, allow=bool(grants), break_glass=False, review_required=False,
                    grants=grants, refusals=refusals, reasons=())


GRANT = Grant("duo", "studieschuld", ("studieschuld.bedrag",), Basis("consent", "k-1"))
REFUSAL = Refusal("uwv", "inkomen", "consent_required", "Hiervoor is toestemming nodig.")


def test_outcomes() -> None:
    assert outcome_of(None).value == "error"
    assert outcome_of(decision()).value == "denied"
    assert outcome_of(decision((GRANT,))).value == "allowed"
    assert outcome_of(decision((GRANT,), (REFUSAL,))).value == "partly_allowed"


def test_a_record_names_its_policy_version_sources_engine_and_trace() -> None:
    rec = adl_record(decision_id="d-1", decided_at=datetime(2026, 12, 1, tzinfo=UTC),
                     trace_id="4bf92f3577b34da6a3ce929d0e0e4736", span_id="00f067aa0ba902b7",
                     policy_revision="sha256:x", policy_input=INPUT, decision=decision((GRANT,)),
                     engine=engine_info("opa", "http://127.0.0.1:8181"), action="dossier:read",
                     traceparent="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                     processing_activity_id="https://loket.example/v1/register/verwerkingen/x/v1-abc")
    assert rec["timestamp"] == "2026-12-01T00:00:00.000Z" and rec["endpoint"] == "evaluation"
    assert rec["policies"] == {"loket-policy-bundle": "sha256:x"}
    assert rec["engine"]["configuration"]["type"] == "opa"
    assert rec["information"]["loket.consents"] == {
        "presented": [{"id": "k-1", "revoked": False}, {"id": "k-2", "revoked": True}], "used": ["k-1"]}
    assert rec["information"]["loket.case"]["ground"] == {"type": "aanmelding", "id": "g-1"}
    assert rec["request"]["resource"]["properties"]["categories"] == ["duo.studieschuld"]
    assert rec["request"]["subject"] == {"type": "casemanager", "id": "cm-001"}
    assert rec["response"]["decision"] is True and rec["outcome"] == "allowed"


def test_an_engine_error_is_a_false_decision_with_its_code() -> None:
    rec = adl_record(decision_id="d-2", decided_at=datetime.now(UTC), trace_id="1" * 32, span_id="2" * 16,
                     policy_revision="sha256:x", policy_input=INPUT, decision=None,
                     engine=engine_info("embedded"), action="dossier:read", traceparent="00-" + "1" * 32
                     + "-" + "2" * 16 + "-01", error_code="policy-timeout")
    assert rec["response"] == {"decision": False, "context": {"outcome": "error", "error": "policy-timeout"}}
    assert rec["information"]["loket.consents"]["used"] == []
