"""BRP (Basisregistratie Personen) through the published Haal Centraal BRP Bevragen 2.x API.

``POST {base_url}/personen`` with ``type: RaadpleegMetBurgerservicenummer``, exactly as the
specification (API 2.7.0, vendored under tests/adapters/spec/brp) describes, so the same adapter
works against the sandbox and against the real API's test environment (its contract suite,
tests/adapters/test_brp_contract.py, runs against any base URL). The client's API key, if
configured, goes in ``X-API-KEY``. The catalog's BRP field paths are the spec's own paths, so
they go out as ``fields`` unchanged, and the values come back in the spec's model (dates as
``{type, datum, langFormaat}``, names as ``naam`` groups, gezag by BSN).

Two conventions are turned into the gateway's, here and nowhere else:

* The BRP leaves out a boolean that is false: a missing ``geheimhoudingPersoonsgegevens`` is
  written out as ``False``, so the gateway shows "no secrecy" as an answer from the BRP.
* ``inOnderzoek`` is per group in the spec (``verblijfplaats.inOnderzoek``, ``naam.inOnderzoek``,
  ...). The gateway shows one flag per agency: ``inOnderzoek`` becomes ``True`` when any group
  of the answer is under investigation, and the per-group objects are taken out (they are
  about fields, not fields themselves). So are the discriminator ``verblijfplaats.type`` when it
  was not asked and the other automatically delivered groups (``opschortingBijhouding``,
  ``rni``, ``verificatie``), which the catalog does not carry.
"""

from __future__ import annotations

from typing import Any

from adapters.base import AgencyErrorCode, AgencyFetchError
from adapters.haalcentraal import QUERY_TYPE, HaalCentraalAdapter

#: The gezag types of the spec (Gezagsrelatie's discriminator), plus the name the newer gezag
#: specification and the feature files use for two parents (TweehoofdigOuderlijkGezag), which
#: the 2.7.0 OpenAPI calls GezamenlijkOuderlijkGezag.
PARENTAL_AUTHORITY_TYPES = frozenset(
    {"EenhoofdigOuderlijkGezag", "GezamenlijkOuderlijkGezag", "TweehoofdigOuderlijkGezag", "GezamenlijkGezag"}
)
GEZAG_TYPES = PARENTAL_AUTHORITY_TYPES | {"Voogdij", "TijdelijkGeenGezag", "GezagNietTeBepalen"}

_AUTOMATIC_GROUPS = ("opschortingBijhouding", "rni", "verificatie")


def _strip_in_onderzoek(value: Any) -> bool:
    """Remove every nested ``inOnderzoek``; True if any was there (with any true marker)."""
    found = False
    if isinstance(value, dict):
        marker = value.pop("inOnderzoek", None)
        found = bool(marker)
        for v in value.values():
            found = _strip_in_onderzoek(v) or found
    elif isinstance(value, list):
        for v in value:
            found = _strip_in_onderzoek(v) or found
    return found


class BrpAdapter(HaalCentraalAdapter):
    kind = "brp"

    def _personen_url(self, agency: str, base_url: str) -> str:
        # The published path: the base URL is the API's root, e.g.
        # https://proefomgeving.haalcentraal.nl/haalcentraal/api/brp
        return f"{base_url}/personen"

    def _check_answer(self, doc: dict[str, Any]) -> None:
        if doc.get("type") != QUERY_TYPE:
            raise AgencyFetchError(AgencyErrorCode.MALFORMED, "answer is not a RaadpleegMetBurgerservicenummer")

    def _normalise(self, agency: str, person: dict[str, Any], requested: tuple[str, ...]) -> dict[str, Any]:
        top = person.pop("inOnderzoek", None)
        under_investigation = bool(top) or _strip_in_onderzoek(person)
        for group in _AUTOMATIC_GROUPS:
            person.pop(group, None)
        place = person.get("verblijfplaats")
        if isinstance(place, dict) and not any(f in ("verblijfplaats", "verblijfplaats.type") for f in requested):
            place.pop("type", None)
        person["inOnderzoek"] = under_investigation
        person["geheimhoudingPersoonsgegevens"] = person.get("geheimhoudingPersoonsgegevens") is True
        return person
