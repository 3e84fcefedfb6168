"""The citizen's pages (``/burger``): who looked at my data, my consents, requests to answer.

Each page calls the same service functions as the citizen API (/v1/me/...), with the citizen
taken from the page session instead of a bearer token. Forms POST and answer with a redirect
(Post/Redirect/Get), so a reload never repeats an action.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from functools import lru_cache, partial
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from audit.verify import verify_proof_bundle
from gateway.cases import intake
from gateway.cases.grounds import GroundType, allowed_grounds
from gateway.consents import service as consent_service
from gateway.consents.grants import consents_of
from gateway.consents.requests import APPROVE, DECLINE, parse_request_items, purpose_scope
from gateway.consents.service import subject_pseudonym
from gateway.consents.views import consent_public
from gateway.core.context import Loket
from gateway.core.errors import BadInput, IntegrityError, LoketError
from gateway.core.models import Case
from gateway.core.tracing import TraceContext
from gateway.dossier.explain import Explainer
from gateway.identity.auth import Principal, Role, check_acting
from gateway.identity.bsn import require_valid_bsn
from gateway.oversight.access_log import MAX_LOG_INDEX, time_nl
from gateway.oversight.citizen_view import my_accesses, my_looks, my_proof
from gateway.oversight.reports import report_access
from gateway.representation import machtigingen
from gateway.representation.check import subject_for_reading
from gateway.representation.policy import representation_data
from gateway.representation.registers import resolve
from gateway.web.rendering import error_text_nl, render
from gateway.web.session import (
    BSN_FIELD,
    checked_form,
    citizen_principal,
    flash,
    load_page_session,
    login,
    record_page_refusal,
    sign_out_everywhere_form,
    sign_out_form,
)
from gateway.workspace.agency_requests import collect_answers
from gateway.workspace.directory import casemanager

router = APIRouter(prefix="/burger", include_in_schema=False, dependencies=[Depends(load_page_session)])

AREA = "burger"
#: Durations a citizen can choose for a consent (days); 3 days is Mitz's 72-hour consent.
CONSENT_DURATIONS = ((3, "3 dagen (72 uur)"), (30, "1 maand"), (90, "3 maanden"), (365, "1 jaar"))


def loket_of(request: Request) -> Loket:
    loket: Loket = request.app.state.loket
    return loket


@lru_cache(maxsize=1)
def _sandbox_personas() -> tuple[tuple[str, str], ...]:
    try:  # a dev/test package (loket[sandbox]); without it the login page lists nobody
        from adapters.sandbox.citizens import generate_citizens
    except ImportError:
        return ()
    return tuple((c.name, c.bsn) for c in generate_citizens(seed=1) if c.persona)


def dev_citizens(loket: Loket) -> list[tuple[str, str]]:
    """Synthetic citizens to log in as (development issuer only). The demo may put its own list
    in ``loket.extra["sandbox_citizens"]``; otherwise the sandbox's fixed personas."""
    if not loket.settings.dev_issuer:
        return []
    given = loket.extra.get("sandbox_citizens")
    if given:
        return [(str(getattr(c, "name", "")), str(getattr(c, "bsn", ""))) for c in given
                if getattr(c, "persona", True)]
    return list(_sandbox_personas())


# --- login ----------------------------------------------------------------------------------


#: Test representatives on the development login: (label, their BSN, their KvK, whom they act for).
DEV_REPRESENTATIVES = (
    ("Linda Bakker-Smit, voor haar zoon Noah (12)", "999913700", None, "999990408"),
    ("Sandra Mulder, voor haar zoon Jayden (bijna 18)", "999912604", None, "999913426"),
    ("Bewindvoering Noord B.V., bewindvoerder van Gerrit Hoekstra", None, "90000017", "999914248"),
    ("Aaltje Hoekstra, mentor van Gerrit Hoekstra", "999935483", None, "999914248"),
    ("Johan de Wit, curator van Bart de Wit", "999940004", None, "999914522"),
)


async def _principal(request: Request, loket: Loket) -> Principal:
    """The signed-in citizen; for a representative with what the registers say (looked up once)."""
    return await resolve(loket, citizen_principal(request, loket),
                         traceparent=request.headers.get("traceparent"))


