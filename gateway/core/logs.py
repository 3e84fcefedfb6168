"""Log lines for the operator: one JSON object per line, each with the trace id of the request it
belongs to (W3C Trace Context, the same id as in the audit record and the agencies' logs).

Stdlib logging with a JSON formatter, so uvicorn's, SQLAlchemy's and Authlib's records come out
the same way as Loket's own without a second logging library. What a line may hold: time,
level, logger, message, trace id and the access fields the middleware sets (method, route
template, status, duration). Never a BSN, a bearer token or data content: the code logs none,
and :func:`scrub` removes what a third-party message might carry anyway (a BSN-shaped number
that passes the elfproef, anything token-shaped) before the line is written.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import time
from typing import Any

from gateway.identity.bsn import is_valid_bsn

#: The trace id of the request being served (set by the observability middleware; worker threads
#: started with anyio.to_thread inherit it).
current_trace_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("loket_trace_id", default=None)

ACCESS_LOGGER = "loket.access"
ACCESS_FIELDS = ("method", "route", "status", "duration_ms")

_NINE_DIGITS = re.compile(r"(?<![0-9])[0-9]{9}(?![0-9])")
# A JWT (three base64url parts, the first a JSON header: "eyJ") or a bearer credential.
_TOKENISH = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*\.?[A-Za-z0-9_-]*|(?i:bearer)\s+\S+")


def scrub(text: str) -> str:
    """``text`` without BSNs (nine digits passing the elfproef) and without tokens."""
    if "eyJ" in text or "earer" in text:
        text = _TOKENISH.sub("[token]", text)
    if _NINE_DIGITS.search(text):
        text = _NINE_DIGITS.sub(lambda m: "[bsn]" if is_valid_bsn(m.group(0)) else m.group(0), text)
    return text


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": scrub(record.getMessage()),
        }
        trace_id = getattr(record, "trace_id", None) or current_trace_id.get()
        if trace_id:
            line["trace_id"] = trace_id
        for name in ACCESS_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info and record.exc_info[0] is not None:
            # The type only: a traceback's text can hold the values being processed.
            line["error"] = record.exc_info[0].__name__
        return json.dumps(line, ensure_ascii=False, separators=(",", ":"))


def configure_logging(*, level: str = "INFO", fmt: str = "json", stream: Any = None) -> logging.Handler:
    """Route every logger (Loket's, uvicorn's, libraries') through one handler on stderr."""
    handler = logging.StreamHandler(stream or sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        lib = logging.getLogger(name)
        lib.handlers = []
        lib.propagate = True
    # uvicorn's access log prints the raw path and query (ids, search terms): Loket's own
    # access line (route template only) replaces it.
    logging.getLogger("uvicorn.access").disabled = True
    # httpx logs every URL it fetches at INFO (identity provider endpoints with their query).
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    return handler
