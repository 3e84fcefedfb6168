"""One settings object for the whole gateway (environment prefix ``LOKET_``).

Built in the app factory or a CLI entry point, never at import time. Secrets have no default
outside demo mode: ``loket demo`` generates them under the data dir on first run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LOKET_", env_file=None, extra="ignore")

    # Where keys and the default SQLite database live.
    data_dir: Path = Path(".loket")
    database_url: str | None = None  # default: sqlite:///<data_dir>/loket.db

    # Policy engine (docs/adr/0006): "wasm" = the policy compiled by OPA and run in process
    # (wasmtime), "embedded" = regopy, "opa" = a real OPA server. All load the same bundle.
    policy_engine: Literal["wasm", "embedded", "opa"] = "wasm"
    policy_wasm_instances: int = 2  # wasm instances deciding in parallel (one per core)
    opa_url: str = "http://127.0.0.1:8181"
    policy_bundle_path: Path | None = None  # default: built from the packaged policies/
    policy_timeout_s: float = 2.0
    # PILOT ONLY, loud: legal bases still marked `verified: false` release data while this is on
    # (a banner on every page, a flag in dossier records and responses). Off by default.
    pilot_unverified_bases: bool = False

    # Bearer tokens.
    jwt_issuer: str = "http://127.0.0.1:8000/dev-issuer"
    jwt_audience: str = "loket"
    jwks_url: str | None = None  # default with dev issuer: the in-process dev key set
    jwt_leeway_s: int = 30
    max_token_bytes: int = 8192
    max_token_lifetime_s: int = 12 * 3600  # exp - iat, and how far ahead exp may lie
    dev_issuer: bool = False  # serve /dev-issuer and accept its tokens; never in production

    # Secrets and keys.
    pseudonym_key: SecretStr | None = None  # HMAC-SHA256 key (hex, >= 32 bytes)
    bsn_encryption_key: SecretStr | None = None  # AES-256-GCM key (hex, 32 bytes)
    signing_key_path: Path | None = None  # Ed25519 PEM for audit checkpoints
    dev_issuer_key_path: Path | None = None  # Ed25519 PEM for the dev issuer

    # Agencies: JSON object agency id -> base URL; set by `loket demo` for the sandbox.
    agency_urls: dict[str, str] = Field(default_factory=dict)
    # JSON object agency id -> the API key it knows Loket by (the BRP's afnemer key, sent as
    # X-API-KEY); secret: never logged, never in a repr.
    agency_api_keys: dict[str, SecretStr] = Field(default_factory=dict)
    agency_timeout_s: float = 2.0
    max_agency_response_bytes: int = 256 * 1024

    # Audit log.
    log_origin: str = "loket.example/audit"
    checkpoint_every_records: int = 256
    checkpoint_every_s: float = 5.0
    # Verifier keys (C2SP vkeys) the log signed with before a key rotation: JSON list or
    # comma-separated. Checked at start-up (gateway.core.context.retired_verifiers).
    retired_audit_vkeys: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Witnesses (audit/witness.py, C2SP tlog-witness): a policy file naming each witness with its
    # cosignature vkey and submission URL, and the quorum the pages require. Unset: no witnesses
    # (the citizen's page says so). Each new checkpoint is submitted in the background.
    witness_policy: Path | None = None
    witness_timeout_s: float = 5.0  # per request to a witness
    witness_retry_s: float = 1.0  # first wait before trying an unavailable witness again (doubles)
    witness_max_attempts: int = 5  # tries per checkpoint before waiting for the next one

    # Limits on untrusted input.
    max_justification_chars: int = 2000
    max_request_body_bytes: int = 64 * 1024

    # Web pages.
    session_secret: SecretStr | None = None
    public_base_url: str = "http://127.0.0.1:8000"
    secure_cookies: bool = True
    # The header a TLS-terminating proxy sets ("x-forwarded-proto"); when it says https, responses
    # carry HSTS. Empty: HSTS only when the ASGI server itself saw TLS.
    tls_proxy_header: str = ""
    # Production login (gateway/web/oidc.py): OpenID Connect providers for the citizen (a DigiD
    # broker) and the privacy officer; unset means no OIDC routes.
    oidc_citizen_metadata_url: str = ""
    oidc_citizen_client_id: str = ""
    oidc_citizen_client_secret: SecretStr | None = None
    oidc_citizen_scope: str = "openid"
    oidc_citizen_bsn_claim: str = "bsn"
    oidc_officer_metadata_url: str = ""
    oidc_officer_client_id: str = ""
    oidc_officer_client_secret: SecretStr | None = None
    oidc_officer_scope: str = "openid"
    oidc_officer_role_claim: str = "roles"
    oidc_officer_role_value: str = "loket-privacy-officer"

    # Operator basics (gateway/core/observability.py): each off costs nothing per request.
    metrics: bool = True  # GET /metrics (Prometheus); restrict it to the scraper at the proxy
    access_log: bool = True  # one JSON line per request when logging is at INFO
    log_level: str = "INFO"  # for `loket serve` and `loket demo`
    log_format: Literal["json", "text"] = "json"
    otlp_endpoint: str | None = None  # e.g. http://127.0.0.1:4318: export OpenTelemetry spans
    otel_service_name: str = "loket-gateway"

    demo: bool = False

    @field_validator("retired_audit_vkeys", mode="before")
    @classmethod
    def _split_vkeys(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                try:
                    return json.loads(text)
                except json.JSONDecodeError as e:
                    raise ValueError(f"LOKET_RETIRED_AUDIT_VKEYS is not a JSON list: {e}") from e
            return [v.strip() for v in text.split(",") if v.strip()]
        return value

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'loket.db').resolve()}"
