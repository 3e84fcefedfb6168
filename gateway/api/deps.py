"""FastAPI dependencies: the Loket context, the authenticated principal, role checks."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from gateway.auth import Principal, Role
from gateway.context import Loket
from gateway.errors import Forbidden, NotAuthenticated
from gateway.tracing import TraceContext


def get_loket(request: Request) -> Loket:
    loket: Loket = request.app.state.loket
    return loket


LoketDep = Annotated[Loket, Depends(get_loket)]


def get_principal(
    loket: LoketDep, authorization: Annotated[str | None, Header()] = None
) -> Principal:
    # A sync dependency: a JWKS fetch (PyJWKClient) may block, so it runs in the threadpool.
    if not authorization:
        raise NotAuthenticated("bearer token required", code="missing-token")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise NotAuthenticated("bearer token required", code="missing-token")
    return loket.verifier.verify(token.strip())


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require(*roles: Role):  # type: ignore[no-untyped-def]
    def _check(principal: PrincipalDep) -> Principal:
        if principal.role not in roles:
            raise Forbidden("this role may not use this operation", code="wrong-role")
        return principal

    return Depends(_check)


def get_trace(traceparent: Annotated[str | None, Header()] = None) -> TraceContext:
    return TraceContext.from_header(traceparent)


TraceDep = Annotated[TraceContext, Depends(get_trace)]
CaseManager = Annotated[Principal, require(Role.CASEMANAGER)]
Citizen = Annotated[Principal, require(Role.CITIZEN)]
PrivacyOfficer = Annotated[Principal, require(Role.PRIVACY_OFFICER)]
