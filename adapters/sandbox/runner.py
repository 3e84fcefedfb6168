"""Start all sandbox agencies on localhost, each in its own uvicorn server thread.

    with start_sandbox(seed=1) as sandbox:
        sandbox.agency_urls   # {"brp": "http://127.0.0.1:41231", "uwv": ..., ...}
        sandbox.faults["uwv"].delay_s = 5

One server per adapter kind, each serving the agencies of that kind at
``POST {url}/{agency}/personen``; the BRP answers at ``POST {url}/personen`` as the published
BRP API does (and at ``/brp/personen`` too). The listening sockets are bound before the threads start, so
``port=0`` picks free ports without a race, and the URLs are known at once.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self

import httpx
import uvicorn

from adapters.catalog import load_catalog
from adapters.sandbox.app import SandboxFaults, SandboxObservations, create_agency_app
from adapters.sandbox.brp import Protocollering
from adapters.sandbox.citizens import Citizen, generate_citizens

#: How long to wait for every server to report healthy before giving up.
STARTUP_TIMEOUT_S = 10.0
#: How long a stopping server waits for in-flight requests (a deliberately slow one, say).
SHUTDOWN_GRACE_S = 1


@dataclass
class _Server:
    kind: str
    server: uvicorn.Server
    thread: threading.Thread
    url: str


@dataclass
class SandboxHandle:
    """Running sandbox agencies. Stop with :meth:`stop` or use as a context manager."""

    agency_urls: dict[str, str]  # agency id -> base URL
    kind_urls: dict[str, str]  # adapter kind -> base URL
    citizens: list[Citizen]
    faults: dict[str, SandboxFaults]  # adapter kind -> its faults, mutable at runtime
    observations: dict[str, SandboxObservations]  # adapter kind -> requests it saw
    protocollering: Protocollering | None = None  # the BRP's protocol of deliveries
    _servers: list[_Server] = field(default_factory=list, repr=False)

    def citizen(self, bsn: str) -> Citizen:
        for c in self.citizens:
            if c.bsn == bsn:
                return c
        raise KeyError("no such synthetic citizen")

    def reset_faults(self) -> None:
        for f in self.faults.values():
            f.reset()

    def stop(self) -> None:
        for s in self._servers:
            s.server.should_exit = True
        for s in self._servers:
            s.thread.join(timeout=SHUTDOWN_GRACE_S + 5)
        self._servers.clear()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this. Without it, a server started on a pre-bound socket
    # answers a keep-alive client ~40 ms late (Nagle + delayed ACK on the split head/body
    # writes), which made every agency look 40 ms slow in the benchmarks.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def start_sandbox(
    host: str = "127.0.0.1",
    port: int = 0,
    seed: int = 1,
    *,
    n_citizens: int = 50,
    faults: Mapping[str, SandboxFaults] | None = None,
) -> SandboxHandle:
    """Start one server per adapter kind; ``port=0`` picks free ports, else ``port``,
    ``port+1``, … in catalog order. Returns once every server answers ``GET /health``."""
    catalog = load_catalog()
    kinds = list(dict.fromkeys(a.adapter for a in catalog.agencies.values()))
    citizens = generate_citizens(seed=seed, n=n_citizens)
    handle = SandboxHandle(
        agency_urls={},
        kind_urls={},
        citizens=citizens,
        faults={k: (faults or {}).get(k) or SandboxFaults() for k in kinds},
        observations={k: SandboxObservations() for k in kinds},
    )
    try:
        for i, kind in enumerate(kinds):
            sock = _bind(host, port + i if port else 0)
            bound_port = sock.getsockname()[1]
            app = create_agency_app(
                kind,
                citizens,
                faults=handle.faults[kind],
                observations=handle.observations[kind],
                catalog=catalog,
            )
            if kind == "brp":
                handle.protocollering = app.state.protocollering
            config = uvicorn.Config(
                app,
                log_config=None,  # leave the host process's logging alone
                log_level="warning",
                access_log=False,
                lifespan="off",
                loop="asyncio",
                http="h11",
                timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
            )
            server = uvicorn.Server(config)
            thread = threading.Thread(
                target=server.run, kwargs={"sockets": [sock]}, name=f"sandbox-{kind}", daemon=True
            )
            thread.start()
            url = f"http://{host}:{bound_port}"
            handle._servers.append(_Server(kind, server, thread, url))
            handle.kind_urls[kind] = url
        for agency in catalog.agencies.values():
            handle.agency_urls[agency.id] = handle.kind_urls[agency.adapter]
        _wait_healthy(handle)
    except BaseException:
        handle.stop()
        raise
    return handle


def _wait_healthy(handle: SandboxHandle) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    with httpx.Client(trust_env=False, timeout=1.0) as client:
        for s in handle._servers:
            while True:
                if not s.thread.is_alive():
                    raise RuntimeError(f"sandbox agency {s.kind} did not start")
                if s.server.started:
                    try:
                        if client.get(f"{s.url}/health").status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"sandbox agency {s.kind} not healthy in time")
                time.sleep(0.01)


def main() -> None:  # pragma: no cover - manual use: python -m adapters.sandbox.runner
    import argparse

    parser = argparse.ArgumentParser(description="Run the Loket sandbox agencies.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with start_sandbox(args.host, args.port, args.seed) as sandbox:
        for agency, url in sandbox.agency_urls.items():
            path = "/personen" if agency == "brp" else f"/{agency}/personen"
            print(f"{agency:24} {url}{path}")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":  # pragma: no cover
    main()