def _home(loket: Loket, principal: Principal) -> tuple[int, list[Any]]:
    pseudonym = subject_for_reading(loket, principal)
    with loket.sessions() as session:
        n_requests = len([r for r in _open_request_rows(session, pseudonym)])
        subs = sorted(set(session.scalars(select(Case.casemanager_sub).where(Case.citizen_pseudonym == pseudonym))))
    return n_requests, [c for c in (casemanager(s) for s in subs) if c is not None]


@router.get("", response_class=HTMLResponse)
async def home(request: Request) -> Response:
    loket = loket_of(request)
    principal = await _principal(request, loket)
    try:
        n_requests, contacts = await anyio.to_thread.run_sync(_home, loket, principal)
    except LoketError as e:
        await record_page_refusal(request, e)
        return render(request, "error.html", {"title": "Niet toegestaan", "message": str(e) or error_text_nl(e.code)},
                      status_code=e.status, area=AREA)
    return render(request, "burger/home.html", {"title": "Mijn Loket", "open_requests": n_requests,
                                                "casemanagers": contacts, "acting": principal.act_for is not None,
                                                "acting_name": request.session.get("acting_name", "")},
                  area=AREA)


@router.get("/inloggen", response_class=HTMLResponse)
def login_page(request: Request) -> Response:
    loket = loket_of(request)
    return render(request, "burger/inloggen.html", {
        "title": "Inloggen", "dev": loket.settings.dev_issuer, "citizens": dev_citizens(loket),
        "representatives": DEV_REPRESENTATIVES if loket.settings.dev_issuer else (),
        "oidc": bool(loket.settings.oidc_citizen_metadata_url),
    }, area=AREA)


@router.post("/inloggen")
async def login_submit(request: Request) -> Response:
    loket = loket_of(request)
    form = await checked_form(request, loket, bsn_fields=BSN_FIELD | {"namens"})
    if not loket.settings.dev_issuer:
        # Production logs in through the OIDC provider (docs/pages.md), never by typing a BSN.
        return RedirectResponse("/burger/inloggen", status_code=303)
    bsn = str(form.get("bsn") or "").strip().replace(" ", "")
    namens = str(form.get("namens") or "").strip().replace(" ", "")
    kvk = str(form.get("kvk") or "").strip()
    try:
        if kvk:  # an organisation (eHerkenning in production) acts only for someone
            check_acting(Role.CITIZEN, None, namens, kvk)
        else:
            require_valid_bsn(bsn)
            if namens:
                require_valid_bsn(namens)
                check_acting(Role.CITIZEN, bsn, namens, None)
    except LoketError as e:
        await record_page_refusal(request, e)
        flash(request, error_text_nl("invalid-bsn" if e.code == "invalid-token" else e.code), "error")
        return RedirectResponse("/burger/inloggen", status_code=303)
    names = dict((b, n) for n, b in dev_citizens(loket))
    acting = None
    if namens:
        subject = loket.pseudonymiser.pseudonym_for(namens)
        acting = (subject, loket.vault.seal(namens, subject))
    if kvk:
        name = next((label.split(",")[0] for label, _, k, _ in DEV_REPRESENTATIVES if k == kvk), f"KvK {kvk}")
        await login(request, loket, role=Role.CITIZEN, sub=f"kvk-{kvk}", name=name, acting_for=acting, kvk=kvk)
    else:
        pseudonym = loket.pseudonymiser.pseudonym_for(bsn)
        name = names.get(bsn) or next((label.split(",")[0] for label, b, _, _ in DEV_REPRESENTATIVES if b == bsn),
                                      "Burger")
        await login(request, loket, role=Role.CITIZEN, sub=f"burger-{pseudonym[:12]}", name=name,
                    pseudonym=pseudonym, sealed_bsn=loket.vault.seal(bsn, pseudonym), acting_for=acting)
    if namens:
        request.session["acting_name"] = names.get(namens, "de persoon voor wie u handelt")
    del bsn, namens
    return RedirectResponse("/burger", status_code=303)


@router.post("/uitloggen")
async def logout_submit(request: Request) -> Response:
    return await sign_out_form(request, loket_of(request), Role.CITIZEN, "burger")


