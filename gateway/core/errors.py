"""The error vocabulary of Loket: a shallow tree under LoketError, split by what went wrong.

Each error maps to exactly one RFC 9457 problem type (see gateway/core/problems.py) and one CLI
exit code (see gateway/cli.py). Messages never contain a BSN, a token or data content.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple

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


# --- The one table: error -> HTTP status and CLI exit code -------------------------------------
# Read by gateway/core/problems.py (HTTP) and by every CLI (gateway/cli.py, gateway/policy/cli.py;
# audit/cli.py keeps the same codes for the kinds it raises, since audit/ imports no gateway —
# tests/gateway/test_error_table.py checks the two agree). Documented in docs/contracts.md.

EXIT_OK = 0
EXIT_CHECK_FAILED = 1  # a check ran and failed: tampering, a failing policy test, a replay mismatch
EXIT_BAD_INPUT = 2  # the caller's input or usage is wrong (also click's usage errors)
EXIT_CONFIGURATION = 3  # missing or wrong configuration: data dir, database, key, secret
EXIT_UNAVAILABLE = 4  # a dependency failed: policy engine, audit store, agency


class Outcome(NamedTuple):
    status: int  # HTTP status of the RFC 9457 problem
    exit_code: int  # exit code of `loket ...`


# The HTTP status of each kind is its class's ``status`` (audit/errors.py holds the root and the
# kinds the log raises, so an outside verifier needs no gateway); the exit code is this table's.
_EXIT_CODES: Mapping[type[LoketError], int] = {
    LoketError: EXIT_CHECK_FAILED,
    BadInput: EXIT_BAD_INPUT,
    NotAuthenticated: EXIT_BAD_INPUT,
    Forbidden: EXIT_BAD_INPUT,
    NotFound: EXIT_BAD_INPUT,
    Conflict: EXIT_BAD_INPUT,
    Denied: EXIT_BAD_INPUT,
    PolicyEngineError: EXIT_UNAVAILABLE,
    AuditWriteError: EXIT_UNAVAILABLE,
    IntegrityError: EXIT_CHECK_FAILED,
    AgencyUnavailable: EXIT_UNAVAILABLE,
    ConfigurationError: EXIT_CONFIGURATION,
}
OUTCOMES: Mapping[type[LoketError], Outcome] = MappingProxyType(
    {cls: Outcome(cls.status, code) for cls, code in _EXIT_CODES.items()})


def outcome_for(error: LoketError) -> Outcome:
    """The row of the nearest class in ``error``'s ancestry (a subclass inherits its parent's)."""
    for cls in type(error).__mro__:
        row = OUTCOMES.get(cls)
        if row is not None:
            return row
    return OUTCOMES[LoketError]


def http_status_for(error: LoketError) -> int:
    return error.status


def exit_code_for(error: LoketError) -> int:
    return outcome_for(error).exit_code
