"""Security headers on every response, in one place (issue 16).

- ``Cache-Control: no-store`` unless the handler chose otherwise: dossiers, consents, the access
  log and the pages are personal data and must not sit in a browser's or a proxy's cache. Only
  the vendored static files under ``/static/`` are left to the cache (they are public).
- ``Content-Security-Policy``: pages (HTML) may load scripts, styles, fonts and images from this
  origin only, with no inline script and no framing (``frame-ancestors 'none'``); every other
  response (JSON, CSV, text) gets ``default-src 'none'``, so a response opened in a browser can
  run nothing. A handler that sets its own policy keeps it.
- ``Referrer-Policy: same-origin`` (a case id in a URL must not travel to another site),
  ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY`` for browsers without CSP 2.
- ``Strict-Transport-Security`` only when the request came over TLS: the ASGI scheme is https
  (uvicorn with ``--proxy-headers`` sets it from a trusted proxy), or the operator named the
  header their TLS-terminating proxy sets (``LOKET_TLS_PROXY_HEADER``, e.g. x-forwarded-proto)
  and it says https. Sent over plain HTTP, HSTS would be ignored (RFC 6797 §8.1) or, worse,
  pin a development host.

Pure ASGI: it rewrites the ``http.response.start`` message and never buffers a body, so the
streamed exports pass through unchanged.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "font-src 'self'; object-src 'none'; frame-ancestors 'none'; form-action 'self'; "
            "base-uri 'none'")
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
HSTS_MAX_AGE_S = 365 * 24 * 3600
CACHEABLE_PREFIXES = ("/static/",)


def _served_over_tls(scope: Scope, tls_proxy_header: str) -> bool:
    if scope.get("scheme") in ("https", "wss"):
        return True
    if not tls_proxy_header:
        return False
    wanted = tls_proxy_header.lower().encode("latin-1")
    for name, value in scope.get("headers", []):
        if name == wanted:
            # A proxy chain may list several ("https, http"): the first is the client's hop.
            first_hop: bytes = value.split(b",", 1)[0].strip().lower()
            return first_hop == b"https"
    return False


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, tls_proxy_header: str = "") -> None:
        self.app = app
        self.tls_proxy_header = tls_proxy_header.strip()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        tls = _served_over_tls(scope, self.tls_proxy_header)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                html = headers.get("content-type", "").startswith("text/html")
                headers.setdefault("Content-Security-Policy", PAGE_CSP if html else API_CSP)
                # same-origin, not no-referrer: with no-referrer a browser sends "Origin: null" on the
                # pages' own form posts, which their CSRF Origin check (rightly) refuses.
                headers["Referrer-Policy"] = "same-origin"
                headers["X-Content-Type-Options"] = "nosniff"
                headers.setdefault("X-Frame-Options", "DENY")
                if not path.startswith(CACHEABLE_PREFIXES):
                    headers.setdefault("Cache-Control", "no-store")
                if tls:
                    headers["Strict-Transport-Security"] = f"max-age={HSTS_MAX_AGE_S}; includeSubDomains"
            await send(message)

        await self.app(scope, receive, send_with_headers)
