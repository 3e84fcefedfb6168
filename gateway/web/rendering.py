"""Rendering pages: one Jinja2 environment with autoescape always on, security headers, and the
Dutch texts for errors a person can run into.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import HTMLResponse

from gateway.core.headers import PAGE_CSP
from gateway.oversight.access_log import time_nl
from gateway.web.session import csrf_token, current_role, pop_flash

TEMPLATES_DIR = str(resources.files("gateway.web").joinpath("templates"))
STATIC_DIR = str(resources.files("gateway.web").joinpath("static"))

# No inline script or style anywhere: the policy can forbid both. The rest of the security
# headers (same-origin referrer, nosniff, HSTS) come from gateway/core/headers.py for every response.
SECURITY_HEADERS = {
    "Content-Security-Policy": PAGE_CSP,
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

#: What a person reads when something they did was refused (LoketError.code → plain Dutch).
ERROR_TEXTS_NL = {
    "invalid-bsn": "Dit is geen geldig burgerservicenummer. Het heeft 9 cijfers.",
    "bsn-in-free-text": "Zet geen burgerservicenummer in de tekst.",
    "already-revoked": "Deze toestemming was al ingetrokken.",
    "already-answered": "Dit verzoek is al beantwoord.",
    "already-reviewed": "Deze noodtoegang is al beoordeeld.",
    "answer-incomplete": "Geef bij elk onderdeel antwoord: ja of nee.",
    "bad-answer": "Kies bij elk onderdeel ja of nee.",
    "unknown-category": "Deze soort gegevens kennen wij niet.",
    "unknown-purpose": "Dit doel kennen wij niet.",
    "unknown-agency": "Deze organisatie kennen wij niet.",
    "bad-validity": "Kies een geldige periode.",
    "bad-date": "Schrijf een datum als JJJJ-MM-DD, bijvoorbeeld 2026-11-25.",
    "bad-verdict": "Kies of de noodtoegang terecht was of niet.",
    "note-required": "Schrijf een korte toelichting bij uw oordeel.",
    "text-too-long": "De tekst is te lang.",
    "not-found": "Dit hebben wij niet gevonden.",
    "ground-not-allowed": "Voor dit onderwerp kunt u zich hier niet aanmelden.",
    "unknown-team": "Kies een team dat uw zaak behandelt.",
    "audit-unavailable": "Dat lukte nu niet: het logboek is even niet bereikbaar. Er is niets veranderd.",
    "consent-declined": "U heeft hier nee op gezegd.",
    "already-reported": "U heeft deze regel al gemeld. U ziet het antwoord bij de regel.",
    "bad-amount": "Schrijf een bedrag in euro's, bijvoorbeeld 45 of 45,50.",
    "bad-pause-length": "Kies een pauze van 1 tot 90 dagen.",
    "unknown-request-type": "Dit soort verzoek kennen wij niet.",
    "justification-required": "Schrijf waarom het een noodgeval is, in minstens 20 tekens.",
    "justification-too-long": "De reden is te lang.",
    "no-categories": "Kies minstens één onderdeel.",
    "answer-required": "Schrijf een antwoord van minstens een zin voor de burger.",
}


def error_text_nl(code: str) -> str:
    return ERROR_TEXTS_NL.get(code, "Dat lukte niet. Probeer het opnieuw of neem contact met ons op.")


def _euro(amount: Any) -> str:
    from gateway.dossier.overview import euro

    return euro(amount)


def _build_env() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["tijd"] = time_nl
    env.filters["euro"] = _euro
    return env


ENV = _build_env()


def _pilot_on(request: Request) -> bool:
    loket = getattr(request.app.state, "loket", None)
    return bool(getattr(getattr(loket, "settings", None), "pilot_unverified_bases", False))


def _witness_alerts(request: Request, area: str | None) -> int:
    """Open witness alerts, for the banner on the FG's pages once the FG is logged in."""
    if area != "fg" or current_role(request) != "privacy_officer":
        return 0
    loket = getattr(request.app.state, "loket", None)
    if loket is None or getattr(loket, "witness_policy", None) is None:
        return 0
    from gateway.oversight.witnesses import open_witness_alerts

    return len(open_witness_alerts(loket))


def render(request: Request, template: str, context: dict[str, Any] | None = None, *,
           status_code: int = 200, area: str | None = None) -> HTMLResponse:
    ctx: dict[str, Any] = {
        "request": request,
        "csrf_token": csrf_token(request),
        "flashes": pop_flash(request),
        "role": current_role(request),
        "area": area,
        "title": "",
        "name": request.session.get("name", ""),
        # Loud on every page: the operator's pilot switch for unverified legal bases (issue 16).
        "pilot_unverified_bases": _pilot_on(request),
        # Loud on every FG page: a witness refused the log and has not cosigned since.
        "witness_alerts": _witness_alerts(request, area),
    }
    ctx.update(context or {})
    html = ENV.get_template(template).render(ctx)
    return HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)
