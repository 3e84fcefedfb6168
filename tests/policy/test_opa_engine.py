"""Server mode fails closed: OPA down, slow or undefined means PolicyEngineError (no data)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from gateway.core.errors import PolicyEngineError
from gateway.core.settings import Settings
from gateway.policy import create_policy_engine
from gateway.policy.opa import OpaServerPolicyEngine, free_port
from tests.policy.conftest import make_input


def _server(body: Any, delay_s: float = 0.0) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if delay_s:
                threading.Event().wait(delay_s)
            raw = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def fake_opa(request: pytest.FixtureRequest) -> Iterator[str]:
    yield from _server(*request.param)


def test_opa_down_fails_closed() -> None:
    engine = OpaServerPolicyEngine(f"http://127.0.0.1:{free_port()}", timeout_s=0.5, revision="r")
    with pytest.raises(PolicyEngineError):
        engine.evaluate(make_input())


@pytest.mark.parametrize("fake_opa", [({"result": {"allow": True}}, 1.0)], indirect=True)
def test_slow_opa_fails_closed(fake_opa: str) -> None:
    engine = OpaServerPolicyEngine(fake_opa, timeout_s=0.2, revision="r")
    with pytest.raises(PolicyEngineError, match="timeout"):
        engine.evaluate(make_input())


@pytest.mark.parametrize(
    "fake_opa",
    [({},), ({"result": None},), ({"result": [1]},), ({"result": "allow"},)],
    indirect=True,
)
def test_undefined_or_non_object_answer_fails_closed(fake_opa: str) -> None:
    engine = OpaServerPolicyEngine(fake_opa, timeout_s=1.0, revision="r")
    with pytest.raises(PolicyEngineError):
        engine.evaluate(make_input())


@pytest.mark.parametrize("fake_opa", [({"result": {"allow": False, "grants": []}},)], indirect=True)
def test_object_answer_is_returned_as_is(fake_opa: str) -> None:
    engine = OpaServerPolicyEngine(fake_opa, timeout_s=1.0, revision="r")
    assert engine.evaluate(make_input()) == {"allow": False, "grants": []}


def test_settings_select_the_engine(tmp_path: Any) -> None:
    default = create_policy_engine(Settings(data_dir=tmp_path))
    embedded = create_policy_engine(Settings(data_dir=tmp_path, policy_engine="embedded"))
    remote = create_policy_engine(
        Settings(data_dir=tmp_path, policy_engine="opa", opa_url="http://127.0.0.1:9")
    )
    assert type(default).__name__ == "WasmPolicyEngine"  # ADR 0006: fastest and exact
    assert type(embedded).__name__ == "EmbeddedPolicyEngine"
    assert isinstance(remote, OpaServerPolicyEngine)
    assert default.revision == embedded.revision == remote.revision  # all cite the same bundle
    assert (tmp_path / "bundles" / (embedded.revision.split(":")[1] + ".tar.gz")).exists()