@router.post("/overal-uitloggen")
async def logout_everywhere_submit(request: Request) -> Response:
    """Sign out in every browser and on every device (a lost laptop, a shared computer)."""
    loket = loket_of(request)
    return await sign_out_everywhere_form(request, loket, citizen_principal(request, loket), "burger")


# --- who looked at my data ------------------------------------------------------------------


@router.get("/toegang", response_class=HTMLResponse)
async def accesses_page(request: Request,
                        voor: Annotated[int | None, Query(ge=0)] = None) -> Response:
    loket = loket_of(request)
    principal = await _principal(request, loket)
    if voor is None:  # answers that came in since anyone last looked
        await collect_answers(loket, pseudonym=subject_pseudonym(loket, principal))
    page = await anyio.to_thread.run_sync(lambda: my_looks(loket, principal, before=voor, limit=25))
    return render(request, "burger/toegang.html", {
        "title": "Wie bekeek mijn gegevens?", "summary": page.summary, "looks": page.looks,
        "casemanagers": page.casemanagers, "agency_requests": page.agency_requests,
        "next_before": page.next_before, "paged": voor is not None, "witnesses": page.witnesses,
    }, area=AREA)


async def _one_look(loket: Loket, principal: Principal, index: int) -> Any:
    page = await anyio.to_thread.run_sync(lambda: my_looks(loket, principal, before=index + 1, limit=1))
    return page.looks[0] if page.looks and page.looks[0].index == index else None


@router.get("/toegang/{index}/melden", response_class=HTMLResponse)
async def report_page(request: Request, index: Annotated[int, Path(ge=0, le=MAX_LOG_INDEX)]) -> Response:
    """"Ik herken dit niet": the look once more, and a form to tell the FG."""
    loket = loket_of(request)
    principal = await _principal(request, loket)
    look = await _one_look(loket, principal, index)
    if look is None:
        return render(request, "error.html", {"title": "Niet gevonden", "message": error_text_nl("not-found")},
                      status_code=404, area=AREA)
    return render(request, "burger/melden.html", {"title": "Ik herken dit niet", "l": look}, area=AREA)


@router.post("/toegang/{index}/melden")
async def report_submit(request: Request, index: Annotated[int, Path(ge=0, le=MAX_LOG_INDEX)]) -> Response:
    loket = loket_of(request)
    principal = await _principal(request, loket)
    form = await checked_form(request, loket)
    try:
        await anyio.to_thread.run_sync(report_access, loket, principal, _trace(request), index,
                                       str(form.get("toelichting") or ""))
    except LoketError as e:
        await record_page_refusal(request, e)
        flash(request, _text(e), "error")
        target = "/burger/toegang" if e.code in ("already-reported", "not-found") else f"/burger/toegang/{index}/melden"
        return RedirectResponse(target, status_code=303)
    flash(request, "Bedankt. Uw melding is verstuurd naar de functionaris gegevensbescherming. "
          "U ziet het antwoord hier bij deze regel.")
    return RedirectResponse(f"/burger/toegang#blik-{index}", status_code=303)


@router.get("/toegang/{index}", response_class=HTMLResponse)
async def access_detail(request: Request, index: Annotated[int, Path(ge=0)]) -> Response:
    """One access with its proof, verified here on the server against the log's public key."""
    loket = loket_of(request)
    principal = await _principal(request, loket)

    def load() -> tuple[Any, dict[str, Any], str | None, Any]:
        views, _ = my_accesses(loket, principal, before=index + 1, limit=1)
        bundle = my_proof(loket, principal, index)
        problem, report = None, None
        try:
            assert loket.audit.verifier is not None
            report = verify_proof_bundle(bundle, loket.audit.verifier, origin=loket.audit.origin)
        except IntegrityError as e:
            problem = str(e)
        return (views[0] if views and views[0].index == index else None), bundle, problem, report

    try:
        view, bundle, problem, report = await anyio.to_thread.run_sync(load)
    except LoketError as e:
        await record_page_refusal(request, e)
        return render(request, "error.html", {"title": "Niet gevonden", "message": error_text_nl(e.code)},
                      status_code=e.status, area=AREA)
    return render(request, "burger/bewijs.html", {
        "title": "Bewijs uit het logboek", "view": view, "index": index, "bundle": bundle,
        "problem": problem, "report": report, "vkey": bundle.get("vkey", ""),
    }, area=AREA)


