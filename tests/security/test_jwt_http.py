"""Forged, stale and misdirected bearer tokens at the HTTP level.

tests/gateway/test_auth.py proves the verifier refuses these tokens; here the attacker talks to
the running app: every attempt on a real case's dossier must be a 401 problem+json with a
``WWW-Authenticate`` challenge, no dossier content, no agency contacted, no ``dossier:*``
record written, and no 500.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from audit.log import AuditFilter
from gateway.core.context import Loket
from gateway.identity.auth import DEV_KID, public_jwk
from tests.conftest import bearer
from tests.security.helpers import agency_requests_seen, assert_problem, eva_bsn, open_case


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def bj(obj: Any) -> str:
    return b64(json.dumps(obj, separators=(",", ":")).encode())


def claims_of(tok: str) -> dict[str, Any]:
    return dict(jwt.decode(tok, options={"verify_signature": False}))


def hs256(header: dict[str, Any], claims: dict[str, Any], key: bytes) -> str:
    signing_input = f"{bj(header)}.{bj(claims)}"
    sig = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(sig)}"


# Each attack builds a token from (a genuine casemanager token for the case owner, the loket).
Attack = Callable[[str, Loket], str]


def alg_none(good: str, loket: Loket) -> str:
    return f"{bj({'alg': 'none', 'typ': 'JWT', 'kid': DEV_KID})}.{bj(claims_of(good))}."


def alg_none_keeping_signature(good: str, loket: Loket) -> str:
    _, p, s = good.split(".")
    return f"{bj({'alg': 'none', 'kid': DEV_KID})}.{p}.{s}"


def hs256_with_public_jwk_x(good: str, loket: Loket) -> str:
    assert loket.dev_issuer_key is not None
    x = public_jwk(loket.dev_issuer_key)["x"].encode()
    return hs256({"alg": "HS256", "typ": "JWT", "kid": DEV_KID}, claims_of(good), x)


def hs256_with_public_key_pem(good: str, loket: Loket) -> str:
    assert loket.dev_issuer_key is not None
    pem = loket.dev_issuer_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hs256({"alg": "HS256", "typ": "JWT", "kid": DEV_KID}, claims_of(good), pem)


def hs256_with_raw_public_key(good: str, loket: Loket) -> str:
    assert loket.dev_issuer_key is not None
    raw = loket.dev_issuer_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hs256({"alg": "HS256", "kid": DEV_KID}, claims_of(good), raw)


def reissue(good: str, loket: Loket, *, key: Any = None, alg: str = "EdDSA",
            headers: dict[str, Any] | None = None, **changes: Any) -> str:
    claims = claims_of(good)
    for k, v in changes.items():
        if v is None:
            claims.pop(k, None)
        else:
            claims[k] = v
    return jwt.encode(claims, key or loket.dev_issuer_key, algorithm=alg,
                      headers=headers if headers is not None else {"kid": DEV_KID})


def wrong_issuer(good: str, loket: Loket) -> str:
    return reissue(good, loket, iss="https://evil.example/issuer")


def wrong_audience(good: str, loket: Loket) -> str:
    return reissue(good, loket, aud="some-other-service")


def audience_list_without_loket(good: str, loket: Loket) -> str:
    return reissue(good, loket, aud=["a", "b"])


def expired(good: str, loket: Loket) -> str:
    now = int(time.time())
    return reissue(good, loket, iat=now - 7200, nbf=now - 7200, exp=now - 3600)


def not_yet_valid(good: str, loket: Loket) -> str:
    now = int(time.time())
    return reissue(good, loket, iat=now, nbf=now + 3600, exp=now + 7200)


def no_expiry(good: str, loket: Loket) -> str:
    return reissue(good, loket, exp=None)


def unknown_kid(good: str, loket: Loket) -> str:
    return reissue(good, loket, headers={"kid": "attacker-key-1"})


def no_kid(good: str, loket: Loket) -> str:
    return reissue(good, loket, headers={})


def kid_path_traversal(good: str, loket: Loket) -> str:
    return reissue(good, loket, headers={"kid": "../../../../etc/passwd"})


def other_ed25519_key_same_kid(good: str, loket: Loket) -> str:
    return reissue(good, loket, key=Ed25519PrivateKey.generate())


def es256_attacker_key_with_embedded_jwk(good: str, loket: Loket) -> str:
    k = ec.generate_private_key(ec.SECP256R1())
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(k.public_key()))
    return reissue(good, loket, key=k, alg="ES256", headers={"kid": DEV_KID, "jwk": jwk})


def jku_pointing_elsewhere(good: str, loket: Loket) -> str:
    k = Ed25519PrivateKey.generate()
    return reissue(good, loket, key=k, headers={"kid": "x", "jku": "http://127.0.0.1:9/jwks.json"})


def tampered_sub(good: str, loket: Loket) -> str:
    h, _, s = good.split(".")
    claims = claims_of(good)
    claims["sub"] = "cm-someone-else"
    return f"{h}.{bj(claims)}.{s}"


def tampered_role(good: str, loket: Loket) -> str:
    h, _, s = good.split(".")
    claims = claims_of(good)
    claims["role"] = "privacy_officer"
    return f"{h}.{bj(claims)}.{s}"


def flipped_signature_bit(good: str, loket: Loket) -> str:
    h, p, s = good.split(".")
    raw = bytearray(base64.urlsafe_b64decode(s + "=="))
    raw[0] ^= 1
    return f"{h}.{p}.{b64(bytes(raw))}"


def unknown_role(good: str, loket: Loket) -> str:
    return reissue(good, loket, role="superuser")


def no_role(good: str, loket: Loket) -> str:
    return reissue(good, loket, role=None)


def citizen_role_without_bsn(good: str, loket: Loket) -> str:
    return reissue(good, loket, role="citizen")


def empty_sub(good: str, loket: Loket) -> str:
    return reissue(good, loket, sub="")


def huge_token(good: str, loket: Loket) -> str:
    return reissue(good, loket, padding="x" * 20_000)


def garbage_segments(good: str, loket: Loket) -> str:
    return "eyJ!!!.eyJ???.@@@"


def two_segments(good: str, loket: Loket) -> str:
    return ".".join(good.split(".")[:2])


def header_is_a_list(good: str, loket: Loket) -> str:
    _, p, s = good.split(".")
    return f"{b64(b'[1,2]')}.{p}.{s}"


def nul_bytes_in_header(good: str, loket: Loket) -> str:
    _, p, s = good.split(".")
    header = b64(json.dumps({"alg": "EdDSA", "kid": DEV_KID + "\x00"}).encode())
    return f"{header}.{p}.{s}"


# Issue 16: a subject or claim that carries a BSN, control characters or a far-future expiry.
def sub_is_a_bsn(good: str, loket: Loket) -> str:
    return reissue(good, loket, sub="999994001")


def sub_holds_a_formatted_bsn(good: str, loket: Loket) -> str:
    return reissue(good, loket, sub="cm-999-99-4001")


def sub_holds_full_width_digits(good: str, loket: Loket) -> str:
    return reissue(good, loket, sub="cm-９９９９９４００１")


def sub_with_control_characters(good: str, loket: Loket) -> str:
    return reissue(good, loket, sub="cm-001\n2026-01-01 INFO forged log line")


def sub_too_long(good: str, loket: Loket) -> str:
    return reissue(good, loket, sub="cm-" + "x" * 200)


def name_claim_holds_a_bsn(good: str, loket: Loket) -> str:
    return reissue(good, loket, name="Casemanager 999 994 001")


def citizen_bsn_fails_the_elfproef(good: str, loket: Loket) -> str:
    return reissue(good, loket, role="citizen", bsn="999994002")


def citizen_bsn_in_full_width_digits(good: str, loket: Loket) -> str:
    return reissue(good, loket, role="citizen", bsn="９９９９９４００１")


def exp_a_year_ahead(good: str, loket: Loket) -> str:
    now = int(time.time())
    return reissue(good, loket, iat=now, nbf=now, exp=now + 365 * 86400)


def lifetime_above_the_cap_with_a_back_dated_iat(good: str, loket: Loket) -> str:
    now = int(time.time())
    return reissue(good, loket, iat=now - 13 * 3600, nbf=now - 13 * 3600, exp=now + 600)


ATTACKS: list[Attack] = [
    alg_none, alg_none_keeping_signature, hs256_with_public_jwk_x, hs256_with_public_key_pem,
    hs256_with_raw_public_key, wrong_issuer, wrong_audience, audience_list_without_loket, expired,
    not_yet_valid, no_expiry, unknown_kid, no_kid, kid_path_traversal, other_ed25519_key_same_kid,
    es256_attacker_key_with_embedded_jwk, jku_pointing_elsewhere, tampered_sub, tampered_role,
    flipped_signature_bit, unknown_role, no_role, citizen_role_without_bsn, empty_sub, huge_token,
    garbage_segments, two_segments, header_is_a_list, nul_bytes_in_header,
    sub_is_a_bsn, sub_holds_a_formatted_bsn, sub_holds_full_width_digits, sub_with_control_characters,
    sub_too_long, name_claim_holds_a_bsn, citizen_bsn_fails_the_elfproef, citizen_bsn_in_full_width_digits,
    exp_a_year_ahead, lifetime_above_the_cap_with_a_back_dated_iat,
]


@pytest.fixture(scope="module")
def victim_case(api: TestClient, mint: Callable[..., str], sandbox: Any) -> tuple[str, str]:
    """A real case of ``cm-victim-owner`` and that owner's genuine token."""
    tok = mint(sub="cm-victim-owner")
    return open_case(api, tok, eva_bsn(sandbox)), tok


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda a: a.__name__)
def test_forged_token_on_a_real_dossier_gets_401_and_nothing_leaves(
        api: TestClient, shared_loket: Loket, sandbox: Any, victim_case: tuple[str, str],
        attack: Attack) -> None:
    case_id, genuine = victim_case
    forged = attack(genuine, shared_loket)
    assert forged != genuine
    reads_before = shared_loket.audit.count(AuditFilter(case_id=case_id))
    agency_before = agency_requests_seen(sandbox)

    r = api.get(f"/v1/cases/{case_id}/dossier", headers=bearer(forged))
    body = assert_problem(r, 401)
    assert r.headers["www-authenticate"].lower().startswith("bearer")
    assert body["type"].rsplit("/", 1)[1] in {"invalid-token", "token-expired", "missing-token", "token-lifetime"}
    # Nothing about the token is echoed back.
    assert forged not in r.text and forged[:40] not in r.text and "999994001" not in r.text
    # Nothing disclosed: no agency was asked and no dossier record exists for this attempt.
    assert agency_requests_seen(sandbox) == agency_before
    assert shared_loket.audit.count(AuditFilter(case_id=case_id)) == reads_before

    # The same forgery cannot open a case, list cases or break the glass either.
    assert_problem(api.get("/v1/cases", headers=bearer(forged)), 401)
    assert_problem(api.post(f"/v1/cases/{case_id}/dossier/break-glass", headers=bearer(forged),
                            json={"justification": "dreigende uitzetting morgen, direct nodig"}), 401)


