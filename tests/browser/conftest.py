"""A live gateway + sandbox agencies on localhost, driven by Debian's Chromium through Playwright.

Never ``playwright install``: the browser is /usr/bin/chromium (``apt-get install chromium``).
Without it these tests skip locally, and fail when ``CI`` is set, so CI cannot pass by skipping.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.core.context import Loket
from tests.cases import subject_of, toewijzing
from tests.servers import serve

CHROMIUM = os.environ.get("LOKET_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
AXE_JS = Path(__file__).with_name("axe.min.js")
PURPOSE = "student_in_crisis"
CONSENT_ITEM = "duo.studieschuld"


def _need_browser() -> None:
    if Path(CHROMIUM).exists():
        return
    message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    _need_browser()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as e:  # the test extra is missing: in CI that is a failure too
        if os.environ.get("CI"):
            pytest.fail(f"playwright is not installed: {e}")
        pytest.skip("playwright is not installed")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def live(loket: Loket) -> Iterator[str]:
    from gateway.app import create_app

    with serve(create_app(loket=loket)) as base:
        yield base


@pytest.fixture
def page_for(chromium: Any, live: str) -> Iterator[Callable[[], Any]]:
    """A new browser context (own cookies) per call, with downloads allowed."""
    contexts: list[Any] = []

    def make() -> Any:
        ctx = chromium.new_context(base_url=live, accept_downloads=True, locale="nl-NL",
                                   viewport={"width": 1200, "height": 900})
        contexts.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(10_000)
        return page

    yield make
    for ctx in contexts:
        ctx.close()


class CaseManagerApi:
    """The casemanager application, talking to the live gateway over HTTP."""

    def __init__(self, base: str, token: str, coordinator_token: str) -> None:
        self.sub = subject_of(token)
        self.http = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=10)
        self.coordinator = {"Authorization": f"Bearer {coordinator_token}"}

    def open(self, bsn: str, purpose: str = PURPOSE) -> str:
        r = self.http.post("/v1/cases", json=toewijzing(bsn, purpose, self.sub), headers=self.coordinator)
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    def dossier(self, case_id: str) -> dict[str, Any]:
        r = self.http.get(f"/v1/cases/{case_id}/dossier")
        assert r.status_code == 200, r.text
        return dict(r.json())

    def ask(self, case_id: str, categories: list[str], message: str) -> str:
        r = self.http.post(f"/v1/cases/{case_id}/consent-requests",
                           json={"categories": categories, "message": message})
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    def break_glass(self, case_id: str, justification: str) -> dict[str, Any]:
        r = self.http.post(f"/v1/cases/{case_id}/dossier/break-glass", json={"justification": justification})
        assert r.status_code == 200, r.text
        return dict(r.json())


@pytest.fixture
def cm(live: str, token: Callable[..., str]) -> Iterator[Callable[..., CaseManagerApi]]:
    made: list[CaseManagerApi] = []

    def make(sub: str = "cm-001") -> CaseManagerApi:
        api = CaseManagerApi(live, token(sub=sub), token(role="coordinator", sub="co-001"))
        made.append(api)
        return api

    yield make
    for api in made:
        api.http.close()


def eva(sandbox: Any) -> tuple[str, str]:
    from gateway.demo import _demo_citizen

    return _demo_citizen(sandbox.citizens)


def keys(items: list[dict[str, Any]], key: str = "category") -> set[str]:
    return {f"{i['agency']}.{i[key]}" for i in items}


def login_citizen(page: Any, name: str) -> None:
    page.goto("/burger/inloggen")
    page.get_by_role("button", name=f"Inloggen als {name}").click()
    page.wait_for_url("**/burger")


def login_fg(page: Any) -> None:
    page.goto("/fg/inloggen")
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url("**/fg/zoeken")
