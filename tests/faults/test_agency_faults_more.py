"""Agency faults that tests/gateway/test_agency_faults.py does not cover: several slow agencies at
once (the timeouts run in parallel, they do not add up), an agency that is not listening at all,
and every agency failing (the request is still audited, and nothing is disclosed)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from audit.record import AuditEventKind
from gateway.app import create_app
from gateway.core.context import Loket, build_loket
from tests.conftest import bearer, settings_for
from tests.security.helpers import eva_bsn, minter, open_case
from tests.servers import free_port


def test_several_slow_agencies_cost_one_timeout_not_the_sum(
        make_loket: Callable[..., Loket], sandbox: Any, faults: dict[str, Any]) -> None:
    loket = make_loket(agency_timeout_s=1.0)
    with TestClient(create_app(loket=loket)) as client:
        tok = minter(loket)()
        case_id = open_case(client, tok, eva_bsn(sandbox))
        for kind in ("brp", "duo"):
            faults[kind].delay_s = 3.0
        started = time.monotonic()
        body = client.get(f"/v1/cases/{case_id}/dossier", headers=bearer(tok)).json()
        elapsed = time.monotonic() - started
    assert {u["agency"]: u["error_code"] for u in body["unavailable"]} == {"brp": "timeout", "duo": "timeout"}
    assert body["fields"] == []
    assert elapsed < 2 * loket.settings.agency_timeout_s, f"timeouts added up: {elapsed:.2f}s"


def test_agency_that_is_not_listening_is_unavailable(
        tmp_path: Path, sandbox: Any) -> None:
    urls = dict(sandbox.agency_urls)
    urls["duo"] = f"http://127.0.0.1:{free_port()}"
    loket = build_loket(settings_for(tmp_path / "loket", urls))
    with TestClient(create_app(loket=loket)) as client:
        tok = minter(loket)()
        case_id = open_case(client, tok, eva_bsn(sandbox))
        body = client.get(f"/v1/cases/{case_id}/dossier", headers=bearer(tok)).json()
    assert [u["agency"] for u in body["unavailable"]] == ["duo"]
    assert {f["agency"] for f in body["fields"]} == {"brp"}
    record = loket.audit.get_record(body["audit"]["index"]).record
    assert record.unavailable == ("duo",) and {d.agency for d in record.disclosed} == {"brp"}
    loket.close()


def test_every_agency_failing_is_audited_as_nothing_disclosed(
        make_loket: Callable[..., Loket], sandbox: Any, faults: dict[str, Any]) -> None:
    loket = make_loket()
    with TestClient(create_app(loket=loket)) as client:
        tok = minter(loket)()
        case_id = open_case(client, tok, eva_bsn(sandbox))
        faults["brp"].malformed_body = True
        faults["duo"].status_code = 500
        r = client.get(f"/v1/cases/{case_id}/dossier", headers=bearer(tok))
    assert r.status_code == 200
    body = r.json()
    assert body["fields"] == [] and body["flags"] == []
    assert {u["agency"]: u["error_code"] for u in body["unavailable"]} == {"brp": "malformed", "duo": "http_500"}
    record = loket.audit.get_record(body["audit"]["index"]).record
    assert record.kind is AuditEventKind.DOSSIER_REFUSED and record.outcome == "nothing_disclosed"
    assert record.disclosed == () and set(record.unavailable) == {"brp", "duo"}


def test_extra_fields_never_reach_the_client_even_when_named_like_granted_ones(
        make_loket: Callable[..., Loket], sandbox: Any, faults: dict[str, Any]) -> None:
    """The agency answers with its whole record: only granted fields leave, the rest is counted."""
    loket = make_loket()
    with TestClient(create_app(loket=loket)) as client:
        tok = minter(loket)()
        case_id = open_case(client, tok, eva_bsn(sandbox))
        normal = client.get(f"/v1/cases/{case_id}/dossier", headers=bearer(tok)).json()
        faults["brp"].extra_fields = True
        faults["duo"].extra_fields = True
        noisy = client.get(f"/v1/cases/{case_id}/dossier", headers=bearer(tok)).json()

    def keyset(body: dict[str, Any]) -> set[tuple[str, str, str]]:
        return {(f["agency"], f["category"], f["field"]) for f in body["fields"]}

    assert keyset(noisy) == keyset(normal), "extra fields changed what left the gateway"
    record = loket.audit.get_record(noisy["audit"]["index"]).record
    assert int(record.extra["dropped_fields"]) > 0
    assert "dropped_fields" not in loket.audit.get_record(normal["audit"]["index"]).record.extra
