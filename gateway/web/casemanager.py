"""The casemanager's pages (``/casemanager``): "Mijn zaken", the overview of one case (action
first), the dossier with provenance and refusals, "vraag toestemming" straight from a refusal,
requests to agencies with their status, and the break-glass form.

The pages call the same services as the API (the API stays the contract), with the casemanager
taken from the page session. Forms POST and redirect (Post/Redirect/Get); nothing needs
JavaScript. One screen per case first, details on demand.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Path
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from gateway.cases.service import my_case
from gateway.consents import service as consent_service
from gateway.core.context import Loket
from gateway.core.errors import LoketError
from gateway.core.models import Case
from gateway.core.tracing import TraceContext
from gateway.dossier.explain import Explainer
from gateway.dossier.flow import request_dossier
from gateway.dossier.overview import date_nl, euro
from gateway.identity.auth import Principal, Role
from gateway.web.rendering import error_text_nl, render
from gateway.web.session import (
    casemanager_principal,
    checked_form,
    flash,
    load_page_session,
    login,
    record_page_refusal,
    sign_out_everywhere_form,
    sign_out_form,
)
from gateway.workspace.agency_requests import (
    NewAgencyRequest,
    allowed_for_purpose,
    collect_answers,
    my_case_requests,
    request_types,
    send_request,
)
from gateway.workspace.caseload import my_caseload
from gateway.workspace.directory import casemanager as directory_entry
from gateway.workspace.directory import casemanagers
from gateway.workspace.overview import case_overview

router = APIRouter(prefix="/casemanager", include_in_schema=False, dependencies=[Depends(load_page_session)])
AREA = "casemanager"
CaseId = Annotated[str, Path(max_length=64)]
#: Refusals a citizen's consent can lift (the rest a consent cannot change).
CONSENT_CODES = frozenset({"consent_required", "explicit_consent_required", "consent_expired", "consent_revoked"})
CONSENT_DAYS = 90


def loket_of(request: Request) -> Loket:
    loket: Loket = request.app.state.loket
    return loket


def _trace(request: Request) -> TraceContext:
    return TraceContext.from_header(request.headers.get("traceparent"))


def _not_found(request: Request, e: LoketError | None = None) -> Response:
    return render(request, "error.html", {"title": "Niet gevonden",
                                          "message": error_text_nl(e.code if e else "not-found")},
                  status_code=e.status if e else 404, area=AREA)


async def _own_case(request: Request, loket: Loket, principal: Principal, case_id: str) -> Case | Response:
    """The casemanager's own case, or the recorded "not found" page (someone else's case looks absent)."""
    try:
        return await anyio.to_thread.run_sync(my_case, loket, principal, case_id)
    except LoketError as e:
        await record_page_refusal(request, e)
        return _not_found(request, e)


def value_nl(value: Any) -> str:
    """A disclosed value as a person reads it (lists joined, yes/no, dates and euros as written)."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if isinstance(value, list):
        return "; ".join(value_nl(v) for v in value) or "—"
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            return date_nl(date.fromisoformat(value))
        except ValueError:
            return value
    return str(value)


# --- login ----------------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
def home(request: Request) -> Response:
    casemanager_principal(request)
    return RedirectResponse("/casemanager/zaken", status_code=303)


@router.get("/inloggen", response_class=HTMLResponse)
def login_page(request: Request) -> Response:
    loket = loket_of(request)
    return render(request, "cm/inloggen.html", {
        "title": "Inloggen voor casemanagers", "dev": loket.settings.dev_issuer,
        "oidc": bool(loket.settings.oidc_officer_metadata_url),
        "people": casemanagers() if loket.settings.dev_issuer else []}, area=AREA)


@router.post("/inloggen")
async def login_submit(request: Request) -> Response:
    loket = loket_of(request)
    form = await checked_form(request, loket)
    person = directory_entry(str(form.get("casemanager") or ""))
    if not loket.settings.dev_issuer or person is None:
        flash(request, "Kies een casemanager om in te loggen.", "error")
        return RedirectResponse("/casemanager/inloggen", status_code=303)
    await login(request, loket, role=Role.CASEMANAGER, sub=person.sub, name=person.name,
                team=person.team_id or None)
    return RedirectResponse("/casemanager/zaken", status_code=303)


