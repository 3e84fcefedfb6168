"""The sandbox schuldhulp agency's feed of early-warning signals (vroegsignalering).

Creditors (landlord, energy, water, health insurer, CAK) report arrears to the municipality's
debt-help service; Loket's coordinator imports them as grounds for a case. The feed lists every
signal of every synthetic citizen with a stable id, so importing twice stores each signal once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI


def signal_id(bsn: str, signal: Mapping[str, Any]) -> str:
    raw = f"{bsn}|{signal.get('soort')}|{signal.get('datum')}".encode()
    return "sig-" + hashlib.sha256(raw).hexdigest()[:24]


def install_signal_feed(app: FastAPI, agency: str, records: Mapping[str, Mapping[str, Any]]) -> None:
    feed = [
        {"id": signal_id(bsn, s), "burgerservicenummer": bsn, "soort": s.get("soort"),
         "achterstand": s.get("achterstand"), "datum": s.get("datum")}
        for bsn, record in sorted(records.items())
        for s in record.get("signalen") or ()
        if isinstance(s, Mapping)
    ]

    @app.get(f"/{agency}/signalen")
    async def signalen() -> dict[str, Any]:
        return {"signalen": feed}
