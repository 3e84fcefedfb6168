"""DUO: study finance and study debt.

Participatiewet art. 64(1)(i) names DUO as a source for bijstand.
"""

from __future__ import annotations

from adapters.haalcentraal import HaalCentraalAdapter


class DuoAdapter(HaalCentraalAdapter):
    kind = "duo"
