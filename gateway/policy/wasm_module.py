"""The compiled policy: ``policy.wasm`` built by the pinned OPA from exactly one bundle revision.

``opa build -t wasm -e loket/decision -b <bundle.tar.gz>`` compiles the Rego of the bundle that
`loket policy bundle` writes (the same artifact the other engines load). The module does not
carry the data: the host parses the bundle's own base document into it at load (gateway/policy/
wasm.py), so data and code both come from the bundle the audit record cites.

A module is bound to the revision it was built from by its metadata file::

    policy.wasm         the module exactly as OPA wrote it
    policy.wasm.json    {"entrypoint", "opa_version", "revision", "wasm_sha256"}

and an engine refuses a module whose revision is not the bundle's (``WasmModule.check_for``: a
stale module fails closed at start-up). Where a module comes from (docs/adr/0006):

1. shipped in the package under ``policies/build/`` (so `pip install -e . && loket demo` needs no
   Go toolchain); CI rebuilds it with the pinned OPA and checks it is byte-identical
   (`loket policy wasm --check`, tests/parity/test_wasm_build.py);
2. filed by revision beside the stored bundle (``data_dir/bundles/<hex>.wasm``), so a decision
   can be replayed with the module that made it;
3. built now with the pinned OPA binary, if one is found (e.g. ``LOKET_POLICY_BUNDLE_PATH``
   names another bundle), and filed as in 2.
Otherwise the wasm engine does not start (ConfigurationError): never a module of another revision.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from importlib.abc import Traversable
from pathlib import Path

from gateway.core.errors import ConfigurationError, IntegrityError, PolicyEngineError
from gateway.policy.bundle import ENTRYPOINT, MANIFEST, REVISION_PREFIX, PolicyBundle, policies_root
from gateway.policy.opa import OPA_VERSION, find_opa_binary

WASM_FILE = "policy.wasm"
META_FILE = "policy.wasm.json"
SHIPPED_DIR = "build"  # under policies/
OPA_BUILD_TIMEOUT_S = 120.0
MAX_WASM_BYTES = 16 * 1024 * 1024

_WASM_MAGIC = b"\x00asm"


@dataclass(frozen=True)
class WasmModule:
    """A compiled policy and the bundle revision it was compiled from (verified on construction)."""

    revision: str
    entrypoint: str
    opa_version: str
    wasm: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not self.wasm.startswith(_WASM_MAGIC) or len(self.wasm) > MAX_WASM_BYTES:
            raise IntegrityError("policy.wasm is not a WebAssembly module of sane size")
        if not self.revision.startswith(REVISION_PREFIX):
            raise IntegrityError(f"policy.wasm metadata names no bundle revision: {self.revision!r}")

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.wasm).hexdigest()

    def meta(self) -> dict[str, str]:
        return {
            "entrypoint": self.entrypoint,
            "opa_version": self.opa_version,
            "revision": self.revision,
            "wasm_sha256": self.sha256,
        }

    def meta_json(self) -> bytes:
        return (json.dumps(self.meta(), indent=2, sort_keys=True) + "\n").encode("utf-8")

    @classmethod
    def from_files(cls, wasm: bytes, meta_json: bytes) -> WasmModule:
        try:
            meta = json.loads(meta_json)
            module = cls(
                revision=str(meta["revision"]),
                entrypoint=str(meta["entrypoint"]),
                opa_version=str(meta["opa_version"]),
                wasm=wasm,
            )
            sha = meta["wasm_sha256"]
        except (ValueError, KeyError, TypeError) as e:
            raise IntegrityError(f"{META_FILE} is missing or malformed: {e}") from e
        if sha != module.sha256:
            raise IntegrityError(f"{WASM_FILE} does not match the digest in {META_FILE}")
        return module

    def check_for(self, bundle: PolicyBundle) -> None:
        """Fail closed unless this module was compiled from ``bundle`` (a stale module)."""
        if self.revision != bundle.revision:
            raise PolicyEngineError(
                f"stale policy.wasm: built from {self.revision}, the bundle is {bundle.revision}"
                " (rebuild with `loket policy wasm`)"
            )


# --- Building with the pinned OPA --------------------------------------------------------------


def pinned_opa_binary(explicit: str | None = None) -> str | None:
    """The opa binary if it is the pinned version (a different compiler gives different code)."""
    binary = find_opa_binary(explicit)
    if binary is None:
        return None
    try:
        out = subprocess.run(
            [binary, "version"], capture_output=True, text=True, timeout=30, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    return binary if re.search(rf"^Version: {re.escape(OPA_VERSION)}$", out, re.MULTILINE) else None


def build_module(bundle: PolicyBundle, *, opa_bin: str | None = None, entrypoint: str = ENTRYPOINT) -> WasmModule:
    """Compile ``bundle`` with the pinned OPA (`opa build -t wasm -e loket/decision -b ...`)."""
    binary = pinned_opa_binary(opa_bin)
    if binary is None:
        raise ConfigurationError(f"opa {OPA_VERSION} not found (set LOKET_OPA_BIN or run .ci/opa.sh)")
    with tempfile.TemporaryDirectory(prefix="loket-wasm-") as tmp:
        # A fixed input name: OPA records it in the output's file paths.
        (Path(tmp) / "bundle.tar.gz").write_bytes(bundle.raw)
        proc = subprocess.run(
            [binary, "build", "-t", "wasm", "-e", entrypoint, "-b", "bundle.tar.gz", "-o", "out.tar.gz"],
            cwd=tmp,
            capture_output=True,
            text=True,
            timeout=OPA_BUILD_TIMEOUT_S,
            check=False,
        )
        if proc.returncode != 0:
            raise PolicyEngineError(f"opa build -t wasm failed: {(proc.stderr or proc.stdout).strip()[:2000]}")
        out = (Path(tmp) / "out.tar.gz").read_bytes()
    files = _members(out)
    try:
        manifest = json.loads(files[MANIFEST])
        modules = {w["entrypoint"]: w["module"].lstrip("/") for w in manifest["wasm"]}
        wasm = files[modules[entrypoint]]
    except (KeyError, ValueError, TypeError) as e:
        raise PolicyEngineError(f"opa build output has no wasm module for {entrypoint}: {e}") from e
    if manifest.get("revision") != bundle.revision:
        raise PolicyEngineError("opa build output carries another revision than its input bundle")
    return WasmModule(revision=bundle.revision, entrypoint=entrypoint, opa_version=OPA_VERSION, wasm=wasm)


def _members(raw: bytes) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(raw), mode="r:gz") as tar:
        for member in tar:
            if member.isfile():
                extracted = tar.extractfile(member)
                if extracted is not None:
                    files[member.name.lstrip("/")] = extracted.read()
    return files


# --- Shipped, stored, resolved -----------------------------------------------------------------


def shipped_dir() -> Traversable:
    return policies_root().joinpath(SHIPPED_DIR)


def read_module_dir(directory: Traversable | Path) -> WasmModule | None:
    """The module in ``directory`` (policy.wasm + policy.wasm.json), or None if there is none."""
    wasm_node, meta_node = directory.joinpath(WASM_FILE), directory.joinpath(META_FILE)
    if not (wasm_node.is_file() and meta_node.is_file()):
        return None
    return WasmModule.from_files(wasm_node.read_bytes(), meta_node.read_bytes())


def shipped_module() -> WasmModule | None:
    return read_module_dir(shipped_dir())


def write_module_dir(directory: Path, module: WasmModule) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in ((WASM_FILE, module.wasm), (META_FILE, module.meta_json())):
        tmp = directory / (name + ".tmp")
        tmp.write_bytes(content)
        tmp.replace(directory / name)


def _stored_paths(store_dir: Path, revision: str) -> tuple[Path, Path]:
    if not re.fullmatch(r"sha256:[0-9a-f]{64}", revision):
        raise ValueError(f"not a Loket bundle revision: {revision!r}")
    hexdigest = revision[len(REVISION_PREFIX) :]
    return store_dir / f"{hexdigest}.wasm", store_dir / f"{hexdigest}.wasm.json"


def store_module(store_dir: Path, module: WasmModule) -> None:
    """File the module beside its bundle (``<hex>.tar.gz``) so replay can use it."""
    wasm_path, meta_path = _stored_paths(store_dir, module.revision)
    if wasm_path.exists() and meta_path.exists():
        return
    store_dir.mkdir(parents=True, exist_ok=True)
    for path, content in ((wasm_path, module.wasm), (meta_path, module.meta_json())):
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_bytes(content)
        tmp.replace(path)  # atomic, as store_bundle


def stored_module(store_dir: Path, revision: str) -> WasmModule | None:
    wasm_path, meta_path = _stored_paths(store_dir, revision)
    if not (wasm_path.is_file() and meta_path.is_file()):
        return None
    return WasmModule.from_files(wasm_path.read_bytes(), meta_path.read_bytes())


def resolve_module(bundle: PolicyBundle, store_dir: Path, *, opa_bin: str | None = None) -> WasmModule:
    """The module compiled from ``bundle``: shipped, stored, or built now; filed for replay."""
    module: WasmModule | None = None
    try:
        for candidate in (shipped_module(), stored_module(store_dir, bundle.revision)):
            if candidate is not None and candidate.revision == bundle.revision and candidate.entrypoint == ENTRYPOINT:
                module = candidate
                break
    except IntegrityError as e:
        raise ConfigurationError(f"a policy.wasm does not verify: {e.detail or e}") from e
    if module is None:
        if pinned_opa_binary(opa_bin) is None:
            raise ConfigurationError(
                f"no policy.wasm for bundle revision {bundle.revision} and no opa {OPA_VERSION} to"
                " build one: run `loket policy wasm`, or set LOKET_POLICY_ENGINE=embedded"
            )
        module = build_module(bundle, opa_bin=opa_bin)
    try:
        store_module(store_dir, module)
    except OSError as e:
        raise ConfigurationError(f"cannot store policy.wasm for replay: {e}") from e
    return module
