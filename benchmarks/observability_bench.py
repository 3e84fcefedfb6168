"""CPU per request of the observability middleware (gateway/core/observability.py), in process.

    python -m benchmarks.observability_bench [--requests N]

Drives a one-route ASGI app directly (no sockets, no server) with and without the middleware,
for each feature mix, and reports the process CPU time per request and the difference. CPU time,
not wall time: on a shared 2-core machine the difference is still meaningful. The dossier
request costs the gateway a few ms of CPU (docs/benchmarks.md); this is the share of it.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import logging
import time
from typing import Any

from fastapi import FastAPI

from gateway.core.logs import configure_logging
from gateway.core.metrics import GatewayMetrics
from gateway.core.observability import Observability


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/v1/cases/{case_id}/dossier")
    async def dossier(case_id: str) -> dict[str, str]:
        return {"case": case_id}

    return app


async def _drive(app: Any, n: int) -> float:
    scope_base = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
                  "scheme": "http", "path": "/v1/cases/abc/dossier", "raw_path": b"/v1/cases/abc/dossier",
                  "query_string": b"", "root_path": "", "server": ("test", 80), "client": ("127.0.0.1", 1)}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        return None

    for _ in range(200):  # warm up
        await app(dict(scope_base, headers=[(b"host", b"test")]), receive, send)
    start = time.process_time()
    for _ in range(n):
        await app(dict(scope_base, headers=[(b"host", b"test")]), receive, send)
    return (time.process_time() - start) / n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=20_000)
    n = ap.parse_args().requests
    sink = io.StringIO()
    rows: list[tuple[str, float]] = []
    for label, metrics, log in (("bare app", False, False), ("metrics", True, False),
                                ("access log (JSON)", False, True), ("metrics + access log", True, True)):
        inner = _app()
        app: Any = inner
        if metrics or log:
            app = Observability(inner, metrics=GatewayMetrics() if metrics else None)
        root = logging.getLogger()
        saved = list(root.handlers), root.level
        if log:
            configure_logging(level="INFO", fmt="json", stream=sink)
        else:
            root.setLevel(logging.WARNING)
        try:
            rows.append((label, asyncio.run(_drive(app, n))))
        finally:
            root.handlers[:] = saved[0]
            root.setLevel(saved[1])
        sink.seek(0)
        sink.truncate()
    base = rows[0][1]
    for label, cpu in rows:
        print(f"{label:22s} {cpu * 1e6:8.1f} µs CPU/request   (+{(cpu - base) * 1e6:6.1f} µs)")


if __name__ == "__main__":
    main()
