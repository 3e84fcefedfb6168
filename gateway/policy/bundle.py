"""Build, sign, load and store the OPA bundle that both policy engines run.

One artifact (issue 4, "Embedded engine: known gaps"): the tar.gz written here is what OPA serves
(`opa run --server --bundle`) and what the embedded regopy engine loads. Its layout follows the
OPA bundle format (openpolicyagent.org/docs/management-bundles):

    .manifest                          {"revision", "roots", "rego_version", "metadata"}
    loket/*.rego                       package loket (tests are not shipped)
    loket_data/<name>/data.json        -> data.loket_data.<name>
    loket_data/index/data.json         -> data.loket_data.index, always derived from the data
                                          above by gateway/policy/index.py
    catalog/data.json                  -> data.catalog (copy of policies/catalog/agencies.json)
    .signatures.json                   optional, JWT over the SHA-256 of every other file

The revision is derived from the content, so an audit record that cites it pins the exact rules
and data that decided (PRODUCT.md step 5, "which policy revision decided").
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import tarfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from gateway.core.errors import IntegrityError
from gateway.policy.index import INDEX_PATH, index_file

MANIFEST = ".manifest"
SIGNATURES = ".signatures.json"
ROOTS: tuple[str, ...] = ("catalog", "loket", "loket_data")
REVISION_PREFIX = "sha256:"
ENTRYPOINT = "loket/decision"
DEFAULT_KEY_ID = "loket-policy"

# Security limits on a bundle we read (python-tuf style: named, with units).
MAX_BUNDLE_BYTES = 8 * 1024 * 1024
MAX_BUNDLE_FILES = 512
MAX_UNCOMPRESSED_BYTES = 32 * 1024 * 1024

_PACKAGE_RE = re.compile(r"^package\s+([A-Za-z_][A-Za-z0-9_.]*)", re.MULTILINE)


@dataclass(frozen=True)
class PolicyBundle:
    """A loaded (and, if a key was given, verified) bundle."""

    revision: str
    roots: tuple[str, ...]
    modules: Mapping[str, str]  # bundle path -> Rego source
    data: Mapping[str, Any]  # the base document, nested by directory path
    raw: bytes = field(repr=False)  # the tar.gz exactly as built or read
    signed: bool = False


# --- Collecting the source files -------------------------------------------------------------


def policies_root() -> Traversable:
    """The packaged policies/ directory (works from a checkout and from an installed wheel)."""
    return resources.files("policies")


def _walk(node: Traversable, prefix: str = "") -> Iterator[tuple[str, Traversable]]:
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        path = f"{prefix}{child.name}"
        if child.is_dir():
            if child.name.startswith((".", "_")):
                continue
            yield from _walk(child, path + "/")
        else:
            yield path, child


def source_files(root: Traversable | Path | None = None) -> dict[str, bytes]:
    """Bundle path -> bytes for every file that ships (no tests, no capabilities file)."""
    base: Traversable = root if root is not None else policies_root()
    files: dict[str, bytes] = {}
    for path, node in _walk(base):
        top = path.split("/", 1)[0]
        if path == "catalog/agencies.json":
            # The catalog is read-only and owned elsewhere (docs/contracts.md); it ships
            # under data.catalog so the policy sees categories, fields and special flags.
            files["catalog/data.json"] = node.read_bytes()
        elif (
            top == "loket"
            and path.endswith(".rego")
            and not path.endswith("_test.rego")
            or top == "loket_data"
            and path.endswith("/data.json")
        ):
            files[path] = node.read_bytes()
    # The decision index is derived, never hand-edited: whatever copy is checked in (for
    # `opa test policies/`), the bundle carries the one computed from the data it ships.
    files[INDEX_PATH] = index_file(files)
    return files


def test_modules(root: Traversable | Path | None = None) -> dict[str, str]:
    """The Rego unit-test files (``*_test.rego``) beside the policy, for `loket policy test`."""
    base: Traversable = root if root is not None else policies_root()
    return {
        path: node.read_text("utf-8")
        for path, node in _walk(base)
        if path.startswith("loket/") and path.endswith("_test.rego")
    }


def content_revision(files: Mapping[str, bytes]) -> str:
    """sha256 over (path, sha256(content)) of every shipped file, in path order."""
    h = hashlib.sha256()
    for path in sorted(files):
        if path in (MANIFEST, SIGNATURES):
            continue
        h.update(path.encode("utf-8") + b"\x00")
        h.update(hashlib.sha256(files[path]).digest())
    return REVISION_PREFIX + h.hexdigest()


def manifest_for(revision: str) -> dict[str, Any]:
    return {
        "revision": revision,
        "roots": list(ROOTS),
        "rego_version": 1,
        "metadata": {"name": "loket", "entrypoint": ENTRYPOINT},
    }


# --- OPA signature format ---------------------------------------------------------------------


def _go_json(v: Any) -> bytes:
    """Encode a primitive like Go's encoding/json with SetEscapeHTML(false), as OPA hashes it."""
    if isinstance(v, str) and any(ord(ch) < 0x20 or ch in "\u2028\u2029" for ch in v):
        # Go and Python escape these differently; the policy data never needs them.
        raise ValueError("control characters are not allowed in bundle JSON strings")
    if isinstance(v, float):
        raise ValueError("floats are not allowed in bundle JSON (hash form differs per encoder)")
    return json.dumps(v, ensure_ascii=False).encode("utf-8")


