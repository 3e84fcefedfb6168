"""Examples for the published contract: one per request and response body, synthetic data only
(BSNs from the 9999xxxxx test range, valid under the elfproef; no real person). Spectral's
``oas3-valid-media-example`` checks each against its schema, so a schema change that breaks an
example fails CI (tests/contract/test_openapi_rules.py)."""

from __future__ import annotations

from typing import Any

# Synthetic identifiers, the same across examples so they read as one story (Eva, 22, student).
BSN = "999994001"  # 9999xxxxx test range, passes the elfproef; no real person
CASE = "54d7ec05-0ee1-4119-8839-91ffc088d720"
CONSENT = "a8cae993-f0cb-4aad-b4c9-3f4cfcdf0544"
REQUEST = "0b7c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3"
DECISION = "6c76b86e-d6ea-4843-9d1d-79a3c6a8b825"
BG_EVENT = "3e1f2a4b-5c6d-4e7f-8a9b-0c1d2e3f4a5b"
PSEUDONYM = "5f" * 32  # keyed pseudonym (HMAC-SHA256 hex), never the BSN
AT = "2026-11-25T12:11:06Z"
CURSOR = "eyJsIjoiY2FzZXMiLCJrIjpbIjIwMjYtMTEtMjVUMTI6MTE6MDYiLCIxIl19"


def _page(items: list[Any], path: str) -> dict[str, Any]:
    return {"items": items, "next_cursor": CURSOR,
            "links": {"self": {"href": f"{path}?limit=1"}, "next": {"href": f"{path}?limit=1&cursor={CURSOR}"}}}


CASE_PUBLIC: dict[str, Any] = {"id": CASE, "purpose": "student_in_crisis", "purpose_label": "Student in een crisis",
                               "casemanager": "cm-001", "status": "open", "created_at": AT, "team": "team-centrum",
                               "ground_type": "aanmelding"}
AANMELDING: dict[str, Any] = {"id": "7d6c5b4a-3f2e-4d1c-8b0a-9f8e7d6c5b4a", "purpose": "student_in_crisis",
                              "purpose_label": "Student in een crisis",
                              "message": "Ik ben ziek en kom niet meer rond met mijn studie.", "status": "open",
                              "case_id": None, "created_at": AT}
SIGNAL: dict[str, Any] = {"id": "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d", "source_agency": "schuldhulp",
                          "soort": "huur", "achterstand": "1250.00", "signaled_on": "2026-11-20", "status": "open",
                          "case_id": None, "received_at": AT}
LEGAL_BASIS: dict[str, Any] = {"type": "legal_basis", "id": "avg_6_1_e_brp",
               "citation": "AVG art. 6 lid 1 onder e; autorisatie op grond van de Wet BRP", "verified": True}
DOSSIER: dict[str, Any] = {
    "case_id": CASE, "purpose": "student_in_crisis", "decision_id": DECISION,
    "policy_revision": "sha256:0dfe906c", "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
    "break_glass": False, "review_required": False,
    "fields": [{"agency": "brp", "category": "adres", "field": "verblijfplaats.woonplaats", "value": "Utrecht",
                "source": "Gemeente (BRP)", "retrieved_at": AT, "basis": LEGAL_BASIS}],
    "flags": [{"agency": "brp", "flag": "geheimhoudingPersoonsgegevens", "value": False}],
    "refused": [{"agency": "duo", "category": "studieschuld", "code": "consent_required",
                 "reason": "Hiervoor is toestemming van de burger nodig."}],
    "unavailable": [{"agency": "uwv", "error_code": "timeout",
                     "reason": "De organisatie gaf geen antwoord; probeer het later opnieuw."}],
    "audit": {"record_id": "35cb3a66-9ad3-4453-b586-bbff05b600e5", "index": 2},
}
CONSENT_PUBLIC: dict[str, Any] = {
    "id": CONSENT, "purpose": "student_in_crisis", "agency": "duo", "category": "studieschuld",
                  "explicit": True, "valid_from": AT, "valid_until": "2027-01-31T00:00:00Z", "revoked_at": None,
                  "status": "geldig"}
