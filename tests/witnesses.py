"""Real witnesses for gateway and browser tests: audit/witness.py's Witness over HTTP on a free
localhost port, a policy file naming them, and a forked history to make one refuse."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.checkpoint import NoteVerifier
from audit.log import AuditLog
from audit.models import metadata
from audit.witness import CosignerKey, Witness, WitnessState, asgi_app, request_body
from gateway.core.context import Loket
from gateway.core.db import create_db_engine
from tests.servers import free_port


def witness_for(loket: Loket, tmp_path: Path, name: str) -> Witness:
    """A witness that knows this gateway's log (its origin and current key)."""
    verifier = loket.audit.verifier
    assert verifier is not None and verifier.current is not None
    safe = name.replace("/", "_")
    return Witness(name, Ed25519PrivateKey.generate(), {loket.audit.origin: verifier.current},
                   WitnessState(tmp_path / f"{safe}.db"))


@contextmanager
def serving(witness: Witness, port: int | None = None) -> Iterator[str]:
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(asgi_app(witness), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(5)


def write_policy(path: Path, witnesses: Sequence[tuple[CosignerKey, str]], quorum: int | str) -> Path:
    lines = [f"witness {k.name} {k.vkey()} {url}" for k, url in witnesses]
    path.write_text("# witnesses of the test gateway\n" + "\n".join(lines) + f"\nquorum {quorum}\n")
    return path


def show_a_fork(loket: Loket, witness: Witness, tmp_path: Path, n: int, make_record: Callable[[int], Any]) -> None:
    """The witness cosigns another history of ``n`` records signed with the gateway's key (what
    it saw before an insider rewrote the log): the gateway's own checkpoints are now refused."""
    engine = create_db_engine(f"sqlite:///{tmp_path / 'witnessed-fork.db'}")
    metadata.create_all(engine)
    log = loket.audit
    key = log._signing_key
    assert key is not None
    fork = AuditLog(engine, key, origin=log.origin, key_name=log.key_name, checkpoint_every_records=10**6)
    fork.append_many([make_record(5000 + i) for i in range(n)])
    note = fork.checkpoint(force=True).note
    engine.dispose()
    assert witness.add_checkpoint(request_body(0, [], note)).status == 200


def log_vkey(loket: Loket) -> NoteVerifier:
    verifier = loket.audit.verifier
    assert verifier is not None and verifier.current is not None
    return verifier.current


def wait_for(condition: Callable[[], Any], what: str, timeout_s: float = 15.0) -> Any:
    """Poll a background effect (the submitter's thread), failing with ``what``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        got = condition()
        if got:
            return got
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")
