"""LOKET_AGENCY_API_KEYS: the key an agency knows Loket by (the BRP's afnemer key, X-API-KEY)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from adapters.sandbox.brp import BEPERKTE_AFNEMER_KEY
from gateway.app import create_app
from gateway.core.context import Loket
from gateway.core.errors import ConfigurationError
from tests.cases import open_case
from tests.conftest import bearer
from tests.web.conftest import eva_bsn


def brp_answer(loket: Loket, sandbox: Any, token: Callable[..., str]) -> dict[str, Any]:
    with TestClient(create_app(loket=loket)) as client:
        tok = token(sub="cm-001")
        case_id = open_case(client, tok, eva_bsn(sandbox), "student_in_crisis", loket=loket)
        r = client.get(f"/v1/cases/{case_id}/dossier", headers=bearer(tok))
        assert r.status_code == 200, r.text
        body = r.json()
    return {"disclosed": any(f["agency"] == "brp" for f in body["fields"]),
            "unavailable": {u["agency"]: u["error_code"] for u in body["unavailable"]}.get("brp")}


def test_the_configured_key_is_what_the_brp_knows_the_gateway_by(
    make_loket: Callable[..., Loket], sandbox: Any,
) -> None:
    """The sandbox BRP's 'beperkte afnemer' may ask only naam and geboorte: with its key the
    gateway's BRP question is refused (403 unauthorizedField) — so the key is really sent."""
    limited = make_loket(agency_api_keys={"brp": BEPERKTE_AFNEMER_KEY})
    assert limited.adapters["brp"].credentials == {"brp": BEPERKTE_AFNEMER_KEY}
    assert BEPERKTE_AFNEMER_KEY not in repr(limited.settings)  # a secret, never in a repr or log
    def mint(loket: Loket) -> Callable[..., str]:
        from gateway.identity.auth import Role, mint_token

        def tok(sub: str = "cm-001") -> str:
            assert loket.dev_issuer_key is not None
            return mint_token(loket.dev_issuer_key, issuer=loket.settings.jwt_issuer,
                              audience=loket.settings.jwt_audience, role=Role.CASEMANAGER, sub=sub)
        return tok

    assert brp_answer(limited, sandbox, mint(limited)) == {"disclosed": False, "unavailable": "http_403"}
    plain = make_loket()
    assert brp_answer(plain, sandbox, mint(plain))["disclosed"] is True


@pytest.mark.parametrize(("keys", "message"), [
    ({"brp": "k-1", "onbekend": "k-1"}, "without a base URL: onbekend"),
    ({"brp": "bad key\n"}, "not printable ASCII"),
])
def test_a_bad_api_key_setting_fails_at_start_up(make_loket: Callable[..., Loket], keys: dict[str, str],
                                                  message: str) -> None:
    with pytest.raises(ConfigurationError, match=message) as e:
        make_loket(agency_api_keys=keys)
    assert "k-1" not in str(e.value) and "bad key" not in str(e.value)
