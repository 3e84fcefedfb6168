"""The published contract: ``/openapi.json`` as the Dutch API Design Rules (Logius) ask for it.

The routers declare what only they know (path, parameters, body and response models, the role
a dependency requires); this module turns FastAPI's generated document into the contract
integrators build on, in one place, so no handler carries boilerplate:

- the versioned API only: paths under ``/v1`` with ``servers: [{"url": "/v1"}]``
  (/core/uri-version); ``/health``, the RFC 8615 ``/.well-known/…`` URIs and the development
  issuer are not part of a versioned API and are described in docs/contracts.md;
- camelCase operationIds (``getDossier``), one tag per resource, the bearer JWT security scheme
  with the roles each operation needs (read from ``require(...)`` in api/deps.py);
- the error responses each operation can give, all ``application/problem+json`` with one shared
  ``Problem`` schema (/core/error-handling/problem-details, /core/error-handling/invalid-input);
- the ``API-Version`` header on every response (/core/version-header) — documented here, sent by
  :class:`ApiVersionHeader`; ``Access-Control-Allow-Origin: *`` on the document
  (/core/publish-openapi);
- an example for every request and response body (gateway/api/examples.py, synthetic data).

The document is built once per app and cached, like FastAPI's own.
"""

from __future__ import annotations

import copy
import inspect
import re
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi import routing as fastapi_routing
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.api import examples
from gateway.core.problems import PROBLEM_BASE, PROBLEM_MEDIA_TYPE, PROBLEM_TYPES

#: The contract's version (semver). Minor: additions; patch: fixes and documentation; a major
#: bump is a new ``/v2`` beside ``/v1``. Record every change in docs/contracts.md.
API_VERSION = "1.0.0"
API_PREFIX = "/v1"
OPENAPI_PATHS = ("/openapi.json", "/v1/openapi.json")

CONTACT = {
    "name": "Loket maintainers (API contract)",
    "url": "https://loket.example/api",  # placeholder domain, like the problem types
    "email": "api@loket.example",
}
DESCRIPTION = """\
Privacy-preserving data-sharing gateway for 1 Loket casework: the casemanager's cases and dossier
view, the citizen's consents and the record of every look at their data, the privacy officer's
access log, break-glass reviews and integrity checks.

Authentication: a bearer JWT (OIDC/OAuth2 access token; EdDSA or ES256) from the configured
issuer. Each operation names the role(s) it needs. Errors are RFC 9457 `application/problem+json`
with a stable `type` (docs/problems.md lists them); invalid input is 400 with `invalidParams`.
Every response carries `API-Version`. Lists are paginated with `cursor` and `limit`.
"""

#: operationIds that the handler's name does not give by itself (``get_dossier`` → ``getDossier``).
OPERATION_IDS = {
    "break_glass_dossier": "requestBreakGlassDossier",
    "purposes": "listPurposes",
    "my_consents": "listMyConsents",
    "delete_consent": "revokeConsent",
    "post_consent_request": "createConsentRequest",
    "list_case_consent_requests": "listConsentRequests",
    "my_consent_requests": "listMyConsentRequests",
    "get_my_accesses": "listMyAccesses",
    "get_my_proof": "getAccessProof",
    "search_log": "searchAccessLog",
    "export_log": "exportAccessLog",
    "list_break_glass": "listBreakGlassAccesses",
    "get_break_glass": "getBreakGlassAccess",
    "post_review": "createBreakGlassReview",
    "get_integrity": "getIntegrity",
    "start_verify": "startVerification",
    "get_verify": "getVerification",
    "get_patterns": "listPatterns",
    "latest_checkpoint": "getCheckpoint",
    "witnessed_checkpoint": "getWitnessedCheckpoint",
    "consistency": "getConsistencyProof",
    "my_aanmeldingen": "listMyAanmeldingen",
    "open_aanmeldingen": "listAanmeldingen",
    "open_signals": "listSignals",
}

