"""CAK: own contribution for Wmo/Wlz and the health-insurance arrears scheme (wanbetalers)."""

from __future__ import annotations

from adapters.haalcentraal import HaalCentraalAdapter


class CakAdapter(HaalCentraalAdapter):
    kind = "cak"
