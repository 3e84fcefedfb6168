"""The one artifact: build, sign, verify, load and store the OPA bundle."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization as ser
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from gateway.core.errors import IntegrityError
from gateway.policy.bundle import (
    MANIFEST,
    ROOTS,
    SIGNATURES,
    build_bundle,
    load_bundle,
    load_stored_bundle,
    store_bundle,
)


def _keypair(kind: str) -> tuple[bytes, bytes]:
    key = (
        ec.generate_private_key(ec.SECP256R1())
        if kind == "es256"
        else ed25519.Ed25519PrivateKey.generate()
    )
    priv = key.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.PKCS8, ser.NoEncryption())
    pub = key.public_key().public_bytes(ser.Encoding.PEM, ser.PublicFormat.SubjectPublicKeyInfo)
    return priv, pub


def _files(raw: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(raw), mode="r:gz") as tar:
        return {m.name.lstrip("/"): tar.extractfile(m).read() for m in tar if m.isfile()}  # type: ignore[union-attr]


def _tar(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo("/" + name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return buf.getvalue()


def test_bundle_is_deterministic_and_revision_is_content_derived() -> None:
    a, b = build_bundle(), build_bundle()
    assert a.raw == b.raw and a.revision == b.revision
    assert a.revision.startswith("sha256:") and len(a.revision) == 7 + 64


def test_manifest_roots_modules_and_nested_data() -> None:
    bundle = build_bundle()
    files = _files(bundle.raw)
    manifest = json.loads(files[MANIFEST])
    assert manifest["revision"] == bundle.revision and tuple(manifest["roots"]) == ROOTS
    assert "loket/decision.rego" in files
    assert not any(name.endswith("_test.rego") for name in files)  # tests do not ship
    assert set(bundle.data) == {"catalog", "loket_data"}
    assert set(bundle.data["loket_data"]) == {"purposes", "legal_bases", "reasons", "index", "agency_requests",
                                              "representation"}
    assert "brp" in bundle.data["catalog"]["agencies"]


def test_changing_a_data_file_changes_the_revision(tmp_path: Path) -> None:
    import shutil

    from gateway.policy.bundle import policies_root

    root = tmp_path / "policies"
    shutil.copytree(str(policies_root()), root)
    p = root / "loket_data" / "reasons" / "data.json"
    p.write_text(p.read_text("utf-8").replace("nodig.", "nodig!"), "utf-8")
    assert build_bundle(root=root).revision != build_bundle().revision


@pytest.mark.parametrize("kind", ["es256", "ed25519"])
def test_signed_bundle_verifies(kind: str) -> None:
    priv, pub = _keypair(kind)
    signed = build_bundle(signing_key_pem=priv)
    assert SIGNATURES in _files(signed.raw)
    loaded = load_bundle(signed.raw, verify_key_pem=pub)
    assert loaded.signed and loaded.revision == signed.revision


@pytest.mark.parametrize("kind", ["es256", "ed25519"])
def test_tampered_file_is_rejected(kind: str) -> None:
    priv, pub = _keypair(kind)
    files = _files(build_bundle(signing_key_pem=priv).raw)
    files["loket/decision.rego"] += b"\n# harmless looking change\n"
    with pytest.raises(IntegrityError):
        load_bundle(_tar(files), verify_key_pem=pub)


def test_tampered_signature_is_rejected() -> None:
    priv, pub = _keypair("es256")
    files = _files(build_bundle(signing_key_pem=priv).raw)
    sig = json.loads(files[SIGNATURES])
    token = sig["signatures"][0]
    sig["signatures"][0] = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    files[SIGNATURES] = json.dumps(sig).encode()
    with pytest.raises(IntegrityError):
        load_bundle(_tar(files), verify_key_pem=pub)


def test_signature_from_another_key_is_rejected() -> None:
    priv, _ = _keypair("ed25519")
    _, other_pub = _keypair("ed25519")
    with pytest.raises(IntegrityError):
        load_bundle(build_bundle(signing_key_pem=priv).raw, verify_key_pem=other_pub)


def test_unsigned_bundle_is_rejected_when_a_key_is_required() -> None:
    _, pub = _keypair("es256")
    with pytest.raises(IntegrityError, match="not signed"):
        load_bundle(build_bundle().raw, verify_key_pem=pub)


def test_added_file_not_in_signature_is_rejected() -> None:
    priv, pub = _keypair("es256")
    files = _files(build_bundle(signing_key_pem=priv).raw)
    files["loket/extra.rego"] = b"package loket\nimport rego.v1\nallow_all := true\n"
    with pytest.raises(IntegrityError):
        load_bundle(_tar(files), verify_key_pem=pub)


def test_revision_that_does_not_match_content_is_rejected() -> None:
    files = _files(build_bundle().raw)
    files["loket_data/reasons/data.json"] = files["loket_data/reasons/data.json"].replace(
        b"nodig.", b"nodig!"
    )
    with pytest.raises(IntegrityError, match="revision"):
        load_bundle(_tar(files))


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("other/data.json", b"{}"),  # data outside the roots
        ("evil/p.rego", b"package evil\nx := 1\n"),  # module outside the roots
        ("../escape.rego", b"package loket\n"),
    ],
)
def test_files_outside_the_roots_are_rejected(name: str, content: bytes) -> None:
    files = _files(build_bundle().raw)
    files[name] = content
    with pytest.raises(IntegrityError):
        load_bundle(_tar(files))


def test_garbage_is_rejected() -> None:
    with pytest.raises(IntegrityError):
        load_bundle(b"not a tarball")


def test_store_keeps_bundles_by_revision(tmp_path: Path) -> None:
    bundle = build_bundle()
    path = store_bundle(tmp_path / "bundles", bundle)
    assert path.name == bundle.revision.split(":")[1] + ".tar.gz"
    assert load_stored_bundle(tmp_path / "bundles", bundle.revision).raw == bundle.raw
    with pytest.raises(FileNotFoundError):
        load_stored_bundle(tmp_path / "bundles", "sha256:" + "0" * 64)
    with pytest.raises(ValueError):
        load_stored_bundle(tmp_path / "bundles", "../../etc/passwd")