def _hash_walk(v: Any, h: Any) -> None:
    # Mirrors walk() in OPA v1/bundle/hash.go: sorted keys, no whitespace.
    if isinstance(v, dict):
        h.update(b"{")
        for i, key in enumerate(sorted(v)):
            if i:
                h.update(b",")
            h.update(_go_json(key))
            h.update(b":")
            _hash_walk(v[key], h)
        h.update(b"}")
    elif isinstance(v, list):
        h.update(b"[")
        for i, e in enumerate(v):
            if i:
                h.update(b",")
            _hash_walk(e, h)
        h.update(b"]")
    else:
        h.update(_go_json(v))


def file_hash(path: str, content: bytes) -> str:
    """SHA-256 of a bundle file the way OPA computes it for `.signatures.json`."""
    h = hashlib.sha256()
    name = path.rsplit("/", 1)[-1]
    if name in ("data.json", MANIFEST):
        _hash_walk(json.loads(content), h)
    else:
        h.update(content)
    return h.hexdigest()


def _algorithm_for(key: Any) -> str:
    if isinstance(key, (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey)):
        return "EdDSA"
    if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
        if key.curve.name != "secp256r1":
            raise ValueError("only P-256 EC keys are supported (ES256)")
        return "ES256"
    raise ValueError("bundle signing keys must be EC P-256 (ES256) or Ed25519 (EdDSA)")


def sign_files(files: Mapping[str, bytes], private_key_pem: bytes, key_id: str) -> bytes:
    """The `.signatures.json` for ``files`` (OPA "Signature Format")."""
    key = serialization.load_pem_private_key(private_key_pem, password=None)
    alg = _algorithm_for(key)
    claims = {
        "files": [
            {"name": path, "hash": file_hash(path, files[path]), "algorithm": "SHA-256"}
            for path in sorted(files)
            if path != SIGNATURES
        ],
        "keyid": key_id,
    }
    token = jwt.encode(claims, key, algorithm=alg, headers={"kid": key_id})  # type: ignore[arg-type]
    return json.dumps({"signatures": [token]}, indent=2).encode("utf-8")