@pytest.mark.parametrize("path, method", [
    ("/v1/fg/search", "post"), ("/v1/me/consents", "get"), ("/v1/me/accesses", "get"),
    ("/v1/fg/integrity", "get"), ("/v1/fg/patterns", "get"), ("/v1/fg/break-glass", "get"),
])
def test_role_escalation_by_tampering_is_401_on_every_area(
        api: TestClient, shared_loket: Loket, mint: Callable[..., str], path: str, method: str) -> None:
    """A casemanager who rewrites the role claim gets nowhere: not FG, not citizen areas."""
    good = mint(sub="cm-escalator")
    for role in ("privacy_officer", "citizen", "admin"):
        h, _, s = good.split(".")
        claims = claims_of(good) | {"role": role, "bsn": "999993847"}
        forged = f"{h}.{bj(claims)}.{s}"
        r = api.request(method.upper(), path, headers=bearer(forged), json={} if method == "post" else None)
        assert_problem(r, 401)


@pytest.mark.parametrize("header", [
    "bearer",  # scheme only
    "Bearer ",  # empty token
    "Token abc.def.ghi",
    "Bearer a.b.c d.e.f",  # two tokens
    "Bearer \x7f\x7f\x7f",
])
def test_malformed_authorization_headers_get_401(api: TestClient, header: str) -> None:
    r = api.get("/v1/cases", headers={"Authorization": header})
    assert_problem(r, 401)


def test_valid_token_of_another_role_is_403_and_discloses_nothing(
        api: TestClient, shared_loket: Loket, sandbox: Any, mint: Callable[..., str],
        victim_case: tuple[str, str]) -> None:
    """Authenticated but the wrong role: 403 wrong-role (not 401), still nothing disclosed."""
    case_id, _ = victim_case
    agency_before = agency_requests_seen(sandbox)
    for tok in (mint(role="citizen", sub="burger-x", bsn=eva_bsn(sandbox)),
                mint(role="privacy_officer", sub="fg-x"), mint(role="admin", sub="admin-x")):
        assert_problem(api.get(f"/v1/cases/{case_id}/dossier", headers=bearer(tok)), 403, "wrong-role")
    assert agency_requests_seen(sandbox) == agency_before
