"""The agency catalog (agencies, data categories, field paths) that ships beside the policies."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources


@dataclass(frozen=True)
class Category:
    agency: str
    name: str
    label_nl: str
    special: bool
    fields: tuple[str, ...]


@dataclass(frozen=True)
class ProfessionalContact:
    """The agency's line for professionals (a "professionallijn"): who a casemanager calls."""

    naam: str
    afdeling: str
    telefoon: str
    email: str
    bereikbaar: str
    synthetisch: bool  # made-up contact data of the sandbox, not a real number


@dataclass(frozen=True)
class Agency:
    id: str
    name: str
    organisation: str
    adapter: str
    categories: dict[str, Category]
    professionallijn: ProfessionalContact | None = None


@dataclass(frozen=True)
class Catalog:
    agencies: dict[str, Agency]
    always_included_flags: tuple[str, ...]

    def fields_of(self, agency: str) -> frozenset[str]:
        return frozenset(f for c in self.agencies[agency].categories.values() for f in c.fields)

    def category_of_field(self, agency: str, field: str) -> str | None:
        for cat in self.agencies[agency].categories.values():
            if field in cat.fields:
                return cat.name
        return None


@lru_cache(maxsize=1)
def load_catalog() -> Catalog:
    raw = json.loads(
        resources.files("policies").joinpath("catalog/agencies.json").read_text("utf-8")
    )
    agencies = {
        agency_id: Agency(
            id=agency_id,
            name=a["name"],
            organisation=a["organisation"],
            adapter=a["adapter"],
            categories={
                cname: Category(
                    agency=agency_id,
                    name=cname,
                    label_nl=c["label_nl"],
                    special=bool(c["special"]),
                    fields=tuple(c["fields"]),
                )
                for cname, c in a["categories"].items()
            },
            professionallijn=ProfessionalContact(**a["professionallijn"]) if "professionallijn" in a else None,
        )
        for agency_id, a in raw["agencies"].items()
    }
    return Catalog(agencies=agencies, always_included_flags=tuple(raw["always_included_flags"]))
