"""Production login over OpenID Connect (gateway/web/oidc.py) against a small but real provider
on a local socket: discovery, authorize, token (with PKCE check) and JWKS, ID tokens signed with
ES256. Every refusal must leave the browser signed out, with one plain error page."""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import FastAPI, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.testclient import TestClient

from gateway.core.context import Loket
from tests.servers import serve

CLIENT_ID = "loket-test"
CLIENT_SECRET = "s3cret-for-tests"
EVA_BSN = "999993653"  # a valid test BSN (elfproef)


@dataclass
class Provider:
    """What the fake provider puts in its next ID token, and what it saw."""

    base: str = ""
    claims: dict[str, Any] = field(default_factory=dict)
    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    signing_key: ec.EllipticCurvePrivateKey | None = None  # sign with another key than published
    alg: str = "ES256"
    nonce_override: str | None = None
    audience: str = CLIENT_ID
    algs_offered: tuple[str, ...] = ("ES256",)
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    token_requests: list[str] = field(default_factory=list)  # the client authentication used


def _provider_app(p: Provider) -> FastAPI:
    app = FastAPI()
    app.get("/health")(lambda: {"status": "ok"})

    @app.get("/.well-known/openid-configuration")
    def discovery() -> dict[str, Any]:
        return {"issuer": p.base, "authorization_endpoint": f"{p.base}/authorize",
                "token_endpoint": f"{p.base}/token", "jwks_uri": f"{p.base}/jwks",
                "response_types_supported": ["code"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": list(p.algs_offered),
                "code_challenge_methods_supported": ["S256"]}

    @app.get("/jwks")
    def jwks() -> dict[str, Any]:
        jwk = jwt.algorithms.ECAlgorithm.to_jwk(p.key.public_key(), as_dict=True)
        return {"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "ES256"}]}

    @app.get("/authorize")
    def authorize(redirect_uri: str, state: str, nonce: str, code_challenge: str,
                  code_challenge_method: str, client_id: str, response_type: str) -> RedirectResponse:
        assert (client_id, response_type, code_challenge_method) == (CLIENT_ID, "code", "S256")
        code = secrets.token_urlsafe(16)
        p.codes[code] = {"nonce": nonce, "challenge": code_challenge, "redirect_uri": redirect_uri}
        return RedirectResponse(f"{redirect_uri}?{urlencode({'code': code, 'state': state})}", status_code=302)

    @app.post("/token")
    def token(request: Request, grant_type: str = Form(), code: str = Form(), redirect_uri: str = Form(),
              code_verifier: str = Form()) -> JSONResponse:
        p.token_requests.append(request.headers.get("authorization", ""))
        issued = p.codes.pop(code, None)
        verifier_hash = base64.urlsafe_b64encode(hashlib.sha256(code_verifier.encode()).digest()).rstrip(b"=").decode()
        if issued is None or issued["challenge"] != verifier_hash or issued["redirect_uri"] != redirect_uri:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        now = int(time.time())
        claims = {"iss": p.base, "aud": p.audience, "iat": now, "exp": now + 300,
                  "nonce": p.nonce_override or issued["nonce"], **p.claims}
        key = p.signing_key or p.key
        id_token = (jwt.encode(claims, "x" * 32, algorithm="HS256") if p.alg == "HS256"
                    else jwt.encode(claims, key, algorithm=p.alg, headers={"kid": "k1"}))
        return JSONResponse({"access_token": secrets.token_urlsafe(16), "token_type": "Bearer",
                             "expires_in": 300, "id_token": id_token})

    return app


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    p = Provider()
    with serve(_provider_app(p)) as base:
        p.base = base
        yield p


@pytest.fixture
def oidc_client(make_loket: Callable[..., Loket], provider: Provider) -> Iterator[tuple[TestClient, Loket]]:
    from gateway.app import create_app

    provider.claims = {}
    provider.signing_key, provider.alg, provider.nonce_override = None, "ES256", None
    provider.audience, provider.algs_offered = CLIENT_ID, ("ES256",)
    loket = make_loket(
        dev_issuer=True, public_base_url="http://testserver",
        oidc_citizen_metadata_url=f"{provider.base}/.well-known/openid-configuration",
        oidc_citizen_client_id=CLIENT_ID, oidc_citizen_client_secret=CLIENT_SECRET,
        oidc_officer_metadata_url=f"{provider.base}/.well-known/openid-configuration",
        oidc_officer_client_id=CLIENT_ID, oidc_officer_client_secret=CLIENT_SECRET,
        oidc_officer_role_claim="roles", oidc_officer_role_value="fg",
    )
    with TestClient(create_app(loket=loket), follow_redirects=False) as c:
        yield c, loket


def _login(c: TestClient, area: str, *, tamper_state: bool = False) -> httpx.Response:
    start = c.get(f"/{area}/inloggen/oidc")
    assert start.status_code == 302, start.text
    location = start.headers["location"]
    assert location.startswith("http://127.0.0.1:")
    query = parse_qs(urlsplit(location).query)
    assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"]
    at_provider = httpx.get(location, follow_redirects=False)
    assert at_provider.status_code == 302
    back = urlsplit(at_provider.headers["location"])
    assert back.path == f"/{area}/inloggen/terug"
    path = f"{back.path}?{back.query}"
    if tamper_state:
        path = path.replace("state=", "state=x")
    return c.get(path)


def _signed_in(c: TestClient, area: str) -> bool:
    r = c.get(f"/{area}")  # a page, or (the FG's) a redirect to its first page; else to the login
    return r.status_code == 200 or (r.status_code == 303 and "/inloggen" not in r.headers["location"])


def test_a_citizen_signs_in_through_the_provider_and_sees_their_pages(
        oidc_client: tuple[TestClient, Loket], provider: Provider, caplog: pytest.LogCaptureFixture) -> None:
    c, loket = oidc_client
    provider.claims = {"sub": "digid-123", "bsn": EVA_BSN, "name": "Eva de Vries"}
    assert 'href="/burger/inloggen/oidc"' in c.get("/burger/inloggen").text
    assert 'href="/fg/inloggen/oidc"' in c.get("/fg/inloggen").text
    assert not _signed_in(c, "burger")
    with caplog.at_level(logging.DEBUG):
        r = _login(c, "burger")
    assert r.status_code == 303 and r.headers["location"] == "/burger"
    home = c.get("/burger")
    assert home.status_code == 200 and "Eva de Vries" in home.text
    # the code was redeemed with the client's credentials (client_secret_basic)
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert provider.token_requests[-1] == f"Basic {basic}"
    assert EVA_BSN not in caplog.text
    assert EVA_BSN not in home.text
    # the BSN is nowhere in clear in the database either
    db_file = loket.settings.data_dir / "loket.db"
    if db_file.exists():
        assert EVA_BSN.encode() not in db_file.read_bytes()


def test_an_officer_needs_the_configured_role_claim(oidc_client: tuple[TestClient, Loket],
                                                    provider: Provider) -> None:
    c, _ = oidc_client
    provider.claims = {"sub": "fg-42", "name": "F. de Gids", "roles": ["medewerker"]}
    refused = _login(c, "fg")
    assert refused.status_code == 403 and "Inloggen is niet gelukt" in refused.text
    assert not _signed_in(c, "fg")
    provider.claims = {"sub": "fg-42", "name": "F. de Gids", "roles": ["medewerker", "fg"]}
    assert _login(c, "fg").status_code == 303
    assert _signed_in(c, "fg")


@pytest.mark.parametrize("break_it", [
    "state", "nonce", "audience", "other-key", "hs256", "bad-bsn", "no-bsn", "provider-offers-only-hs256",
])
def test_a_login_the_provider_did_not_vouch_for_signs_nobody_in(
        oidc_client: tuple[TestClient, Loket], provider: Provider, break_it: str,
        caplog: pytest.LogCaptureFixture) -> None:
    c, _ = oidc_client
    provider.claims = {"sub": "digid-123", "bsn": EVA_BSN}
    if break_it == "nonce":
        provider.nonce_override = "not-the-nonce-we-sent"
    elif break_it == "audience":
        provider.audience = "another-client"
    elif break_it == "other-key":
        provider.signing_key = ec.generate_private_key(ec.SECP256R1())
    elif break_it == "hs256":
        provider.alg = "HS256"
    elif break_it == "bad-bsn":
        provider.claims["bsn"] = EVA_BSN[:-1] + str((int(EVA_BSN[-1]) + 1) % 10)
    elif break_it == "no-bsn":
        del provider.claims["bsn"]
    elif break_it == "provider-offers-only-hs256":
        provider.algs_offered = ("HS256",)
    with caplog.at_level(logging.WARNING, logger="loket.web.oidc"):
        if break_it == "provider-offers-only-hs256":
            r = c.get("/burger/inloggen/oidc")  # refused before the browser is sent anywhere
        else:
            r = _login(c, "burger", tamper_state=break_it == "state")
    assert r.status_code == 403 and "Inloggen is niet gelukt" in r.text
    assert not _signed_in(c, "burger")
    assert EVA_BSN not in caplog.text and EVA_BSN[:-1] not in caplog.text
    assert "OIDC login for /burger failed" in caplog.text


def test_without_a_configured_provider_there_are_no_oidc_routes(client: TestClient) -> None:
    assert "/inloggen/oidc" not in client.get("/burger/inloggen").text
    assert client.get("/burger/inloggen/oidc", follow_redirects=False).status_code == 404
    assert client.get("/fg/inloggen/terug", follow_redirects=False).status_code == 404


def test_half_a_provider_configuration_is_refused_at_start(make_loket: Callable[..., Loket]) -> None:
    from gateway.app import create_app

    loket = make_loket(oidc_citizen_metadata_url="https://idp.example/.well-known/openid-configuration")
    with pytest.raises(ValueError, match="go together"):
        create_app(loket=loket)


def test_an_unreachable_provider_gives_the_error_page_not_a_500(make_loket: Callable[..., Loket],
                                                                caplog: pytest.LogCaptureFixture) -> None:
    from gateway.app import create_app
    from tests.servers import free_port

    loket = make_loket(public_base_url="http://testserver", oidc_citizen_client_id=CLIENT_ID,
                       oidc_citizen_metadata_url=f"http://127.0.0.1:{free_port()}/.well-known/openid-configuration")
    with TestClient(create_app(loket=loket), follow_redirects=False) as c, \
            caplog.at_level(logging.WARNING, logger="loket.web.oidc"):
        r = c.get("/burger/inloggen/oidc")
    assert r.status_code == 403 and "Inloggen is niet gelukt" in r.text
    assert "ConnectError" in caplog.text


def test_a_parent_signs_in_through_the_provider_for_their_child(
        oidc_client: tuple[TestClient, Loket], provider: Provider) -> None:
    """DigiD Machtigen names the represented person (``act_for``): the session acts for them,
    and the pages check the representation (BRP gezag) on every request."""
    c, loket = oidc_client
    provider.claims = {"sub": "digid-456", "bsn": "999913700", "act_for": "999990408", "name": "Linda"}
    assert _login(c, "burger").status_code == 303
    home = c.get("/burger")
    assert home.status_code == 200 and "U handelt voor" in home.text
    assert "999990408" not in home.text
    provider.claims = {"sub": "digid-456", "bsn": "999913700", "act_for": "999913700"}  # not for oneself
    c.cookies.clear()
    _login(c, "burger")
    assert c.get("/burger", follow_redirects=False).status_code != 200  # nobody signed in
