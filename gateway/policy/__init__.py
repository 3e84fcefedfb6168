"""Policy decisions for Loket: one seam, three engines, one bundle.

The gateway calls ``create_policy_engine(settings).evaluate(policy_input)`` and gets the raw
``data.loket.decision`` JSON (docs/contracts.md). Every failure — engine error, timeout, an
undefined answer, a result that is not an object — raises ``PolicyEngineError`` so the caller
fails closed (PRODUCT.md "Deny by default, fail closed").

Policy data layout in the bundle (see gateway/policy/bundle.py):
    data.loket_data.purposes | legal_bases | reasons   (policies/loket_data/*/data.json)
    data.catalog                                        (policies/catalog/agencies.json)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol, runtime_checkable

from gateway.core.errors import ConfigurationError, IntegrityError, PolicyEngineError
from gateway.core.settings import Settings
from gateway.policy.bundle import (
    PolicyBundle,
    build_bundle,
    load_bundle_file,
    policies_root,
    store_bundle,
    store_dir_for,
)

__all__ = [
    "PolicyData",
    "PolicyEngine",
    "PolicyEngineError",
    "Purpose",
    "create_policy_engine",
    "current_bundle",
    "load_policy_data",
]


@runtime_checkable
class PolicyEngine(Protocol):
    @property
    def revision(self) -> str: ...

    def evaluate(self, policy_input: Mapping[str, Any]) -> dict[str, Any]: ...


def current_bundle(settings: Settings) -> PolicyBundle:
    """The bundle this process decides with: LOKET_POLICY_BUNDLE_PATH, else built from policies/.

    The bundle is also filed by revision under ``data_dir/bundles`` so a decision can be replayed
    against the exact rules that made it (`loket policy replay`).
    """
    try:
        if settings.policy_bundle_path is not None:
            bundle = load_bundle_file(settings.policy_bundle_path)
        else:
            bundle = build_bundle()
    except (OSError, IntegrityError) as e:
        raise ConfigurationError(f"cannot load the policy bundle: {e}") from e
    try:
        store_bundle(store_dir_for(settings.data_dir), bundle)
    except OSError as e:
        raise ConfigurationError(f"cannot store the policy bundle for replay: {e}") from e
    return bundle


def create_policy_engine(settings: Settings) -> PolicyEngine:
    """The engine ``LOKET_POLICY_ENGINE`` names, over the bundle of ``current_bundle``.

    ``wasm``: the module OPA compiled from exactly this bundle revision (shipped, stored or built
    with the pinned OPA; a stale one is refused, docs/adr/0006); ``embedded``: regopy;
    ``opa``: the OPA server at ``LOKET_OPA_URL``, which must serve the same bundle.
    """
    bundle = current_bundle(settings)
    if settings.policy_engine == "wasm":
        from gateway.policy.wasm import WasmPolicyEngine
        from gateway.policy.wasm_module import resolve_module

        module = resolve_module(bundle, store_dir_for(settings.data_dir))
        return WasmPolicyEngine(
            module,
            bundle,
            timeout_s=settings.policy_timeout_s,
            instances=settings.policy_wasm_instances,
        )
    if settings.policy_engine == "opa":
        from gateway.policy.opa import OpaServerPolicyEngine

        # The revision is the one we built/loaded: OPA must be serving the same bundle
        # (`loket policy bundle` -> `opa run --server --bundle`).
        return OpaServerPolicyEngine(
            settings.opa_url, timeout_s=settings.policy_timeout_s, revision=bundle.revision
        )
    from gateway.policy.embedded import EmbeddedPolicyEngine

    return EmbeddedPolicyEngine(bundle)


# --- Policy data for the gateway (purpose ids, Dutch labels, reason texts) --------------------


@dataclass(frozen=True)
class Purpose:
    id: str
    label_nl: str
    description_nl: str
    processing_activity: str  # URI into the register of processing activities
    break_glass: bool


@dataclass(frozen=True)
class PolicyData:
    purposes: Mapping[str, Purpose]
    legal_bases: Mapping[str, Mapping[str, Any]]
    refusal_reasons: Mapping[str, Mapping[str, str]]  # code -> {reason_nl, action_nl}
    request_reasons: Mapping[str, Mapping[str, str]]
    raw_purposes: Mapping[str, Mapping[str, Any]]  # full scope, for tables and docs

    def purpose(self, purpose_id: str) -> Purpose | None:
        return self.purposes.get(purpose_id)

    def reason_nl(self, code: str) -> str | None:
        entry = self.refusal_reasons.get(code) or self.request_reasons.get(code)
        return entry["reason_nl"] if entry else None


def _read(name: str) -> Any:
    node = policies_root().joinpath("loket_data").joinpath(name).joinpath("data.json")
    return json.loads(node.read_text("utf-8"))


@lru_cache(maxsize=1)
def load_policy_data() -> PolicyData:
    """Purposes, legal bases and reason texts as shipped beside the policy (cached)."""
    purposes_raw: dict[str, dict[str, Any]] = _read("purposes")
    reasons = _read("reasons")
    return PolicyData(
        purposes={
            pid: Purpose(
                id=pid,
                label_nl=p["label_nl"],
                description_nl=p["description_nl"],
                processing_activity=p["processing_activity"],
                break_glass="break_glass" in p,
            )
            for pid, p in sorted(purposes_raw.items())
        },
        legal_bases=_read("legal_bases"),
        refusal_reasons=reasons["refusals"],
        request_reasons=reasons["request"],
        raw_purposes=purposes_raw,
    )
