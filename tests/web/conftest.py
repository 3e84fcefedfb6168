"""Helpers for the page tests: log in through the real forms, read the CSRF token from a page."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.core.context import Loket
from tests import cases
from tests.conftest import bearer

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PURPOSE = "student_in_crisis"
CONSENT_ITEM = "duo.studieschuld"  # in scope of the purpose, no legal basis: consent only


def csrf_of(html: str) -> str:
    m = CSRF.search(html)
    assert m, "page has no CSRF token"
    return m.group(1)


def eva_bsn(sandbox: Any) -> str:
    from gateway.demo import _demo_citizen

    return _demo_citizen(sandbox.citizens)[1]


def other_bsn(sandbox: Any) -> str:
    return next(c.bsn for c in sandbox.citizens if c.persona == "partner_kinderen")


def login_citizen(client: TestClient, bsn: str) -> None:
    page = client.get("/burger/inloggen")
    r = client.post("/burger/inloggen", data={"bsn": bsn, "csrf_token": csrf_of(page.text)},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/burger", r.text


def login_fg(client: TestClient, sub: str = "fg-001") -> None:
    page = client.get("/fg/inloggen")
    r = client.post("/fg/inloggen", data={"officer": sub, "role": "privacy_officer",
                                          "csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert r.status_code == 303, r.text


def post_form(client: TestClient, page_url: str, action: str, data: dict[str, str]) -> Any:
    """Load a page for its CSRF token, then POST the form (as a browser would)."""
    token = csrf_of(client.get(page_url).text)
    return client.post(action, data={**data, "csrf_token": token}, follow_redirects=False)


@pytest.fixture
def web(loket: Loket) -> Iterator[TestClient]:
    from gateway.app import create_app

    with TestClient(create_app(loket=loket)) as c:
        yield c


@pytest.fixture
def new_client(loket: Loket) -> Iterator[Callable[[], TestClient]]:
    """A fresh browser (own cookie jar) on the same gateway."""
    from gateway.app import create_app

    app = create_app(loket=loket)
    made: list[TestClient] = []

    def make() -> TestClient:
        c = TestClient(app)
        c.__enter__()
        made.append(c)
        return c

    yield make
    for c in made:
        c.__exit__(None, None, None)


@pytest.fixture
def casemanager(web: TestClient, token: Callable[..., str]) -> Callable[..., Any]:
    """A casemanager working through the API: ``cm.open(bsn)``, ``cm.dossier(case)``, ..."""

    class CM:
        def __init__(self, sub: str = "cm-001") -> None:
            self.sub = sub
            self.headers = bearer(token(sub=sub))

        def open(self, bsn: str, purpose: str = PURPOSE) -> str:
            return cases.open_case(web, self.headers["Authorization"].split()[1], bsn, purpose)

        def dossier(self, case_id: str) -> dict[str, Any]:
            r = web.get(f"/v1/cases/{case_id}/dossier", headers=self.headers)
            assert r.status_code == 200, r.text
            return dict(r.json())

        def break_glass(self, case_id: str, justification: str) -> dict[str, Any]:
            r = web.post(f"/v1/cases/{case_id}/dossier/break-glass", json={"justification": justification},
                         headers=self.headers)
            assert r.status_code == 200, r.text
            return dict(r.json())

        def ask(self, case_id: str, categories: list[str], message: str = "Mag ik dit zien?") -> Any:
            return web.post(f"/v1/cases/{case_id}/consent-requests",
                            json={"categories": categories, "message": message}, headers=self.headers)

    return CM
