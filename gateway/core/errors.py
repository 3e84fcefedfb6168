"""The error vocabulary of Loket: a shallow tree under LoketError, split by what went wrong.

Each error maps to exactly one RFC 9457 problem type (see gateway/core/problems.py) and one CLI
exit code (see gateway/cli.py). Messages never contain a BSN, a token or data content.
"""

from __future__ import annotations

# The root and the kinds the audit log raises live in audit/errors.py (audit/ stands alone);
# these are the same classes, so `except IntegrityError` here catches what audit/ raises.
from audit.errors import AuditWriteError, BadInput, IntegrityError, LoketError, NotFound

__all__ = [
    "AgencyUnavailable",
    "AuditWriteError",
    "BadInput",
    "ConfigurationError",
    "Conflict",
    "Denied",
    "Forbidden",
    "IntegrityError",
    "LoketError",
    "NotAuthenticated",
    "NotFound",
    "PolicyEngineError",
]


class NotAuthenticated(LoketError):
    """No valid credentials (401)."""

    code = "not-authenticated"
    status = 401


class Forbidden(LoketError):
    """Authenticated, but this actor may not do this (403)."""

    code = "forbidden"
    status = 403


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


class AgencyUnavailable(LoketError):
    """An agency did not answer usefully; reported per agency, never as partial data."""

    code = "agency-unavailable"
    status = 502


class ConfigurationError(LoketError):
    code = "configuration-error"
    status = 500
