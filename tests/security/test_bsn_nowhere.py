"""Issue 16, done-when: every free-text field and identifier is fed a BSN in ten formats, and
the BSN is stored nowhere — not in the database files (WAL and SHM included), not in a log
line, not in an audit leaf, not in a response, not in a header sent to an agency.

The refusals come from the one detector (gateway.identity.bsn.contains_bsn) at each door: the
Strict request bodies (400 bsn-in-free-text), the page forms (422 page), the URL guard (400
bsn-in-url), the token verifier (401) and the traceparent parser (a fresh trace).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.app import create_app
from gateway.identity.bsn import fold_digits
from tests import cases
from tests.conftest import bearer
from tests.gateway.test_bsn import TEN_FORMATS
from tests.security.helpers import build_test_loket, eva_bsn, minter, open_case
from tests.web.conftest import CONSENT_ITEM, csrf_of, login_citizen, login_fg

PROBE = "999994001"  # valid under the elfproef; not a sandbox citizen
BREAK_GLASS_PURPOSE = "crisis_noodtoegang"


def needles() -> list[bytes]:
    """Every byte form the probe could be stored in."""
    out = {PROBE.encode(), PROBE[::-1].encode()}
    for f in TEN_FORMATS:
        out.add(f.encode("utf-8"))
        out.add(fold_digits(f).encode("utf-8"))
    return sorted(out)


@pytest.mark.slow  # every route and page with ten BSN formats, then every byte stored (~6 s)
def test_a_bsn_in_ten_formats_is_stored_nowhere(tmp_path: Path, sandbox: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    data_dir = tmp_path / "nowhere"
    loket = build_test_loket(data_dir, sandbox)
    mint = minter(loket)
    responses: list[Any] = []
    traces_before = {id(o) for obs in sandbox.observations.values() for o in obs.requests()}
    try:
        with TestClient(create_app(loket=loket)) as api:
            cm = bearer(mint(sub="cm-nowhere"))
            fg = bearer(mint(role="privacy_officer", sub="fg-nowhere"))
            eva = eva_bsn(sandbox)
            case = open_case(api, mint(sub="cm-nowhere"), eva)
            crisis = open_case(api, mint(sub="cm-nowhere"), eva, purpose=BREAK_GLASS_PURPOSE)
            r = api.post(f"/v1/cases/{crisis}/dossier/break-glass", headers=cm,
                         json={"justification": "Uitzetting dreigt vandaag, direct nodig"})
            assert r.status_code == 200, r.text
            event_id = api.get("/v1/fg/break-glass", headers=fg).json()["items"][0]["id"]
            citizen = bearer(mint(role="citizen", sub="burger-nowhere", bsn=eva))

            def send(method: str, url: str, expect: set[int], **kw: Any) -> None:
                r = api.request(method, url, **kw)
                responses.append(r)
                assert r.status_code in expect, (method, url, r.status_code, r.text[:300])

            for f in TEN_FORMATS:
                text = f"Graag snel, het gaat om {f} en haar huur"
                # JSON bodies: free text and identifiers (400 bsn-in-free-text)
                send("POST", f"/v1/cases/{crisis}/dossier/break-glass", {400}, headers=cm,
                     json={"justification": text})
                send("POST", f"/v1/cases/{case}/consent-requests", {400}, headers=cm,
                     json={"categories": [CONSENT_ITEM], "message": text})
                send("POST", f"/v1/cases/{case}/consent-requests", {400}, headers=cm,
                     json={"categories": [f"duo.{f}"], "message": "Mag dit?"})
                send("POST", "/v1/fg/search", {400}, headers=fg, json={"casemanager": f})
                send("POST", "/v1/fg/export", {400}, headers=fg, json={"casemanager": text})
                send("POST", f"/v1/fg/break-glass/{event_id}/reviews", {400}, headers=fg,
                     json={"verdict": "justified", "note": text})
                co = cases.coordinator_headers(api)
                send("POST", "/v1/cases", {400}, headers=co, json=cases.toewijzing(eva, f))
                send("POST", "/v1/cases", {400}, headers=co,
                     json=cases.toewijzing(eva, "student_in_crisis", reason=text))
                send("POST", "/v1/cases", {400}, headers=co, json=cases.toewijzing(eva, "student_in_crisis", f))
                send("POST", "/v1/me/aanmeldingen", {400}, headers=citizen,
                     json={"purpose": "student_in_crisis", "message": text})
                send("POST", "/v1/me/consents", {400}, headers=citizen,
                     json={"purpose": "student_in_crisis", "agency": "duo", "category": f,
                           "team": "team-centrum", "valid_until": "2099-01-01T00:00:00Z"})
                send("POST", "/v1/me/consents", {400}, headers=citizen,
                     json={"purpose": "student_in_crisis", "agency": "duo", "category": "studieschuld",
                           "team": f, "valid_until": "2099-01-01T00:00:00Z"})
                # identifiers in the URL: probed case ids, consent ids, query parameters (400)
                send("GET", f"/v1/cases/{f}", {400}, headers=cm)
                send("GET", f"/v1/cases/{f}/dossier", {400}, headers=cm)
                send("GET", f"/v1/cases/{case}/dossier", {400}, headers=cm, params={"categories": f})
                send("DELETE", f"/v1/me/consents/{f}", {400}, headers=citizen)
                send("GET", f"/v1/fg/break-glass/{f}", {400}, headers=fg)
                send("GET", "/v1/fg/patterns", {400}, headers=fg, params={"window": f})
                # token claims (401 before anything else)
                send("GET", "/v1/cases", {401}, headers=bearer(mint(sub=f"cm-{f}")))
                send("GET", "/v1/cases", {401}, headers=bearer(mint(sub=f)))
                send("GET", "/v1/cases", {401}, headers=bearer(mint(sub="cm-named", name=f"Jan {f}")))
                send("GET", "/v1/me/consents", {401}, headers=bearer(mint(role="citizen", sub="b-1", bsn=f))
                     if fold_digits(f) != PROBE else bearer(mint(role="citizen", sub=f"b-{f}", bsn=PROBE)))

            # a traceparent carrying the BSN: the dossier is served under a fresh trace
            crafted = f"00-0000000{PROBE}0000000000000000-00f067aa0ba902b7-01"
            r = api.get(f"/v1/cases/{case}/dossier", headers={**cm, "traceparent": crafted})
            responses.append(r)
            assert r.status_code == 200 and r.json()["trace_id"] != crafted[3:35]

            # page forms (422, a Dutch page that shows nothing of the form)
            login_fg(api, "fg-001")
            for f in TEN_FORMATS:
                page = api.get(f"/fg/noodtoegang/{event_id}")
                r = api.post(f"/fg/noodtoegang/{event_id}", follow_redirects=False,
                             data={"verdict": "justified", "note": f"Akkoord {f}", "csrf_token": csrf_of(page.text)})
                responses.append(r)
                assert r.status_code == 422 and "burgerservicenummer" in r.text
                page = api.get("/fg/zoeken")
                r = api.post("/fg/zoeken", data={"actor_sub": f, "csrf_token": csrf_of(page.text)})
                responses.append(r)
                assert r.status_code == 422
            citizen_browser = TestClient(create_app(loket=loket))
            with citizen_browser:
                login_citizen(citizen_browser, eva)
                for f in TEN_FORMATS:
                    page = citizen_browser.get("/burger/toestemmingen")
                    r = citizen_browser.post("/burger/toestemmingen", data={
                        "item": f"student_in_crisis|{f}", "days": f, "csrf_token": csrf_of(page.text)})
                    responses.append(r)
                    assert r.status_code == 422

        # Nowhere: responses, database files (WAL and SHM too), audit leaves, logs, agencies.
        found: list[str] = []
        for r in responses:
            body = r.content + b"".join(k + b": " + v for k, v in r.headers.raw)
            found += [f"response {r.request.method} {r.request.url.path[:30]}: {n!r}" for n in needles() if n in body]
        db_files = sorted(p for p in data_dir.iterdir() if p.name.startswith("loket.db"))
        assert any(p.name.endswith("-wal") for p in db_files)
        for p in db_files:
            raw = p.read_bytes()
            found += [f"{p.name}: {n!r}" for n in needles() if n in raw]
        for stored in loket.audit.iter_records(start=0, stop=loket.audit.head().tree_size):
            leaf = repr(stored).encode()
            found += [f"audit leaf: {n!r}" for n in needles() if n in leaf]
        # (httpx/httpcore are the test's own client logging the URLs it sends; the gateway talks
        # to agencies with aiohttp, whose requests the sandbox observed below)
        log_text = "\n".join(f"{rec.name} {rec.getMessage()}" for rec in caplog.records
                             if not rec.name.startswith(("httpx", "httpcore"))).encode()
        found += [f"log: {n!r}" for n in needles() if n in log_text]
        for obs in sandbox.observations.values():
            for seen in obs.requests():
                if id(seen) in traces_before:
                    continue
                sent = f"{seen.url} {seen.traceparent}".encode()
                found += [f"agency {seen.agency}: {n!r}" for n in needles() if n in sent]
        assert found == []
        assert all(r.status_code < 500 for r in responses)
    finally:
        loket.close()
