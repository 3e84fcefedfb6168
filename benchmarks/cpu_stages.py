"""Where the gateway's CPU per dossier request goes, stage by stage (issue 17).

The app as `loket serve` builds it (same settings, JSON access log to a file) is called in
process as an ASGI app, one request at a time, with the sandbox agencies in their own process.
Each stage is wrapped to add the process CPU time spent inside it; with one request in flight
the process's CPU is this request's (the wasm epoch ticker and the checkpoint timer are the
only other threads). What is left after the stages is FastAPI, the middleware, dependency
solving, response building and thread hops (a bare hop is measured too).

    python -m benchmarks.cpu_stages [--requests 600]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.harness import GatewayConfig, sandbox_process

STAGES_SYNC = ("load_case_input", "filter_answers", "event_record", "agency_call_record", "_adl")
STAGES_ASYNC = ("fetch_all", "_append", "decide")


def _wrap(acc: Counter[str], label: str, fn: Callable[..., Any], is_async: bool) -> Callable[..., Any]:
    clock = time.process_time
    if is_async:
        @functools.wraps(fn)
        async def awrapped(*a: Any, **k: Any) -> Any:
            t = clock()
            try:
                return await fn(*a, **k)
            finally:
                acc[label] += clock() - t
        return awrapped

    @functools.wraps(fn)
    def wrapped(*a: Any, **k: Any) -> Any:
        t = clock()
        try:
            return fn(*a, **k)
        finally:
            acc[label] += clock() - t
    return wrapped


def _counting(hops: list[int], run_sync: Callable[..., Any]) -> Callable[..., Any]:
    async def counted(*a: Any, **k: Any) -> Any:
        hops.append(1)
        return await run_sync(*a, **k)
    return counted


async def _hop_cost(n: int = 2000) -> float:
    import anyio.to_thread

    def noop() -> None:
        return None

    for _ in range(50):
        await anyio.to_thread.run_sync(noop)
    t = time.process_time()
    for _ in range(n):
        await anyio.to_thread.run_sync(noop)
    return (time.process_time() - t) / n * 1000


def run(requests: int = 600) -> dict[str, Any]:
    import uvloop

    with tempfile.TemporaryDirectory(prefix="loket-cpu-") as tmp, sandbox_process() as sb:
        cfg = GatewayConfig(Path(tmp) / "gw", sb.agency_urls)
        saved = dict(os.environ)
        os.environ.update(cfg.env())
        try:
            from gateway.app import create_app
            from gateway.core.logs import configure_logging
            from gateway.core.settings import Settings

            s = Settings()
            log_stream = (Path(tmp) / "access.log").open("w")
            configure_logging(level=s.log_level, fmt=s.log_format, stream=log_stream)
            app = create_app(s)
            result = uvloop.run(_measure(app, cfg, sb, requests))
            log_stream.close()
        finally:
            os.environ.clear()
            os.environ.update(saved)
            import logging

            logging.getLogger().handlers.clear()
    return result


async def _measure(app: Any, cfg: GatewayConfig, sb: Any, requests: int) -> dict[str, Any]:
    import anyio.to_thread

    import gateway.dossier.flow as flow
    from benchmarks.harness import PURPOSE

    async def call(method: str, path: str, token: str, body: bytes = b"") -> tuple[int, bytes]:
        sent: list[dict[str, Any]] = []
        headers = [(b"host", b"loket"), (b"authorization", f"Bearer {token}".encode())]
        if body:
            headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
                 "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
                 "headers": headers, "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 80),
                 "root_path": "", "state": {}}

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await app(scope, receive, send)
        return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])

    coordinator = cfg.token(sub="co-001", role="coordinator")
    ids = []
    async with app.router.lifespan_context(app):
        for bsn in [sb.eva, *sb.citizens[:7]]:
            status, raw = await call("POST", "/v1/cases", coordinator, json.dumps({
                "burgerservicenummer": bsn, "purpose": PURPOSE,
                "ground": {"type": "toewijzing", "casemanager": "cm-001",
                           "reason": "Benchmark: een toegewezen zaak per synthetische burger."}}).encode())
            if status != 201:
                raise RuntimeError(f"opening a case failed: {status} {raw[:200]!r}")
            ids.append(json.loads(raw)["id"])
        token = cfg.token()
        paths = [f"/v1/cases/{i}/dossier" for i in ids]
        for i in range(50):
            status, raw = await call("GET", paths[i % len(paths)], token)
            if status != 200:
                raise RuntimeError(f"dossier failed: {status} {raw[:200]!r}")
        t = time.process_time()
        for i in range(requests):
            await call("GET", paths[i % len(paths)], token)
        plain = (time.process_time() - t) / requests * 1000
        # The same again with every stage wrapped.
        acc: Counter[str] = Counter()
        originals = {n: getattr(flow, n) for n in (*STAGES_SYNC, *STAGES_ASYNC)}
        loket = app.state.loket
        evaluate, append_group = loket.policy.evaluate, loket.audit.append_group
        hops: list[int] = []
        run_sync = anyio.to_thread.run_sync
        try:
            for n in STAGES_SYNC:
                setattr(flow, n, _wrap(acc, n, originals[n], False))
            for n in STAGES_ASYNC:
                setattr(flow, n, _wrap(acc, n, originals[n], True))
            loket.policy.evaluate = _wrap(acc, "policy engine (inside decide)", evaluate, False)
            anyio.to_thread.run_sync = _counting(hops, run_sync)
            loket.audit.append_group = _wrap(acc, "audit append_group (inside _append, in its thread)", append_group, False)
            t = time.process_time()
            for i in range(requests):
                await call("GET", paths[i % len(paths)], token)
            wrapped_total = (time.process_time() - t) / requests * 1000
        finally:
            for n, fn in originals.items():
                setattr(flow, n, fn)
            loket.policy.evaluate, loket.audit.append_group = evaluate, append_group
            anyio.to_thread.run_sync = run_sync
            loket.policy.__dict__.pop("evaluate", None)
        t = time.process_time()
        for _ in range(requests):
            await call("GET", "/health", token)
        health = (time.process_time() - t) / requests * 1000
    hop = await _hop_cost()
    stages = {k: round(v / requests * 1000, 3) for k, v in acc.most_common()}
    top = sum(v for k, v in stages.items() if "(inside " not in k)
    return {
        "requests": requests,
        "cpu_ms_per_request": round(plain, 3),
        "cpu_ms_per_request_wrapped": round(wrapped_total, 3),
        "stages_ms": stages,
        "outside_stages_ms": round(wrapped_total - top, 3),
        "health_request_ms": round(health, 3),
        "thread_hop_ms": round(hop, 3),
        "thread_hops_per_dossier": round(len(hops) / requests, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=600)
    args = parser.parse_args()
    print(json.dumps(run(min(max(args.requests, 50), 20_000)), indent=2))


if __name__ == "__main__":
    main()
