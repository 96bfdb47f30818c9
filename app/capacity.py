"""Bounded CPU work per process: shed load at once instead of queueing without limit.

The requests that compute run in worker threads, outside the event loop, in three lanes
(:func:`lane_of`): quick ones (frames, scenes, matches), heavy ones (exports, the
reconstruction study) and uploads. In each lane at most ``workers`` compute at once in a
process and at most ``queue`` more wait for a place; any request past that is answered at
once with 503 and ``Retry-After``, which the page honours by backing off and asking again
quietly. So a class of 200 students costs each process a bounded number of threads and
bounded memory, the answers that are given stay fast, and the process answers normally again
as soon as the load goes. A streamed export holds its place for as long as it renders;
training runs have their own bound (``app.streaming``).

An upload's body is received before its lane is taken (:func:`received_body`): refused from its
``Content-Length`` before a byte is read, counted while it streams (a chunked body is cut at the
limit), each chunk awaited at most ``Receiving.chunk_timeout_s``. A client that stalls holds one
of the ``receiving`` places, never the lane's slot, and loses it after that timeout; the body
that came in full is decoded in the lane.

Requests the server answers without computing (pages, static files, the catalog, a 304 for a
frame the client already has) never wait here.
"""

from __future__ import annotations

import asyncio
import json
import threading
import weakref
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dropouts.lab.flights import no_training
from dropouts.lab.stopping import stoppable

from .errors import error_body

# Lanes, so that a slider's frame never waits behind an export: quick answers (frames,
# scenes, matches: milliseconds), heavy ones (exports, streamed or not, the reconstruction
# study: up to seconds) and uploads (decoding up to 40 million pixels; a class uploads at once
# and waits for it), each with its own places and queue.
QUICK_PATHS = ("/api/frames", "/api/scene", "/api/match")
HEAVY_PATHS = ("/api/export", "/api/reconstruction")
UPLOAD = "/api/images"
RETRY_AFTER_S = 1
MULTIPART_OVERHEAD = 64 * 1024  # the form's boundaries and part headers around the file


def lane_of(scope: Scope) -> str | None:
    """``"quick"``, ``"heavy"``, ``"upload"`` or None (nothing worth gating)."""
    path: str = scope["path"]
    if scope["method"] == "POST" and path == UPLOAD:
        return "upload"
    if path.startswith(HEAVY_PATHS):
        return "heavy"
    if path.startswith(QUICK_PATHS):
        return "quick"
    return None


class CpuLoad:
    """This process's computing requests: ``workers`` may run at once and ``queue`` wait; the
    counts are read by ``/healthz``. Touched only from event loops: no lock needed."""

    def __init__(self, workers: int, queue: int) -> None:
        self.workers = workers
        self.queue = queue
        self.waiting = 0
        self.running = 0
        self.shed = 0
        # One semaphore per event loop: a server has one, but a test client may run each
        # request in a loop of its own, and an asyncio semaphore belongs to a single loop.
        self._places: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore]
        self._places = weakref.WeakKeyDictionary()

    def semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        places = self._places.get(loop)
        if places is None:
            places = self._places[loop] = asyncio.Semaphore(self.workers)
        return places

    def full(self) -> bool:
        return self.running + self.waiting >= self.workers + self.queue

    @property
    def stats(self) -> dict[str, int]:
        return {
            "workers": self.workers,
            "queue": self.queue,
            "running": self.running,
            "waiting": self.waiting,
            "shed": self.shed,
        }


@dataclass
class Receiving:
    """Upload bodies being received (before their lane): at most ``limit`` at once, each at
    most ``max_bytes``, each chunk awaited at most ``chunk_timeout_s``."""

    limit: int
    max_bytes: int
    chunk_timeout_s: float
    active: int = 0


class BodyRefusedError(Exception):
    """The body cannot be taken: ``status`` and the error body's fields."""

    def __init__(self, status: int, message: str, allowed: str) -> None:
        super().__init__(message)
        self.status, self.message, self.allowed = status, message, allowed


