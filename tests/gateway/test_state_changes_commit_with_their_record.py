"""Every state change commits in the same transaction as its audit record (issue 15).

Each mutating route, API and pages, is driven with the audit write failing — a trigger that
refuses every new leaf, a database file that may not grow (SQLITE_FULL), and a real full disk (the
data dir on a small tmpfs filled to the last byte; root only, in CI's marked step) — and must then
answer 503 (the pages: an error, never the success message), change no row, write no record,
and afterwards disclose nothing the failed change would have allowed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, text

from audit.log import AuditWriteError
from audit.record import AuditEventKind, AuditRecord
from gateway.app import create_app
from gateway.core.context import Loket
from gateway.identity.auth import DEMO_TEAM
from tests import cases
from tests.conftest import bearer
from tests.web.conftest import CONSENT_ITEM, csrf_of, eva_bsn, login_citizen, login_fg

PURPOSE = "student_in_crisis"
JUSTIFICATION = "Dreigende uitzetting morgen, de burger is in het ziekenhuis en niet bereikbaar."
TABLES = ("cases", "consents", "consent_requests", "break_glass_events")


@dataclass
class World:
    loket: Loket
    api: TestClient  # bearer tokens
    page: TestClient  # a browser: cookies, CSRF
    cm: dict[str, str]
    citizen: dict[str, str]
    fg: dict[str, str]
    case_id: str
    eva: str

    def consent_request(self, categories: list[str]) -> str:
        r = self.api.post(f"/v1/cases/{self.case_id}/consent-requests",
                          json={"categories": categories, "message": "Mag ik dit zien?"}, headers=self.cm)
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    def consent(self) -> str:
        r = self.api.post("/v1/me/consents", headers=self.citizen, json={
            "purpose": PURPOSE, "agency": CONSENT_ITEM.split(".")[0], "category": CONSENT_ITEM.split(".")[1],
            "team": DEMO_TEAM, "valid_until": in_30_days()})
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    def break_glass_event(self) -> str:
        case = open_case(self, "crisis_noodtoegang")
        r = self.api.post(f"/v1/cases/{case}/dossier/break-glass", json={"justification": JUSTIFICATION},
                          headers=self.cm)
        assert r.status_code == 200, r.text
        (item,) = self.api.get("/v1/fg/break-glass", headers=self.fg).json()["items"]
        return str(item["id"])

    def form(self, page_url: str, action: str, data: dict[str, str]) -> Any:
        token = csrf_of(self.page.get(page_url).text)
        return self.page.post(action, data={**data, "csrf_token": token}, follow_redirects=False)


def in_30_days() -> str:
    return (datetime.now(UTC) + timedelta(days=30)).isoformat()


def open_case(w: World, purpose: str = PURPOSE) -> str:
    return cases.open_case(w.api, w.cm["Authorization"].split()[1], w.eva, purpose)


@pytest.fixture
def loket(make_loket: Callable[..., Loket], request: pytest.FixtureRequest, tmp_path: Path) -> Loket:
    """The gateway; for the full-disk case its data dir is on a small filesystem of its own."""
    callspec = getattr(request.node, "callspec", None)
    if callspec is None or callspec.params.get("failure") is not filesystem_full:
        return make_loket()
    mount = tmp_path / "small-disk"
    mount.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m,mode=0700", "tmpfs", str(mount)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(f"cannot mount a small tmpfs (CI runs as root): {r.stderr.strip()}")
        pytest.skip(f"needs root to mount a small filesystem: {r.stderr.strip()}")
    # lazy: the gateway's files are still open when this runs (make_loket closes it afterwards)
    request.addfinalizer(lambda: subprocess.run(["umount", "-l", str(mount)], check=False))
    return make_loket(data_dir=mount / "loket")


@pytest.fixture
def world(loket: Loket, sandbox: Any, token: Callable[..., str]) -> Iterator[World]:
    app = create_app(loket=loket)
    eva = eva_bsn(sandbox)
    with TestClient(app) as api, TestClient(app) as page:
        w = World(loket=loket, api=api, page=page, cm=bearer(token(sub="cm-001")),
                  citizen=bearer(token(role="citizen", sub="burger-eva", bsn=eva)),
                  fg=bearer(token(role="privacy_officer", sub="fg-001")), case_id="", eva=eva)
        w.case_id = open_case(w)
        yield w


# Each mutation: a setup run while the log still works (returns its argument), and the act.
Act = Callable[[World, Any], Any]
MUTATIONS: dict[str, tuple[Callable[[World], Any], Act]] = {
    "api: open a case": (lambda w: None, lambda w, _: w.api.post(
        "/v1/cases", json=cases.toewijzing(w.eva, PURPOSE), headers=cases.coordinator_headers(w.api))),
    "api: grant a consent": (lambda w: None, lambda w, _: w.api.post("/v1/me/consents", headers=w.citizen, json={
        "purpose": PURPOSE, "agency": "duo", "category": "studieschuld", "team": DEMO_TEAM,
        "valid_until": in_30_days()})),
    "api: revoke a consent": (World.consent, lambda w, cid: w.api.delete(f"/v1/me/consents/{cid}",
                                                                          headers=w.citizen)),
    "api: ask for consent": (lambda w: None, lambda w, _: w.api.post(
        f"/v1/cases/{w.case_id}/consent-requests", json={"categories": [CONSENT_ITEM], "message": "Mag het?"},
        headers=w.cm)),
    "api: answer a consent request": (lambda w: w.consent_request([CONSENT_ITEM]), lambda w, rid: w.api.post(
        f"/v1/me/consent-requests/{rid}/answer", json={"answers": {CONSENT_ITEM: "approve"}}, headers=w.citizen)),
    "api: review a break-glass access": (World.break_glass_event, lambda w, eid: w.api.post(
        f"/v1/fg/break-glass/{eid}/reviews", json={"verdict": "justified", "note": "Terecht: spoed."},
        headers=w.fg)),
    "page: grant a consent": (lambda w: login_citizen(w.page, w.eva), lambda w, _: w.form(
        "/burger/toestemmingen", "/burger/toestemmingen", {"purpose": PURPOSE, "item": CONSENT_ITEM, "days": "30"})),
    "page: revoke a consent": (lambda w: (w.consent(), login_citizen(w.page, w.eva))[0], lambda w, cid: w.form(
        "/burger/toestemmingen", f"/burger/toestemmingen/{cid}/intrekken", {})),
    "page: answer a consent request": (
        lambda w: (w.consent_request([CONSENT_ITEM]), login_citizen(w.page, w.eva))[0],
        lambda w, rid: w.form(f"/burger/verzoeken/{rid}", f"/burger/verzoeken/{rid}",
                              {f"antwoord:{CONSENT_ITEM}": "approve"})),
    "page: review a break-glass access": (
        lambda w: (w.break_glass_event(), login_fg(w.page))[0],
        lambda w, eid: w.form(f"/fg/noodtoegang/{eid}", f"/fg/noodtoegang/{eid}",
                              {"verdict": "justified", "note": "Terecht: er was spoed."})),
}


def snapshot(loket: Loket) -> dict[str, list[tuple[Any, ...]]]:
    with loket.db.connect() as conn:
        rows = {t: sorted(tuple(r) for r in conn.execute(text(f"SELECT * FROM {t}"))) for t in TABLES}  # noqa: S608
        rows["audit_records"] = [tuple(r) for r in conn.execute(text("SELECT idx, record_id FROM audit_records"))]
    return rows


def refuse_leaves(loket: Loket) -> Callable[[], None]:
    with loket.db.begin() as conn:
        conn.execute(text("CREATE TRIGGER refuse_leaf BEFORE INSERT ON audit_records "
                          "BEGIN SELECT RAISE(ABORT, 'simulated write failure'); END"))

    def undo() -> None:
        with loket.db.begin() as conn:
            conn.execute(text("DROP TRIGGER refuse_leaf"))

    return undo


def disk_full(loket: Loket) -> Callable[[], None]:
    """SQLITE_FULL: the file may not grow by a single page, as on a full small filesystem."""

    def _full(dbapi_conn: Any, _record: Any) -> None:
        pages = dbapi_conn.execute("PRAGMA page_count").fetchone()[0]
        dbapi_conn.execute(f"PRAGMA max_page_count={pages}")

    event.listen(loket.db, "connect", _full)
    loket.db.dispose()
    # Use up the last free pages, so the very next write finds the disk full.
    for n in range(2000):
        try:
            loket.audit.append(AuditRecord(kind=AuditEventKind.ACCESS_DENIED, actor_sub=f"filler-{n}",
                                           actor_role="admin", outcome="filler", status_code=2))
        except AuditWriteError:
            break
    else:
        raise AssertionError("the database never filled up")

    def undo() -> None:
        event.remove(loket.db, "connect", _full)
        loket.db.dispose()

    return undo


def filesystem_full(loket: Loket) -> Callable[[], None]:
    """ENOSPC: the data dir's filesystem (a 16 MB tmpfs, see ``loket``) has no byte left.

    The write-ahead log is first truncated to nothing, so the next transaction must grow it."""
    with loket.db.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    filler = loket.settings.data_dir / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (1 << 16, 1 << 10, 1):  # until not one more byte fits
            while True:
                try:
                    os.write(fd, b"\0" * size)
                except OSError:
                    break
    finally:
        os.close(fd)
    assert shutil.disk_usage(loket.settings.data_dir).free < 4096

    def undo() -> None:
        filler.unlink()

    return undo


@pytest.mark.parametrize("failure", [refuse_leaves, disk_full,
                                     pytest.param(filesystem_full, marks=pytest.mark.slow)],
                         ids=["audit-insert-refused", "disk-full", "filesystem-full"])
@pytest.mark.parametrize("route", list(MUTATIONS))
def test_a_state_change_whose_audit_record_fails_changes_nothing(world: World, route: str,
                                                                failure: Callable[[Loket], Callable[[], None]]) -> None:
    setup, act = MUTATIONS[route]
    arg = setup(world)
    undo = failure(world.loket)
    try:
        before = snapshot(world.loket)
        r = act(world, arg)
        assert_outcome_is_an_error(world, route, r)
        after = snapshot(world.loket)
    finally:
        undo()
    assert after == before, f"{route}: a row changed although its audit record was never written"
    world.loket.audit.verify()
    # Nothing disclosed afterwards that the failed change would have allowed.
    if "consent" in route and "revoke" not in route:
        d = world.api.get(f"/v1/cases/{world.case_id}/dossier", headers=world.cm).json()
        assert not [f for f in d["fields"] if f"{f['agency']}.{f['category']}" == CONSENT_ITEM]


def _flashed_error(world: World, r: Any) -> bool:
    page = world.page.get(r.headers["location"]).text
    return 'role="alert"' in page or "utrecht-alert--error" in page or "niet gelukt" in page


def assert_outcome_is_an_error(world: World, route: str, r: Any) -> None:
    if route.startswith("api"):
        assert r.status_code == 503, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["type"].endswith("/audit-unavailable")
        return
    assert r.status_code in (303, 503), r.text
    if r.status_code == 303:
        assert _flashed_error(world, r), f"{route}: the page did not say the action failed"
