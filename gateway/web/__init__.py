"""Server-rendered pages for citizens (``/burger``) and the privacy officer (``/fg``).

Plain Dutch (B1), WCAG 2.1 AA, NL Design System CSS (Utrecht component CSS with the neutral
"voorbeeld" theme, EUPL), every form a plain POST that works without JavaScript. The pages call
the same services as the JSON API, so a page can never do what the API would refuse.
See docs/pages.md for login (development and OIDC), sessions and CSRF.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from gateway.core.context import Loket
from gateway.core.refusals import record_refusal
from gateway.web.rendering import STATIC_DIR, render
from gateway.web.session import (
    SESSION_COOKIE,
    SESSION_IDLE_S,
    BsnInForm,
    CsrfRejected,
    LoginRequired,
    RefusalNotRecorded,
    session_secret,
)


def install_web(app: FastAPI, loket: Loket) -> None:
    """Add the pages, their session cookie and static files to the gateway app."""
    from gateway.web import casemanager, citizen, common, officer

    app.add_middleware(
        SessionMiddleware,
        secret_key=session_secret(loket),
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_IDLE_S,
        path="/",
        same_site="lax",  # Strict would drop the session when a citizen follows a link from mail
        https_only=loket.settings.secure_cookies,
    )
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(common.router)
    app.include_router(citizen.router)
    app.include_router(officer.router)
    app.include_router(casemanager.router)

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(f"/{exc.area}/inloggen", status_code=303)

    @app.exception_handler(RefusalNotRecorded)
    async def _refusal_not_recorded(request: Request, exc: RefusalNotRecorded) -> Response:
        return _unavailable(request)

    @app.exception_handler(CsrfRejected)
    async def _csrf(request: Request, exc: CsrfRejected) -> Response:
        if not await record_refusal(request, 403, "csrf-rejected"):  # signed in: recorded like any refusal
            return _unavailable(request)
        return render(request, "error.html", {
            "title": "Formulier niet geaccepteerd",
            "message": ("Dit formulier is verlopen of kwam niet van deze website. "
                        "Ga terug, laad de pagina opnieuw en probeer het nog een keer."),
        }, status_code=403)

    @app.exception_handler(BsnInForm)
    async def _bsn_in_form(request: Request, exc: BsnInForm) -> Response:
        if not await record_refusal(request, 422, "bsn-in-free-text"):
            return _unavailable(request)
        # Nothing of the form is shown again: the text held a BSN.
        return render(request, "error.html", {
            "title": "Formulier niet verstuurd",
            "message": ("Er stond een burgerservicenummer in de tekst. Dat mag niet, want de tekst "
                        "wordt bewaard. Ga terug, haal het nummer weg en verstuur het opnieuw."),
        }, status_code=422)


def _unavailable(request: Request) -> Response:
    """fail-closed: a refusal that could not be recorded is not shown; the page answers 503."""
    return render(request, "error.html", {
        "title": "Het lukt nu even niet",
        "message": ("Er ging iets mis bij het bewaren van wat er gebeurde. Er is niets veranderd. "
                    "Probeer het over een paar minuten opnieuw."),
    }, status_code=503)