CONSENT_REQUEST: dict[str, Any] = {
    "id": REQUEST, "case_id": CASE, "casemanager": "cm-001", "purpose": "student_in_crisis",
    "purpose_label": "Student in een crisis",
    "purpose_description": "Hulp aan een student die door ziekte of een andere crisis vastloopt.",
    "message": "Mag ik uw studieschuld zien voor het betalingsplan?", "status": "answered",
    "items": [{"key": "duo.studieschuld", "agency": "duo", "organisation": "DUO", "category": "studieschuld",
               "category_label": "Studieschuld", "fields": ["studieschuld.bedrag", "studieschuld.maandbedrag"],
               "special": False, "valid_days": 90, "answer": "approve"}],
    "created_at": AT, "answered_at": "2026-11-25T12:20:00Z", "consents_created": [CONSENT],
}
ACCESS: dict[str, Any] = {
    "index": 2, "record_id": "35cb3a66-9ad3-4453-b586-bbff05b600e5", "kind": "dossier:read",
    "action": "bekeek gegevens", "time": AT, "actor_role": "casemanager", "actor": "Casemanager cm-001",
    "actor_sub": "cm-001", "purpose": "student_in_crisis", "purpose_label": "Student in een crisis",
    "case_id": CASE, "break_glass": False, "review_status": None,
    "shared": [{"agency": "brp", "organisation": "Gemeente (BRP)", "category": "adres", "category_label": "Adres",
                "fields": ["verblijfplaats.woonplaats"], "basis_type": "legal_basis",
                "basis": "AVG art. 6 lid 1 onder e"}],
    "refused": [{"agency": "duo", "organisation": "DUO", "category": "studieschuld",
                 "category_label": "Studieschuld", "code": "consent_required",
                 "reason": "Hiervoor is toestemming van de burger nodig."}],
    "unavailable": [], "proof": "/v1/me/accesses/2/proof",
}
RECORD: dict[str, Any] = {
    "kind": "dossier:read", "actor_sub": "cm-001", "actor_role": "casemanager", "case_id": CASE,
    "purpose": "student_in_crisis", "data_subject_id": PSEUDONYM, "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
    "status_code": 1}
BREAK_GLASS: dict[str, Any] = {
    "id": BG_EVENT, "case_id": CASE, "purpose": "crisis_noodtoegang", "decision_id": DECISION,
               "casemanager": "cm-001", "citizen_pseudonym": PSEUDONYM,
               "justification": "Dreigende uitzetting morgen; de burger ligt in het ziekenhuis.",
               "review_status": "pending", "reviewer": None, "review_note": None, "reviewed_at": None,
               "created_at": AT}
VERIFICATION: dict[str, Any] = {"id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", "state": "running", "checked": 4096,
                "total": 10000, "percent": 40, "error": None}
CHECKPOINT_NOTE = ("loket.example/audit\n4\nFsLvNqaAtnG/B6+sGQS00Pmampsx8VdQURN1EqVWUHg=\n\n"
                   "— loket.example/audit JdGF…\n")
WITNESS_LINE = "— getuige.example/fg 1f2e3d4c…\n"

#: operationId → request body example
REQUESTS: dict[str, Any] = {
    "createCase": {"burgerservicenummer": BSN, "purpose": "student_in_crisis",
                   "ground": {"type": "toewijzing", "casemanager": "cm-001",
                              "reason": "Melding aan de balie: de student vraagt hulp bij geldzaken en post."}},
    "createAanmelding": {"purpose": "student_in_crisis",
                         "message": "Ik ben ziek en kom niet meer rond met mijn studie."},
    "requestBreakGlassDossier": {"justification": "Dreigende afsluiting van gas en licht vandaag; "
                                                  "de burger is niet bereikbaar.",
                                 "categories": ["cak.eigen_bijdrage"]},
    "createConsent": {"purpose": "student_in_crisis", "agency": "duo", "category": "studieschuld",
                      "team": "team-centrum", "valid_until": "2027-01-31T00:00:00Z"},
    "createConsentRequest": {"categories": ["duo.studieschuld"],
                             "message": "Mag ik uw studieschuld zien voor het betalingsplan?", "valid_days": 90},
    "answerConsentRequest": {"answers": {"duo.studieschuld": "approve", "uwv.inkomen": "decline"}},
    "searchAccessLog": {"since": "2026-11-01", "until": "2026-11-30", "casemanager": "cm-001", "limit": 50},
    "exportAccessLog": {"bsn": BSN, "since": "2026-11-01"},
    "createBreakGlassReview": {"verdict": "justified", "note": "Uitzetting dreigde; toegang was nodig en beperkt."},
}

