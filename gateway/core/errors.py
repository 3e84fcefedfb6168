"""The error vocabulary of Loket: a shallow tree under LoketError, split by what went wrong.

Each error maps to exactly one RFC 9457 problem type (see gateway/core/problems.py) and one CLI
exit code (see gateway/cli.py). Messages never contain a BSN, a token or data content.
"""

from __future__ import annotations


class LoketError(Exception):
    """Base of every domain error. ``code`` is a stable machine-readable slug."""

    code = "loket-error"
    status = 500

    def __init__(self, detail: str = "", *, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code


class BadInput(LoketError):
    """The caller sent something malformed or invalid (400; the problem catalogue in
    gateway/core/problems.py marks the few that are well formed but cannot apply, 422).
    ``param`` names the request member at fault when its default in the catalogue does not fit."""

    code = "bad-input"
    status = 400

    def __init__(self, detail: str = "", *, code: str | None = None, param: str | None = None) -> None:
        super().__init__(detail, code=code)
        self.param = param


class NotAuthenticated(LoketError):
    """No valid credentials (401)."""

    code = "not-authenticated"
    status = 401


class Forbidden(LoketError):
    """Authenticated, but this actor may not do this (403)."""

    code = "forbidden"
    status = 403


class NotFound(LoketError):
    """The thing does not exist, or the caller may not know that it does (404)."""

    code = "not-found"
    status = 404


class Conflict(LoketError):
    code = "conflict"
    status = 409


class Denied(LoketError):
    """The policy refused the whole request (403)."""

    code = "denied"
    status = 403


class PolicyEngineError(LoketError):
    """The policy engine failed, timed out, or gave no usable answer: fail closed (503)."""

    code = "policy-engine-unavailable"
    status = 503


class AuditWriteError(LoketError):
    """The audit record could not be written durably: no data may leave (503)."""

    code = "audit-unavailable"
    status = 503


class IntegrityError(LoketError):
    """A log, proof, checkpoint or signature does not verify."""

    code = "integrity-failure"
    status = 500


class AgencyUnavailable(LoketError):
    """An agency did not answer usefully; reported per agency, never as partial data."""

    code = "agency-unavailable"
    status = 502


class ConfigurationError(LoketError):
    code = "configuration-error"
    status = 500
