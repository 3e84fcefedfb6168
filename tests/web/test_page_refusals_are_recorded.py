"""Every refusal after authentication leaves an audit record — on the pages as in the API.

A page that shows a refusal (its error page, or a flashed message after a form) first writes the
same ``access:denied`` record the API's problem handler writes; when that record cannot be
written, the page answers 503 and shows nothing of the refusal (gateway/web/session.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from audit.log import AuditFilter
from audit.record import AuditEventKind
from gateway.core.context import Loket
from tests.gateway.test_state_changes_commit_with_their_record import refuse_leaves
from tests.web.conftest import csrf_of, eva_bsn, login_citizen
from tests.web.test_casemanager_pages import login_cm


def denials(loket: Loket) -> list[dict[str, Any]]:
    return [dict(s.record.extra or {}) | {"outcome": s.record.outcome}
            for s in loket.audit.find(AuditFilter(kind=AuditEventKind.ACCESS_DENIED), limit=1000)]


def test_a_case_page_of_someone_elses_case_is_refused_and_recorded(
    web: TestClient, loket: Loket, sandbox: Any, casemanager: Callable[..., Any],
) -> None:
    case = casemanager("cm-001").open(eva_bsn(sandbox))
    login_cm(web, "cm-002")
    before = len(denials(loket))
    r = web.get(f"/casemanager/zaken/{case}")
    assert r.status_code == 404 and case not in r.text
    new = denials(loket)[: len(denials(loket)) - before]
    assert [d["route"] for d in new] == ["GET /casemanager/zaken/{case_id}"]
    assert new[0]["http_status"] == "404"


def test_a_flashed_refusal_after_a_form_is_recorded(web: TestClient, loket: Loket, sandbox: Any) -> None:
    login_citizen(web, eva_bsn(sandbox))
    token = csrf_of(web.get("/burger/toestemmingen").text)
    before = len(denials(loket))
    r = web.post("/burger/toestemmingen/bestaat-niet/intrekken", data={"csrf_token": token},
                 follow_redirects=False)
    assert r.status_code == 303  # back to the page, with the refusal flashed
    new = denials(loket)[: len(denials(loket)) - before]
    assert [d["route"] for d in new] == ["POST /burger/toestemmingen/{consent_id}/intrekken"]


def test_a_rejected_form_of_a_signed_in_user_is_recorded(web: TestClient, loket: Loket, sandbox: Any) -> None:
    login_citizen(web, eva_bsn(sandbox))
    web.get("/burger/toestemmingen")
    before = len(denials(loket))
    r = web.post("/burger/toestemmingen/x/intrekken", data={"csrf_token": "f" * 43}, follow_redirects=False)
    assert r.status_code == 403
    new = denials(loket)[: len(denials(loket)) - before]
    assert [(d["outcome"], d["http_status"]) for d in new] == [("csrf-rejected", "403")]


def test_a_page_refusal_that_cannot_be_recorded_answers_503_and_shows_no_refusal(
    web: TestClient, loket: Loket, sandbox: Any, casemanager: Callable[..., Any],
) -> None:
    case = casemanager("cm-001").open(eva_bsn(sandbox))
    login_cm(web, "cm-002")
    undo = refuse_leaves(loket)
    try:
        r = web.get(f"/casemanager/zaken/{case}")
    finally:
        undo()
    assert r.status_code == 503
    assert "Het lukt nu even niet" in r.text and "Niet gevonden" not in r.text


def test_a_bsn_in_a_form_of_a_signed_in_user_is_refused_and_recorded_without_it(
    web: TestClient, loket: Loket, sandbox: Any,
) -> None:
    bsn = eva_bsn(sandbox)
    login_citizen(web, bsn)
    token = csrf_of(web.get("/burger/hulp").text)
    before = len(denials(loket))
    spaced = f"{bsn[:4]} {bsn[4:6]} {bsn[6:]}"
    r = web.post("/burger/hulp", data={"csrf_token": token, "purpose": "schuldhulp_intake",
                                       "message": f"Mijn nummer is {spaced}"}, follow_redirects=False)
    assert r.status_code == 422 and bsn not in r.text and spaced not in r.text
    new = denials(loket)[: len(denials(loket)) - before]
    assert [(d["outcome"], d["http_status"]) for d in new] == [("bsn-in-free-text", "422")]
    assert bsn not in repr(new) and spaced not in repr(new)


def test_a_consent_form_the_gateway_refuses_is_recorded_bad_numbers_too(
    web: TestClient, loket: Loket, sandbox: Any,
) -> None:
    """The consent form catches both the service's refusal and a value that does not parse;
    each is flashed and recorded, as the API records its 400s."""
    login_citizen(web, eva_bsn(sandbox))
    routes = []
    for item, days in (("onbekend.niets", "90"), ("duo.studieschuld", "negentig")):
        token = csrf_of(web.get("/burger/toestemmingen").text)
        before = len(denials(loket))
        r = web.post("/burger/toestemmingen", data={"csrf_token": token, "purpose": "student_in_crisis",
                                                   "team": "team-centrum", "item": item, "days": days},
                     follow_redirects=False)
        assert r.status_code == 303
        routes += [(d["route"], d["http_status"]) for d in denials(loket)[: len(denials(loket)) - before]]
    assert len(routes) == 2 and {r for r, _ in routes} == {"POST /burger/toestemmingen"}
    assert all(status.startswith("4") for _, status in routes)
