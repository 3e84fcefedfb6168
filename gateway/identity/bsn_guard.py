"""No BSN in a URL (DOMAIN.md; Haal Centraal uses POST for this reason): a request whose path or
query string holds a BSN in any notation (gateway.identity.bsn.contains_bsn) is refused with 400
before routing, authentication or any handler, so a probed case id, a consent id or a query
parameter can never carry one into the database, the audit log or a log line.

Pure ASGI, so it runs before anything else reads the request. The refusal does not echo the URL.
Known limit: an integer index above 10^8 in a path (an audit record number) passes the elfproef
one time in eleven and is refused as well; a pilot's log is far smaller.
"""

from __future__ import annotations

from urllib.parse import unquote, unquote_plus

from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.core.problems import problem
from gateway.identity.bsn import contains_bsn


def url_holds_bsn(path: str, raw_path: bytes | None, query_string: bytes) -> bool:
    """The decoded path (as the server gave it, and decoded once more from the raw bytes, so a
    double-encoded one is caught too) and the query string with ``+`` as space."""
    candidates = [path, unquote(path)]
    if raw_path:
        candidates.append(unquote(raw_path.decode("latin-1")))
    query = query_string.decode("latin-1")
    candidates += [unquote_plus(query, errors="replace"), unquote_plus(unquote_plus(query))]
    return any(contains_bsn(c) for c in candidates if c)


class BsnFreeUrls:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and url_holds_bsn(scope.get("path", ""), scope.get("raw_path"),
                                                     scope.get("query_string", b"")):
            response = problem(400, "bsn-in-url", "a URL must not contain a BSN; send it in a POST body")
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
