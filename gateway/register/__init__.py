"""The register of processing activities (verwerkingsregister), as data in the repository.

Logboek Dataverwerkingen 0.8, "Component: Register": the register MUST store every relevant
change of a processing activity under a new identifier, so that
``dpl.core.processing_activity_id`` points at exactly one version. Here an activity is a list of
versions in ``policies/register/verwerkingen.json``; the id of a version is its URI

    <base_uri><key>/v<version>-<first 12 hex of SHA-256 over JCS(version object)>

so editing an activity without bumping its version still yields a new id, and an id that was
ever logged keeps resolving as long as its version stays in the file (versions are appended,
never rewritten — ``load_register`` refuses a register in which two versions share an id).

Pure: plain data in, frozen values out; no HTTP, no database.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import rfc8785

REGISTER_FILE = "verwerkingen.json"


@dataclass(frozen=True)
class ActivityVersion:
    """One version of one processing activity, as the register publishes it."""

    key: str
    version: int
    id: str  # the URI a log line carries in dpl.core.processing_activity_id
    tag: str  # "v<version>-<hash12>", the last path segment of ``id``
    content: Mapping[str, Any]

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "key": self.key, "version": self.version, **dict(self.content)}


@dataclass(frozen=True)
class Register:
    name: str
    base_uri: str
    controller: str
    versions: Mapping[str, tuple[ActivityVersion, ...]]  # key -> versions, oldest first

    def current(self, key: str) -> ActivityVersion | None:
        versions = self.versions.get(key)
        return versions[-1] if versions else None

    def current_all(self) -> list[ActivityVersion]:
        return [v[-1] for _, v in sorted(self.versions.items())]

    def by_id(self, activity_id: str) -> ActivityVersion | None:
        for versions in self.versions.values():
            for v in versions:
                if v.id == activity_id:
                    return v
        return None

    def for_purpose(self, purpose: str) -> ActivityVersion | None:
        """The activity a purpose's processing belongs to (the one naming it, not an agency's)."""
        for v in self.current_all():
            if "agency" not in v.content and purpose in v.content.get("purposes", ()):
                return v
        return None

    def for_agency(self, agency: str) -> ActivityVersion | None:
        """The activity of asking one agency for data (a dossier's child span)."""
        for v in self.current_all():
            if v.content.get("agency") == agency:
                return v
        return None

    def for_kind(self, kind: str) -> ActivityVersion | None:
        """The activity of an event that belongs to no purpose (the FG's search, say)."""
        for v in self.current_all():
            if kind in v.content.get("kinds", ()):
                return v
        return None


def version_tag(version: int, content: Mapping[str, Any]) -> str:
    digest = hashlib.sha256(rfc8785.dumps(dict(content))).hexdigest()
    return f"v{version}-{digest[:12]}"


def parse_register(data: Mapping[str, Any]) -> Register:
    """Check and index a register document; raise ValueError on anything inconsistent."""
    base = data.get("base_uri")
    if not isinstance(base, str) or not base.startswith(("https://", "http://")) or not base.endswith("/"):
        raise ValueError("register base_uri must be an http(s) URL ending in '/'")
    activities = data.get("activities")
    if not isinstance(activities, Mapping) or not activities:
        raise ValueError("register has no activities")
    seen: set[str] = set()
    out: dict[str, tuple[ActivityVersion, ...]] = {}
    for key, versions in activities.items():
        if not key.replace("_", "").isalnum() or not key.isascii():
            raise ValueError(f"activity key {key!r} must be ASCII letters, digits and '_'")
        if not isinstance(versions, list) or not versions:
            raise ValueError(f"activity {key} has no versions")
        parsed: list[ActivityVersion] = []
        for content in versions:
            number = content.get("version") if isinstance(content, Mapping) else None
            if type(number) is not int or number < 1:
                raise ValueError(f"activity {key}: every version needs an integer 'version' >= 1")
            if parsed and number <= parsed[-1].version:
                raise ValueError(f"activity {key}: versions must increase ({number} after {parsed[-1].version})")
            if not isinstance(content.get("name_nl"), str) or not isinstance(content.get("valid_from"), str):
                raise ValueError(f"activity {key} v{number}: name_nl and valid_from are required")
            tag = version_tag(number, content)
            activity_id = f"{base}{key}/{tag}"
            if activity_id in seen:
                raise ValueError(f"activity {key} v{number}: id {activity_id} used twice")
            seen.add(activity_id)
            parsed.append(ActivityVersion(key=key, version=number, id=activity_id, tag=tag, content=dict(content)))
        out[key] = tuple(parsed)
    return Register(
        name=str(data.get("register", "")),
        base_uri=base,
        controller=str(data.get("verwerkingsverantwoordelijke", "")),
        versions=out,
    )


@lru_cache(maxsize=1)
def load_register() -> Register:
    """The register shipped in ``policies/register/`` (cached: it is data of this release)."""
    from gateway.policy.bundle import policies_root

    node = policies_root().joinpath("register").joinpath(REGISTER_FILE)
    return parse_register(json.loads(node.read_text("utf-8")))


def unregistered(register: Register, purposes: Iterable[str], agencies: Iterable[str]) -> list[str]:
    """Purposes and agencies without an activity (a test keeps this list empty)."""
    missing = [f"purpose:{p}" for p in purposes if register.for_purpose(p) is None]
    missing += [f"agency:{a}" for a in agencies if register.for_agency(a) is None]
    return missing
