"""The decision index: per purpose, everything about an agency/category that the input cannot change.

`data.loket.decision` asks, per requested agency/category, a chain of questions; most answers
depend only on the policy data (catalog, purpose scope, legal bases, texts), not on the request.
regopy 1.5.2 evaluates those data lookups slowly (a partial rule or function indexed by a
variable walks the whole collection, every object binding is a deep copy — docs/adr/0002), so
the answers are computed here once and shipped as ``data.loket_data.index``:

    purposes.<purpose>.known             the purpose exists (a truthy entry in the data)
    purposes.<purpose>.break_glass       the purpose defines a break-glass set
    purposes.<purpose>.keys              "agency/category" keys of the scope, sorted (what
                                         ``categories: null`` requests)
    purposes.<purpose>.grounds           the case grounds the purpose allows, sorted
    purposes.<purpose>.status            catalog key -> "legal_basis" (a verified named basis
                                         covers it), "basis_unverified" (a basis marked
                                         ``verified: false`` covers it: only the operator's pilot
                                         switch releases it), "needs_consent" (consent or
                                         break-glass decides) or "not_needed_for_purpose";
                                         absent = "unknown_category"
    purposes.<purpose>.grants            key -> the complete legal-basis grant (verified bases)
    purposes.<purpose>.unverified_grants key -> the grant an unverified basis would give
    purposes.<purpose>.grants_list       those grants for the whole scope, in key order
    purposes.<purpose>.needs_consent     scope keys with status "needs_consent", sorted
    purposes.<purpose>.refusable         scope keys that can be refused (needs_consent or not
                                         in the catalog), sorted, with their ``refusable_names``
    purposes.<purpose>.plain_refusals    the refusals of the whole scope when no consent of the
                                         purpose is given and break-glass is not active, in key
                                         order (each needs_consent item then is
                                         "explicit_consent_required" if special, else
                                         "consent_required"; an item outside the catalog is
                                         "unknown_category")
    purposes.<purpose>.consent           key -> fields and consent citation for a consent grant
    purposes.<purpose>.break_glass_grants  key -> the complete break-glass grant
    special                              catalog keys of AVG art. 9 categories, sorted

The derivation mirrors the rules it replaces line by line (see decision.rego); `build_bundle`
always ships the index derived from the data it bundles, and the copy checked in under
policies/loket_data/index/ (which `opa test policies/` reads) is kept equal by a test
(`python -m gateway.policy.index` rewrites it).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

INDEX_PATH = "loket_data/index/data.json"
SOURCE_PATHS = (
    "catalog/data.json",
    "loket_data/purposes/data.json",
    "loket_data/legal_bases/data.json",
    "loket_data/reasons/data.json",
)


class _Undefined:
    """A Rego reference that does not resolve (distinct from JSON null)."""


UNDEFINED = _Undefined()


def _truthy(value: Any) -> bool:
    # A Rego reference used as a condition holds unless it is undefined or false (null holds).
    return value is not UNDEFINED and value is not False


def _get(obj: Any, *path: str) -> Any:
    for part in path:
        if not isinstance(obj, Mapping) or part not in obj:
            return UNDEFINED
        obj = obj[part]
    return obj


def _key(agency: str, category: str) -> str:
    return f"{agency}/{category}"


def _minimised(fields: Any, allowed: Any) -> list[str]:
    """sort([f | some f in fields; f in allowed]) — the purpose's list, never wider than the catalog."""
    if not isinstance(fields, list) or not isinstance(allowed, list):
        raise TypeError("scope and catalog fields must be lists")
    return sorted(f for f in fields if f in allowed)