@router.get("/toegang/{index}/bewijs.json")
async def proof_download(request: Request, index: Annotated[int, Path(ge=0)]) -> Response:
    loket = loket_of(request)
    principal = await _principal(request, loket)
    try:
        bundle = await anyio.to_thread.run_sync(my_proof, loket, principal, index)
    except LoketError as e:
        await record_page_refusal(request, e)
        return render(request, "error.html", {"title": "Niet gevonden", "message": error_text_nl(e.code)},
                      status_code=e.status, area=AREA)
    return Response(json.dumps(bundle, indent=2, ensure_ascii=False) + "\n", media_type="application/json",
                    headers={"Content-Disposition": f'attachment; filename="loket-bewijs-{index}.json"',
                             "Cache-Control": "no-store"})


# --- my consents ----------------------------------------------------------------------------


def _open_request_rows(session: Any, pseudonym: str) -> list[Any]:
    from gateway.consents.requests import requests_of_citizen

    return requests_of_citizen(session, pseudonym, only_open=True)


def consent_options(loket: Loket, session: Any, pseudonym: str) -> list[dict[str, Any]]:
    """Per purpose and team of the citizen's own cases: the categories only consent can open up.
    A consent the citizen gives on their own names the team that may use it."""
    ex = Explainer.of(loket)
    # Rows unpack as tuples (SQLAlchemy 2.1 deprecates Result.tuples()).
    pairs = sorted({(str(p), str(t)) for p, t in session.execute(select(Case.purpose, Case.team).where(
        Case.citizen_pseudonym == pseudonym, Case.team.is_not(None)))})
    out = []
    for purpose, team in pairs:
        items = [
            {"key": f"{a}.{c}", "organisation": ex.organisation(a), "label": ex.category_label(a, c),
             "fields": list(spec.get("fields", ()))}
            for (a, c), spec in sorted(purpose_scope(loket.purposes, purpose).items()) if not spec.get("basis")
        ]
        if items:
            out.append({"purpose": purpose, "team": team, "label": ex.purpose_label(purpose),
                        "description": ex.purpose_description(purpose), "entries": items})
    return out


# --- "Ik wil hulp": the citizen's aanmelding, the ground of a case -------------------------


@router.get("/hulp", response_class=HTMLResponse)
async def help_page(request: Request) -> Response:
    loket = loket_of(request)
    principal = await _principal(request, loket)
    ex = Explainer.of(loket)
    mine = await anyio.to_thread.run_sync(intake.my_aanmeldingen, loket, principal)
    options = [{"purpose": p, "label": ex.purpose_label(p)} for p in sorted(loket.purposes)
               if GroundType.AANMELDING.value in allowed_grounds(loket.purposes, p)]
    return render(request, "burger/hulp.html", {
        "title": "Ik wil hulp", "options": options,
        "mine": [{"label": ex.purpose_label(a.purpose), "status": a.status, "at": time_nl(a.created_at)}
                 for a in mine],
    }, area=AREA)


@router.post("/hulp")
async def help_submit(request: Request) -> Response:
    loket = loket_of(request)
    principal = await _principal(request, loket)
    form = await checked_form(request, loket)
    try:
        await anyio.to_thread.run_sync(partial(
            intake.create_aanmelding, loket, principal, _trace(request),
            purpose=str(form.get("purpose") or ""), message=str(form.get("message") or "")))
    except LoketError as e:
        return await _refused(request, e, "/burger/hulp")
    flash(request, "Bedankt. Wij zoeken een casemanager voor u. Die neemt contact met u op.")
    return RedirectResponse("/burger/hulp", status_code=303)


@router.get("/toestemmingen", response_class=HTMLResponse)
async def consents_page(request: Request) -> Response:
    loket = loket_of(request)
    principal = await _principal(request, loket)
    ex = Explainer.of(loket)

    def load() -> tuple[list[Any], list[dict[str, Any]]]:
        now = datetime.now(UTC)
        pseudonym = subject_for_reading(loket, principal)
        with loket.sessions() as session:
            consents = [consent_public(c, now) for c in consents_of(session, pseudonym)]
            return consents, consent_options(loket, session, pseudonym)

    consents, options = await anyio.to_thread.run_sync(load)
    requests = await anyio.to_thread.run_sync(consent_service.requests_of_me, loket, principal)
    return render(request, "burger/toestemmingen.html", {
        "title": "Mijn toestemmingen", "consents": consents, "requests": requests, "options": options,
        "durations": CONSENT_DURATIONS, "ex": ex,
    }, area=AREA)