@router.post("/uitloggen")
async def logout_submit(request: Request) -> Response:
    return await sign_out_form(request, loket_of(request), Role.CASEMANAGER, AREA)


@router.post("/overal-uitloggen")
async def logout_everywhere_submit(request: Request) -> Response:
    return await sign_out_everywhere_form(request, loket_of(request), casemanager_principal(request), AREA)


# --- my cases -------------------------------------------------------------------------------


@router.get("/zaken", response_class=HTMLResponse)
async def cases_page(request: Request) -> Response:
    loket = loket_of(request)
    principal = casemanager_principal(request)
    rows = await anyio.to_thread.run_sync(my_caseload, loket, principal)
    return render(request, "cm/zaken.html", {"title": "Mijn zaken", "new": [r for r in rows if r.new],
                                             "cases": [r for r in rows if not r.new],
                                             "me": directory_entry(principal.sub)}, area=AREA)


# --- one case: overview ---------------------------------------------------------------------


@router.get("/zaken/{case_id}", response_class=HTMLResponse)
async def overview_page(request: Request, case_id: CaseId) -> Response:
    loket = loket_of(request)
    principal = casemanager_principal(request)
    try:
        result = await case_overview(loket, principal, _trace(request), case_id)
    except LoketError as e:
        await record_page_refusal(request, e)
        return _not_found(request, e)
    allowed = allowed_for_purpose(loket, result.purpose)
    return render(request, "cm/overzicht.html", {
        "title": "Overzicht van de zaak", "o": result, "ov": result.overview, "euro": euro, "date_nl": date_nl,
        "allowed": allowed, "types": request_types(loket), "tab": "overzicht", "case_id": result.case_id,
    }, area=AREA)


# --- the dossier, with provenance and refusals ----------------------------------------------


async def _dossier_page(request: Request, case_id: str, justification: str | None = None) -> Response:
    loket = loket_of(request)
    principal = casemanager_principal(request)
    ex = Explainer.of(loket)
    try:
        result = await request_dossier(loket, principal, case_id, trace=_trace(request), justification=justification)
    except LoketError as e:
        await record_page_refusal(request, e)
        if e.code in ("not-found",):
            return _not_found(request, e)
        flash(request, error_text_nl(e.code) if e.code in ("justification-required", "bsn-in-free-text")
              else e.detail or error_text_nl(e.code), "error")
        target = f"/casemanager/zaken/{case_id}/noodtoegang" if justification is not None else \
            f"/casemanager/zaken/{case_id}"
        return RedirectResponse(target, status_code=303)
    groups: dict[str, dict[str, Any]] = {}
    for v in result.filtered.values:
        g = groups.setdefault(v.agency, {"organisation": ex.organisation(v.agency), "retrieved": v.retrieved_at,
                                         "rows": []})
        g["rows"].append({"label": ex.field_label(v.agency, v.field), "value": value_nl(v.value),
                          "category": ex.category_label(v.agency, v.category)})
    refusals = [{"key": f"{r.agency}.{r.category}", "organisation": ex.organisation(r.agency),
                 "label": ex.category_label(r.agency, r.category), "reason": r.reason_nl,
                 "consent": r.code in CONSENT_CODES} for r in result.decision.refusals]
    return render(request, "cm/dossier.html", {
        "title": "Dossier", "groups": list(groups.values()), "refusals": refusals,
        "reasons": result.decision.reasons, "flags": result.filtered.flags,
        "unavailable": [ex.organisation(u.agency) for u in result.filtered.unavailable],
        "break_glass": result.decision.break_glass, "audit_index": result.audit_index,
        "tab": "dossier", "case_id": result.case_id,
    }, area=AREA)


@router.get("/zaken/{case_id}/dossier", response_class=HTMLResponse)
async def dossier_page(request: Request, case_id: CaseId) -> Response:
    return await _dossier_page(request, case_id)


