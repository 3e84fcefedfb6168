"""A hard limit on request bodies, enforced while reading (STYLE.md: limits are enforced
while reading untrusted input).

A declared Content-Length over the limit is refused before the body is read. Bodies without
one (``Transfer-Encoding: chunked``) are counted as the bytes arrive: 413 as soon as the limit
is passed, and the application sees a disconnect instead of the rest of the body.
"""

from __future__ import annotations

from typing import Any

from gateway.core.problems import problem

Scope = dict[str, Any]
Message = dict[str, Any]


# fail-closed: a body over the limit is refused while reading (413), chunked or not
class BodyLimit:
    def __init__(self, app: Any, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body_bytes):
            # Refused before a byte of the body is read.
            await problem(413, "request-too-large", f"request body over {self.max_body_bytes} bytes")(
                scope, receive, send)
            return
        received = 0
        rejected = False
        started = False

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if rejected:
                return  # our 413 went out; whatever the app says now is dropped
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        async def guarded_receive() -> Message:
            nonlocal received, rejected
            if rejected:
                return {"type": "http.disconnect"}
            message: Message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    if not started:
                        response = problem(413, "request-too-large",
                                           f"request body over {self.max_body_bytes} bytes")
                        await response(scope, receive, send)
                    rejected = True
                    return {"type": "http.disconnect"}
            return message

        await self.app(scope, guarded_receive, guarded_send)
