"""Stored text written by one person and shown to another is escaped on every page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.web.conftest import CONSENT_ITEM, eva_bsn, login_citizen, login_fg, post_form

SCRIPT = '<script>alert("loket")</script>'


def test_script_in_free_text_is_escaped_on_every_page(
        web: TestClient, new_client: Callable[[], TestClient], sandbox: Any, casemanager: Any) -> None:
    eva = eva_bsn(sandbox)
    # A hostile token subject no longer gets in at all (gateway.identity.auth.check_sub)...
    hostile = casemanager(f"cm-{SCRIPT}")
    assert web.get("/v1/cases", headers=hostile.headers).status_code == 401
    cm = casemanager("cm-escape")  # ...so the hostile text comes in where people write text
    case = cm.open(eva)
    cm.dossier(case)
    request_id = cm.ask(case, [CONSENT_ITEM], f"Hallo {SCRIPT}").json()["id"]
    crisis = cm.open(eva, purpose="crisis_noodtoegang")
    index = cm.break_glass(crisis, f"Uitzetting dreigt vandaag {SCRIPT}")["audit"]["index"]

    login_fg(web)
    queue = web.get("/fg/noodtoegang").text
    event_id = queue.split('href="/fg/noodtoegang/', 1)[1].split('"', 1)[0]
    post_form(web, f"/fg/noodtoegang/{event_id}", f"/fg/noodtoegang/{event_id}",
              {"verdict": "justified", "note": f"Akkoord {SCRIPT}"})

    citizen = new_client()
    login_citizen(citizen, eva)
    pages = {
        "citizen": (citizen, ["/burger", "/burger/toegang", f"/burger/toegang/{index}", "/burger/toestemmingen",
                              f"/burger/verzoeken/{request_id}", "/toegankelijkheidsverklaring", "/"]),
        "fg": (web, ["/fg/zoeken", f"/fg/records/{index}", "/fg/noodtoegang", f"/fg/noodtoegang/{event_id}",
                     "/fg/integriteit", "/fg/patronen"]),
    }
    shown: set[str] = set()
    for client, urls in pages.values():
        for url in urls:
            r = client.get(url)
            assert r.status_code == 200, url
            assert "<script>alert" not in r.text, url
            assert r.headers["content-security-policy"].startswith("default-src 'self'"), url
            if "&lt;script&gt;alert" in r.text:
                shown.add(url)
    # the hostile text really was on these pages, escaped
    # (the access pages and the FG's log pages showed only the casemanager's sub, now kept clean)
    assert shown >= {f"/burger/verzoeken/{request_id}", f"/fg/noodtoegang/{event_id}"}
