"""Bearer-token authentication (PyJWT) and the built-in development issuer.

Tokens are checked for signature against a key set (JWKS), issuer, audience, expiry and
not-before, with the algorithms pinned to EdDSA/ES256: this refuses ``alg=none`` and HS/RS key
confusion. A missing or wrong anything is a 401; nothing about the token is ever logged.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
import unicodedata
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt import PyJWKClient

from gateway.core.errors import NotAuthenticated
from gateway.identity.bsn import contains_bsn, is_valid_bsn

ALLOWED_ALGORITHMS = ["EdDSA", "ES256"]
VERIFIED_TOKEN_CACHE_ENTRIES = 4096
VERIFIED_TOKEN_CACHE_S = 300.0  # the JWKS key-set cache lifespan
DEV_KID = "loket-dev-1"
MAX_SUB_CHARS = 128
MAX_DISPLAY_CLAIM_CHARS = 200  # name, org
DEFAULT_MAX_TOKEN_LIFETIME_S = 12 * 3600
# OIDC leaves `sub` to the issuer (RFC 7519 §4.1.2: a StringOrURI): UUIDs, e-mail-like ids,
# "auth0|…" and URLs fit. No spaces, no control characters, nothing a log line or a page could
# misread, and (checked apart) no BSN in any notation: a sub goes into every audit record.
_SUB_CHARSET = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~:@|+=/\-]*")


class Role(StrEnum):
    CASEMANAGER = "casemanager"
    #: A team lead: assigns aanmeldingen, signals and citizens to casemanagers; never reads dossiers.
    COORDINATOR = "coordinator"
    CITIZEN = "citizen"
    PRIVACY_OFFICER = "privacy_officer"
    ADMIN = "admin"


#: The team development tokens carry unless told otherwise (`loket token --team`), and the demo's.
DEMO_TEAM = "team-centrum"

#: Roles that work in a team (claim ``team``); their cases belong to that team.
TEAM_ROLES = frozenset({Role.CASEMANAGER, Role.COORDINATOR})
_TEAM = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


@dataclass(frozen=True)
class Principal:
    """Who is calling. ``bsn`` is only set for citizens and lives in memory only."""

    sub: str
    role: Role
    name: str | None = None
    organisation: str | None = None
    bsn: str | None = None
    #: The casemanager's or coordinator's team (token claim ``team``): a case belongs to one.
    team: str | None = None
    #: Acting for someone (token claim ``act_for``, as DigiD Machtigen names the represented
    #: person): their BSN, in memory only. Never trusted as such: every action checks the
    #: representation in its register (gateway/representation/).
    act_for: str | None = None
    #: A professional representative signs in as an organisation (eHerkenning): its KvK number
    #: (claim ``kvk``) instead of a BSN, and only together with ``act_for``.
    kvk: str | None = None
    #: The registers' answers about ``act_for``, looked up once per request
    #: (gateway/representation/registers.py); the check per action reads them.
    representation: Any = field(default=None, compare=False, hash=False)

    def __repr__(self) -> str:  # keep the BSN out of any accidental repr in logs
        return f"Principal(sub={self.sub!r}, role={self.role.value!r})"


def public_jwk(key: Ed25519PrivateKey, kid: str = DEV_KID) -> dict[str, Any]:
    jwk: dict[str, Any] = jwt.algorithms.OKPAlgorithm.to_jwk(key.public_key(), as_dict=True)
    jwk.update({"kid": kid, "use": "sig", "alg": "EdDSA"})
    return jwk


def mint_token(
    key: Ed25519PrivateKey,
    *,
    issuer: str,
    audience: str,
    sub: str,
    role: Role | str,
    ttl_s: int = 3600,
    bsn: str | None = None,
    name: str | None = None,
    organisation: str | None = None,
    team: str | None = DEMO_TEAM,
    kid: str = DEV_KID,
    now: float | None = None,
    act_for: str | None = None,
    kvk: str | None = None,
) -> str:
    """Sign a development token. Only the dev issuer and tests call this. A casemanager's or
    coordinator's token carries the demo team unless another ``team`` (or None) is given."""
    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "sub": sub,
        "role": Role(role).value,
        "iat": issued,
        "nbf": issued,
        "exp": issued + ttl_s,
        "jti": str(uuid.uuid4()),
    }
    if bsn is not None:
        claims["bsn"] = bsn
    if name is not None:
        claims["name"] = name
    if organisation is not None:
        claims["org"] = organisation
    if team is not None and Role(role) in TEAM_ROLES:
        claims["team"] = team
    if act_for is not None:
        claims["act_for"] = act_for
    if kvk is not None:
        claims["kvk"] = kvk
    return jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": kid})