#: One tag per resource, by path (after the /v1 prefix is taken off); first match wins.
TAGS: list[tuple[str, str, str]] = [
    (r"^/cases/\{[^}]+\}/dossier", "dossier", "The dossier view of a case, and break-glass access."),
    (r"/consent-requests", "consent-requests", "Consent the casemanager asks for, and the citizen's answer."),
    (r"^/cases", "cases", "Cases: citizen + purpose + casemanager."),
    (r"^/me/consents", "consents", "The citizen's own consents."),
    (r"^/me/accesses", "accesses", "Every look at the citizen's data, with a proof per record."),
    (r"^/fg/(search|export)", "access-log", "The privacy officer's search and export of the access log."),
    (r"^/fg/break-glass", "break-glass", "The privacy officer's review queue of emergency accesses."),
    (r"^/fg/integrity", "integrity", "Checkpoints and full verification of the log."),
    (r"^/fg/patterns", "patterns", "Unusual access patterns."),
    (r"aanmeldingen", "aanmeldingen", "The citizen's own request for help (a ground for a case)."),
    (r"^/signals", "signals", "Early-warning (vroegsignalering) signals: a ground for a case."),
    (r"^/purposes", "purposes", "The purposes a case can be opened for."),
    (r"^/register/", "register", "The register of processing activities (Logboek Dataverwerkingen)."),
    (r"^/log/", "transparency-log", "The log's public face: checkpoints and consistency proofs."),
]

#: Statuses an operation gives beyond what its shape implies (body → 400/413, path parameter
#: → 404, token → 401/403/503), keyed by operationId.
EXTRA_STATUSES: dict[str, tuple[int, ...]] = {
    "getDossier": (503,),
    "requestBreakGlassDossier": (503,),
    "createCase": (409, 422),
    "createConsent": (422,),
    "createConsentRequest": (422,),
    "answerConsentRequest": (409, 422),
    "revokeConsent": (409,),
    "createBreakGlassReview": (409,),
    "getCheckpoint": (404,),
    "getWitnessedCheckpoint": (404,),
    "getConsistencyProof": (404,),
}

_STATUS_TEXT = {
    400: "Invalid input: the problem's invalidParams name each parameter at fault (never its value).",
    401: "No valid bearer token.",
    403: "The token's role may not use this operation, or the actor may not act on this resource.",
    404: "No such resource, or not one the caller may know exists.",
    409: "The resource is no longer in a state that allows this (answered, revoked, reviewed).",
    413: "The request body is over the limit.",
    422: "Well-formed input that cannot apply to this resource as it stands.",
    429: "Too many requests; retry after the Retry-After header.",
    500: "Unexpected error; no data was disclosed.",
    503: "A fail-closed dependency (policy engine, audit log) is unavailable; no data was disclosed.",
}
_DEFAULT_CODE = {400: "validation-error", 401: "missing-token", 403: "wrong-role", 404: "not-found",
                 409: "already-answered", 413: "request-too-large", 422: "not-needed-for-purpose",
                 429: "too-many-requests", 500: "internal-error", 503: "policy-engine-unavailable"}

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details. `type` is one of the stable URIs in docs/problems.md.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "format": "uri", "description": "Stable problem type URI."},
        "title": {"type": "string", "description": "Short summary of the status."},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string", "description": "What went wrong; never a BSN, token or input value."},
        "instance": {"type": "string", "format": "uri-reference"},
        "invalidParams": {"type": "array", "items": {"$ref": "#/components/schemas/InvalidParam"},
                          "description": "With 400 (and 422): each request member at fault."},
    },
}
INVALID_PARAM_SCHEMA: dict[str, Any] = {
    "title": "InvalidParam",
    "type": "object",
    "required": ["name", "code", "reason"],
    "properties": {
        "name": {"type": "string", "description": "The parameter or body member (dotted path)."},
        "code": {"type": "string", "description": "camelCase: a JSON Schema keyword or the problem's slug."},
        "reason": {"type": "string", "description": "Why, in words; never the value itself."},
    },
}
API_VERSION_HEADER: dict[str, Any] = {
    "description": "The full version (semver) of the API contract that answered.",
    "schema": {"type": "string", "examples": [API_VERSION]},
}


def operation_id(route: APIRoute) -> str:
    """``generate_unique_id_function`` of the app: a clean camelCase id per handler."""
    name = route.name
    if name in OPERATION_IDS:
        return OPERATION_IDS[name]
    head, *rest = name.split("_")
    return head + "".join(p.capitalize() for p in rest)


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    for dep in dependant.dependencies:
        yield dep
        yield from _dependants(dep)


