"""Plain-Dutch explanations for people: purposes, organisations, categories, legal bases, refusals.

Everything here reads the policy data (``purposes``, ``legal_bases``, ``reasons``) and the
agency catalog, so pages and the citizen API say exactly what the policies say. Unknown ids fall
back to the id itself rather than to an invented text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from adapters.catalog import Catalog

KIND_LABELS_NL = {
    "dossier:read": "Gegevens bekeken",
    "dossier:refused": "Gegevens gevraagd, niets gedeeld",
    "dossier:error": "Gegevens gevraagd, mislukt",
    "dossier:break_glass": "Gegevens bekeken met noodtoegang",
    "case:opened": "Zaak geopend",
    "aanmelding:created": "Hulp gevraagd",
    "signal:received": "Signaal over een betalingsachterstand ontvangen",
    "consent:granted": "Toestemming gegeven",
    "consent:revoked": "Toestemming ingetrokken",
    "consent_request:created": "Toestemming gevraagd",
    "consent_request:answered": "Verzoek om toestemming beantwoord",
    "break_glass:reviewed": "Noodtoegang beoordeeld",
    "access:denied": "Toegang geweigerd",
    "access_log:searched": "De functionaris gegevensbescherming heeft uw gegevens in het logboek bekeken",
    "access_log:exported": "De functionaris gegevensbescherming heeft uw gegevens uit het logboek gehaald",
    "access_log:viewed": "De functionaris gegevensbescherming heeft een logregel over u bekeken",
    "dossier:agency_call": "Gegevens opgevraagd bij een organisatie",
    "authzen:evaluated": "Toegangsvraag van een andere gateway beantwoord",
    "access_report:created": "Melding: burger herkent een toegang niet",
    "access_report:answered": "Melding beantwoord door de privacy-functionaris",
    "agency_request:sent": "Verzoek aan een organisatie verstuurd",
    "agency_request:refused": "Verzoek aan een organisatie niet toegestaan",
    "agency_request:answered": "Organisatie beantwoordde een verzoek",
    "representation:checked": "Nagegaan of iemand voor u mag handelen",
    "machtiging:granted": "Machtiging gegeven",
    "machtiging:revoked": "Machtiging ingetrokken",
    "witness:alert": "Waarschuwing: een getuige weigerde het logboek",
}

ROLE_LABELS_NL = {
    "casemanager": "Casemanager",
    "coordinator": "Coördinator",
    "citizen": "U zelf",
    "privacy_officer": "Functionaris gegevensbescherming",
    "admin": "Beheerder",
}


@lru_cache(maxsize=1)
def field_labels_nl() -> Mapping[str, Mapping[str, str]]:
    """agency -> field path -> B1 name (gateway/dossier/field_labels_nl.json, beside the catalog's paths)."""
    raw = json.loads(resources.files("gateway.dossier").joinpath("field_labels_nl.json").read_text("utf-8"))
    return {a: dict(fields) for a, fields in raw["fields"].items()}


_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def readable_path(path: str) -> str:
    """The fallback for a field without a label: ``inkomen.brutoMaand`` -> "inkomen: bruto maand".
    Never the raw path: a citizen should not have to read camelCase and dots."""
    parts = [_CAMEL.sub(" ", p).lower() for p in path.split(".") if p]
    if not parts:
        return path
    return parts[0] if len(parts) == 1 else f"{parts[0]}: {' '.join(parts[1:])}"


@dataclass(frozen=True)
class Explainer:
    purposes: Mapping[str, Any]
    legal_bases: Mapping[str, Any]
    reasons: Mapping[str, Any]
    catalog: Catalog

    @classmethod
    def of(cls, loket: Any) -> Explainer:
        data = loket.policy_data
        if isinstance(data, Mapping):  # policy data as plain JSON (purposes, legal_bases, reasons)
            legal = dict(data.get("legal_bases", {}) or {})
            reasons = dict(data.get("reasons", {}) or {})
        else:  # gateway.policy.PolicyData
            legal = dict(getattr(data, "legal_bases", {}) or {})
            reasons = {"refusals": dict(getattr(data, "refusal_reasons", {}) or {}),
                       "request": dict(getattr(data, "request_reasons", {}) or {})}
        return cls(purposes=loket.purposes, legal_bases=legal, reasons=reasons, catalog=loket.catalog)

    def purpose_label(self, purpose: str | None) -> str:
        info = self.purposes.get(purpose or "")
        if isinstance(info, Mapping) and isinstance(info.get("label_nl"), str):
            return str(info["label_nl"])
        return purpose or "onbekend doel"

    def purpose_description(self, purpose: str | None) -> str:
        info = self.purposes.get(purpose or "")
        if isinstance(info, Mapping) and isinstance(info.get("description_nl"), str):
            return str(info["description_nl"])
        return ""

    def organisation(self, agency: str) -> str:
        a = self.catalog.agencies.get(agency)
        return a.organisation if a is not None else agency

    def category_label(self, agency: str, category: str) -> str:
        a = self.catalog.agencies.get(agency)
        c = a.categories.get(category) if a is not None else None
        return c.label_nl if c is not None else category

    def field_label(self, agency: str, path: str) -> str:
        label = field_labels_nl().get(agency, {}).get(path)
        return label if label else readable_path(path)

    def field_labels(self, agency: str, paths: Any) -> list[str]:
        return [self.field_label(agency, p) for p in paths]

    def basis_label(self, basis_type: str, basis_id: str) -> str:
        """The short name of a basis, without its citation (for a compact line)."""
        if basis_type == "consent":
            return "Uw toestemming"
        if basis_type == "break_glass":
            return "Noodtoegang"
        info = self.legal_bases.get(basis_id)
        if isinstance(info, Mapping):
            return str(info.get("label_nl") or basis_id)
        return basis_id

    def basis_citation(self, basis_type: str, basis_id: str) -> tuple[str, bool | None]:
        """(citation, verified) of a legal basis; empty for consent and break-glass."""
        info = self.legal_bases.get(basis_id) if basis_type == "legal_basis" else None
        if isinstance(info, Mapping):
            verified = info.get("verified")
            return str(info.get("citation") or ""), (None if verified is None else bool(verified))
        return "", None

    def basis_text(self, basis_type: str, basis_id: str) -> str:
        if basis_type == "consent":
            return "Uw toestemming"
        if basis_type == "break_glass":
            return "Noodtoegang (wordt achteraf gecontroleerd)"
        info = self.legal_bases.get(basis_id)
        if isinstance(info, Mapping):
            label = str(info.get("label_nl") or basis_id)
            citation = info.get("citation")
            text = f"{label} ({citation})" if citation else label
            if info.get("verified") is False:
                text += " — dit wetsartikel wordt nog gecontroleerd"
            return text
        return basis_id

    def refusal_text(self, code: str) -> str:
        for group in ("refusals", "request"):
            table = self.reasons.get(group)
            if isinstance(table, Mapping) and isinstance(table.get(code), Mapping):
                return str(table[code].get("reason_nl") or code)
        return code

    def kind_label(self, kind: str) -> str:
        return KIND_LABELS_NL.get(kind, kind)

    def actor_label(self, role: str, extra: Mapping[str, str], *, for_citizen: bool = True) -> str:
        """Who did it: for a representative's action "Uw bewindvoerder" (or, for the FG,
        "Bewindvoerder"), else the role's label."""
        from gateway.representation.policy import representation_data

        kinds = representation_data()["kinds"]
        kind = extra.get("acting_kind") or extra.get("representation_kind")
        if kind in kinds:
            return str(kinds[kind]["uw_nl"]) if for_citizen else str(kinds[kind]["label_nl"]).capitalize()
        if "action" in extra and "result" in extra:  # a representation check that found nobody
            return "Iemand die zei voor u te handelen" if for_citizen else "Onbekende vertegenwoordiger"
        return self.role_label(role, for_citizen=for_citizen)

    def representation_note(self, kind: str, extra: Mapping[str, str]) -> str:
        """One B1 sentence on a representation check for the citizen's page ("" for other lines)."""
        if kind != "representation:checked":
            return ""
        from gateway.representation.policy import representation_data

        data = representation_data()
        action = data["actions"].get(extra.get("action", ""), {}).get("label_nl", "iets doen")
        domain = data["domains"].get(extra.get("domain", ""), {}).get("label_nl")
        sources = {"brp": "de BRP (gezag)", "ccbr": "het curatele- en bewindregister",
                   "machtigingen": "uw machtigingen"}
        where = " en ".join(sources.get(x, x) for x in extra.get("source", "").split(",") if x)
        about = f" over {domain}" if domain else ""
        if extra.get("result") == "allowed":
            return f"Dit mocht: {action}{about}. Nagegaan in {where}."
        return f"Dit mocht niet: {action}{about}. Nagegaan in {where}. Er is niets gedaan."

    def role_label(self, role: str, *, for_citizen: bool = True) -> str:
        """``for_citizen``: the citizen reads their own actions as "U zelf"; the FG reads "Burger"."""
        if role == "citizen" and not for_citizen:
            return "Burger"
        return ROLE_LABELS_NL.get(role, role)
