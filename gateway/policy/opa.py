"""The policy engine on a real OPA server (production: OPA sidecars serving the bundle).

Client: opa-python-client's ``OpaClient.query_rule`` (ECOSYSTEM.md). It takes host and port
rather than a URL and retries by default; we pass ``retries=0`` so that ``policy_timeout_s`` is
the real bound (a retry would multiply it) and fail closed instead. ``rego_compat`` only matters
for uploading policy source, which we never do: OPA gets the signed bundle.

Fail closed (issue 4, "The OPA server, for real"): connection refused, timeout, an HTTP error, a
missing ``result`` (undefined) or a result that is not an object all raise PolicyEngineError.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from opa_client.opa import OpaClient

from gateway.core.errors import ConfigurationError, PolicyEngineError

OPA_VERSION = "1.22.2"


def _host_port(url: str) -> tuple[str, int, bool]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"LOKET_OPA_URL must be an http(s) URL, got {url!r}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.hostname, port, parts.scheme == "https"


class OpaServerPolicyEngine:
    """PolicyEngine that asks an OPA server for ``data.loket.decision``."""

    def __init__(self, url: str, *, timeout_s: float, revision: str | None = None) -> None:
        host, port, tls = _host_port(url)
        self._client = OpaClient(host=host, port=port, ssl=tls, retries=0, timeout=timeout_s)
        self._url = url
        self._revision = revision

    @property
    def revision(self) -> str:
        """The bundle revision OPA serves (read from OPA's status if not given up front)."""
        if self._revision is None:
            self._revision = self._served_revision()
        return self._revision

    def _served_revision(self) -> str:
        # OPA publishes each loaded bundle's manifest under data.system.bundles.
        try:
            doc = self._client.get_data("system/bundles")
            bundles = doc.get("result") if isinstance(doc, dict) else None
        except Exception as e:
            raise PolicyEngineError(f"cannot read the bundle revision from OPA: {e}") from e
        revisions = {
            b.get("manifest", {}).get("revision")
            for b in (bundles or {}).values()
            if isinstance(b, dict)
        }
        if len(revisions) != 1 or not all(isinstance(r, str) and r for r in revisions):
            raise PolicyEngineError("OPA does not report exactly one bundle revision")
        return str(revisions.pop())

    def evaluate(self, policy_input: Mapping[str, Any]) -> dict[str, Any]:
        try:
            response = self._client.query_rule(
                input_data=dict(policy_input),
                package_path="loket",
                rule_name="decision",
                # Same semantics as the embedded engine's strict_built_in_errors.
                query_params={"strict-builtin-errors": "true"},
            )
        except requests.Timeout as e:
            raise PolicyEngineError(f"OPA did not answer within the timeout: {e}") from e
        except (requests.RequestException, ValueError) as e:
            raise PolicyEngineError(f"OPA request failed: {e}") from e
        if not isinstance(response, dict) or "result" not in response:
            # fail-closed: OPA's undefined is an engine error, never an allow
            raise PolicyEngineError("OPA answered undefined for data.loket.decision")
        result = response["result"]
        if not isinstance(result, dict):
            raise PolicyEngineError("OPA decision is not an object")
        return result

    def close(self) -> None:
        self._client.close_connection()


# --- Running OPA locally (tests, benchmarks, `loket demo --opa`) ------------------------------


def find_opa_binary(explicit: str | None = None) -> str | None:
    """LOKET_OPA_BIN, else `opa` on PATH, else the `go install` location."""
    import os

    for candidate in (
        explicit,
        os.environ.get("LOKET_OPA_BIN"),
        shutil.which("opa"),
        str(Path.home() / "go" / "bin" / "opa"),
        "/root/go/bin/opa",
    ):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class OpaServer:
    """An `opa run --server --bundle <tar.gz>` child process on localhost."""

    process: subprocess.Popen[bytes]
    url: str

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    def __enter__(self) -> OpaServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_opa_server(
    bundle_path: Path,
    *,
    opa_bin: str | None = None,
    port: int | None = None,
    verification_key: Path | None = None,
    verification_key_id: str = "loket-policy",
    signing_alg: str = "ES256",
    extra_args: Sequence[str] = (),
    ready_timeout_s: float = 15.0,
) -> OpaServer:
    """Start OPA serving ``bundle_path`` on 127.0.0.1 and wait until it is healthy."""
    binary = find_opa_binary(opa_bin)
    if binary is None:
        raise ConfigurationError("opa binary not found (set LOKET_OPA_BIN or run .ci/opa.sh)")
    port = port or free_port()
    args = [
        binary,
        "run",
        "--server",
        "--addr",
        f"127.0.0.1:{port}",
        "--log-level",
        "error",
        "--bundle",
        str(bundle_path),
    ]
    if verification_key is not None:
        args += [
            "--verification-key",
            str(verification_key),
            "--verification-key-id",
            verification_key_id,
            "--signing-alg",
            signing_alg,
        ]
    args += list(extra_args)
    # A file, not a pipe: nobody drains a pipe while OPA runs, and a full pipe would block it.
    log = tempfile.TemporaryFile()  # noqa: SIM115 — lives as long as the OPA process
    process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    server = OpaServer(process=process, url=f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + ready_timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            err = log.read().decode("utf-8", "replace")[-2000:]
            raise PolicyEngineError(f"opa exited with {process.returncode}: {err.strip()}")
        try:
            r = requests.get(f"{server.url}/health?bundles", timeout=0.5)
            if r.status_code == 200:
                return server
        except requests.RequestException:
            pass
        time.sleep(0.05)
    server.stop()
    raise PolicyEngineError("opa did not become healthy in time")