def route_roles(route: APIRoute) -> tuple[list[str], bool]:
    """(roles required, authenticated at all), from the ``require(...)`` dependency."""
    from gateway.api.deps import get_principal

    roles: list[str] = []
    authenticated = False
    for dep in _dependants(route.dependant):
        found = getattr(dep.call, "loket_roles", None)
        if found is not None:
            roles += [str(r) for r in found]
            authenticated = True
        if dep.call is get_principal:
            authenticated = True
    return sorted(set(roles)), authenticated


def _problem_response(status: int) -> dict[str, Any]:
    code = _DEFAULT_CODE.get(status, "internal-error")
    known = PROBLEM_TYPES[code]
    example: dict[str, Any] = {"type": PROBLEM_BASE + code, "title": _title(status), "status": status,
                               "detail": known.public_detail or known.meaning}
    if status == 400:
        example["detail"] = "request did not validate"
        example["invalidParams"] = [{"name": "limit", "code": "maximum",
                                     "reason": "Input should be less than or equal to 200"}]
    return {
        "description": _STATUS_TEXT[status],
        "headers": {"API-Version": {"$ref": "#/components/headers/API-Version"}},
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"},
                                         "example": example}},
    }


def _title(status: int) -> str:
    from gateway.core.problems import _TITLES

    return _TITLES.get(status, "Error")


def _statuses(op: dict[str, Any], method: str, path: str, authenticated: bool) -> list[int]:
    # The rules ask every POST/PUT/PATCH to document 400, even one without input (there the
    # 400 is unreachable; docs/contracts.md says so).
    has_input = bool(op.get("parameters")) or "requestBody" in op or method in ("post", "put", "patch")
    out = {429, 500}
    if has_input:
        out.add(400)
    if "requestBody" in op:
        out.add(413)
    if "{" in path:
        out.add(404)
    if authenticated:
        out |= {401, 403, 503}
    out |= set(EXTRA_STATUSES.get(op["operationId"], ()))
    return sorted(out)


def _tag_for(path: str) -> str:
    for pattern, tag, _ in TAGS:
        if re.search(pattern, path):
            return tag
    return "meta"


def _shape_operation(op: dict[str, Any], method: str, path: str, route: APIRoute | None) -> None:
    roles, authenticated = route_roles(route) if route is not None else ([], False)
    # OpenAPI ignores an "Authorization" header parameter: the security scheme says it.
    params = [p for p in op.get("parameters", []) if not (p["in"] == "header" and p["name"].lower() == "authorization")]
    if params:
        op["parameters"] = params
    else:
        op.pop("parameters", None)
    op["tags"] = [_tag_for(path)]
    description = op.get("description", "").strip()
    if authenticated:
        op["security"] = [{"bearerAuth": []}]
        who = ", ".join(f"`{r}`" for r in roles) if roles else "any authenticated role"
        description += f"\n\nRequired role: {who} (bearer JWT, claim `role`)."
    else:
        op["security"] = []
        description += "\n\nPublic: no token needed (holds no personal data)."
    op["description"] = description.strip()
    responses = op.setdefault("responses", {})
    responses.pop("422", None)  # FastAPI's HTTPValidationError: Loket answers 400 with a Problem
    for status, resp in responses.items():
        if status.startswith(("2", "3")):
            headers = resp.setdefault("headers", {})
            headers["API-Version"] = {"$ref": "#/components/headers/API-Version"}
    for status in _statuses(op, method, path, authenticated):
        responses[str(status)] = _problem_response(status)
    examples.apply(op)


def _api_routes(app: FastAPI) -> Iterator[tuple[str, APIRoute]]:
    """(full path, route) of every API route, through included routers (FastAPI ≥ 0.16x keeps
    an included router as one entry and resolves its routes lazily)."""
    iter_contexts = getattr(fastapi_routing, "iter_route_contexts", None)
    if iter_contexts is None:
        yield from ((r.path_format, r) for r in app.routes if isinstance(r, APIRoute))
        return
    for ctx in iter_contexts(app.routes):
        route = ctx.original_route
        if isinstance(route, APIRoute):
            yield (getattr(ctx, "path_format", None) or route.path_format), route


