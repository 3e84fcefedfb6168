"""SVB: AOW, Anw, kinderbijslag and AIO.

In production through Suwinet (Wet SUWI art. 62).
"""

from __future__ import annotations

from adapters.haalcentraal import HaalCentraalAdapter


class SvbAdapter(HaalCentraalAdapter):
    kind = "svb"
