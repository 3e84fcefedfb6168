"""The privacy officer's pages (``/fg``): search and export, break-glass review, integrity,
unusual patterns.

A search by citizen is a POST with the BSN in the form body; the server turns it into the
pseudonym at once, and the result page, the "next page" and "export" forms carry only the
pseudonym. The BSN is never put in a URL, a cookie, a log line or the page.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Path
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse

from audit.record import AuditEventKind
from gateway.core.context import Loket
from gateway.core.errors import LoketError, NotFound
from gateway.core.tracing import TraceContext
from gateway.dossier.break_glass import VERDICT_NL
from gateway.dossier.explain import Explainer
from gateway.identity.auth import Role
from gateway.oversight.access_log import MAX_LOG_INDEX, IndexedRecord, SearchQuery, outcome_nl, search, summarise
from gateway.oversight.integrity import verify_runs
from gateway.oversight.pattern_scan import minimisation
from gateway.oversight.patterns import PATTERN_TITLES_NL
from gateway.oversight.reports import answer_report, load_report, report_queue
from gateway.oversight.service import (
    break_glass_queue,
    build_query,
    integrity_json,
    logged_export,
    record_log_access,
    review_break_glass,
    view_break_glass,
    view_patterns,
    view_record,
)
from gateway.web.charts import minimisation_chart
from gateway.web.rendering import error_text_nl, render
from gateway.web.session import (
    BSN_FIELD,
    checked_form,
    flash,
    load_page_session,
    login,
    officer_principal,
    record_page_refusal,
    sign_out_everywhere_form,
    sign_out_form,
)

router = APIRouter(prefix="/fg", include_in_schema=False, dependencies=[Depends(load_page_session)])

AREA = "fg"
PAGE_SIZE = 25
DEV_OFFICERS = (("fg-001", "Functionaris gegevensbescherming (FG)"),
                ("fg-002", "Plaatsvervangend FG"))


def loket_of(request: Request) -> Loket:
    loket: Loket = request.app.state.loket
    return loket


def _trace(request: Request) -> TraceContext:
    return TraceContext.from_header(request.headers.get("traceparent"))


# --- login ----------------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
def home(request: Request) -> Response:
    officer_principal(request)
    return RedirectResponse("/fg/zoeken", status_code=303)


@router.get("/inloggen", response_class=HTMLResponse)
def login_page(request: Request) -> Response:
    loket = loket_of(request)
    return render(request, "fg/inloggen.html", {"title": "Inloggen voor de FG",
                                                "dev": loket.settings.dev_issuer,
                                                "oidc": bool(loket.settings.oidc_officer_metadata_url),
                                                "officers": DEV_OFFICERS}, area=AREA)


@router.post("/inloggen")
async def login_submit(request: Request) -> Response:
    loket = loket_of(request)
    form = await checked_form(request, loket)
    chosen = str(form.get("officer") or "")
    officer = next((o for o in DEV_OFFICERS if o[0] == chosen), None)
    if not loket.settings.dev_issuer or officer is None or form.get("role") != Role.PRIVACY_OFFICER.value:
        flash(request, "Kies een rol om in te loggen.", "error")
        return RedirectResponse("/fg/inloggen", status_code=303)
    await login(request, loket, role=Role.PRIVACY_OFFICER, sub=officer[0], name=officer[1])
    return RedirectResponse("/fg/zoeken", status_code=303)


@router.post("/uitloggen")
async def logout_submit(request: Request) -> Response:
    return await sign_out_form(request, loket_of(request), Role.PRIVACY_OFFICER, "fg")


@router.post("/overal-uitloggen")
async def logout_everywhere_submit(request: Request) -> Response:
    """Sign out in every browser and on every device (a lost laptop, a shared computer)."""
    loket = loket_of(request)
    return await sign_out_everywhere_form(request, loket, officer_principal(request), "fg")


# --- search and export ----------------------------------------------------------------------


def _search_options(loket: Loket) -> dict[str, Any]:
    ex = Explainer.of(loket)
    return {
        "purposes": sorted(((p, ex.purpose_label(p)) for p in loket.known_purposes), key=lambda x: x[1]),
        "agencies": sorted(((a, d.organisation + " — " + d.name) for a, d in loket.catalog.agencies.items()),
                           key=lambda x: x[1]),
        "kinds": [(k.value, ex.kind_label(k.value)) for k in AuditEventKind],
    }


def _query_from_form(loket: Loket, form: FormData) -> SearchQuery:
    def get(name: str) -> str | None:
        value = form.get(name)
        return str(value).strip() if isinstance(value, str) and value.strip() else None

    bg = get("break_glass")
    return build_query(
        loket, since=get("since"), until=get("until"), casemanager=get("actor_sub"), purpose=get("purpose"),
        agency=get("agency"), break_glass=None if bg is None else bg == "true", kind=get("kind"),
        bsn=get("bsn"), data_subject_id=get("data_subject_id"),
    )


def _results_page(request: Request, loket: Loket, query: SearchQuery | None, items: list[IndexedRecord],
                  nxt: int | None, *, error: str | None = None, form_values: dict[str, str] | None = None) -> Response:
    ex = Explainer.of(loket)
    return render(request, "fg/zoeken.html", {
        "title": "Toegangslog doorzoeken", "rows": [summarise(i, ex) for i in items], "next_before": nxt,
        "selection": query.as_form() if query else {}, "searched": query is not None, "error": error,
        "values": form_values or (query.as_form() if query else {}), **_search_options(loket),
    }, status_code=422 if error else 200, area=AREA)


@router.get("/zoeken", response_class=HTMLResponse)
async def search_page(request: Request) -> Response:
    loket = loket_of(request)
    officer_principal(request)
    items, nxt = await anyio.to_thread.run_sync(lambda: search(loket.audit, SearchQuery(), limit=PAGE_SIZE))
    return _results_page(request, loket, None, items, nxt)


@router.post("/zoeken", response_class=HTMLResponse)
async def search_submit(request: Request) -> Response:
    loket = loket_of(request)
    principal = officer_principal(request)
    form = await checked_form(request, loket, bsn_fields=BSN_FIELD)
    safe_values = {k: str(v) for k, v in form.items() if k not in ("bsn", "csrf_token") and isinstance(v, str)}
    try:
        query = _query_from_form(loket, form)
        before_raw = form.get("before")
        before = (min(int(before_raw), MAX_LOG_INDEX)
                  if isinstance(before_raw, str) and before_raw.isdigit() else None)
        items, nxt = await anyio.to_thread.run_sync(lambda: search(loket.audit, query, before=before, limit=PAGE_SIZE))
        await anyio.to_thread.run_sync(record_log_access, loket, principal, _trace(request),
                                       AuditEventKind.ACCESS_LOG_SEARCHED, query)
    except LoketError as e:
        await record_page_refusal(request, e)
        return _results_page(request, loket, None, [], None, error=error_text_nl(e.code), form_values=safe_values)
    return _results_page(request, loket, query, items, nxt, form_values=safe_values)


@router.post("/export")
async def export_submit(request: Request) -> Response:
    loket = loket_of(request)
    principal = officer_principal(request)
    form = await checked_form(request, loket, bsn_fields=BSN_FIELD)
    try:
        query = _query_from_form(loket, form)
    except LoketError as e:
        await record_page_refusal(request, e)
        return _results_page(request, loket, None, [], None, error=error_text_nl(e.code))
    fmt = "csv" if form.get("format") == "csv" else "jsonl"
    export = await anyio.to_thread.run_sync(logged_export, loket, principal, _trace(request), query, fmt)
    return StreamingResponse(export.body, media_type=export.media_type, headers={
        "Content-Disposition": f'attachment; filename="{export.filename}"', "Cache-Control": "no-store"})


@router.get("/records/{index}", response_class=HTMLResponse)
async def record_page(request: Request, index: Annotated[int, Path(ge=0)]) -> Response:
    loket = loket_of(request)
    principal = officer_principal(request)
    try:
        stored = await anyio.to_thread.run_sync(view_record, loket, principal, _trace(request), index)
    except NotFound:
        return render(request, "error.html", {"title": "Niet gevonden", "message": error_text_nl("not-found")},
                      status_code=404, area=AREA)
    item = IndexedRecord.of(stored)
    return render(request, "fg/record.html", {
        "title": f"Logregel {index}", "row": summarise(item, Explainer.of(loket)),
        "outcome_nl": outcome_nl(item.record.outcome),
        "record_json": json.dumps(item.record.to_dict(), indent=2, ensure_ascii=False),
        "leaf_hash": stored.leaf_hash.hex(),
    }, area=AREA)


# --- break-glass review ---------------------------------------------------------------------


@router.get("/noodtoegang", response_class=HTMLResponse)
async def break_glass_page(request: Request) -> Response:
    loket = loket_of(request)
    officer_principal(request)
    pending = await anyio.to_thread.run_sync(lambda: break_glass_queue(loket, pending_only=True))
    done = [i for i in await anyio.to_thread.run_sync(lambda: break_glass_queue(loket, pending_only=False))
            if i.review_status != "pending"][:25]
    return render(request, "fg/noodtoegang.html", {
        "title": "Noodtoegang beoordelen", "pending": pending, "done": done, "verdicts": VERDICT_NL,
        "ex": Explainer.of(loket),
    }, area=AREA)


@router.get("/noodtoegang/{event_id}", response_class=HTMLResponse)
async def break_glass_detail(request: Request, event_id: Annotated[str, Path(max_length=64)]) -> Response:
    loket = loket_of(request)
    principal = officer_principal(request)
    try:
        item = await anyio.to_thread.run_sync(view_break_glass, loket, principal, _trace(request), event_id)
    except LoketError as e:
        await record_page_refusal(request, e)
        return render(request, "error.html", {"title": "Niet gevonden", "message": error_text_nl(e.code)},
                      status_code=e.status, area=AREA)
    from audit.log import AuditFilter

    records = await anyio.to_thread.run_sync(lambda: loket.audit.find(
        AuditFilter(case_id=item.case_id), newest_first=True, limit=50))
    ex = Explainer.of(loket)
    return render(request, "fg/noodtoegang_detail.html", {
        "title": "Noodtoegang beoordelen", "item": item, "verdicts": VERDICT_NL, "ex": ex,
        "rows": [summarise(IndexedRecord.of(r), ex) for r in records],
    }, area=AREA)


@router.post("/noodtoegang/{event_id}")
async def break_glass_review_submit(request: Request, event_id: Annotated[str, Path(max_length=64)]) -> Response:
    loket = loket_of(request)
    principal = officer_principal(request)
    form = await checked_form(request, loket)
    try:
        await anyio.to_thread.run_sync(review_break_glass, loket, principal, _trace(request), event_id,
                                       str(form.get("verdict") or ""), str(form.get("note") or ""))
    except LoketError as e:
        await record_page_refusal(request, e)
        flash(request, error_text_nl(e.code), "error")
        return RedirectResponse(f"/fg/noodtoegang/{event_id}", status_code=303)
    flash(request, "Uw beoordeling is vastgelegd.")
    return RedirectResponse("/fg/noodtoegang", status_code=303)


# --- integrity ------------------------------------------------------------------------------


@router.get("/integriteit", response_class=HTMLResponse)
async def integrity_page(request: Request) -> Response:
    loket = loket_of(request)
    officer_principal(request)
    status = await anyio.to_thread.run_sync(integrity_json, loket)
    return render(request, "fg/integriteit.html", {"title": "Betrouwbaarheid van het logboek",
                                                   "status": status}, area=AREA)


@router.post("/integriteit/controle")
async def verify_start(request: Request) -> Response:
    loket = loket_of(request)
    principal = officer_principal(request)
    await checked_form(request, loket)
    job = await anyio.to_thread.run_sync(verify_runs(loket).start, loket.audit, principal.sub)
    return RedirectResponse(f"/fg/integriteit/controle/{job.id}", status_code=303)


@router.get("/integriteit/controle/{job_id}", response_class=HTMLResponse)
async def verify_page(request: Request, job_id: Annotated[str, Path(max_length=64)]) -> Response:
    loket = loket_of(request)
    officer_principal(request)
    try:
        job = await anyio.to_thread.run_sync(verify_runs(loket).get, job_id)
    except NotFound:
        return render(request, "error.html", {"title": "Niet gevonden",
                                              "message": "Deze controle bestaat niet (meer). Start een nieuwe."},
                      status_code=404, area=AREA)
    return render(request, "fg/controle.html", {"title": "Controle van het logboek", "job": job}, area=AREA)


@router.get("/integriteit/status/{job_id}")
async def verify_status(request: Request, job_id: Annotated[str, Path(max_length=64)]) -> Response:
    loket = loket_of(request)
    officer_principal(request)
    try:
        job = await anyio.to_thread.run_sync(verify_runs(loket).get, job_id)
        return JSONResponse(job.as_json(), headers={"Cache-Control": "no-store"})
    except NotFound:
        return JSONResponse({"state": "unknown"}, status_code=404)


# --- unusual patterns -----------------------------------------------------------------------


@router.get("/patronen", response_class=HTMLResponse)
async def patterns_page(request: Request) -> Response:
    loket = loket_of(request)
    principal = officer_principal(request)
    report = await anyio.to_thread.run_sync(view_patterns, loket, principal, _trace(request))
    ex = Explainer.of(loket)
    per_purpose = await anyio.to_thread.run_sync(lambda: minimisation(loket, by="purpose"))
    per_cm = await anyio.to_thread.run_sync(lambda: minimisation(loket, by="casemanager"))
    return render(request, "fg/patronen.html", {
        "title": "Opvallende patronen", "findings": report.findings, "titles": PATTERN_TITLES_NL,
        "fresh": report.freshness, "per_purpose": per_purpose, "per_cm": per_cm,
        "purpose_label": ex.purpose_label, "chart": minimisation_chart(per_purpose, ex.purpose_label),
    }, area=AREA)


# --- "Ik herken dit niet": reports from citizens -------------------------------------------


@router.get("/meldingen", response_class=HTMLResponse)
async def reports_page(request: Request) -> Response:
    loket = loket_of(request)
    officer_principal(request)
    pending = await anyio.to_thread.run_sync(lambda: report_queue(loket, open_only=True))
    done = [m for m in await anyio.to_thread.run_sync(lambda: report_queue(loket, open_only=False))
            if m.status != "open"][:25]
    return render(request, "fg/meldingen.html", {"title": "Meldingen van burgers", "pending": pending,
                                                 "done": done}, area=AREA)


@router.get("/meldingen/{report_id}", response_class=HTMLResponse)
async def report_detail(request: Request, report_id: Annotated[str, Path(max_length=36)]) -> Response:
    loket = loket_of(request)
    officer_principal(request)
    try:
        m = await anyio.to_thread.run_sync(load_report, loket, report_id)
        stored = await anyio.to_thread.run_sync(loket.audit.get_record, m.record_index)
    except LoketError as e:
        await record_page_refusal(request, e)
        return render(request, "error.html", {"title": "Niet gevonden", "message": error_text_nl(e.code)},
                      status_code=e.status, area=AREA)
    row = summarise(IndexedRecord.of(stored), Explainer.of(loket))
    return render(request, "fg/melding.html", {"title": "Melding van een burger", "m": m, "row": row}, area=AREA)


@router.post("/meldingen/{report_id}")
async def report_answer_submit(request: Request, report_id: Annotated[str, Path(max_length=36)]) -> Response:
    loket = loket_of(request)
    principal = officer_principal(request)
    form = await checked_form(request, loket)
    try:
        await anyio.to_thread.run_sync(answer_report, loket, principal, _trace(request), report_id,
                                       str(form.get("antwoord") or ""))
    except LoketError as e:
        await record_page_refusal(request, e)
        flash(request, error_text_nl(e.code), "error")
        return RedirectResponse(f"/fg/meldingen/{report_id}", status_code=303)
    flash(request, "Uw antwoord is verstuurd. De burger ziet het bij de gemelde regel.")
    return RedirectResponse("/fg/meldingen", status_code=303)
