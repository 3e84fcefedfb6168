"""The Burgerservicenummer: validation (elfproef) and protection at rest.

A BSN is only ever held in memory. At rest it exists as a keyed pseudonym (for lookups and
the audit log, see audit/pseudonym.py) and, where adapters need it to ask an agency, as
AES-256-GCM ciphertext bound to that pseudonym. It never goes into a URL, a log line or an
exception message.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterator
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


# --- the one BSN detector -------------------------------------------------------------------
#
# Free text and identifiers come from people and programs that may try to slip a BSN past a
# check written for ASCII: "999 994 001", "999-99-4001", "999.994.001", full-width or
# Arabic-Indic digits, zero-width characters between the digits, a right-to-left override that
# makes reversed digits read as a BSN. Everything is folded first (NFKC, then every Unicode digit
# to its ASCII value by ``unicodedata.decimal``/``digit``, invisible format characters dropped,
# every dash to "-", every space to " "), then searched for nine digits, optionally split into
# groups by at most MAX_SEPARATOR_RUN spaces, dots or dashes, with no digit directly before or
# after, that pass the elfproef.
#
# False positives kept sane: the elfproef rejects ten of eleven random nine-digit numbers; a
# candidate inside an opaque identifier (a UUID, or 32+ hex characters: trace ids, hashes) is
# not a BSN, since random hex holds nine-digit runs by chance; ISO dates and times have at most
# eight digits between separators that count (":" and "T" are not separators); amounts written
# with a decimal comma break at the comma. A nine-digit amount written with thousands dots
# ("123.456.789") is refused one time in eleven: in casework free text that is the price of
# catching "999.994.001". An international phone number ("+31 20 123 4567": nine digits after the
# country code) is a phone number.

MAX_SEPARATOR_RUN = 3  # "999 - 994 - 001" still counts; four separators in a row split it

_DASHES = {"\u2212", "\ufe63", "\uff0d"}  # minus signs that are not category Pd
_BIDI_CONTROLS = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}
_CANDIDATE = re.compile(r"(?<![0-9])(?=([0-9](?:[ .\-]{0,N}[0-9]){8})(?![0-9]))".replace("N", str(MAX_SEPARATOR_RUN)))
_TOKEN_CHARS = re.compile(r"[0-9A-Za-z\-]")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_LONG_HEX = re.compile(r"[0-9a-fA-F]{32,}")
_COUNTRY_CODE_BEFORE = re.compile(r"\+[0-9]{1,3}[ .\-]*(?:\(0\)[ .\-]*)?$")


def _fold_char(ch: str) -> str:
    if "0" <= ch <= "9":
        return ch
    value = unicodedata.decimal(ch, None)
    if value is None:
        value = unicodedata.digit(ch, None)  # e.g. dingbat digits that NFKC leaves alone
    if value is not None:
        return str(value)
    if ch.isspace():
        return " "
    category = unicodedata.category(ch)
    if category == "Pd" or ch in _DASHES:
        return "-"
    if category in ("Cf", "Cc", "Mn", "Me"):
        return ""  # invisible: zero-width spaces and joiners, soft hyphens, NUL, combining marks
    return ch


def fold_digits(text: str) -> str:
    """The text as the detector reads it: NFKC, ASCII digits, one kind of space and dash,
    no invisible characters. Only for searching; never store the folded form."""
    return "".join(_fold_char(ch) for ch in unicodedata.normalize("NFKC", text))


def _in_opaque_identifier(folded: str, start: int, end: int) -> bool:
    """Whether [start, end) lies inside a UUID or a long hex string (by chance, not a BSN)."""
    lo, hi = start, end
    while lo > 0 and _TOKEN_CHARS.match(folded[lo - 1]):
        lo -= 1
    while hi < len(folded) and _TOKEN_CHARS.match(folded[hi]):
        hi += 1
    token = folded[lo:hi]
    if token == folded[start:end] or not any(c.isalpha() for c in token):
        return False
    return any(part and (_UUID.fullmatch(part) or _LONG_HEX.fullmatch(part))
               for part in (token, *token.split("-")))


def _bsn_candidates(folded: str) -> Iterator[str]:
    for m in _CANDIDATE.finditer(folded):
        start, end = m.start(1), m.end(1)
        if _in_opaque_identifier(folded, start, end):
            continue
        if _COUNTRY_CODE_BEFORE.search(folded, max(0, start - 12), start):
            continue
        yield "".join(c for c in m.group(1) if c.isdigit())


def contains_bsn(text: str) -> bool:
    """Whether the text holds a BSN in any of the forms above (see the comment block)."""
    if not text:
        return False
    folded = fold_digits(text)
    if any(is_valid_bsn(c) for c in _bsn_candidates(folded)):
        return True
    # A right-to-left override shows "748399999" as "999993847": read it the way it is shown.
    if any(ch in _BIDI_CONTROLS for ch in text):
        return any(is_valid_bsn(c) for c in _bsn_candidates(fold_digits(text[::-1])))
    return False


def require_no_bsn(text: str, *, what: str) -> str:
    """The free text or identifier as given, or BadInput (422 ``bsn-in-free-text``) that names
    the field and never the value."""
    if contains_bsn(text):
        raise BadInput(f"the {what} must not contain a BSN", code="bsn-in-free-text")
    return text


class BsnInput:
    """Marks a request field that is meant to carry a BSN (``Annotated[str, BSN_INPUT]``): the
    one kind of field the free-text check of gateway.api.schemas.Strict lets through. Such a
    field is validated with the elfproef and pseudonymised, never stored as given."""

    def __repr__(self) -> str:
        return "BSN_INPUT"


BSN_INPUT = BsnInput()


def value_holds_bsn(value: object) -> bool:
    """Whether a parsed request value (strings, and lists/dicts of them) holds a BSN anywhere."""
    if isinstance(value, str):
        return contains_bsn(value)
    if isinstance(value, dict):
        return any(value_holds_bsn(k) or value_holds_bsn(v) for k, v in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(value_holds_bsn(v) for v in value)
    return False


def hex_holds_bsn(value: str) -> bool:
    """Whether any nine consecutive digits of a hex identifier (a trace id or span id someone
    else chose) pass the elfproef. Stricter than :func:`contains_bsn` on purpose: such an id is
    stored in the audit log and sent to agencies, and a chosen one can carry a BSN anywhere."""
    for run in re.findall(r"[0-9]{9,}", value):
        if any(is_valid_bsn(run[i:i + 9]) for i in range(len(run) - 8)):
            return True
    return False


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
