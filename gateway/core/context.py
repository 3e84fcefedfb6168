"""The wiring: everything one gateway process needs, built once from Settings.

Secrets come from settings; only in demo mode are missing ones generated under the data dir
(0600 files), so a demo works on a fresh machine and production never runs on a default key.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine

from adapters.catalog import Catalog, load_catalog
from adapters.registry import build_adapters
from audit.checkpoint import NoteVerifier
from audit.errors import BadInput as AuditBadInput
from audit.log import AuditLog
from audit.pseudonym import HmacPseudonymiser
from audit.witness import WitnessPolicy, parse_policy
from gateway.core import migrate
from gateway.core.db import SessionFactory, create_db_engine, session_factory
from gateway.core.errors import ConfigurationError
from gateway.core.keys import load_ed25519, load_or_create_secret_hex
from gateway.core.settings import Settings
from gateway.identity.auth import TokenVerifier, public_jwk
from gateway.identity.bsn import BsnVault
from gateway.policy import PolicyData, PolicyEngine, create_policy_engine, load_policy_data


@dataclass
class Loket:
    settings: Settings
    db: Engine
    sessions: SessionFactory
    policy: PolicyEngine
    policy_data: PolicyData
    audit: AuditLog
    adapters: dict[str, Any]
    pseudonymiser: HmacPseudonymiser
    vault: BsnVault
    verifier: TokenVerifier
    catalog: Catalog
    dev_issuer_key: Ed25519PrivateKey | None = None
    witness_policy: WitnessPolicy | None = None  # LOKET_WITNESS_POLICY
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def purposes(self) -> dict[str, Any]:
        """Purpose id -> its full policy data (label_nl, description_nl, scope, …)."""
        return dict(self.policy_data.raw_purposes)

    @property
    def known_purposes(self) -> set[str]:
        return set(self.purposes)

    def close(self) -> None:
        self.db.dispose()


def _secret(settings: Settings, value: Any, filename: str) -> bytes:
    if value is not None:
        raw = value.get_secret_value()
    elif settings.demo or (settings.data_dir / filename).exists():
        raw = load_or_create_secret_hex(settings.data_dir / filename)
    else:
        raise ConfigurationError(f"missing secret: set LOKET_{filename.replace('.key', '').upper()}_KEY")
    try:
        return bytes.fromhex(raw)
    except ValueError as e:
        raise ConfigurationError(f"secret {filename} is not hex") from e


def _key_path(settings: Settings, configured: Path | None, default_name: str) -> Path:
    return configured if configured is not None else settings.data_dir / default_name


def signing_key_path(settings: Settings) -> Path:
    return _key_path(settings, settings.signing_key_path, "audit-signing-key.pem")


def signing_key(settings: Settings) -> Ed25519PrivateKey:
    return load_ed25519(signing_key_path(settings), create=settings.demo)


def retired_verifiers(settings: Settings) -> tuple[NoteVerifier, ...]:
    """The retired checkpoint verifier keys (LOKET_RETIRED_AUDIT_VKEYS), each checked: a C2SP
    Ed25519 vkey whose key id matches, named like the log's checkpoints (the log origin)."""
    out = []
    for n, vkey in enumerate(settings.retired_audit_vkeys, start=1):
        try:
            verifier = NoteVerifier.from_vkey(vkey)
        except ValueError as e:
            raise ConfigurationError(
                f"LOKET_RETIRED_AUDIT_VKEYS entry {n} is not a usable verifier key "
                f"(expected <name>+<hex key id>+<base64 key>): {e}"
            ) from e
        if verifier.name != settings.log_origin:
            raise ConfigurationError(
                f"LOKET_RETIRED_AUDIT_VKEYS entry {n} (key id {verifier.key_id.hex()}) is for key "
                f"name {verifier.name!r}, but this log's checkpoints are signed as "
                f"{settings.log_origin!r} (LOKET_LOG_ORIGIN)"
            )
        out.append(verifier)
    return tuple(out)


def subject_map_key(settings: Settings) -> bytes | None:
    """The audit log's per-subject map key (audit/subjects.py, ADR 0005), derived one-way from
    the pseudonym key; None where no pseudonym key is configured (e.g. a verifier's CLI)."""
    try:
        pseudonym_key = _secret(settings, settings.pseudonym_key, "pseudonym.key")
    except ConfigurationError:
        return None
    return hmac.new(pseudonym_key, b"loket:audit-subject-map:v1", hashlib.sha256).digest()