class TokenVerifier:
    """Verifies bearer tokens against a static key set or a JWKS URL (cached by PyJWKClient)."""

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        jwks: dict[str, Any] | None = None,
        jwks_url: str | None = None,
        leeway_s: int = 30,
        max_token_bytes: int = 8192,
        max_lifetime_s: int = DEFAULT_MAX_TOKEN_LIFETIME_S,
    ) -> None:
        if (jwks is None) == (jwks_url is None):
            raise ValueError("give exactly one of jwks or jwks_url")
        self.issuer = issuer
        self.audience = audience
        self.leeway_s = leeway_s
        self.max_token_bytes = max_token_bytes
        self.max_lifetime_s = max_lifetime_s
        self._static = jwt.PyJWKSet.from_dict(jwks) if jwks is not None else None
        self._client = PyJWKClient(jwks_url, cache_keys=True, lifespan=300) if jwks_url else None
        # Verified tokens, keyed by a hash of the exact token bytes: a casemanager sends the same
        # token with every request, and an Ed25519 check per request is the largest fixed cost
        # of authentication. An entry never outlives the token's exp (+ leeway) nor the key-set
        # cache (so a key removed from the JWKS stops working as soon as it would uncached).
        self._verified: OrderedDict[bytes, tuple[Principal, float, float]] = OrderedDict()
        self._verified_lock = threading.Lock()

    def _signing_key(self, token: str) -> Any:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as e:
            raise NotAuthenticated("malformed bearer token", code="invalid-token") from e
        if header.get("alg") not in ALLOWED_ALGORITHMS:
            raise NotAuthenticated("token algorithm not accepted", code="invalid-token")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise NotAuthenticated("token has no key id", code="invalid-token")
        if self._static is not None:
            jwk = next((k for k in self._static.keys if k.key_id == kid), None)
            if jwk is None:
                raise NotAuthenticated("unknown signing key", code="invalid-token")
        else:
            assert self._client is not None
            try:
                jwk = self._client.get_signing_key(kid)
            except jwt.PyJWTError as e:
                raise NotAuthenticated("unknown signing key", code="invalid-token") from e
        # The header's alg must be the key's own algorithm: an ES256 header naming an Ed25519
        # key made PyJWT raise TypeError (a 500) instead of refusing the token.
        if header.get("alg") != jwk.algorithm_name:
            raise NotAuthenticated("token algorithm does not match its key", code="invalid-token")
        return jwk.key

    def cached(self, token: str) -> Principal | None:
        """The principal of a token verified before and still valid, else None. Never blocks
        (no key fetch), so an async caller may use it on the event loop before falling back
        to :meth:`verify` in a worker thread."""
        return self._lookup(token)[1]

    # fail-closed: any token problem is a 401 before anything else happens
    def verify(self, token: str) -> Principal:
        digest, hit = self._lookup(token)
        if hit is not None:
            return hit
        now = time.time()
        principal, claims = self._verify_uncached(token)
        not_before = float(claims.get("nbf", claims["iat"])) - self.leeway_s
        until = min(float(claims["exp"]) + self.leeway_s, now + VERIFIED_TOKEN_CACHE_S)
        with self._verified_lock:
            self._verified[digest] = (principal, not_before, until)
            while len(self._verified) > VERIFIED_TOKEN_CACHE_ENTRIES:
                self._verified.popitem(last=False)
        return principal

    def _lookup(self, token: str) -> tuple[bytes, Principal | None]:
        """The token's cache key and its cached principal, if still valid (an expired entry is
        dropped). Refuses a missing or oversized token before hashing it."""
        if not token or len(token) > self.max_token_bytes:
            raise NotAuthenticated("bearer token missing or too large", code="invalid-token")
        digest = hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
        now = time.time()
        with self._verified_lock:
            hit = self._verified.get(digest)
            if hit is not None:
                principal, not_before, until = hit
                if not_before <= now < until:
                    self._verified.move_to_end(digest)
                    return digest, principal
                del self._verified[digest]
        return digest, None

    def _verify_uncached(self, token: str) -> tuple[Principal, dict[str, Any]]:
        key = self._signing_key(token)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=ALLOWED_ALGORITHMS,
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway_s,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError as e:
            raise NotAuthenticated("token expired", code="token-expired") from e
        except jwt.ImmatureSignatureError as e:
            raise NotAuthenticated("token not yet valid", code="invalid-token") from e
        except (jwt.PyJWTError, TypeError, ValueError) as e:
            raise NotAuthenticated("token rejected", code="invalid-token") from e
        check_lifetime(claims, max_lifetime_s=self.max_lifetime_s, leeway_s=self.leeway_s)
        sub = check_sub(claims["sub"])
        try:
            role = Role(str(claims.get("role")))
        except ValueError as e:
            raise NotAuthenticated("token carries no known role", code="invalid-token") from e
        bsn = claims.get("bsn") if role is Role.CITIZEN else None
        act_for, kvk = check_acting(role, bsn, claims.get("act_for"), claims.get("kvk"))
        if role is Role.CITIZEN and not isinstance(bsn, str) and kvk is None:
            raise NotAuthenticated("citizen token carries no BSN", code="invalid-token")
        if bsn is not None and (not isinstance(bsn, str) or not is_valid_bsn(bsn)):
            raise NotAuthenticated("citizen token carries an invalid BSN", code="invalid-token")
        name = display_claim(claims.get("name"))
        org = display_claim(claims.get("org"))
        team = claims.get("team") if role in TEAM_ROLES else None
        if team is not None and (not isinstance(team, str) or not _TEAM.fullmatch(team)):
            raise NotAuthenticated("token team invalid", code="invalid-token")
        return Principal(sub=sub, role=role, name=name, organisation=org, bsn=bsn, team=team,
                         act_for=act_for, kvk=kvk), claims