#: operationId → example of the 2xx JSON body
ACTIVITY: dict[str, Any] = {
    "id": "https://loket.example/v1/register/verwerkingen/student_in_crisis/v1-58fafb706fb7",
    "key": "student_in_crisis", "version": 1, "valid_from": "2026-12-01", "name_nl": "Student in een crisis",
    "doel_nl": "Een student die ernstig ziek is of in de knel zit: studiefinanciering, inkomen en "
               "ondersteuning op een rij.",
    "purposes": ["student_in_crisis"], "grondslagen": ["avg_6_1_e_brp", "pw_64_1_i", "toestemming"],
}

RESPONSES: dict[str, Any] = {
    "listPurposes": {"student_in_crisis": {
        "label_nl": "Student in een crisis",
        "processing_activity_id": "https://loket.example/register/verwerkingen/student_in_crisis"}},
    "getConsistencyProof": {"first": 2, "second": 4, "hashes": ["FsLvNqaAtnG/B6+sGQS00Pmampsx8VdQURN1EqVWUHg="]},
    "createCase": CASE_PUBLIC,
    "listCases": _page([CASE_PUBLIC], "/v1/cases"),
    "getCase": CASE_PUBLIC,
    "getDossier": DOSSIER,
    "requestBreakGlassDossier": DOSSIER | {"break_glass": True, "review_required": True},
    "listMyConsents": [CONSENT_PUBLIC],
    "createConsent": CONSENT_PUBLIC,
    "revokeConsent": CONSENT_PUBLIC | {"revoked_at": "2026-11-26T09:00:00Z", "status": "ingetrokken"},
    "createConsentRequest": CONSENT_REQUEST | {"status": "open", "answered_at": None, "consents_created": [],
                                               "items": [CONSENT_REQUEST["items"][0] | {"answer": None}]},
    "listConsentRequests": _page([CONSENT_REQUEST], f"/v1/cases/{CASE}/consent-requests"),
    "listMyConsentRequests": _page([CONSENT_REQUEST], "/v1/me/consent-requests"),
    "answerConsentRequest": CONSENT_REQUEST,
    "listMyAccesses": _page([ACCESS], "/v1/me/accesses"),
    "getMyCompleteness": {"format": "loket-audit-completeness-v1", "origin": "loket.example/audit",
                          "tree_size": 4, "data_subject_id": "5e" * 32, "subject_key": "a1" * 32,
                          "records": [{"index": 2, "record": RECORD}],
                          "map_proof": {"siblings": ["cd" * 32, "ef" * 32], "other": None},
                          "checkpoint": CHECKPOINT_NOTE},
    "getAccessProof": {"format": "loket-audit-proof-v1", "origin": "loket.example/audit", "index": 2,
                       "tree_size": 4, "leaf_hash": "ab" * 32, "record": RECORD,
                       "inclusion_proof": ["cd" * 32, "ef" * 32], "checkpoint": CHECKPOINT_NOTE,
                       "vkey": "loket.example/audit+25d185fa+AbFpcrEPLyd8f5qBUca0GgKBJBqR8EKmKZPnE8gW2YNZ"},
    "searchAccessLog": {"items": [{"index": 2, "record": RECORD}], "next_cursor": None,
                        "links": {"self": {"href": "/v1/fg/search"}}, "data_subject_id": None},
    "listBreakGlassAccesses": _page([BREAK_GLASS], "/v1/fg/break-glass"),
    "getBreakGlassAccess": BREAK_GLASS,
    "createBreakGlassReview": BREAK_GLASS | {"review_status": "justified", "reviewer": "fg-1",
                                             "review_note": "Uitzetting dreigde; toegang was nodig en beperkt.",
                                             "reviewed_at": "2026-11-26T09:00:00Z"},
    "getIntegrity": {"tree_size": 4, "checkpoint": {"tree_size": 4, "root": "16c2ef36" * 8, "note": CHECKPOINT_NOTE},
                     "signature_ok": True, "problem": None,
                     "vkey": "loket.example/audit+25d185fa+AbFpcrEPLyd8f5qBUca0GgKBJBqR8EKmKZPnE8gW2YNZ"},
    "startVerification": VERIFICATION | {"state": "queued", "checked": 0, "percent": 0},
    "getVerification": VERIFICATION | {"state": "done", "checked": 10000, "percent": 100, "tree_size": 10000,
                                       "checkpoints_verified": 12, "root": "16c2ef36" * 8, "elapsed_s": 3.2},
    "createAanmelding": AANMELDING,
    "listMyAanmeldingen": [AANMELDING],
    "listAanmeldingen": [AANMELDING],
    "listSignals": [SIGNAL],
    "importSignals": [SIGNAL],
    "listActivities": {"name": "Register van verwerkingsactiviteiten — 1 Loket (voorbeeldgemeente)",
                       "verwerkingsverantwoordelijke":
                           "College van burgemeester en wethouders van de voorbeeldgemeente",
                       "base_uri": "https://loket.example/v1/register/verwerkingen/", "activities": [ACTIVITY]},
    "listActivityVersions": {"key": "student_in_crisis", "current": ACTIVITY["id"], "versions": [ACTIVITY]},
    "getActivityVersion": ACTIVITY,
    "listPatterns": {"many_citizens": [{"pattern": "many_citizens", "title": "Veel burgers in korte tijd",
                                        "explanation": "cm-001 bekeek 40 burgers binnen een uur.",
                                        "subject": "cm-001", "records": [12, 13, 14]}],
                     "outside_office_hours": []},
}