def witness_policy(settings: Settings) -> WitnessPolicy | None:
    """The witness policy (LOKET_WITNESS_POLICY), checked at start-up; None when unset. A policy
    that names a witness without a submission URL is refused: the gateway could never reach its
    quorum, and the pages would wait for it forever."""
    path = settings.witness_policy
    if path is None:
        return None
    try:
        policy = parse_policy(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigurationError(f"LOKET_WITNESS_POLICY: cannot read {path}: {e.strerror}") from e
    except AuditBadInput as e:
        raise ConfigurationError(f"LOKET_WITNESS_POLICY: {e.detail}") from e
    missing = [w.key.name for w in policy.witnesses if not w.url]
    if missing:
        raise ConfigurationError(f"LOKET_WITNESS_POLICY: witness {missing[0]} has no submission URL")
    if settings.witness_timeout_s <= 0 or settings.witness_max_attempts < 1 or settings.witness_retry_s < 0:
        raise ConfigurationError("LOKET_WITNESS_TIMEOUT_S and LOKET_WITNESS_MAX_ATTEMPTS must be positive")
    return policy


def audit_log_for(settings: Settings, engine: Engine, key: Ed25519PrivateKey | None) -> AuditLog:
    """The one way to open the audit log from settings (the gateway and `loket audit` alike), so
    the origin and key name of every checkpoint match the published verifier key, and earlier
    checkpoints verify with the retired keys."""
    return AuditLog(
        engine,
        key,
        origin=settings.log_origin,
        key_name=settings.log_origin,
        checkpoint_every_records=settings.checkpoint_every_records,
        checkpoint_every_s=settings.checkpoint_every_s,
        retired_keys=retired_verifiers(settings),
        subject_map_key=subject_map_key(settings),
    )


def dev_issuer_key_path(settings: Settings) -> Path:
    return _key_path(settings, settings.dev_issuer_key_path, "dev-issuer-key.pem")


def dev_issuer_key(settings: Settings) -> Ed25519PrivateKey:
    return load_ed25519(dev_issuer_key_path(settings), create=settings.demo or settings.dev_issuer)


def build_loket(settings: Settings, *, run_migrations: bool = True) -> Loket:
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)  # keys and database inside
    url = settings.resolved_database_url()
    if run_migrations:
        migrate.upgrade(url)
    db = create_db_engine(url)
    pseudonymiser = HmacPseudonymiser(_secret(settings, settings.pseudonym_key, "pseudonym.key"))
    vault = BsnVault(_secret(settings, settings.bsn_encryption_key, "bsn-encryption.key"))
    dev_key = dev_issuer_key(settings) if settings.dev_issuer else None
    if not settings.jwks_url and dev_key is None:
        raise ConfigurationError("no token keys: set LOKET_JWKS_URL (or LOKET_DEV_ISSUER=true locally)")
    # The identity provider's key set when configured; else the built-in dev issuer's key.
    verifier = TokenVerifier(
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        jwks_url=settings.jwks_url or None,
        jwks={"keys": [public_jwk(dev_key)]} if not settings.jwks_url and dev_key is not None else None,
        leeway_s=settings.jwt_leeway_s,
        max_token_bytes=settings.max_token_bytes,
        max_lifetime_s=settings.max_token_lifetime_s,
    )
    catalog = load_catalog()
    audit_log = audit_log_for(settings, db, signing_key(settings))
    try:
        adapters = build_adapters(
            settings.agency_urls,
            timeout_s=settings.agency_timeout_s,
            max_response_bytes=settings.max_agency_response_bytes,
            credentials={a: k.get_secret_value() for a, k in settings.agency_api_keys.items()},
        )
    except ValueError as e:  # an unknown agency, a bad URL or API key: found at start-up
        raise ConfigurationError(f"LOKET_AGENCY_URLS / LOKET_AGENCY_API_KEYS: {e}") from None
    return Loket(
        settings=settings,
        db=db,
        sessions=session_factory(db),
        policy=create_policy_engine(settings),
        policy_data=load_policy_data(),
        audit=audit_log,
        adapters=adapters,
        pseudonymiser=pseudonymiser,
        vault=vault,
        verifier=verifier,
        catalog=catalog,
        dev_issuer_key=dev_key,
        witness_policy=witness_policy(settings),
    )