def _text(e: LoketError) -> str:
    """A representation refusal carries its own B1 reason (from the policy); others the table's."""
    return str(e) if e.code.startswith("representation-") else error_text_nl(e.code)


async def _refused(request: Request, e: LoketError | ValueError, target: str) -> Response:
    """A refused citizen form: recorded as every page refusal is, told in B1 Dutch, back to
    ``target``. A value that does not parse (a number of days) is bad input, as in the API."""
    error = e if isinstance(e, LoketError) else BadInput("a form value does not parse", code="bad-input")
    await record_page_refusal(request, error)
    flash(request, _text(error), "error")
    return RedirectResponse(target, status_code=303)


def _trace(request: Request) -> TraceContext:
    return TraceContext.from_header(request.headers.get("traceparent"))


@router.post("/toestemmingen")
async def grant_submit(request: Request) -> Response:
    loket = loket_of(request)
    principal = await _principal(request, loket)
    form = await checked_form(request, loket)
    purpose = str(form.get("purpose") or "")
    team = str(form.get("team") or "")
    item = str(form.get("item") or "")
    try:
        days = int(str(form.get("days") or "90"))
        (parsed,) = parse_request_items([item], purpose=purpose, purposes=loket.purposes,
                                        catalog=loket.catalog, valid_days=days)
        now = datetime.now(UTC)
        grant = consent_service.ConsentGrant(
            purpose=purpose, agency=parsed.agency, category=parsed.category, team=team, valid_from=now,
            valid_until=now + timedelta(days=days), explicit=True)
        await anyio.to_thread.run_sync(consent_service.grant, loket, principal, _trace(request), grant)
    except (LoketError, ValueError) as e:
        return await _refused(request, e, "/burger/toestemmingen")
    flash(request, "Uw toestemming is vastgelegd. U kunt haar altijd weer intrekken.")
    return RedirectResponse("/burger/toestemmingen", status_code=303)


@router.post("/toestemmingen/{consent_id}/intrekken")
async def revoke_submit(request: Request, consent_id: Annotated[str, Path(max_length=64)]) -> Response:
    loket = loket_of(request)
    principal = await _principal(request, loket)
    await checked_form(request, loket)
    try:
        await anyio.to_thread.run_sync(consent_service.revoke, loket, principal, _trace(request), consent_id)
    except LoketError as e:
        return await _refused(request, e, "/burger/toestemmingen")
    flash(request, "De toestemming is ingetrokken. Vanaf nu geldt zij niet meer.")
    return RedirectResponse("/burger/toestemmingen", status_code=303)


# --- consent requests -----------------------------------------------------------------------


async def _my_request(loket: Loket, principal: Principal, request_id: str) -> Any:
    mine = await anyio.to_thread.run_sync(partial(consent_service.requests_of_me, loket, principal,
                                                  only_open=False))
    for r in mine:
        if r.id == request_id:
            return r
    return None


@router.get("/verzoeken/{request_id}", response_class=HTMLResponse)
async def request_page(request: Request, request_id: Annotated[str, Path(max_length=64)]) -> Response:
    loket = loket_of(request)
    principal = await _principal(request, loket)
    req = await _my_request(loket, principal, request_id)
    if req is None:
        return render(request, "error.html", {"title": "Niet gevonden", "message": error_text_nl("not-found")},
                      status_code=404, area=AREA)
    return render(request, "burger/verzoek.html", {"title": "Verzoek om toestemming", "req": req}, area=AREA)


