"""The gateway's witnesses (LOKET_WITNESS_POLICY): submitting each checkpoint, recording a
refusal as an alert, and what the FG's and the citizen's pages show.

Submission runs in audit/witnessing.py's background thread, never in a request. A refusal
(the witness holds a tree this log is inconsistent with, or answered without a valid
cosignature) becomes a ``witness:alert`` audit record: it is counted by the metrics like every
append (``loket_witness_alerts``) and shown on the FG's integrity page, and it survives a
restart without a table of its own. Cosignatures are appended to the stored checkpoint note,
so ``/v1/log/checkpoint`` serves the cosigned note.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from audit.log import AuditFilter
from audit.record import STATUS_ERROR, AuditEventKind
from audit.witnessing import WitnessedCheckpoint, WitnessResult, WitnessStatus, WitnessSubmitter, witness_status
from gateway.core.auditing import event_record
from gateway.core.errors import NotFound
from gateway.core.tracing import TraceContext
from gateway.identity.auth import Principal, Role

if TYPE_CHECKING:
    from gateway.core.context import Loket

#: Who records an alert: the gateway itself, not a person.
GATEWAY = Principal(sub="loket-gateway", role=Role.ADMIN, name="Loket")
#: Alerts the FG's page lists (newest first).
ALERTS_SHOWN = 10
_DIGITS = re.compile(r"\d+")


def _grouped(n: int) -> str:
    """A tree size as the pages write it (1.234.567). Also keeps a nine-digit size from looking
    like a BSN to the audit record's guard."""
    return f"{n:,}".replace(",", ".")


def record_alert(loket: Loket, result: WitnessResult) -> None:
    """The ``witness:alert`` record for a refusal (its own commit: there is no other change)."""
    detail = _DIGITS.sub(lambda m: _grouped(int(m.group())), result.detail)[:500]
    loket.audit.append(event_record(
        kind=AuditEventKind.WITNESS_ALERT, principal=GATEWAY, trace=TraceContext.from_header(None),
        started=datetime.now(UTC), status_code=STATUS_ERROR, outcome=result.outcome,
        purposes=loket.purposes,
        extra={"witness": result.witness[:200], "reason": result.outcome,
               "tree_size": _grouped(result.tree_size), "detail": detail},
    ))


def start_witnessing(loket: Loket) -> WitnessSubmitter | None:
    """The background submitter for the configured policy (None without one)."""
    policy = loket.witness_policy
    if policy is None:
        return None
    from audit.witness import HttpPoster

    s = loket.settings
    post = HttpPoster(s.witness_timeout_s)
    submitter = WitnessSubmitter(loket.audit, policy, on_alert=lambda r: record_alert(loket, r), post=post,
                                 retry_s=s.witness_retry_s, max_attempts=s.witness_max_attempts)
    loket.extra["witness_submitter"] = submitter
    return submitter.start()


# --- what the pages show ----------------------------------------------------------------------


@dataclass(frozen=True)
class WitnessAlert:
    at: str
    witness: str
    reason: str  # refused | bad-cosignature
    tree_size: str
    detail: str
    open: bool = True  # the witness has not cosigned this log at that size or beyond since

    @property
    def size(self) -> int:
        digits = self.tree_size.replace(".", "")
        return int(digits) if digits.isdigit() else 0


@dataclass(frozen=True)
class WitnessView:
    configured: bool
    quorum: int = 0
    witnesses: tuple[tuple[str, int], ...] = ()  # (name, largest tree size it cosigned)
    witnessed: WitnessedCheckpoint | None = None
    checkpoint_size: int = 0  # the newest signed checkpoint's size
    alerts: tuple[WitnessAlert, ...] = ()

    @property
    def verified(self) -> bool:
        """The newest checkpoint with the quorum is what the pages may call witnessed."""
        # fail-closed: no policy, or no checkpoint with the quorum, is never "witnessed".
        return self.configured and self.witnessed is not None


def _status(loket: Loket) -> tuple[WitnessStatus, int]:
    """The witness status, cached per stored note of the newest checkpoint (a new checkpoint or
    a new cosignature on it changes that note)."""
    assert loket.witness_policy is not None
    latest = loket.audit.latest_checkpoint()
    key = None if latest is None else latest.note
    cached = loket.extra.get("witness_status")
    if cached is not None and key is not None and cached[0] == key:
        return cached[1], cached[2]
    status = witness_status(loket.audit, loket.witness_policy)
    size = 0 if latest is None else latest.tree_size
    loket.extra["witness_status"] = (key, status, size)
    return status, size


def witness_view(loket: Loket, *, with_alerts: bool = False) -> WitnessView:
    """For the citizen's page (``with_alerts=False``) and the FG's integrity page."""
    if loket.witness_policy is None:
        return WitnessView(configured=False)
    status, size = _status(loket)
    alerts = _alerts(loket, status) if with_alerts else ()
    return WitnessView(configured=True, quorum=status.quorum, witnesses=tuple(status.cosigned.items()),
                       witnessed=status.witnessed, checkpoint_size=size, alerts=alerts)


def _alerts(loket: Loket, status: WitnessStatus) -> tuple[WitnessAlert, ...]:
    found = loket.audit.find(AuditFilter(kind=AuditEventKind.WITNESS_ALERT), limit=ALERTS_SHOWN,
                             newest_first=True)
    out = []
    for stored in found:
        x = stored.record.extra
        a = WitnessAlert(at=stored.record.start_time, witness=x.get("witness", ""), reason=x.get("reason", ""),
                         tree_size=x.get("tree_size", ""), detail=x.get("detail", ""))
        cosigned = status.cosigned.get(a.witness, 0)
        out.append(WitnessAlert(a.at, a.witness, a.reason, a.tree_size, a.detail, open=cosigned < a.size))
    return tuple(out)


def open_witness_alerts(loket: Loket) -> tuple[WitnessAlert, ...]:
    """The alerts still open (for the banner on every FG page); none without a policy."""
    if loket.witness_policy is None:
        return ()
    status, _ = _status(loket)
    return tuple(a for a in _alerts(loket, status) if a.open)


def witnessed_note(loket: Loket) -> str:
    """The newest checkpoint note carrying the policy's quorum (``/v1/log/witnessed-checkpoint``)."""
    if loket.witness_policy is None:
        raise NotFound("this gateway has no witnesses configured")
    status, _ = _status(loket)
    if status.witnessed is None:
        raise NotFound("no checkpoint carries the witness policy's quorum yet")
    return status.witnessed.note


def policy_text(loket: Loket) -> str:
    """The witness policy as the browser's check and ``loket audit verify --policy`` read it."""
    policy = loket.witness_policy
    if policy is None:
        raise NotFound("this gateway has no witnesses configured")
    lines = [f"witness {w.key.name} {w.key.vkey()}" for w in policy.witnesses]
    return "\n".join([*lines, f"quorum {policy.quorum}"]) + "\n"
