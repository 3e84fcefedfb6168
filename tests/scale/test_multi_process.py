"""Scale-out: several gateway processes on one PostgreSQL, and OPA as a sidecar.

Real subprocesses (`loket serve`, with and without ``--workers``), real sandbox agencies,
one shared database and shared keys through the LOKET_* environment. What a user would see:
a case opened through one process is served by another, concurrent dossiers through both
succeed, and the one audit log verifies with every disclosure in it.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from benchmarks.harness import PURPOSE, GatewayConfig, gateway_process, open_cases
from benchmarks.loadgen import LoadResult, run_async, run_load
from gateway.demo import _demo_citizen

REPO = Path(__file__).resolve().parents[2]


def _auth(tok: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tok}"}


def _dossier_load(bases: list[str], case_ids: list[str], tok: str, per_base: int) -> list[LoadResult]:
    async def both() -> list[LoadResult]:
        return list(await asyncio.gather(*(
            run_load(base, [("GET", f"/v1/cases/{c}/dossier", _auth(tok), None) for c in case_ids],
                     concurrency=4, max_requests=per_base, max_seconds=60)
            for base in bases
        )))

    return run_async(both)


def _audit_verify(cfg: GatewayConfig) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from gateway.cli import main; main()", "audit", "verify"],
        cwd=REPO, env=cfg.env(), capture_output=True, text=True, timeout=120, check=False,
    )


@pytest.mark.postgres
def test_processes_share_cases_and_one_verifiable_audit_log(tmp_path: Path, sandbox: Any,
                                                            postgres_url: str) -> None:
    cfg = GatewayConfig(tmp_path / "shared", sandbox.agency_urls, database_url=postgres_url)
    tok = cfg.token(sub="cm-001")
    eva = _demo_citizen(sandbox.citizens)[1]
    others = [c.bsn for c in sandbox.citizens if c.bsn != eva][:3]
    # A migrates the schema first; B (two uvicorn workers) then starts on the migrated database.
    with gateway_process(cfg) as a, gateway_process(cfg, workers=2) as b:
        case_ids = open_cases(a.base_url, cfg.token(sub="co-001", role="coordinator"), [eva, *others])
        with httpx.Client(trust_env=False, timeout=30) as http:
            r = http.get(f"{b.base_url}/v1/cases/{case_ids[0]}", headers=_auth(tok))
            assert r.status_code == 200, r.text
            assert r.json()["purpose"] == PURPOSE
            # Ownership holds across processes too.
            other = cfg.token(sub="cm-002")
            assert http.get(f"{b.base_url}/v1/cases/{case_ids[0]}", headers=_auth(other)).status_code == 404
            first = http.get(f"{b.base_url}/v1/cases/{case_ids[0]}/dossier", headers=_auth(tok))
            assert first.status_code == 200, first.text
            assert first.json()["fields"], "Eva's dossier discloses BRP and DUO data by law"

        results = _dossier_load([a.base_url, b.base_url], case_ids, tok, per_base=40)

    bodies = [first.json()] + [body for res in results for body in res.bodies]
    for res in results:
        assert res.status_counts == {200: 40}, res.status_counts
    record_ids = {body["audit"]["record_id"] for body in bodies}
    indices = [body["audit"]["index"] for body in bodies]
    assert len(record_ids) == len(bodies) == 81
    assert len(set(indices)) == len(indices), "two appends got the same leaf index"

    # One log: it verifies, and every disclosure that left a gateway is in it.
    from gateway.core.context import build_loket

    loket = build_loket(cfg.settings(), run_migrations=False)
    try:
        report = loket.audit.verify()
        disclosing = [body for body in bodies if body["fields"]]
        assert disclosing, "the load must have disclosed something"
        for body in bodies:
            stored = loket.audit.get_record(body["audit"]["index"]).record
            assert stored.record_id == body["audit"]["record_id"]
            assert stored.case_id == body["case_id"]
            disclosed = {(d.agency, d.category, f) for d in stored.disclosed for f in d.fields}
            assert disclosed == {(f["agency"], f["category"], f["field"]) for f in body["fields"]}
        from audit.log import AuditFilter
        from audit.record import AuditEventKind

        reads = loket.audit.count(AuditFilter(kind=AuditEventKind.DOSSIER_READ))
        assert reads == len(disclosing)
        assert report.tree_size == loket.audit.count()
        assert report.tree_size >= len(bodies) + len(case_ids)  # dossiers + case:opened
    finally:
        loket.close()
    verified = _audit_verify(cfg)
    assert verified.returncode == 0, verified.stderr


@pytest.mark.opa
def test_gateway_with_opa_sidecar_gives_the_embedded_decision(tmp_path: Path, sandbox: Any,
                                                              opa_bin: str) -> None:
    from gateway.policy import current_bundle
    from gateway.policy.opa import start_opa_server

    embedded_cfg = GatewayConfig(tmp_path / "gw", sandbox.agency_urls)
    bundle = current_bundle(embedded_cfg.settings())
    bundle_path = tmp_path / "bundle.tar.gz"
    bundle_path.write_bytes(bundle.raw)
    eva = _demo_citizen(sandbox.citizens)[1]
    tok = embedded_cfg.token()
    with start_opa_server(bundle_path, opa_bin=opa_bin) as opa:
        # Same data dir and keys (one SQLite file, WAL, shared by two processes); only the
        # policy engine differs: the sidecar OPA on loopback.
        opa_cfg = GatewayConfig(embedded_cfg.data_dir, sandbox.agency_urls,
                                pseudonym_key=embedded_cfg.pseudonym_key,
                                bsn_encryption_key=embedded_cfg.bsn_encryption_key,
                                session_secret=embedded_cfg.session_secret,
                                extra={"LOKET_POLICY_ENGINE": "opa", "LOKET_OPA_URL": opa.url})
        with gateway_process(embedded_cfg) as emb, gateway_process(opa_cfg) as via_opa:
            (case_id,) = open_cases(emb.base_url, embedded_cfg.token(sub="co-001", role="coordinator"), [eva])
            with httpx.Client(trust_env=False, timeout=30) as http:
                a = http.get(f"{emb.base_url}/v1/cases/{case_id}/dossier", headers=_auth(tok))
                b = http.get(f"{via_opa.base_url}/v1/cases/{case_id}/dossier", headers=_auth(tok))
            assert a.status_code == b.status_code == 200, (a.text, b.text)
            ja, jb = a.json(), b.json()
            assert ja["policy_revision"] == jb["policy_revision"] == bundle.revision
            assert ja["decision_id"] != jb["decision_id"]
            for key in ("refused", "unavailable", "break_glass", "review_required"):
                assert ja[key] == jb[key], key
            strip = [{k: v for k, v in f.items() if k != "retrieved_at"} for f in ja["fields"]]
            assert strip == [{k: v for k, v in f.items() if k != "retrieved_at"} for f in jb["fields"]]
            assert ja["fields"]

            # The sidecar gone means no decision, and no decision means no data (fail closed).
            opa.stop()
            with httpx.Client(trust_env=False, timeout=30) as http:
                gone = http.get(f"{via_opa.base_url}/v1/cases/{case_id}/dossier", headers=_auth(tok))
            assert gone.status_code == 503
            assert "fields" not in gone.json()
