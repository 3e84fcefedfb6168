"""/.well-known/loket-audit-keys: the current and the retired checkpoint verifier keys."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from audit.checkpoint import NoteVerifier, TrustedKeys
from audit.cli import _install_key, _write_new_key
from gateway.app import create_app
from gateway.core.context import Loket

from .conftest import record


def _vkey(name: str) -> str:
    return NoteVerifier.for_private_key(name, Ed25519PrivateKey.generate()).vkey()


def test_well_known_keys_lists_current_and_retired_keys_with_their_retirement_size(
    make_loket: Callable[..., Loket], tmp_path: Path
) -> None:
    pseudonym_key = "ab" * 32  # the same gateway restarted: same pseudonyms, same subject map
    first = make_loket(data_dir=tmp_path / "gw", pseudonym_key=pseudonym_key)
    old = first.audit.verifier
    assert old is not None and old.current is not None
    first.audit.append_many([record(i) for i in range(5)])
    new_key = Ed25519PrivateKey.generate()
    first.audit.rotate_key(new_key)
    new_path = tmp_path / "new.pem"
    _install_key(_write_new_key(new_path, new_key), new_path, force=False)
    unrelated = _vkey(first.audit.origin)  # retired long ago: no transition in this log
    loket = make_loket(data_dir=tmp_path / "gw", signing_key_path=new_path, pseudonym_key=pseudonym_key,
                       retired_audit_vkeys=[old.current.vkey(), unrelated])
    new = NoteVerifier.for_private_key(loket.audit.origin, new_key)
    with TestClient(create_app(loket=loket)) as client:
        assert client.get("/.well-known/loket-audit-key").text == new.vkey() + "\n"
        r = client.get("/.well-known/loket-audit-keys")
    assert r.status_code == 200
    body: dict[str, Any] = r.json()
    assert body == {
        "origin": loket.audit.origin,
        "keys": [
            {"vkey": new.vkey(), "key_id": new.key_id.hex(), "status": "current",
             "retired_at_tree_size": None},
            {"vkey": old.current.vkey(), "key_id": old.current.key_id.hex(), "status": "retired",
             "retired_at_tree_size": 5},
            {"vkey": unrelated, "key_id": unrelated.split("+")[1], "status": "retired",
             "retired_at_tree_size": None},
        ],
    }
    # What the endpoint lists is what verifies the log.
    keys = [NoteVerifier.from_vkey(k["vkey"]) for k in body["keys"]]
    assert loket.audit.verify(TrustedKeys(keys[0], tuple(keys[1:]))).tree_size == 5
