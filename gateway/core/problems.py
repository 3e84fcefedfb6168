"""The one place that turns errors into HTTP responses: RFC 9457 problem+json.

``type`` URIs are stable; ``detail`` never carries a BSN, a token or data content. Unexpected
exceptions become a bare 500 problem (the cause goes to the server log by type only).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from gateway.core.errors import LoketError, http_status_for
from gateway.core.refusals import record_refusal

PROBLEM_BASE = "https://loket.example/problems/"
log = logging.getLogger("loket.problems")

_TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Invalid input",
    500: "Internal error",
    502: "Agency unavailable",
    503: "Service unavailable",
}


def problem(status: int, code: str, detail: str = "", **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + code,
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    body.update(extra)
    headers = {"WWW-Authenticate": 'Bearer realm="loket"'} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type="application/problem+json", headers=headers)


def _sanitise_validation_errors(errors: list[Any]) -> list[dict[str, Any]]:
    # Pydantic echoes the offending input; it may be a BSN, so only location and message go out.
    return [{"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))} for e in errors]


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(request: Request) -> list[str]:
    """The methods some route serves at this path (each tried through the public ``matches``,
    as included routers do not expose their routes)."""
    routes = request.app.router.routes
    return [m for m in _METHODS
            if any(r.matches({**request.scope, "method": m})[0] is Match.FULL for r in routes)]


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(LoketError)
    async def _loket_error(request: Request, exc: LoketError) -> JSONResponse:
        status = http_status_for(exc)
        # fail-closed: a refusal that cannot be recorded is answered as the log being down
        if not await record_refusal(request, status, exc.code, exc):
            return problem(503, "audit-unavailable", "the audit log is unavailable; nothing was done")
        return problem(status, exc.code, exc.detail)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        code = "bsn-in-free-text" if any(e.get("type") == "bsn_in_free_text" for e in errors) else "validation-error"
        if not await record_refusal(request, 422, code, exc):
            return problem(503, "audit-unavailable", "the audit log is unavailable; nothing was done")
        if code == "bsn-in-free-text":
            # gateway.api.schemas.Strict: the message names the field, never the value.
            return problem(422, "bsn-in-free-text", "free text and identifiers must not contain a BSN",
                           errors=_sanitise_validation_errors(errors))
        return problem(422, "validation-error", "request did not validate",
                       errors=_sanitise_validation_errors(errors))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else ""
        response = problem(exc.status_code, f"http-{exc.status_code}", detail)
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        if exc.status_code == 405:
            # RFC 9110 §15.5.6: a 405 names every method the resource allows. Starlette names
            # only those of the first route with this path (GET and POST /v1/cases are two).
            response.headers["Allow"] = ", ".join(allowed_methods(request)) or response.headers.get("Allow", "")
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected error: %s", type(exc).__name__)
        return problem(500, "internal-error", "an unexpected error occurred; no data was disclosed")
