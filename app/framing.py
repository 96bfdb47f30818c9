"""The pages' security headers: a Content-Security-Policy that allows no inline script and no
other origin, ``nosniff``, a referrer policy, and who may frame a page: the embed page anyone
(slides live anywhere), every other page only its own origin (clickjacking).

The pages need nothing else: their scripts are modules from ``/static`` and ``/vendor`` (Plotly
and Swagger UI from the installed packages), their data a ``type="application/json"`` block,
which is never executed. Styles may be inline: Plotly writes its own ``<style>`` element and
``style`` attributes. ``blob:`` is for the exports the page hands to the browser as files.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# What every page may load: only this origin's scripts, never an inline one or eval.
CONTENT_POLICY = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "frame-src 'self'",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
)


def content_security_policy(*, embeddable: bool) -> str:
    """The policy of a page; ``embeddable``: any origin may frame it (the embed page)."""
    ancestors = "frame-ancestors *" if embeddable else "frame-ancestors 'self'"
    return "; ".join((*CONTENT_POLICY, ancestors))


EMBEDDABLE = {"content-security-policy": content_security_policy(embeddable=True)}
NOT_EMBEDDABLE = {
    "content-security-policy": content_security_policy(embeddable=False),
    "x-frame-options": "SAMEORIGIN",
}
# On every response, pages or not: no MIME sniffing (an upload served back is only ever a PNG),
# and the full address (which holds the lab's state) never leaves for another origin.
EVERY_RESPONSE = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
}


class FramingPolicy:
    """ASGI middleware: every response gets :data:`EVERY_RESPONSE`; an HTML response without a
    Content-Security-Policy of its own gets :data:`NOT_EMBEDDABLE` (pure ASGI, so streamed
    responses pass untouched)."""

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
                added = {k: v for k, v in EVERY_RESPONSE.items() if k.encode() not in names}
                html = any(
                    name.lower() == b"content-type" and value.startswith(b"text/html")
                    for name, value in headers
                )
                if html and b"content-security-policy" not in names:
                    added |= NOT_EMBEDDABLE
                headers += [(k.encode(), v.encode()) for k, v in added.items()]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_policy)
