"""Loading (and, in demo mode, creating) the keys Loket needs. Keys are never committed."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.core.errors import ConfigurationError


def load_ed25519(path: Path, *, create: bool = False) -> Ed25519PrivateKey:
    """Load a PEM Ed25519 private key; with ``create`` make one (mode 0600) if it is missing."""
    if not path.exists():
        if not create:
            raise ConfigurationError(f"signing key not found: {path}")
        path.parent.mkdir(parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
        return key
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(loaded, Ed25519PrivateKey):
        raise ConfigurationError(f"not an Ed25519 private key: {path}")
    return loaded


def load_or_create_secret_hex(path: Path, nbytes: int = 32) -> str:
    """A random secret kept in a 0600 file under the data dir (demo mode only)."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(nbytes)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(value)
    return value