def apply(op: dict[str, Any]) -> None:
    op_id = op.get("operationId", "")
    body = op.get("requestBody", {}).get("content", {}).get("application/json")
    if body is not None and op_id in REQUESTS:
        body["example"] = REQUESTS[op_id]
    for status, resp in op.get("responses", {}).items():
        media = resp.get("content", {}).get("application/json")
        if status.startswith("2") and media is not None and op_id in RESPONSES:
            media["example"] = RESPONSES[op_id]
        plain = resp.get("content", {}).get("text/plain")
        if status.startswith("2") and plain is not None and op_id == "getCheckpoint":
            plain["example"] = CHECKPOINT_NOTE
        if status.startswith("2") and plain is not None and op_id == "getWitnessedCheckpoint":
            plain["example"] = CHECKPOINT_NOTE + WITNESS_LINE


def apply_schemas(schemas: dict[str, Any]) -> None:
    """Nothing at schema level yet: examples live with the operations."""


# --- the casemanager's workspace and "Ik herken dit niet" (issue 13) ------------------------

REPORT: dict[str, Any] = {
    "id": "9c8b7a6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", "record_index": 2, "case_id": CASE,
    "message": "Ik ken deze casemanager niet.", "status": "answered",
    "status_text": "De functionaris gegevensbescherming heeft uw melding beantwoord.",
    "answer": "Dit was uw casemanager Sanne Visser, na uw aanmelding.", "created_at": AT,
    "answered_at": "2026-11-26T09:00:00Z"}
AGENCY_REQUEST: dict[str, Any] = {
    "id": "2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a", "case_id": CASE, "agency": "cjib",
    "organisation": "Centraal Justitieel Incassobureau", "type": "pause_collection", "label": "Invordering pauzeren",
    "status": "accepted", "status_text": "Geaccepteerd.",
    "reason": "Wij pauzeren de invordering tot en met 2026-12-25.",
    "sent": {"type": "pause_collection", "reference": "2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a", "until": "2026-12-25"},
    "created_at": AT, "answered_at": "2026-11-25T12:11:07Z"}
