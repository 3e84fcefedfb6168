"""Keyed pseudonyms for data subjects.

A citizen is identified in the log and the database only as HMAC-SHA256(key, BSN). The key is
kept apart from the data (settings), so the log alone cannot be reversed by hashing all 10⁹
BSNs. ``Pseudonymiser`` is the seam where Logius BSNk polymorphic pseudonyms could plug in.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Protocol

DATA_SUBJECT_ID_TYPE = "loket:hmac-sha256:bsn"


class Pseudonymiser(Protocol):
    id_type: str

    def pseudonym_for(self, bsn: str) -> str: ...


class HmacPseudonymiser:
    id_type = DATA_SUBJECT_ID_TYPE

    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("pseudonym key must be at least 32 bytes")
        self._key = key

    def pseudonym_for(self, bsn: str) -> str:
        return hmac.new(self._key, bsn.encode("ascii"), hashlib.sha256).hexdigest()

    def __repr__(self) -> str:  # never show the key
        return "HmacPseudonymiser(<key>)"
