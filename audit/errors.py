"""The errors of the audit log: the root of Loket's shallow error tree and the four kinds
``audit/`` raises itself.

``audit/`` is the bottom layer: an outside verifier installs it without the gateway, so the
root class lives here and ``gateway/errors.py`` re-exports these classes (the same objects, not
copies) and adds its own kinds under :class:`LoketError`. An ``except IntegrityError`` in the
gateway therefore catches what ``audit/`` raises, and the gateway's RFC 9457 mapping reads
``code`` and ``status`` from these classes as from its own.

Messages never contain a BSN, a token or data content.
"""

from __future__ import annotations


class LoketError(Exception):
    """Base of every domain error. ``code`` is a stable machine-readable slug, ``status`` the
    HTTP status the gateway answers with."""

    code = "loket-error"
    status = 500

    def __init__(self, detail: str = "", *, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code


class BadInput(LoketError):
    """The caller sent something malformed or invalid (400; the gateway's problem catalogue in
    gateway/core/problems.py marks the few that are well formed but cannot apply, 422).
    ``param`` names the request member at fault when its default in the catalogue does not fit."""

    code = "bad-input"
    status = 400

    def __init__(self, detail: str = "", *, code: str | None = None, param: str | None = None) -> None:
        super().__init__(detail, code=code)
        self.param = param


class NotFound(LoketError):
    """The thing does not exist, or the caller may not know that it does (404)."""

    code = "not-found"
    status = 404


class AuditWriteError(LoketError):
    """The audit record could not be written durably: no data may leave (503)."""

    code = "audit-unavailable"
    status = 503


class IntegrityError(LoketError):
    """A log, proof, checkpoint or signature does not verify."""

    code = "integrity-failure"
    status = 500
