"""The dense view's training run over Server-Sent Events: the network with a dropout method and
without, trained side by side in the server (:mod:`dropouts.training`).

``GET /api/train?method=…&<the method's parameters>&<the dense view's parameters>&seed=…``
validates everything against the registry first (a bad query is a plain 4xx JSON answer naming
the field), then streams:

- ``info`` at once, before any training step: the setup and the data (the page plots the
  points while the networks train);
- ``snapshot`` at step 0 and then every few steps (:func:`dropouts.training.snapshot_steps`):
  both networks' losses, accuracies and decision boundaries;
- ``done`` after the last step (or ``error`` with the usual error body if training failed).

There is no job registry: the run lives on its request alone and is decided by its query, so
any worker can serve it and the same query replays it. It trains in a worker thread that stops
at the next step when the client goes away (a new run from the same page aborts the old
request). At most ``Settings.max_training_runs`` runs train at once per process; past that the
answer is 503 with ``Retry-After``. ``GET /api/train/runs`` says how many are training now.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import AsyncIterator, Mapping
from typing import Annotated, Any

import torch
from fastapi import APIRouter, FastAPI, Query, Request, Response
from fastapi.responses import JSONResponse
from sse_starlette import EventSourceResponse
from starlette.types import Receive, Scope, Send

from dropouts.registry import SEED, get_method, get_view
from dropouts.training import (
    GRID,
    Snapshot,
    TrainingData,
    TrainingSetup,
    activation_of,
    dense_methods,
    snapshot_steps,
    train,
    training_data,
)

from ..errors import ApiError, error_body
from ..schemas import ErrorOut
from .api import method_params

router = APIRouter(prefix="/api", responses={422: {"model": ErrorOut}, 503: {"model": ErrorOut}})
log = logging.getLogger("dropout_lab")

RETRY_AFTER_S = 2  # a default run takes well under a second
# The process's torch threads, as it started. A run trains in ONE thread: its matrices are tiny
# (100 x 64), so more threads only add synchronisation, and an OpenMP team of a second thread
# competes with the spinning workers of the other threads' teams (measured: a default run takes
# 1.3 s in a worker thread with 2 torch threads on 2 cores, 0.3 s with 1).
# torch.set_num_threads sets the calling thread's count (and the default of threads that start
# using torch later), so the worker sets 1 for itself and puts the default back when it ends.
PROCESS_THREADS = torch.get_num_threads()
DECIMALS = 4  # coordinates and losses in the events


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
        self.handed_to_worker = False  # from then on the worker thread releases it

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


# ---------------------------------------------------------------- the events' payloads


def _rounded(values: list[float], decimals: int = DECIMALS) -> list[float]:
    return [round(value, decimals) for value in values]


def info_json(setup: TrainingSetup, data: TrainingData) -> dict[str, Any]:
    """The ``info`` event: the setup (the method's parameters, the training parameters under
    the registry's names, the seed), the snapshot steps, the grid and its extent
    ``[x_min, x_max, y_min, y_max]``, and the points ``{"x": [[x, y], …], "y": [label, …]}``
    of the training and the test set."""

    def points(x: Any, y: Any) -> dict[str, Any]:
        return {
            "x": [_rounded(row) for row in x.double().tolist()],
            "y": [int(label) for label in y.tolist()],
        }

    return {
        "method": setup.method,
        "params": setup.method_params,
        "training": setup.view_params(),
        "seed": setup.seed,
        "n_test": setup.n_test,
        "activation": activation_of(setup.method),
        "steps": setup.steps,
        "snapshot_steps": list(snapshot_steps(setup)),
        "grid": GRID,
        "extent": list(data.extent),
        "train": points(data.x_train, data.y_train),
        "test": points(data.x_test, data.y_test),
    }


def snapshot_json(snapshot: Snapshot) -> dict[str, Any]:
    """The ``snapshot`` event: ``step`` and, for ``dropout`` and ``baseline``, the eval-mode
    ``train_loss``, ``test_loss``, ``train_accuracy``, ``test_accuracy``, the training-mode
    ``objective`` of the last step (null at step 0) and ``boundary``: G rows (y from y_min up)
    of G values (x from x_min right) of P(class 1), to 2 decimals."""

    def network(name: str) -> dict[str, Any]:
        shot = getattr(snapshot, name)
        percent = shot.boundary.mul(100).round_().to(torch.int32)
        return {
            "train_loss": round(shot.train_loss, DECIMALS),
            "test_loss": round(shot.test_loss, DECIMALS),
            "train_accuracy": round(shot.train_accuracy, DECIMALS),
            "test_accuracy": round(shot.test_accuracy, DECIMALS),
            "objective": None if shot.objective is None else round(shot.objective, DECIMALS),
            "boundary": percent.tolist(),
        }

    return {"step": snapshot.step, "dropout": network("dropout"), "baseline": network("baseline")}


def _event(kind: str, data: Mapping[str, Any]) -> dict[str, str]:
    return {"event": kind, "data": json.dumps(data, separators=(",", ":"))}


# ---------------------------------------------------------------- the endpoints


class _TrainingStream(EventSourceResponse):
    """The event stream; whatever happens to it (sent in full, the client gone, a HEAD
    request that never starts the stream), the run is told to stop and its slot is freed (by
    the worker thread once it has started, else here)."""

    def __init__(
        self, content: AsyncIterator[dict[str, str]], slot: Slot, stop: threading.Event
    ) -> None:
        super().__init__(content, ping=5)
        self._slot, self._stop = slot, stop

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._stop.set()
            if not self._slot.handed_to_worker:
                self._slot.release()


Seed = Annotated[int, Query(ge=0, le=int(SEED.max or 0), description=SEED.help)]


@router.get(
    "/train",
    summary="Train the dense network with the method and without, side by side (SSE)",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def get_train(
    request: Request,
    method: Annotated[str, Query(description="A method with the dense view.")],
    seed: Seed = 0,
) -> Response:
    """Also takes the method's parameters (``p=0.3``…) and the dense view's (``dataset``,
    ``noise``, ``n_train``, ``train_width``, ``train_depth``, ``steps``, ``lr``; the
    diagram's ``network``, ``width`` and ``depth`` are accepted and ignored), as listed by
    ``/api/methods``. Events: ``info`` (the setup and the data), ``snapshot`` (both networks
    at a step), ``done`` ``{"step"}``, or ``error`` ``{"error": {…}}``. Close the request to
    stop the run. 503 with ``Retry-After`` when the server trains its limit of runs already."""
    allowed = ", ".join(dense_methods())
    try:
        chosen = get_method(method)
    except KeyError:
        raise ApiError(422, "method", f"unknown method {method!r}", allowed) from None
    if "dense" not in chosen.views:
        raise ApiError(422, "method", f"{chosen.id} does not train in the dense view", allowed)
    params = method_params(request, chosen, get_view("dense"))
    setup = TrainingSetup.from_params(chosen.id, params, seed)
    data = training_data(setup)
    slot = runs_of(request.app).acquire()
    if slot is None:
        limit = runs_of(request.app).limit
        body = error_body(
            "training",
            f"the server is training {limit} runs already",
            f"try again in {RETRY_AFTER_S} s",
        )
        return JSONResponse(body, 503, headers={"Retry-After": str(RETRY_AFTER_S)})
    stop = threading.Event()
    return _TrainingStream(_events(setup, data, slot, stop), slot, stop)


@router.get("/train/runs", summary="How many training runs this process trains now")
def get_runs(request: Request) -> dict[str, int]:
    runs = runs_of(request.app)
    return {"training": runs.active, "limit": runs.limit}


async def _events(
    setup: TrainingSetup, data: TrainingData, slot: Slot, stop: threading.Event
) -> AsyncIterator[dict[str, str]]:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, Mapping[str, Any]]] = asyncio.Queue()

    def post(kind: str, payload: Mapping[str, Any]) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody is listening
            loop.call_soon_threadsafe(queue.put_nowait, (kind, payload))

    def work() -> None:
        torch.set_num_threads(1)
        try:
            last = 0
            for snapshot in train(setup, cancelled=stop.is_set):
                if stop.is_set():
                    return
                post("snapshot", snapshot_json(snapshot))
                last = snapshot.step
            if not stop.is_set():
                post("done", {"step": last})
        except Exception as error:  # reported to the client; the server keeps serving
            log.exception("training failed", exc_info=error)
            post("error", error_body("server", "the training failed; the server keeps serving"))
        finally:
            torch.set_num_threads(PROCESS_THREADS)
            slot.release()

    try:
        yield _event("info", info_json(setup, data))
        slot.handed_to_worker = True
        threading.Thread(target=work, name="dropout-lab-training", daemon=True).start()
        while True:
            kind, payload = await queue.get()
            yield _event(kind, payload)
            if kind != "snapshot":
                break
    finally:
        stop.set()  # the client went away (or the run is over): stop at the next step
