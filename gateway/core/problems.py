"""The one place that turns errors into HTTP responses: RFC 9457 problem+json.

``type`` URIs are stable: ``PROBLEM_BASE`` + a slug from ``PROBLEM_TYPES`` below, the catalogue
that docs/problems.md is generated from (``python -m gateway.core.problems > docs/problems.md``;
a test keeps the copy in step). ``detail`` never carries a BSN, a token, an input value or data content; for server-side
failures (5xx) it is a fixed sentence and the cause goes to the server log.

Invalid input is 400 with ``invalidParams`` (name, code, reason), as the Dutch API Design Rules
(/core/error-handling/invalid-input) and Haal Centraal do; 422 is kept for input that is well
formed but cannot apply to the resource as it stands (asking consent for a category the case's
purpose does not need, answering for a category that was not asked). Unexpected exceptions
become a bare 500 problem (the cause goes to the server log by type only).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from gateway.core.errors import BadInput, LoketError
from gateway.core.refusals import record_refusal

PROBLEM_BASE = "https://loket.example/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"
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
    422: "Unprocessable input",
    429: "Too many requests",
    500: "Internal error",
    502: "Agency unavailable",
    503: "Service unavailable",
}


@dataclass(frozen=True)
class ProblemType:
    """One stable problem ``type``: its slug, HTTP status and what it means to a client.

    ``param`` names the request member an ``invalidParams`` entry points at when the raise site
    does not say; ``public_detail`` replaces the exception's text for server-side failures."""

    code: str
    status: int
    meaning: str
    param: str | None = None
    public_detail: str | None = None


def _types(*types: ProblemType) -> dict[str, ProblemType]:
    return {t.code: t for t in types}