_KVK = re.compile(r"[0-9]{8}")


def check_acting(role: Role, bsn: Any, act_for: Any, kvk: Any) -> tuple[str | None, str | None]:
    """``act_for`` (the represented person's BSN) and ``kvk`` (an organisation acting for them)
    as a citizen token may carry them, or 401: only citizens act for someone, never for
    themselves, and an organisation only for someone."""
    if act_for is None and kvk is None:
        return None, None
    if role is not Role.CITIZEN:
        raise NotAuthenticated("only a citizen token acts for someone", code="invalid-token")
    if not isinstance(act_for, str) or not is_valid_bsn(act_for) or act_for == bsn:
        raise NotAuthenticated("token act_for invalid", code="invalid-token")
    if kvk is not None and (not isinstance(kvk, str) or not _KVK.fullmatch(kvk) or bsn is not None):
        raise NotAuthenticated("token kvk invalid", code="invalid-token")
    return act_for, kvk


def is_user_id(sub: Any) -> bool:
    """A user id (token ``sub``) Loket may record: the charset, at most MAX_SUB_CHARS, no BSN in it.
    The one check for a token's subject and for a user named elsewhere (a case's assignee)."""
    return (isinstance(sub, str) and 0 < len(sub) <= MAX_SUB_CHARS and _SUB_CHARSET.fullmatch(sub) is not None
            and not contains_bsn(sub))


def check_sub(sub: Any) -> str:
    """The token subject as Loket may record it, or 401. Runs before any role or case logic."""
    if not is_user_id(sub):
        raise NotAuthenticated("token subject invalid (or holds a BSN)", code="invalid-token")
    return str(sub)


def display_claim(value: Any) -> str | None:
    """``name``/``org``: shown on pages and kept with a case; a wrong one is a broken token."""
    if value is None:
        return None
    if (not isinstance(value, str) or len(value) > MAX_DISPLAY_CLAIM_CHARS
            or any(unicodedata.category(c) in ("Cc", "Cf") for c in value) or contains_bsn(value)):
        raise NotAuthenticated("token name or organisation claim invalid", code="invalid-token")
    return value


def check_lifetime(claims: dict[str, Any], *, max_lifetime_s: int, leeway_s: int, now: float | None = None) -> None:
    """A stolen token is useful until it expires: an issuer's token may live at most
    ``max_lifetime_s`` (``exp - iat``), and its ``exp`` may lie at most that far ahead."""
    try:
        exp, iat = float(claims["exp"]), float(claims["iat"])
    except (KeyError, TypeError, ValueError) as e:
        raise NotAuthenticated("token times invalid", code="invalid-token") from e
    now = time.time() if now is None else now
    if exp - iat > max_lifetime_s or exp - now > max_lifetime_s + leeway_s:
        raise NotAuthenticated("token lifetime above the accepted maximum", code="token-lifetime")
