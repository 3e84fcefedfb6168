"""Production login for the pages: OpenID Connect, authorization code flow with PKCE.

The citizen logs in through the municipality's OIDC provider (a DigiD broker) and the privacy
officer through the organisation's identity provider. Authlib's Starlette client runs the flow
(state, nonce and the PKCE verifier are kept in the signed session cookie until the callback),
exchanges the code at the provider's token endpoint and checks the ID token: signature against
the provider's JWKS, issuer, audience, expiry, nonce. Then the callback calls
:func:`gateway.web.session.login` exactly as the development login does.

What Loket adds on top of Authlib:
  * the ID token's algorithm is pinned to asymmetric ones (:data:`ALLOWED_ALGORITHMS`), whatever
    the provider's metadata lists, and the clock leeway is 30 s, not Authlib's 120 s;
  * the citizen's BSN claim must pass the elfproef; it is pseudonymised and sealed at once and
    never logged, stored in clear, or shown in an error;
  * the officer must carry the configured role value in the configured claim;
  * every failure is one plain page ("Inloggen is niet gelukt"), never a stack trace, and the
    log line names the failure class only.

Routes exist only for a provider that is configured (``LOKET_OIDC_CITIZEN_*``,
``LOKET_OIDC_OFFICER_*``); see docs/pages.md.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, FastAPI
from pydantic import SecretStr
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from gateway.core.context import Loket
from gateway.core.errors import LoketError
from gateway.core.settings import Settings
from gateway.identity.auth import Role, check_acting
from gateway.identity.bsn import require_valid_bsn
from gateway.web.rendering import render
from gateway.web.session import login

logger = logging.getLogger("loket.web.oidc")

#: Asymmetric signatures only: a shared-secret (HS*) or unsigned ID token is refused even if the
#: provider's metadata offers it.
ALLOWED_ALGORITHMS = ("RS256", "PS256", "ES256", "EdDSA")
#: Clock skew accepted on the ID token's exp/iat/nbf.
LEEWAY_S = 30
#: Provider round trips (metadata, token, JWKS).
PROVIDER_TIMEOUT_S = 5.0
#: How long a sub claim may be before it is refused (it becomes the session's subject).
MAX_SUB_CHARS = 128
#: Casemanagers sign in through the same organisation provider as the FG
#: (``LOKET_OIDC_OFFICER_*``) and must carry this value in the same role claim. A constant until
#: it can be a setting (gateway/core/settings.py is owned elsewhere).
CASEMANAGER_ROLE_VALUE = "loket-casemanager"


class LoginFailed(Exception):
    """The provider's answer cannot sign anyone in; ``reason`` is a code for the log only."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Provider:
    area: str  # "burger" | "fg" | "casemanager": the pages it signs in to
    role: Role
    metadata_url: str
    client_id: str
    client_secret: str
    scope: str
    bsn_claim: str | None = None  # the citizen's
    role_claim: str | None = None  # the officer's
    role_value: str | None = None

    @property
    def name(self) -> str:
        return f"loket-{self.area}"


def providers(settings: Settings) -> list[Provider]:
    """The configured providers; half a configuration is a start-up error, not a silent skip."""
    out: list[Provider] = []
    citizen = (settings.oidc_citizen_metadata_url, settings.oidc_citizen_client_id)
    if any(citizen):
        if not all(citizen):
            raise ValueError("LOKET_OIDC_CITIZEN_METADATA_URL and LOKET_OIDC_CITIZEN_CLIENT_ID go together")
        out.append(Provider(
            area="burger", role=Role.CITIZEN, metadata_url=settings.oidc_citizen_metadata_url,
            client_id=settings.oidc_citizen_client_id, client_secret=_secret(settings.oidc_citizen_client_secret),
            scope=settings.oidc_citizen_scope, bsn_claim=settings.oidc_citizen_bsn_claim,
        ))
    officer = (settings.oidc_officer_metadata_url, settings.oidc_officer_client_id)
    if any(officer):
        if not all(officer):
            raise ValueError("LOKET_OIDC_OFFICER_METADATA_URL and LOKET_OIDC_OFFICER_CLIENT_ID go together")
        out.append(Provider(
            area="fg", role=Role.PRIVACY_OFFICER, metadata_url=settings.oidc_officer_metadata_url,
            client_id=settings.oidc_officer_client_id, client_secret=_secret(settings.oidc_officer_client_secret),
            scope=settings.oidc_officer_scope, role_claim=settings.oidc_officer_role_claim,
            role_value=settings.oidc_officer_role_value,
        ))
        out.append(Provider(
            area="casemanager", role=Role.CASEMANAGER, metadata_url=settings.oidc_officer_metadata_url,
            client_id=settings.oidc_officer_client_id, client_secret=_secret(settings.oidc_officer_client_secret),
            scope=settings.oidc_officer_scope, role_claim=settings.oidc_officer_role_claim,
            role_value=CASEMANAGER_ROLE_VALUE,
        ))
    return out


def _secret(value: SecretStr | None) -> str:
    return value.get_secret_value() if value is not None else ""


def _oauth_registry() -> Any:
    # Authlib >= 1.7 warns on import when it finds httpx instead of httpx2 (its successor). The
    # gateway keeps httpx (ADR 0004), so this one warning is silenced at this one import; any
    # other Authlib deprecation still shows. Importing authlib.deprecate installs a global
    # "always" filter for Authlib's warnings in front of the list, so it is imported first and
    # this filter goes in front of it; catch_warnings puts the process's filters back afterwards.
    with warnings.catch_warnings():
        import authlib.deprecate  # noqa: F401 - its import-time filter, before ours

        warnings.filterwarnings("ignore", message=r"The httpx module is deprecated", category=DeprecationWarning)
        from authlib.integrations.starlette_client import OAuth

    return OAuth()