#: Every problem type Loket answers with. Add a type here before raising it.
PROBLEM_TYPES: dict[str, ProblemType] = _types(
    # 400: invalid input (syntax, schema, a value outside what the contract allows)
    ProblemType("validation-error", 400, "The request did not match the schema; see invalidParams."),
    ProblemType("bad-input", 400, "Invalid input."),
    ProblemType("invalid-bsn", 400, "Not a valid BSN (nine digits, elfproef). The value is never echoed.",
                param="burgerservicenummer"),
    ProblemType("unknown-purpose", 400, "No such purpose (see GET /v1/purposes).", param="purpose"),
    ProblemType("unknown-category", 400, "No such agency.category in the catalog.", param="categories"),
    ProblemType("unknown-agency", 400, "No such agency in the catalog.", param="agency"),
    ProblemType("unknown-kind", 400, "No such audit event kind.", param="kind"),
    ProblemType("bad-validity", 400, "The validity window is empty or too long.", param="valid_until"),
    ProblemType("bad-limit", 400, "limit is out of range.", param="limit"),
    ProblemType("bad-cursor", 400, "The cursor is not one this list handed out.", param="cursor"),
    ProblemType("bad-date", 400, "Dates are YYYY-MM-DD or RFC 3339.", param="since"),
    ProblemType("bad-range", 400, "first must not exceed second.", param="first"),
    ProblemType("bad-verdict", 400, "A review verdict is justified or not_justified.", param="verdict"),
    ProblemType("bad-answer", 400, "Each answer is approve or decline.", param="answers"),
    ProblemType("note-required", 400, "A review needs a short note.", param="note"),
    ProblemType("no-categories", 400, "Name at least one category.", param="categories"),
    ProblemType("too-many-categories", 400, "Too many categories in one request.", param="categories"),
    ProblemType("justification-required", 400, "Break-glass needs a written justification.",
                param="justification"),
    ProblemType("justification-too-long", 400, "The justification is over the limit.", param="justification"),
    ProblemType("text-too-long", 400, "A free-text field is over the limit.", param="message"),
    ProblemType("bsn-in-free-text", 400, "Free text must not hold a BSN.", param="message"),
    ProblemType("bsn-in-url", 400, "A URL must not contain a BSN: send it in a POST body."),
    ProblemType("bad-ground", 400, "A case needs a ground: an aanmelding, a signal or a coordinator's assignment.",
                param="ground"),
    ProblemType("bad-casemanager", 400, "The assignment's casemanager is not a valid user id.",
                param="ground.casemanager"),
    ProblemType("reason-required", 400, "An assignment needs a written reason.", param="ground.reason"),
    ProblemType("unknown-request-type", 400, "No such request type to an agency.", param="type"),
    ProblemType("bad-pause-length", 400, "A pause of collection lasts 1 to 90 days.", param="until_days"),
    ProblemType("bad-amount", 400, "A monthly amount is a number of euros.", param="monthly_amount"),
    ProblemType("answer-required", 400, "An answer to a citizen's report needs a sentence or more.", param="answer"),
    ProblemType("bsn-mismatch", 400, "The BSN is not the citizen of this aanmelding or signal.",
                param="burgerservicenummer"),
    ProblemType("authzen-unknown-resource", 400, "AuthZEN: this decision point decides resource type dossier only.",
                param="resource"),
    ProblemType("authzen-unknown-action", 400, "AuthZEN: this decision point decides action dossier:read only.",
                param="action"),
    ProblemType("bad-categories", 400, "AuthZEN: resource.properties.categories is a list of agency.category.",
                param="resource.properties.categories"),
    # 401/403: who you are and what your role may do
    ProblemType("missing-token", 401, "No bearer token (Authorization: Bearer <JWT>)."),
    ProblemType("invalid-token", 401, "The token's signature, issuer, audience or claims do not check out."),
    ProblemType("token-expired", 401, "The token has expired."),
    ProblemType("token-lifetime", 401, "The token's lifetime is above the accepted maximum."),
    ProblemType("not-authenticated", 401, "Not authenticated."),
    ProblemType("wrong-role", 403, "This role may not use this operation (see the operation's roles)."),
    ProblemType("forbidden", 403, "This actor may not do this."),
    ProblemType("denied", 403, "The policy refused the whole request."),
    ProblemType("break-glass-refused", 403, "Break-glass is not available for this case's purpose."),
    ProblemType("coordinator-only", 403, "Only a coordinator opens cases and sees aanmeldingen and signals."),
    ProblemType("no-team", 403, "A coordinator token needs a team claim."),
    ProblemType("agency-request-refused", 403,
                "The policy does not allow this request to this agency for the case's purpose and ground; "
                "nothing was sent (the reasons are in detail)."),
    ProblemType("representation-refused", 403,
                "The signed-in person may not do this for the person they act for (not registered as "
                "their representative, outside the representation's scope, ended, or the child is 18); "
                "the B1 Dutch reason is in detail, the check is in the audit log."),
    ProblemType("representation-unchecked", 403,
                "This operation is not available when acting for someone else."),
    ProblemType("representation-unverifiable", 502,
                "A register needed to check the representation did not answer; nothing was done."),
    ProblemType("self-assignment", 403, "A coordinator cannot assign a case to themself."),
    ProblemType("authzen-subject-mismatch", 403, "AuthZEN: a casemanager may only ask about themself."),
    # 404/405/409/413/415/422
    ProblemType("not-found", 404, "No such resource, or not one the caller may know exists."),
    ProblemType("http-404", 404, "No such path."),
    ProblemType("http-405", 405, "Method not allowed on this path."),
    ProblemType("conflict", 409, "The resource's state does not allow this."),
    ProblemType("already-assigned", 409, "The aanmelding or signal was already assigned to a case."),
    ProblemType("already-answered", 409, "The consent request was already answered."),
    ProblemType("already-revoked", 409, "The consent was already revoked."),
    ProblemType("already-reported", 409, "The citizen already reported this access record."),
    ProblemType("already-reviewed", 409, "The break-glass access was already reviewed."),
    ProblemType("request-too-large", 413, "The request body is over the limit."),
    ProblemType("purpose-mismatch", 422, "The purpose is not the one the citizen asked help for.", param="purpose"),
    ProblemType("unknown-team", 422, "Name a team that works a case of yours for this purpose.", param="team"),
    ProblemType("ground-not-allowed", 422, "This purpose does not allow a case on this ground.", param="ground"),
    ProblemType("not-needed-for-purpose", 422, "The case's purpose does not need this category.",
                param="categories"),
    ProblemType("basis-covers-category", 422, "A legal basis already covers this category; do not ask consent.",
                param="categories"),
    ProblemType("category-not-asked", 422, "The answer names a category the request did not ask for.",
                param="answers"),
    ProblemType("answer-incomplete", 422, "Answer every category of the request.", param="answers"),
    # 429/5xx: try again later; nothing was disclosed
    ProblemType("too-many-requests", 429,
                "Reserved for rate limiting (a proxy in front of Loket or a future limiter); honour Retry-After."),
    ProblemType("internal-error", 500, "Unexpected error; no data was disclosed.",
                public_detail="an unexpected error occurred; no data was disclosed"),
    ProblemType("integrity-failure", 500, "The log, a proof or a signature does not verify.",
                public_detail="the audit log did not verify; no data was disclosed"),
    ProblemType("configuration-error", 500, "The gateway is misconfigured.",
                public_detail="the gateway is misconfigured; no data was disclosed"),
    ProblemType("agency-unavailable", 502, "An agency did not answer usefully."),
    ProblemType("policy-engine-unavailable", 503, "The policy engine is down or failed: fail closed.",
                public_detail="policy engine unavailable"),
    ProblemType("policy-timeout", 503, "The policy engine did not answer in time: fail closed.",
                public_detail="policy engine unavailable"),
    ProblemType("bad-decision", 503, "The policy engine gave no usable decision: fail closed.",
                public_detail="policy engine unavailable"),
    ProblemType("no-signal-source", 503, "No schuldhulp agency is configured to import signals from.",
                public_detail="no signal source is configured"),
    ProblemType("audit-unavailable", 503, "The audit record could not be written: no data leaves.",
                public_detail="audit log unavailable; no data was disclosed"),
)