def verify_files(files: Mapping[str, bytes], public_key_pem: bytes) -> None:
    """Raise IntegrityError unless `.signatures.json` covers exactly ``files`` and verifies."""
    raw = files.get(SIGNATURES)
    if raw is None:
        raise IntegrityError("bundle is not signed but a verification key was given")
    try:
        key = serialization.load_pem_public_key(public_key_pem)
        alg = _algorithm_for(key)
        tokens = json.loads(raw)["signatures"]
        if not isinstance(tokens, list) or len(tokens) != 1:
            raise IntegrityError("bundle must carry exactly one signature")
        claims = jwt.decode(tokens[0], key, algorithms=[alg])  # type: ignore[arg-type]
    except IntegrityError:
        raise
    except (ValueError, KeyError, TypeError, jwt.PyJWTError) as e:
        raise IntegrityError(f"bundle signature does not verify: {e}") from e
    listed = {f["name"]: f for f in claims.get("files", [])}
    present = {p for p in files if p != SIGNATURES}
    if set(listed) != present:
        raise IntegrityError("bundle files differ from the signed file list")
    for path in sorted(present):
        entry = listed[path]
        if entry.get("algorithm", "SHA-256") != "SHA-256":
            raise IntegrityError(f"unsupported hash algorithm for {path}")
        if entry.get("hash") != file_hash(path, files[path]):
            raise IntegrityError(f"bundle file {path} does not match its signed hash")


# --- Writing and reading the tar.gz -----------------------------------------------------------


def _tar_gz(files: Mapping[str, bytes]) -> bytes:
    """Deterministic archive: sorted names, zero mtimes and owners, so equal content = equal bytes."""
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz:
        with tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for path in sorted(files):
                info = tarfile.TarInfo(name="/" + path)
                info.size = len(files[path])
                info.mode = 0o644
                info.mtime = 0
                tar.addfile(info, io.BytesIO(files[path]))
    return buf.getvalue()


def build_bundle(
    *,
    root: Traversable | Path | None = None,
    signing_key_pem: bytes | None = None,
    key_id: str = DEFAULT_KEY_ID,
) -> PolicyBundle:
    """Build the bundle from the packaged policies/ (or ``root``); sign it if a key is given."""
    files = source_files(root)
    revision = content_revision(files)
    files[MANIFEST] = json.dumps(manifest_for(revision), indent=2, sort_keys=True).encode("utf-8")
    if signing_key_pem is not None:
        files[SIGNATURES] = sign_files(files, signing_key_pem, key_id)
    return _parse(files, _tar_gz(files), verify_key_pem=None, signed=signing_key_pem is not None)


def _read_tar(raw: bytes) -> dict[str, bytes]:
    if len(raw) > MAX_BUNDLE_BYTES:
        raise IntegrityError("bundle is larger than MAX_BUNDLE_BYTES")
    files: dict[str, bytes] = {}
    total = 0
    try:
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r:gz") as tar:
            for member in tar:
                if member.isdir():
                    continue
                if not member.isfile():
                    raise IntegrityError(f"bundle member {member.name!r} is not a regular file")
                name = member.name.lstrip("/")
                name = name.removeprefix("./")
                if ".." in name.split("/") or not name:
                    raise IntegrityError(f"bundle member {member.name!r} has an unsafe path")
                total += member.size
                if len(files) >= MAX_BUNDLE_FILES or total > MAX_UNCOMPRESSED_BYTES:
                    raise IntegrityError("bundle exceeds the file count or size limits")
                extracted = tar.extractfile(member)
                if extracted is None:
                    raise IntegrityError(f"bundle member {member.name!r} cannot be read")
                if name in files:
                    raise IntegrityError(f"bundle member {name!r} appears twice")
                files[name] = extracted.read()
    except (tarfile.TarError, OSError, EOFError) as e:
        raise IntegrityError(f"bundle is not a readable tar.gz: {e}") from e
    return files


def _under_roots(path: str, roots: Iterable[str]) -> bool:
    return any(path == r or path.startswith(r + "/") for r in roots)


def _nest(data: dict[str, Any], dir_path: str, value: Any) -> None:
    node = data
    parts = [p for p in dir_path.split("/") if p]
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise IntegrityError(f"data at {dir_path} collides with other data")
    if not parts:
        if not isinstance(value, dict):
            raise IntegrityError("root data.json must be an object")
        for k, v in value.items():
            if k in data:
                raise IntegrityError(f"data key {k} defined twice")
            data[k] = v
        return
    if parts[-1] in node:
        raise IntegrityError(f"data at {dir_path} defined twice")
    node[parts[-1]] = value


