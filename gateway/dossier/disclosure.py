"""The response filter: agency answers are cut down to what the decision granted.

This is the second enforcement of minimisation (the first is the ``fields`` sent to the
agency). Pure: decision and answers in, the disclosed values and what was dropped out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adapters.fields import get_path, leaf_paths, project
from gateway.dossier.decisions import Decision, Grant


@dataclass(frozen=True)
class FieldValue:
    agency: str
    category: str
    field: str
    value: Any
    source: str
    retrieved_at: datetime


@dataclass(frozen=True)
class Flag:
    agency: str
    flag: str
    value: Any


@dataclass(frozen=True)
class DisclosedGrant:
    grant: Grant
    fields: tuple[str, ...]


@dataclass(frozen=True)
class Unavailable:
    agency: str
    error_code: str


@dataclass(frozen=True)
class FilteredDossier:
    values: tuple[FieldValue, ...]
    flags: tuple[Flag, ...]
    disclosed: tuple[DisclosedGrant, ...]
    unavailable: tuple[Unavailable, ...]
    dropped: tuple[tuple[str, str], ...]  # (agency, field) returned but never granted


# fail-closed: agency answers are cut to the granted fields again; an agency that fails is 'unavailable'
def filter_answers(
    decision: Decision,
    answers: Iterable[Any],
    *,
    source_names: dict[str, str],
    flag_names: Sequence[str],
) -> FilteredDossier:
    by_agency = {a.agency: a for a in answers}
    values: list[FieldValue] = []
    flags: list[Flag] = []
    disclosed: list[DisclosedGrant] = []
    unavailable: dict[str, Unavailable] = {}
    granted_by_agency: dict[str, set[str]] = {}
    for grant in decision.grants:
        granted_by_agency.setdefault(grant.agency, set()).update(grant.fields)
        answer = by_agency.get(grant.agency)
        if answer is None or answer.status != "ok":
            code = "not_asked" if answer is None else (answer.error_code or "unavailable")
            unavailable[grant.agency] = Unavailable(grant.agency, code)
            continue
        allowed = project(answer.data, grant.fields)
        present: list[str] = []
        for field in grant.fields:
            found, value = get_path(allowed, field)
            if found:
                present.append(field)
                values.append(
                    FieldValue(
                        agency=grant.agency,
                        category=grant.category,
                        field=field,
                        value=value,
                        source=source_names.get(grant.agency, grant.agency),
                        retrieved_at=answer.retrieved_at,
                    )
                )
        if present:
            disclosed.append(DisclosedGrant(grant=grant, fields=tuple(present)))
    dropped: list[tuple[str, str]] = []
    for agency, answer in by_agency.items():
        if answer.status != "ok":
            continue
        # The adapter already cut what the agency sent unasked; report it alongside our own cut.
        dropped.extend((agency, path) for path in getattr(answer, "extra_fields_dropped", ()))
        for flag in flag_names:
            if flag in answer.data and not isinstance(answer.data[flag], (dict, list)):
                flags.append(Flag(agency, flag, answer.data[flag]))
        granted = granted_by_agency.get(agency, set())
        for path in sorted(leaf_paths(answer.data)):
            if path in flag_names:
                continue
            if not any(path == g or path.startswith(g + ".") for g in granted):
                dropped.append((agency, path))
    return FilteredDossier(
        values=tuple(values),
        flags=tuple(flags),
        disclosed=tuple(disclosed),
        unavailable=tuple(unavailable.values()),
        dropped=tuple(dropped),
    )
