"""UWV: employment (polisadministratie), WW, Ziektewet/WIA and medical data.

In production this data comes through Suwinet (Wet SUWI art. 62); the sandbox speaks the
same Haal Centraal-style exchange as every Loket agency.
"""

from __future__ import annotations

from adapters.haalcentraal import HaalCentraalAdapter


class UwvAdapter(HaalCentraalAdapter):
    kind = "uwv"
