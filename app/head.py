"""``HEAD`` on every ``GET`` route (RFC 9110 §9.3.2): health checks, link checkers and caches
ask it. FastAPI routes answer only the methods they name, so a ``HEAD`` would be a 405.

The request goes through as ``GET``; its status and headers are sent, never its body. A
streamed answer (an event stream) is told the client has gone as soon as its headers are
sent, so a ``HEAD`` of a training or an export stream starts no work that outlives it.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGet:
    """ASGI middleware: ``HEAD`` answered as ``GET`` without the body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        answered = asyncio.Event()

        async def send_headers_only(message: Message) -> None:
            if answered.is_set():
                return
            if message["type"] == "http.response.start":
                await send(message)
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                answered.set()

        async def receive_until_answered() -> Message:
            if answered.is_set():
                return {"type": "http.disconnect"}
            waiting = asyncio.ensure_future(receive())
            done = asyncio.ensure_future(answered.wait())
            finished, _ = await asyncio.wait({waiting, done}, return_when=asyncio.FIRST_COMPLETED)
            if waiting in finished:
                done.cancel()
                return waiting.result()
            waiting.cancel()
            return {"type": "http.disconnect"}

        await self.app({**scope, "method": "GET"}, receive_until_answered, send_headers_only)