def derive_index(
    catalog: Mapping[str, Any],
    purposes: Mapping[str, Any],
    legal_bases: Mapping[str, Any],
    reasons: Mapping[str, Any],
) -> dict[str, Any]:
    """The index for the given policy data (plain JSON, deterministic)."""
    agencies = catalog["agencies"]
    cat: dict[str, tuple[str, str, Mapping[str, Any]]] = {}
    for agency, entry in agencies.items():
        for category, info in entry["categories"].items():
            if "/" in agency or "/" in category:
                raise ValueError(f"catalog names may not contain '/': {agency}/{category}")
            if _truthy(info):
                cat[_key(agency, category)] = (agency, category, info)
    special = sorted(k for k, (_, _, info) in cat.items() if _get(info, "special") is True)
    texts = reasons["basis_texts"]
    bg_text = texts["break_glass"]
    bg_basis = {
        "type": "break_glass",
        "id": bg_text["id"],
        "citation": bg_text["citation"],
        "verified": bg_text["verified"],
    }

    out: dict[str, Any] = {}
    for pid, purpose in sorted(purposes.items()):
        scope = _get(purpose, "scope")
        if not isinstance(scope, Mapping):
            scope = {}
        bg_scope = _get(purpose, "break_glass", "scope")
        keys: list[str] = []
        names: dict[str, Any] = {}
        for agency, cats in scope.items():
            for category in cats if isinstance(cats, Mapping) else ():
                if "/" in agency or "/" in category:
                    raise ValueError(f"scope names may not contain '/': {agency}/{category}")
                k = _key(agency, category)
                keys.append(k)
                names[k] = {"agency": agency, "category": category}
        status: dict[str, str] = {}
        grants: dict[str, Any] = {}
        unverified: dict[str, Any] = {}
        consent: dict[str, Any] = {}
        bg_grants: dict[str, Any] = {}
        for k, (agency, category, info) in sorted(cat.items()):
            entry = _get(scope, agency, category)
            if not _truthy(entry):
                status[k] = "not_needed_for_purpose"
                continue
            is_special = k in special
            fields = _minimised(_get(entry, "fields"), _get(info, "fields"))
            basis_id = _get(entry, "basis")
            basis = _get(legal_bases, basis_id) if isinstance(basis_id, str) else UNDEFINED
            covered = _truthy(basis) and (
                (not is_special and _get(basis, "special_category") is False) or _get(basis, "special_category") is True
            )
            name = {"agency": agency, "category": category}
            if covered:
                assert isinstance(basis, Mapping)  # covered implies a special_category flag
                verified = basis["verified"] is True
                status[k] = "legal_basis" if verified else "basis_unverified"
                (grants if verified else unverified)[k] = name | {
                    "fields": fields,
                    "basis": {
                        "type": "legal_basis",
                        "id": basis_id,
                        "citation": basis["citation"],
                        "verified": basis["verified"],
                    },
                }
                continue
            status[k] = "needs_consent"
            text = texts["explicit_consent" if is_special else "consent"]
            consent[k] = name | {
                "fields": fields,
                "citation": text["citation"],
                "verified": text["verified"],
            }
            bg_entry = _get(bg_scope, agency, category)
            if not is_special and _truthy(bg_entry):
                bg_grants[k] = name | {
                    "fields": _minimised(_get(bg_entry, "fields"), _get(info, "fields")),
                    "basis": bg_basis,
                }
        scope_keys = sorted(set(keys))
        refusable = [k for k in scope_keys if status.get(k, "unknown_category") != "legal_basis"]
        refusal_texts = reasons["refusals"]
        plain_refusals = []
        for k in refusable:
            code = status.get(k, "unknown_category")
            if code == "needs_consent":
                code = "explicit_consent_required" if k in special else "consent_required"
            text = _get(refusal_texts, code, "reason_nl")
            if text is not UNDEFINED:
                plain_refusals.append(names[k] | {"code": code, "reason_nl": text})
        grounds = _get(purpose, "grounds")
        out[pid] = {
            "known": _truthy(purpose),
            "break_glass": _truthy(_get(purpose, "break_glass")),
            "grounds": sorted(g for g in grounds if isinstance(g, str)) if isinstance(grounds, list) else [],
            "keys": scope_keys,
            "status": status,
            "grants": grants,
            "unverified_grants": unverified,
            "grants_list": [grants[k] for k in scope_keys if k in grants],
            "needs_consent": [k for k in scope_keys if status.get(k) == "needs_consent"],
            "refusable": refusable,
            "refusable_names": {k: names[k] for k in refusable},
            "plain_refusals": plain_refusals,
            # The whole decision for that case (a whole-scope request without request reasons):
            # one data reference is cheaper in regopy than building the object per request.
            "plain_decision": {
                "allow": any(k in grants for k in scope_keys),
                "purpose": pid,
                "purpose_known": _truthy(purpose),
                "break_glass": False,
                "review_required": False,
                "grants": [grants[k] for k in scope_keys if k in grants],
                "refusals": plain_refusals,
                "reasons": [],
            },
            "consent": consent,
            "break_glass_grants": bg_grants,
        }
    return {"purposes": out, "special": special}


def index_file(files: Mapping[str, bytes]) -> bytes:
    """The index as the bytes of loket_data/index/data.json, from the bundle's source files."""
    catalog, purposes, legal_bases, reasons = (json.loads(files[p]) for p in SOURCE_PATHS)
    index = derive_index(catalog, purposes, legal_bases, reasons)
    return (json.dumps(index, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def main(argv: list[str] | None = None) -> int:
    """Rewrite the checked-in copy of the index (for `opa test policies/`)."""
    from gateway.policy.bundle import policies_root, source_files

    root = Path(str(policies_root()))
    target = root / INDEX_PATH
    content = index_file(source_files(root))
    if argv and "--check" in argv:
        same = target.exists() and target.read_bytes() == content
        print(f"{target}: {'up to date' if same else 'STALE'}")
        return 0 if same else 1
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
