"""W3C Trace Context: the trace id ties a dossier request to its audit record and to the
agencies' own logs (Logboek Dataverwerkingen asks for trace_id/span_id per processing)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


@dataclass(frozen=True)
class TraceContext:
    trace_id: str
    span_id: str
    parent_span_id: str | None = None

    @classmethod
    def from_header(cls, header: str | None) -> TraceContext:
        """Continue the caller's trace if its header is well formed; else start a new one."""
        span = secrets.token_hex(8)
        if header:
            m = _TRACEPARENT.match(header.strip().lower())
            if m and m.group(1) != "0" * 32 and m.group(2) != "0" * 16:
                return cls(trace_id=m.group(1), span_id=span, parent_span_id=m.group(2))
        return cls(trace_id=secrets.token_hex(16), span_id=span)

    def child(self) -> TraceContext:
        return TraceContext(self.trace_id, secrets.token_hex(8), self.span_id)

    def traceparent(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-01"