def build_openapi(app: FastAPI) -> dict[str, Any]:
    doc = get_openapi(
        title="Loket API", version=API_VERSION, openapi_version="3.1.0", summary="1 Loket data-sharing gateway",
        description=DESCRIPTION, routes=app.routes, contact=CONTACT,
        license_info={"name": "EUPL-1.2", "identifier": "EUPL-1.2"},
        servers=[{"url": API_PREFIX, "description": "This gateway (relative to where the document was fetched)."}],
    )
    routes = {(m.lower(), path): r for path, r in _api_routes(app) for m in (r.methods or ())}
    paths: dict[str, Any] = {}
    for path, item in doc.get("paths", {}).items():
        if not path.startswith(API_PREFIX + "/"):
            continue
        short = path[len(API_PREFIX):]
        for method, op in item.items():
            _shape_operation(op, method, short, routes.get((method, path)))
        paths[short] = item
    doc["paths"] = paths
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    schemas["Problem"] = PROBLEM_SCHEMA
    schemas["InvalidParam"] = INVALID_PARAM_SCHEMA
    examples.apply_schemas(schemas)
    components["headers"] = {"API-Version": API_VERSION_HEADER}
    components["securitySchemes"] = {"bearerAuth": {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
        "description": "An access token (JWT, EdDSA or ES256) from the configured issuer; the `role` "
                       "claim is casemanager, citizen, privacy_officer or admin.",
    }}
    used = {t for item in paths.values() for op in item.values() for t in op.get("tags", [])}
    doc["tags"] = [{"name": tag, "description": text} for _, tag, text in TAGS if tag in used]
    return doc


def install_openapi(app: FastAPI) -> None:
    """Serve the contract at /openapi.json and at /v1/openapi.json (the Logius standard
    location, inside the base path), readable cross-origin, and send API-Version everywhere."""
    cache: dict[str, dict[str, Any]] = {}

    def openapi() -> dict[str, Any]:
        if "doc" not in cache:
            cache["doc"] = build_openapi(app)
        return cache["doc"]

    app.openapi = openapi  # type: ignore[method-assign]

    async def document(request: Request) -> JSONResponse:
        return JSONResponse(copy.deepcopy(openapi()))

    app.add_api_route(API_PREFIX + "/openapi.json", document, include_in_schema=False, methods=["GET"])
    app.add_middleware(ApiVersionHeader, version=API_VERSION)
    # The last-resort 500 is answered by Starlette's outermost middleware, outside any added one.
    last_resort = app.exception_handlers.get(Exception)
    if last_resort is not None:
        async def with_version(request: Request, exc: Exception) -> Response:
            answered = last_resort(request, exc)
            response = await answered if inspect.isawaitable(answered) else answered
            response.headers["API-Version"] = API_VERSION
            return response

        app.exception_handlers[Exception] = with_version


class ApiVersionHeader:
    """Pure ASGI: ``API-Version`` on every response; CORS ``*`` on the OpenAPI document."""

    def __init__(self, app: ASGIApp, *, version: str) -> None:
        self.app = app
        self.version = version.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        public_doc = scope.get("path") in OPENAPI_PATHS

        async def send_with_version(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"api-version", self.version))
                if public_doc:
                    headers.append((b"access-control-allow-origin", b"*"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_version)


def deprecated(sunset: str, link: str) -> Callable[[Any], Any]:
    """Mark a retired operation (docs/contracts.md, deprecation policy): a route dependency that
    adds ``Deprecation: true`` (RFC 9745 allows a date too), ``Sunset`` (RFC 8594, an HTTP date)
    and a ``Link`` to the successor, and flags the operation ``deprecated`` in the document.

    Usage: ``@router.get(..., deprecated=True, dependencies=[Depends(deprecated(...))])``."""
    async def _headers(response: Response) -> None:
        response.headers["Deprecation"] = "true"
        response.headers["Sunset"] = sunset
        response.headers["Link"] = f'<{link}>; rel="successor-version"'

    return _headers