def install_oidc(app: FastAPI, loket: Loket) -> list[Provider]:
    """Add the login and callback routes of every configured provider."""
    configured = providers(loket.settings)
    if not configured:
        return []  # nothing imports Authlib: no cost and no warning without a provider
    oauth = _oauth_registry()
    router = APIRouter(include_in_schema=False)
    base = loket.settings.public_base_url.rstrip("/")
    for provider in configured:
        oauth.register(
            provider.name,
            server_metadata_url=provider.metadata_url,
            client_id=provider.client_id,
            client_secret=provider.client_secret or None,
            client_kwargs={"scope": provider.scope, "code_challenge_method": "S256",
                           "timeout": PROVIDER_TIMEOUT_S, "trust_env": False},
        )
        _add_routes(router, oauth.create_client(provider.name), provider, loket,
                    callback=f"{base}/{provider.area}/inloggen/terug")
    app.include_router(router)
    return configured


def _add_routes(router: APIRouter, client: Any, provider: Provider, loket: Loket, *, callback: str) -> None:
    area = provider.area

    @router.get(f"/{area}/inloggen/oidc", name=f"oidc_start_{area}")
    async def start(request: Request) -> Response:
        try:
            await _pin_algorithms(client)
            response: Response = await client.authorize_redirect(request, callback)
        except Exception as e:  # noqa: BLE001 - OAuth, HTTP or metadata errors: no login, one page
            return _failed(request, area, e)
        return response

    @router.get(f"/{area}/inloggen/terug", name=f"oidc_callback_{area}")
    async def back(request: Request) -> Response:
        try:
            await _pin_algorithms(client)
            token = await client.authorize_access_token(request, leeway=LEEWAY_S)
            claims = token.get("userinfo")
            if not isinstance(claims, dict):
                raise LoginFailed("no-id-token")
            await _sign_in(request, loket, provider, claims)
        except Exception as e:  # noqa: BLE001 - OAuth, JOSE, claim or BSN errors: nobody signed in
            return _failed(request, area, e)
        return RedirectResponse(f"/{area}", status_code=303)


async def _pin_algorithms(client: Any) -> None:
    """Narrow the metadata's ID-token algorithms to :data:`ALLOWED_ALGORITHMS` (Authlib loads the
    metadata once and verifies with the list it finds there)."""
    metadata = await client.load_server_metadata()
    offered = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
    allowed = [a for a in offered if a in ALLOWED_ALGORITHMS]
    if not allowed:
        raise LoginFailed("no-allowed-algorithm")
    metadata["id_token_signing_alg_values_supported"] = allowed


async def _sign_in(request: Request, loket: Loket, provider: Provider, claims: dict[str, Any]) -> None:
    sub = claims.get("sub")
    if not isinstance(sub, str) or not 0 < len(sub) <= MAX_SUB_CHARS or not sub.isprintable():
        raise LoginFailed("bad-sub")
    name = claims.get("name") if isinstance(claims.get("name"), str) else None
    if provider.role is Role.CITIZEN:
        assert provider.bsn_claim is not None
        bsn = claims.get(provider.bsn_claim)
        if not isinstance(bsn, str):
            raise LoginFailed("no-bsn-claim")
        require_valid_bsn(bsn)  # a LoketError whose message holds no BSN
        pseudonym = loket.pseudonymiser.pseudonym_for(bsn)
        sealed = loket.vault.seal(bsn, pseudonym)
        # DigiD Machtigen names the represented person: claim ``act_for``, checked like a token's
        # and, like a token's, never trusted: every action checks the representation.
        act_for = claims.get("act_for")
        acting = None
        if act_for is not None:
            try:
                check_acting(Role.CITIZEN, bsn, act_for, None)
            except LoketError as e:
                raise LoginFailed("bad-act-for") from e
            assert isinstance(act_for, str)
            subject = loket.pseudonymiser.pseudonym_for(act_for)
            acting = (subject, loket.vault.seal(act_for, subject))
        del bsn, act_for
        # The session's subject is Loket's own (as with the development login), not the
        # provider's sub, which for some brokers is the BSN itself.
        await login(request, loket, role=Role.CITIZEN, sub=f"burger-{pseudonym[:12]}",
                    name=(name or "Burger")[:80], pseudonym=pseudonym, sealed_bsn=sealed, acting_for=acting)
        return
    assert provider.role_claim is not None and provider.role_value is not None
    granted = claims.get(provider.role_claim)
    roles = granted if isinstance(granted, list) else [granted]
    if provider.role_value not in roles:
        raise LoginFailed("role-not-granted")
    team = claims.get("team") if provider.role is Role.CASEMANAGER else None
    if team is not None and (not isinstance(team, str) or not 0 < len(team) <= 64 or not team.isprintable()):
        raise LoginFailed("bad-team")
    await login(request, loket, role=provider.role, sub=sub, name=(name or sub)[:80], team=team)


def _failed(request: Request, area: str, error: BaseException) -> Response:
    # The class name only: a provider's error text may quote claims, and a claim may be a BSN.
    logger.warning("OIDC login for /%s failed: %s", area,
                   error.reason if isinstance(error, LoginFailed) else type(error).__name__)
    return render(request, "error.html", {
        "title": "Inloggen is niet gelukt",
        "message": "Het inloggen is niet gelukt. Probeer het opnieuw vanaf de inlogpagina.",
    }, status_code=403)