def _parse(
    files: Mapping[str, bytes], raw: bytes, *, verify_key_pem: bytes | None, signed: bool
) -> PolicyBundle:
    if verify_key_pem is not None:
        verify_files(files, verify_key_pem)
        signed = True
    try:
        manifest = json.loads(files[MANIFEST])
        revision = manifest["revision"]
        roots = tuple(manifest["roots"])
    except (KeyError, ValueError, TypeError) as e:
        raise IntegrityError(f"bundle manifest is missing or malformed: {e}") from e
    if not isinstance(revision, str) or not all(isinstance(r, str) and r for r in roots):
        raise IntegrityError("bundle manifest revision/roots have the wrong type")
    for a in roots:
        for b in roots:
            if a != b and _under_roots(a, [b]):
                raise IntegrityError(f"bundle roots overlap: {a} and {b}")
    # The revision is what audit records cite: it must really describe this content.
    if revision != content_revision(files):
        raise IntegrityError("bundle revision does not match its content")

    modules: dict[str, str] = {}
    data: dict[str, Any] = {}
    for path in sorted(files):
        if path in (MANIFEST, SIGNATURES):
            continue
        if path.endswith(".rego"):
            source = files[path].decode("utf-8")
            match = _PACKAGE_RE.search(source)
            if match is None or not _under_roots(match.group(1).replace(".", "/"), roots):
                raise IntegrityError(f"module {path} declares a package outside the roots")
            modules[path] = source
        elif path.rsplit("/", 1)[-1] == "data.json":
            dir_path = path.rsplit("/", 1)[0] if "/" in path else ""
            if not dir_path or not _under_roots(dir_path, roots):
                raise IntegrityError(f"data file {path} is outside the bundle roots")
            try:
                value = json.loads(files[path])
            except ValueError as e:
                raise IntegrityError(f"data file {path} is not JSON: {e}") from e
            _nest(data, dir_path, value)
        else:
            raise IntegrityError(f"unexpected file in bundle: {path}")
    if not modules:
        raise IntegrityError("bundle holds no policy modules")
    return PolicyBundle(
        revision=revision, roots=roots, modules=modules, data=data, raw=raw, signed=signed
    )


def load_bundle(raw: bytes, *, verify_key_pem: bytes | None = None) -> PolicyBundle:
    """Read a bundle tar.gz; verify its signature when ``verify_key_pem`` is given."""
    return _parse(_read_tar(raw), raw, verify_key_pem=verify_key_pem, signed=False)


def load_bundle_file(path: Path, *, verify_key_pem: bytes | None = None) -> PolicyBundle:
    return load_bundle(path.read_bytes(), verify_key_pem=verify_key_pem)


# --- Store of bundles by revision (for replay) ------------------------------------------------


def _revision_file(store_dir: Path, revision: str) -> Path:
    if not revision.startswith(REVISION_PREFIX) or not re.fullmatch(
        r"[0-9a-f]{64}", revision[len(REVISION_PREFIX) :]
    ):
        raise ValueError(f"not a Loket bundle revision: {revision!r}")
    return store_dir / f"{revision[len(REVISION_PREFIX) :]}.tar.gz"


def store_dir_for(data_dir: Path) -> Path:
    return data_dir / "bundles"


def store_bundle(store_dir: Path, bundle: PolicyBundle) -> Path:
    """Keep the exact artifact that decides, so any logged decision can be replayed later."""
    target = _revision_file(store_dir, bundle.revision)
    if target.exists():
        return target
    store_dir.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.write_bytes(bundle.raw)
    tmp.replace(target)  # atomic: a concurrent reader never sees half a bundle
    return target


def load_stored_bundle(store_dir: Path, revision: str) -> PolicyBundle:
    target = _revision_file(store_dir, revision)
    if not target.exists():
        raise FileNotFoundError(f"no stored bundle for revision {revision}")
    bundle = load_bundle(target.read_bytes())
    if bundle.revision != revision:
        raise IntegrityError("stored bundle does not hold the revision it is filed under")
    return bundle


class LoadedBundle:
    """Base of the in-process engines: the bundle they loaded, and its revision."""

    _bundle: PolicyBundle

    @property
    def revision(self) -> str:
        return self._bundle.revision

    @property
    def bundle(self) -> PolicyBundle:
        return self._bundle
