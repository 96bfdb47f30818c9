"""Strong ETags and 304 for the deterministic answers, so that a browser, a reverse proxy or a
CDN in front revalidates a frame without Python computing it again.

Every answer the app marks ``immutable`` (frames, scenes, the reconstruction study, matches,
exports, images, code) depends only on its URL and on the code that computed it. Its ETag is
therefore a digest of the build (:func:`build_fingerprint`: the source of ``dropouts`` and
``app``, the versions of torch and numpy) and of the request's method, path and query, computed
before the answer: a request whose ``If-None-Match`` names it is answered 304 at once, before
the CPU gate, without computing anything. Every worker and every container of one build gives
the same tag to the same URL; a new build changes every tag.

A gzipped answer is another representation of the same URL: its tag ends in ``-gz`` (a strong
ETag names bytes, and the bytes differ), and a client that holds either one gets its 304.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

import numpy
import torch
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("dropouts", "app")
GZIP_SUFFIX = "-gz"


@cache
def build_fingerprint() -> str:
    """A digest of everything a deterministic answer depends on besides its URL."""
    digest = hashlib.sha256()
    for folder in SOURCES:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.is_file() and path.suffix in {".py", ".npz"}:
                digest.update(path.relative_to(ROOT).as_posix().encode())
                digest.update(path.read_bytes())
    digest.update(f"torch {torch.__version__} numpy {numpy.__version__}".encode())
    return digest.hexdigest()


def entity_tag(method: str, path: str, query: bytes) -> str:
    """The strong ETag (quoted) of the answer to this request."""
    digest = hashlib.sha256(build_fingerprint().encode())
    digest.update(b"\0" + method.encode() + b"\0" + path.encode() + b"\0" + query)
    return f'"{digest.hexdigest()[:32]}"'


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return bytes(value)
    return None


def matched(if_none_match: bytes, tag: str) -> str | None:
    """The form of ``tag`` (plain or gzipped) that an ``If-None-Match`` value names, if any
    (``*`` names none: it asks whether any answer exists, which only computing can tell)."""
    gzipped = tag[:-1] + GZIP_SUFFIX + '"'
    for candidate in if_none_match.decode("latin-1").split(","):
        value = candidate.strip().removeprefix("W/")
        if value in (tag, gzipped):
            return value
    return None


class ConditionalGet:
    """ASGI middleware: a GET under ``/api/`` whose answer is ``immutable`` gets its
    :func:`entity_tag`; one whose ``If-None-Match`` names that tag is answered 304 at once."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in ("GET", "HEAD")
            or not scope["path"].startswith("/api/")
        ):
            await self.app(scope, receive, send)
            return
        tag = entity_tag("GET", scope["path"], scope.get("query_string", b""))
        asked = _header(scope, b"if-none-match")
        held = matched(asked, tag) if asked is not None else None
        if held is not None:
            await _not_modified(send, held)
            return

        async def send_tagged(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 200:
                headers = list(message.get("headers", []))
                names = {name.lower(): value for name, value in headers}
                if b"immutable" in names.get(b"cache-control", b"") and b"etag" not in names:
                    gzipped = names.get(b"content-encoding") == b"gzip"
                    shown = tag[:-1] + GZIP_SUFFIX + '"' if gzipped else tag
                    headers.append((b"etag", shown.encode()))
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_tagged)


async def _not_modified(send: Send, tag: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 304,
            "headers": [
                (b"etag", tag.encode()),
                (b"cache-control", b"public, max-age=31536000, immutable"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": b""})