@router.post("/verzoeken/{request_id}")
async def request_answer(request: Request, request_id: Annotated[str, Path(max_length=64)]) -> Response:
    loket = loket_of(request)
    principal = await _principal(request, loket)
    form = await checked_form(request, loket)
    answers = {k.removeprefix("antwoord:"): str(v) for k, v in form.multi_items() if k.startswith("antwoord:")}
    if any(v not in (APPROVE, DECLINE) for v in answers.values()):
        flash(request, error_text_nl("bad-answer"), "error")
        return RedirectResponse(f"/burger/verzoeken/{request_id}", status_code=303)
    try:
        result = await anyio.to_thread.run_sync(consent_service.answer_request, loket, principal, _trace(request),
                                                request_id, answers)
    except LoketError as e:
        await record_page_refusal(request, e)
        flash(request, _text(e), "error")
        gone = e.code in ("not-found", "already-answered")
        target = "/burger/toestemmingen" if gone else f"/burger/verzoeken/{request_id}"
        return RedirectResponse(target, status_code=303)
    given = len(result.consents_created)
    flash(request, "Bedankt, uw antwoord is verstuurd. "
          + (f"U gaf toestemming voor {given} onderdeel." if given == 1 else
             f"U gaf toestemming voor {given} onderdelen." if given else "U gaf geen toestemming."))
    return RedirectResponse("/burger/toestemmingen", status_code=303)


# --- "Wie mag voor mij handelen?": the citizen's machtigingen ------------------------------

MACHTIGING_DURATIONS = ((30, "1 maand"), (90, "3 maanden"), (365, "1 jaar"), (3 * 365, "3 jaar"))


@router.get("/vertegenwoordiging", response_class=HTMLResponse)
async def representation_page(request: Request) -> Response:
    loket = loket_of(request)
    principal = await _principal(request, loket)
    try:
        rows = await anyio.to_thread.run_sync(machtigingen.my_machtigingen, loket, principal)
    except LoketError as e:
        await record_page_refusal(request, e)
        return render(request, "error.html", {"title": "Niet toegestaan", "message": _text(e)},
                      status_code=e.status, area=AREA)
    labels = representation_data()["domains"]
    now = datetime.now(UTC)
    return render(request, "burger/vertegenwoordiging.html", {
        "title": "Wie mag voor mij handelen?", "durations": MACHTIGING_DURATIONS,
        "domains": [(k, v["label_nl"]) for k, v in sorted(labels.items())],
        "machtigingen": [{"id": m.id, "naam": m.gemachtigde_naam, "until": time_nl(m.valid_until),
                          "scope": ", ".join(labels.get(x, {}).get("label_nl", x) for x in m.scope),
                          "active": m.revoked_at is None and m.valid_until > now} for m in rows],
    }, area=AREA)


@router.post("/vertegenwoordiging")
async def machtiging_submit(request: Request) -> Response:
    loket = loket_of(request)
    principal = await _principal(request, loket)
    form = await checked_form(request, loket, bsn_fields=BSN_FIELD)
    try:
        days = int(str(form.get("days") or "365"))
        grant = machtigingen.MachtigingGrant(
            gemachtigde_bsn=str(form.get("bsn") or "").strip().replace(" ", ""), naam=str(form.get("naam") or ""),
            scope=tuple(str(v) for v in form.getlist("scope")), valid_until=datetime.now(UTC) + timedelta(days=days))
        await anyio.to_thread.run_sync(machtigingen.grant_machtiging, loket, principal, _trace(request), grant)
    except (LoketError, ValueError) as e:
        return await _refused(request, e, "/burger/vertegenwoordiging")
    flash(request, "Uw machtiging is vastgelegd. U kunt haar altijd weer intrekken.")
    return RedirectResponse("/burger/vertegenwoordiging", status_code=303)


@router.post("/vertegenwoordiging/{machtiging_id}/intrekken")
async def machtiging_revoke(request: Request, machtiging_id: Annotated[str, Path(max_length=64)]) -> Response:
    loket = loket_of(request)
    principal = await _principal(request, loket)
    await checked_form(request, loket)
    try:
        await anyio.to_thread.run_sync(machtigingen.revoke_machtiging, loket, principal, _trace(request),
                                       machtiging_id)
    except LoketError as e:
        return await _refused(request, e, "/burger/vertegenwoordiging")
    flash(request, "De machtiging is ingetrokken. Vanaf nu mag deze persoon niet meer voor u handelen.")
    return RedirectResponse("/burger/vertegenwoordiging", status_code=303)
