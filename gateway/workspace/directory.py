"""Who to reach: the casemanager directory (named for the citizen; gateway/workspace/contacts.json:
synthetic people in the sandbox, a municipality's own list in a pilot) and the agencies' lines for
professionals (the catalog's ``professionallijn``, shown in the overview)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources


@dataclass(frozen=True)
class CaseManagerContact:
    sub: str
    name: str
    team: str
    organisation: str
    phone: str
    email: str
    hours: str
    team_id: str = ""  # the token claim ``team`` of this casemanager (a case belongs to a team)


@dataclass(frozen=True)
class ProfessionalLine:
    agency: str
    name: str
    phone: str
    hours: str
    email: str = ""


@lru_cache(maxsize=1)
def _contacts() -> dict[str, dict[str, dict[str, str]]]:
    raw = json.loads(resources.files("gateway.workspace").joinpath("contacts.json").read_text("utf-8"))
    return {"casemanagers": raw["casemanagers"]}


def casemanager(sub: str) -> CaseManagerContact | None:
    """The casemanager as the citizen should read them; None for a sub not in the directory
    (the page then says "uw casemanager" rather than showing a bare id)."""
    info = _contacts()["casemanagers"].get(sub)
    if info is None:
        return None
    return CaseManagerContact(sub=sub, name=info["name"], team=info["team"],
                              organisation=info.get("organisation", ""), phone=info.get("phone", ""),
                              email=info.get("email", ""), hours=info.get("hours", ""),
                              team_id=info.get("team_id", ""))


def casemanagers() -> list[CaseManagerContact]:
    return [c for c in (casemanager(s) for s in sorted(_contacts()["casemanagers"])) if c is not None]


def display_name(sub: str) -> str:
    c = casemanager(sub)
    return f"{c.name} ({c.team})" if c else sub


def professional_line(agency: str) -> ProfessionalLine | None:
    from adapters.catalog import load_catalog

    found = load_catalog().agencies.get(agency)
    info = found.professionallijn if found is not None else None
    if info is None:
        return None
    return ProfessionalLine(agency=agency, name=info.naam, phone=info.telefoon, hours=info.bereikbaar,
                            email=info.email)
