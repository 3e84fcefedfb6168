"""N concurrent casemanagers against a live ``loket serve`` (+ the sandbox agencies), bounded
in requests and time, loopback only. Afterwards every disclosure a client saw has exactly one
``dossier:read`` record (same count, same record ids) and the log verifies.

Short in CI (about 10 s). A longer run:

    LOKET_LOAD_SECONDS=60 LOKET_LOAD_CASEMANAGERS=16 python -m pytest tests/load -s
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from audit.log import AuditFilter
from audit.record import AuditEventKind
from benchmarks.loadgen import run_load_sync
from tests.load.live import LiveGateway, open_cases
from tests.security.helpers import PURPOSE

SECONDS = float(os.environ.get("LOKET_LOAD_SECONDS", "8"))
CASEMANAGERS = int(os.environ.get("LOKET_LOAD_CASEMANAGERS", "8"))
MAX_REQUESTS = int(os.environ.get("LOKET_LOAD_MAX_REQUESTS", "20000"))


@pytest.mark.slow  # over ~10 s: CI's second pytest step runs it
def test_concurrent_casemanagers_every_disclosure_has_its_record(tmp_path: Path, sandbox: Any) -> None:
    gw = LiveGateway(tmp_path / "gw", dict(sandbox.agency_urls))
    gw.start()
    try:
        subs = [f"cm-load-{i:02d}" for i in range(CASEMANAGERS)]
        cases = open_cases(gw, subs, [c.bsn for c in sandbox.citizens], PURPOSE)
        reqs = [("GET", f"/v1/cases/{case_id}/dossier", {"Authorization": f"Bearer {tok}"}, None)
                for tok, case_id in cases.values()]
        result = run_load_sync(gw.base_url, reqs, concurrency=CASEMANAGERS, max_requests=MAX_REQUESTS,
                               max_seconds=SECONDS, timeout_s=30.0)
        summary = result.summary()
        print("\nload:", json.dumps(summary))
        assert result.errors == 0 and result.status_counts == {200: result.count}, summary

        disclosed = [s.body for s in result.samples if s.body and s.body.get("fields")]
        assert disclosed, "the purpose grants data by law: responses must carry fields"
        seen_ids = {b["audit"]["record_id"] for b in disclosed}
        assert len(seen_ids) == len(disclosed), "two responses named the same audit record"

        log = gw.audit_log()
        reads = list(log.iter_records(AuditFilter(kind=AuditEventKind.DOSSIER_READ)))
        print(f"load: disclosures seen by clients {len(disclosed)}, dossier:read records {len(reads)}")
        assert len(reads) == len(disclosed)
        assert {r.record.record_id for r in reads} == seen_ids
        for body in disclosed[:: max(1, len(disclosed) // 50)]:  # spot-check index and decision
            stored = log.get_record(body["audit"]["index"]).record
            assert stored.record_id == body["audit"]["record_id"] and stored.decision_id == body["decision_id"]
        assert {r.record.actor_sub for r in reads} == set(subs), "every casemanager was served"
        log.engine.dispose()
        verify = gw.cli("audit", "verify")
        assert verify.returncode == 0, verify.stdout + verify.stderr
        print("load:", verify.stdout.strip() or verify.stderr.strip())
    finally:
        gw.stop()
