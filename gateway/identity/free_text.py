"""Free text that people type and other people read (messages, reasons, notes)."""

from __future__ import annotations

from gateway.core.errors import BadInput
from gateway.identity.bsn import contains_bsn


def check_free_text(text: str, *, max_chars: int, what: str) -> str:
    """Free text shown to people: bounded, and never a BSN (422 ``bsn-in-free-text``)."""
    if len(text) > max_chars:
        raise BadInput(f"{what} longer than {max_chars} characters", code="text-too-long")
    if contains_bsn(text):
        raise BadInput(f"the {what} must not contain a BSN", code="bsn-in-free-text")
    return text.strip()
