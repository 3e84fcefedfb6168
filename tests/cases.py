"""Opening cases in tests the only way there is: a coordinator assigns one on a ground."""

from __future__ import annotations

from typing import Any

import jwt

from gateway.identity.auth import Role, mint_token

COORDINATOR = "co-001"
REASON = "Melding aan de balie: de burger vraagt hulp bij geldzaken en post."


def toewijzing(bsn: str, purpose: str, casemanager: str = "cm-001", reason: str = REASON) -> dict[str, Any]:
    return {"burgerservicenummer": bsn, "purpose": purpose,
            "ground": {"type": "toewijzing", "casemanager": casemanager, "reason": reason}}


def coordinator_headers(http: Any, sub: str = COORDINATOR, *, loket: Any = None, **kw: Any) -> dict[str, str]:
    """A coordinator's bearer header for a TestClient's gateway (or ``loket``'s), signed by its dev issuer."""
    loket = loket if loket is not None else http.app.state.loket
    tok = mint_token(loket.dev_issuer_key, issuer=loket.settings.jwt_issuer, audience=loket.settings.jwt_audience,
                     sub=sub, role=Role.COORDINATOR, **kw)
    return {"Authorization": f"Bearer {tok}"}


def subject_of(token: str) -> str:
    return str(jwt.decode(token, options={"verify_signature": False})["sub"])


def open_case(http: Any, tok: str, bsn: str, purpose: str, *, loket: Any = None) -> str:
    """A case for the casemanager whose token is ``tok``, assigned by the coordinator."""
    r = http.post("/v1/cases", json=toewijzing(bsn, purpose, subject_of(tok)),
                  headers=coordinator_headers(http, loket=loket))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])