@router.post("/zaken/{case_id}/toestemming")
async def consent_request_submit(request: Request, case_id: CaseId) -> Response:
    """"Vraag toestemming" straight from a refusal: the refused categories the casemanager ticked."""
    loket = loket_of(request)
    principal = casemanager_principal(request)
    form = await checked_form(request, loket)
    categories = [str(v) for k, v in form.multi_items() if k == "categorie"]
    message = str(form.get("bericht") or "")
    try:
        await anyio.to_thread.run_sync(lambda: consent_service.create_request(
            loket, principal, _trace(request), case_id, categories=categories, message=message,
            valid_days=CONSENT_DAYS))
    except LoketError as e:
        await record_page_refusal(request, e)
        flash(request, error_text_nl(e.code), "error")
        return RedirectResponse(f"/casemanager/zaken/{case_id}/dossier", status_code=303)
    flash(request, "Uw vraag om toestemming is naar de burger gestuurd. U ziet het antwoord in het overzicht.")
    return RedirectResponse(f"/casemanager/zaken/{case_id}", status_code=303)


# --- requests to agencies -------------------------------------------------------------------


@router.get("/zaken/{case_id}/verzoeken", response_class=HTMLResponse)
async def requests_page(request: Request, case_id: CaseId) -> Response:
    loket, principal = loket_of(request), casemanager_principal(request)
    case = await _own_case(request, loket, principal, case_id)
    if isinstance(case, Response):
        return case
    await collect_answers(loket, case_id=case.id)
    views = await anyio.to_thread.run_sync(my_case_requests, loket, principal, case.id)
    ex = Explainer.of(loket)
    allowed = allowed_for_purpose(loket, case.purpose)
    return render(request, "cm/verzoeken.html", {
        "title": "Verzoeken aan organisaties", "requests": views, "allowed": allowed,
        "types": request_types(loket), "org": ex.organisation, "tab": "verzoeken", "case_id": case.id,
        "purpose_label": ex.purpose_label(case.purpose),
    }, area=AREA)


@router.post("/zaken/{case_id}/verzoeken")
async def request_submit(request: Request, case_id: CaseId) -> Response:
    loket = loket_of(request)
    principal = casemanager_principal(request)
    form = await checked_form(request, loket)
    choice = str(form.get("verzoek") or "")
    rtype, _, agency = choice.partition(":")
    days_raw = str(form.get("dagen") or "").strip()
    amount_raw = str(form.get("bedrag") or "").strip().replace(",", ".")
    back = str(form.get("terug") or "verzoeken")
    target = f"/casemanager/zaken/{case_id}" + ("" if back == "overzicht" else "/verzoeken")
    try:
        days = int(days_raw) if days_raw else None
        if amount_raw:
            Decimal(amount_raw)
        new = NewAgencyRequest(request_type=rtype[:32], agency=agency[:64], until_days=days,
                               monthly_amount=amount_raw or None)
        view = await send_request(loket, principal, _trace(request), case_id, new)
    except LoketError as e:
        await record_page_refusal(request, e)
        flash(request, e.detail if e.status == 403 and e.detail else error_text_nl(e.code), "error")
        return RedirectResponse(target, status_code=303)
    except (ValueError, ArithmeticError):
        flash(request, error_text_nl("bad-amount"), "error")
        return RedirectResponse(target, status_code=303)
    flash(request, f"Verzoek verstuurd: {view.label_nl.lower()} bij {view.organisation}. "
          "Het antwoord komt op de pagina Verzoeken en in het overzicht.")
    return RedirectResponse(target, status_code=303)


# --- break-glass ----------------------------------------------------------------------------


@router.get("/zaken/{case_id}/noodtoegang", response_class=HTMLResponse)
async def break_glass_page(request: Request, case_id: CaseId) -> Response:
    loket, principal = loket_of(request), casemanager_principal(request)
    case = await _own_case(request, loket, principal, case_id)
    if isinstance(case, Response):
        return case
    return render(request, "cm/noodtoegang.html", {
        "title": "Noodtoegang", "tab": "noodtoegang", "case_id": case.id,
        "max_chars": loket.settings.max_justification_chars,
        "purpose_label": Explainer.of(loket).purpose_label(case.purpose)}, area=AREA)


@router.post("/zaken/{case_id}/noodtoegang", response_class=HTMLResponse)
async def break_glass_submit(request: Request, case_id: CaseId) -> Response:
    loket = loket_of(request)
    form = await checked_form(request, loket)
    return await _dossier_page(request, case_id, justification=str(form.get("reden") or ""))

