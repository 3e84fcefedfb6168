"""Every flow a user can drive, run once with hostile free text, for the page-escaping and
secrets-scan suites: a casemanager (a hostile ``sub`` is refused first) opens cases, reads dossiers, breaks
the glass, asks consent; the citizen grants, answers and revokes; the FG searches by BSN,
exports and reviews; plus failing paths (bad BSN, policy engine down, audit write refused)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from gateway.core.context import Loket
from gateway.core.errors import AuditWriteError, PolicyEngineError
from tests import cases
from tests.conftest import bearer
from tests.security.helpers import eva_bsn, minter, open_case, other_bsn

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'
SQLI = "'); DROP TABLE audit_records; --"
HOSTILE_SUB = '<b onmouseover="alert(1)">cm-evil</b>'  # refused at the door (401, check_sub)
CM_SUB = "cm-evil"
JUSTIFICATION = f"Dreigende uitzetting morgen vroeg {XSS} {SQLI} \u202egniwor"
MESSAGE = f"Mogen wij uw studieschuld zien? {XSS} {SQLI}"
NOTE = f"Terecht, zie dossier {XSS} {SQLI}"
BREAK_GLASS_PURPOSE = "crisis_noodtoegang"


@dataclass
class FlowRun:
    tokens: list[str] = field(default_factory=list)
    bsns: list[str] = field(default_factory=list)
    data_values: list[str] = field(default_factory=list)  # values agencies returned
    problem_bodies: list[str] = field(default_factory=list)
    break_glass_event_id: str = ""
    consent_request_id: str = ""
    case_id: str = ""
    bg_case_id: str = ""


def _record(run: FlowRun, r: Any) -> Any:
    if r.headers.get("content-type", "").startswith("application/problem+json"):
        run.problem_bodies.append(r.text)
    return r


def run_flows(loket: Loket, client: TestClient, sandbox: Any) -> FlowRun:
    run = FlowRun()
    mint = minter(loket)
    eva, other = eva_bsn(sandbox), other_bsn(sandbox)
    run.bsns = [eva, other]
    assert client.get("/v1/cases", headers=bearer(mint(sub=HOSTILE_SUB))).status_code == 401
    cm = mint(sub=CM_SUB)
    citizen = mint(role="citizen", sub="burger-eva-scan", bsn=eva)
    fg = mint(role="privacy_officer", sub="fg-scan")
    run.tokens = [cm, citizen, fg]
    h = bearer

    run.case_id = open_case(client, cm, eva)
    dossier = client.get(f"/v1/cases/{run.case_id}/dossier", headers=h(cm)).json()
    run.data_values = sorted({str(f["value"]) for f in dossier["fields"]
                              if isinstance(f["value"], str) and len(f["value"]) >= 5})

    run.bg_case_id = open_case(client, cm, other, purpose=BREAK_GLASS_PURPOSE)
    bg = _record(run, client.post(f"/v1/cases/{run.bg_case_id}/dossier/break-glass", headers=h(cm),
                                  json={"justification": JUSTIFICATION}))
    assert bg.status_code == 200, bg.text
    run.data_values += sorted({str(f["value"]) for f in bg.json()["fields"]
                               if isinstance(f["value"], str) and len(f["value"]) >= 5})
    _record(run, client.post(f"/v1/cases/{run.bg_case_id}/dossier/break-glass", headers=h(cm),
                             json={"justification": f"te kort {eva}"}))
    _record(run, client.post(f"/v1/cases/{run.bg_case_id}/dossier/break-glass", headers=h(cm),
                             json={"justification": f"Dringend, BSN van de burger is {eva} echt"}))

    cr = client.post(f"/v1/cases/{run.case_id}/consent-requests", headers=h(cm),
                     json={"categories": ["duo.studieschuld"], "message": MESSAGE})
    assert cr.status_code == 201, cr.text
    run.consent_request_id = cr.json()["id"]
    _record(run, client.post(f"/v1/cases/{run.case_id}/consent-requests", headers=h(cm),
                             json={"categories": ["duo.studieschuld"], "message": f"bsn {eva}"}))
    ans = client.post(f"/v1/me/consent-requests/{run.consent_request_id}/answer", headers=h(citizen),
                      json={"answers": {"duo.studieschuld": "approve"}})
    assert ans.status_code == 200, ans.text
    again = client.get(f"/v1/cases/{run.case_id}/dossier", headers=h(cm)).json()
    run.data_values += sorted({str(f["value"]) for f in again["fields"]
                               if isinstance(f["value"], str) and len(f["value"]) >= 5})
    for c in client.get("/v1/me/consents", headers=h(citizen)).json():
        client.delete(f"/v1/me/consents/{c['id']}", headers=h(citizen))
    client.post("/v1/me/consents", headers=h(citizen), json={
        "purpose": "student_in_crisis", "agency": "uwv", "category": "inkomen",
        "team": "team-centrum", "valid_until": (datetime.now(UTC) + timedelta(days=1)).isoformat()})
    client.get("/v1/me/accesses", headers=h(citizen))

    queue = client.get("/v1/fg/break-glass", headers=h(fg)).json()["items"]
    run.break_glass_event_id = next(e["id"] for e in queue if e["case_id"] == run.bg_case_id)
    rv = client.post(f"/v1/fg/break-glass/{run.break_glass_event_id}/reviews", headers=h(fg),
                     json={"verdict": "justified", "note": NOTE})
    assert rv.status_code == 201, rv.text
    client.post("/v1/fg/search", headers=h(fg), json={"bsn": eva})
    client.post("/v1/fg/export", headers=h(fg), json={"bsn": eva})

    # Failing paths: a bad BSN, the engine down, the log refusing writes.
    _record(run, client.post("/v1/cases", headers=cases.coordinator_headers(client),
                             json=cases.toewijzing(eva[:-1] + str((int(eva[-1]) + 1) % 10), "student_in_crisis")))
    real_policy, real_append = loket.policy, loket.audit.append_group

    class Down:
        revision = real_policy.revision

        def evaluate(self, _input: Any) -> Any:
            raise PolicyEngineError("engine down")

    loket.policy = Down()  # type: ignore[assignment]
    _record(run, client.get(f"/v1/cases/{run.case_id}/dossier", headers=h(cm)))
    loket.policy = real_policy

    def refuse(_record_: Any, **_kw: Any) -> Any:
        raise AuditWriteError("disk full")

    loket.audit.append_group = refuse  # type: ignore[method-assign]
    _record(run, client.get(f"/v1/cases/{run.case_id}/dossier", headers=h(cm)))
    loket.audit.append_group = real_append  # type: ignore[method-assign]
    assert run.data_values, "the flows disclosed data (so the scan has values to look for)"
    return run
