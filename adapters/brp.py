"""BRP (Basisregistratie Personen), reached like Haal Centraal BRP Bevragen.

The real BRP API leaves out a boolean that is false, so a missing
``geheimhoudingPersoonsgegevens`` or ``inOnderzoek`` means "no". This adapter writes those
flags out explicitly, so the gateway shows "no secrecy, not under investigation" as an answer
from the BRP rather than as a field that happened to be absent.
"""

from __future__ import annotations

from typing import Any

from adapters.haalcentraal import HaalCentraalAdapter


class BrpAdapter(HaalCentraalAdapter):
    kind = "brp"

    def _normalise(self, agency: str, person: dict[str, Any]) -> dict[str, Any]:
        for flag in self.catalog.always_included_flags:
            person.setdefault(flag, False)
        return person
