"""Belastingdienst and Dienst Toeslagen: taxable income, tax debt, allowances and reclaims.

Two agencies (``belastingdienst``, ``toeslagen``) share this kind and one HTTP client;
each has its own base URL, as they are separate services in practice.
"""

from __future__ import annotations

from adapters.haalcentraal import HaalCentraalAdapter


class BelastingdienstAdapter(HaalCentraalAdapter):
    kind = "belastingdienst"
