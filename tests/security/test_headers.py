"""Security headers (gateway/core/headers.py), /docs without a CDN, 405 Allow, and database
files created 0600 (issue 16)."""

from __future__ import annotations

import re
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.app import create_app
from gateway.core.headers import API_CSP, PAGE_CSP
from gateway.web.rendering import STATIC_DIR
from tests.conftest import bearer
from tests.security.helpers import build_test_loket, eva_bsn, minter, open_case


def assert_common(r: Any) -> None:
    assert r.headers["referrer-policy"] == "same-origin"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert "strict-transport-security" not in r.headers  # plain HTTP here


def test_dossier_and_personal_data_responses_are_no_store(
        api: TestClient, mint: Callable[..., str], sandbox: Any) -> None:
    cm = mint(sub="cm-headers")
    case = open_case(api, cm, eva_bsn(sandbox))
    citizen = mint(role="citizen", sub="burger-headers", bsn=eva_bsn(sandbox))
    fg = mint(role="privacy_officer", sub="fg-headers")
    for r in (api.get(f"/v1/cases/{case}/dossier", headers=bearer(cm)),
              api.get(f"/v1/cases/{case}", headers=bearer(cm)), api.get("/v1/cases", headers=bearer(cm)),
              api.get("/v1/me/consents", headers=bearer(citizen)), api.get("/v1/me/accesses", headers=bearer(citizen)),
              api.post("/v1/fg/search", json={}, headers=bearer(fg)),
              api.get("/v1/cases/nope", headers=bearer(cm)),  # a refusal too
              api.get("/v1/cases")):  # and a 401
        assert r.headers["cache-control"] == "no-store", r.url
        assert r.headers["content-security-policy"] == API_CSP
        assert_common(r)


@pytest.mark.parametrize("url", ["/", "/burger/inloggen", "/fg/inloggen", "/toegankelijkheidsverklaring", "/docs"])
def test_pages_forbid_framing_inline_script_and_third_party_sources(api: TestClient, url: str) -> None:
    r = api.get(url)
    assert r.status_code == 200
    assert_common(r)
    assert r.headers["content-security-policy"] == PAGE_CSP
    assert "'unsafe-inline'" not in PAGE_CSP and "'unsafe-eval'" not in PAGE_CSP
    assert r.headers["cache-control"] == "no-store"
    # no inline script (every <script> has a src), no source from another origin
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", r.text), url
    assert not re.search(r"""(?:src|href)=["']?(?:https?:)?//""", r.text), url


def test_docs_serve_swagger_ui_from_the_package_with_its_licence(api: TestClient) -> None:
    html = api.get("/docs").text
    assets = re.findall(r"""(?:src|href)="(/static/[^"]+)""", html)
    assert len(assets) == 3 and all(api.get(a).status_code == 200 for a in assets)
    vendor = Path(STATIC_DIR) / "vendor" / "swagger-ui-dist"
    assert "Apache License" in (vendor / "LICENSE").read_text() and (vendor / "NOTICE").exists()
    assert '"version": "5.35.0"' in (vendor / "package.json").read_text()
    assert api.get("/redoc").status_code == 404  # would need its CDN


def test_static_files_may_be_cached(api: TestClient) -> None:
    r = api.get("/static/loket.css")
    assert r.status_code == 200 and "cache-control" not in r.headers
    assert_common(r)


def test_hsts_only_over_tls_or_behind_the_configured_proxy_header(
        tmp_path: Path, sandbox: Any) -> None:
    plain = build_test_loket(tmp_path / "plain", sandbox)
    proxied = build_test_loket(tmp_path / "proxied", sandbox, tls_proxy_header="X-Forwarded-Proto")
    try:
        with TestClient(create_app(loket=plain)) as c:
            assert "strict-transport-security" not in c.get("/health").headers
            # a client cannot switch it on by sending the header when no proxy is configured
            assert "strict-transport-security" not in c.get("/health", headers={"x-forwarded-proto": "https"}).headers
        with TestClient(create_app(loket=plain), base_url="https://testserver") as c:
            assert c.get("/health").headers["strict-transport-security"].startswith("max-age=31536000")
        with TestClient(create_app(loket=proxied)) as c:
            assert "strict-transport-security" in c.get("/health", headers={"x-forwarded-proto": "https"}).headers
            assert "strict-transport-security" not in c.get("/health", headers={"x-forwarded-proto": "http"}).headers
    finally:
        plain.close()
        proxied.close()


@pytest.mark.parametrize("method, path, allow", [
    ("DELETE", "/v1/cases", "GET, POST"), ("PUT", "/v1/fg/search", "POST"), ("POST", "/health", "GET"),
    ("PUT", "/burger/inloggen", "GET, POST"),
])
def test_a_405_names_the_allowed_methods(api: TestClient, method: str, path: str, allow: str) -> None:
    r = api.request(method, path)
    assert r.status_code == 405 and r.headers["allow"] == allow
    assert r.headers["content-type"].startswith("application/problem+json")


def test_database_files_are_created_owner_only(tmp_path: Path, sandbox: Any) -> None:
    loket = build_test_loket(tmp_path / "fresh", sandbox)
    try:
        with TestClient(create_app(loket=loket)) as c:
            open_case(c, minter(loket)(sub="cm-files"), eva_bsn(sandbox))  # a write: the WAL exists now
        files = [p for p in (tmp_path / "fresh").iterdir() if p.name.startswith("loket.db")]
        assert {p.name for p in files} >= {"loket.db", "loket.db-wal"}
        for p in files:
            assert stat.S_IMODE(p.stat().st_mode) == 0o600, p.name
    finally:
        loket.close()

