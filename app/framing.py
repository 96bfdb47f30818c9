"""Who may frame the pages: the embed page anyone (slides live anywhere), every other page
only its own origin (clickjacking). A page that says nothing gets the strict headers."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

EMBEDDABLE = {"content-security-policy": "frame-ancestors *"}
NOT_EMBEDDABLE = {
    "content-security-policy": "frame-ancestors 'self'",
    "x-frame-options": "SAMEORIGIN",
}


class FramingPolicy:
    """ASGI middleware: an HTML response without a Content-Security-Policy gets
    :data:`NOT_EMBEDDABLE` (pure ASGI, so streamed responses pass untouched)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                html = any(
                    name.lower() == b"content-type" and value.startswith(b"text/html")
                    for name, value in headers
                )
                if html and b"content-security-policy" not in names:
                    headers += [(k.encode(), v.encode()) for k, v in NOT_EMBEDDABLE.items()]
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_policy)
