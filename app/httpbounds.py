"""Bounds on what a client may send before its request reaches the app: the size and the
number of its header fields, and the time it may take to send them. uvicorn's own HTTP
protocol has none of these (a 1 MB header or 20,000 fields were answered 200; a request that
never finished its headers stayed open for good). ``dropout-lab serve`` runs with
:class:`BoundedHttpProtocol`; behind nginx (compose.yaml) nginx's own limits apply first
(deploy/nginx.conf).
"""

from __future__ import annotations

import asyncio
import os

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_HEADER_BYTES = 32 * 1024  # the request line and every header field together
MAX_HEADER_FIELDS = 100
# From the connection (or a request's first byte) to its last header field.
HEADER_TIMEOUT_S = float(os.environ.get("DROPOUT_LAB_HEADER_TIMEOUT_S", 10))
REASONS = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}
LINGER_S = 2.0


class BoundedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with :data:`MAX_HEADER_BYTES`, :data:`MAX_HEADER_FIELDS`
    and :data:`HEADER_TIMEOUT_S`: past a bound, 431 or 408 and the connection closes."""

    max_header_bytes = MAX_HEADER_BYTES
    max_header_fields = MAX_HEADER_FIELDS
    header_timeout_s = HEADER_TIMEOUT_S

    _header_timer: asyncio.TimerHandle | None = None
    _header_bytes = 0
    _header_fields = 0
    _refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        super().data_received(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._header_bytes = self._header_fields = 0
        if self._header_timer is None:
            self._arm_header_timer()

    def on_url(self, url: bytes) -> None:
        if self._counted(len(url), fields=0):
            super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._counted(len(name) + len(value) + 4, fields=1):
            super().on_header(name, value)

    def on_headers_complete(self) -> None:
        if self._refused:
            return
        self._cancel_header_timer()
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self._refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if not self._refused:
            super().on_message_complete()

    def _counted(self, size: int, fields: int) -> bool:
        """Count a piece of the headers; refuse the request past a bound."""
        if self._refused:
            return False
        self._header_bytes += size
        self._header_fields += fields
        if self._header_bytes > self.max_header_bytes:
            self._refuse(431, f"headers larger than {self.max_header_bytes} bytes")
        elif self._header_fields > self.max_header_fields:
            self._refuse(431, f"more than {self.max_header_fields} header fields")
        return not self._refused

    def _arm_header_timer(self) -> None:
        self._cancel_header_timer()
        self._header_timer = self.loop.call_later(self.header_timeout_s, self._headers_too_slow)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self.cycle is not None and not self.cycle.response_complete:
            return  # a request is being answered: its headers came in time
        self._refuse(408, f"headers not received within {self.header_timeout_s:g} s")

    def _refuse(self, status: int, message: str) -> None:
        self._refused = True
        self._cancel_header_timer()
        if self.transport.is_closing():
            return
        body = message.encode()
        self.transport.write(
            b"HTTP/1.1 %d %s\r\ncontent-type: text/plain; charset=utf-8\r\n"
            b"content-length: %d\r\nconnection: close\r\n\r\n%s"
            % (status, REASONS[status], len(body), body)
        )
        # A lingering close: the answer is followed by our FIN, and what the client still
        # sends is read and dropped for a moment (closing on unread data would reset the
        # connection, and the client could lose the answer).
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(LINGER_S, self.transport.close)
