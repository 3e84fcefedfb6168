"""Stored hostile text (break-glass justification, consent-request message, FG review note, a
casemanager id from a token) is shown escaped on every page that shows it, and the JSON API
returns it as plain data."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.app import create_app
from gateway.core.context import Loket
from tests.security.flows import CM_SUB, HOSTILE_SUB, JUSTIFICATION, MESSAGE, NOTE, XSS, FlowRun, run_flows
from tests.security.helpers import eva_bsn

RAW_MARKUP = ["<script>", "<img src=x", "<b onmouseover"]


@pytest.fixture(scope="module")
def flows(shared_loket: Loket, sandbox: Any) -> Iterator[tuple[FlowRun, Any]]:
    app = create_app(loket=shared_loket)
    with TestClient(app) as client:
        yield run_flows(shared_loket, client, sandbox), app


def csrf_of(html: str) -> str:
    return html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def fg_browser(app: Any) -> TestClient:
    b = TestClient(app)
    page = b.get("/fg/inloggen")
    if page.status_code != 200:
        pytest.skip("FG pages not installed in this build")
    r = b.post("/fg/inloggen", data={"officer": "fg-001", "role": "privacy_officer",
                                     "csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/fg/zoeken"
    return b


def citizen_browser(app: Any, bsn: str) -> TestClient:
    b = TestClient(app)
    page = b.get("/burger/inloggen")
    if page.status_code != 200:
        pytest.skip("citizen pages not installed in this build")
    r = b.post("/burger/inloggen", data={"bsn": bsn, "csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/burger"
    return b


def assert_escaped(html: str, *texts: str) -> None:
    for raw in RAW_MARKUP:
        assert raw not in html, f"unescaped {raw!r} on the page"
    assert "&lt;script&gt;" in html or "&lt;b onmouseover" in html, "the hostile text is shown, escaped"
    for t in texts:
        assert t not in html


def test_api_returns_stored_text_verbatim_as_data(flows: tuple[FlowRun, Any], mint: Any) -> None:
    run, app = flows
    with TestClient(app) as c:
        fg = {"Authorization": f"Bearer {mint(role='privacy_officer', sub='fg-verbatim')}"}
        item = c.get(f"/v1/fg/break-glass/{run.break_glass_event_id}", headers=fg).json()
    assert item["justification"] == JUSTIFICATION.strip()
    assert item["review_note"] == NOTE and item["casemanager"] == CM_SUB


def test_fg_break_glass_pages_escape_justification_note_and_casemanager(flows: tuple[FlowRun, Any]) -> None:
    run, app = flows
    with fg_browser(app) as b:
        listing = b.get("/fg/noodtoegang", params={"status": "all"})
        detail = b.get(f"/fg/noodtoegang/{run.break_glass_event_id}")
        search = b.get("/fg/zoeken")
    assert listing.status_code == 200 and detail.status_code == 200
    assert not any(raw in listing.text for raw in RAW_MARKUP)
    assert_escaped(detail.text, XSS, HOSTILE_SUB)
    assert "&lt;script&gt;" in detail.text
    assert search.status_code == 200 and "<b onmouseover" not in search.text


def test_fg_search_results_escape_a_hostile_casemanager_id(flows: tuple[FlowRun, Any]) -> None:
    _run, app = flows
    with fg_browser(app) as b:
        page = b.get("/fg/zoeken")
        r = b.post("/fg/zoeken", data={"actor_sub": HOSTILE_SUB, "csrf_token": csrf_of(page.text)})
    assert r.status_code == 200
    assert "<b onmouseover" not in r.text and "&lt;b onmouseover" in r.text


def test_citizen_pages_escape_the_consent_request_message(flows: tuple[FlowRun, Any], sandbox: Any) -> None:
    run, app = flows
    with citizen_browser(app, eva_bsn(sandbox)) as b:
        pages = [b.get("/burger/toestemmingen"), b.get("/burger/toegang"), b.get("/burger")]
        req = b.get(f"/burger/verzoeken/{run.consent_request_id}")
    assert req.status_code == 200
    assert_escaped(req.text, MESSAGE, XSS)
    for p in pages:
        assert p.status_code == 200
        for raw in RAW_MARKUP:
            assert raw not in p.text
