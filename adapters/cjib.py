"""CJIB: outstanding fines and payment arrangements."""

from __future__ import annotations

from adapters.haalcentraal import HaalCentraalAdapter


class CjibAdapter(HaalCentraalAdapter):
    kind = "cjib"
