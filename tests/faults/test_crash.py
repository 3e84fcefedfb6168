"""kill -9 the gateway under load, restart it: the log verifies (``loket audit verify``) and
every dossier response a client received has its record in the log, at the index and with the
record id the response named (no disclosure without a durable record)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from audit.log import AuditFilter
from audit.record import AuditEventKind
from benchmarks.loadgen import run_load_sync
from tests.load.live import LiveGateway, open_cases
from tests.security.helpers import PURPOSE

CASEMANAGERS = 6


@pytest.mark.slow  # over ~10 s: CI's second pytest step runs it
def test_kill9_under_load_then_restart_every_response_has_its_record(tmp_path: Path, sandbox: Any) -> None:
    gw = LiveGateway(tmp_path / "gw", dict(sandbox.agency_urls))
    gw.start()
    try:
        cases = open_cases(gw, [f"cm-crash-{i}" for i in range(CASEMANAGERS)],
                           [c.bsn for c in sandbox.citizens[:CASEMANAGERS]], PURPOSE)
        reqs = [("GET", f"/v1/cases/{case_id}/dossier", {"Authorization": f"Bearer {tok}"}, None)
                for tok, case_id in cases.values()]
        killed_at: list[float] = []

        def killer() -> None:
            time.sleep(1.5)
            killed_at.append(time.monotonic())
            gw.kill9()

        t = threading.Thread(target=killer)
        t.start()
        result = run_load_sync(gw.base_url, reqs, concurrency=CASEMANAGERS, max_requests=5000,
                               max_seconds=3.0, timeout_s=10.0)
        t.join()
        assert killed_at, "the gateway was killed"
        ok = [s for s in result.samples if s.status == 200]
        assert ok, "some requests completed before the kill"
        assert result.errors > 0, "requests failed after the kill (the kill happened under load)"
        assert all(s.status in (0, 200) for s in result.samples), result.status_counts

        gw.start()  # restart on the same database
        verify = gw.cli("audit", "verify")
        assert verify.returncode == 0, verify.stdout + verify.stderr

        log = gw.audit_log()
        for s in ok:
            ref = s.body["audit"]
            stored = log.get_record(ref["index"])
            assert stored.record.record_id == ref["record_id"]
            assert stored.record.kind is AuditEventKind.DOSSIER_READ
            assert stored.record.decision_id == s.body["decision_id"]
        reads = log.count(AuditFilter(kind=AuditEventKind.DOSSIER_READ))
        # Requests in flight at the kill may have been committed without their response arriving.
        assert len(ok) <= reads <= len(ok) + CASEMANAGERS
        assert log.count() == log.head().tree_size

        # The restarted gateway serves and keeps the log consistent with what it signed before.
        tok, case_id = next(iter(cases.values()))
        r = httpx.get(f"{gw.base_url}/v1/cases/{case_id}/dossier", headers={"Authorization": f"Bearer {tok}"},
                      trust_env=False, timeout=30)
        assert r.status_code == 200
        log.checkpoint(force=True)
        again = gw.cli("audit", "verify")
        assert again.returncode == 0, again.stdout + again.stderr
        log.engine.dispose()
    finally:
        gw.stop()
