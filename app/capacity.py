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

Requests the server answers without computing (pages, static files, the catalog, a 304 for a
frame the client already has) never wait here.
"""

from __future__ import annotations

import asyncio
import json
import weakref

from starlette.types import ASGIApp, Receive, Scope, Send

from .errors import error_body

# Lanes, so that a slider's frame never waits behind an export: quick answers (frames,
# scenes, matches: milliseconds), heavy ones (exports, streamed or not, the reconstruction
# study: up to seconds) and uploads (decoding up to 40 million pixels; a class uploads at once
# and waits for it), each with its own places and queue.
QUICK_PATHS = ("/api/frames", "/api/scene", "/api/match")
HEAVY_PATHS = ("/api/export", "/api/reconstruction")
UPLOAD = "/api/images"
RETRY_AFTER_S = 1


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


class CpuGate:
    """ASGI middleware: each lane's requests (:func:`lane_of`) pass ``workers`` at a time with
    at most ``queue`` waiting; past that, 503 with ``Retry-After`` at once."""

    def __init__(self, app: ASGIApp, *, lanes: dict[str, CpuLoad]) -> None:
        self.app = app
        self.lanes = lanes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        lane = lane_of(scope) if scope["type"] == "http" else None
        if lane is None:
            await self.app(scope, receive, send)
            return
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
            await self.app(scope, receive, send)
        finally:
            load.running -= 1
            places.release()


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
