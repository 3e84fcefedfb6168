"""The public log endpoints: key, checkpoint, consistency — verifiable by anyone."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from audit import merkle
from audit.checkpoint import open_checkpoint
from audit.verify import read_verifier
from gateway.core.context import Loket
from tests.conftest import bearer
from tests.gateway.test_dossier_flow import eva_bsn, open_case


def test_published_key_verifies_the_published_checkpoint_and_growth(
        loket: Loket, client: TestClient, sandbox: Any, token: Callable[..., str]) -> None:
    tok = token()
    case_id = open_case(client, tok, eva_bsn(sandbox))
    first = loket.audit.checkpoint(force=True)
    client.get(f"/v1/cases/{case_id}/dossier", headers=bearer(tok))
    loket.audit.checkpoint(force=True)

    vkey = client.get("/.well-known/loket-audit-key").text.strip()
    assert vkey == loket.audit.vkey()
    note = client.get("/v1/log/checkpoint").text
    cp = open_checkpoint(note, read_verifier(vkey))
    assert cp.tree_size > first.tree_size

    r = client.get("/v1/log/consistency", params={"first": first.tree_size, "second": cp.tree_size})
    assert r.status_code == 200
    hashes = [base64.b64decode(h) for h in r.json()["hashes"]]
    merkle.verify_consistency(first.tree_size, cp.tree_size, first.root_hash, cp.root_hash, hashes)


def test_consistency_beyond_the_log_is_404(client: TestClient) -> None:
    r = client.get("/v1/log/consistency", params={"first": 1, "second": 10_000})
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")


def test_idle_log_still_gets_a_checkpoint_within_the_interval(make_loket: Callable[..., Loket],
                                                              sandbox: Any) -> None:
    import time

    from gateway.app import create_app

    loket = make_loket(checkpoint_every_s=0.5, checkpoint_every_records=10_000)
    with TestClient(create_app(loket=loket)) as client:
        open_case(client, _cm_token(loket), eva_bsn(sandbox))
        loket.audit.checkpoint(force=True)
        open_case(client, _cm_token(loket), eva_bsn(sandbox))  # right after: not yet due
        assert loket.audit.latest_checkpoint().tree_size < loket.audit.head().tree_size  # type: ignore[union-attr]
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            cp = loket.audit.latest_checkpoint()
            if cp is not None and cp.tree_size == loket.audit.head().tree_size:
                break
            time.sleep(0.1)
        else:
            raise AssertionError("no checkpoint covered the idle log")


def _cm_token(loket: Loket) -> str:
    from gateway.identity.auth import mint_token

    assert loket.dev_issuer_key is not None
    return mint_token(loket.dev_issuer_key, issuer=loket.settings.jwt_issuer,
                      audience=loket.settings.jwt_audience, sub="cm-001", role="casemanager")
