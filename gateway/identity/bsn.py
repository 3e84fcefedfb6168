"""The Burgerservicenummer: validation (elfproef) and protection at rest.

A BSN is only ever held in memory. At rest it exists as a keyed pseudonym (for lookups and
the audit log, see audit/pseudonym.py) and, where adapters need it to ask an agency, as
AES-256-GCM ciphertext bound to that pseudonym. It never goes into a URL, a log line or an
exception message.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from gateway.core.errors import BadInput, IntegrityError

_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)


def is_valid_bsn(value: str) -> bool:
    """Nine digits, not all zero, passing the BSN elfproef (weights 9..2 and -1, mod 11)."""
    if not isinstance(value, str) or len(value) != 9 or not value.isascii() or not value.isdigit():
        return False
    if value == "000000000":
        return False
    return sum(w * int(d) for w, d in zip(_WEIGHTS, value, strict=True)) % 11 == 0


_NINE_DIGITS = re.compile(r"(?<![0-9])[0-9]{9}(?![0-9])")


def contains_bsn(text: str) -> bool:
    """A run of nine digits that passes the elfproef: free text holding one is refused, since
    it would put a BSN in clear into the database and onto pages."""
    return any(is_valid_bsn(m) for m in _NINE_DIGITS.findall(text))


def require_valid_bsn(value: str) -> str:
    if not is_valid_bsn(value):
        # The message deliberately does not echo the value.
        raise BadInput("burgerservicenummer is not a valid BSN (nine digits, elfproef)", code="invalid-bsn")
    return value


@dataclass(frozen=True)
class SealedBsn:
    nonce: bytes
    ciphertext: bytes

    def to_bytes(self) -> bytes:
        return self.nonce + self.ciphertext

    @classmethod
    def from_bytes(cls, blob: bytes) -> SealedBsn:
        if len(blob) < 12 + 16:
            raise IntegrityError("sealed BSN is too short")
        return cls(blob[:12], blob[12:])


class BsnVault:
    """Encrypts BSNs for storage. The pseudonym is the associated data, so a ciphertext cannot
    be moved to another citizen's row without failing authentication."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("BSN encryption key must be 32 bytes (AES-256)")
        self._aead = AESGCM(key)

    def seal(self, bsn: str, pseudonym: str) -> bytes:
        nonce = os.urandom(12)
        return SealedBsn(nonce, self._aead.encrypt(nonce, bsn.encode("ascii"), pseudonym.encode())).to_bytes()

    def open(self, blob: bytes, pseudonym: str) -> str:
        sealed = SealedBsn.from_bytes(blob)
        try:
            return self._aead.decrypt(sealed.nonce, sealed.ciphertext, pseudonym.encode()).decode("ascii")
        except InvalidTag as e:
            raise IntegrityError("sealed BSN does not authenticate") from e

    def __repr__(self) -> str:
        return "BsnVault(<key>)"
