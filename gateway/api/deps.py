"""FastAPI dependencies: the Loket context, the authenticated principal, role checks."""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import Depends, Header, Request

from gateway.core.context import Loket
from gateway.core.errors import Forbidden, NotAuthenticated
from gateway.core.tracing import TraceContext
from gateway.identity.auth import Principal, Role
from gateway.representation.registers import resolve

# Every dependency here is ``async def``: FastAPI runs a plain ``def`` dependency in its
# threadpool, and four thread hops per request were a measured share of the dossier's CPU
# under load (issue 7). Only a token-cache miss, which may fetch the JWKS, leaves the loop.


async def get_loket(request: Request) -> Loket:
    loket: Loket = request.app.state.loket
    return loket


LoketDep = Annotated[Loket, Depends(get_loket)]


async def get_principal(
    request: Request, loket: LoketDep, authorization: Annotated[str | None, Header()] = None
) -> Principal:
    principal = await _authenticate(loket, authorization)
    request.state.principal = principal  # every later refusal is recorded (gateway/core/refusals.py)
    return principal


async def _authenticate(loket: Loket, authorization: str | None) -> Principal:
    if not authorization:
        raise NotAuthenticated("bearer token required", code="missing-token")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise NotAuthenticated("bearer token required", code="missing-token")
    token = token.strip()
    principal = loket.verifier.cached(token)
    if principal is not None:
        return principal
    # A signature check, and maybe a JWKS fetch (PyJWKClient blocks): in a worker thread.
    return await anyio.to_thread.run_sync(loket.verifier.verify, token)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require(*roles: Role):  # type: ignore[no-untyped-def]
    async def _check(principal: PrincipalDep) -> Principal:
        if principal.role not in roles:
            raise Forbidden("this role may not use this operation", code="wrong-role")
        return principal

    _check.loket_roles = roles  # type: ignore[attr-defined]  # read by api/openapi.py for the document
    return Depends(_check)


async def get_trace(request: Request, traceparent: Annotated[str | None, Header()] = None) -> TraceContext:
    trace = TraceContext.from_header(traceparent)
    request.state.trace = trace
    return trace


TraceDep = Annotated[TraceContext, Depends(get_trace)]
CaseManager = Annotated[Principal, require(Role.CASEMANAGER)]
Coordinator = Annotated[Principal, require(Role.COORDINATOR)]
def _citizen():  # type: ignore[no-untyped-def]
    """A citizen, and for one acting for someone (claim ``act_for``) what the registers say
    about that (gateway/representation/registers.py): looked up once, checked per action."""
    async def _check(request: Request, loket: LoketDep, principal: PrincipalDep) -> Principal:
        if principal.role is not Role.CITIZEN:
            raise Forbidden("this role may not use this operation", code="wrong-role")
        if principal.act_for is None:
            return principal
        resolved = await resolve(loket, principal, traceparent=request.headers.get("traceparent"))
        request.state.principal = resolved
        return resolved

    _check.loket_roles = (Role.CITIZEN,)  # type: ignore[attr-defined]  # read by api/openapi.py
    return Depends(_check)


Citizen = Annotated[Principal, _citizen()]
PrivacyOfficer = Annotated[Principal, require(Role.PRIVACY_OFFICER)]