async def received_body(
    scope: Scope, receive: Receive, max_bytes: int, chunk_timeout_s: float
) -> list[Message]:
    """The request's body messages, whole: refused (:class:`BodyRefusedError`) from its
    ``Content-Length`` before any is read, as soon as the bytes received pass ``max_bytes``,
    when a chunk takes more than ``chunk_timeout_s``, or when the client goes."""
    megabytes = f"at most {max_bytes // (1024 * 1024)} MB"
    declared = _content_length(scope)
    if declared is not None and declared > max_bytes:
        raise BodyRefusedError(413, "the file is too large", megabytes)
    messages: list[Message] = []
    size = 0
    while True:
        try:
            message = await asyncio.wait_for(receive(), chunk_timeout_s)
        except TimeoutError:
            raise BodyRefusedError(
                408, f"the upload stalled: nothing came for {chunk_timeout_s:g} s", "send it whole"
            ) from None
        if message["type"] == "http.disconnect":
            raise BodyRefusedError(400, "the client went away", "")
        size += len(message.get("body", b""))
        if size > max_bytes:
            raise BodyRefusedError(413, "the file is too large", megabytes)
        messages.append(message)
        if not message.get("more_body", False):
            return messages


async def _answered_while_watched(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    """Run a GET without a body while watching its connection: when the client leaves, the
    work's checkpoints (dropouts.lab.stopping) stop it between two frames instead of computing an
    answer no one reads. The app reads an empty body, then the disconnect when it comes."""
    left = threading.Event()
    gone = asyncio.Event()

    async def watch() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass  # a GET's body, if any, is not read
        left.set()
        gone.set()

    body_given = False

    async def receive_for_app() -> Message:
        nonlocal body_given
        if not body_given:
            body_given = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await gone.wait()
        return {"type": "http.disconnect"}

    watcher = asyncio.create_task(watch())
    try:
        with stoppable(left):
            await app(scope, receive_for_app, send)
    finally:
        watcher.cancel()


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def replayed(messages: list[Message], receive: Receive) -> Receive:
    """A ``receive`` that gives ``messages`` first, then what the client sends (its
    disconnect)."""
    waiting = list(messages)

    async def receive_again() -> Message:
        if waiting:
            return waiting.pop(0)
        return await receive()

    return receive_again


class CpuGate:
    """ASGI middleware: each lane's requests (:func:`lane_of`) pass ``workers`` at a time with
    at most ``queue`` waiting; past that, 503 with ``Retry-After`` at once. An upload's body is
    received whole before it queues for its lane (:func:`received_body`)."""

    def __init__(
        self, app: ASGIApp, *, lanes: dict[str, CpuLoad], receiving: Receiving | None = None
    ) -> None:
        self.app = app
        self.lanes = lanes
        self.receiving = receiving

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        lane = lane_of(scope) if scope["type"] == "http" else None
        if lane is None:
            await self.app(scope, receive, send)
            return
        if lane == "upload" and self.receiving is not None:
            received = await self._receive_upload(scope, receive, send)
            if received is None:
                return
            receive = received
        load = self.lanes[lane]
        if load.full():
            load.shed += 1
            await _busy(send)
            return
        places = load.semaphore()
        load.waiting += 1
        try:
            await places.acquire()
        finally:
            load.waiting -= 1
        load.running += 1
        try:
            with no_training():  # only a training stream trains (app/untrained.py)
                if lane == "quick" and scope["method"] in ("GET", "HEAD"):
                    await _answered_while_watched(self.app, scope, receive, send)
                else:
                    await self.app(scope, receive, send)
        finally:
            load.running -= 1
            places.release()

    async def _receive_upload(self, scope: Scope, receive: Receive, send: Send) -> Receive | None:
        """The upload's body, received in one of the ``receiving`` places, as a ``receive``
        for the app; None when it was refused (the answer is sent)."""
        receiving = self.receiving
        assert receiving is not None
        if receiving.active >= receiving.limit:
            await _busy(send)
            return None
        receiving.active += 1
        try:
            body = await received_body(
                scope, receive, receiving.max_bytes + MULTIPART_OVERHEAD, receiving.chunk_timeout_s
            )
        except BodyRefusedError as refused:
            if refused.status != 400:  # a client that left hears nothing
                allowed = refused.allowed
                if refused.status == 413:
                    allowed = f"at most {receiving.max_bytes // (1024 * 1024)} MB"
                await _refuse(send, refused.status, refused.message, allowed)
            return None
        finally:
            receiving.active -= 1
        return replayed(body, receive)


async def _refuse(send: Send, status: int, message: str, allowed: str) -> None:
    """An upload refused before its body was read: the error naming the file; the connection
    closes (the rest of the body is never read)."""
    body = json.dumps(error_body("file", message, allowed)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _busy(send: Send) -> None:
    body = json.dumps(
        error_body(
            "server",
            "the server is busy: ask again in a moment",
            f"retry after {RETRY_AFTER_S} s",
        )
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(RETRY_AFTER_S).encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
