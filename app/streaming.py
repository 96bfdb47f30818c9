"""Training in the server, streamed to the page as Server-Sent Events: shared by every view
that trains a network (the dense view, Monte Carlo uncertainty, compression, the LSTM…). A
training stream is the only request that trains; frames, matches and exports of a setting not
trained yet are answered 503 at once (:func:`not_trained`) with the stream to open.

A run has no job registry: it lives on its request alone and is decided by its query, so any
worker can serve it and the same query replays it (at once when the process remembers it).
:func:`stream_run` sends the first events at once (the setup and the data, before any training
step), then runs the training function in a worker thread, which posts its events as it goes.
Streams of the same setting share one run (:mod:`dropouts.lab.flights`); a run stops within a
second when every client that waits on it has gone.

At most ``Settings.max_training_runs`` runs train at once per process, whatever their kind: a
run takes its place when it starts training and frees it when its thread has really stopped,
not when its client left, so the bound bounds the CPU. Past it the answer is 503 with
``Retry-After``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

import torch
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from sse_starlette import EventSourceResponse
from starlette.types import Receive, Scope, Send

from dropouts.lab.flights import TrainingBusyError, TrainingCancelledError, one_thread
from dropouts.lab.trained import Work

from .errors import error_body

log = logging.getLogger("dropout_lab")

RETRY_AFTER_S = 2  # a default run takes a second or two
# The process's torch threads, as it started. A run trains in ONE thread: its matrices are tiny
# (100 x 64), so more threads only add synchronisation, and an OpenMP team of a second thread
# competes with the spinning workers of the other threads' teams (measured: a default dense run
# takes 1.3 s in a worker thread with 2 torch threads on 2 cores, 0.3 s with 1).
# torch.set_num_threads sets the calling thread's count (and the default of threads that start
# using torch later), so the worker sets 1 for itself (one_thread) and puts the process's own
# count back when it ends (not the count it found: another worker's 1 may be the default now).
PROCESS_THREADS = torch.get_num_threads()

# The training's work (post, stopped, admit) is the view's (dropouts.lab.trained.Work): it
# posts its events, asks a place before it trains (admit: a Slot, or None when the process is
# full), returns when done.


class TrainingRuns:
    """How many runs train now in this process, bounded by ``limit``; thread-safe."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.active = 0
        self._lock = threading.Lock()

    def acquire(self) -> Slot | None:
        """A slot for one more run, or None when ``limit`` runs are training."""
        with self._lock:
            if self.active >= self.limit:
                return None
            self.active += 1
        return Slot(self)

    def full(self) -> bool:
        with self._lock:
            return self.active >= self.limit

    def _release(self) -> None:
        with self._lock:
            self.active -= 1


class Slot:
    """One run's place among the ``limit``; :meth:`release` frees it once (later calls do
    nothing)."""

    def __init__(self, runs: TrainingRuns) -> None:
        self._runs = runs
        self._held = True
        self._lock = threading.Lock()

    def release(self) -> None:
        with self._lock:
            if not self._held:
                return
            self._held = False
        self._runs._release()


_RUNS_LOCK = threading.Lock()


def runs_of(app: FastAPI) -> TrainingRuns:
    """The app's run counter, made on first use from its settings."""
    runs: TrainingRuns | None = getattr(app.state, "training_runs", None)
    if runs is None:
        with _RUNS_LOCK:
            runs = getattr(app.state, "training_runs", None)
            if runs is None:
                runs = TrainingRuns(app.state.settings.max_training_runs)
                app.state.training_runs = runs
    return runs


def busy_body(runs: TrainingRuns) -> dict[str, dict[str, str]]:
    return error_body(
        "training",
        f"the server is training {runs.limit} runs already",
        f"try again in {RETRY_AFTER_S} s",
    )


def event(kind: str, data: Mapping[str, Any]) -> dict[str, str]:
    return {"event": kind, "data": json.dumps(data, separators=(",", ":"))}


class RunStream(EventSourceResponse):
    """The event stream; whatever happens to it (sent in full, the client gone, a HEAD
    request that never starts the stream), its worker is told to stop. The worker's place
    among the runs is freed by the worker itself, once it has stopped."""

    def __init__(self, content: AsyncIterator[dict[str, str]], stop: threading.Event) -> None:
        super().__init__(content, ping=5)
        self._stop = stop

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._stop.set()


_END = "__end__"  # the worker is done: the stream closes


def busy(runs: TrainingRuns) -> JSONResponse:
    """503 with ``Retry-After``: the process trains its limit of runs already."""
    return JSONResponse(busy_body(runs), 503, headers={"Retry-After": str(RETRY_AFTER_S)})


def stream_run(
    request: Request,
    first: Sequence[tuple[str, Mapping[str, Any]]],
    work: Work,
    *,
    trains: bool = True,
) -> Response:
    """The run as an event stream: ``first`` at once, then what ``work`` posts from its worker
    thread. ``trains``: the work will need a place to train (False when the process remembers
    the run or trains it for another stream already): 503 with ``Retry-After`` at once when the
    process trains its limit of runs. An exception in ``work`` becomes an ``error`` event (the
    server keeps serving)."""
    runs = runs_of(request.app)
    if trains and runs.full():
        return busy(runs)
    stop = threading.Event()
    return RunStream(_events(first, work, runs, stop), stop)


async def _events(
    first: Sequence[tuple[str, Mapping[str, Any]]],
    work: Work,
    runs: TrainingRuns,
    stop: threading.Event,
) -> AsyncIterator[dict[str, str]]:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, Mapping[str, Any]]] = asyncio.Queue()

    def post(kind: str, payload: Mapping[str, Any]) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody is listening
            loop.call_soon_threadsafe(queue.put_nowait, (kind, payload))

    def run() -> None:
        try:
            with one_thread(restore=PROCESS_THREADS):
                work(post, stop.is_set, runs.acquire)
        except TrainingBusyError:
            post("error", busy_body(runs))
        except TrainingCancelledError:
            pass  # its client went away
        except Exception as error:  # reported to the client; the server keeps serving
            log.exception("training failed", exc_info=error)
            post("error", error_body("server", "the training failed; the server keeps serving"))
        finally:
            post(_END, {})

    try:
        for kind, payload in first:
            yield event(kind, payload)
        threading.Thread(target=run, name="dropout-lab-training", daemon=True).start()
        while True:
            kind, payload = await queue.get()
            if kind == _END:
                break
            yield event(kind, payload)
    finally:
        stop.set()  # the client went away (or the run is over): stop at the next step