def problem_type(code: str) -> ProblemType | None:
    return PROBLEM_TYPES.get(code)


def problem(status: int, code: str, detail: str = "", **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + code,
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    body.update(extra)
    headers = {"WWW-Authenticate": 'Bearer realm="loket"'} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def camel(slug: str) -> str:
    """``invalid-bsn`` / ``string_too_long`` → ``invalidBsn`` / ``stringTooLong``."""
    head, *rest = re.split(r"[-_]", slug)
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


# pydantic error types → the JSON Schema keyword a client knows (Haal Centraal's codes).
_SCHEMA_CODES = {
    "missing": "required",
    "string_too_long": "maxLength",
    "string_too_short": "minLength",
    "too_long": "maxItems",
    "too_short": "minItems",
    "less_than_equal": "maximum",
    "less_than": "maximum",
    "greater_than_equal": "minimum",
    "greater_than": "minimum",
    "string_pattern_mismatch": "pattern",
    "literal_error": "enum",
    "enum": "enum",
    "extra_forbidden": "unknownParam",
    "int_parsing": "integer",
    "int_type": "integer",
    "bool_parsing": "boolean",
    "bool_type": "boolean",
    "string_type": "string",
    "list_type": "array",
    "dict_type": "object",
    "model_attributes_type": "object",
    "datetime_parsing": "dateTime",
    "datetime_from_date_parsing": "dateTime",
    "datetime_type": "dateTime",
    "timezone_aware": "dateTime",
    "json_invalid": "json",
}


# A run of nine or more digits may be a BSN: a caller-chosen key or a message that holds one is
# never sent back (DOMAIN.md: a BSN never goes in a URL, a log line — or an error).
_DIGIT_RUN = re.compile(r"[0-9]{9,}")


def _param_name(loc: Sequence[Any]) -> str:
    # ("body", "answers", "duo.x") → "answers.duo.x"; ("query", "limit") → "limit". A segment can
    # be a key the caller chose (an unknown member, a map key): bounded, and never digits a BSN
    # could hide in.
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    parts = ["*" if _DIGIT_RUN.search(p) else p[:64] for p in parts]
    return ".".join(parts) or "body"


def invalid_params(errors: Sequence[Any]) -> list[dict[str, str]]:
    """Pydantic's errors as ``invalidParams``. Pydantic echoes the offending input (``input``);
    it may be a BSN, so only the location, a code and pydantic's message go out."""
    out = []
    for e in errors:
        kind = str(e.get("type", "invalid"))
        reason = str(e.get("msg", "invalid"))[:200]
        loc = tuple(e.get("loc", ()))
        field = (e.get("ctx") or {}).get("field")  # a model-level check names its field (schemas.Strict)
        if isinstance(field, str):
            loc += (field,)
        out.append({"name": _param_name(loc), "code": _SCHEMA_CODES.get(kind, camel(kind)),
                    "reason": "invalid value" if _DIGIT_RUN.search(reason) else reason})
    return out


def status_of(exc: LoketError) -> int:
    """The HTTP status of a domain error: its problem type's, else its class's."""
    known = problem_type(exc.code)
    return known.status if known is not None else exc.status


def error_response(exc: LoketError) -> JSONResponse:
    known = problem_type(exc.code)
    status = status_of(exc)
    detail = exc.detail
    if known is not None and known.public_detail is not None:
        if exc.detail and exc.detail != known.public_detail:
            # The cause (an engine URL, a library's message) is for the operator, not the caller.
            log.warning("%s: %s", exc.code, exc.detail)
        detail = known.public_detail
    extra: dict[str, Any] = {}
    if status == 400 or (status == 422 and isinstance(exc, BadInput)):
        name = getattr(exc, "param", None) or (known.param if known else None) or "body"
        extra["invalidParams"] = [{"name": name, "code": camel(exc.code), "reason": detail}]
    return problem(status, exc.code, detail, **extra)


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
        # fail-closed: a refusal that cannot be recorded is answered as the log being down
        if not await record_refusal(request, status_of(exc), exc.code, exc):
            return problem(503, "audit-unavailable", "the audit log is unavailable; nothing was done")
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        code = "bsn-in-free-text" if any(e.get("type") == "bsn_in_free_text" for e in errors) else "validation-error"
        if not await record_refusal(request, 400, code, exc):
            return problem(503, "audit-unavailable", "the audit log is unavailable; nothing was done")
        if code == "bsn-in-free-text":
            # gateway.api.schemas.Strict: the message names the field, never the value.
            return problem(400, "bsn-in-free-text", "free text and identifiers must not contain a BSN",
                           invalidParams=invalid_params(errors))
        return problem(400, "validation-error", "request did not validate", invalidParams=invalid_params(errors))

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


def problems_markdown() -> str:
    """docs/problems.md: every problem type with its status, meaning and parameter."""
    lines = [
        "# Problem types",
        "",
        "Every error Loket's API answers is RFC 9457 `application/problem+json` with `type`, `title`,",
        "`status` and `detail` (the `Problem` schema in `/openapi.json`). The `type` URIs below are",
        "stable: a client may switch on them. A 400 (and a 422 about input) also carries",
        "`invalidParams`: `[{\"name\", \"code\", \"reason\"}]` — `name` is the parameter or body member",
        "(dotted path), `code` a JSON Schema keyword (`required`, `maxLength`, `maximum`, `pattern`,",
        "`enum`, `unknownParam`, …) or the type's slug in camelCase (`invalidBsn`), `reason` words;",
        "the offending value is never echoed. For 5xx types `detail` is the fixed sentence shown here;",
        "the cause is in the gateway's log. Generated from `gateway/core/problems.py`",
        "(`python -m gateway.core.problems > docs/problems.md`); a test keeps this copy in step.",
        "",
        "| type | status | meaning | `invalidParams[].name` (default) |",
        "|---|---|---|---|",
    ]
    for t in sorted(PROBLEM_TYPES.values(), key=lambda t: (t.status, t.code)):
        meaning = t.meaning + (f" detail: \"{t.public_detail}\"" if t.public_detail else "")
        lines.append(f"| `{PROBLEM_BASE}{t.code}` | {t.status} | {meaning} | {f'`{t.param}`' if t.param else ''} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(problems_markdown(), end="")
