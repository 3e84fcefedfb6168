"""W3C Trace Context: the trace id ties a dossier request to its audit record and to the
agencies' own logs (Logboek Dataverwerkingen asks for trace_id/span_id per processing).

An incoming ``traceparent`` is parsed to the grammar of W3C Trace Context Level 1 §3.2 and
continued only when it is valid; anything else starts a fresh trace. The header is never stored
or forwarded as given: what goes on is always ``00-<trace-id>-<our span id>-01`` built here.
Ids someone else chose are also refused when nine of their digits in a row pass the elfproef,
since a trace id lives on in the append-only audit log and in every agency's logs (issue 16:
a crafted ``traceparent`` put a BSN there). By chance that refuses about 3 % of random trace ids;
such a caller's request starts a new trace instead of continuing theirs.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from gateway.identity.bsn import hex_holds_bsn

# §3.2.2: version "-" trace-id "-" parent-id "-" trace-flags, lowercase hex only (HEXDIGLC).
_VERSION_00 = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")
# §3.2.4 / §4.3: a higher version is read by the version-00 layout of its first 55 characters,
# and what follows must start with "-". Version ff is invalid.
_LATER_VERSION = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?", re.DOTALL)
_ALL_ZERO_TRACE = "0" * 32
_ALL_ZERO_PARENT = "0" * 16
MAX_TRACEPARENT_CHARS = 512  # far above the 55 of version 00; longer is not parsed at all


@dataclass(frozen=True)
class ForeignContext:
    """The caller's trace context, kept only when its ``traceparent`` was valid: for Logboek's
    ``foreign_operation`` {trace_id, span_id}."""

    trace_id: str
    parent_id: str  # the caller's span id (W3C "parent-id")
    flags: str


def parse_traceparent(header: str | None) -> ForeignContext | None:
    """The caller's context if the header is a valid W3C ``traceparent``, else None."""
    if not header or len(header) > MAX_TRACEPARENT_CHARS:
        return None
    m = _VERSION_00.fullmatch(header)
    if m is not None:
        trace_id, parent_id, flags = m.groups()
    else:
        later = _LATER_VERSION.fullmatch(header)
        if later is None or later.group(1) in ("00", "ff"):
            return None
        trace_id, parent_id, flags = later.group(2), later.group(3), later.group(4)
    if trace_id == _ALL_ZERO_TRACE or parent_id == _ALL_ZERO_PARENT:
        return None
    if hex_holds_bsn(trace_id) or hex_holds_bsn(parent_id):
        return None
    return ForeignContext(trace_id=trace_id, parent_id=parent_id, flags=flags)


def _fresh_hex(nbytes: int) -> str:
    """A random id that by chance holds no BSN-shaped digits (re-rolled in ~3 % of cases)."""
    while True:
        value = secrets.token_hex(nbytes)
        if not hex_holds_bsn(value):
            return value


def new_trace_id() -> str:
    return _fresh_hex(16)


def new_span_id() -> str:
    return _fresh_hex(8)


@dataclass(frozen=True)
class TraceContext:
    trace_id: str
    span_id: str
    parent_span_id: str | None = None
    foreign: ForeignContext | None = None

    @classmethod
    def from_header(cls, header: str | None) -> TraceContext:
        """Continue the caller's trace if its header is valid; else start a new one."""
        foreign = parse_traceparent(header)
        if foreign is None:
            return cls(trace_id=new_trace_id(), span_id=new_span_id())
        return cls(trace_id=foreign.trace_id, span_id=new_span_id(), parent_span_id=foreign.parent_id,
                   foreign=foreign)

    @property
    def foreign_trace_id(self) -> str | None:
        return self.foreign.trace_id if self.foreign else None

    @property
    def foreign_span_id(self) -> str | None:
        return self.foreign.parent_id if self.foreign else None

    def child(self) -> TraceContext:
        return TraceContext(self.trace_id, new_span_id(), self.span_id, self.foreign)

    def traceparent(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-01"
