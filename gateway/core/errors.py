"""The error vocabulary of Loket: a shallow tree under LoketError, split by what went wrong.

Each error maps to exactly one RFC 9457 problem (its ``code``, turned into a response by
gateway/core/problems.py) and, through the one table at the bottom of this module
(:data:`OUTCOMES`), to one HTTP status and one CLI exit code. Messages never contain a BSN, a
token or data content.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple


class LoketError(Exception):
    """Base of every domain error. ``code`` is a stable machine-readable slug."""

    code = "loket-error"

    def __init__(self, detail: str = "", *, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code

    @property
    def status(self) -> int:
        """The HTTP status of this error, from the one table (:data:`OUTCOMES`)."""
        return http_status_for(self)

    @property
    def exit_code(self) -> int:
        """The CLI exit code of this error, from the one table (:data:`OUTCOMES`)."""
        return exit_code_for(self)


class BadInput(LoketError):
    """The caller sent something malformed or invalid (422/400)."""

    code = "bad-input"


class NotAuthenticated(LoketError):
    """No valid credentials (401)."""

    code = "not-authenticated"


class Forbidden(LoketError):
    """Authenticated, but this actor may not do this (403)."""

    code = "forbidden"


class NotFound(LoketError):
    """The thing does not exist, or the caller may not know that it does (404)."""

    code = "not-found"


class Conflict(LoketError):
    code = "conflict"


class Denied(LoketError):
    """The policy refused the whole request (403)."""

    code = "denied"


class PolicyEngineError(LoketError):
    """The policy engine failed, timed out, or gave no usable answer: fail closed (503)."""

    code = "policy-engine-unavailable"


class AuditWriteError(LoketError):
    """The audit record could not be written durably: no data may leave (503)."""

    code = "audit-unavailable"


class IntegrityError(LoketError):
    """A log, proof, checkpoint or signature does not verify."""

    code = "integrity-failure"


class AgencyUnavailable(LoketError):
    """An agency did not answer usefully; reported per agency, never as partial data."""

    code = "agency-unavailable"


class ConfigurationError(LoketError):
    """The configuration is missing or wrong: a key, a secret, the database, an engine URL."""

    code = "configuration-error"


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


OUTCOMES: Mapping[type[LoketError], Outcome] = MappingProxyType({
    LoketError: Outcome(500, EXIT_CHECK_FAILED),
    BadInput: Outcome(422, EXIT_BAD_INPUT),
    NotAuthenticated: Outcome(401, EXIT_BAD_INPUT),
    Forbidden: Outcome(403, EXIT_BAD_INPUT),
    NotFound: Outcome(404, EXIT_BAD_INPUT),
    Conflict: Outcome(409, EXIT_BAD_INPUT),
    Denied: Outcome(403, EXIT_BAD_INPUT),
    PolicyEngineError: Outcome(503, EXIT_UNAVAILABLE),
    AuditWriteError: Outcome(503, EXIT_UNAVAILABLE),
    IntegrityError: Outcome(500, EXIT_CHECK_FAILED),
    AgencyUnavailable: Outcome(502, EXIT_UNAVAILABLE),
    ConfigurationError: Outcome(500, EXIT_CONFIGURATION),
})


def outcome_for(error: LoketError) -> Outcome:
    """The row of the nearest class in ``error``'s ancestry (a subclass inherits its parent's)."""
    for cls in type(error).__mro__:
        row = OUTCOMES.get(cls)
        if row is not None:
            return row
    return OUTCOMES[LoketError]


def http_status_for(error: LoketError) -> int:
    return outcome_for(error).status


def exit_code_for(error: LoketError) -> int:
    return outcome_for(error).exit_code