OVERVIEW: dict[str, Any] = {
    "case_id": CASE, "purpose": "schuldhulp_intake", "purpose_label": "Intake en plan voor schuldhulp",
    "decision_id": DECISION, "audit": {"index": 2},
    "deadlines_and_threats": [{
        "rule": "cjib_boete", "agency": "cjib", "organisation": "Centraal Justitieel Incassobureau",
        "title": "Boete van € 159,00 bij het CJIB staat open",
        "why": "Het CJIB verhoogt een boete die niet op tijd betaald is.",
        "next_step": "Vraag het CJIB de invordering te pauzeren. Daarna: een betalingsregeling.",
        "amount": "159.00", "when": "2026-12-28", "suggested_request": "pause_collection",
        "note": "Volgende stap: tweede aanmaning (+100.00) op 28 december 2026."}],
    "arrears": {"per_agency": [{"agency": "cjib", "organisation": "Centraal Justitieel Incassobureau",
                                "label": "Boetes", "amount": "159.00", "months": None}],
                "total": "159.00", "total_text": "€ 159,00"},
    "representatives": {"known": False, "text": "Loket weet nog niet wie namens de burger mag optreden."},
    "contacts": [{"agency": "cjib", "organisation": "Centraal Justitieel Incassobureau",
                  "name": "CJIB, lijn voor schuldhulpverleners", "phone": "088-555 20 00",
                  "hours": "werkdagen 8.00-17.00"}],
    "already_asked": [{"what": "Invordering pauzeren bij Centraal Justitieel Incassobureau", "status": "accepted",
                       "status_text": "Geaccepteerd."}],
    "could_not_see": [{"organisation": "Dienst Uitvoering Onderwijs", "what": "Studieschuld",
                       "reason": "Hiervoor is toestemming van de burger nodig."}]}
MINIMISATION_ROW: dict[str, Any] = {"key": "schuldhulp_intake", "looks": 12, "disclosed_fields": 96,
                                    "held_fields": 540, "ratio": 0.1778, "refusals": 8}

REQUESTS.update({
    "createAccessReport": {"message": "Ik ken deze casemanager niet."},
    "answerAccessReport": {"answer": "Dit was uw casemanager Sanne Visser, na uw aanmelding."},
    "createAgencyRequest": {"type": "pause_collection", "agency": "cjib", "until_days": 30},
})
RESPONSES.update({
    "createAccessReport": REPORT | {"status": "open", "status_text": "De functionaris gegevensbescherming bekijkt "
                                    "uw melding.", "answer": None, "answered_at": None},
    "listMyAccessReports": {"reports": [REPORT]},
    "listAccessReports": {"reports": [REPORT | {"actor_sub": "cm-001", "answered_by": "fg-001",
                                                "data_subject_id": PSEUDONYM}]},
    "getAccessReport": REPORT | {"actor_sub": "cm-001", "answered_by": "fg-001", "data_subject_id": PSEUDONYM},
    "answerAccessReport": REPORT | {"actor_sub": "cm-001", "answered_by": "fg-001", "data_subject_id": PSEUDONYM},
    "createAgencyRequest": AGENCY_REQUEST | {"status": "sent", "status_text": "Verstuurd, wacht op antwoord.",
                                             "reason": None, "answered_at": None},
    "listAgencyRequests": {"requests": [AGENCY_REQUEST]},
    "listMyAgencyRequests": {"requests": [AGENCY_REQUEST]},
    "getCaseOverview": OVERVIEW,
    "getMinimisation": {"per_purpose": [MINIMISATION_ROW], "per_casemanager": [MINIMISATION_ROW | {"key": "cm-001"}]},
    "listPatterns": {"findings": RESPONSES["listPatterns"], "scanned_until": 4, "tree_size": 4,
                     "updated_at": AT},
})


# --- acting for someone: the citizen's machtigingen (issue 12) --------------------------------

MACHTIGING = {"id": "5b0f6a52-2c1e-4d7b-9a43-6f0e8d1c2a77", "naam": "Linda Bakker-Smit", "scope": ["financieel"],
              "valid_from": "2026-12-01T09:00:00Z", "valid_until": "2027-12-01T09:00:00Z", "revoked_at": None}
REQUESTS.update({
    "createMachtiging": {"gemachtigde_burgerservicenummer": "999913700", "naam": "Linda Bakker-Smit",
                         "scope": ["financieel"], "valid_until": "2027-12-01T09:00:00Z"},
})
RESPONSES.update({
    "myMachtigingen": [MACHTIGING],
    "createMachtiging": MACHTIGING,
    "deleteMachtiging": MACHTIGING | {"revoked_at": "2026-12-02T10:00:00Z"},
})
